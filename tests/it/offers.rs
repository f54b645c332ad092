//! Offering a resource through the site, in Chromium, over a seeded `fabrique serve`
//! on the embedded default and on PostgreSQL and NATS: a member fills the form, forgets
//! the title and reads why next to the field with the rest kept, then offers a
//! cost-shared aerial platform at a listed place; its page shows the terms and rules;
//! "Mes ressources" withdraws it with a reason and puts it back. The member's person
//! signs in through the real OpenID provider. The pages pass axe-core.

use fabrique_testkit::browser::Browser;

use crate::bookings::{active_members, landed, make_marie_a_contact_of, site_with_provider};
use crate::seeded_site::shown_text;
use crate::sign_in::sign_in_as;

/// Sets the offer form's fields (`(css, value)`; a radio or a box is checked by its
/// css) and presses its button.
async fn fill_offer(browser: &Browser, values: &[(&str, &str)]) {
    let pairs: Vec<serde_json::Value> = values
        .iter()
        .map(|(css, value)| serde_json::json!([css, value]))
        .collect();
    browser
        .execute(
            "for (const [css, value] of arguments[0]) {
               const field = document.querySelector(css);
               if (field.type === 'radio' || field.type === 'checkbox') field.checked = true;
               else if (field.tagName === 'SELECT' && value === '*first*') field.selectedIndex = 1;
               else field.value = value;
             }",
            vec![serde_json::Value::Array(pairs)],
        )
        .await;
    browser
        .click(&browser.find("form.booking button[type='submit']").await)
        .await;
}

async fn a_member_offers_withdraws_and_restores_a_resource(backend: &[(&str, &str)]) {
    let (site, _provider) = site_with_provider(backend).await;
    let admin = site.admin_token().await;
    let channel = site.channel().await;
    let members = active_members(channel.clone(), &admin, 1).await;
    // The member's person signs in through the OpenID provider.
    make_marie_a_contact_of(channel, &admin, members[0].2.clone()).await;
    let browser = sign_in_as(&site, "marie").await;
    landed(&browser, "/espace").await;
    browser.goto(&site.url("/espace/ressources")).await;
    browser
        .click(
            &browser
                .find("main a[href='/espace/ressources/nouvelle']")
                .await,
        )
        .await;
    landed(&browser, "/espace/ressources/nouvelle").await;
    fill_offer(
        &browser,
        &[
            ("#type", "equipment"),
            ("#description", "Nacelle de 12 m, permis CACES requis."),
            ("#frais", ""),
            ("#prix", "40,50"),
            ("#caution", "300"),
            ("#battement", "60"),
            ("#lieu", "*first*"),
        ],
    )
    .await;
    let problem = shown_text(&browser, "#titre-erreur").await;
    assert_eq!(problem, "Donnez un titre de 1 à 200 caractères.");
    let kept = browser
        .execute(
            "return [document.querySelector('#description').value,
                     document.querySelector('#prix').value,
                     document.querySelector('#frais').checked,
                     document.querySelector('#type').value]",
            Vec::new(),
        )
        .await;
    assert_eq!(
        kept,
        serde_json::json!([
            "Nacelle de 12 m, permis CACES requis.",
            "40,50",
            true,
            "equipment"
        ])
    );
    let violations = browser.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "a refused offer: {violations:?}");
    fill_offer(&browser, &[("#titre", "Nacelle élévatrice")]).await;
    let heading = crate::seeded_site::heading_with(&browser, "Nacelle élévatrice").await;
    assert_eq!(heading, "Nacelle élévatrice");
    let page = shown_text(&browser, "main")
        .await
        .replace(['\u{a0}', '\u{202f}'], " ");
    for shown in [
        "Participation aux frais : 40,50 € par jour",
        "300,00 €",
        "1 h libres entre deux réservations.",
        "les demandes de réservation vous attendent dans Mes réservations",
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }

    browser.goto(&site.url("/espace/ressources")).await;
    let violations = browser.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "/espace/ressources: {violations:?}");
    browser
        .execute(
            "const row = [...document.querySelectorAll('tbody tr')]
                 .find(r => r.textContent.includes('Nacelle élévatrice'));
             row.querySelector(\"input[name='motif']\").value = 'En panne';
             row.querySelector(\"button[value='retirer']\").click();",
            Vec::new(),
        )
        .await;
    landed(&browser, "/espace/ressources?fait=retiree").await;
    let list = shown_text(&browser, "main table").await;
    assert!(
        list.contains("Nacelle élévatrice Équipement Retirée : En panne"),
        "{list}"
    );
    // The seed's own resources are listed too: the one offered here is the nacelle.
    browser
        .execute(
            "[...document.querySelectorAll('tbody tr')]
                 .find(r => r.textContent.includes('Nacelle élévatrice'))
                 .querySelector(\"button[value='remettre']\").click();",
            Vec::new(),
        )
        .await;
    landed(&browser, "/espace/ressources?fait=remise").await;
    let list = shown_text(&browser, "main table").await;
    assert!(
        list.contains("Nacelle élévatrice Équipement Disponible"),
        "{list}"
    );
    browser.quit().await;
}

#[tokio::test]
async fn a_member_offers_withdraws_and_restores_a_resource_on_the_embedded_default() {
    a_member_offers_withdraws_and_restores_a_resource(&[]).await;
}

#[tokio::test]
async fn a_member_offers_withdraws_and_restores_a_resource_on_postgres_and_nats() {
    let postgres = crate::seeded_site::OnPostgres::new().await;
    a_member_offers_withdraws_and_restores_a_resource(&postgres.settings()).await;
}
