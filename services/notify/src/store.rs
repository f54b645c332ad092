//! Notify's tables and queries (`store/migrations/`), written once for PostgreSQL and
//! SQLite: the replicas of members' contacts, resources and programmes (each kept only
//! if newer than what is held), the settings (a compare-and-set on their version), and
//! the deliveries — inserted once per event and address, leased by one sender at a
//! time, then sent, put back for later, or given up.

pub mod migrations;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Value};
use uuid::Uuid;

use crate::domain::{Delivery, DeliveryState, Email, Kind, Settings};

/// Microseconds since the epoch, as every time is stored.
pub fn micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

fn time(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// `sql` written with PostgreSQL's `$1` placeholders, as SQLite numbers them (`?1`).
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => sql.to_string(),
        _ => sql.replace('$', "?"),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

async fn execute<C: ConnectionTrait>(db: &C, sql: &str, values: Vec<Value>) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    Ok(db
        .execute_raw(statement(backend, sql, values))
        .await?
        .rows_affected())
}

async fn query<C: ConnectionTrait>(
    db: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>, DbErr> {
    let backend = db.get_database_backend();
    db.query_all_raw(statement(backend, sql, values)).await
}

/// Keeps a member's name and addresses unless a newer version is held.
pub async fn upsert_contacts<C: ConnectionTrait>(
    db: &C,
    member: Uuid,
    display_name: &str,
    emails: &[Email],
    version: i64,
) -> Result<(), DbErr> {
    let emails: Vec<&str> = emails.iter().map(Email::as_str).collect();
    execute(
        db,
        "INSERT INTO contacts (member_id, display_name, emails, version) VALUES ($1, $2, $3, $4)
         ON CONFLICT (member_id) DO UPDATE SET display_name = excluded.display_name,
           emails = excluded.emails, version = excluded.version
         WHERE contacts.version < excluded.version",
        vec![
            member.into(),
            display_name.into(),
            emails.join("\n").into(),
            version.into(),
        ],
    )
    .await?;
    Ok(())
}

/// A member's name and its contact people's addresses, if its contacts reached notify.
pub async fn contacts<C: ConnectionTrait>(
    db: &C,
    member: Uuid,
) -> Result<Option<(String, Vec<Email>)>, DbErr> {
    let rows = query(
        db,
        "SELECT display_name, emails FROM contacts WHERE member_id = $1",
        vec![member.into()],
    )
    .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let (name, emails): (String, String) = row.try_get_many_by_index()?;
    let emails = emails
        .lines()
        .filter_map(|line| Email::parse(line).ok())
        .collect();
    Ok(Some((name, emails)))
}

/// Whether `email` is the address of one of `member`'s contact people.
pub async fn is_contact_of<C: ConnectionTrait>(
    db: &C,
    member: Uuid,
    email: &Email,
) -> Result<bool, DbErr> {
    Ok(contacts(db, member)
        .await?
        .is_some_and(|(_, emails)| emails.contains(email)))
}

/// Keeps a resource's owner and title unless a newer version is held.
pub async fn upsert_resource<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    owner: Uuid,
    title: &str,
    version: i64,
) -> Result<(), DbErr> {
    execute(
        db,
        "INSERT INTO resources (id, owner_id, title, version) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET owner_id = excluded.owner_id,
           title = excluded.title, version = excluded.version
         WHERE resources.version < excluded.version",
        vec![id.into(), owner.into(), title.into(), version.into()],
    )
    .await?;
    Ok(())
}

/// A resource's title, if its events reached notify.
pub async fn resource_title<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<String>, DbErr> {
    let rows = query(
        db,
        "SELECT title FROM resources WHERE id = $1",
        vec![id.into()],
    )
    .await?;
    rows.first().map(|row| row.try_get_by_index(0)).transpose()
}

/// Keeps a programme's title unless a later event's is held.
pub async fn upsert_programme<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    title: &str,
    occurred: DateTime<Utc>,
) -> Result<(), DbErr> {
    execute(
        db,
        "INSERT INTO programmes (id, title, occurred_us) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, occurred_us = excluded.occurred_us
         WHERE programmes.occurred_us <= excluded.occurred_us",
        vec![id.into(), title.into(), micros(occurred).into()],
    )
    .await?;
    Ok(())
}

/// A programme's title, if its events reached notify.
pub async fn programme_title<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<String>, DbErr> {
    let rows = query(
        db,
        "SELECT title FROM programmes WHERE id = $1",
        vec![id.into()],
    )
    .await?;
    rows.first().map(|row| row.try_get_by_index(0)).transpose()
}

