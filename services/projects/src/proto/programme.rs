//! Programmes and their applications ⇄ `fabrique.projects.v1.Programme` and
//! `Application`: the messages out (with the breakdown of each award), and a request's
//! programme or application parsed into a [`ProgrammeDraft`] or an
//! [`ApplicationDraft`].

use chrono::{DateTime, Utc};
use fabrique_api::projects as proto;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::request::optional;
use fabrique_platform::time::timestamp;
use fabrique_platform::{Error, Violations};
use fabrique_types::Siret;

use super::{opt_member, time};
use crate::domain::{
    Application, ApplicationDraft, CoFunder, EnvelopeChange, FundingLine, Installation,
    Instruction, Payment, PaymentKind, Programme, ProgrammeDraft, bounded_text, member_name, name,
    parse,
};

// ---------------------------------------------------------------------------
// Messages out
// ---------------------------------------------------------------------------

impl From<&CoFunder> for proto::CoFunder {
    fn from(c: &CoFunder) -> Self {
        proto::CoFunder {
            member: member_name(c.member),
            share_basis_points: c.share_basis_points.unwrap_or_default() as i32,
            cents_per_unit: c.cents_per_unit.unwrap_or_default(),
            note: c.note.clone().unwrap_or_default(),
            insee_codes: c.insee_codes.clone(),
            epci_sirens: c.epci_sirens.clone(),
            // Filled in by the programme's report, as its committed total.
            committed_cents: 0,
            paid_cents: 0,
        }
    }
}

/// A SIRET as the contract carries it: empty for none.
fn siret_text(siret: Option<&Siret>) -> String {
    siret.map(|s| s.as_str().to_string()).unwrap_or_default()
}

impl From<&Programme> for proto::Programme {
    fn from(p: &Programme) -> Self {
        proto::Programme {
            name: p.name(),
            title: p.title.clone(),
            description: p.description.clone().unwrap_or_default(),
            funder: member_name(p.funder),
            operator: p.operator.map(member_name).unwrap_or_default(),
            yield_kwh_per_kwp: p.yield_kwh_per_kwp.map_or(0, |y| y as i32),
            // Reported by the handlers, which read the awards.
            installed_kw: 0.0,
            estimated_yearly_kwh: 0,
            funder_siret: siret_text(p.funder_siret.as_ref()),
            envelope_cents: p.envelope_cents,
            aid_per_unit_cents: p.aid_per_unit_cents,
            unit_label: p.unit_label.clone(),
            max_units_per_application: p.max_units_per_application.unwrap_or_default() as i32,
            eligible_kinds: p.eligible_kinds.clone(),
            max_awards_per_member: p.max_awards_per_member.unwrap_or_default() as i32,
            co_funders: p.co_funders.iter().map(Into::into).collect(),
            opens_at: p.opens_at.map(timestamp),
            closes_at: p.closes_at.map(timestamp),
            state: p.state.to_proto_i32(),
            committed_cents: p.committed_cents,
            paid_cents: p.paid_cents,
            remaining_cents: p.remaining_cents(),
            create_time: Some(timestamp(p.created_at)),
            // Counted by the handlers, which read the applications.
            application_count: 0,
            award_count: 0,
            envelope_changes: p.envelope_changes.iter().map(Into::into).collect(),
        }
    }
}

/// The instructors' opinion and notes, for those who may see them.
fn instruction_to_proto(i: &Instruction) -> proto::Instruction {
    proto::Instruction {
        recommendation: i
            .recommendation
            .map(|r| r.to_proto_i32())
            .unwrap_or_default(),
        opinion: i.opinion.clone().unwrap_or_default(),
        instructor: i.instructor.map(member_name).unwrap_or_default(),
        opinion_time: i.opinion_at.map(timestamp),
        notes: i
            .notes
            .iter()
            .map(|n| proto::InstructionNote {
                author: n.author.map(member_name).unwrap_or_default(),
                text: n.text.clone(),
                create_time: Some(timestamp(n.at)),
            })
            .collect(),
    }
}

/// A day as the contract carries it: its midnight UTC.
fn day(date: chrono::NaiveDate) -> prost_types::Timestamp {
    timestamp(date.and_time(chrono::NaiveTime::MIN).and_utc())
}

