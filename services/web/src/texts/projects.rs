//! The words of the sections on what allies do together — "Projets", "Achats groupés"
//! and "Ateliers Villes Pairs" — in one language per value of [`ProjectsTexts`]; French
//! in [`FR`].

use fabrique_api::projects::{GroupPurchaseCategory, GroupPurchaseState, ProjectState, Theme};

use crate::fr;

/// The words of the projects', grouped purchases' and workshops' pages.
#[derive(Debug)]
pub struct ProjectsTexts {
    /// The projects' section in the navigation.
    pub projects_nav: &'static str,
    /// The projects' section's title.
    pub projects_title: &'static str,
    /// What the projects' page lists.
    pub projects_intro: &'static str,
    /// The projects' filters' legend.
    pub projects_filters: &'static str,
    /// The theme filter's label.
    pub theme_label: &'static str,
    /// The state filter's label.
    pub state_label: &'static str,
    /// The projects' form button.
    pub show_projects: &'static str,
    /// When no project matches.
    pub no_projects: &'static str,
    /// The next page of projects.
    pub next_projects: &'static str,
    /// Who leads a project.
    pub lead: &'static str,
    /// A project's themes.
    pub themes: &'static str,
    /// Who takes part besides the lead.
    pub participants: &'static str,
    /// The place hosting a project.
    pub host_place: &'static str,
    /// A project's milestones.
    pub milestones: &'static str,
    /// A milestone column.
    pub milestone: &'static str,
    /// Its due date column.
    pub due: &'static str,
    /// Its progress column.
    pub progress: &'static str,
    /// A milestone reached.
    pub done: &'static str,
    /// A milestone ahead.
    pub to_do: &'static str,
    /// A milestone without a date.
    pub no_due: &'static str,
    /// Where the projects are, from a project's page.
    pub back_to_projects: &'static str,
    /// The grouped purchases' section, in the navigation and as its title.
    pub purchases_title: &'static str,
    /// What the grouped purchases' page lists.
    pub purchases_intro: &'static str,
    /// The grouped purchases' filters' legend.
    pub purchases_filters: &'static str,
    /// The category filter's label.
    pub category_label: &'static str,
    /// The grouped purchases' form button.
    pub show_purchases: &'static str,
    /// When no grouped purchase matches.
    pub no_purchases: &'static str,
    /// The next page of grouped purchases.
    pub next_purchases: &'static str,
    /// Who coordinates a purchase.
    pub coordinator: &'static str,
    /// A purchase's category.
    pub category: &'static str,
    /// Until when members may join.
    pub deadline: &'static str,
    /// Who won the tender.
    pub supplier: &'static str,
    /// A purchase's lots.
    pub lots: &'static str,
    /// A lot's column.
    pub lot: &'static str,
    /// A lot's total volume column.
    pub total_volume: &'static str,
    /// The row of every lot together.
    pub all_lots: &'static str,
    /// The members taking part.
    pub members_in: &'static str,
    /// When no member has joined.
    pub nobody_yet: &'static str,
    /// The link to an awarded purchase's outcome as a spreadsheet.
    pub outcome_csv: &'static str,
    /// Where the grouped purchases are, from a purchase's page.
    pub back_to_purchases: &'static str,
    /// The workshops' section in the navigation.
    pub workshops_nav: &'static str,
    /// The workshops' section's title.
    pub workshops_title: &'static str,
    /// What the workshops' page lists.
    pub workshops_intro: &'static str,
    /// When there is no workshop.
    pub no_workshops: &'static str,
    /// The next page of workshops.
    pub next_workshops: &'static str,
    /// A workshop's season.
    pub season: &'static str,
    /// The roles every team needs.
    pub required_roles: &'static str,
    /// A workshop's teams.
    pub teams: &'static str,
    /// When no team is formed.
    pub no_teams: &'static str,
    /// A team's members.
    pub team_members: &'static str,
    /// The roles a team lacks.
    pub missing_roles: &'static str,
    /// A team that lacks none.
    pub team_complete: &'static str,
    /// Where the workshops are, from a workshop's page.
    pub back_to_workshops: &'static str,
    /// Who runs a workshop.
    pub co_pilots: &'static str,
    /// A workshop's sessions.
    pub sessions: &'static str,
    /// When no session is scheduled.
    pub no_sessions: &'static str,
    /// Where an online session is held.
    pub online: &'static str,
    /// The link to an online session, for its participants.
    pub join_online: &'static str,
    /// A session for every team.
    pub every_team: &'static str,
    /// Who is expected at a session.
    pub expected: &'static str,
    /// Who came.
    pub attendees: &'static str,
    /// A cancelled session.
    pub session_cancelled: &'static str,
    /// What the sessions produced.
    pub restitutions: &'static str,
    /// When none is published.
    pub no_restitutions: &'static str,
    /// A restitution the season's participants alone read yet.
    pub restitution_unpublished: &'static str,
    /// Its documents.
    pub restitution_links: &'static str,
    /// Forming the member's team: the section's title (`{}`: the member).
    pub form_team_title: &'static str,
    /// What forming a team does.
    pub form_team_intro: &'static str,
    /// The members' legend.
    pub team_candidates: &'static str,
    /// No other active member.
    pub no_candidates: &'static str,
    /// Preview the missing roles.
    pub preview_button: &'static str,
    /// Save the team.
    pub save_team_button: &'static str,
    /// Above the preview's missing roles.
    pub preview_missing: &'static str,
    /// A preview that lacks nothing.
    pub preview_complete: &'static str,
    /// The projects a member takes part in, on its page.
    pub projects_of_member: &'static str,
    /// Taking part: the section's title.
    pub join_title: &'static str,
    /// What taking part does.
    pub join_intro: &'static str,
    /// A site's name.
    pub site_label: &'static str,
    /// A site's lot.
    pub lot_label: &'static str,
    /// A site's volume (`{}`: the unit).
    pub volume_label: &'static str,
    /// A site row's legend (`{}`: its number).
    pub site_legend: &'static str,
    /// A row refused.
    pub site_problem: &'static str,
    /// The join button.
    pub join_button: &'static str,
    /// The button when already taking part.
    pub update_button: &'static str,
    /// Leaving.
    pub leave_button: &'static str,
    /// In place of the form for a visitor.
    pub sign_in_to_join: &'static str,
    /// The sign-in link's text.
    pub sign_in_link: &'static str,
    /// Joining is over.
    pub joining_over: &'static str,
    /// The coordinator's section's title.
    pub coordinate_title: &'static str,
    /// A column: the member.
    pub participant: &'static str,
    /// A column: its sites.
    pub sites: &'static str,
    /// Closing.
    pub close_button: &'static str,
    /// The supplier's label.
    pub supplier_label: &'static str,
    /// Awarding.
    pub award_button: &'static str,
    /// The awarded price's label for a lot (`{}`: the lot).
    pub price_label: &'static str,
    /// The reference price's label for a lot.
    pub reference_label: &'static str,
    /// The supplier's SIRET's label.
    pub supplier_siret_label: &'static str,
    /// When a lot's prices are missing or not amounts.
    pub prices_required: &'static str,
    /// A column: the awarded price.
    pub awarded_price: &'static str,
    /// A column: the estimated yearly saving.
    pub yearly_saving: &'static str,
    /// The group's estimated yearly saving.
    pub group_saving: &'static str,
    /// After joining or changing one's sites.
    pub joined_done: &'static str,
    /// After leaving.
    pub left_done: &'static str,
    /// After closing.
    pub closed_done: &'static str,
    /// After awarding.
    pub awarded_done: &'static str,
}

