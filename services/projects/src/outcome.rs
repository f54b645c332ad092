//! What an awarded grouped purchase obtained, as a CSV its coordinator publishes and its
//! members take to their councils: comma-separated UTF-8 with a header line; a row per
//! lot (its total volume, price, reference price and saving), a row per participant and
//! lot when the reader may see participations, and the group's row. Amounts in euros
//! with a decimal point, volumes with up to three decimals: a file for spreadsheets and
//! open data, not for reading (the site shows French numbers).

use std::collections::BTreeMap;

use fabrique_replicas::members::ReplicaMember;
use uuid::Uuid;

use crate::domain::{GroupPurchase, Lot, Site, euros};

/// The columns, in order.
pub const COLUMNS: &[&str] = &[
    "ligne",
    "achat",
    "titulaire",
    "siret_titulaire",
    "lot",
    "libelle_lot",
    "categorie_site",
    "membre",
    "siren_membre",
    "unite",
    "volume",
    "prix_unitaire_ht",
    "prix_reference_ht",
    "economie_estimee",
];

/// The file and its number of rows (after the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The CSV, header first.
    pub csv: Vec<u8>,
    /// Rows after the header.
    pub rows: usize,
}

/// Thousandths as a decimal number without trailing zeros: `1100000` → `1100`,
/// `40500` → `40.5`.
pub fn volume(milli: i64) -> String {
    let sign = if milli < 0 { "-" } else { "" };
    let milli = milli.unsigned_abs();
    let (whole, part) = (milli / 1000, milli % 1000);
    if part == 0 {
        format!("{sign}{whole}")
    } else {
        let decimals = format!("{part:03}");
        format!("{sign}{whole}.{}", decimals.trim_end_matches('0'))
    }
}

/// One row's cells besides the purchase's own: the lot (code, title, site category),
/// the member (name, SIREN), the volume, the prices and the saving.
struct Row<'a> {
    kind: &'a str,
    lot: [&'a str; 3],
    member: [&'a str; 2],
    volume_milli: i64,
    prices: (String, String),
    saving: Option<i64>,
}

/// The CSV being written, with what every row repeats.
struct Sheet<'a> {
    writer: csv::Writer<Vec<u8>>,
    purchase: &'a GroupPurchase,
    supplier: String,
    siret: String,
    rows: usize,
}

impl Sheet<'_> {
    fn add(&mut self, row: Row<'_>) -> Result<(), String> {
        self.rows += 1;
        let [code, title, category] = row.lot;
        let [member, siren] = row.member;
        self.writer
            .write_record([
                row.kind,
                &self.purchase.title,
                &self.supplier,
                &self.siret,
                code,
                title,
                category,
                member,
                siren,
                &self.purchase.unit,
                &volume(row.volume_milli),
                &row.prices.0,
                &row.prices.1,
                &row.saving.map(euros).unwrap_or_default(),
            ])
            .map_err(|e| e.to_string())
    }

    /// A lot's row, then (if `participations`) each participant's in it.
    fn lot(
        &mut self,
        lot: &Lot,
        totals: &BTreeMap<String, i64>,
        members: &BTreeMap<Uuid, ReplicaMember>,
        participations: bool,
    ) -> Result<(), String> {
        let purchase = self.purchase;
        let prices = purchase
            .prices
            .iter()
            .find(|p| p.lot == lot.code)
            .map(|p| (euros(p.price_cents), euros(p.reference_cents)))
            .unwrap_or_default();
        let category = lot.site_category.map(|c| c.as_str()).unwrap_or_default();
        let in_lot = |sites: &[Site]| -> Vec<Site> {
            sites
                .iter()
                .filter(|s| s.lot == lot.code)
                .cloned()
                .collect()
        };
        let all: Vec<Site> = purchase
            .participations
            .values()
            .flat_map(|s| in_lot(s))
            .collect();
        let lot_cells = [lot.code.as_str(), lot.title.as_str(), category];
        self.add(Row {
            kind: "lot",
            lot: lot_cells,
            member: ["", ""],
            volume_milli: totals.get(&lot.code).copied().unwrap_or_default(),
            prices: prices.clone(),
            saving: purchase.saving_of(&all),
        })?;
        for (member, sites) in purchase.participations.iter().filter(|_| participations) {
            let mine = in_lot(sites);
            if mine.is_empty() {
                continue;
            }
            let known = members.get(member);
            self.add(Row {
                kind: "membre",
                lot: lot_cells,
                member: [
                    known.map(|m| m.display_name.as_str()).unwrap_or_default(),
                    known.and_then(|m| m.siren.as_deref()).unwrap_or_default(),
                ],
                volume_milli: mine.iter().map(|s| s.volume_milli).sum(),
                prices: prices.clone(),
                saving: purchase.saving_of(&mine),
            })?;
        }
        Ok(())
    }
}