impl From<&EnvelopeChange> for proto::EnvelopeChange {
    fn from(c: &EnvelopeChange) -> Self {
        proto::EnvelopeChange {
            previous_cents: c.previous_cents,
            envelope_cents: c.envelope_cents,
            deliberation_reference: c.reference.clone(),
            deliberation_time: Some(day(c.decided_on)),
            record_time: Some(timestamp(c.recorded_at)),
        }
    }
}

impl From<&Payment> for proto::Payment {
    fn from(p: &Payment) -> Self {
        proto::Payment {
            kind: p.kind.to_proto_i32(),
            amount_cents: p.amount_cents,
            pay_time: Some(day(p.paid_on)),
            record_time: Some(timestamp(p.recorded_at)),
            co_funder: p.co_funder.map(member_name).unwrap_or_default(),
        }
    }
}

impl From<&FundingLine> for proto::FundingLine {
    fn from(l: &FundingLine) -> Self {
        proto::FundingLine {
            funder: member_name(l.funder),
            amount_cents: l.amount_cents,
            note: l.note.clone().unwrap_or_default(),
        }
    }
}

impl From<&Application> for proto::Application {
    fn from(a: &Application) -> Self {
        proto::Application {
            name: a.name(),
            applicant: member_name(a.applicant),
            project: a.project.map(|p| name("projects", p)).unwrap_or_default(),
            units: a.units as i32,
            purpose: a.purpose.clone(),
            beneficiary_siret: siret_text(a.beneficiary_siret.as_ref()),
            aid_cents: a.aid_cents,
            breakdown: a.breakdown.iter().map(Into::into).collect(),
            state: a.state.to_proto_i32(),
            state_reason: a.state_reason.clone().unwrap_or_default(),
            create_time: Some(timestamp(a.created_at)),
            decision_time: a.decided_at.map(timestamp),
            payments: a.payments.iter().map(Into::into).collect(),
            paid_cents: a.paid_cents(),
            completion_request: a.completion_request.clone().unwrap_or_default(),
            completion_answer: a.completion_answer.clone().unwrap_or_default(),
            instruction: Some(instruction_to_proto(&a.instruction)),
            grouping: a
                .grouping
                .map(|g| crate::domain::grouping_name(a.programme, g))
                .unwrap_or_default(),
            filer: a.filer.map(member_name).unwrap_or_default(),
            installation: a.installation.as_ref().map(|i| proto::Installation {
                peak_kw: f64::from(i.peak_watts) / 1_000.0,
                area_m2: i.area_dm2.map_or(0.0, |a| f64::from(a) / 100.0),
                building: i.building.clone().unwrap_or_default(),
            }),
        }
    }
}

// ---------------------------------------------------------------------------
// Messages in
// ---------------------------------------------------------------------------

/// An optional SIRET: empty is none.
fn siret(value: &str) -> Result<Option<Siret>, fabrique_types::Invalid> {
    optional(value, Siret::parse)
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
        let insee_codes = territory(v, &at("insee_codes"), &c.insee_codes, |code| {
            fabrique_types::InseeCode::parse(code).map(|c| c.as_str().to_string())
        });
        let epci_sirens = territory(v, &at("epci_sirens"), &c.epci_sirens, |siren| {
            fabrique_types::Siren::parse(siren).map(|s| s.as_str().to_string())
        });
        if let (
            Some(member),
            Some((share_basis_points, cents_per_unit)),
            Some(note),
            Some(insee_codes),
            Some(epci_sirens),
        ) = (member, share, note, insee_codes, epci_sirens)
        {
            parsed.push(CoFunder {
                member,
                share_basis_points,
                cents_per_unit,
                note,
                insee_codes,
                epci_sirens,
            });
        }
    }
    (parsed.len() == co_funders.len()).then_some(parsed)
}

/// A co-funder's territory list, each entry parsed by `parse` and named by its index;
/// at most 5,000 (a Région's communes).
fn territory(
    v: &mut Violations,
    field: &str,
    values: &[String],
    parse: impl Fn(&str) -> Result<String, fabrique_types::Invalid>,
) -> Option<Vec<String>> {
    if values.len() > 5_000 {
        v.add(field, "at most 5,000 entries");
        return None;
    }
    let parsed: Vec<String> = values
        .iter()
        .enumerate()
        .filter_map(|(i, value)| v.check(&format!("{field}[{i}]"), parse(value.trim())))
        .collect();
    (parsed.len() == values.len()).then_some(parsed)
}

