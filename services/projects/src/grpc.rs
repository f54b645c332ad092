//! The gRPC edge of the projects service: `fabrique.projects.v1.ProjectsService`.
//! Converts protobuf to domain types (every invalid field reported with its path), calls
//! the use case, converts back.

use std::collections::BTreeSet;

use fabrique_api::projects as proto;
use fabrique_api::projects::projects_service_server::ProjectsService;
use fabrique_platform::auth;
use fabrique_platform::page;
use fabrique_platform::request::{self, optional};
use fabrique_platform::time::{from_timestamp, timestamp};
use fabrique_platform::{Error, Violations};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::app::{
    ApplicationDraft, DEFAULT_PAGE_SIZE, GroupPurchaseDraft, MAX_PAGE_SIZE, ProgrammeDraft,
    ProjectDraft, ProjectPatch, Projects,
};
use crate::domain::{
    Application, ApplicationState, Category, CoFunder, FundingLine, GroupPurchase,
    GroupPurchaseState, Invalid, Lot, Milestone, Participant, Programme, ProgrammeState, Project,
    ProjectState, Site, Theme, VILLES_PAIRS_ROLES, Workshop, bounded_text, member_name, name,
    parse, parse_application_name, parse_lot_code, parse_role, parse_volume,
};

pub struct ProjectsGrpc {
    projects: Projects,
}

impl ProjectsGrpc {
    pub fn new(projects: Projects) -> Self {
        Self { projects }
    }
}

// ---------------------------------------------------------------------------
// Enumerations: the proto names are the domain texts, upper-cased and prefixed.
// ---------------------------------------------------------------------------

macro_rules! enum_mapping {
    ($to:ident, $from:ident, $domain:ty, $proto:ty, $label:literal) => {
        pub fn $to(value: $domain) -> $proto {
            <$domain>::ALL
                .iter()
                .position(|v| *v == value)
                .and_then(|i| <$proto>::try_from(i as i32 + 1).ok())
                .unwrap_or_default()
        }

        fn $from(value: i32) -> Result<$domain, Invalid> {
            usize::try_from(value - 1)
                .ok()
                .and_then(|i| <$domain>::ALL.get(i).copied())
                .ok_or_else(|| Invalid::new(format!(concat!("unknown ", $label, " {}"), value)))
        }
    };
}

enum_mapping!(
    theme_to_proto,
    theme_from_proto,
    Theme,
    proto::Theme,
    "theme"
);
enum_mapping!(
    project_state_to_proto,
    project_state_from_proto,
    ProjectState,
    proto::ProjectState,
    "project state"
);
enum_mapping!(
    programme_state_to_proto,
    programme_state_from_proto,
    ProgrammeState,
    proto::ProgrammeState,
    "programme state"
);
enum_mapping!(
    application_state_to_proto,
    application_state_from_proto,
    ApplicationState,
    proto::ApplicationState,
    "application state"
);
enum_mapping!(
    category_to_proto,
    category_from_proto,
    Category,
    proto::GroupPurchaseCategory,
    "category"
);
enum_mapping!(
    purchase_state_to_proto,
    purchase_state_from_proto,
    GroupPurchaseState,
    proto::GroupPurchaseState,
    "purchase state"
);

// ---------------------------------------------------------------------------
// Messages out
// ---------------------------------------------------------------------------

