//! Grouped purchases: members put in their sites' estimated volumes per lot, exactly (in
//! thousandths), and the coordinator closes the purchase then awards it to a supplier,
//! with the price of each lot and the reference price it replaces — so each member's
//! and the group's estimated saving (per year for yearly supplies, on the works for
//! works). Its lifecycle — OPEN → CLOSED → AWARDED,
//! joining and leaving while OPEN, joining before the deadline only — is decided by
//! [`GroupPurchase::next`] alone.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Invalid, name};
use crate::refusal::Refusal;

fabrique_types::string_enum!(
    /// What a grouped purchase buys.
    Category {
        /// Natural gas supply.
        Gas => "gas",
        /// Electricity supply.
        Electricity => "electricity",
        /// Insulation works.
        Insulation => "insulation",
        /// Solar panels and their installation.
        Photovoltaics => "photovoltaics",
        /// Anything else members buy together.
        Other => "other",
    }
);

fabrique_types::string_enum!(
    /// Where a grouped purchase stands: taking participations, closed to them while
    /// the tender runs, then awarded to a supplier.
    GroupPurchaseState {
        /// Taking participations; joining only until the deadline.
        Open => "open",
        /// No more participations: the tender runs on the volumes put in.
        Closed => "closed",
        /// A supplier was chosen: for good.
        Awarded => "awarded",
    }
);

fabrique_types::string_enum!(
    /// The kinds of public sites a tender splits its lots by, each lot then priced on its
    /// own (schools and town halls do not use energy alike).
    SiteCategory {
        /// Schools and school canteens.
        School => "school",
        /// Town halls and administrative buildings.
        TownHall => "town_hall",
        /// Gymnasiums, swimming pools, stadiums.
        SportsFacility => "sports_facility",
        /// Libraries, halls, museums.
        CulturalFacility => "cultural_facility",
        /// Nurseries, care homes, social centres.
        SocialFacility => "social_facility",
        /// Workshops, depots, water and sewage works.
        TechnicalFacility => "technical_facility",
        /// Street lighting.
        StreetLighting => "street_lighting",
        /// Any other kind of site.
        Other => "other",
    }
);

/// A lot of a purchase (a tender is awarded per lot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lot {
    /// What sites name the lot by: see [`parse_lot_code`].
    pub code: String,
    /// What the lot covers, in words for people.
    pub title: String,
    /// The kind of site it covers when the tender is split per site category; `None`
    /// for every kind (and for the lots stored before categories existed).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "category_text"
    )]
    pub site_category: Option<SiteCategory>,
}

/// [`Lot::site_category`] in the stored JSON: its text, absent for none.
mod category_text {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::SiteCategory;