/// The outcome of `purchase` (awarded); `members` are the replica's records of its
/// participants, for their names and SIRENs; `participations` adds each participant's
/// rows.
pub fn write(
    purchase: &GroupPurchase,
    members: &BTreeMap<Uuid, ReplicaMember>,
    participations: bool,
) -> Result<Outcome, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS).map_err(|e| e.to_string())?;
    let mut sheet = Sheet {
        writer,
        purchase,
        supplier: purchase.supplier.clone().unwrap_or_default(),
        siret: purchase
            .supplier_siret
            .as_ref()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        rows: 0,
    };
    let totals = purchase.totals();
    for lot in &purchase.lots {
        sheet.lot(lot, &totals, members, participations)?;
    }
    sheet.add(Row {
        kind: "groupe",
        lot: ["", "", ""],
        member: ["", ""],
        volume_milli: totals.values().sum(),
        prices: (String::new(), String::new()),
        saving: purchase.group_saving(),
    })?;
    let rows = sheet.rows;
    let csv = sheet.writer.into_inner().map_err(|e| e.to_string())?;
    Ok(Outcome { csv, rows })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::{
        Category, GroupPurchaseDraft, GroupPurchaseState, Lot, LotPrice, SiteCategory,
    };

    #[test]
    fn volumes_keep_their_decimals_only() {
        assert_eq!(volume(1_100_000), "1100");
        assert_eq!(volume(40_500), "40.5");
        assert_eq!(volume(12_345), "12.345");
        assert_eq!(volume(5), "0.005");
    }

    /// Two communes in the electricity purchase, one with street lighting; awarded.
    fn electricity() -> (GroupPurchase, Uuid, Uuid) {
        let deadline = Utc::now();
        let lot = |code: &str, site_category| Lot {
            code: code.into(),
            title: code.to_uppercase(),
            site_category,
        };
        let draft = GroupPurchaseDraft {
            coordinator: None,
            title: "Électricité 2027".into(),
            category: Category::Electricity,
            unit: "MWh".into(),
            lots: vec![
                lot("c5", None),
                lot("eclairage", Some(SiteCategory::StreetLighting)),
            ],
            deadline,
        };
        let mut p = GroupPurchase::open(draft, Uuid::now_v7(), "x".into(), deadline);
        let site = |lot: &str, volume_milli| Site {
            name: "Site".into(),
            lot: lot.into(),
            volume_milli,
        };
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        p.participations
            .insert(a, vec![site("c5", 10_500), site("eclairage", 3_000)]);
        p.participations.insert(b, vec![site("c5", 20_000)]);
        p.state = GroupPurchaseState::Awarded;
        p.supplier = Some("Énergies citoyennes".into());
        p.prices = vec![
            LotPrice {
                lot: "c5".into(),
                price_cents: 15_000,
                reference_cents: 17_000,
            },
            LotPrice {
                lot: "eclairage".into(),
                price_cents: 12_000,
                reference_cents: 16_000,
            },
        ];
        (p, a, b)
    }

    fn rows(outcome: &Outcome) -> Vec<Vec<String>> {
        csv::Reader::from_reader(outcome.csv.as_slice())
            .records()
            .map(|r| r.expect("a row").iter().map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn lots_members_and_the_group_add_up() {
        let (purchase, a, _) = electricity();
        let mut members = BTreeMap::new();
        members.insert(
            a,
            ReplicaMember {
                id: a,
                display_name: "Commune de Thiers".into(),
                kind: "commune".into(),
                siren: Some("216304303".into()),
                siret: None,
                insee_code: None,
                epci_siren: None,
                state: "active".into(),
                contact_roles: Vec::new(),
                version: 1,
            },
        );
        let outcome = write(&purchase, &members, true).expect("written");
        let rows = rows(&outcome);
        assert_eq!(outcome.rows, rows.len());
        let kinds: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            kinds,
            ["lot", "membre", "membre", "lot", "membre", "groupe"]
        );
        // c5: 30.5 MWh × 20 € = 610 €; street lighting: 3 MWh × 40 € = 120 €.
        assert_eq!(rows[0][10..], ["30.5", "150.00", "170.00", "610.00"]);
        assert_eq!(rows[3][6], "street_lighting");
        assert_eq!(rows[3][13], "120.00");
        let thiers: Vec<&Vec<String>> = rows.iter().filter(|r| r[8] == "216304303").collect();
        assert_eq!(thiers.len(), 2, "one row per lot it is in");
        assert_eq!(rows[5][10..], ["33.5", "", "", "730.00"]);
        let public = write(&purchase, &members, false).expect("written");
        assert!(rows_of_kind(&public, "membre").is_empty());
        assert_eq!(public.rows, 3);
    }

    fn rows_of_kind(outcome: &Outcome, kind: &str) -> Vec<Vec<String>> {
        rows(outcome).into_iter().filter(|r| r[0] == kind).collect()
    }
}
