//! Booking a resource's slot through the site, in Chromium, over a seeded `fabrique
//! serve` — on the embedded default and on PostgreSQL + NATS: two members press
//! "Demander ce créneau" for the same slot from two browsers at once; one holds it, the
//! other reads in French which reservation is in the way, keeps what it typed, and
//! books one of the nearest free slots the page proposes. A form sent twice makes one
//! reservation. The owner confirms one request and declines the other; a borrower
//! cancels. One borrower signs in through the real OpenID provider, the others with
//! one-time links. The pages pass axe-core.

use std::time::Duration;

use chrono::Utc;
use fabrique_api::members as mp;
use fabrique_api::sharing::{self as sp, sharing_service_client::SharingServiceClient};
use fabrique_testkit::browser::Browser;
use fabrique_testkit::oidc::OidcProvider;
use fabrique_testkit::{authed, eventually, free_port};
use tonic::transport::Channel;

use crate::seeded_site::{SeededSite, arrived, shown_text};
use crate::sign_in::{CLIENT_ID, account, sign_in_as};

/// The seeded site with an OpenID provider knowing `marie`, on the embedded default
/// or on `backend` settings (PostgreSQL + NATS).
pub async fn site_with_provider(backend: &[(&str, &str)]) -> (SeededSite, OidcProvider) {
    let address = format!("127.0.0.1:{}", free_port());
    let client_secret = uuid::Uuid::new_v4().simple().to_string();
    let provider = OidcProvider::start(
        CLIENT_ID,
        &client_secret,
        &format!("http://{address}/connexion/retour"),
        &[account(
            "marie",
            "marie.martin@thiers.example.fr",
            true,
            &[],
        )],
    )
    .await;
    let mut settings = vec![
        ("FABRIQUE_WEB_OIDC_ISSUER", provider.issuer.as_str()),
        ("FABRIQUE_WEB_OIDC_CLIENT_ID", CLIENT_ID),
        ("FABRIQUE_WEB_OIDC_CLIENT_SECRET", client_secret.as_str()),
        ("FABRIQUE_WEB_OIDC_NAME", "le compte de l'alliance"),
    ];
    settings.extend_from_slice(backend);
    let site = SeededSite::launch(&settings, Some(address)).await;
    (site, provider)
}

/// A browser signed in with a one-time link acting for `member`.
pub async fn signed_in_for(site: &SeededSite, member: &str) -> Browser {
    let browser = Browser::start().await;
    browser
        .goto(&site.login_link(&["--member", member]).await)
        .await;
    browser.click(&browser.find("main form button").await).await;
    arrived(&browser, "/espace").await;
    browser
}

/// Adds Marie, whom the provider knows, to `member`'s contact people: signing in
/// through the provider, she acts for it.
pub async fn make_marie_a_contact_of(channel: Channel, admin: &str, mut member: mp::Member) {
    member.contacts.push(mp::Contact {
        full_name: "Marie Martin".into(),
        role: mp::ContactRole::TransitionTechnician as i32,
        email: "marie.martin@thiers.example.fr".into(),
        title: "Chargée de mission transition".into(),
    });
    mp::members_service_client::MembersServiceClient::new(channel)
        .update_member(authed(
            mp::UpdateMemberRequest {
                member: Some(member),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["contacts".into()],
                }),
            },
            admin,
        ))
        .await
        .expect("a contact for Marie");
}

/// The `n` first active members of the seed, as `members/{id}`, with their names.
pub async fn active_members(
    channel: Channel,
    admin: &str,
    n: usize,
) -> Vec<(String, String, mp::Member)> {
    let mut members = mp::members_service_client::MembersServiceClient::new(channel);
    let found = members
        .list_members(authed(
            mp::ListMembersRequest {
                page_size: 50,
                states: vec![mp::MemberState::Active as i32],
                ..Default::default()
            },
            admin,
        ))
        .await
        .expect("members")
        .into_inner()
        .members;
    assert!(
        found.len() >= n,
        "the seed has {} active members",
        found.len()
    );
    found
        .into_iter()
        .take(n)
        .map(|m| (m.name.clone(), m.display_name.clone(), m))
        .collect()
}