/// The sections in French.
pub const FR: ProjectsTexts = ProjectsTexts {
    projects_nav: "Projets",
    projects_title: "Projets de l'alliance",
    projects_intro: "Ce que les membres de l'alliance mènent ensemble : rénovation, énergie, \
                     mobilité, réemploi, alimentation… Les projets en cours et terminés.",
    projects_filters: "Filtrer les projets",
    theme_label: "Thème",
    state_label: "État",
    show_projects: "Afficher les projets",
    no_projects: "Aucun projet ne correspond à ces critères.",
    next_projects: "Projets suivants",
    lead: "Porteur",
    themes: "Thèmes",
    participants: "Partenaires",
    host_place: "Lieu d'accueil",
    milestones: "Jalons",
    milestone: "Jalon",
    due: "Échéance",
    progress: "Avancement",
    done: "atteint",
    to_do: "à venir",
    no_due: "sans date",
    back_to_projects: "Tous les projets",
    purchases_title: "Achats groupés",
    purchases_intro: "Gaz, électricité, isolation, photovoltaïque : les membres de l'alliance \
                      achètent ensemble pour peser davantage. Les volumes sont les totaux \
                      estimés par lot.",
    purchases_filters: "Filtrer les achats groupés",
    category_label: "Catégorie",
    show_purchases: "Afficher les achats groupés",
    no_purchases: "Aucun achat groupé ne correspond à ces critères.",
    next_purchases: "Achats groupés suivants",
    coordinator: "Coordination",
    category: "Catégorie",
    deadline: "Adhésions jusqu'au",
    supplier: "Titulaire",
    lots: "Lots",
    lot: "Lot",
    total_volume: "Volume total estimé",
    all_lots: "Tous les lots",
    members_in: "Membres participants",
    nobody_yet: "Aucun membre n'a encore rejoint cet achat.",
    outcome_csv: "Télécharger le résultat (tableur CSV)",
    back_to_purchases: "Tous les achats groupés",
    workshops_nav: "Ateliers",
    workshops_title: "Ateliers Villes Pairs",
    workshops_intro: "Des équipes de collectivités et d'entreprises travaillent un thème \
                      ensemble. Chaque équipe réunit les rôles demandés : élus, commande \
                      publique, techniciens, entreprises.",
    no_workshops: "Aucun atelier pour le moment.",
    next_workshops: "Ateliers suivants",
    season: "Saison",
    required_roles: "Rôles demandés dans chaque équipe",
    teams: "Équipes",
    no_teams: "Aucune équipe formée pour le moment.",
    team_members: "Membres de l'équipe",
    missing_roles: "Rôles manquants",
    team_complete: "Équipe complète : tous les rôles demandés sont tenus.",
    back_to_workshops: "Tous les ateliers",
    co_pilots: "Co-pilotage",
    sessions: "Séances",
    no_sessions: "Aucune séance n'est encore prévue.",
    online: "En ligne",
    join_online: "Rejoindre la séance en ligne",
    every_team: "Toutes les équipes",
    expected: "Attendus",
    attendees: "Présents",
    session_cancelled: "Séance annulée",
    restitutions: "Restitutions",
    no_restitutions: "Aucune restitution publiée pour l'instant.",
    restitution_unpublished: "Non publiée : lue par les participants de la saison seulement.",
    restitution_links: "Documents",
    form_team_title: "Former l'équipe de {}",
    form_team_intro: "Cochez les structures dont les contacts rejoignent votre équipe : \
                      leurs rôles s'ajoutent à ceux de vos propres contacts. « Voir les \
                      rôles manquants » calcule ce qui manque sans rien enregistrer.",
    team_candidates: "Structures de l'équipe (avec les rôles de leurs contacts)",
    no_candidates: "Aucune autre structure active pour le moment.",
    preview_button: "Voir les rôles manquants",
    save_team_button: "Enregistrer l'équipe",
    preview_missing: "Avec ces structures, il manquerait",
    preview_complete: "Avec ces structures, l'équipe serait complète.",
    projects_of_member: "Projets",
    join_title: "Participer à l'achat",
    join_intro: "Indiquez chaque site concerné, son lot et son volume estimé. Un nouvel \
                 envoi remplace les sites donnés avant ; laissez une ligne vide pour ne rien \
                 ajouter.",
    site_label: "Site",
    lot_label: "Lot",
    volume_label: "Volume estimé ({})",
    site_legend: "Site {}",
    site_problem: "Nommez le site et indiquez un volume positif.",
    join_button: "Participer avec ces sites",
    update_button: "Enregistrer mes sites",
    leave_button: "Quitter l'achat groupé",
    sign_in_to_join: "Pour participer au nom de votre structure,",
    sign_in_link: "connectez-vous",
    joining_over: "Les inscriptions sont closes.",
    coordinate_title: "Coordination",
    participant: "Membre",
    sites: "Sites",
    close_button: "Clore les inscriptions",
    supplier_label: "Fournisseur retenu",
    award_button: "Attribuer le marché",
    price_label: "Prix attribué, {} (€ HT par unité)",
    reference_label: "Prix de référence, {} (€ HT par unité)",
    supplier_siret_label: "SIRET du fournisseur (facultatif)",
    prices_required: "Indiquez, pour chaque lot, le prix attribué et le prix de référence \
                      qu'il remplace, en euros par unité.",
    awarded_price: "Prix attribué (référence)",
    yearly_saving: "Économie estimée",
    group_saving: "Économie estimée du groupe (par an pour le gaz et l'électricité, sur les \
                   travaux pour les travaux)",
    joined_done: "Vos sites sont enregistrés : ils comptent dans les totaux par lot.",
    left_done: "Votre structure ne participe plus à cet achat.",
    closed_done: "Les inscriptions sont closes.",
    awarded_done: "Le marché est attribué.",
};

