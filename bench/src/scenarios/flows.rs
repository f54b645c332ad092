//! A member's work through the site, measured against the gRPC calls behind it in the
//! same run.
//!
//! - Booking a slot: `book-slot` calls `CreateReservation` straight to the sharing
//!   service; `web-book-slot` submits the site's booking form (`POST
//!   /ressources/{id}/reserver`, a signed-in member's session, answered 303 to "Mes
//!   réservations"), which makes that call. Each has resources of its own and every
//!   call a slot no other call takes, so that both measure a booking made, not a
//!   refusal.
//! - Applying and approving: `apply` (in the parent module) calls `CreateApplication`
//!   then `ApproveApplication`; `web-apply-approve` submits the programme page's form
//!   (`POST /programmes/{id}/demander`, the applicant's session, 303 to the new
//!   application's row) and then the funder's agent approves it on "Instruction" (`POST
//!   /espace/instruction`, the funder's session, 303 back).
//!
//! The site is one more `fabrique serve --services web` process; people sign in as a
//! person does, with a one-time link (`fabrique login-link`).

use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, Timelike, Utc};
use fabrique_api::members as mp;
use fabrique_api::projects as pp;
use fabrique_api::sharing as sp;

use super::{Fleet, active_member, authed, once_known, open_programme, tomorrow};
use crate::http::HttpPool;
use crate::load::{self, Outcome};
use crate::{Options, ScenarioReport};

/// Resources each side books, so that concurrent calls spread over rows as people do.
const RESOURCES: u64 = 8;
/// Slots a day of a resource: one hour, then a free one, from 06:00 UTC, so that a slot
/// starts and ends the same day in Paris (the form takes one day), summer or winter.
const SLOTS_A_DAY: u64 = 7;

/// The `i`-th call's resource and slot, from the day of `base` (a midnight, UTC): each
/// call its own.
fn slot(base: DateTime<Utc>, i: u64) -> (usize, DateTime<Utc>, DateTime<Utc>) {
    let resource = (i % RESOURCES) as usize;
    let k = i / RESOURCES;
    let start = base
        + chrono::Duration::days((k / SLOTS_A_DAY) as i64)
        + chrono::Duration::hours(6 + 2 * (k % SLOTS_A_DAY) as i64);
    (resource, start, start + chrono::Duration::hours(1))
}

/// `2026-12-08`, `10:00` and `11:00` in Paris time, as the booking form takes them.
fn form_times(start: DateTime<Utc>, end: DateTime<Utc>) -> (String, String, String) {
    let (from, to) = (
        fabrique_types::fr::in_paris(start),
        fabrique_types::fr::in_paris(end),
    );
    (
        from.date_naive().to_string(),
        format!("{:02}:{:02}", from.hour(), from.minute()),
        format!("{:02}:{:02}", to.hour(), to.minute()),
    )
}