/// An address's settings; every kind while nobody has set them.
pub async fn settings<C: ConnectionTrait>(db: &C, email: &Email) -> Result<Settings, DbErr> {
    let rows = query(
        db,
        "SELECT disabled, version, updated_us FROM settings WHERE email = $1",
        vec![email.as_str().into()],
    )
    .await?;
    let Some(row) = rows.first() else {
        return Ok(Settings::default_for(email.clone()));
    };
    let (disabled, version, updated): (String, i64, i64) = row.try_get_many_by_index()?;
    Ok(Settings {
        email: email.clone(),
        disabled: disabled
            .split(',')
            .filter_map(|k| k.parse::<Kind>().ok())
            .collect(),
        version,
        updated_at: Some(time(updated)),
    })
}

/// Writes `next` over the version `current` read; `false` when another change got in
/// first.
pub async fn save_settings<C: ConnectionTrait>(
    db: &C,
    next: &Settings,
    current: i64,
) -> Result<bool, DbErr> {
    let disabled: Vec<&str> = next.disabled.iter().map(Kind::as_str).collect();
    let values = vec![
        next.email.as_str().into(),
        disabled.join(",").into(),
        next.version.into(),
        micros(next.updated_at.unwrap_or_default()).into(),
        current.into(),
    ];
    let written = if current == 0 {
        execute(
            db,
            "INSERT INTO settings (email, disabled, version, updated_us)
             SELECT $1, $2, $3, $4 WHERE $5 = 0
             ON CONFLICT (email) DO NOTHING",
            values,
        )
        .await?
    } else {
        execute(
            db,
            "UPDATE settings SET disabled = $2, version = $3, updated_us = $4
             WHERE email = $1 AND version = $5",
            values,
        )
        .await?
    };
    Ok(written == 1)
}

/// Writes a delivery unless this event already has one for this address; `false` then.
pub async fn insert_delivery<C: ConnectionTrait>(db: &C, d: &Delivery) -> Result<bool, DbErr> {
    let written = execute(
        db,
        "INSERT INTO deliveries (id, event_id, recipient, kind, subject, text_body, html_body,
           link, state, attempts, last_error, created_us, sent_us, next_attempt_us,
           leased_until_us)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, NULL, $12, 0)
         ON CONFLICT (event_id, recipient) DO NOTHING",
        vec![
            d.id.into(),
            d.event_id.into(),
            d.recipient.as_str().into(),
            d.kind.as_str().into(),
            d.subject.as_str().into(),
            d.text.as_str().into(),
            d.html.as_str().into(),
            d.link.as_str().into(),
            d.state.as_str().into(),
            d.attempts.into(),
            micros(d.created_at).into(),
            micros(d.next_attempt_at).into(),
        ],
    )
    .await?;
    Ok(written == 1)
}

const COLUMNS: &str = "id, event_id, recipient, kind, subject, text_body, html_body, link,
    state, attempts, last_error, created_us, sent_us, next_attempt_us";

fn to_delivery(row: &QueryResult) -> Result<Delivery, DbErr> {
    let corrupt = |what: &str| DbErr::Custom(format!("deliveries: {what}"));
    let recipient: String = row.try_get_by_index(2)?;
    let kind: String = row.try_get_by_index(3)?;
    let state: String = row.try_get_by_index(8)?;
    Ok(Delivery {
        id: row.try_get_by_index(0)?,
        event_id: row.try_get_by_index(1)?,
        recipient: Email::parse(&recipient).map_err(|_| corrupt("recipient"))?,
        kind: kind.parse::<Kind>().map_err(|_| corrupt("kind"))?,
        subject: row.try_get_by_index(4)?,
        text: row.try_get_by_index(5)?,
        html: row.try_get_by_index(6)?,
        link: row.try_get_by_index(7)?,
        state: state
            .parse::<DeliveryState>()
            .map_err(|_| corrupt("state"))?,
        attempts: row.try_get_by_index(9)?,
        last_error: row.try_get_by_index(10)?,
        created_at: time(row.try_get_by_index(11)?),
        sent_at: row.try_get_by_index::<Option<i64>>(12)?.map(time),
        next_attempt_at: time(row.try_get_by_index(13)?),
    })
}

