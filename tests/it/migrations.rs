//! Data migrations that carry stored rows over, run on rows written as the version
//! before them wrote them, on both databases.

use fabrique_projects::store::migrations::Migrator;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use sea_orm_migration::MigratorTrait;

/// Runs `sql` with the backend's placeholders for `values`.
async fn run(db: &DatabaseConnection, sql: &str, values: Vec<sea_orm::Value>) {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            let mut n = 0;
            sql.chars()
                .map(|c| match c {
                    '?' => {
                        n += 1;
                        format!("${n}")
                    }
                    other => other.to_string(),
                })
                .collect()
        }
        _ => sql.to_string(),
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Awards stored when the limit was counted per member record are counted per legal
/// entity after `m20261207_000402_budget_life`, a payment recorded then becomes a
/// balance of the whole aid, and the co-funder's parts of the awards are its committed
/// total after `m20261207_000406_co_funding`.
async fn awards_are_counted_again_per_legal_entity(postgres: bool) {
    let pg = fabrique_testkit::TestDatabase::create_if(postgres).await;
    let dir = fabrique_testkit::TempDir::new("migrations");
    let db = fabrique_testkit::service_database(pg.as_ref(), &dir, "projects").await;
    if postgres {
        // As `fabrique_platform::db::migrate` does: each service has its own schema.
        db.execute_unprepared("CREATE SCHEMA IF NOT EXISTS projects")
            .await
            .expect("schema");
    }
    let all = Migrator::migrations().len();
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let before = names
        .iter()
        .position(|n| n == "m20261207_000402_budget_life")
        .expect("the migration is listed");
    Migrator::up(&db, Some(before as u32))
        .await
        .expect("migrations before it");

    let (programme, commune, again, region) = (
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
    );
    let now = chrono::Utc::now();
    let json = |v: serde_json::Value| -> sea_orm::Value {
        if postgres {
            v.into()
        } else {
            v.to_string().into()
        }
    };
    run(
        &db,
        "INSERT INTO programmes (id, funder_id, title, envelope_cents, aid_per_unit_cents,
         unit_label, eligible_kinds, co_funders, state, committed_cents, paid_cents, created_by,
         created_at, updated_at) VALUES (?, ?, 'Solaire Dôme', 5000000, 500000, 'installation',
         ?, ?, 'open', 1000000, 500000, 'x', ?, ?)",
        vec![
            programme.into(),
            uuid::Uuid::now_v7().into(),
            json(serde_json::json!([])),
            json(serde_json::json!([])),
            now.into(),
            now.into(),
        ],
    )
    .await;
    // The same commune (one SIREN) under two member records, one award each.
    for (member, state, paid_at) in [(commune, "paid", Some(now)), (again, "approved", None)] {
        run(
            &db,
            "INSERT INTO member_replica (id, display_name, kind, siren, state, contact_roles,
             version, updated_at) VALUES (?, 'Thiers', 'commune', '216304303', 'active', ?, 1, ?)",
            vec![member.into(), json(serde_json::json!([])), now.into()],
        )
        .await;
        run(
            &db,
            "INSERT INTO applications (id, programme_id, applicant_id, units, purpose, aid_cents,
             breakdown, state, created_by, created_at, decided_at, paid_at, version)
             VALUES (?, ?, ?, 1, 'Centrale', 500000, ?, ?, 'x', ?, ?, ?, 2)",
            vec![
                uuid::Uuid::now_v7().into(),
                programme.into(),
                member.into(),
                json(serde_json::json!([
                    {"funder": programme, "amount_cents": 500000, "note": null},
                    {"funder": region, "amount_cents": 125000, "note": "via le PNR"},
                ])),
                state.into(),
                now.into(),
                now.into(),
                paid_at.into(),
            ],
        )
        .await;
    }

    Migrator::up(&db, Some((all - before) as u32))
        .await
        .expect("the migration and those after it");
    let counted = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT legal_entity, awards FROM legal_entity_awards",
        ))
        .await
        .expect("read")
        .expect("one row");
    let entity: String = counted.try_get_by_index(0).expect("entity");
    let awards: i64 = counted.try_get_by_index(1).expect("awards");
    assert_eq!((entity.as_str(), awards), ("siren:216304303", 2));
    let paid = fabrique_projects::store::list_applications(
        &db,
        Some(programme),
        Some(commune),
        &[],
        None,
        None,
    )
    .await
    .expect("read back");
    assert_eq!(paid[0].payments.len(), 1);
    assert_eq!(paid[0].paid_cents(), 500_000);
    assert_eq!(paid[0].payments[0].paid_on, now.date_naive());
    let totals = fabrique_projects::store::co_funding::totals(&db, &[programme])
        .await
        .expect("co-funding");
    assert_eq!(
        totals.get(&(programme, region)),
        Some(&(250_000, 0)),
        "the Région's parts of both awards"
    );
}

#[tokio::test]
async fn awards_are_counted_again_per_legal_entity_on_postgres() {
    awards_are_counted_again_per_legal_entity(true).await;
}

#[tokio::test]
async fn awards_are_counted_again_per_legal_entity_on_sqlite() {
    awards_are_counted_again_per_legal_entity(false).await;
}