/// `count` equipments offered by `owner`, once the sharing service knows it.
async fn equipments(
    fleet: &Fleet,
    owner: &str,
    label: &str,
    count: u64,
) -> anyhow::Result<Vec<String>> {
    let token = fleet.tokens.member(owner)?;
    let client = fleet.sharing()[0].clone();
    let mut names = Vec::new();
    for r in 0..count {
        let request = || {
            authed(
                sp::CreateResourceRequest {
                    resource: Some(sp::Resource {
                        kind: sp::ResourceKind::Equipment as i32,
                        title: format!("{label} n°{r}"),
                        // Open for the whole run: a slot per call, far ahead.
                        booking_rules: Some(sp::BookingRules {
                            max_advance_days: 3650,
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &token,
            )
        };
        let resource = once_known("offering a resource", || {
            let mut client = client.clone();
            let request = request();
            async move { client.create_resource(request).await }
        })
        .await?;
        names.push(resource.into_inner().name);
    }
    Ok(names)
}

/// The booking scenarios, gRPC first.
pub(super) async fn run(
    options: &Options,
    fleet: &mut Fleet,
    reports: &mut Vec<ScenarioReport>,
) -> anyhow::Result<()> {
    if !options.runs("book-slot") && !options.runs("web-book-slot") {
        return Ok(());
    }
    let owner = active_member(fleet, "Prêteur (réservations)", mp::MemberKind::Association).await?;
    let borrower = active_member(
        fleet,
        "Emprunteur (réservations)",
        mp::MemberKind::Association,
    )
    .await?;
    let base = tomorrow();
    let closed = options.load();
    let c = format!("c={}", options.concurrency);

    if options.runs("book-slot") {
        let resources = Arc::new(equipments(fleet, &owner, "Salle (gRPC)", RESOURCES).await?);
        let token = fleet.tokens.member(&borrower)?;
        let clients = Arc::new(fleet.sharing());
        let mut report = fleet
            .sampled("book-slot", c.clone(), || async move {
                Ok(load::run(closed, move |i| {
                    let mut client = clients[i as usize % clients.len()].clone();
                    let (r, start, end) = slot(base, i);
                    let request = authed(
                        sp::CreateReservationRequest {
                            parent: resources[r].clone(),
                            reservation: Some(sp::Reservation {
                                start_time: Some(fabrique_platform::time::timestamp(start)),
                                end_time: Some(fabrique_platform::time::timestamp(end)),
                                ..Default::default()
                            }),
                            request_id: uuid::Uuid::new_v4().to_string(),
                        },
                        &token,
                    );
                    async move { Outcome::of(client.create_reservation(request).await) }
                })
                .await)
            })
            .await?;
        report.note = Some(format!(
            "CreateReservation with a request id, {RESOURCES} resources, every call its own one-hour slot"
        ));
        reports.push(report);
    }

    if options.runs("web-book-slot") {
        let resources = Arc::new(equipments(fleet, &owner, "Salle (site)", RESOURCES).await?);
        let address = super::pages::start_site(fleet).await?;
        let site = Arc::new(HttpPool::new(address));
        let measured =
            book_through_the_site(fleet, &site, &borrower, resources, base, closed, &c).await;
        if let Some(site) = fleet.processes.remove("web") {
            site.stop().await?;
        }
        let mut report = measured?;
        report.baseline = Some("book-slot".into());
        super::pages::compare_cpu(&mut report, reports.iter().find(|r| r.name == "book-slot"));
        reports.push(report);
    }
    Ok(())
}

/// The application scenario through the site, against `apply` measured before it.
pub(super) async fn run_applications(
    options: &Options,
    fleet: &mut Fleet,
    reports: &mut Vec<ScenarioReport>,
) -> anyhow::Result<()> {
    if !options.runs("web-apply-approve") {
        return Ok(());
    }
    let funder = active_member(fleet, "Département (site)", mp::MemberKind::Departement).await?;
    let applicant = active_member(fleet, "Commune (site)", mp::MemberKind::Association).await?;
    let programme =
        open_programme(fleet, "Solaire Dôme (site)", &fleet.tokens.member(&funder)?).await?;
    // The first application waits for projects to know the applicant; checked only,
    // nothing is stored.
    let client = fleet.projects()[0].clone();
    let token = fleet.tokens.member(&applicant)?;
    once_known("the applicant known to projects", || {
        let mut client = client.clone();
        let request = authed(
            pp::CreateApplicationRequest {
                parent: programme.clone(),
                application: Some(pp::Application {
                    units: 1,
                    purpose: "Vérification".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
                validate_only: true,
            },
            &token,
        );
        async move { client.create_application(request).await }
    })
    .await?;
    let address = super::pages::start_site(fleet).await?;
    let site = Arc::new(HttpPool::new(address));
    let c = format!("c={}", options.concurrency);
    let measured = apply_and_approve_through_the_site(
        fleet,
        &site,
        (&applicant, &funder),
        &programme,
        options.load(),
        &c,
    )
    .await;
    if let Some(site) = fleet.processes.remove("web") {
        site.stop().await?;
    }
    let mut report = measured?;
    report.baseline = Some("apply".into());
    super::pages::compare_cpu(&mut report, reports.iter().find(|r| r.name == "apply"));
    reports.push(report);
    Ok(())
}

/// A session's form headers.
fn same_site(cookie: &str) -> [(&str, &str); 2] {
    [("cookie", cookie), ("sec-fetch-site", "same-origin")]
}

/// The application `POST /programmes/{id}/demander` made, from where it leads:
/// `/espace/demandes?fait=deposee#demande-{id}`.
fn submitted(programme: &str, answer: &crate::http::Answer) -> Result<String, String> {
    if answer.status != 303 {
        return Err(format!("applying: HTTP {}", answer.status));
    }
    answer
        .header("location")
        .and_then(|to| to.split("#demande-").nth(1))
        .map(|id| format!("{programme}/applications/{id}"))
        .ok_or_else(|| "applying: no application in the redirect".to_string())
}

async fn apply_and_approve_through_the_site(
    fleet: &Fleet,
    site: &Arc<HttpPool>,
    (applicant, funder): (&str, &str),
    programme: &str,
    closed: load::Load,
    c: &str,
) -> anyhow::Result<ScenarioReport> {
    let applicant = Arc::new(sign_in(fleet, site, applicant).await?);
    let funder = Arc::new(sign_in(fleet, site, funder).await?);
    let (site, programme) = (site.clone(), Arc::new(programme.to_string()));
    let mut report = fleet
        .sampled("web-apply-approve", c.to_string(), || async move {
            Ok(load::run(closed, move |_| {
                let (site, programme) = (site.clone(), programme.clone());
                let (applicant, funder) = (applicant.clone(), funder.clone());
                async move {
                    let request_id = uuid::Uuid::new_v4().to_string();
                    let apply = [
                        ("csrf", applicant.1.as_str()),
                        ("demande", request_id.as_str()),
                        ("etape", "depot"),
                        ("unites", "1"),
                        ("objet", "Centrale de 9 kWc sur la mairie"),
                        ("projet", ""),
                        ("siret", ""),
                    ];
                    let path = format!("/{programme}/demander");
                    let made = match site
                        .post_form(&path, &same_site(&applicant.0), &apply)
                        .await
                    {
                        Ok(answer) => submitted(&programme, &answer),
                        Err(error) => Err(error),
                    };
                    let application = match made {
                        Ok(application) => application,
                        Err(error) => return Outcome::Error(error),
                    };
                    let approve = [
                        ("csrf", funder.1.as_str()),
                        ("demande", application.as_str()),
                        ("action", "accorder"),
                        ("motif", ""),
                    ];
                    match site
                        .post_form("/espace/instruction", &same_site(&funder.0), &approve)
                        .await
                    {
                        Ok(answer)
                            if answer.status == 303
                                && answer
                                    .header("location")
                                    .is_some_and(|to| to.ends_with("?fait=accordee")) =>
                        {
                            Outcome::Ok
                        }
                        Ok(answer) => Outcome::Error(format!("approving: HTTP {}", answer.status)),
                        Err(error) => Outcome::Error(error),
                    }
                }
            })
            .await)
        })
        .await?;
    report.note = Some(
        "one call = POST /programmes/{id}/demander (the applicant's form, 303 to its new application) + POST /espace/instruction accorder (the funder's agent, 303 back); redirects not followed, HTTP/1.1 keep-alive".into(),
    );
    Ok(report)
}

/// The borrower's person signs in with a one-time link, as `fabrique login-link` gives
/// it; the session's cookie and its forms' secret.
async fn sign_in(fleet: &Fleet, site: &HttpPool, member: &str) -> anyhow::Result<(String, String)> {
    let output = tokio::process::Command::new(&fleet.bin)
        .args(["login-link", "--member", member])
        .env_clear()
        .envs(&fleet.env)
        .output()
        .await
        .context("fabrique login-link")?;
    let link = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let Some(token) = link
        .rsplit("/connexion/lien/")
        .next()
        .filter(|_| output.status.success())
    else {
        bail!(
            "fabrique login-link: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let same_site = [("sec-fetch-site", "same-origin")];
    let signed_in = site
        .post_form("/connexion/lien", &same_site, &[("jeton", token)])
        .await
        .map_err(anyhow::Error::msg)?;
    let cookie = signed_in
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .map(str::to_string)
        .with_context(|| format!("no session after the link ({})", signed_in.status))?;
    let space = site
        .get_with("/espace", &[("cookie", cookie.as_str())])
        .await
        .map_err(anyhow::Error::msg)?;
    let page = String::from_utf8_lossy(&space.body);
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("the member's space has no form")?
        .to_string();
    Ok((cookie, csrf))
}

async fn book_through_the_site(
    fleet: &Fleet,
    site: &Arc<HttpPool>,
    borrower: &str,
    resources: Arc<Vec<String>>,
    base: DateTime<Utc>,
    closed: load::Load,
    c: &str,
) -> anyhow::Result<ScenarioReport> {
    let (cookie, csrf) = sign_in(fleet, site, borrower).await?;
    let paths: Arc<Vec<String>> = Arc::new(
        resources
            .iter()
            .map(|r| {
                format!(
                    "/ressources/{}/reserver",
                    r.trim_start_matches("resources/")
                )
            })
            .collect(),
    );
    let site = site.clone();
    let mut report = fleet
        .sampled("web-book-slot", c.to_string(), || async move {
            Ok(load::run(closed, move |i| {
                let (site, paths, cookie, csrf) =
                    (site.clone(), paths.clone(), cookie.clone(), csrf.clone());
                async move {
                    let (r, start, end) = slot(base, i);
                    let (day, from, to) = form_times(start, end);
                    let request_id = uuid::Uuid::new_v4().to_string();
                    let headers = [
                        ("cookie", cookie.as_str()),
                        ("sec-fetch-site", "same-origin"),
                    ];
                    let fields = [
                        ("csrf", csrf.as_str()),
                        ("demande", request_id.as_str()),
                        ("jour", day.as_str()),
                        ("debut", from.as_str()),
                        ("fin", to.as_str()),
                        ("note", ""),
                    ];
                    match site.post_form(&paths[r], &headers, &fields).await {
                        Ok(answer) if answer.status == 303 => Outcome::Ok,
                        Ok(answer) => Outcome::Error(format!("HTTP {}", answer.status)),
                        Err(error) => Outcome::Error(error),
                    }
                }
            })
            .await)
        })
        .await?;
    report.note = Some(format!(
        "POST /ressources/{{id}}/reserver (a signed-in member's booking form, 303 to \"Mes réservations\"; the redirect not followed) over HTTP/1.1 keep-alive, {RESOURCES} resources, every call its own one-hour slot"
    ));
    Ok(report)
}
