//! Grouped purchases ⇄ `fabrique.projects.v1.GroupPurchase`: the message out (lots with
//! their total volumes, participations with their sites), and a request's purchase,
//! sites or supplier parsed into domain values.

use fabrique_api::projects as proto;
use fabrique_platform::auth::Caller;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::time::timestamp;
use fabrique_platform::{Error, Violations};

use super::{opt_member, time};
use crate::domain::{
    Category, GroupPurchase, GroupPurchaseDraft, GroupPurchaseTransition, Lot, LotPrice, Site,
    SiteCategory, bounded_text, member_name, parse_lot_code, parse_volume,
};

// ---------------------------------------------------------------------------
// Messages out
// ---------------------------------------------------------------------------

/// Volumes are kept in thousandths (exact sums); the contract carries the unit.
fn volume(milli: i64) -> f64 {
    milli as f64 / 1000.0
}

/// The purchase's lots, each with the sum of the volumes its sites put in: a function
/// of the whole purchase, not of a lot alone.
pub fn lots_to_proto(g: &GroupPurchase) -> Vec<proto::Lot> {
    let totals = g.totals();
    g.lots
        .iter()
        .map(|l| proto::Lot {
            code: l.code.clone(),
            title: l.title.clone(),
            total_volume: volume(totals.get(&l.code).copied().unwrap_or_default()),
            site_category: l.site_category.map_or(0, |c| c.to_proto_i32()),
        })
        .collect()
}

impl From<&Site> for proto::Site {
    fn from(s: &Site) -> Self {
        proto::Site {
            name: s.name.clone(),
            lot: s.lot.clone(),
            volume: volume(s.volume_milli),
        }
    }
}

impl From<&GroupPurchase> for proto::GroupPurchase {
    fn from(g: &GroupPurchase) -> Self {
        proto::GroupPurchase {
            name: g.name(),
            title: g.title.clone(),
            coordinator: member_name(g.coordinator),
            category: g.category.to_proto_i32(),
            unit: g.unit.clone(),
            lots: lots_to_proto(g),
            deadline: Some(timestamp(g.deadline)),
            state: g.state.to_proto_i32(),
            participations: g
                .participations
                .iter()
                .map(|(member, sites)| proto::Participation {
                    member: member_name(*member),
                    sites: sites.iter().map(Into::into).collect(),
                    saving_cents: g.saving_of(sites).unwrap_or_default(),
                })
                .collect(),
            supplier: g.supplier.clone().unwrap_or_default(),
            create_time: Some(timestamp(g.created_at)),
            supplier_siret: g
                .supplier_siret
                .as_ref()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            prices: g
                .prices
                .iter()
                .map(|p| {
                    let volume: i64 = g
                        .participations
                        .values()
                        .flatten()
                        .filter(|s| s.lot == p.lot)
                        .map(|s| s.volume_milli)
                        .sum();
                    proto::LotPrice {
                        lot: p.lot.clone(),
                        price_cents: p.price_cents,
                        reference_cents: p.reference_cents,
                        saving_cents: p.saving(volume),
                    }
                })
                .collect(),
            saving_cents: g.group_saving().unwrap_or_default(),
        }
    }
}

/// The purchase for `caller`, or as the public (no token) reads it: who takes part,
/// without their sites and volumes — the totals per lot are what a visitor needs; the
/// delivery points and each member's estimates are for the allies and the tender.
pub fn group_purchase_for(g: &GroupPurchase, caller: Option<&Caller>) -> proto::GroupPurchase {
    let mut message = proto::GroupPurchase::from(g);
    if caller.is_none() {
        for participation in &mut message.participations {
            participation.sites.clear();
        }
    }
    message
}

// ---------------------------------------------------------------------------
// Messages in
// ---------------------------------------------------------------------------

/// A `CreateGroupPurchase` request's purchase; output-only fields are ignored.
impl TryFrom<&proto::GroupPurchase> for GroupPurchaseDraft {
    type Error = Error;

    fn try_from(g: &proto::GroupPurchase) -> Result<Self, Error> {
        let mut v = Violations::new();
        let coordinator = v.check("group_purchase.coordinator", opt_member(&g.coordinator));
        let title = v.check("group_purchase.title", bounded_text(&g.title, 1, 200));
        let category = v.check("group_purchase.category", Category::from_proto(g.category));
        let unit = v.check("group_purchase.unit", bounded_text(&g.unit, 1, 20));
        let lots = lots_of(&mut v, &g.lots);
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
}

/// A `JoinGroupPurchase` request's sites: at least one, at most 500.
pub fn parse_sites(sites: &[proto::Site]) -> Result<Vec<Site>, Error> {
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

/// An `AwardGroupPurchase` request: its supplier, SIRET and prices, each bad field
/// named (whether every lot is priced is the purchase's to say).
pub fn parse_award(r: &proto::AwardGroupPurchaseRequest) -> Result<GroupPurchaseTransition, Error> {
    let mut v = Violations::new();
    let supplier = v.check("supplier", bounded_text(&r.supplier, 1, 200));
    let siret = v.check(
        "supplier_siret",
        fabrique_platform::request::optional(&r.supplier_siret, fabrique_types::Siret::parse),
    );
    if r.prices.is_empty() {
        v.add("prices", "give a price for every lot");
    }
    let mut prices = Vec::new();
    for (i, p) in r.prices.iter().enumerate() {
        let lot = v.check(&format!("prices[{i}].lot"), parse_lot_code(&p.lot));
        for (field, cents) in [
            ("price_cents", p.price_cents),
            ("reference_cents", p.reference_cents),
        ] {
            if !(0..=100_000_000_000).contains(&cents) {
                v.add(
                    format!("prices[{i}].{field}"),
                    "must be 0 or more (cents per unit)",
                );
            }
        }
        if let Some(lot) = lot {
            prices.push(LotPrice {
                lot,
                price_cents: p.price_cents,
                reference_cents: p.reference_cents,
            });
        }
    }
    v.into_result()?;
    match (supplier, siret) {
        (Some(supplier), Some(siret)) => Ok(GroupPurchaseTransition::Award {
            supplier,
            siret,
            prices,
        }),
        _ => Err(Error::internal("award parsed but incomplete")),
    }
}

/// A request's lots: 1 to 50, their codes distinct, each with its title and, if given,
/// the site category it covers.
fn lots_of(v: &mut Violations, given: &[proto::Lot]) -> Vec<Lot> {
    let mut lots = Vec::new();
    if given.is_empty() || given.len() > 50 {
        v.add("group_purchase.lots", "must list 1 to 50 lots");
    }
    for (i, l) in given.iter().enumerate() {
        let code = v.check(
            &format!("group_purchase.lots[{i}].code"),
            parse_lot_code(&l.code),
        );
        let title = v.check(
            &format!("group_purchase.lots[{i}].title"),
            bounded_text(&l.title, 1, 200),
        );
        // Unspecified: a lot of every kind of site.
        let site_category = match l.site_category {
            0 => Some(None),
            value => v
                .check(
                    &format!("group_purchase.lots[{i}].site_category"),
                    SiteCategory::from_proto(value),
                )
                .map(Some),
        };
        if let (Some(code), Some(title), Some(site_category)) = (code, title, site_category) {
            if lots.iter().any(|x: &Lot| x.code == code) {
                v.add(
                    format!("group_purchase.lots[{i}].code"),
                    format!("{code:?} appears twice"),
                );
            }
            lots.push(Lot {
                code,
                title,
                site_category,
            });
        }
    }
    lots
}