fn date_timestamp(date: chrono::NaiveDate) -> prost_types::Timestamp {
    timestamp(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

fn project_to_proto(p: &Project) -> proto::Project {
    proto::Project {
        name: p.name(),
        title: p.title.clone(),
        summary: p.summary.clone().unwrap_or_default(),
        themes: p.themes.iter().map(|t| theme_to_proto(*t) as i32).collect(),
        lead: member_name(p.lead),
        participants: p
            .participants
            .iter()
            .map(|x| proto::Participant {
                member: member_name(x.member),
                role: x.role.clone(),
            })
            .collect(),
        host_place: p
            .host_place
            .map(|id| name("places", id))
            .unwrap_or_default(),
        milestones: p
            .milestones
            .iter()
            .map(|m| proto::Milestone {
                title: m.title.clone(),
                due: m.due.map(date_timestamp),
                done: m.done,
            })
            .collect(),
        state: project_state_to_proto(p.state) as i32,
        create_time: Some(timestamp(p.created_at)),
        update_time: Some(timestamp(p.updated_at)),
        etag: fabrique_types::change::etag_of(p.version),
    }
}

fn programme_to_proto(p: &Programme) -> proto::Programme {
    proto::Programme {
        name: p.name(),
        title: p.title.clone(),
        description: p.description.clone().unwrap_or_default(),
        funder: member_name(p.funder),
        funder_siret: p.funder_siret.clone().unwrap_or_default(),
        envelope_cents: p.envelope_cents,
        aid_per_unit_cents: p.aid_per_unit_cents,
        unit_label: p.unit_label.clone(),
        max_units_per_application: p.max_units_per_application.unwrap_or_default() as i32,
        eligible_kinds: p.eligible_kinds.clone(),
        max_awards_per_member: p.max_awards_per_member.unwrap_or_default() as i32,
        co_funders: p
            .co_funders
            .iter()
            .map(|c| proto::CoFunder {
                member: member_name(c.member),
                share_basis_points: c.share_basis_points.unwrap_or_default() as i32,
                cents_per_unit: c.cents_per_unit.unwrap_or_default(),
                note: c.note.clone().unwrap_or_default(),
            })
            .collect(),
        opens_at: p.opens_at.map(timestamp),
        closes_at: p.closes_at.map(timestamp),
        state: programme_state_to_proto(p.state) as i32,
        committed_cents: p.committed_cents,
        paid_cents: p.paid_cents,
        remaining_cents: p.remaining_cents(),
        create_time: Some(timestamp(p.created_at)),
    }
}

pub fn funding_lines(lines: &[FundingLine]) -> Vec<proto::FundingLine> {
    lines
        .iter()
        .map(|l| proto::FundingLine {
            funder: member_name(l.funder),
            amount_cents: l.amount_cents,
            note: l.note.clone().unwrap_or_default(),
        })
        .collect()
}

fn application_to_proto(a: &Application) -> proto::Application {
    proto::Application {
        name: a.name(),
        applicant: member_name(a.applicant),
        project: a.project.map(|p| name("projects", p)).unwrap_or_default(),
        units: a.units as i32,
        purpose: a.purpose.clone(),
        beneficiary_siret: a.beneficiary_siret.clone().unwrap_or_default(),
        aid_cents: a.aid_cents,
        breakdown: funding_lines(&a.breakdown),
        state: application_state_to_proto(a.state) as i32,
        state_reason: a.state_reason.clone().unwrap_or_default(),
        create_time: Some(timestamp(a.created_at)),
        decision_time: a.decided_at.map(timestamp),
    }
}

pub fn lots_to_proto(g: &GroupPurchase) -> Vec<proto::Lot> {
    let totals = g.totals();
    g.lots
        .iter()
        .map(|l| proto::Lot {
            code: l.code.clone(),
            title: l.title.clone(),
            total_volume: totals.get(&l.code).copied().unwrap_or_default() as f64 / 1000.0,
        })
        .collect()
}

fn group_purchase_to_proto(g: &GroupPurchase) -> proto::GroupPurchase {
    proto::GroupPurchase {
        name: g.name(),
        title: g.title.clone(),
        coordinator: member_name(g.coordinator),
        category: category_to_proto(g.category) as i32,
        unit: g.unit.clone(),
        lots: lots_to_proto(g),
        deadline: Some(timestamp(g.deadline)),
        state: purchase_state_to_proto(g.state) as i32,
        participations: g
            .participations
            .iter()
            .map(|(member, sites)| proto::Participation {
                member: member_name(*member),
                sites: sites
                    .iter()
                    .map(|s| proto::Site {
                        name: s.name.clone(),
                        lot: s.lot.clone(),
                        volume: s.volume_milli as f64 / 1000.0,
                    })
                    .collect(),
            })
            .collect(),
        supplier: g.supplier.clone().unwrap_or_default(),
        create_time: Some(timestamp(g.created_at)),
    }
}

fn workshop_to_proto(w: &Workshop) -> proto::Workshop {
    proto::Workshop {
        name: w.name(),
        theme: w.theme.clone(),
        season: w.season.clone().unwrap_or_default(),
        required_roles: w.required_roles.clone(),
        teams: w
            .teams
            .iter()
            .map(|(lead, members)| proto::Team {
                lead: member_name(*lead),
                members: members.iter().map(|m| member_name(*m)).collect(),
            })
            .collect(),
        create_time: Some(timestamp(w.created_at)),
    }
}

// ---------------------------------------------------------------------------
// Messages in
// ---------------------------------------------------------------------------

fn opt_member(value: &str) -> Result<Option<Uuid>, Invalid> {
    optional(value, |v| parse("members", v))
}

fn time(
    v: &mut Violations,
    field: &str,
    t: Option<&prost_types::Timestamp>,
) -> Option<Option<chrono::DateTime<chrono::Utc>>> {
    match t {
        None => Some(None),
        Some(t) => match from_timestamp(t) {
            Some(at) => Some(Some(at)),
            None => {
                v.add(field, "is not a valid time");
                None
            }
        },
    }
}

fn parse_themes(v: &mut Violations, field: &str, themes: &[i32]) -> Option<BTreeSet<Theme>> {
    let mut parsed = BTreeSet::new();
    let mut ok = true;
    for (i, t) in themes.iter().enumerate() {
        match v.check(&format!("{field}[{i}]"), theme_from_proto(*t)) {
            Some(theme) => {
                parsed.insert(theme);
            }
            None => ok = false,
        }
    }
    ok.then_some(parsed)
}

fn parse_participants(
    v: &mut Violations,
    field: &str,
    participants: &[proto::Participant],
) -> Option<Vec<Participant>> {
    if participants.len() > 100 {
        v.add(field, "at most 100");
        return None;
    }
    let mut parsed = Vec::new();
    for (i, p) in participants.iter().enumerate() {
        let member = v.check(&format!("{field}[{i}].member"), parse("members", &p.member));
        let role = v.check(&format!("{field}[{i}].role"), bounded_text(&p.role, 1, 100));
        if let (Some(member), Some(role)) = (member, role) {
            parsed.push(Participant { member, role });
        }
    }
    (parsed.len() == participants.len()).then_some(parsed)
}

fn parse_milestones(
    v: &mut Violations,
    field: &str,
    milestones: &[proto::Milestone],
) -> Option<Vec<Milestone>> {
    if milestones.len() > 100 {
        v.add(field, "at most 100");
        return None;
    }
    let mut parsed = Vec::new();
    for (i, m) in milestones.iter().enumerate() {
        let title = v.check(
            &format!("{field}[{i}].title"),
            bounded_text(&m.title, 1, 200),
        );
        let due = time(v, &format!("{field}[{i}].due"), m.due.as_ref());
        if let (Some(title), Some(due)) = (title, due) {
            parsed.push(Milestone {
                title,
                due: due.map(|d| d.date_naive()),
                done: m.done,
            });
        }
    }
    (parsed.len() == milestones.len()).then_some(parsed)
}

const PROJECT_FIELDS: &[&str] = &[
    "title",
    "summary",
    "themes",
    "participants",
    "host_place",
    "milestones",
];

fn parse_project_fields(p: &proto::Project, fields: &[&str], v: &mut Violations) -> ProjectPatch {
    let mut patch = ProjectPatch::default();
    for &field in fields {
        let path = format!("project.{field}");
        match field {
            "title" => patch.title = v.check(&path, bounded_text(&p.title, 1, 200)),
            "summary" => {
                patch.summary = v.check(
                    &path,
                    fabrique_types::text::optional_multiline(&p.summary, 5000),
                )
            }
            "themes" => patch.themes = parse_themes(v, &path, &p.themes),
            "participants" => patch.participants = parse_participants(v, &path, &p.participants),
            "host_place" => {
                patch.host_place = v.check(&path, optional(&p.host_place, |x| parse("places", x)))
            }
            "milestones" => patch.milestones = parse_milestones(v, &path, &p.milestones),
            "name" | "lead" | "state" | "create_time" | "update_time" | "etag" => {
                v.add("update_mask", format!("{field} cannot be updated"))
            }
            other => v.add("update_mask", format!("unknown field {other:?}")),
        }
    }
    patch
}

fn parse_co_funders(v: &mut Violations, co_funders: &[proto::CoFunder]) -> Option<Vec<CoFunder>> {
    let mut parsed = Vec::new();
    for (i, c) in co_funders.iter().enumerate() {
        let at = |f: &str| format!("programme.co_funders[{i}].{f}");
        let member = v.check(&at("member"), parse("members", &c.member));
        let share = match (c.share_basis_points, c.cents_per_unit) {
            (bp, 0) if (1..=100_000).contains(&bp) => Some((Some(bp as u32), None)),
            (0, cents) if cents > 0 => Some((None, Some(cents))),
            _ => {
                v.add(
                    at("share_basis_points"),
                    "give either share_basis_points (1 to 100,000) or cents_per_unit (above 0)",
                );
                None
            }
        };
        let note = v.check(&at("note"), fabrique_types::optional_text(&c.note, 200));
        if let (Some(member), Some((share_basis_points, cents_per_unit)), Some(note)) =
            (member, share, note)
        {
            parsed.push(CoFunder {
                member,
                share_basis_points,
                cents_per_unit,
                note,
            });
        }
    }
    (parsed.len() == co_funders.len()).then_some(parsed)
}

fn parse_programme(p: &proto::Programme) -> Result<ProgrammeDraft, Error> {
    let mut v = Violations::new();
    let funder = v.check("programme.funder", opt_member(&p.funder));
    let funder_siret = v.check(
        "programme.funder_siret",
        optional(&p.funder_siret, |s| {
            fabrique_types::Siret::parse(s).map(|s| s.as_str().to_string())
        }),
    );
    let title = v.check("programme.title", bounded_text(&p.title, 1, 200));
    let description = v.check(
        "programme.description",
        fabrique_types::text::optional_multiline(&p.description, 5000),
    );
    if !(1..=1_000_000_000_000).contains(&p.envelope_cents) {
        v.add(
            "programme.envelope_cents",
            "must be between 1 and 10,000,000,000 euros in cents",
        );
    }
    if !(1..=1_000_000_000_000).contains(&p.aid_per_unit_cents)
        || p.aid_per_unit_cents > p.envelope_cents
    {
        v.add(
            "programme.aid_per_unit_cents",
            "must be above 0 and at most the envelope",
        );
    }
    let unit_label = v.check("programme.unit_label", bounded_text(&p.unit_label, 1, 200));
    if p.max_units_per_application < 0 {
        v.add(
            "programme.max_units_per_application",
            "must not be negative",
        );
    }
    if p.max_awards_per_member < 0 {
        v.add("programme.max_awards_per_member", "must not be negative");
    }
    let mut kinds = Vec::new();
    for (i, kind) in p.eligible_kinds.iter().enumerate() {
        let kind = kind.trim().to_ascii_lowercase();
        if kind.is_empty()
            || kind.len() > 50
            || !kind.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            v.add(
                format!("programme.eligible_kinds[{i}]"),
                "must be a member kind such as commune or epci",
            );
        } else {
            kinds.push(kind);
        }
    }
    let co_funders = parse_co_funders(&mut v, &p.co_funders);
    let opens = time(&mut v, "programme.opens_at", p.opens_at.as_ref());
    let closes = time(&mut v, "programme.closes_at", p.closes_at.as_ref());
    if let (Some(Some(opens)), Some(Some(closes))) = (opens, closes)
        && closes <= opens
    {
        v.add("programme.closes_at", "must be after opens_at");
    }
    v.into_result()?;
    match (
        funder,
        funder_siret,
        title,
        description,
        unit_label,
        co_funders,
        opens,
        closes,
    ) {
        (
            Some(funder),
            Some(funder_siret),
            Some(title),
            Some(description),
            Some(unit_label),
            Some(co_funders),
            Some(opens_at),
            Some(closes_at),
        ) => Ok(ProgrammeDraft {
            funder,
            funder_siret,
            title,
            description,
            envelope_cents: p.envelope_cents,
            aid_per_unit_cents: p.aid_per_unit_cents,
            unit_label,
            max_units_per_application: (p.max_units_per_application > 0)
                .then_some(p.max_units_per_application as u32),
            eligible_kinds: kinds,
            max_awards_per_member: (p.max_awards_per_member > 0)
                .then_some(p.max_awards_per_member as u32),
            co_funders,
            opens_at,
            closes_at,
        }),
        _ => Err(Error::internal(
            "programme parsed without violations but incomplete",
        )),
    }
}

fn parse_sites(sites: &[proto::Site]) -> Result<Vec<Site>, Error> {
    let mut v = Violations::new();
    if sites.is_empty() {
        v.add("sites", "must name at least one site");
    }
    if sites.len() > 500 {
        v.add("sites", "at most 500");
    }
    let mut parsed = Vec::new();
    for (i, s) in sites.iter().enumerate() {
        let name = v.check(&format!("sites[{i}].name"), bounded_text(&s.name, 1, 200));
        let lot = v.check(&format!("sites[{i}].lot"), parse_lot_code(&s.lot));
        let volume = v.check(&format!("sites[{i}].volume"), parse_volume(s.volume));
        if let (Some(name), Some(lot), Some(volume_milli)) = (name, lot, volume) {
            parsed.push(Site {
                name,
                lot,
                volume_milli,
            });
        }
    }
    v.into_result()?;
    Ok(parsed)
}

fn parse_group_purchase(g: &proto::GroupPurchase) -> Result<GroupPurchaseDraft, Error> {
    let mut v = Violations::new();
    let coordinator = v.check("group_purchase.coordinator", opt_member(&g.coordinator));
    let title = v.check("group_purchase.title", bounded_text(&g.title, 1, 200));
    let category = v.check(
        "group_purchase.category",
        if g.category == 0 {
            Err(Invalid::new("must be set"))
        } else {
            category_from_proto(g.category)
        },
    );
    let unit = v.check("group_purchase.unit", bounded_text(&g.unit, 1, 20));
    let mut lots = Vec::new();
    if g.lots.is_empty() || g.lots.len() > 50 {
        v.add("group_purchase.lots", "must list 1 to 50 lots");
    }
    for (i, l) in g.lots.iter().enumerate() {
        let code = v.check(
            &format!("group_purchase.lots[{i}].code"),
            parse_lot_code(&l.code),
        );
        let title = v.check(
            &format!("group_purchase.lots[{i}].title"),
            bounded_text(&l.title, 1, 200),
        );
        if let (Some(code), Some(title)) = (code, title) {
            if lots.iter().any(|x: &Lot| x.code == code) {
                v.add(
                    format!("group_purchase.lots[{i}].code"),
                    format!("{code:?} appears twice"),
                );
            }
            lots.push(Lot { code, title });
        }
    }
    let deadline = match time(&mut v, "group_purchase.deadline", g.deadline.as_ref()) {
        Some(Some(deadline)) => Some(deadline),
        Some(None) => {
            v.add("group_purchase.deadline", "is required");
            None
        }
        None => None,
    };
    v.into_result()?;
    match (coordinator, title, category, unit, deadline) {
        (Some(coordinator), Some(title), Some(category), Some(unit), Some(deadline)) => {
            Ok(GroupPurchaseDraft {
                coordinator,
                title,
                category,
                unit,
                lots,
                deadline,
            })
        }
        _ => Err(Error::internal(
            "group purchase parsed without violations but incomplete",
        )),
    }
}

fn name_of(field: &str, collection: &str, value: &str) -> Result<Uuid, Error> {
    parse(collection, value).map_err(|invalid| Error::invalid(field, invalid.0))
}

fn application_of(field: &str, value: &str) -> Result<(Uuid, Uuid), Error> {
    parse_application_name(value).map_err(|invalid| Error::invalid(field, invalid.0))
}

fn enums<T>(
    field: &str,
    values: &[i32],
    parse: impl Fn(i32) -> Result<T, Invalid>,
) -> Result<Vec<T>, Error> {
    let mut v = Violations::new();
    let mut parsed = Vec::new();
    for (i, value) in values.iter().enumerate() {
        if let Some(state) = v.check(&format!("{field}[{i}]"), parse(*value)) {
            parsed.push(state);
        }
    }
    v.into_result()?;
    Ok(parsed)
}

// ---------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------

#[tonic::async_trait]
impl ProjectsService for ProjectsGrpc {
    async fn create_project(
        &self,
        request: Request<proto::CreateProjectRequest>,
    ) -> Result<Response<proto::Project>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let p = r
            .project
            .as_ref()
            .ok_or_else(|| Error::invalid("project", "is required"))?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let mut v = Violations::new();
        let lead = v.check("project.lead", opt_member(&p.lead));
        let fields = parse_project_fields(p, PROJECT_FIELDS, &mut v);
        v.into_result()?;
        let (
            Some(lead),
            Some(title),
            Some(summary),
            Some(themes),
            Some(participants),
            Some(host_place),
            Some(milestones),
        ) = (
            lead,
            fields.title,
            fields.summary,
            fields.themes,
            fields.participants,
            fields.host_place,
            fields.milestones,
        )
        else {
            return Err(Error::internal("project parsed without violations but incomplete").into());
        };
        let draft = ProjectDraft {
            lead,
            title,
            summary,
            themes,
            participants,
            host_place,
            milestones,
        };
        let project = self
            .projects
            .create_project(&caller, draft, request_id)
            .await?;
        Ok(Response::new(project_to_proto(&project)))
    }

    async fn get_project(
        &self,
        request: Request<proto::GetProjectRequest>,
    ) -> Result<Response<proto::Project>, Status> {
        auth::caller(&request)?;
        let id = name_of("name", "projects", &request.get_ref().name)?;
        Ok(Response::new(project_to_proto(
            &self.projects.get_project(id).await?,
        )))
    }

    async fn list_projects(
        &self,
        request: Request<proto::ListProjectsRequest>,
    ) -> Result<Response<proto::ListProjectsResponse>, Status> {
        auth::caller(&request)?;
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let member = opt_member(&r.member).map_err(|i| Error::invalid("member", i.0))?;
        let states = enums("states", &r.states, project_state_from_proto)?;
        let themes = enums("themes", &r.themes, theme_from_proto)?;
        let page = self
            .projects
            .list_projects(member, states, themes, page_size, &r.page_token)
            .await?;
        Ok(Response::new(proto::ListProjectsResponse {
            projects: page.items.iter().map(project_to_proto).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn update_project(
        &self,
        request: Request<proto::UpdateProjectRequest>,
    ) -> Result<Response<proto::Project>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let p = r
            .project
            .as_ref()
            .ok_or_else(|| Error::invalid("project", "is required"))?;
        let id = name_of("project.name", "projects", &p.name)?;
        let etag = request::etag("project.etag", &p.etag)?.ok_or_else(|| {
            Error::invalid(
                "project.etag",
                "is required: send the etag of the project you read",
            )
        })?;
        let paths: Vec<&str> = match &r.update_mask {
            Some(mask) if !mask.paths.is_empty() => mask.paths.iter().map(String::as_str).collect(),
            _ => {
                return Err(Error::invalid(
                    "update_mask",
                    format!(
                        "must list the fields to change, among {}",
                        PROJECT_FIELDS.join(", ")
                    ),
                )
                .into());
            }
        };
        let paths = if paths == ["*"] {
            PROJECT_FIELDS.to_vec()
        } else {
            paths
        };
        let mut v = Violations::new();
        let patch = parse_project_fields(p, &paths, &mut v);
        v.into_result()?;
        let project = self
            .projects
            .update_project(&caller, id, etag, patch)
            .await?;
        Ok(Response::new(project_to_proto(&project)))
    }

    async fn change_project_state(
        &self,
        request: Request<proto::ChangeProjectStateRequest>,
    ) -> Result<Response<proto::Project>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = name_of("name", "projects", &r.name)?;
        let to = project_state_from_proto(r.state).map_err(|i| Error::invalid("state", i.0))?;
        let etag = request::etag("etag", &r.etag)?;
        let project = self
            .projects
            .change_project_state(&caller, id, to, etag)
            .await?;
        Ok(Response::new(project_to_proto(&project)))
    }

    async fn create_programme(
        &self,
        request: Request<proto::CreateProgrammeRequest>,
    ) -> Result<Response<proto::Programme>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let p = r
            .programme
            .as_ref()
            .ok_or_else(|| Error::invalid("programme", "is required"))?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let draft = parse_programme(p)?;
        let programme = self
            .projects
            .create_programme(&caller, draft, request_id)
            .await?;
        Ok(Response::new(programme_to_proto(&programme)))
    }

    async fn get_programme(
        &self,
        request: Request<proto::GetProgrammeRequest>,
    ) -> Result<Response<proto::Programme>, Status> {
        auth::caller(&request)?;
        let id = name_of("name", "programmes", &request.get_ref().name)?;
        Ok(Response::new(programme_to_proto(
            &self.projects.get_programme(id).await?,
        )))
    }

    async fn list_programmes(
        &self,
        request: Request<proto::ListProgrammesRequest>,
    ) -> Result<Response<proto::ListProgrammesResponse>, Status> {
        auth::caller(&request)?;
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let states = enums("states", &r.states, programme_state_from_proto)?;
        let page = self
            .projects
            .list_programmes(states, page_size, &r.page_token)
            .await?;
        Ok(Response::new(proto::ListProgrammesResponse {
            programmes: page.items.iter().map(programme_to_proto).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn close_programme(
        &self,
        request: Request<proto::CloseProgrammeRequest>,
    ) -> Result<Response<proto::Programme>, Status> {
        let caller = auth::caller(&request)?;
        let id = name_of("name", "programmes", &request.get_ref().name)?;
        Ok(Response::new(programme_to_proto(
            &self.projects.close_programme(&caller, id).await?,
        )))
    }

    async fn create_application(
        &self,
        request: Request<proto::CreateApplicationRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let programme = name_of("parent", "programmes", &r.parent)?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let a = r
            .application
            .as_ref()
            .ok_or_else(|| Error::invalid("application", "is required"))?;
        let mut v = Violations::new();
        if a.units < 1 {
            v.add("application.units", "must be at least 1");
        }
        let project = v.check(
            "application.project",
            optional(&a.project, |p| parse("projects", p)),
        );
        let purpose = v.check("application.purpose", bounded_text(&a.purpose, 1, 500));
        let siret = v.check(
            "application.beneficiary_siret",
            optional(&a.beneficiary_siret, |s| {
                fabrique_types::Siret::parse(s).map(|s| s.as_str().to_string())
            }),
        );
        v.into_result()?;
        let (Some(project), Some(purpose), Some(beneficiary_siret)) = (project, purpose, siret)
        else {
            return Err(
                Error::internal("application parsed without violations but incomplete").into(),
            );
        };
        let draft = ApplicationDraft {
            project,
            units: a.units as u32,
            purpose,
            beneficiary_siret,
        };
        let application = self
            .projects
            .create_application(&caller, programme, draft, request_id)
            .await?;
        Ok(Response::new(application_to_proto(&application)))
    }

    async fn get_application(
        &self,
        request: Request<proto::GetApplicationRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let (programme, id) = application_of("name", &request.get_ref().name)?;
        let (application, _) = self
            .projects
            .get_application(&caller, programme, id)
            .await?;
        Ok(Response::new(application_to_proto(&application)))
    }

    async fn list_applications(
        &self,
        request: Request<proto::ListApplicationsRequest>,
    ) -> Result<Response<proto::ListApplicationsResponse>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let programme = name_of("parent", "programmes", &r.parent)?;
        let applicant = opt_member(&r.applicant).map_err(|i| Error::invalid("applicant", i.0))?;
        let states = enums("states", &r.states, application_state_from_proto)?;
        let page = self
            .projects
            .list_applications(
                &caller,
                programme,
                applicant,
                states,
                page_size,
                &r.page_token,
            )
            .await?;
        Ok(Response::new(proto::ListApplicationsResponse {
            applications: page.items.iter().map(application_to_proto).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn approve_application(
        &self,
        request: Request<proto::ApproveApplicationRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let (programme, id) = application_of("name", &request.get_ref().name)?;
        Ok(Response::new(application_to_proto(
            &self.projects.approve(&caller, programme, id).await?,
        )))
    }

    async fn reject_application(
        &self,
        request: Request<proto::RejectApplicationRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let (programme, id) = application_of("name", &r.name)?;
        let reason = request::reason("reason", &r.reason, true)?.unwrap_or_default();
        Ok(Response::new(application_to_proto(
            &self.projects.reject(&caller, programme, id, reason).await?,
        )))
    }

    async fn withdraw_application(
        &self,
        request: Request<proto::WithdrawApplicationRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let (programme, id) = application_of("name", &r.name)?;
        let reason = request::reason("reason", &r.reason, false)?;
        Ok(Response::new(application_to_proto(
            &self
                .projects
                .withdraw(&caller, programme, id, reason)
                .await?,
        )))
    }

    async fn pay_application(
        &self,
        request: Request<proto::PayApplicationRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let (programme, id) = application_of("name", &request.get_ref().name)?;
        Ok(Response::new(application_to_proto(
            &self.projects.pay(&caller, programme, id).await?,
        )))
    }

    async fn export_awards(
        &self,
        request: Request<proto::ExportAwardsRequest>,
    ) -> Result<Response<proto::ExportAwardsResponse>, Status> {
        let caller = auth::caller(&request)?;
        let id = name_of("name", "programmes", &request.get_ref().name)?;
        let (csv, rows) = self.projects.export_awards(&caller, id).await?;
        Ok(Response::new(proto::ExportAwardsResponse {
            csv,
            rows: rows as i32,
        }))
    }

    async fn create_group_purchase(
        &self,
        request: Request<proto::CreateGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let g = r
            .group_purchase
            .as_ref()
            .ok_or_else(|| Error::invalid("group_purchase", "is required"))?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let draft = parse_group_purchase(g)?;
        let purchase = self
            .projects
            .create_group_purchase(&caller, draft, request_id)
            .await?;
        Ok(Response::new(group_purchase_to_proto(&purchase)))
    }

    async fn get_group_purchase(
        &self,
        request: Request<proto::GetGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        auth::caller(&request)?;
        let id = name_of("name", "groupPurchases", &request.get_ref().name)?;
        Ok(Response::new(group_purchase_to_proto(
            &self.projects.get_group_purchase(id).await?,
        )))
    }

    async fn list_group_purchases(
        &self,
        request: Request<proto::ListGroupPurchasesRequest>,
    ) -> Result<Response<proto::ListGroupPurchasesResponse>, Status> {
        auth::caller(&request)?;
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let states = enums("states", &r.states, purchase_state_from_proto)?;
        let categories = enums("categories", &r.categories, category_from_proto)?;
        let page = self
            .projects
            .list_group_purchases(states, categories, page_size, &r.page_token)
            .await?;
        Ok(Response::new(proto::ListGroupPurchasesResponse {
            group_purchases: page.items.iter().map(group_purchase_to_proto).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn join_group_purchase(
        &self,
        request: Request<proto::JoinGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = name_of("name", "groupPurchases", &r.name)?;
        let sites = parse_sites(&r.sites)?;
        Ok(Response::new(group_purchase_to_proto(
            &self
                .projects
                .join_group_purchase(&caller, id, sites)
                .await?,
        )))
    }

    async fn leave_group_purchase(
        &self,
        request: Request<proto::LeaveGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        let caller = auth::caller(&request)?;
        let id = name_of("name", "groupPurchases", &request.get_ref().name)?;
        Ok(Response::new(group_purchase_to_proto(
            &self.projects.leave_group_purchase(&caller, id).await?,
        )))
    }

    async fn close_group_purchase(
        &self,
        request: Request<proto::CloseGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        let caller = auth::caller(&request)?;
        let id = name_of("name", "groupPurchases", &request.get_ref().name)?;
        Ok(Response::new(group_purchase_to_proto(
            &self
                .projects
                .advance_group_purchase(&caller, id, None)
                .await?,
        )))
    }

    async fn award_group_purchase(
        &self,
        request: Request<proto::AwardGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = name_of("name", "groupPurchases", &r.name)?;
        let supplier =
            bounded_text(&r.supplier, 1, 200).map_err(|i| Error::invalid("supplier", i.0))?;
        Ok(Response::new(group_purchase_to_proto(
            &self
                .projects
                .advance_group_purchase(&caller, id, Some(supplier))
                .await?,
        )))
    }

    async fn create_workshop(
        &self,
        request: Request<proto::CreateWorkshopRequest>,
    ) -> Result<Response<proto::Workshop>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let w = r
            .workshop
            .as_ref()
            .ok_or_else(|| Error::invalid("workshop", "is required"))?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let mut v = Violations::new();
        let theme = v.check("workshop.theme", bounded_text(&w.theme, 1, 300));
        let season = v.check(
            "workshop.season",
            fabrique_types::optional_text(&w.season, 100),
        );
        let mut roles: Vec<String> = Vec::new();
        for (i, role) in w.required_roles.iter().enumerate() {
            if let Some(role) = v.check(&format!("workshop.required_roles[{i}]"), parse_role(role))
                && !roles.contains(&role)
            {
                roles.push(role);
            }
        }
        v.into_result()?;
        if roles.is_empty() {
            roles = VILLES_PAIRS_ROLES.iter().map(|r| r.to_string()).collect();
        }
        let (Some(theme), Some(season)) = (theme, season) else {
            return Err(
                Error::internal("workshop parsed without violations but incomplete").into(),
            );
        };
        Ok(Response::new(workshop_to_proto(
            &self
                .projects
                .create_workshop(&caller, theme, season, roles, request_id)
                .await?,
        )))
    }

    async fn get_workshop(
        &self,
        request: Request<proto::GetWorkshopRequest>,
    ) -> Result<Response<proto::Workshop>, Status> {
        auth::caller(&request)?;
        let id = name_of("name", "workshops", &request.get_ref().name)?;
        Ok(Response::new(workshop_to_proto(
            &self.projects.get_workshop(id).await?,
        )))
    }

    async fn set_workshop_team(
        &self,
        request: Request<proto::SetWorkshopTeamRequest>,
    ) -> Result<Response<proto::Workshop>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = name_of("name", "workshops", &r.name)?;
        if r.members.len() > 10 {
            return Err(Error::invalid("members", "at most 10").into());
        }
        let mut v = Violations::new();
        let members: Vec<Uuid> = r
            .members
            .iter()
            .enumerate()
            .filter_map(|(i, m)| v.check(&format!("members[{i}]"), parse("members", m)))
            .collect();
        v.into_result()?;
        Ok(Response::new(workshop_to_proto(
            &self.projects.set_team(&caller, id, members).await?,
        )))
    }

    async fn validate_team(
        &self,
        request: Request<proto::ValidateTeamRequest>,
    ) -> Result<Response<proto::ValidateTeamResponse>, Status> {
        auth::caller(&request)?;
        let r = request.get_ref();
        let id = name_of("name", "workshops", &r.name)?;
        let lead = name_of("lead", "members", &r.lead)?;
        let report = self.projects.validate_team(id, lead).await?;
        Ok(Response::new(proto::ValidateTeamResponse {
            complete: report.missing.is_empty(),
            missing_roles: report.missing,
            covered: report
                .covered
                .into_iter()
                .map(|(role, members)| proto::RoleCoverage {
                    role,
                    members: members.into_iter().map(member_name).collect(),
                })
                .collect(),
        }))
    }
}