/// Whether the booking sent from `browser` holds the slot (it lands on the member's
/// reservations) or was refused (the form again, with the refusal).
async fn booked(browser: &Browser) -> bool {
    eventually("an answer", Duration::from_secs(15), || async {
        let url = browser.url().await;
        if url.ends_with("/espace/reservations?fait=demande") {
            Some(true)
        } else if url.ends_with("/reserver") && browser.find_all("#refus").await.len() == 1 {
            Some(false)
        } else {
            None
        }
    })
    .await
}

/// Waits until `browser` is on a page whose URL ends with `end`; fails with the page it
/// is on instead, and what that page says.
pub async fn landed(browser: &Browser, end: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !browser.url().await.ends_with(end) {
        if tokio::time::Instant::now() > deadline {
            let main = browser.find_all("main").await;
            let text = match main.first() {
                Some(main) => browser.text(main).await,
                None => String::new(),
            };
            panic!("not on …{end} but on {}:\n{text}", browser.url().await);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Presses `action` (`confirmer`, `refuser`, `annuler`) on the reservation of the
/// section `section` whose slot reads `slot`, after typing `reason` next to it.
async fn press(browser: &Browser, section: &str, slot: &str, action: &str, reason: &str) {
    let pressed = browser
        .execute(
            "const [section, slot, action, reason] = arguments;
             for (const row of document.querySelectorAll(`section[aria-labelledby='${section}'] tbody tr`)) {
               if (!row.textContent.replace(/\\u00a0/g, ' ').includes(slot)) continue;
               const button = row.querySelector(`button[value='${action}']`);
               const motif = button.form.querySelector(\"input[name='motif']\");
               if (motif) motif.value = reason;
               button.click();
               return true;
             }
             return false;",
            vec![section.into(), slot.into(), action.into(), reason.into()],
        )
        .await;
    assert_eq!(pressed, true, "no request for {slot} to {action}");
}

/// Opens the resource's page on a slot (as a proposed slot's link does).
fn slot_url(site: &SeededSite, resource: &str, day: &str, from: &str, to: &str) -> String {
    site.url(&format!(
        "/ressources/{resource}?jour={day}&debut={from}&fin={to}#reserver"
    ))
}

async fn two_members_race_for_one_slot(backend: &[(&str, &str)]) {
    let (site, _provider) = site_with_provider(backend).await;
    let admin = site.admin_token().await;
    let channel = site.channel().await;
    let members = active_members(channel.clone(), &admin, 3).await;
    let [(owner, owner_name, _), (_, _, with_marie), (other, _, _)] =
        <[_; 3]>::try_from(members).unwrap_or_else(|_| unreachable!("three were asked"));

    // Marie is a contact of the second member: the provider's e-mail makes her act for it.
    make_marie_a_contact_of(channel.clone(), &admin, with_marie).await;

    // The owner offers a chipper: 30 minutes kept free after each reservation.
    let sharing = SharingServiceClient::new(channel.clone());
    let resource = eventually(
        "the sharing service to know the owner",
        Duration::from_secs(30),
        || {
            let (mut sharing, owner, admin) = (sharing.clone(), owner.clone(), admin.clone());
            async move {
                sharing
                    .create_resource(authed(
                        sp::CreateResourceRequest {
                            resource: Some(sp::Resource {
                                owner,
                                kind: sp::ResourceKind::Equipment as i32,
                                title: "Broyeur de végétaux".into(),
                                booking_rules: Some(sp::BookingRules {
                                    turnaround_minutes: 30,
                                    max_duration_hours: 8,
                                    max_advance_days: 60,
                                    answer_within_hours: 0,
                                }),
                                ..Default::default()
                            }),
                            request_id: String::new(),
                        },
                        &admin,
                    ))
                    .await
                    .ok()
                    .map(|r| r.into_inner().name)
            }
        },
    )
    .await;
    let id = resource.trim_start_matches("resources/").to_string();

    // A visitor is asked to sign in to book.
    let visitor = Browser::start().await;
    visitor.goto(&site.url(&format!("/ressources/{id}"))).await;
    let section = shown_text(&visitor, "#reserver").await;
    assert!(section.contains("connectez-vous"), "{section}");
    visitor.quit().await;

    let marie = sign_in_as(&site, "marie").await;
    let other_browser = signed_in_for(&site, &other).await;
    // In three days, 10:00 to 12:00 Paris time.
    let day = fabrique_web::fr::in_paris(Utc::now()).date_naive() + chrono::Duration::days(3);
    let day_text = day.format("%Y-%m-%d").to_string();
    // An end before the start is told next to the end, before anything is sent.
    marie
        .goto(&slot_url(&site, &id, &day_text, "12:00", "10:00"))
        .await;
    marie.click(&marie.find("form.booking button").await).await;
    let wrong = shown_text(&marie, "#fin-erreur").await;
    assert_eq!(wrong, "La fin doit venir après le début.");
    for browser in [&marie, &other_browser] {
        browser
            .goto(&slot_url(&site, &id, &day_text, "10:00", "12:00"))
            .await;
        let note = browser.find("#note").await;
        browser.type_into(&note, "Pour l'élagage du bourg").await;
    }
    let (marie_button, other_button) = (
        marie.find("form.booking button").await,
        other_browser.find("form.booking button").await,
    );
    tokio::join!(
        marie.click(&marie_button),
        other_browser.click(&other_button)
    );
    let (marie_won, other_won) = tokio::join!(booked(&marie), booked(&other_browser));
    assert!(marie_won ^ other_won, "one and only one holds the slot");
    let (winner, loser) = if marie_won {
        (&marie, &other_browser)
    } else {
        (&other_browser, &marie)
    };
    let done = shown_text(winner, ".done").await;
    assert!(done.contains("Votre demande est envoyée"), "{done}");

    // The loser reads which reservation is in the way, and the nearest free slots.
    let refusal = shown_text(loser, "#refus").await.replace('\u{a0}', " ");
    let weekday_date = fabrique_web::fr::weekday_date(day);
    assert!(
        refusal.contains(&format!(
            "Ce créneau n'est plus libre : il chevauche une réservation le {weekday_date}, 10 h – 12 h (plus 30 min de battement après chaque réservation)."
        )),
        "{refusal}"
    );
    assert!(
        refusal.contains(&format!("{weekday_date}, 12 h 30 – 14 h 30")),
        "the next free slot of the same length: {refusal}"
    );
    // Nothing typed is lost.
    let kept = loser
        .execute("return document.querySelector('#note').value", Vec::new())
        .await;
    assert_eq!(kept, "Pour l'élagage du bourg");
    let violations = loser.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "a refused booking: {violations:?}");
    crate::seeded_site::for_the_guides(loser, "creneau-refuse", "main").await;
    // It takes the first proposal.
    let proposal = loser.find("#refus .proposals a").await;
    loser.click(&proposal).await;
    eventually(
        "the proposed slot in the form",
        Duration::from_secs(10),
        || async {
            let from = loser.attribute(&loser.find("#debut").await, "value").await;
            (from.as_deref() == Some("12:30")).then_some(())
        },
    )
    .await;
    loser.click(&loser.find("form.booking button").await).await;
    landed(loser, "/espace/reservations?fait=demande").await;

    // A form sent twice (a double click, a resent page) makes one reservation.
    winner
        .goto(&slot_url(&site, &id, &day_text, "16:00", "17:00"))
        .await;
    winner.find("form.booking").await;
    winner
        .execute(
            "const form = document.querySelector('form.booking');
             const body = new URLSearchParams(new FormData(form));
             fetch(form.action, {method: 'POST', body, credentials: 'same-origin'});
             form.submit();",
            Vec::new(),
        )
        .await;
    landed(winner, "/espace/reservations?fait=demande").await;
    let held = |state: sp::ReservationState| {
        let (mut sharing, admin, resource) = (sharing.clone(), admin.clone(), resource.clone());
        async move {
            sharing
                .list_reservations(authed(
                    sp::ListReservationsRequest {
                        parent: resource,
                        page_size: 50,
                        states: vec![state as i32],
                        ..Default::default()
                    },
                    &admin,
                ))
                .await
                .expect("reservations")
                .into_inner()
                .reservations
        }
    };
    let requested = eventually(
        "both submissions answered",
        Duration::from_secs(10),
        || async {
            let requested = held(sp::ReservationState::Requested).await;
            (requested.len() >= 3).then_some(requested)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        held(sp::ReservationState::Requested).await.len(),
        3,
        "10–12, 12:30–14:30 and one 16–17 however many times it was sent: {requested:?}"
    );

    // The owner confirms the winner's request and declines the loser's with a reason.
    let owner_browser = signed_in_for(&site, &owner).await;
    owner_browser.goto(&site.url("/espace/reservations")).await;
    let page = shown_text(&owner_browser, "main").await;
    assert!(page.contains("Demandes à traiter"), "{page}");
    assert!(page.contains("Broyeur de végétaux"), "{page}");
    let violations = owner_browser.serious_accessibility_violations().await;
    assert!(
        violations.is_empty(),
        "/espace/reservations: {violations:?}"
    );
    crate::seeded_site::for_the_guides(&owner_browser, "reservations", "main").await;
    press(&owner_browser, "a-traiter", "10 h – 12 h", "confirmer", "").await;
    arrived(&owner_browser, "/espace/reservations?fait=confirmee").await;
    assert!(
        shown_text(&owner_browser, ".done")
            .await
            .contains("La réservation est confirmée")
    );
    press(
        &owner_browser,
        "a-traiter",
        "12 h 30 – 14 h 30",
        "refuser",
        "Le broyeur part en révision",
    )
    .await;
    arrived(&owner_browser, "/espace/reservations?fait=refusee").await;
    let after = shown_text(&owner_browser, "section[aria-labelledby='mes-ressources']").await;
    assert!(after.contains("Confirmée"), "{after}");
    assert_eq!(held(sp::ReservationState::Confirmed).await.len(), 1);
    let declined = held(sp::ReservationState::Declined).await;
    assert_eq!(declined.len(), 1);
    assert_eq!(declined[0].state_reason, "Le broyeur part en révision");

    // The loser reads why; the winner cancels the hour it still holds.
    loser.goto(&site.url("/espace/reservations")).await;
    let mine = shown_text(loser, "section[aria-labelledby='mes-reservations']")
        .await
        .replace('\u{a0}', " ");
    assert!(
        mine.contains("12 h 30 – 14 h 30 Refusée : Le broyeur part en révision"),
        "{mine}"
    );
    assert!(
        !mine.contains(&owner_name),
        "a borrower sees no borrower column"
    );
    winner.goto(&site.url("/espace/reservations")).await;
    let cancel = winner
        .find_all("section[aria-labelledby='mes-reservations'] button[value='annuler']")
        .await;
    assert_eq!(cancel.len(), 2, "10–12 confirmed and 16–17 requested");
    press(
        winner,
        "mes-reservations",
        "16 h – 17 h",
        "annuler",
        "Plus besoin",
    )
    .await;
    arrived(winner, "/espace/reservations?fait=annulee").await;
    let cancelled = held(sp::ReservationState::Cancelled).await;
    assert_eq!(cancelled.len(), 1);
    assert!(
        cancelled[0].start_time.as_ref().map(|t| t.seconds)
            > declined[0].start_time.as_ref().map(|t| t.seconds)
            && cancelled[0].state_reason == "Plus besoin",
        "the 16–17 one, with its reason: {cancelled:?}"
    );
    for browser in [marie, other_browser, owner_browser] {
        browser.quit().await;
    }
}

#[tokio::test]
async fn two_members_race_for_one_slot_on_the_embedded_default() {
    two_members_race_for_one_slot(&[]).await;
}

#[tokio::test]
async fn two_members_race_for_one_slot_on_postgres_and_nats() {
    let postgres = crate::seeded_site::OnPostgres::new().await;
    two_members_race_for_one_slot(&postgres.settings()).await;
}

/// On the material's page at `page`, asks for `quantity`, taking what is left when `less`.
async fn claim(browser: &Browser, page: &str, quantity: &str, less: bool) {
    browser.goto(page).await;
    browser
        .execute(
            "const [quantity, less] = arguments;
             document.querySelector('#quantite').value = quantity;
             document.querySelector('#moins').checked = less;",
            vec![quantity.into(), less.into()],
        )
        .await;
    browser
        .click(&browser.find("#prelever form.booking button").await)
        .await;
}

/// Materials go by quantity: a member claims 30 t of 40; another asks 12,5 t, reads
/// that only 10 t are left, ticks "take what is left" and gets 10 t; the owner hands
/// the first over and cancels the second, whose 10 t return to the stock.
async fn materials_are_claimed_by_quantity(backend: &[(&str, &str)]) {
    let (site, _provider) = site_with_provider(backend).await;
    let admin = site.admin_token().await;
    let channel = site.channel().await;
    let members = active_members(channel.clone(), &admin, 3).await;
    let [(owner, _, _), (first, _, _), (second, second_name, _)] =
        <[_; 3]>::try_from(members).unwrap_or_else(|_| unreachable!("three were asked"));
    let sharing = SharingServiceClient::new(channel.clone());
    let resource = eventually(
        "the sharing service to know the owner",
        Duration::from_secs(30),
        || {
            let (mut sharing, owner, admin) = (sharing.clone(), owner.clone(), admin.clone());
            async move {
                sharing
                    .create_resource(authed(
                        sp::CreateResourceRequest {
                            resource: Some(sp::Resource {
                                owner,
                                kind: sp::ResourceKind::Material as i32,
                                title: "Enrobés rabotés".into(),
                                quantity: Some(sp::Quantity {
                                    amount: 40.0,
                                    unit: sp::QuantityUnit::Tonne as i32,
                                }),
                                ..Default::default()
                            }),
                            request_id: String::new(),
                        },
                        &admin,
                    ))
                    .await
                    .ok()
                    .map(|r| r.into_inner().name)
            }
        },
    )
    .await;
    let page = site.url(&format!(
        "/ressources/{}",
        resource.trim_start_matches("resources/")
    ));
    let first_browser = signed_in_for(&site, &first).await;
    claim(&first_browser, &page, "30", false).await;
    landed(&first_browser, "/espace/reservations?fait=prelevee").await;
    let mine = shown_text(&first_browser, "section[aria-labelledby='mes-materiaux']")
        .await
        .replace('\u{a0}', " ");
    assert!(mine.contains("Enrobés rabotés 30 t Mise de côté"), "{mine}");

    let second_browser = signed_in_for(&site, &second).await;
    claim(&second_browser, &page, "12,5", false).await;
    let refusal = shown_text(&second_browser, "#refus")
        .await
        .replace('\u{a0}', " ");
    assert!(
        refusal.contains("Il n'en reste que 10 t : demandez moins, ou cochez"),
        "{refusal}"
    );
    let kept = second_browser
        .execute(
            "return document.querySelector('#quantite').value",
            Vec::new(),
        )
        .await;
    assert_eq!(kept, "12,5", "what was typed is kept");
    let stock = shown_text(&second_browser, "main")
        .await
        .replace('\u{a0}', " ");
    assert!(stock.contains("Reste 10 t sur 40 t"), "{stock}");
    let violations = second_browser.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "a refused claim: {violations:?}");
    claim(&second_browser, &page, "12,5", true).await;
    landed(&second_browser, "/espace/reservations?fait=prelevee").await;
    let mine = shown_text(&second_browser, "section[aria-labelledby='mes-materiaux']")
        .await
        .replace('\u{a0}', " ");
    assert!(mine.contains("Enrobés rabotés 10 t Mise de côté"), "{mine}");
    second_browser.goto(&page).await;
    assert!(
        shown_text(&second_browser, "#prelever")
            .await
            .contains("Il n'en reste plus.")
    );

    let owner_browser = signed_in_for(&site, &owner).await;
    owner_browser.goto(&site.url("/espace/reservations")).await;
    let violations = owner_browser.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "claims to hand over: {violations:?}");
    press(&owner_browser, "materiaux-demandes", "30 t", "remettre", "").await;
    landed(&owner_browser, "/espace/reservations?fait=remise").await;
    let handed = shown_text(
        &owner_browser,
        "section[aria-labelledby='materiaux-demandes']",
    )
    .await
    .replace('\u{a0}', " ");
    assert!(handed.contains("30 t"), "{handed}");
    assert!(
        handed.contains(&format!("{second_name} Mise de côté")),
        "{handed}"
    );
    press(
        &owner_browser,
        "materiaux-demandes",
        "10 t",
        "annuler-prelevement",
        "",
    )
    .await;
    landed(
        &owner_browser,
        "/espace/reservations?fait=prelevement-annule",
    )
    .await;
    owner_browser.goto(&page).await;
    let stock = shown_text(&owner_browser, "main")
        .await
        .replace('\u{a0}', " ");
    assert!(stock.contains("Reste 10 t sur 40 t"), "{stock}");
    for browser in [first_browser, second_browser, owner_browser] {
        browser.quit().await;
    }
}

#[tokio::test]
async fn materials_are_claimed_by_quantity_on_the_embedded_default() {
    materials_are_claimed_by_quantity(&[]).await;
}

#[tokio::test]
async fn materials_are_claimed_by_quantity_on_postgres_and_nats() {
    let postgres = crate::seeded_site::OnPostgres::new().await;
    materials_are_claimed_by_quantity(&postgres.settings()).await;
}
