//! A [`Notice`] written for one address: the subject, a plain-text and an HTML body
//! (askama templates, `templates/letter.*`), with full links to the site's page and to
//! the settings page where the kind can be turned off.

use askama::Template;

use crate::domain::{Audience, Notice};
use crate::letters::kind_label;

/// Where people change which e-mails they receive.
pub const SETTINGS_PATH: &str = "/espace/courriels";

/// An e-mail ready to store and send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
    /// The page it links to, in full.
    pub link: String,
}

#[derive(Template)]
#[template(path = "letter.txt")]
struct Text<'a> {
    lines: &'a [String],
    facts: &'a [(String, String)],
    action: &'a str,
    link: &'a str,
    why: &'a str,
    kind: &'a str,
    settings_link: &'a str,
}

#[derive(Template)]
#[template(path = "letter.html")]
struct Html<'a> {
    subject: &'a str,
    lines: &'a [String],
    facts: &'a [(String, String)],
    action: &'a str,
    link: &'a str,
    why: &'a str,
    kind: &'a str,
    settings_link: &'a str,
}

/// `notice` for the site at `site_url` (`https://fabrique.example.org`), sent to a
/// contact of the member `member_name` (or to an admin).
pub fn write(notice: &Notice, site_url: &str, member_name: Option<&str>) -> Written {
    let site = site_url.trim_end_matches('/');
    let link = format!("{site}{}", notice.path);
    let settings_link = format!("{site}{SETTINGS_PATH}");
    let why = match (&notice.audience, member_name) {
        (Audience::Admins, _) => {
            "Vous recevez ce courriel en tant qu’administrateur de l’alliance.".to_string()
        }
        (Audience::Member(_), Some(name)) => {
            format!("Vous recevez ce courriel en tant que contact de {name}.")
        }
        (Audience::Member(_), None) => {
            "Vous recevez ce courriel en tant que contact d’un membre de l’alliance.".to_string()
        }
    };
    let kind = kind_label(notice.kind).to_lowercase();
    let text = Text {
        lines: &notice.lines,
        facts: &notice.facts,
        action: &notice.action,
        link: &link,
        why: &why,
        kind: &kind,
        settings_link: &settings_link,
    }
    .render()
    .expect("the plain-text letter renders");
    let html = Html {
        subject: &notice.subject,
        lines: &notice.lines,
        facts: &notice.facts,
        action: &notice.action,
        link: &link,
        why: &why,
        kind: &kind,
        settings_link: &settings_link,
    }
    .render()
    .expect("the HTML letter renders");
    Written {
        subject: notice.subject.clone(),
        text,
        html,
        link,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Kind;

    #[test]
    fn both_bodies_carry_the_facts_and_the_links_and_html_is_escaped() {
        let notice = Notice {
            audience: Audience::Member(uuid::Uuid::now_v7()),
            kind: Kind::AsOwner,
            subject: "Demande de réservation : <Four>".into(),
            lines: vec!["Ville de Thiers demande à réserver « <Four> ».".into()],
            facts: vec![("Créneau".into(), "mardi 8 décembre 2026".into())],
            action: "Voir mes réservations".into(),
            path: "/espace/reservations".into(),
        };
        let written = write(
            &notice,
            "https://fabrique.example.org/",
            Some("FabLab de Thiers"),
        );
        assert_eq!(
            written.link,
            "https://fabrique.example.org/espace/reservations"
        );
        assert!(written.text.contains("Créneau : mardi 8 décembre 2026"));
        assert!(
            written.text.contains(
                "Voir mes réservations : https://fabrique.example.org/espace/reservations"
            )
        );
        assert!(written.text.contains("« <Four> »"));
        assert!(
            written
                .text
                .contains("https://fabrique.example.org/espace/courriels")
        );
        assert!(written.text.contains("contact de FabLab de Thiers"));
        assert!(
            written.html.contains("« &#60;Four&#62; »")
                || written.html.contains("« &lt;Four&gt; »")
        );
        assert!(
            written
                .html
                .contains("href=\"https://fabrique.example.org/espace/reservations\"")
        );
    }
}