impl ProjectsTexts {
    /// Why the projects service refused a team, in French.
    pub fn team_refusal(&self, refused: &super::forms::Refused) -> Option<String> {
        Some(match refused.reason.as_str() {
            "MEMBER_NOT_ACTIVE" => "Une des structures cochées n'est pas (ou plus) membre \
                                    active de l'alliance : décochez-la."
                .into(),
            "NOT_A_MEMBER" => "Choisissez d'abord la structure que vous représentez.".into(),
            _ => return None,
        })
    }

    /// Why the projects service refused taking part or coordinating, in French.
    pub fn purchase_refusal(&self, refused: &super::forms::Refused) -> Option<String> {
        Some(match refused.reason.as_str() {
            "PURCHASE_CLOSED" => "Cet achat groupé n'est plus ouvert aux inscriptions.".into(),
            "DEADLINE_PASSED" => "La date limite d'inscription est passée.".into(),
            "NOT_JOINED" => "Votre structure ne participe pas à cet achat.".into(),
            "PURCHASE_STATE" => {
                "Cet achat groupé n'en est pas à cette étape : voici son état actuel.".into()
            }
            "MEMBER_NOT_ACTIVE" => {
                "Votre structure n'est pas (ou plus) membre active de l'alliance.".into()
            }
            "NOT_A_MEMBER" => "Choisissez d'abord la structure que vous représentez.".into(),
            _ => return None,
        })
    }

