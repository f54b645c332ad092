//! How a service authenticates to NATS and protects the connection, against real
//! nats-servers: TLS with a private CA, user and password, and a credentials file
//! (decentralised JWT auth, as `nsc` would issue it).

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use fabrique_platform::bus::nats::NatsBus;
use fabrique_platform::bus::{Bus, Headers, MSG_ID_HEADER, OutgoingMessage, StreamSpec};
use fabrique_platform::config::{NatsSettings, Secret};
use fabrique_testkit::{NatsServer, TempDir};

/// A stream, one message published and acknowledged by JetStream: the connection works
/// end to end.
async fn round_trip(bus: &NatsBus) {
    bus.ready(Duration::from_secs(10)).await.expect("connected");
    let spec = StreamSpec {
        name: "SECURE".into(),
        subjects: vec!["fabrique.secure.>".into()],
        duplicate_window: Duration::from_secs(60),
        limits: Default::default(),
        discard: Default::default(),
        max_per_subject: None,
    };
    bus.ensure_stream(&spec).await.expect("stream");
    let mut headers = Headers::new();
    headers.insert(MSG_ID_HEADER, uuid::Uuid::now_v7().to_string());
    let ack = bus
        .publish(OutgoingMessage {
            subject: "fabrique.secure.checked".into(),
            headers,
            payload: Bytes::from_static(b"ok"),
        })
        .await
        .expect("sent")
        .await
        .expect("acknowledged");
    assert_eq!(ack.stream, "SECURE");
}

/// The client never connects: the bus stays unready.
async fn never_connects(settings: &NatsSettings) {
    match NatsBus::connect(settings, "security-tests").await {
        Err(_) => {}
        Ok(bus) => assert!(
            bus.ready(Duration::from_secs(3)).await.is_err(),
            "connected to {} with settings that must be refused",
            settings.url
        ),
    }
}

async fn answers(url: String, options: async_nats::ConnectOptions) -> bool {
    let Ok(client) = options.connect(&url).await else {
        return false;
    };
    async_nats::jetstream::new(client)
        .query_account()
        .await
        .is_ok()
}

/// A CA and a server certificate for 127.0.0.1 and localhost, as PEM files in `dir`.
fn certificates(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Fabrique test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    let server = params.signed_by(&server_key, &ca, &ca_key).unwrap();
    let (ca_file, cert_file, key_file) = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server-key.pem"),
    );
    std::fs::write(&ca_file, ca.pem()).unwrap();
    std::fs::write(&cert_file, server.pem()).unwrap();
    std::fs::write(&key_file, server_key.serialize_pem()).unwrap();
    (ca_file, cert_file, key_file)
}

#[tokio::test]
async fn tls_with_a_private_ca_and_a_password() {
    let dir = TempDir::new("nats-tls");
    let (ca, cert, key) = certificates(dir.path());
    let config = format!(
        "tls {{\n  cert_file: {:?}\n  key_file: {:?}\n}}\n\
         authorization {{\n  users: [ {{ user: members, password: \"s3cret-members\" }} ]\n}}\n",
        cert.display().to_string(),
        key.display().to_string(),
    );
    let ca_for_probe = ca.clone();
    let server = NatsServer::start_with_config(&config, move |url| {
        let options = async_nats::ConnectOptions::with_user_and_password(
            "members".into(),
            "s3cret-members".into(),
        )
        .add_root_certificates(ca_for_probe.clone())
        .require_tls(true);
        answers(url, options)
    })
    .await;
    let settings = NatsSettings {
        url: server.url(),
        user: Some("members".into()),
        password: Some(Secret::new("s3cret-members")),
        tls_ca: Some(ca.clone()),
        tls_required: true,
        ..Default::default()
    };
    let bus = NatsBus::connect(&settings, "security-tests")
        .await
        .expect("connect");
    round_trip(&bus).await;

    // A server certificate the client does not trust, a wrong password, or no TLS.
    never_connects(&NatsSettings {
        tls_ca: None,
        ..settings.clone()
    })
    .await;
    never_connects(&NatsSettings {
        password: Some(Secret::new("guessed")),
        ..settings.clone()
    })
    .await;
    never_connects(&NatsSettings {
        tls_ca: None,
        tls_required: false,
        ..settings.clone()
    })
    .await;
}

