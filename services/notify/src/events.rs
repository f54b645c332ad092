//! What notify reads of the other services' events, and the one event of its own that
//! it consumes. Each handler runs in the consumer's transaction: it keeps the replicas
//! (members' contacts from the private stream, resources' titles and owners,
//! programmes' titles) and writes one delivery per event and address that wants its
//! kind ([`crate::letters`] decides who learns what). A delivery's key is the event's
//! id and the address, so an event delivered or replayed again writes nothing new.

use std::sync::Arc;

use async_trait::async_trait;
use fabrique_api::{members, notify, projects, registry, sharing};
use fabrique_platform::consumer::{ConsumerTxn, EventHandler, HandlerError};
use fabrique_platform::event::IncomingEvent;
use fabrique_platform::time::now;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::config::NotifyConfig;
use crate::domain::{Audience, Delivery, DeliveryState, Email, Notice};
use crate::letters::{
    self, ApplicationChange, ClaimChange, ClaimFacts, ReservationChange, ReservationFacts,
    SessionFacts,
};
use crate::render;
use crate::store;

/// The consumers' durable names and what each reads.
pub mod consumers {
    /// Members' contacts, on the private stream of the members service.
    pub const CONTACTS: &str = "notify-contacts";
    /// `fabrique.members.member.applied`, for the admins.
    pub const MEMBERS: &str = "notify-members";
    /// Resources, reservations and claims.
    pub const SHARING: &str = "notify-sharing";
    /// Programmes and applications.
    pub const PROJECTS: &str = "notify-projects";
    /// Places needing review.
    pub const REGISTRY: &str = "notify-registry";
    /// Replayed dead letters of the sender.
    pub const RETRIES: &str = "notify-retries";
}

/// Every handler of notify: what it writes depends on the event's subject.
pub struct Notifications {
    config: Arc<NotifyConfig>,
}

impl Notifications {
    /// Handlers writing e-mails as `config` says.
    pub fn new(config: Arc<NotifyConfig>) -> Self {
        Notifications { config }
    }
}

fn permanent(what: impl std::fmt::Display) -> HandlerError {
    HandlerError::Permanent(what.to_string())
}

/// The id in `members/{id}`, `resources/{id}`, `places/{id}`…; `None` for an empty name.
fn id_in(name: &str, collection: &str) -> Result<Option<Uuid>, HandlerError> {
    if name.is_empty() {
        return Ok(None);
    }
    name.strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|rest| rest.split('/').next())
        .and_then(|id| Uuid::parse_str(id).ok())
        .map(Some)
        .ok_or_else(|| permanent(format!("{name:?} is not {collection}/{{id}}")))
}

fn required(name: &str, collection: &str) -> Result<Uuid, HandlerError> {
    id_in(name, collection)?.ok_or_else(|| permanent(format!("no {collection} given")))
}

fn time(t: &Option<prost_types::Timestamp>) -> chrono::DateTime<chrono::Utc> {
    t.as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .unwrap_or_default()
}

#[async_trait]
impl EventHandler for Notifications {
    async fn handle(&self, txn: &ConsumerTxn, event: &IncomingEvent) -> Result<(), HandlerError> {
        let subject = event.subject.as_str();
        let verb = subject.rsplit('.').next().unwrap_or_default();
        if subject.starts_with("fabrique.private.members.contacts.") {
            return contacts(txn, event).await;
        }
        let notices = match subject {
            s if s.starts_with("fabrique.sharing.resource.") => {
                return resource(txn, event).await;
            }
            s if s.starts_with("fabrique.sharing.reservation.") => {
                reservation(txn, event, verb).await?
            }
            s if s.starts_with("fabrique.sharing.claim.") => claim(txn, event, verb).await?,
            s if s.starts_with("fabrique.projects.programme.") => {
                return programme(txn, event).await;
            }
            s if s.starts_with("fabrique.projects.application.") => {
                application(txn, event, verb).await?
            }
            "fabrique.projects.workshop.session_scheduled"
            | "fabrique.projects.workshop.session_cancelled" => session(event, verb)?,
            "fabrique.registry.place.review_needed" => {
                let e: registry::PlaceReviewNeeded = event.decode().map_err(permanent)?;
                let place = e.place.unwrap_or_default();
                match id_in(&place.operator, "members")? {
                    Some(operator) => letters::place_review(
                        operator,
                        Uuid::parse_str(&place.id).map_err(permanent)?,
                        &place.display_name,
                        &e.reason,
                    ),
                    None => Vec::new(),
                }
            }
            "fabrique.members.member.applied" => {
                let e: members::MemberApplied = event.decode().map_err(permanent)?;
                let m = e.member.unwrap_or_default();
                let kind = members::MemberKind::try_from(m.kind)
                    .map(|k| {
                        k.as_str_name()
                            .trim_start_matches("MEMBER_KIND_")
                            .to_lowercase()
                    })
                    .unwrap_or_default();
                let id = Uuid::parse_str(&m.id).map_err(permanent)?;
                letters::member_applied(id, &m.display_name, &kind)
            }
            crate::sender::GIVEN_UP => return retry(txn, event).await,
            _ => Vec::new(),
        };
        for notice in notices {
            self.write(txn, event.id, &notice).await?;
        }
        Ok(())
    }
}

