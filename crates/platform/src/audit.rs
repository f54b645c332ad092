//! Who changed what: each service's `fabrique_changes` (filled by a trigger on the
//! outbox, see the platform migrations) read for one resource, newest first, as every
//! service's `ListChanges` RPC answers it (admins only; the services check). The copies
//! a change sends on a private stream (`fabrique.private.…`, docs/events.md) are the
//! same change: they are left out.

use chrono::{DateTime, Utc};
use fabrique_api::audit as proto;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::Error;
use crate::page::{self, Fingerprint};

/// At most this many changes a page.
const MAX_PAGE_SIZE: u32 = 500;
/// A page's size when the request gives none.
const DEFAULT_PAGE_SIZE: u32 = 50;

/// The changes of `request.resource`, newest first, a page at a time.
pub async fn list_changes<C: ConnectionTrait>(
    db: &C,
    request: &proto::ListChangesRequest,
) -> Result<proto::ListChangesResponse, Error> {
    let resource = request.resource.trim();
    if resource.is_empty() || resource.len() > 300 || !resource.contains('/') {
        return Err(Error::invalid(
            "resource",
            "must be a resource name such as members/{id}",
        ));
    }
    let page_size = page::page_size(request.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let fingerprint = Fingerprint::new("ListChanges").with(resource).finish();
    let before = match request.page_token.as_str() {
        "" => i64::MAX,
        token => {
            let bytes: [u8; 8] = page::decode(token, fingerprint)?
                .try_into()
                .map_err(|_| Error::invalid("page_token", "is not a page token of this list"))?;
            i64::from_le_bytes(bytes)
        }
    };
    let mut rows = read(db, resource, before, page_size + 1).await?;
    let more = rows.len() as u64 > page_size;
    rows.truncate(page_size as usize);
    let next_page_token = match rows.last() {
        Some((id, _)) if more => page::encode(fingerprint, &id.to_le_bytes()),
        _ => String::new(),
    };
    Ok(proto::ListChangesResponse {
        changes: rows.into_iter().map(|(_, change)| change).collect(),
        next_page_token,
    })
}

/// At most `limit` changes of `resource` older than id `before`, newest first, each
/// with its id (the cursor).
async fn read<C: ConnectionTrait>(
    db: &C,
    resource: &str,
    before: i64,
    limit: u64,
) -> Result<Vec<(i64, proto::Change)>, Error> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT id, event_id, subject, ce_type, auth_type, auth_id, occurred_at \
             FROM fabrique_changes WHERE resource = $1 AND id < $2 \
             AND subject NOT LIKE 'fabrique.private.%' ORDER BY id DESC LIMIT $3"
        }
        _ => {
            "SELECT id, event_id, subject, ce_type, auth_type, auth_id, occurred_at \
             FROM fabrique_changes WHERE resource = ? AND id < ? \
             AND subject NOT LIKE 'fabrique.private.%' ORDER BY id DESC LIMIT ?"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [resource.into(), before.into(), (limit as i64).into()],
        ))
        .await?;
    let mut changes = Vec::with_capacity(rows.len());
    for row in rows {
        type Row = (
            i64,
            Uuid,
            String,
            String,
            Option<String>,
            Option<String>,
            DateTime<Utc>,
        );
        let (id, event_id, subject, ce_type, auth_type, auth_id, at): Row =
            row.try_get_many_by_index()?;
        changes.push((
            id,
            proto::Change {
                event_id: event_id.to_string(),
                event_type: ce_type,
                event_subject: subject,
                actor_type: auth_type.unwrap_or_else(|| "system".into()),
                actor: auth_id.unwrap_or_default(),
                change_time: Some(crate::time::timestamp(at)),
            },
        ));
    }
    Ok(changes)
}