/// The envelope and the aid per unit: whole cents, at most ten billion euros, the aid
/// within the envelope; and the yield, 0 (none) to 5,000 kWh per kWc.
fn check_amounts(v: &mut Violations, p: &proto::Programme) {
    if !(0..=5_000).contains(&p.yield_kwh_per_kwp) {
        v.add("programme.yield_kwh_per_kwp", "must be between 0 and 5,000");
    }
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
}

/// The units per application and awards per member: 0 is no limit (the contract's
/// unset), a negative number is refused.
fn parse_limits(v: &mut Violations, p: &proto::Programme) -> (Option<u32>, Option<u32>) {
    if p.max_units_per_application < 0 {
        v.add(
            "programme.max_units_per_application",
            "must not be negative",
        );
    }
    if p.max_awards_per_member < 0 {
        v.add("programme.max_awards_per_member", "must not be negative");
    }
    let limit = |n: i32| (n > 0).then_some(n as u32);
    (
        limit(p.max_units_per_application),
        limit(p.max_awards_per_member),
    )
}

/// Member kinds as the members service writes them (`commune`, `epci`…), lowercased.
fn parse_kinds(v: &mut Violations, kinds: &[String]) -> Vec<String> {
    let mut parsed = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
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
            parsed.push(kind);
        }
    }
    parsed
}

/// When applications are taken, from and until; either end may be open.
type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// A programme's window; it must close after it opens.
fn parse_window(v: &mut Violations, p: &proto::Programme) -> Option<Window> {
    let opens = time(v, "programme.opens_at", p.opens_at.as_ref());
    let closes = time(v, "programme.closes_at", p.closes_at.as_ref());
    if let (Some(Some(opens)), Some(Some(closes))) = (opens, closes)
        && closes <= opens
    {
        v.add("programme.closes_at", "must be after opens_at");
    }
    Some((opens?, closes?))
}

/// A `CreateProgramme` request's programme; output-only fields are ignored.
impl TryFrom<&proto::Programme> for ProgrammeDraft {
    type Error = Error;

    fn try_from(p: &proto::Programme) -> Result<Self, Error> {
        let mut v = Violations::new();
        let funder = v.check("programme.funder", opt_member(&p.funder));
        let operator = v.check("programme.operator", opt_member(&p.operator));
        let funder_siret = v.check("programme.funder_siret", siret(&p.funder_siret));
        let title = v.check("programme.title", bounded_text(&p.title, 1, 200));
        let description = v.check(
            "programme.description",
            fabrique_types::text::optional_multiline(&p.description, 5000),
        );
        check_amounts(&mut v, p);
        let unit_label = v.check("programme.unit_label", bounded_text(&p.unit_label, 1, 200));
        let (max_units_per_application, max_awards_per_member) = parse_limits(&mut v, p);
        let eligible_kinds = parse_kinds(&mut v, &p.eligible_kinds);
        let co_funders = parse_co_funders(&mut v, &p.co_funders);
        let window = parse_window(&mut v, p);
        v.into_result()?;
        let (
            Some(funder),
            Some(operator),
            Some(funder_siret),
            Some(title),
            Some(description),
            Some(unit_label),
            Some(co_funders),
            Some((opens_at, closes_at)),
        ) = (
            funder,
            operator,
            funder_siret,
            title,
            description,
            unit_label,
            co_funders,
            window,
        )
        else {
            return Err(Error::internal(
                "programme parsed without violations but incomplete",
            ));
        };
        Ok(ProgrammeDraft {
            funder,
            operator,
            yield_kwh_per_kwp: (p.yield_kwh_per_kwp > 0).then_some(p.yield_kwh_per_kwp as u32),
            funder_siret,
            title,
            description,
            envelope_cents: p.envelope_cents,
            aid_per_unit_cents: p.aid_per_unit_cents,
            unit_label,
            max_units_per_application,
            eligible_kinds,
            max_awards_per_member,
            co_funders,
            opens_at,
            closes_at,
        })
    }
}

/// A `CreateApplication` request's application; output-only fields (the aid, its
/// breakdown, the state) are ignored.
impl TryFrom<&proto::Application> for ApplicationDraft {
    type Error = Error;

