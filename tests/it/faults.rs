//! Faults, with real processes: services run as separate `fabrique serve` processes on
//! PostgreSQL and a private nats-server, and the tests kill, stop and overload them.
//! What must hold: nothing acknowledged is lost, every change has exactly one event,
//! every consumer applies each event once, and the services recover by themselves.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fabrique_api::members::{self as mp, members_service_client::MembersServiceClient};
use fabrique_platform::bus::Subjects;
use fabrique_testkit::{NatsServer, TestDatabase, authed, stream_messages, token, unique_prefix};
use prost::Message;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tonic::Code;

use crate::process::{ServiceProcess, environment};

const MEMBERS: &str = "fabrique.members.v1.MembersService";
const REGISTRY: &str = "fabrique.registry.v1.RegistryService";

fn admin() -> String {
    token("admin", &["admin"])
}

fn association(name: String) -> mp::CreateMemberRequest {
    mp::CreateMemberRequest {
        member: Some(mp::Member {
            display_name: name,
            kind: mp::MemberKind::Association as i32,
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

async fn connect(url: &str) -> DatabaseConnection {
    Database::connect(url).await.expect("the test database")
}

async fn strings(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("a text column"))
        .collect()
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .and_then(|row| row.try_get_by_index::<i64>(0).ok())
        .unwrap_or(0)
}

/// The member snapshot of a member event (every member event has it as field 1).
fn snapshot(payload: &[u8]) -> mp::MemberSnapshot {
    mp::MemberApplied::decode(payload)
        .expect("a member event")
        .member
        .expect("a snapshot")
}

fn header<'a>(message: &'a async_nats::jetstream::message::StreamMessage, name: &str) -> &'a str {
    message.headers.get(name).map(|v| v.as_str()).unwrap_or("")
}

/// Writers creating members as fast as they can until `stop`; the names the service
/// acknowledged.
fn writers(
    channel: tonic::transport::Channel,
    tasks: usize,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<String>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..tasks)
        .map(|t| {
            let (channel, stop, acked) = (channel.clone(), stop.clone(), acked.clone());
            tokio::spawn(async move {
                let mut client = MembersServiceClient::new(channel);
                let token = admin();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let request = authed(association(format!("Association {t}-{i}")), &token);
                    match client.create_member(request).await {
                        Ok(created) => acked.lock().expect("acked").push(created.into_inner().name),
                        // The process is down or restarting: try again shortly.
                        Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
            })
        })
        .collect()
}

async fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// PostgreSQL, a private NATS, and `members` (and `registry`) as separate processes,
/// serving.
struct Cluster {
    database: TestDatabase,
    nats: NatsServer,
    prefix: String,
    members: ServiceProcess,
    registry: Option<ServiceProcess>,
}

impl Cluster {
    async fn start(with_registry: bool, extra: &[(&str, &str)]) -> Self {
        let database = TestDatabase::create().await;
        let nats = NatsServer::start().await;
        let prefix = unique_prefix();
        let mut env = environment(&database.url, &nats.url(), &prefix);
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let members = ServiceProcess::start("members", &env);
        let registry = with_registry.then(|| ServiceProcess::start("registry", &env));
        members.wait_serving(MEMBERS, Duration::from_secs(60)).await;
        if let Some(registry) = &registry {
            registry
                .wait_serving(REGISTRY, Duration::from_secs(60))
                .await;
        }
        Self {
            database,
            nats,
            prefix,
            members,
            registry,
        }
    }
}

/// Fault 1: `kill -9` of the members service in the middle of a stream of writes.
#[tokio::test]
async fn a_killed_service_loses_nothing_acknowledged_and_publishes_each_change_once() {
    let Cluster {
        database,
        nats,
        prefix,
        mut members,
        registry,
    } = Cluster::start(true, &[]).await;
    let mut registry = registry.expect("registry");

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let tasks = writers(members.channel(), 8, stop.clone(), acked.clone());
    let len = |acked: &Arc<Mutex<Vec<String>>>| acked.lock().expect("acked").len();
    wait_for("200 writes", Duration::from_secs(60), || len(&acked) >= 200).await;
    members.kill9().await;
    let at_kill = len(&acked);
    tokio::time::sleep(Duration::from_millis(300)).await;
    members.restart();
    members.wait_serving(MEMBERS, Duration::from_secs(60)).await;
    wait_for("200 more writes", Duration::from_secs(60), || {
        len(&acked) >= at_kill + 200
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("writer");
    }
    let acked: Vec<String> = acked.lock().expect("acked").clone();

    // Every acknowledged member is in the members database.
    let db = connect(&database.url).await;
    let stored: std::collections::HashSet<String> =
        strings(&db, "SELECT 'members/' || id::text FROM members.members")
            .await
            .into_iter()
            .collect();
    let lost: Vec<&String> = acked.iter().filter(|n| !stored.contains(*n)).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");

    // Each stored member (acknowledged or not: the kill may come between commit and
    // answer) has exactly one `member.applied` event once the outbox has drained.
    let stream = Subjects::new(prefix.clone()).stream_name("members");
    let applied = format!("{prefix}fabrique.members.member.applied");
    let mut per_member: HashMap<String, usize> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        per_member.clear();
        for message in stream_messages(&nats.url(), &stream).await {
            if message.subject.as_str() == applied {
                *per_member
                    .entry(header(&message, "ce-subject").to_string())
                    .or_default() += 1;
            }
        }
        if per_member.len() >= stored.len() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let missing: Vec<&String> = stored
        .iter()
        .filter(|n| !per_member.contains_key(*n))
        .collect();
    assert!(
        missing.is_empty(),
        "{} members without an event, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    let twice: Vec<(&String, &usize)> = per_member.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "published more than once: {twice:?}");
    assert_eq!(
        per_member.len(),
        stored.len(),
        "events of members that do not exist"
    );

    // The registry applied each once: its replica holds every member, and it recorded
    // each event once.
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&db, "SELECT count(*) FROM registry.member_replica").await < stored.len() as i64 {
        assert!(
            Instant::now() < deadline,
            "the registry did not catch up:\n{}",
            registry.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let replica: std::collections::HashSet<String> = strings(
        &db,
        "SELECT 'members/' || id::text FROM registry.member_replica",
    )
    .await
    .into_iter()
    .collect();
    assert_eq!(
        replica, stored,
        "the registry's replica differs from the members"
    );
    let processed = count(
        &db,
        "SELECT count(*) FROM registry.fabrique_processed_events WHERE subject LIKE '%member.applied'",
    )
    .await;
    assert_eq!(
        processed,
        stored.len() as i64,
        "each event applied exactly once"
    );
    members.terminate().await;
    registry.terminate().await;
}

/// Fault 2: NATS stopped for 20 s during writes.
#[tokio::test]
async fn writes_go_on_while_nats_is_down_and_drain_in_order_when_it_returns() {
    let Cluster {
        database,
        mut nats,
        prefix,
        mut members,
        registry,
    } = Cluster::start(true, &[]).await;
    let mut registry = registry.expect("registry");

    // Each writer takes members through their lifecycle: several events per aggregate,
    // whose order matters (applied, joined, suspended, reinstated, …).
    let stop = Arc::new(AtomicBool::new(false));
    let outage = Arc::new(AtomicBool::new(false));
    let during_outage = Arc::new(Mutex::new(0usize));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let completed = Arc::new(Mutex::new(Vec::<String>::new()));
    let tasks: Vec<_> = (0..4)
        .map(|t| {
            let mut client = MembersServiceClient::new(members.channel());
            let (stop, outage, during_outage, failures, completed) = (
                stop.clone(),
                outage.clone(),
                during_outage.clone(),
                failures.clone(),
                completed.clone(),
            );
            tokio::spawn(async move {
                let token = admin();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let result: Result<mp::Member, tonic::Status> = async {
                        let member = client
                            .create_member(authed(association(format!("Commune {t}-{i}")), &token))
                            .await?
                            .into_inner();
                        let name = member.name.clone();
                        client
                            .approve_member(authed(
                                mp::ApproveMemberRequest {
                                    name: name.clone(),
                                    ..Default::default()
                                },
                                &token,
                            ))
                            .await?;
                        client
                            .suspend_member(authed(
                                mp::SuspendMemberRequest {
                                    name: name.clone(),
                                    reason: "cotisation".into(),
                                    etag: String::new(),
                                },
                                &token,
                            ))
                            .await?;
                        Ok(client
                            .reinstate_member(authed(
                                mp::ReinstateMemberRequest {
                                    name,
                                    etag: String::new(),
                                },
                                &token,
                            ))
                            .await?
                            .into_inner())
                    }
                    .await;
                    match result {
                        Ok(member) => {
                            if outage.load(Ordering::Relaxed) {
                                *during_outage.lock().expect("count") += 4;
                            }
                            completed.lock().expect("completed").push(member.name);
                        }
                        Err(status) => failures
                            .lock()
                            .expect("failures")
                            .push(format!("{status:?}")),
                    }
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(2)).await;
    nats.stop().await;
    outage.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(20)).await;
    outage.store(false, Ordering::Relaxed);
    nats.restart().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("writer");
    }
    let failures = failures.lock().expect("failures").clone();
    assert!(failures.is_empty(), "writes failed: {failures:?}");
    let written_during_outage = *during_outage.lock().expect("count");
    assert!(
        written_during_outage >= 20,
        "only {written_during_outage} writes succeeded while NATS was down"
    );
    assert!(
        !members.exited() && !registry.exited(),
        "no service restarted"
    );

    // Every change reaches JetStream, once, in order per member.
    let lifecycles = completed.lock().expect("completed").clone();
    let stream = Subjects::new(prefix.clone()).stream_name("members");
    let deadline = Instant::now() + Duration::from_secs(90);
    let per_member = loop {
        let mut per_member: HashMap<String, Vec<i64>> = HashMap::new();
        for message in stream_messages(&nats.url(), &stream).await {
            let member = snapshot(&message.payload);
            per_member
                .entry(format!("members/{}", member.id))
                .or_default()
                .push(member.version);
        }
        let complete = lifecycles
            .iter()
            .all(|name| per_member.get(name).is_some_and(|v| v.len() >= 4));
        if complete || Instant::now() > deadline {
            break per_member;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    for name in &lifecycles {
        let versions = per_member
            .get(name)
            .unwrap_or_else(|| panic!("no event of {name}:\n{}", members.logs()));
        assert_eq!(versions.len(), 4, "{name}: events {versions:?}");
        assert!(
            versions.windows(2).all(|w| w[0] < w[1]),
            "{name}: events out of order: {versions:?}"
        );
    }

    // The registry's replica converges on the final state, without any restart.
    let db = connect(&database.url).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let active = count(
            &db,
            "SELECT count(*) FROM registry.member_replica WHERE state = 'active'",
        )
        .await;
        if active == lifecycles.len() as i64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the registry holds {active} active members of {}:\n{}",
            lifecycles.len(),
            registry.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    members.terminate().await;
    registry.terminate().await;
}

/// Fault 4: a consumer service down while 10,000 events are produced.
#[tokio::test]
async fn a_consumer_down_during_ten_thousand_events_catches_up_exactly() {
    const EVENTS: usize = 10_000;
    // The registry creates its consumer on its first start, then goes away.
    let Cluster {
        database,
        nats: _nats,
        prefix: _prefix,
        mut members,
        registry,
    } = Cluster::start(true, &[]).await;
    let mut registry = registry.expect("registry");
    registry.terminate().await;

    let channel = members.channel();
    let token = admin();
    const PRODUCERS: usize = 40;
    let per_task = EVENTS / PRODUCERS;
    let tasks: Vec<_> = (0..PRODUCERS)
        .map(|t| {
            let (channel, token) = (channel.clone(), token.clone());
            tokio::spawn(async move {
                let mut client = MembersServiceClient::new(channel);
                for i in 0..per_task {
                    let mut attempts = 0;
                    loop {
                        attempts += 1;
                        match client
                            .create_member(authed(
                                association(format!("Tiers-lieu {t}-{i}")),
                                &token,
                            ))
                            .await
                        {
                            Ok(_) => break,
                            Err(status)
                                if attempts < 5 && status.code() == Code::ResourceExhausted =>
                            {
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                            Err(status) => panic!("create: {status:?}"),
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("producer");
    }
    let produced = per_task * PRODUCERS;
    assert_eq!(produced, EVENTS);
    let db = connect(&database.url).await;
    assert_eq!(
        count(&db, "SELECT count(*) FROM members.members").await,
        produced as i64
    );

    registry.restart();
    registry
        .wait_serving(REGISTRY, Duration::from_secs(60))
        .await;
    let deadline = Instant::now() + Duration::from_secs(180);
    while count(&db, "SELECT count(*) FROM registry.member_replica").await < produced as i64 {
        assert!(
            Instant::now() < deadline,
            "the registry did not catch up:\n{}",
            registry.logs()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let checksum = |table: &str| {
        format!(
            "SELECT count(*)::text || ':' || md5(string_agg(
                id::text || '|' || display_name || '|' || kind || '|' || coalesce(siren, '') || '|'
                || state || '|' || version::text, ',' ORDER BY id)) FROM {table}"
        )
    };
    let source = strings(&db, &checksum("members.members")).await;
    let replica = strings(&db, &checksum("registry.member_replica")).await;
    assert_eq!(source, replica, "the replica differs from its source");
    members.terminate().await;
    registry.terminate().await;
}

/// Fault 5: malformed messages on a consumed subject go to the DLQ with the reason, and
/// the consumer goes on with the next event.
#[tokio::test]
async fn malformed_events_go_to_the_dlq_and_the_consumer_goes_on() {
    use fabrique_api::registry as rp;
    use fabrique_platform::consumer::{DLQ_CONSUMER, DLQ_REASON};
    use fabrique_platform::event::{event_headers, source_of};
    use prost::Name;

    let Cluster {
        database,
        nats,
        prefix,
        mut members,
        registry,
    } = Cluster::start(true, &[]).await;
    let mut registry = registry.expect("registry");

    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.expect("NATS"));
    let subject = format!("{prefix}fabrique.members.member.applied");
    let publish = |ce_type: Option<String>, payload: Vec<u8>| {
        let (js, subject) = (js.clone(), subject.clone());
        async move {
            let id = uuid::Uuid::now_v7();
            let mut headers = async_nats::HeaderMap::new();
            if let Some(ce_type) = ce_type {
                for (name, value) in event_headers(
                    id,
                    &source_of("members"),
                    &ce_type,
                    &format!("members/{}", uuid::Uuid::now_v7()),
                    chrono::Utc::now(),
                )
                .iter()
                {
                    headers.insert(name, value);
                }
            }
            js.publish_with_headers(subject, headers, payload.into())
                .await
                .expect("publish")
                .await
                .expect("stored");
            id.to_string()
        }
    };
    let applied = mp::MemberApplied::full_name();
    let a_member = mp::MemberApplied {
        member: Some(mp::MemberSnapshot {
            id: uuid::Uuid::now_v7().to_string(),
            display_name: "Atelier vélo".into(),
            kind: mp::MemberKind::Association as i32,
            state: mp::MemberState::Pending as i32,
            version: 1,
            ..Default::default()
        }),
        occurred_at: None,
    };
    let a_place = rp::PlaceListed {
        place: Some(rp::PlaceSnapshot {
            id: uuid::Uuid::now_v7().to_string(),
            display_name: "Ressourcerie".into(),
            kinds: vec![rp::PlaceKind::Ressourcerie as i32],
            ..Default::default()
        }),
        occurred_at: None,
    };
    let garbage = publish(Some(applied.clone()), b"\xff\xfe\x00 not protobuf".to_vec()).await;
    let wrong_type = publish(Some(rp::PlaceListed::full_name()), a_member.encode_to_vec()).await;
    let other_payload = publish(Some(applied.clone()), a_place.encode_to_vec()).await;
    js.publish(subject.clone(), "no headers at all".into())
        .await
        .expect("publish")
        .await
        .expect("stored");

    // The consumer goes on: a real member, created after them, reaches the registry.
    let created = MembersServiceClient::new(members.channel())
        .create_member(authed(association("Repair café de Riom".into()), &admin()))
        .await
        .expect("create")
        .into_inner();
    let db = connect(&database.url).await;
    let id = created.name.trim_start_matches("members/").to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(
        &db,
        &format!("SELECT count(*) FROM registry.member_replica WHERE id = '{id}'"),
    )
    .await
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "the consumer stopped:\n{}",
            registry.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        count(&db, "SELECT count(*) FROM registry.member_replica").await,
        1,
        "nothing malformed reached the replica"
    );

    // Four dead letters, each with its reason.
    let dlq = Subjects::new(prefix.clone()).stream_name("dlq");
    let letters = stream_messages(&nats.url(), &dlq).await;
    let registry_letters: Vec<_> = letters
        .iter()
        .filter(|m| header(m, DLQ_CONSUMER) == "registry-members")
        .collect();
    assert_eq!(registry_letters.len(), 4, "{registry_letters:?}");
    for letter in &registry_letters {
        assert!(
            !header(letter, DLQ_REASON).is_empty(),
            "a reason: {letter:?}"
        );
    }
    let reason_of = |id: &str| {
        registry_letters
            .iter()
            .find(|m| header(m, "ce-id") == id)
            .map(|m| header(m, DLQ_REASON).to_string())
            .unwrap_or_else(|| panic!("no dead letter for {id}"))
    };
    for id in [&garbage, &wrong_type, &other_payload] {
        reason_of(id);
    }
    assert!(
        reason_of(&wrong_type).contains("PlaceListed"),
        "{}",
        reason_of(&wrong_type)
    );
    assert!(
        registry_letters
            .iter()
            .any(|m| header(m, DLQ_REASON).contains("missing header")),
        "the headerless message's reason"
    );
    members.terminate().await;
    registry.terminate().await;
}

/// Fault 6: far more concurrent calls than the server admits are refused at once, the
/// admitted ones stay fast, memory stays bounded, and it serves normally afterwards.
#[tokio::test]
async fn overload_is_shed_quickly_and_admitted_calls_stay_fast() {
    const CALLS: usize = 1_500;
    // Bound, not `..`: the database and NATS must live as long as the test.
    let Cluster {
        database: _database,
        nats: _nats,
        mut members,
        ..
    } = Cluster::start(
        false,
        &[
            ("FABRIQUE_MAX_CONCURRENT_RPCS", "16"),
            ("FABRIQUE_DB_MAX_CONNECTIONS", "4"),
        ],
    )
    .await;
    let mut client = MembersServiceClient::new(members.channel());
    for i in 0..100 {
        client
            .create_member(authed(association(format!("Commune {i}")), &admin()))
            .await
            .expect("seed");
    }

    let channels: Vec<_> = (0..16).map(|_| members.channel()).collect();
    let start = Arc::new(tokio::sync::Barrier::new(CALLS));
    let calls: Vec<_> = (0..CALLS)
        .map(|i| {
            let channel = channels[i % channels.len()].clone();
            let start = start.clone();
            tokio::spawn(async move {
                let mut client = MembersServiceClient::new(channel);
                start.wait().await;
                let began = Instant::now();
                let result = client
                    .list_members(authed(
                        mp::ListMembersRequest {
                            page_size: 100,
                            ..Default::default()
                        },
                        &admin(),
                    ))
                    .await;
                let code = result.map_or_else(|s| s.code(), |_| Code::Ok);
                (code, began.elapsed())
            })
        })
        .collect();
    let mut admitted = Vec::new();
    let mut refused = Vec::new();
    let mut other = Vec::new();
    for call in calls {
        let (code, took) = call.await.expect("call");
        match code {
            Code::Ok => admitted.push(took),
            Code::ResourceExhausted | Code::Unavailable => refused.push(took),
            code => other.push(code),
        }
    }
    assert!(other.is_empty(), "unexpected codes: {other:?}");
    assert!(
        !refused.is_empty(),
        "nothing was shed out of {CALLS} concurrent calls"
    );
    assert!(!admitted.is_empty(), "nothing was admitted");
    let p99 = |times: &mut Vec<Duration>| {
        times.sort();
        times[(times.len() * 99 / 100).min(times.len() - 1)]
    };
    let refused_p99 = p99(&mut refused);
    let admitted_p99 = p99(&mut admitted);
    // A refusal waits for no admitted call. On a machine busy with the rest of the
    // suite the client's own 1,500 tasks stretch every call, refusals included, so the
    // bound is a second or the admitted calls' p99, whichever is longer.
    assert!(
        refused_p99 < Duration::from_secs(1).max(admitted_p99),
        "refusals took up to {refused_p99:?} (p99), admitted calls {admitted_p99:?}"
    );
    assert!(
        admitted_p99 < Duration::from_secs(5),
        "admitted calls took up to {admitted_p99:?} (p99)"
    );
    let peak = members.peak_rss_kib().expect("/proc");
    assert!(
        peak < 256 * 1024,
        "peak RSS {peak} KiB is above the 256 MiB the manifests allow"
    );
    // And it serves normally once the burst is over.
    let began = Instant::now();
    client
        .list_members(authed(mp::ListMembersRequest::default(), &admin()))
        .await
        .expect("a call after the burst");
    assert!(began.elapsed() < Duration::from_secs(1));
    eprintln!(
        "overload: {} admitted (p99 {admitted_p99:?}), {} refused (p99 {refused_p99:?}), peak RSS {} MiB",
        admitted.len(),
        refused.len(),
        peak / 1024
    );
    members.terminate().await;
}

/// Fault 3: PostgreSQL restarted during traffic. Calls fail with UNAVAILABLE (never
/// INTERNAL, never SQL text) while it is down, and succeed again once it is back,
/// without restarting the service.
#[tokio::test]
async fn a_database_restart_gives_unavailable_then_the_service_recovers() {
    let postgres = fabrique_testkit::PostgresServer::start();
    let nats = NatsServer::start().await;
    let env = environment(&postgres.url(), &nats.url(), &unique_prefix());
    let mut members = ServiceProcess::start("members", &env);
    members.wait_serving(MEMBERS, Duration::from_secs(60)).await;

    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::<(Instant, Code, String)>::new()));
    let tasks: Vec<_> = (0..4)
        .map(|t| {
            let mut client = MembersServiceClient::new(members.channel());
            let (stop, outcomes) = (stop.clone(), outcomes.clone());
            tokio::spawn(async move {
                let token = admin();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let result = client
                        .create_member(authed(association(format!("Association {t}-{i}")), &token))
                        .await;
                    let (code, message) = match result {
                        Ok(_) => (Code::Ok, String::new()),
                        Err(status) => (status.code(), status.message().to_string()),
                    };
                    outcomes
                        .lock()
                        .expect("outcomes")
                        .push((Instant::now(), code, message));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    postgres.stop();
    tokio::time::sleep(Duration::from_secs(4)).await;
    postgres.restart();
    let back = Instant::now();
    // Writes succeed again by themselves.
    let deadline = back + Duration::from_secs(30);
    loop {
        let recovered = outcomes
            .lock()
            .expect("outcomes")
            .iter()
            .filter(|(at, code, _)| *at > back && *code == Code::Ok)
            .count();
        if recovered >= 20 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "writes did not recover after PostgreSQL came back:\n{}",
            members.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("writer");
    }
    assert!(!members.exited(), "the service kept running");
    let outcomes = outcomes.lock().expect("outcomes").clone();
    let unavailable = outcomes
        .iter()
        .filter(|(_, c, _)| *c == Code::Unavailable)
        .count();
    assert!(unavailable > 0, "no call saw the database down");
    let wrong: Vec<_> = outcomes
        .iter()
        .filter(|(_, code, _)| !matches!(code, Code::Ok | Code::Unavailable))
        .map(|(_, code, message)| format!("{code:?}: {message}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "calls failed otherwise than UNAVAILABLE: {wrong:?}"
    );
    let leaking: Vec<_> = outcomes
        .iter()
        .map(|(_, _, message)| message)
        .filter(|m| {
            let m = m.to_lowercase();
            [
                "select ",
                "insert ",
                "update ",
                "sqlx",
                "postgres",
                "relation",
                "127.0.0.1",
            ]
            .iter()
            .any(|word| m.contains(word))
        })
        .collect();
    assert!(
        leaking.is_empty(),
        "error messages show internals: {leaking:?}"
    );
    members.terminate().await;
}

/// Bad input at scale: a message far over the size limit is refused with OUT_OF_RANGE
/// before the server has read it: its memory does not grow by the message's size.
#[tokio::test]
async fn an_oversized_message_is_refused_without_being_buffered() {
    const SIZE: usize = 96 * 1024 * 1024;
    // Bound, not `..`: the database and NATS must live as long as the test.
    let Cluster {
        database: _database,
        nats: _nats,
        mut members,
        ..
    } = Cluster::start(false, &[]).await;
    let before = members.peak_rss_kib().expect("/proc");

    let mut client = MembersServiceClient::new(members.channel())
        .max_encoding_message_size(SIZE + 1024)
        .max_decoding_message_size(SIZE + 1024);
    let began = Instant::now();
    let refused = client
        .create_member(authed(association("x".repeat(SIZE)), &admin()))
        .await
        .expect_err("an oversized message is refused");
    assert!(
        matches!(refused.code(), Code::OutOfRange | Code::ResourceExhausted),
        "{refused:?}"
    );
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "refused after {:?}",
        began.elapsed()
    );
    let after = members.peak_rss_kib().expect("/proc");
    assert!(
        after < before + (SIZE / 1024) as u64 / 2,
        "peak RSS went from {before} KiB to {after} KiB for a {} MiB message",
        SIZE / 1024 / 1024
    );
    // The connection and the server are fine afterwards.
    client
        .list_members(authed(mp::ListMembersRequest::default(), &admin()))
        .await
        .expect("a normal call after the refusal");
    members.terminate().await;
}