    pub fn serialize<S: Serializer>(c: &Option<SiteCategory>, s: S) -> Result<S::Ok, S::Error> {
        c.map(|c| c.as_str()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SiteCategory>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| t.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// A lot code: 1 to 30 characters among a-z, 0-9, `_` and `-`, so that it reads the
/// same in a URL, a CSV and a tender.
pub fn parse_lot_code(value: &str) -> Result<String, Invalid> {
    let code = value.trim();
    let valid = (1..=30).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if valid {
        Ok(code.to_string())
    } else {
        Err(Invalid::new(
            "must be 1 to 30 characters among a-z, 0-9, _ and -",
        ))
    }
}

/// A site's estimated volume, in thousandths of the purchase's unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// The site as its member names it, e.g. its town hall.
    pub name: String,
    /// The code of one of the purchase's lots.
    pub lot: String,
    /// Its estimated volume for the lot (see [`parse_volume`]).
    pub volume_milli: i64,
}

/// Above 0, three decimals at most, at most a billion: in thousandths.
pub fn parse_volume(volume: f64) -> Result<i64, Invalid> {
    if !volume.is_finite() || volume <= 0.0 {
        return Err(Invalid::new(format!("must be above 0, got {volume}")));
    }
    if volume > 1e9 {
        return Err(Invalid::new("must be at most 1,000,000,000"));
    }
    let milli = (volume * 1000.0).round();
    if ((milli / 1000.0) - volume).abs() > 1e-9 * volume.max(1.0) {
        return Err(Invalid::new("must have at most three decimals"));
    }
    Ok(milli as i64)
}

/// What the supplier charges for a lot, and what the members paid before: the saving is
/// the difference, per unit of the purchase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotPrice {
    /// The lot's code.
    pub lot: String,
    /// The awarded price per unit, in cents (tax excluded), 0 or more.
    pub price_cents: i64,
    /// The reference price it replaces (the regulated tariff, the last contract), per
    /// unit in cents, 0 or more.
    pub reference_cents: i64,
}

impl LotPrice {
    /// The saving on `volume_milli` thousandths of a unit, in cents, rounded to
    /// the nearest cent (negative when the award costs more than the reference).
    pub fn saving(&self, volume_milli: i64) -> i64 {
        let thousandths =
            i128::from(volume_milli) * i128::from(self.reference_cents - self.price_cents);
        let rounded = (thousandths + thousandths.signum() * 500) / 1000;
        i64::try_from(rounded).unwrap_or(if rounded < 0 { i64::MIN } else { i64::MAX })
    }
}

/// A grouped purchase and who takes part in it.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupPurchase {
    /// Named `groupPurchases/{id}` in the contract.
    pub id: Uuid,
    /// What members see of it in lists.
    pub title: String,
    /// The member that runs it: it (or an admin) closes and awards it.
    pub coordinator: Uuid,
    /// What it buys.
    pub category: Category,
    /// The unit of every volume (MWh, m²…).
    pub unit: String,
    /// What the tender is split into; sites put in their volumes per lot.
    pub lots: Vec<Lot>,
    /// Joining ends at this instant, excluded; the purchase stays OPEN until closed.
    pub deadline: DateTime<Utc>,
    /// Where it stands; changed only by [`GroupPurchase::next`].
    pub state: GroupPurchaseState,
    /// Named when AWARDED.
    pub supplier: Option<String>,
    /// The supplier's SIRET, when the coordinator gives it.
    pub supplier_siret: Option<fabrique_types::Siret>,
    /// Each lot's price and the reference price it replaces, once AWARDED.
    pub prices: Vec<LotPrice>,
    /// Member → its sites.
    pub participations: BTreeMap<Uuid, Vec<Site>>,
    /// The token subject that created it (a replayed create must come from it).
    pub created_by: String,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When its state last changed; participations are kept and dated apart.
    pub updated_at: DateTime<Utc>,
    /// Raised by every change of state (not by participations, kept apart).
    pub version: i64,
}

/// What can happen to a grouped purchase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupPurchaseTransition {
    /// A member puts in its sites, or replaces them: while OPEN, before the deadline.
    Join {
        /// The member taking part.
        member: Uuid,
        /// Its sites and their volumes, replacing any it put in before.
        sites: Vec<Site>,
    },
    /// A member takes its sites out: while OPEN, even after the deadline (which ends
    /// joining only).
    Leave {
        /// The member taking its sites out.
        member: Uuid,
    },
    /// The coordinator stops taking participations: OPEN → CLOSED.
    Close,
    /// The coordinator names the supplier chosen and its prices: CLOSED → AWARDED.
    Award {
        /// The supplier the tender chose, as the coordinator names it.
        supplier: String,
        /// Its SIRET, if given.
        siret: Option<fabrique_types::Siret>,
        /// One price per lot.
        prices: Vec<LotPrice>,
    },
}

impl GroupPurchaseTransition {
    /// The only state it is allowed from.
    pub fn from(&self) -> GroupPurchaseState {
        match self {
            GroupPurchaseTransition::Award { .. } => GroupPurchaseState::Closed,
            _ => GroupPurchaseState::Open,
        }
    }