impl Notifications {
    /// One delivery of `notice` per address of its audience that wants its kind.
    async fn write(
        &self,
        txn: &ConsumerTxn,
        event_id: Uuid,
        notice: &Notice,
    ) -> Result<(), HandlerError> {
        let (member_name, addresses) = match notice.audience {
            Audience::Admins => (None, self.config.admins.clone()),
            Audience::Member(member) => match store::contacts(txn, member).await? {
                Some((name, emails)) => (Some(name), emails),
                None => {
                    tracing::info!(member = %member, subject = %notice.subject, "no contacts known: no e-mail");
                    return Ok(());
                }
            },
        };
        for address in addresses {
            write_one(
                txn,
                &self.config,
                event_id,
                notice,
                member_name.as_deref(),
                address,
            )
            .await?;
        }
        Ok(())
    }
}

async fn write_one<C: ConnectionTrait>(
    db: &C,
    config: &NotifyConfig,
    event_id: Uuid,
    notice: &Notice,
    member_name: Option<&str>,
    address: Email,
) -> Result<(), HandlerError> {
    if !store::settings(db, &address).await?.wants(notice.kind) {
        return Ok(());
    }
    let written = render::write(notice, &config.site_url, member_name);
    let at = now();
    let delivery = Delivery {
        id: Uuid::now_v7(),
        event_id,
        kind: notice.kind,
        recipient: address,
        subject: written.subject,
        text: written.text,
        html: written.html,
        link: written.link,
        state: DeliveryState::Pending,
        attempts: 0,
        last_error: None,
        created_at: at,
        sent_at: None,
        next_attempt_at: at,
    };
    store::insert_delivery(db, &delivery).await?;
    Ok(())
}

async fn contacts(txn: &ConsumerTxn, event: &IncomingEvent) -> Result<(), HandlerError> {
    let e: members::MemberContacts = event.decode().map_err(permanent)?;
    let member = required(&e.member, "members")?;
    let emails: Vec<Email> = e
        .contacts
        .iter()
        .filter_map(|c| crate::domain::parse_address(&c.email).ok())
        .collect();
    store::upsert_contacts(txn, member, &e.display_name, &emails, e.version).await?;
    Ok(())
}

async fn resource(txn: &ConsumerTxn, event: &IncomingEvent) -> Result<(), HandlerError> {
    let e: sharing::ResourceChanged = event.decode().map_err(permanent)?;
    let r = e.resource.unwrap_or_default();
    let id = Uuid::parse_str(&r.id).map_err(permanent)?;
    let owner = required(&r.owner, "members")?;
    store::upsert_resource(txn, id, owner, &r.title, r.version).await?;
    Ok(())
}

async fn programme(txn: &ConsumerTxn, event: &IncomingEvent) -> Result<(), HandlerError> {
    let e: projects::ProgrammeChanged = event.decode().map_err(permanent)?;
    let id = required(&e.programme, "programmes")?;
    store::upsert_programme(txn, id, &e.title, time(&e.occurred_at)).await?;
    Ok(())
}