    /// What a theme is called.
    pub fn theme(&self, theme: Theme) -> &'static str {
        match theme {
            Theme::Unspecified | Theme::Other => "Autre",
            Theme::Energy => "Énergie",
            Theme::Mobility => "Mobilité",
            Theme::CircularEconomy => "Économie circulaire",
            Theme::Housing => "Habitat",
            Theme::Food => "Alimentation",
            Theme::Biodiversity => "Biodiversité",
            Theme::Participation => "Participation citoyenne",
            Theme::PublicProcurement => "Commande publique",
        }
    }

    /// Where a project is in its life.
    pub fn project_state(&self, state: ProjectState) -> &'static str {
        match state {
            ProjectState::Unspecified => "Projet",
            ProjectState::Proposed => "Proposé",
            ProjectState::Active => "En cours",
            ProjectState::Completed => "Terminé",
            ProjectState::Abandoned => "Abandonné",
        }
    }

    /// What a grouped purchase buys.
    pub fn category_name(&self, category: GroupPurchaseCategory) -> &'static str {
        match category {
            GroupPurchaseCategory::Unspecified | GroupPurchaseCategory::Other => "Autre",
            GroupPurchaseCategory::Gas => "Gaz",
            GroupPurchaseCategory::Electricity => "Électricité",
            GroupPurchaseCategory::Insulation => "Isolation",
            GroupPurchaseCategory::Photovoltaics => "Photovoltaïque",
        }
    }

    /// The kind of site a lot covers; empty for a lot of every kind.
    pub fn site_category(&self, category: i32) -> &'static str {
        use fabrique_api::projects::SiteCategory as C;
        match C::try_from(category).unwrap_or(C::Unspecified) {
            C::Unspecified => "",
            C::School => "écoles",
            C::TownHall => "mairies et bâtiments administratifs",
            C::SportsFacility => "équipements sportifs",
            C::CulturalFacility => "équipements culturels",
            C::SocialFacility => "équipements sociaux",
            C::TechnicalFacility => "locaux techniques",
            C::StreetLighting => "éclairage public",
            C::Other => "autres sites",
        }
    }

    /// Where a grouped purchase is.
    pub fn purchase_state(&self, state: GroupPurchaseState) -> &'static str {
        match state {
            GroupPurchaseState::Unspecified => "Achat groupé",
            GroupPurchaseState::Open => "Ouvert aux adhésions",
            GroupPurchaseState::Closed => "Adhésions closes, attribution en cours",
            GroupPurchaseState::Awarded => "Attribué",
        }
    }

    /// A contact role as the members service writes it (`elected_official`).
    pub fn role(&self, code: &str) -> &'static str {
        match code {
            "elected_official" => "Élu ou élue",
            "procurement_officer" => "Responsable de la commande publique",
            "transition_technician" => "Technicien ou technicienne de la transition",
            "roads_technician" => "Technicien ou technicienne de la voirie",
            "company_representative" => "Représentant ou représentante d'une entreprise",
            _ => "Autre rôle",
        }
    }

    /// A peer group: `Groupe de pairs : Technicien ou technicienne de la voirie`.
    pub fn peer_group(&self, role: &str) -> String {
        format!("Groupe de pairs : {}", self.role(role))
    }

    /// Which session a restitution came out of: `Séance « Visite » du 18 novembre 2026`.
    pub fn from_session(&self, title: &str, day: &str) -> String {
        format!("Séance « {title} » du {day}")
    }

    /// A team's heading: `Équipe de Commune de Thiers`.
    pub fn team_of(&self, lead: &str) -> String {
        if lead.is_empty() {
            "Équipe".to_string()
        } else {
            format!("Équipe de {lead}")
        }
    }

    /// How many projects a list shows.
    pub fn projects_count(&self, count: usize) -> String {
        match count {
            0 | 1 => format!("{count} projet"),
            n => format!("{} projets", fr::integer(n as i64)),
        }
    }

    /// How many grouped purchases a list shows.
    pub fn purchases_count(&self, count: usize) -> String {
        match count {
            0 | 1 => format!("{count} achat groupé"),
            n => format!("{} achats groupés", fr::integer(n as i64)),
        }
    }

    /// How many teams a workshop has: `Aucune équipe`, `1 équipe`, `3 équipes`.
    pub fn teams_count(&self, count: usize) -> String {
        match count {
            0 => "Aucune équipe".to_string(),
            1 => "1 équipe".to_string(),
            n => format!("{} équipes", fr::integer(n as i64)),
        }
    }

    /// A volume in a purchase's unit: `1 250,5 MWh`.
    pub fn volume(&self, amount: f64, unit: &str) -> String {
        format!("{}{}{unit}", fr::number(amount, 3), fr::BEFORE_UNIT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_theme_state_and_category_is_named() {
        for value in 0..=i32::MAX {
            let Ok(theme) = Theme::try_from(value) else {
                break;
            };
            assert!(!FR.theme(theme).is_empty(), "{theme:?}");
        }
        for value in 0..=i32::MAX {
            let Ok(category) = GroupPurchaseCategory::try_from(value) else {
                break;
            };
            assert!(!FR.category_name(category).is_empty(), "{category:?}");
        }
        assert_eq!(
            FR.role("procurement_officer"),
            "Responsable de la commande publique"
        );
        assert_eq!(FR.role("inconnu"), "Autre rôle");
        assert_eq!(
            FR.team_of("Commune de Thiers"),
            "Équipe de Commune de Thiers"
        );
        assert_eq!(FR.teams_count(0), "Aucune équipe");
        assert_eq!(FR.purchases_count(2), "2 achats groupés");
        assert_eq!(
            FR.volume(1250.5, "MWh")
                .replace(['\u{A0}', '\u{202F}'], " "),
            "1 250,5 MWh"
        );
    }
}
