//! The Villes Pairs season 3 workshop as it runs: co-piloted by Loos-en-Gohelle and
//! ATEMIS, two teams (the Département with In Sun We Trust, Thiers Dore et Montagne), a
//! first session for every team at the road materials reuse platform with who came and
//! the restitution the Département's team wrote (published), and a second session, online,
//! for the peer group of roads technicians. Each step only if not done, so that the seed
//! runs again.

use std::collections::HashMap;

use super::{acting, request_id};
use chrono::{DateTime, TimeZone, Utc};
use fabrique_members::domain::Member;
use fabrique_platform::auth::Caller;
use fabrique_projects::app::Projects;
use fabrique_projects::domain::{
    Expected, RestitutionDraft, SessionDraft, VILLES_PAIRS_ROLES, Venue, WorkshopDraft,
};

/// An instant given in UTC (Paris is UTC+1 in winter: 08:30 UTC is 09:30 in Paris).
fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> anyhow::Result<DateTime<Utc>> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("seed date {y}-{m}-{d} is not a date"))
}

/// Seeds the workshop, its teams, sessions, attendance and restitution. Over 60 lines:
/// it is the season's story, step by step.
pub(super) async fn seed(
    projects: &Projects,
    admin: &Caller,
    members: &HashMap<String, Member>,
    places: &[fabrique_replicas::places::ReplicaPlace],
) -> anyhow::Result<()> {
    let id = |name: &str| acting(members, name).map(|c| c.member_id.unwrap_or_default());
    let acting = |name: &str| acting(members, name);
    let workshop = projects
        .create_workshop(
            admin,
            WorkshopDraft {
                theme: "Quelle route pour demain ? Quel modèle de sobriété pour la construction"
                    .into(),
                season: Some(
                    "Villes Pairs, saison 3 : les dimensions du modèle économique durable \
                     émergeant, l'achat public"
                        .into(),
                ),
                required_roles: VILLES_PAIRS_ROLES.iter().map(|r| r.to_string()).collect(),
                co_pilots: vec![id("Loos-en-Gohelle")?, id("ATEMIS")?],
            },
            Some(request_id("workshop:Villes Pairs saison 3")),
        )
        .await?;
    projects
        .set_team(
            &acting("Département du Puy-de-Dôme")?,
            workshop.id,
            vec![id("In Sun We Trust")?],
        )
        .await?;
    projects
        .set_team(&acting("Thiers Dore et Montagne")?, workshop.id, Vec::new())
        .await?;
    let loos = acting("Loos-en-Gohelle")?;
    let platform = places
        .iter()
        .find(|p| p.display_name == "Plateforme de réemploi des matériaux routiers (exemple)")
        .map(|p| p.id)
        .ok_or_else(|| anyhow::anyhow!("seed place of the reuse platform missing"))?;
    let visit = projects
        .schedule_session(
            &loos,
            workshop.id,
            SessionDraft {
                title: "Lancement de la saison : visite de la plateforme de réemploi".into(),
                start: utc(2026, 11, 18, 8, 30)?,
                end: utc(2026, 11, 18, 15, 30)?,
                venue: Venue::Place(platform),
                expected: Expected::AllTeams,
            },
            Some(request_id("session:Villes Pairs saison 3:visite")),
        )
        .await?;
    let technicians = projects
        .schedule_session(
            &loos,
            workshop.id,
            SessionDraft {
                title: "Techniciens des routes : le réemploi dans les marchés de travaux".into(),
                start: utc(2027, 1, 21, 13, 0)?,
                end: utc(2027, 1, 21, 15, 0)?,
                venue: Venue::Online(
                    "https://visio.fabrique-des-transitions.fr/villes-pairs-routes".into(),
                ),
                expected: Expected::PeerGroup("roads_technician".into()),
            },
            Some(request_id("session:Villes Pairs saison 3:techniciens")),
        )
        .await?;
    if visit.attendees.is_empty() {
        projects
            .record_attendance(
                &loos,
                workshop.id,
                visit.id,
                vec![
                    id("Département du Puy-de-Dôme")?,
                    id("In Sun We Trust")?,
                    id("Thiers Dore et Montagne")?,
                ],
            )
            .await?;
    }
    let restitution = projects
        .create_restitution(
            &acting("Département du Puy-de-Dôme")?,
            workshop.id,
            RestitutionDraft {
                session: visit.id,
                title: "Ce que la plateforme de réemploi nous a appris".into(),
                text: "Les fraisats stockés sur la plateforme couvriraient les couches de \
                       forme de deux chantiers par an. Pour les réemployer, nos marchés \
                       doivent admettre des matériaux de réemploi et prévoir leur contrôle. \
                       Prochaine étape : rédiger la clause avec les techniciens des routes."
                    .into(),
                links: vec!["https://www.fabrique-des-transitions.fr/villes-pairs".into()],
            },
            Some(request_id("restitution:Villes Pairs saison 3:visite")),
        )
        .await?;
    projects
        .publish_restitution(&loos, workshop.id, restitution.id)
        .await?;
    println!(
        "{}  Villes Pairs : « Quelle route pour demain ? », sessions {} and {}",
        workshop.name(),
        visit.name(),
        technicians.name()
    );
    Ok(())
}
