//! The Département's consultation of its inhabitants, "Quelle route pour demain ?": a
//! process on the Puy-de-Dôme's EPCIs with its four dated steps (the proposals step
//! open, supports with it), three citizens under pseudonyms — verified by the
//! Département, as supports here require — three proposals, their supports (one reaching
//! the threshold, under study), and the citizen conference at the Hôtel du Département
//! with two registered; then Thiers's participatory budget 2027, its vote open, with
//! four items and three ballots. Every creation carries a request id, so that the seed
//! runs again unchanged.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use fabrique_members::domain::Member;
use fabrique_participation::app::Participation;
use fabrique_participation::domain::meeting::{MeetingKind, NewMeeting, Venue};
use fabrique_participation::domain::{
    Action, NewProcess, NewProposal, ProposalState, Step, StepKind,
};
use fabrique_platform::auth::{Caller, Role};
use fabrique_platform::config::DatabaseSettings;
use fabrique_platform::outbox::OutboxSignal;
use fabrique_platform::service::Service;
use fabrique_replicas::places::ReplicaPlace;

use super::{acting, replica_member, request_id};

const COLLECTIVITES: &str = include_str!("puy-de-dome-collectivites.csv");

/// Midnight UTC of a day.
fn day(y: i32, m: u32, d: u32) -> anyhow::Result<DateTime<Utc>> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("seed date {y}-{m}-{d} is not a date"))
}

fn step(
    kind: StepKind,
    title: &str,
    description: &str,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    opens: &[Action],
) -> Step {
    Step {
        kind: kind.as_str().into(),
        title: title.into(),
        description: description.into(),
        start,
        end,
        opens: opens.iter().map(|a| a.as_str().to_string()).collect(),
    }
}

/// A citizen signed in at the OpenID provider as `subject`.
fn citizen(subject: &str) -> Caller {
    Caller {
        subject: subject.into(),
        member_id: None,
        roles: vec![Role::Citizen],
        person: None,
    }
}

