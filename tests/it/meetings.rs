//! Meetings and citizen conferences of a process, over gRPC on both stores: a place
//! must be LISTED in the registry (as place events told participation); registrations
//! never exceed the seats under real concurrency, the waiting list is served in order
//! when someone gives up — even when several give up at once; minutes come after the
//! meeting; and the process's calendar is read back by a real iCalendar parser (the
//! `icalendar` package), each event linking to its meeting's page.

use std::collections::BTreeSet;
use std::time::Duration;

use fabrique_api::participation as proto;
use fabrique_api::registry as rp;
use fabrique_testkit::{Backend, TestPlatform, authed};
use tonic::Code;

use crate::participation::{Participation, citizen, consultation, platform};
use crate::support::{Members, association, id_of, reason, refusal_fact, violated_fields};

/// A place the admin creates in the registry, approved (LISTED) or left PROPOSED.
async fn place(platform: &TestPlatform, name: &str, listed: bool) -> String {
    let mut registry =
        rp::registry_service_client::RegistryServiceClient::new(platform.channel().await);
    let admin = TestPlatform::admin_token();
    let draft = rp::Place {
        display_name: name.to_string(),
        kinds: vec![rp::PlaceKind::TiersLieu as i32],
        location: Some(rp::Location {
            latitude: 45.7772,
            longitude: 3.0870,
        }),
        ..Default::default()
    };
    let place = registry
        .create_place(authed(
            rp::CreatePlaceRequest {
                place: Some(draft),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("place")
        .into_inner();
    if listed {
        registry
            .approve_place(authed(
                rp::ApprovePlaceRequest {
                    name: place.name.clone(),
                    etag: String::new(),
                },
                &admin,
            ))
            .await
            .expect("listed");
    }
    place.name
}

/// A conference of `process` from `days` ahead (negative: already held), two hours.
fn conference(place: &str, seats: i32, days: i64) -> proto::Meeting {
    let start = chrono::Utc::now() + chrono::Duration::days(days);
    proto::Meeting {
        kind: proto::MeetingKind::CitizenConference as i32,
        title: "Conférence citoyenne : quelle route pour demain ?".into(),
        description: "Vingt habitants tirés au sort, trois samedis; ouverte au public.".into(),
        start_time: Some(fabrique_platform::time::timestamp(start)),
        end_time: Some(fabrique_platform::time::timestamp(
            start + chrono::Duration::hours(2),
        )),
        place: place.to_string(),
        seats,
        ..Default::default()
    }
}

impl Participation {
    async fn schedule(
        &self,
        process: &str,
        meeting: proto::Meeting,
    ) -> Result<proto::Meeting, tonic::Status> {
        let request = proto::CreateMeetingRequest {
            parent: process.into(),
            meeting: Some(meeting),
            request_id: String::new(),
        };
        Ok(self
            .client
            .clone()
            .create_meeting(authed(request, &self.token))
            .await?
            .into_inner())
    }

    /// Schedules once participation knows the place as `state` from its events (it
    /// refuses PLACE_NOT_LISTED until then).
    async fn schedule_when_known(&self, process: &str, meeting: proto::Meeting) -> proto::Meeting {
        fabrique_testkit::eventually(
            "participation to know the place",
            Duration::from_secs(60),
            || {
                let (this, meeting) = (self.clone(), meeting.clone());
                async move {
                    match this.schedule(process, meeting).await {
                        Ok(created) => Some(created),
                        Err(status) if reason(&status) == "PLACE_NOT_LISTED" => None,
                        Err(status) => panic!("schedule: {status:?}"),
                    }
                }
            },
        )
        .await
    }

    async fn attend(&self, meeting: &str) -> Result<proto::Registration, tonic::Status> {
        let request = proto::RegisterForMeetingRequest {
            name: meeting.into(),
        };
        Ok(self
            .client
            .clone()
            .register_for_meeting(authed(request, &self.token))
            .await?
            .into_inner())
    }

    async fn give_up(&self, meeting: &str) -> Result<proto::Registration, tonic::Status> {
        let request = proto::CancelRegistrationRequest {
            name: meeting.into(),
        };
        Ok(self
            .client
            .clone()
            .cancel_registration(authed(request, &self.token))
            .await?
            .into_inner())
    }

    async fn meeting(&self, meeting: &str) -> proto::Meeting {
        let request = proto::GetMeetingRequest {
            name: meeting.into(),
        };
        self.client
            .clone()
            .get_meeting(authed(request, &self.token))
            .await
            .expect("meeting")
            .into_inner()
    }
}

/// `count` registered participants.
async fn participants(platform: &TestPlatform, count: usize) -> Vec<Participation> {
    let mut people = Vec::new();
    for i in 0..count {
        let person =
            Participation::connect(platform, citizen(&format!("oidc|{}", uuid::Uuid::now_v7())))
                .await;
        person
            .register(&format!("Habitante {i}"))
            .await
            .expect("register");
        people.push(person);
    }
    people
}

/// Each person's registration to `meeting`, as they read it.
async fn states(people: &[Participation], meeting: &str) -> Vec<(i32, i32)> {
    let mut states = Vec::new();
    for person in people {
        let read = person.meeting(meeting).await;
        states.push(
            read.caller_registration
                .map(|r| (r.state, r.waiting_position))
                .unwrap_or((proto::AttendanceState::Unspecified as i32, 0)),
        );
    }
    states
}

const REGISTERED: i32 = proto::AttendanceState::Registered as i32;
const WAITING: i32 = proto::AttendanceState::Waiting as i32;

/// Over 60 lines: the conference told in order, each rule where it applies.
async fn a_conference_keeps_its_seats_and_waiting_list(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let created = members
        .create(association("Département (exemple)"))
        .await
        .expect("member");
    let departement = members.approve(&created.name).await.expect("approve").name;
    let org =
        Participation::connect(&platform, TestPlatform::member_token(&id_of(&departement))).await;
    let process = org.create_process(consultation(&departement, 0, 0)).await;

    // A place the registry has not listed is refused, saying its state.
    let proposed = place(&platform, "Salle proposée", false).await;
    let status = fabrique_testkit::eventually(
        "participation to know the place",
        Duration::from_secs(60),
        || {
            let (org, process, proposed) = (org.clone(), process.name.clone(), proposed.clone());
            async move {
                let status = org
                    .schedule(&process, conference(&proposed, 3, 10))
                    .await
                    .expect_err("not listed");
                (refusal_fact(&status, "state") == "PROPOSED").then_some(status)
            }
        },
    )
    .await;
    assert_eq!(reason(&status), "PLACE_NOT_LISTED");
    let mut both = conference(&proposed, 3, 10);
    both.online_url = "https://visio.example.org/route".into();
    assert_eq!(
        violated_fields(&org.schedule(&process.name, both).await.expect_err("both")),
        ["meeting.online_url"]
    );
    let mut plain = conference("", 3, 10);
    plain.online_url = "http://visio.example.org/route".into();
    assert_eq!(
        violated_fields(&org.schedule(&process.name, plain).await.expect_err("http")),
        ["meeting.online_url"]
    );

    let hall = place(&platform, "Maison de la culture de Clermont-Ferrand", true).await;
    let meeting = org
        .schedule_when_known(&process.name, conference(&hall, 3, 10))
        .await;
    assert_eq!(
        meeting.place_display_name,
        "Maison de la culture de Clermont-Ferrand"
    );
    let stranger = Participation::connect(&platform, citizen("oidc|stranger")).await;
    assert_eq!(
        stranger
            .schedule(&process.name, conference(&hall, 3, 10))
            .await
            .expect_err("a citizen")
            .code(),
        Code::PermissionDenied
    );

    // Eight people registering at once for three seats: three seats, five waiting,
    // numbered 1 to 5.
    let people = participants(&platform, 8).await;
    let calls: Vec<_> = people
        .iter()
        .map(|person| {
            let (person, name) = (person.clone(), meeting.name.clone());
            tokio::spawn(async move { person.attend(&name).await })
        })
        .collect();
    for call in calls {
        call.await.expect("task").expect("registered or waiting");
    }
    let read = org.meeting(&meeting.name).await;
    assert_eq!((read.registered_count, read.waiting_count), (3, 5));
    let before = states(&people, &meeting.name).await;
    assert_eq!(before.iter().filter(|(s, _)| *s == REGISTERED).count(), 3);
    let positions: BTreeSet<i32> = before
        .iter()
        .filter(|(s, _)| *s == WAITING)
        .map(|(_, p)| *p)
        .collect();
    assert_eq!(positions, BTreeSet::from([1, 2, 3, 4, 5]));
    // Registering again changes nothing.
    let again = people[0].attend(&meeting.name).await.expect("again");
    assert_eq!((again.state, again.waiting_position), before[0]);

    // One seat given up goes to the first waiting; the others move up.
    let seated = before
        .iter()
        .position(|(s, _)| *s == REGISTERED)
        .expect("a seat");
    let first = before
        .iter()
        .position(|(s, p)| *s == WAITING && *p == 1)
        .expect("first");
    let given = people[seated]
        .give_up(&meeting.name)
        .await
        .expect("give up");
    assert_eq!(given.state, proto::AttendanceState::Cancelled as i32);
    let after = states(&people, &meeting.name).await;
    assert_eq!(after[first], (REGISTERED, 0));
    assert_eq!(after[seated].0, proto::AttendanceState::Unspecified as i32);
    for (i, (state, position)) in before.iter().enumerate() {
        if *state == WAITING && *position > 1 {
            assert_eq!(after[i], (WAITING, position - 1), "person {i}");
        }
    }

    // The three seated give up at once: the next three waiting get their seats, once
    // each; the seats stay three.
    let seated: Vec<usize> = (0..people.len())
        .filter(|i| after[*i].0 == REGISTERED)
        .collect();
    let calls: Vec<_> = seated
        .iter()
        .map(|i| {
            let (person, name) = (people[*i].clone(), meeting.name.clone());
            tokio::spawn(async move { person.give_up(&name).await })
        })
        .collect();
    for call in calls {
        call.await.expect("task").expect("given up");
    }
    let last = states(&people, &meeting.name).await;
    let read = org.meeting(&meeting.name).await;
    assert_eq!((read.registered_count, read.waiting_count), (3, 1));
    assert_eq!(last.iter().filter(|(s, _)| *s == REGISTERED).count(), 3);
    for (i, (state, position)) in after.iter().enumerate() {
        match (state, position) {
            (s, p) if *s == WAITING && *p <= 3 => {
                assert_eq!(last[i], (REGISTERED, 0), "person {i}")
            }
            (s, 4) if *s == WAITING => assert_eq!(last[i], (WAITING, 1), "person {i}"),
            _ => {}
        }
    }

    // Minutes come after the meeting; a cancelled meeting takes no one.
    let minutes = proto::PublishMinutesRequest {
        name: meeting.name.clone(),
        minutes: "Trois propositions retenues.".into(),
    };
    let status = org
        .client
        .clone()
        .publish_minutes(authed(minutes.clone(), &org.token))
        .await
        .expect_err("not ended");
    assert_eq!(reason(&status), "MEETING_NOT_ENDED");
    let held = org
        .schedule(&process.name, conference(&hall, 20, -2))
        .await
        .expect("held already");
    let status = people[0].attend(&held.name).await.expect_err("begun");
    assert_eq!(reason(&status), "MEETING_STARTED");
    let published = org
        .client
        .clone()
        .publish_minutes(authed(
            proto::PublishMinutesRequest {
                name: held.name.clone(),
                ..minutes
            },
            &org.token,
        ))
        .await
        .expect("minutes")
        .into_inner();
    assert_eq!(published.minutes, "Trois propositions retenues.");
    assert!(published.minutes_time.is_some());
    let mut online = conference("", 50, 20);
    online.kind = proto::MeetingKind::Meeting as i32;
    online.title = "Réunion publique en ligne".into();
    online.online_url = "https://visio.example.org/route".into();
    let online = org.schedule(&process.name, online).await.expect("online");
    let cancel = proto::CancelMeetingRequest {
        name: online.name.clone(),
    };
    let status = stranger
        .client
        .clone()
        .cancel_meeting(authed(cancel.clone(), &stranger.token))
        .await
        .expect_err("a citizen");
    assert_eq!(status.code(), Code::PermissionDenied);
    let cancelled = org
        .client
        .clone()
        .cancel_meeting(authed(cancel, &org.token))
        .await
        .expect("cancel")
        .into_inner();
    assert!(cancelled.cancelled);
    assert_eq!(
        reason(&people[0].attend(&online.name).await.expect_err("cancelled")),
        "MEETING_CANCELLED"
    );

    // The calendar, as a calendar application reads it.
    let public = Participation::connect(&platform, String::new()).await;
    let ics = public
        .client
        .clone()
        .export_calendar(proto::ExportCalendarRequest {
            parent: process.name.clone(),
            site_url: "https://fabrique.example.org".into(),
        })
        .await
        .expect("calendar")
        .into_inner();
    assert_eq!(ics.content_type, "text/calendar; charset=utf-8");
    let parsed = parsed_calendar(&ics.ics).await;
    assert_eq!(parsed["version"], "2.0");
    assert_eq!(parsed["name"], "Quelle route pour demain ?");
    let events = parsed["events"].as_array().expect("events");
    assert_eq!(events.len(), 3);
    let id = |name: &str| name.rsplit('/').next().unwrap_or_default().to_string();
    let process_id = id(&process.name);
    // Soonest first: the one held, the conference, the online meeting.
    assert_eq!(
        events[0]["uid"],
        format!("{}@participation.fabrique", id(&held.name))
    );
    let conference = &events[1];
    assert_eq!(
        conference["summary"],
        "Conférence citoyenne : quelle route pour demain ?"
    );
    assert_eq!(
        conference["description"],
        "Vingt habitants tirés au sort, trois samedis; ouverte au public."
    );
    assert_eq!(
        conference["location"],
        "Maison de la culture de Clermont-Ferrand"
    );
    assert_eq!(conference["status"], "CONFIRMED");
    assert_eq!(
        conference["url"],
        format!(
            "https://fabrique.example.org/participation/{process_id}/rencontres/{}",
            id(&meeting.name)
        )
    );
    let start = meeting
        .start_time
        .as_ref()
        .and_then(fabrique_platform::time::from_timestamp)
        .expect("start");
    assert_eq!(
        conference["start"],
        start.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    );
    assert_eq!(events[2]["status"], "CANCELLED");
    assert_eq!(
        events[2]["location"],
        "En ligne : https://visio.example.org/route"
    );
}

/// The `icalendar` package's reading of `ics` (tests/ical/parse.py).
async fn parsed_calendar(ics: &[u8]) -> serde_json::Value {
    let python = std::env::var("FABRIQUE_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "FABRIQUE_TEST_PYTHON is not set: run the suite with ./scripts/test, which prepares a \
             virtualenv with icalendar"
        )
    });
    let dir = fabrique_testkit::TempDir::new("ical");
    let file = dir.path().join("rencontres.ics");
    std::fs::write(&file, ics).expect("written");
    let root = env!("CARGO_MANIFEST_DIR");
    let run = tokio::process::Command::new(python)
        .arg(format!("{root}/tests/ical/parse.py"))
        .arg(&file)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the parser finishes within a minute")
        .expect("python runs");
    assert!(
        output.status.success(),
        "icalendar refused the file: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

mod postgres {
    #[tokio::test]
    async fn a_conference_keeps_its_seats_and_waiting_list() {
        super::a_conference_keeps_its_seats_and_waiting_list(fabrique_testkit::Backend::Postgres)
            .await;
    }
}

mod sqlite {
    #[tokio::test]
    async fn a_conference_keeps_its_seats_and_waiting_list() {
        super::a_conference_keeps_its_seats_and_waiting_list(fabrique_testkit::Backend::Sqlite)
            .await;
    }
}