// ------------------------------------------------------------------ JWT credentials

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A NATS JWT (`ed25519-nkey`) with `claims`, issued and signed by `issuer`.
fn jwt(issuer: &nkeys::KeyPair, subject: &str, name: &str, nats: serde_json::Value) -> String {
    let header = serde_json::json!({ "typ": "JWT", "alg": "ed25519-nkey" });
    let claims = serde_json::json!({
        "jti": uuid::Uuid::new_v4().simple().to_string().to_uppercase(),
        "iat": chrono::Utc::now().timestamp(),
        "iss": issuer.public_key(),
        "name": name,
        "sub": subject,
        "nats": nats,
    });
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = issuer.sign(signing_input.as_bytes()).unwrap();
    format!("{signing_input}.{}", b64(&signature))
}

/// The `.creds` file format of `nsc`: the user JWT and the user's seed.
fn creds(user_jwt: &str, seed: &str) -> String {
    format!(
        "-----BEGIN NATS USER JWT-----\n{user_jwt}\n------END NATS USER JWT------\n\n\
         ************************* IMPORTANT *************************\n\
         NKEY Seed printed below can be used to sign and prove identity.\n\n\
         -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n"
    )
}

#[tokio::test]
async fn a_credentials_file_with_decentralised_auth() {
    let operator = nkeys::KeyPair::new_operator();
    let account = nkeys::KeyPair::new_account();
    let system = nkeys::KeyPair::new_account();
    let user = nkeys::KeyPair::new_user();
    let operator_jwt = jwt(
        &operator,
        &operator.public_key(),
        "fabrique",
        serde_json::json!({ "type": "operator", "version": 2 }),
    );
    let unlimited = serde_json::json!({
        "subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
        "wildcards": true, "conn": -1, "leaf": -1,
        "mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1,
    });
    let account_jwt = jwt(
        &operator,
        &account.public_key(),
        "FABRIQUE",
        serde_json::json!({ "limits": unlimited, "type": "account", "version": 2 }),
    );
    let system_jwt = jwt(
        &operator,
        &system.public_key(),
        "SYS",
        serde_json::json!({ "type": "account", "version": 2 }),
    );
    let user_jwt = jwt(
        &account,
        &user.public_key(),
        "members",
        serde_json::json!({
            "pub": { "allow": ["fabrique.secure.>", "$JS.API.>"] },
            "sub": { "allow": ["_INBOX.>"] },
            "subs": -1, "data": -1, "payload": -1,
            "type": "user", "version": 2,
        }),
    );
    let dir = TempDir::new("nats-creds");
    let creds_file = dir.path().join("members.creds");
    std::fs::write(&creds_file, creds(&user_jwt, &user.seed().unwrap())).unwrap();

    let config = format!(
        "operator: {operator_jwt}\nsystem_account: {}\nresolver: MEMORY\n\
         resolver_preload: {{\n  {}: {account_jwt}\n  {}: {system_jwt}\n}}\n",
        system.public_key(),
        account.public_key(),
        system.public_key(),
    );
    let probe_creds = creds_file.clone();
    let server = NatsServer::start_with_config(&config, move |url| {
        let path = probe_creds.clone();
        async move {
            match async_nats::ConnectOptions::with_credentials_file(path).await {
                Ok(options) => answers(url, options).await,
                Err(_) => false,
            }
        }
    })
    .await;
    let settings = NatsSettings {
        url: server.url(),
        credentials: Some(creds_file),
        ..Default::default()
    };
    let bus = NatsBus::connect(&settings, "security-tests")
        .await
        .expect("connect");
    round_trip(&bus).await;

    // Another user's seed with this JWT does not prove the identity.
    let impostor = dir.path().join("impostor.creds");
    std::fs::write(
        &impostor,
        creds(&user_jwt, &nkeys::KeyPair::new_user().seed().unwrap()),
    )
    .unwrap();
    never_connects(&NatsSettings {
        credentials: Some(impostor),
        ..settings.clone()
    })
    .await;
    // A missing file is a configuration error, said at once.
    let missing = NatsBus::connect(
        &NatsSettings {
            credentials: Some(dir.path().join("absent.creds")),
            ..settings
        },
        "security-tests",
    )
    .await;
    assert!(
        missing.is_err_and(|e| e.to_string().contains("absent.creds")),
        "a missing credentials file must be reported"
    );
}