/// The consultation, as the Département runs it. Over 60 lines: the process, then its
/// people, proposals, supports and conference, in the order they happen.
pub(super) async fn seed(
    database: &DatabaseSettings,
    members: &HashMap<String, Member>,
    places: &[ReplicaPlace],
) -> anyhow::Result<()> {
    let service = fabrique_participation::ParticipationServiceModule;
    let db = fabrique_platform::db::connect(database, service.name()).await?;
    service.migrate(&db).await?;
    for member in members.values() {
        fabrique_replicas::members::upsert(&db, &replica_member(member)).await?;
    }
    for place in places {
        fabrique_replicas::places::upsert(&db, place).await?;
    }
    let participation = Participation::new(db, OutboxSignal::new());
    let departement = acting(members, "Département du Puy-de-Dôme")?;
    let organiser = departement.member_id.unwrap_or_default();
    let territory = COLLECTIVITES
        .lines()
        .filter_map(|line| line.strip_prefix("epci,"))
        .filter_map(|rest| rest.split(',').nth(2))
        .map(str::to_string)
        .collect();
    let process = participation
        .create_process(
            &departement,
            NewProcess {
                organiser,
                title: "Quelle route pour demain ?".into(),
                description: "Le Département entretient 7 000 km de routes. Comment les \
                    rendre plus sûres, plus sobres en matériaux et plus accueillantes aux \
                    vélos et aux piétons ?\n\nProposez vos idées, soutenez celles des autres, \
                    puis venez en débattre à la conférence citoyenne."
                    .into(),
                territory,
                steps: vec![
                    step(
                        StepKind::Information,
                        "S'informer",
                        "Les routes départementales en chiffres, et ce qui se fait déjà.",
                        (day(2026, 11, 2)?, day(2026, 12, 1)?),
                        &[],
                    ),
                    step(
                        StepKind::Proposals,
                        "Proposer et soutenir",
                        "Chacun propose ; les habitants vérifiés soutiennent jusqu'à cinq idées.",
                        (day(2026, 12, 1)?, day(2027, 2, 1)?),
                        &[Action::Propose, Action::Support, Action::Comment],
                    ),
                    step(
                        StepKind::Deliberation,
                        "Conférence citoyenne",
                        "Un panel d'habitants débat des propositions les plus soutenues.",
                        (day(2027, 2, 1)?, day(2027, 4, 1)?),
                        &[Action::Support, Action::Comment],
                    ),
                    step(
                        StepKind::Results,
                        "Réponses du Département",
                        "Le Département répond à chaque proposition.",
                        (day(2027, 4, 1)?, day(2027, 5, 1)?),
                        &[],
                    ),
                ],
                verified_only: true,
                support_limit: 5,
                support_threshold: 3,
                report_threshold: 3,
                themes: vec![
                    "Sécurité".into(),
                    "Matériaux et réemploi".into(),
                    "Mobilités douces".into(),
                    "Entretien et sobriété".into(),
                ],
            },
            Some(request_id("process:Quelle route pour demain")),
        )
        .await?;
    let process = participation
        .activate_step(&departement, process.id, 2, None)
        .await?;
    println!(
        "{}  Quelle route pour demain ?",
        fabrique_participation::domain::process_name(process.id)
    );

    let people = [
        ("seed|camille", "Camille63"),
        ("seed|dominique", "Dominique de Thiers"),
        ("seed|eli", "Éli, Ambert"),
    ];
    let mut citizens = Vec::new();
    for (subject, pseudonym) in people {
        let caller = citizen(subject);
        let participant = participation.register(&caller, pseudonym.into()).await?;
        participation
            .verify(&departement, participant.id, organiser)
            .await?;
        citizens.push(caller);
    }
    let ideas = [
        (
            0,
            "Des bandes cyclables protégées entre les bourgs",
            "Entre Thiers et Peschadoires, la route est trop dangereuse à vélo. Une bande \
             protégée sur les accotements permettrait aux collégiens d'y aller seuls.",
            "Mobilités douces",
        ),
        (
            1,
            "Réemployer les fraisats dans les chantiers du Département",
            "La plateforme de réemploi stocke des fraisats qui pourraient servir aux couches \
             de forme. Les marchés de travaux devraient l'autoriser.",
            "Matériaux et réemploi",
        ),
        (
            2,
            "Faucher plus tard les bords de routes",
            "Un fauchage tardif laisse fleurir les talus, abrite les insectes et coûte moins \
             cher. Seuls les virages et carrefours seraient fauchés tôt pour la visibilité.",
            "Entretien et sobriété",
        ),
    ];
    let mut proposals = Vec::new();
    for (author, title, body, theme) in ideas {
        let view = participation
            .create_proposal(
                &citizens[author],
                process.id,
                NewProposal {
                    title: title.into(),
                    body: body.into(),
                    theme: Some(theme.into()),
                    place: None,
                    location: None,
                },
                Some(request_id(&format!("proposal:{title}"))),
            )
            .await?;
        proposals.push(view.proposal);
    }
    // Everyone supports the reuse of road materials (the threshold of three); Camille the
    // mowing too.
    for caller in &citizens {
        participation
            .support(caller, process.id, proposals[1].id)
            .await?;
    }
    participation
        .support(&citizens[0], process.id, proposals[2].id)
        .await?;
    let reuse = participation
        .get_proposal(None, process.id, proposals[1].id)
        .await?;
    if reuse.proposal.state == ProposalState::Published {
        participation
            .answer_proposal(
                &departement,
                process.id,
                proposals[1].id,
                ProposalState::Evaluating,
                Some(
                    "Les services des routes étudient la clause de réemploi avec l'atelier \
                     Villes Pairs ; réponse à la fin de la conférence citoyenne."
                        .into(),
                ),
                None,
            )
            .await?;
    }

    let hall = places
        .iter()
        .find(|p| p.display_name == "Salle des assemblées de l'Hôtel du Département (exemple)")
        .map(|p| p.id)
        .ok_or_else(|| anyhow::anyhow!("seed place of the conference missing"))?;
    let conference = participation
        .create_meeting(
            &departement,
            process.id,
            NewMeeting {
                kind: MeetingKind::CitizenConference,
                title: "Conférence citoyenne « Quelle route pour demain ? »".into(),
                description: "Vingt-cinq habitants tirés au sort débattent des propositions \
                    les plus soutenues, avec les services des routes. Séance ouverte au \
                    public dans la limite des places."
                    .into(),
                // 9 h – 17 h in Paris (UTC+1 in winter).
                start: day(2027, 2, 6)? + chrono::Duration::hours(8),
                end: day(2027, 2, 6)? + chrono::Duration::hours(16),
                venue: Venue::Place(hall),
                seats: 60,
            },
            Some(request_id("meeting:conférence citoyenne")),
        )
        .await?;
    for caller in &citizens[..2] {
        participation
            .register_for_meeting(caller, process.id, conference.id)
            .await?;
    }
    println!("{}  conférence citoyenne", conference.name());
    budget(&participation, members, &citizens).await
}