    /// Why `purchase`, not in [`Self::from`] (or no longer: a concurrent call moved it
    /// first), cannot go through it.
    pub fn refused(&self, purchase: &GroupPurchase) -> Refusal {
        match self {
            GroupPurchaseTransition::Join { .. } | GroupPurchaseTransition::Leave { .. } => {
                Refusal::PurchaseClosed {
                    purchase: purchase.name(),
                    state: purchase.state.as_str(),
                }
            }
            GroupPurchaseTransition::Close | GroupPurchaseTransition::Award { .. } => {
                Refusal::PurchaseState {
                    purchase: purchase.name(),
                    state: purchase.state.as_str(),
                    expected: self.from().as_str(),
                }
            }
        }
    }
}

impl GroupPurchase {
    /// Its resource name, `groupPurchases/{id}`.
    pub fn name(&self) -> String {
        name("groupPurchases", self.id)
    }

    /// A new purchase made of `draft`, OPEN, run by `coordinator`, no one in it yet.
    pub fn open(
        draft: GroupPurchaseDraft,
        coordinator: Uuid,
        created_by: String,
        now: DateTime<Utc>,
    ) -> Self {
        GroupPurchase {
            id: Uuid::now_v7(),
            title: draft.title,
            coordinator,
            category: draft.category,
            unit: draft.unit,
            lots: draft.lots,
            deadline: draft.deadline,
            state: GroupPurchaseState::Open,
            supplier: None,
            supplier_siret: None,
            prices: Vec::new(),
            participations: BTreeMap::new(),
            created_by,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// The purchase after `transition` at `now`, or why it does not allow it: the one
    /// place a purchase's lifecycle is decided. Joining and leaving change its
    /// participations, not its state, its version or its time.
    pub fn next(
        &self,
        transition: &GroupPurchaseTransition,
        now: DateTime<Utc>,
    ) -> Result<GroupPurchase, Refusal> {
        if self.state != transition.from() {
            return Err(transition.refused(self));
        }
        let mut next = self.clone();
        match transition {
            GroupPurchaseTransition::Join { member, sites } => {
                if now >= self.deadline {
                    return Err(Refusal::DeadlinePassed {
                        purchase: self.name(),
                        deadline: self.deadline,
                    });
                }
                next.participations.insert(*member, sites.clone());
                return Ok(next);
            }
            GroupPurchaseTransition::Leave { member } => {
                if next.participations.remove(member).is_none() {
                    return Err(Refusal::NotJoined {
                        member: super::member_name(*member),
                        purchase: self.name(),
                    });
                }
                return Ok(next);
            }
            GroupPurchaseTransition::Close => next.state = GroupPurchaseState::Closed,
            GroupPurchaseTransition::Award {
                supplier,
                siret,
                prices,
            } => {
                next.state = GroupPurchaseState::Awarded;
                next.supplier = Some(supplier.clone());
                next.supplier_siret = siret.clone();
                next.prices = prices.clone();
            }
        }
        next.version += 1;
        next.updated_at = now;
        Ok(next)
    }

    /// The lots `prices` leave without a price, and the codes it prices that are not
    /// lots (or twice): what an award must not leave.
    pub fn unpriced(&self, prices: &[LotPrice]) -> (Vec<String>, Vec<String>) {
        let missing = self
            .lots
            .iter()
            .filter(|lot| !prices.iter().any(|p| p.lot == lot.code))
            .map(|lot| lot.code.clone())
            .collect();
        let mut seen = Vec::new();
        let mut wrong = Vec::new();
        for p in prices {
            if !self.has_lot(&p.lot) || seen.contains(&p.lot) {
                wrong.push(p.lot.clone());
            }
            seen.push(p.lot.clone());
        }
        (missing, wrong)
    }

    /// The estimated saving of `sites` at the awarded prices, in cents; `None`
    /// before the award.
    pub fn saving_of(&self, sites: &[Site]) -> Option<i64> {
        if self.prices.is_empty() {
            return None;
        }
        Some(
            sites
                .iter()
                .filter_map(|site| {
                    let price = self.prices.iter().find(|p| p.lot == site.lot)?;
                    Some(price.saving(site.volume_milli))
                })
                .sum(),
        )
    }

    /// The whole group's estimated saving, in cents; `None` before the award.
    pub fn group_saving(&self) -> Option<i64> {
        let sites: Vec<Site> = self.participations.values().flatten().cloned().collect();
        self.saving_of(&sites)
    }

    /// Whether `code` names one of its lots.
    pub fn has_lot(&self, code: &str) -> bool {
        self.lots.iter().any(|l| l.code == code)
    }

    /// The sum of every site's volume per lot, in thousandths (exact).
    pub fn totals(&self) -> BTreeMap<String, i64> {
        let mut totals: BTreeMap<String, i64> =
            self.lots.iter().map(|l| (l.code.clone(), 0)).collect();
        for sites in self.participations.values() {
            for site in sites {
                *totals.entry(site.lot.clone()).or_default() += site.volume_milli;
            }
        }
        totals
    }
}

/// What a new grouped purchase is made of.
#[derive(Debug, Clone)]
pub struct GroupPurchaseDraft {
    /// `None`: the caller's own member.
    pub coordinator: Option<Uuid>,
    /// What members will see of it in lists.
    pub title: String,
    /// What it buys.
    pub category: Category,
    /// The unit every volume is counted in (MWh, m², kWc…); 1 to 20 characters.
    pub unit: String,
    /// 1 to 50 lots, their codes distinct.
    pub lots: Vec<Lot>,
    /// Joining ends at this instant.
    pub deadline: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use fabrique_platform::refusal::Refusal as _;

    use super::*;

    fn site(volume_milli: i64) -> Site {
        Site {
            name: "Mairie".into(),
            lot: "petits-sites".into(),
            volume_milli,
        }
    }

    fn gas(deadline: DateTime<Utc>) -> GroupPurchaseDraft {
        GroupPurchaseDraft {
            coordinator: None,
            title: "Achat groupé de gaz".into(),
            category: Category::Gas,
            unit: "MWh".into(),
            lots: vec![Lot {
                site_category: None,
                code: "petits-sites".into(),
                title: "Sites de moins de 300 MWh/an".into(),
            }],
            deadline,
        }
    }

    /// The code `transition` (numbered as in the test below) is refused with from
    /// `from`, `late` or not; `None` when it is allowed.
    fn refusal_of(from: GroupPurchaseState, transition: usize, late: bool) -> Option<&'static str> {
        use GroupPurchaseState::*;
        match (from, transition) {
            (Open, 0) if late => Some("DEADLINE_PASSED"),
            (Open, 0 | 1 | 3) | (Closed, 4) => None,
            (Open, 2) => Some("NOT_JOINED"),
            (_, 0..=2) => Some("PURCHASE_CLOSED"),
            _ => Some("PURCHASE_STATE"),
        }
    }

    #[test]
    fn volumes_and_lot_codes() {
        assert_eq!(parse_volume(12.345).unwrap(), 12_345);
        assert!(parse_volume(0.0).is_err());
        assert!(parse_volume(1.2345).is_err());
        assert!(parse_lot_code("lot-1_gaz").is_ok());
        assert!(parse_lot_code("Lot 1").is_err());
    }

    #[test]
    fn an_award_gives_each_member_and_the_group_its_saving() {
        let deadline = Utc::now() + chrono::Duration::days(30);
        let mut gas = GroupPurchase::open(gas(deadline), Uuid::now_v7(), "x".into(), deadline);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        gas.participations.insert(a, vec![site(12_345)]);
        gas.participations.insert(b, vec![site(87_655)]);
        assert_eq!(gas.group_saving(), None, "not awarded");
        let lot = gas.lots[0].code.clone();
        assert_eq!(gas.unpriced(&[]).0, vec![lot.clone()]);
        let price = LotPrice {
            lot: lot.clone(),
            price_cents: 4_150,
            reference_cents: 5_000,
        };
        let twice = [price.clone(), price.clone()];
        assert_eq!(gas.unpriced(&twice), (Vec::new(), vec![lot]));
        gas.prices = vec![price];
        // 12.345 MWh × 8.50 € = 104.9325 € → 104.93 €; 87.655 × 8.50 = 745.0675 → 745.07 €.
        assert_eq!(gas.saving_of(&gas.participations[&a]), Some(10_493));
        assert_eq!(gas.saving_of(&gas.participations[&b]), Some(74_507));
        assert_eq!(gas.group_saving(), Some(85_000), "100 MWh × 8.50 €");
        let dearer = LotPrice {
            lot: String::new(),
            price_cents: 5_100,
            reference_cents: 5_000,
        };
        assert_eq!(
            dearer.saving(1_500),
            -150,
            "a dearer award is a negative saving"
        );
    }

    /// Every state, every transition, before and after the deadline, with one member in.
    #[test]
    fn one_function_decides_a_grouped_purchase_s_lifecycle() {
        use GroupPurchaseState::*;
        let (joined, newcomer) = (Uuid::now_v7(), Uuid::now_v7());
        let transitions = [
            GroupPurchaseTransition::Join {
                member: newcomer,
                sites: vec![site(2_000)],
            },
            GroupPurchaseTransition::Leave { member: joined },
            GroupPurchaseTransition::Leave { member: newcomer },
            GroupPurchaseTransition::Close,
            GroupPurchaseTransition::Award {
                supplier: "Gaz de Bordeaux".into(),
                siret: None,
                prices: Vec::new(),
            },
        ];
        let deadline = Utc::now() + chrono::Duration::days(30);
        for (late, now) in [
            (false, deadline - chrono::Duration::seconds(1)),
            (true, deadline),
        ] {
            for from in GroupPurchaseState::ALL {
                for (t, transition) in transitions.iter().enumerate() {
                    let mut current =
                        GroupPurchase::open(gas(deadline), Uuid::now_v7(), "x".into(), now);
                    current.participations.insert(joined, vec![site(1_000)]);
                    current.state = *from;
                    let result = current.next(transition, now);
                    let case = format!("{from:?} + {transition:?}, late: {late}");
                    let Some(code) = refusal_of(*from, t, late) else {
                        let next = result.expect(&case);
                        let to = [Open, Open, Open, Closed, Awarded][t];
                        assert_eq!(next.state, to, "{case}");
                        assert_eq!(next.version, current.version + i64::from(to != *from));
                        assert_eq!(next.supplier.is_some(), to == Awarded, "{case}");
                        let members = next.participations.len();
                        assert_eq!(members, [2, 0, 1, 1, 1][t], "{case}");
                        continue;
                    };
                    let refusal = result.expect_err(&case);
                    assert_eq!(refusal.code(), code, "{case}");
                    let message = refusal.message();
                    assert!(message.contains(&current.name()), "{message}");
                    assert!(
                        !code.starts_with("PURCHASE_")
                            || message.contains(&from.as_str().to_uppercase()),
                        "{message}"
                    );
                }
            }
        }
    }

    #[test]
    fn totals_add_every_site_exactly() {
        let mut purchase =
            GroupPurchase::open(gas(Utc::now()), Uuid::now_v7(), "x".into(), Utc::now());
        for volume_milli in [100, 200] {
            purchase
                .participations
                .insert(Uuid::now_v7(), vec![site(volume_milli)]);
        }
        assert_eq!(purchase.totals()["petits-sites"], 300);
        assert!(purchase.has_lot("petits-sites") && !purchase.has_lot("combles"));
    }
}