    fn try_from(a: &proto::Application) -> Result<Self, Error> {
        let mut v = Violations::new();
        if a.units < 1 {
            v.add("application.units", "must be at least 1");
        }
        let project = v.check(
            "application.project",
            optional(&a.project, |p| parse("projects", p)),
        );
        let purpose = v.check("application.purpose", bounded_text(&a.purpose, 1, 500));
        let siret = v.check("application.beneficiary_siret", siret(&a.beneficiary_siret));
        let installation =
            parse_installation(&mut v, "application.installation", a.installation.as_ref());
        v.into_result()?;
        let (Some(project), Some(purpose), Some(beneficiary_siret), Some(installation)) =
            (project, purpose, siret, installation)
        else {
            return Err(Error::internal(
                "application parsed without violations but incomplete",
            ));
        };
        Ok(ApplicationDraft {
            project,
            units: a.units as u32,
            purpose,
            beneficiary_siret,
            installation,
        })
    }
}

/// A day given in `field` that must be set and not after `today`.
fn past_day(
    v: &mut Violations,
    field: &str,
    t: Option<&prost_types::Timestamp>,
    today: chrono::NaiveDate,
) -> Option<chrono::NaiveDate> {
    let Some(at) = time(v, field, t)? else {
        v.add(field, "is required");
        return None;
    };
    let date = at.date_naive();
    if date > today {
        v.add(field, "must not be in the future");
        return None;
    }
    Some(date)
}

/// A `ChangeEnvelope` request's envelope, deliberation reference and day.
pub fn parse_envelope_change(
    r: &proto::ChangeEnvelopeRequest,
    today: chrono::NaiveDate,
) -> Result<(i64, String, chrono::NaiveDate), Error> {
    let mut v = Violations::new();
    if !(1..=1_000_000_000_000).contains(&r.envelope_cents) {
        v.add(
            "envelope_cents",
            "must be between 1 and 10,000,000,000 euros in cents",
        );
    }
    let reference = v.check(
        "deliberation_reference",
        bounded_text(&r.deliberation_reference, 1, 100),
    );
    let decided_on = past_day(
        &mut v,
        "deliberation_time",
        r.deliberation_time.as_ref(),
        today,
    );
    v.into_result()?;
    match (reference, decided_on) {
        (Some(reference), Some(decided_on)) => Ok((r.envelope_cents, reference, decided_on)),
        _ => Err(Error::internal("envelope change parsed but incomplete")),
    }
}

/// An installation at request field `at`, each bad field named under it; `Some(None)`
/// when not given.
pub(crate) fn parse_installation(
    v: &mut Violations,
    at: &str,
    i: Option<&proto::Installation>,
) -> Option<Option<Installation>> {
    let Some(i) = i else {
        return Some(None);
    };
    let peak = v.check(
        &format!("{at}.peak_kw"),
        crate::domain::parse_peak_kw(i.peak_kw),
    );
    let area = match i.area_m2 {
        0.0 => Some(None),
        m2 => v
            .check(&format!("{at}.area_m2"), crate::domain::parse_area_m2(m2))
            .map(Some),
    };
    let building = v.check(
        &format!("{at}.building"),
        fabrique_types::optional_text(&i.building, 200),
    );
    Some(Some(Installation {
        peak_watts: peak?,
        area_dm2: area?,
        building: building?,
    }))
}

/// A `RecordPayment` request's payment, recorded `now`.
pub fn parse_payment(
    payment: Option<&proto::Payment>,
    now: DateTime<Utc>,
) -> Result<Payment, Error> {
    let Some(p) = payment else {
        return Err(Error::invalid("payment", "is required"));
    };
    let mut v = Violations::new();
    let kind = v.check("payment.kind", PaymentKind::from_proto(p.kind));
    if !(1..=1_000_000_000_000).contains(&p.amount_cents) {
        v.add("payment.amount_cents", "must be above 0");
    }
    let paid_on = past_day(
        &mut v,
        "payment.pay_time",
        p.pay_time.as_ref(),
        now.date_naive(),
    );
    let co_funder = if p.co_funder.is_empty() {
        Some(None)
    } else {
        v.check("payment.co_funder", opt_member(&p.co_funder))
    };
    v.into_result()?;
    match (kind, paid_on, co_funder) {
        (Some(kind), Some(paid_on), Some(co_funder)) => Ok(Payment {
            co_funder,
            kind,
            amount_cents: p.amount_cents,
            paid_on,
            recorded_at: now,
        }),
        _ => Err(Error::internal("payment parsed but incomplete")),
    }
}
