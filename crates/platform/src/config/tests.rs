//! The flags and their validation, checked without touching the process environment:
//! each test parses its own argument list.

use std::time::Duration;

use clap::Parser;

use super::*;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
}

fn parse(args: &[&str]) -> ServeArgs {
    Cli::try_parse_from(std::iter::once("fabrique").chain(args.iter().copied()))
        .expect("flags parse")
        .serve
}

/// A fresh secret: every literal one in the repository is refused.
fn secret() -> Secret {
    Secret::new(format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    ))
}

#[test]
fn no_flags_is_the_embedded_default() {
    let settings = Settings::from_args(&parse(&[]), Some(secret())).unwrap();
    assert!(settings.is_embedded());
    assert_eq!(settings.listen.to_string(), "127.0.0.1:50051");
    assert_eq!(
        settings.database.url_for("members"),
        "sqlite://data/members.db"
    );
}

#[test]
fn dev_auth_is_refused_with_nats_or_postgres() {
    let with_nats = parse(&["--insecure-dev-auth", "--nats-url", "nats://127.0.0.1:4222"]);
    assert!(Settings::from_args(&with_nats, Some(secret())).is_err());
    let with_pg = parse(&["--insecure-dev-auth", "--database-url", "postgres://h/db"]);
    assert!(Settings::from_args(&with_pg, Some(secret())).is_err());
}

#[test]
fn production_needs_a_long_enough_secret() {
    let args = parse(&["--database-url", "postgres://h/db", "--jwt-secret", "short"]);
    let error = Settings::from_args(&args, None).unwrap_err();
    assert!(error.to_string().contains("32 bytes"));
    assert!(Settings::from_args(&parse(&["--database-url", "postgres://h/db"]), None).is_err());
}

#[test]
fn consumer_counts_are_at_least_one() {
    let settings = |args: &[&str]| Settings::from_args(&parse(args), Some(secret()));
    assert_eq!(settings(&[]).unwrap().consumer_lanes, DEFAULT_LANES);
    assert_eq!(
        settings(&["--consumer-lanes", "6"]).unwrap().consumer_lanes,
        6
    );
    let error = settings(&["--consumer-lanes", "0"]).unwrap_err();
    assert!(
        error.to_string().contains("FABRIQUE_CONSUMER_LANES"),
        "{error}"
    );
    let error = settings(&["--consumer-max-deliver", "0"]).unwrap_err();
    assert!(
        error.to_string().contains("FABRIQUE_CONSUMER_MAX_DELIVER"),
        "{error}"
    );
}

#[test]
fn processed_ids_are_kept_between_an_hour_and_a_century() {
    let settings = |args: &[&str]| Settings::from_args(&parse(args), Some(secret()));
    assert_eq!(
        settings(&[]).unwrap().processed_retention,
        DEFAULT_RETENTION
    );
    assert_eq!(
        settings(&["--processed-retention-hours", "2"])
            .unwrap()
            .processed_retention,
        Duration::from_secs(7200)
    );
    for refused in ["0", "876001"] {
        let error = settings(&["--processed-retention-hours", refused]).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("FABRIQUE_PROCESSED_RETENTION_HOURS"),
            "{error}"
        );
    }
}