async fn reservation(
    txn: &ConsumerTxn,
    event: &IncomingEvent,
    verb: &str,
) -> Result<Vec<Notice>, HandlerError> {
    let change = match verb {
        "requested" => ReservationChange::Requested,
        "confirmed" => ReservationChange::Confirmed,
        "declined" => ReservationChange::Declined,
        "cancelled" => ReservationChange::Cancelled,
        "expired" => ReservationChange::Expired,
        _ => return Ok(Vec::new()),
    };
    let e: sharing::ReservationChanged = event.decode().map_err(permanent)?;
    let r = e.reservation.unwrap_or_default();
    let borrower = required(&r.borrower, "members")?;
    let resource = required(&r.resource, "resources")?;
    let facts = ReservationFacts {
        title: store::resource_title(txn, resource).await?,
        borrower: (borrower, store::contacts(txn, borrower).await?.map(|c| c.0)),
        owner: required(&r.owner, "members")?,
        start: time(&r.start_time),
        end: time(&r.end_time),
        reason: e.reason,
        by: id_in(&e.by, "members")?,
    };
    Ok(letters::reservation(change, &facts))
}

async fn claim(
    txn: &ConsumerTxn,
    event: &IncomingEvent,
    verb: &str,
) -> Result<Vec<Notice>, HandlerError> {
    let change = match verb {
        "made" => ClaimChange::Made,
        "cancelled" => ClaimChange::Cancelled,
        "expired" => ClaimChange::Expired,
        _ => return Ok(Vec::new()),
    };
    let e: sharing::ClaimChanged = event.decode().map_err(permanent)?;
    let c = e.claim.unwrap_or_default();
    let claimant = required(&c.claimant, "members")?;
    let resource = required(&c.resource, "resources")?;
    let Some(owner) = id_in(&c.owner, "members")? else {
        return Ok(Vec::new());
    };
    let quantity = c.quantity.unwrap_or_default();
    let unit = match sharing::QuantityUnit::try_from(quantity.unit) {
        Ok(sharing::QuantityUnit::Tonne) => "t",
        Ok(sharing::QuantityUnit::CubicMetre) => "m³",
        Ok(sharing::QuantityUnit::SquareMetre) => "m²",
        _ => "unité(s)",
    };
    let facts = ClaimFacts {
        title: store::resource_title(txn, resource).await?,
        claimant: (claimant, store::contacts(txn, claimant).await?.map(|c| c.0)),
        owner,
        quantity: format!(
            "{}\u{a0}{unit}",
            fabrique_types::fr::number(quantity.amount, 3)
        ),
        by: id_in(&e.by, "members")?,
    };
    Ok(letters::claim(change, &facts))
}

/// A session scheduled or cancelled: the letters to the members expected there.
fn session(event: &IncomingEvent, verb: &str) -> Result<Vec<Notice>, HandlerError> {
    let e: projects::WorkshopChanged = event.decode().map_err(permanent)?;
    let expected = e
        .expected_members
        .iter()
        .map(|m| required(m, "members"))
        .collect::<Result<Vec<_>, _>>()?;
    let facts = SessionFacts {
        workshop: required(&e.workshop, "workshops")?,
        theme: e.theme,
        title: e.session_title,
        start: time(&e.start_time),
        end: time(&e.end_time),
        online: e.online,
        expected,
    };
    Ok(letters::session(verb == "session_scheduled", &facts))
}

async fn application(
    txn: &ConsumerTxn,
    event: &IncomingEvent,
    verb: &str,
) -> Result<Vec<Notice>, HandlerError> {
    let change = match verb {
        "approved" => ApplicationChange::Approved,
        "rejected" => ApplicationChange::Rejected,
        "paid" => ApplicationChange::Paid,
        "completion_requested" => ApplicationChange::ToComplete,
        "cancelled" => ApplicationChange::Cancelled,
        _ => return Ok(Vec::new()),
    };
    let e: projects::ApplicationChanged = event.decode().map_err(permanent)?;
    let programme = required(&e.programme, "programmes")?;
    let title = store::programme_title(txn, programme).await?;
    Ok(letters::application(
        change,
        required(&e.applicant, "members")?,
        title.as_deref(),
        e.aid_cents,
        &e.reason,
    ))
}

/// A replayed dead letter: the delivery is pending again.
async fn retry(txn: &ConsumerTxn, event: &IncomingEvent) -> Result<(), HandlerError> {
    let e: notify::DeliveryGivenUp = event.decode().map_err(permanent)?;
    let id = required(&e.delivery, "deliveries")?;
    if !store::try_again(txn, id, now()).await? {
        tracing::info!(delivery = %e.delivery, "replayed delivery is not failed: nothing to do");
    }
    Ok(())
}
