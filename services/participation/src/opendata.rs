//! What participation publishes as open data: a process's proposals with their answers,
//! and a budget's results, as CSV (comma-separated UTF-8, header first, French column
//! names in the manner of the schemas of schema.data.gouv.fr). No personal data: no
//! author, not even a pseudonym, no supporter, no voter — counts only.

use crate::domain::budget::Budget;
use crate::domain::{Process, Proposal, process_name};

/// The proposals file's columns, in order.
pub const PROPOSAL_COLUMNS: &[&str] = &[
    "identifiant",
    "demarche",
    "organisateur",
    "titre",
    "texte",
    "theme",
    "lieu",
    "latitude",
    "longitude",
    "etat",
    "soutiens",
    "seuil_atteint",
    "reponse",
    "date_reponse",
    "date_depot",
];

/// The budget results file's columns, in order.
pub const BUDGET_COLUMNS: &[&str] = &[
    "identifiant",
    "budget",
    "proposition",
    "titre",
    "cout_euros",
    "votes",
    "rang",
    "retenu",
];

/// Cents as euros with a decimal point: `150000` → `1500.00`.
fn euros(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

fn write(columns: &[&str], rows: Vec<Vec<String>>) -> Result<(Vec<u8>, usize), csv::Error> {
    let count = rows.len();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(columns)?;
    for row in rows {
        writer.write_record(&row)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok((bytes, count))
}

/// The process's proposals, with their answers: the file and its number of rows.
pub fn proposals(
    process: &Process,
    proposals: &[Proposal],
) -> Result<(Vec<u8>, usize), csv::Error> {
    let rows = proposals
        .iter()
        .map(|p| {
            let date = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d").to_string();
            vec![
                p.name(),
                process_name(process.id),
                crate::domain::member_name(process.organiser),
                p.title.clone(),
                p.body.clone(),
                p.theme.clone().unwrap_or_default(),
                p.place
                    .map(|id| fabrique_types::resource::format_name("places", id))
                    .unwrap_or_default(),
                p.location
                    .as_ref()
                    .map(|l| l.latitude().to_string())
                    .unwrap_or_default(),
                p.location
                    .as_ref()
                    .map(|l| l.longitude().to_string())
                    .unwrap_or_default(),
                p.state.as_str().to_string(),
                p.support_count.to_string(),
                p.threshold_reached(process.support_threshold).to_string(),
                p.answer
                    .as_ref()
                    .map(|a| a.text.clone())
                    .unwrap_or_default(),
                p.answer.as_ref().map(|a| date(a.at)).unwrap_or_default(),
                date(p.created_at),
            ]
        })
        .collect();
    write(PROPOSAL_COLUMNS, rows)
}

/// A budget's items with their results (votes and ranks once closed).
pub fn budget_results(budget: &Budget) -> Result<(Vec<u8>, usize), csv::Error> {
    let rows = budget
        .items
        .iter()
        .map(|item| {
            vec![
                budget.item_name(item.id),
                budget.name(),
                crate::domain::proposal_name(budget.process, item.proposal),
                item.title.clone(),
                euros(item.cost_cents),
                item.votes.to_string(),
                item.rank.to_string(),
                item.selected.to_string(),
            ]
        })
        .collect();
    write(BUDGET_COLUMNS, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_have_a_decimal_point() {
        assert_eq!(euros(150_000), "1500.00");
        assert_eq!(euros(5), "0.05");
    }
}