/// Pending deliveries due at `now` that no sender holds, oldest due first.
pub async fn due<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Delivery>, DbErr> {
    let now = micros(now);
    let rows = query(
        db,
        &format!(
            "SELECT {COLUMNS} FROM deliveries
             WHERE state = 'pending' AND next_attempt_us <= $1 AND leased_until_us <= $1
             ORDER BY next_attempt_us LIMIT $2"
        ),
        vec![now.into(), (limit as i64).into()],
    )
    .await?;
    rows.iter().map(to_delivery).collect()
}

/// Takes a due delivery for `until` (another sender's lease must have ended): `true`
/// when this sender holds it, so two replicas never send one e-mail at once.
pub async fn lease<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(execute(
        db,
        "UPDATE deliveries SET leased_until_us = $3
         WHERE id = $1 AND state = 'pending' AND leased_until_us <= $2",
        vec![id.into(), micros(now).into(), micros(until).into()],
    )
    .await?
        == 1)
}

/// The SMTP server took it.
pub async fn mark_sent<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    attempts: i32,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    execute(
        db,
        "UPDATE deliveries SET state = 'sent', attempts = $2, sent_us = $3, leased_until_us = 0,
           last_error = NULL
         WHERE id = $1",
        vec![id.into(), attempts.into(), micros(at).into()],
    )
    .await?;
    Ok(())
}

/// An attempt failed: tried again at `next`.
pub async fn mark_retry<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    attempts: i32,
    next: DateTime<Utc>,
    error: &str,
) -> Result<(), DbErr> {
    execute(
        db,
        "UPDATE deliveries SET attempts = $2, next_attempt_us = $3, last_error = $4,
           leased_until_us = 0
         WHERE id = $1",
        vec![
            id.into(),
            attempts.into(),
            micros(next).into(),
            error.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Given up (its dead letter is published).
pub async fn mark_failed<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    attempts: i32,
    error: &str,
) -> Result<(), DbErr> {
    execute(
        db,
        "UPDATE deliveries SET state = 'failed', attempts = $2, last_error = $3,
           leased_until_us = 0
         WHERE id = $1",
        vec![id.into(), attempts.into(), error.into()],
    )
    .await?;
    Ok(())
}

/// A given-up delivery, pending again from `now` with its attempts counted afresh (its
/// dead letter was replayed); `false` when it is not FAILED.
pub async fn try_again<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(execute(
        db,
        "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_us = $2,
           leased_until_us = 0
         WHERE id = $1 AND state = 'failed'",
        vec![id.into(), micros(now).into()],
    )
    .await?
        == 1)
}

/// One delivery, if it exists.
pub async fn delivery<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Delivery>, DbErr> {
    let rows = query(
        db,
        &format!("SELECT {COLUMNS} FROM deliveries WHERE id = $1"),
        vec![id.into()],
    )
    .await?;
    rows.first().map(to_delivery).transpose()
}

/// What [`list_deliveries`] keeps.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// Only in this state.
    pub state: Option<DeliveryState>,
    /// Only to this address.
    pub recipient: Option<Email>,
    /// Only for this event.
    pub event_id: Option<Uuid>,
}

/// Deliveries matching `filter`, newest first, after the id `before` (a page's last).
pub async fn list_deliveries<C: ConnectionTrait>(
    db: &C,
    filter: &DeliveryFilter,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Delivery>, DbErr> {
    let mut conditions = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let mut add = |condition: &str, value: Value| {
        values.push(value);
        conditions.push(condition.replace('#', &format!("${}", values.len())));
    };
    if let Some(state) = filter.state {
        add("state = #", state.as_str().into());
    }
    if let Some(recipient) = &filter.recipient {
        add("recipient = #", recipient.as_str().into());
    }
    if let Some(event) = filter.event_id {
        add("event_id = #", event.into());
    }
    if let Some(before) = before {
        add("id < #", before.into());
    }
    conditions.push("1 = 1".to_string());
    values.push((limit as i64).into());
    let sql = format!(
        "SELECT {COLUMNS} FROM deliveries WHERE {} ORDER BY id DESC LIMIT ${}",
        conditions.join(" AND "),
        values.len()
    );
    let rows = query(db, &sql, values).await?;
    rows.iter().map(to_delivery).collect()
}

/// How many deliveries are in `state`.
pub async fn count<C: ConnectionTrait>(db: &C, state: DeliveryState) -> Result<i64, DbErr> {
    let rows = query(
        db,
        "SELECT COUNT(*) FROM deliveries WHERE state = $1",
        vec![state.as_str().into()],
    )
    .await?;
    rows.first()
        .map(|row| row.try_get_by_index(0))
        .transpose()
        .map(Option::unwrap_or_default)
}