/// Thiers's participatory budget 2027: 20,000 €, proposals collected in the autumn, the
/// vote open, four items and three ballots. Over 60 lines: the process, its proposals,
/// the budget and its ballots, in the order they happen.
async fn budget(
    participation: &Participation,
    members: &HashMap<String, Member>,
    citizens: &[Caller],
) -> anyhow::Result<()> {
    use fabrique_participation::domain::budget::BudgetState;
    let thiers = acting(members, "Thiers")?;
    let process = participation
        .create_process(
            &thiers,
            NewProcess {
                organiser: thiers.member_id.unwrap_or_default(),
                title: "Budget participatif de Thiers 2027".into(),
                description: "20 000 € pour des projets proposés et choisis par les \
                    habitants. Chacun vote pour les projets de son choix, pour au moins \
                    70 % de l'enveloppe."
                    .into(),
                territory: vec!["63430".into()],
                steps: vec![
                    step(
                        StepKind::Proposals,
                        "Proposer",
                        "Les habitants déposent leurs projets.",
                        (day(2026, 10, 1)?, day(2026, 12, 1)?),
                        &[Action::Propose, Action::Comment],
                    ),
                    step(
                        StepKind::Vote,
                        "Voter",
                        "Chacun choisit ses projets, dans l'enveloppe.",
                        (day(2026, 12, 1)?, day(2027, 1, 15)?),
                        &[Action::Vote],
                    ),
                    step(
                        StepKind::Results,
                        "Résultats",
                        "Les projets retenus sont réalisés en 2027.",
                        (day(2027, 1, 15)?, day(2027, 12, 31)?),
                        &[],
                    ),
                ],
                verified_only: false,
                support_limit: 0,
                support_threshold: 0,
                report_threshold: 3,
                themes: Vec::new(),
            },
            Some(request_id("process:Budget participatif de Thiers 2027")),
        )
        .await?;
    let process = match process.active_step {
        0 => {
            participation
                .activate_step(&thiers, process.id, 1, None)
                .await?
        }
        _ => process,
    };
    let ideas = [
        ("Un jardin partagé au quartier du Moutier", 8_000),
        ("Des bancs et de l'ombre rue de la Coutellerie", 5_500),
        ("Une boîte à livres devant la médiathèque", 1_500),
        ("Des arceaux à vélos près de la gare", 4_000),
    ];
    let mut proposals = Vec::new();
    for (index, (title, _)) in ideas.iter().enumerate() {
        let view = participation
            .create_proposal(
                &citizens[index % citizens.len()],
                process.id,
                NewProposal {
                    title: (*title).into(),
                    body: format!("{title} : un projet pour tous les habitants de Thiers."),
                    theme: None,
                    place: None,
                    location: None,
                },
                Some(request_id(&format!("proposal:{title}"))),
            )
            .await?;
        proposals.push(view.proposal.id);
    }
    let budget = participation
        .create_budget(
            &thiers,
            process.id,
            (
                "Budget 2027".into(),
                "Les projets retenus sont réalisés par les services de la ville.".into(),
                20_000 * 100,
                fabrique_participation::domain::budget::DEFAULT_MINIMUM_BASIS_POINTS,
            ),
            Some(request_id("budget:Thiers 2027")),
        )
        .await?;
    if budget.items.is_empty() && budget.state == BudgetState::Open {
        for (proposal, (_, euros)) in proposals.iter().zip(ideas) {
            participation
                .add_budget_item(&thiers, (process.id, budget.id), *proposal, euros * 100)
                .await?;
        }
    }
    let process = participation
        .activate_step(&thiers, process.id, 2, None)
        .await?;
    let budget = participation.get_budget(process.id, budget.id).await?;
    let item = |i: usize| budget.items[i].id;
    let ballots = [
        vec![item(0), item(1), item(2)],
        vec![item(0), item(3), item(2), item(1)],
        vec![item(1), item(3), item(2), item(0)],
    ];
    for (caller, ballot) in citizens.iter().zip(ballots) {
        if participation
            .get_ballot(caller, (process.id, budget.id))
            .await
            .is_err()
        {
            participation
                .cast_ballot(caller, (process.id, budget.id), ballot)
                .await?;
        }
    }
    println!("{}  budget participatif de Thiers", budget.name());
    Ok(())
}