#[test]
fn streams_are_bounded_by_default_and_sizes_parse() {
    let with = |extra: &[&str]| {
        let args: Vec<&str> = ["--nats-url", "nats://127.0.0.1:4222"]
            .iter()
            .chain(extra.iter())
            .copied()
            .collect();
        match Settings::from_args(&parse(&args), Some(secret()))
            .unwrap()
            .bus
        {
            BusSettings::Nats(nats) => nats,
            BusSettings::InProcess => panic!("NATS expected"),
        }
    };
    let defaults = with(&[]);
    assert_eq!(defaults.stream_limits.max_bytes, Some(1 << 30));
    assert_eq!(defaults.stream_limits.max_age, None);
    assert_eq!(defaults.dlq_limits.max_bytes, Some(256 << 20));
    assert_eq!(
        defaults.dlq_limits.max_age,
        Some(Duration::from_secs(30 * 86_400))
    );
    let set = with(&[
        "--nats-stream-max-bytes",
        "512MiB",
        "--nats-stream-max-age-days",
        "365",
        "--nats-dlq-max-age-days",
        "0",
    ]);
    assert_eq!(set.stream_limits.max_bytes, Some(512 << 20));
    assert_eq!(
        set.stream_limits.max_age,
        Some(Duration::from_secs(365 * 86_400))
    );
    assert_eq!(set.dlq_limits.max_age, None);

    for (text, bytes) in [("65536", 65_536), ("64KiB", 65_536), ("2TiB", 2 << 40)] {
        assert_eq!(text.parse::<ByteSize>(), Ok(ByteSize(bytes)), "{text}");
    }
    for size in [ByteSize(1 << 30), ByteSize(48 << 10), ByteSize(70_000)] {
        assert_eq!(size.to_string().parse::<ByteSize>(), Ok(size));
    }
    assert_eq!(ByteSize(1 << 30).to_string(), "1GiB");
    for refused in ["1GB", "lots", "", "1KiB", "99999999999TiB"] {
        assert!(refused.parse::<ByteSize>().is_err(), "{refused:?}");
    }
    let refused = Cli::try_parse_from(["fabrique", "--nats-stream-max-bytes", "10MB"]);
    assert!(refused.is_err());
}

#[test]
fn published_and_placeholder_secrets_are_refused() {
    let with = |value: &str| {
        Settings::from_args(
            &parse(&["--database-url", "postgres://h/db", "--jwt-secret", value]),
            None,
        )
    };
    for published in PUBLISHED_JWT_SECRETS {
        let error = with(published).unwrap_err().to_string();
        assert!(error.contains("published"), "{published}: {error}");
    }
    for placeholder in [
        "CHANGE-ME-CHANGE-ME-CHANGE-ME-CHANGE-ME",
        "my-example-secret-0123456789abcdefghij",
    ] {
        assert!(with(placeholder).is_err(), "{placeholder}");
    }
    let generated = secret();
    assert!(with(generated.expose()).is_ok());
    // The embedded default's generated secret goes through the same check.
    let refused = Settings::from_args(&parse(&[]), Some(Secret::new(PUBLISHED_JWT_SECRETS[0])));
    assert!(refused.is_err());
}

#[test]
fn secrets_never_print() {
    let secret = secret();
    let args = parse(&["--jwt-secret", secret.expose()]);
    assert!(!format!("{args:?}").contains(secret.expose()));
}

#[test]
fn subject_prefix_is_normalized_and_checked() {
    assert_eq!(normalize_prefix("").unwrap(), "");
    assert_eq!(normalize_prefix("t1").unwrap(), "t1.");
    assert_eq!(normalize_prefix("a.b.").unwrap(), "a.b.");
    assert!(normalize_prefix("a b").is_err());
    assert!(normalize_prefix("a.*").is_err());
    assert!(normalize_prefix("a..b").is_err());
}

#[test]
fn nats_inbox_prefix_and_stream_replicas_are_checked() {
    let url = ["--nats-url", "nats://127.0.0.1:4222"];
    let with = |extra: &[&str]| {
        let args: Vec<&str> = url.iter().chain(extra.iter()).copied().collect();
        Settings::from_args(&parse(&args), Some(secret()))
    };
    let settings = with(&[
        "--nats-inbox-prefix",
        "_INBOX_members",
        "--nats-stream-replicas",
        "3",
    ])
    .unwrap();
    let BusSettings::Nats(nats) = settings.bus else {
        panic!("NATS expected");
    };
    assert_eq!(nats.inbox_prefix.as_deref(), Some("_INBOX_members"));
    assert_eq!(nats.stream_replicas, 3);
    let defaults = with(&[]).unwrap();
    let BusSettings::Nats(nats) = defaults.bus else {
        panic!("NATS expected");
    };
    assert_eq!(nats.inbox_prefix, None);
    assert_eq!(nats.stream_replicas, 1);
    for bad in [
        &["--nats-stream-replicas", "0"][..],
        &["--nats-stream-replicas", "6"][..],
        &["--nats-inbox-prefix", "_INBOX.*"][..],
        &["--nats-inbox-prefix", "a b"][..],
    ] {
        let error = with(bad).unwrap_err().to_string();
        assert!(error.contains("FABRIQUE_NATS_"), "{bad:?}: {error}");
    }
}
