//! Reading a CSV of places in the shape of the French open-data place schemas: one row
//! per place, a header line, comma- or semicolon-separated (decimal commas accepted in
//! coordinates then). Every bad field is reported with its line; good rows are kept.
//!
//! Columns (header names are case- and accent-insensitive): `id` (or `identifiant`),
//! `nom`, `latitude`, `longitude`, `typologie` (required); `adresse`, `code_postal`,
//! `commune`, `code_insee`, `horaires` (OSM `opening_hours`), `site_web`, `courriel`,
//! `telephone`, `siret`, `description`, `capacites` (capability codes).

use std::collections::{BTreeSet, HashMap};

use crate::domain::{
    Address, Capability, Description, Email, InseeCode, Invalid, Location, OpeningHours, Phone,
    PlaceKind, PostalCode, Siret, Website, fold, parse_description, parse_display_name,
};

/// The most rows a file may hold; a larger one is refused whole, to be split.
pub const MAX_ROWS: usize = 100_000;

/// A row that parsed.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// 1-based line in the file (the header is line 1).
    pub line: usize,
    /// The place's id in the source (`id` column): importing the source again updates
    /// the place this row made.
    pub external_id: String,
    /// The place as the row describes it, without an operator (the import names it).
    pub description: Description,
}

/// A field of a row that did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line in the file; 0 when the CSV reader could not tell.
    pub line: usize,
    /// The column at fault, by its name in this schema (`nom`, `latitude`…); empty when
    /// the row as a whole is unreadable.
    pub field: String,
    /// What is wrong, for the person fixing the file.
    pub description: String,
}

const REQUIRED: &[&str] = &["id", "nom", "latitude", "longitude", "typologie"];
const KNOWN: &[&str] = &[
    "id",
    "nom",
    "adresse",
    "code_postal",
    "commune",
    "code_insee",
    "latitude",
    "longitude",
    "typologie",
    "horaires",
    "site_web",
    "courriel",
    "telephone",
    "siret",
    "description",
    "capacites",
];

fn column_name(header: &str) -> String {
    let name = fold(header.trim().trim_start_matches('\u{feff}')).replace([' ', '-'], "_");
    match name.as_str() {
        "identifiant" => "id".into(),
        "adresse_postale" => "adresse".into(),
        "code_commune_insee" | "insee" => "code_insee".into(),
        "lat" => "latitude".into(),
        "lon" | "lng" => "longitude".into(),
        "site" | "site_internet" | "url" => "site_web".into(),
        "email" | "mail" => "courriel".into(),
        "tel" | "telephone_contact" => "telephone".into(),
        "pivot_siret" => "siret".into(),
        _ => name,
    }
}

/// Parses the file; `Err` when the file as a whole cannot be read (encoding, missing
/// columns, too many rows).
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<Result<ImportRow, RowError>>, Invalid> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| Invalid::new(format!("is not UTF-8 text: {e}")))?;
    let header_line = text.lines().next().unwrap_or("");
    let delimiter = if header_line.matches(';').count() > header_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let index = column_index(
        reader
            .headers()
            .map_err(|e| Invalid::new(format!("has no readable header line: {e}")))?,
    )?;
    let mut rows = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for record in reader.records() {
        if rows.len() >= MAX_ROWS {
            return Err(Invalid::new(format!(
                "has more than {MAX_ROWS} rows; split it"
            )));
        }
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                rows.push(Err(unreadable(&error)));
                continue;
            }
        };
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        let row = Row {
            record: &record,
            index: &index,
        };
        match parse_row(line, &row, delimiter == b';') {
            Ok(row) => match seen.get(&row.external_id) {
                Some(first) => rows.push(Err(RowError {
                    line,
                    field: "id".into(),
                    description: format!("{:?} already appears on line {first}", row.external_id),
                })),
                None => {
                    seen.insert(row.external_id.clone(), line);
                    rows.push(Ok(row));
                }
            },
            Err(errors) => rows.extend(errors.into_iter().map(Err)),
        }
    }
    Ok(rows)
}

/// Where each known column is, by its canonical name; refused when a required one is
/// missing.
fn column_index(headers: &csv::StringRecord) -> Result<HashMap<String, usize>, Invalid> {
    let index: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (column_name(h), i))
        .filter(|(name, _)| KNOWN.contains(&name.as_str()))
        .collect();
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| !index.contains_key(*c))
        .collect();
    if !missing.is_empty() {
        return Err(Invalid::new(format!(
            "lacks the column(s) {}",
            missing.join(", ")
        )));
    }
    Ok(index)
}

/// A row the CSV reader could not split into fields, told in the file's terms.
fn unreadable(error: &csv::Error) -> RowError {
    let line = error.position().map(|p| p.line() as usize).unwrap_or(0);
    let description = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "has {len} fields where the header has {expected_len} (a value with the separator in it must be quoted)"
        ),
        _ => format!("unreadable row: {error}"),
    };
    RowError {
        line,
        field: "".into(),
        description,
    }
}

/// One record, read by column name.
struct Row<'a> {
    record: &'a csv::StringRecord,
    index: &'a HashMap<String, usize>,
}

impl<'a> Row<'a> {
    /// The trimmed value of `column`; empty when absent.
    fn get(&self, column: &str) -> &'a str {
        self.index
            .get(column)
            .and_then(|i| self.record.get(*i))
            .unwrap_or("")
            .trim()
    }
}

/// Collects the field errors of one row.
struct RowErrors {
    line: usize,
    errors: Vec<RowError>,
}

impl RowErrors {
    fn check<T>(&mut self, field: &str, result: Result<T, Invalid>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(invalid) => {
                self.errors.push(RowError {
                    line: self.line,
                    field: field.to_string(),
                    description: invalid.0,
                });
                None
            }
        }
    }
}

fn optional<T>(
    value: &str,
    parse: impl FnOnce(&str) -> Result<T, Invalid>,
) -> Result<Option<T>, Invalid> {
    if value.is_empty() {
        Ok(None)
    } else {
        parse(value).map(Some)
    }
}

/// A coordinate; with `decimal_comma` (semicolon-separated files), `45,77` is 45.77.
fn parse_coordinate(raw: &str, decimal_comma: bool) -> Result<f64, Invalid> {
    let raw = if decimal_comma {
        raw.replace(',', ".")
    } else {
        raw.to_string()
    };
    raw.parse::<f64>()
        .map_err(|_| Invalid::new(format!("{raw:?} is not a number")))
}

/// `typologie`: one kind or more, separated by `,`, `;`, `|` or `/`, each as French
/// open data names it or by our code.
fn parse_kinds(value: &str) -> Result<BTreeSet<PlaceKind>, Invalid> {
    let kinds = value
        .split([',', ';', '|', '/'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            PlaceKind::from_typologie(t)
                .ok_or_else(|| Invalid::new(format!("unknown typologie {t:?}")))
        })
        .collect::<Result<BTreeSet<_>, _>>()?;
    if kinds.is_empty() {
        Err(Invalid::new("must name at least one kind"))
    } else {
        Ok(kinds)
    }
}

/// `capacites`: capability codes separated by `,`, `;` or `|`; none is fine.
fn parse_capabilities(value: &str) -> Result<BTreeSet<Capability>, Invalid> {
    value
        .split([',', ';', '|'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(Capability::parse)
        .collect()
}

/// One row into a place, or every bad field of it.
///
/// Over 60 lines: as long as the schema is wide, one line per column, then the place assembled only
/// when every field parsed — so that a row's bad fields are all reported at once,
/// not one per attempt.
fn parse_row(line: usize, row: &Row<'_>, decimal_comma: bool) -> Result<ImportRow, Vec<RowError>> {
    let get = |column: &str| row.get(column);
    let mut e = RowErrors {
        line,
        errors: Vec::new(),
    };
    let external_id = e.check("id", fabrique_types::bounded_text(get("id"), 1, 200));
    let name = e.check("nom", parse_display_name(get("nom")));
    let latitude = e.check("latitude", parse_coordinate(get("latitude"), decimal_comma));
    let longitude = e.check(
        "longitude",
        parse_coordinate(get("longitude"), decimal_comma),
    );
    let location = match (latitude, longitude) {
        (Some(lat), Some(lon)) => match Location::parse(lat, lon) {
            Ok(location) => Some(location),
            Err((field, invalid)) => e.check(field, Err(invalid)),
        },
        _ => None,
    };
    let kinds = e.check("typologie", parse_kinds(get("typologie")));
    let capabilities = e.check("capacites", parse_capabilities(get("capacites")));
    let street = e.check(
        "adresse",
        fabrique_types::optional_text(get("adresse"), 300),
    );
    let postal_code = e.check(
        "code_postal",
        optional(get("code_postal"), PostalCode::parse),
    );
    let locality = e.check(
        "commune",
        fabrique_types::optional_text(get("commune"), 200),
    );
    let insee_code = e.check("code_insee", optional(get("code_insee"), InseeCode::parse));
    let opening_hours = e.check("horaires", optional(get("horaires"), OpeningHours::parse));
    let website = e.check("site_web", optional(get("site_web"), Website::parse));
    let contact_email = e.check("courriel", optional(get("courriel"), Email::parse));
    let phone = e.check("telephone", optional(get("telephone"), Phone::parse));
    let siret = e.check("siret", optional(get("siret"), Siret::parse));
    let description = e.check("description", parse_description(get("description")));

    match (
        external_id,
        name,
        location,
        kinds,
        capabilities,
        street,
        postal_code,
        locality,
        insee_code,
        opening_hours,
        website,
        contact_email,
        phone,
        siret,
        description,
    ) {
        (
            Some(external_id),
            Some(display_name),
            Some(location),
            Some(kinds),
            Some(capabilities),
            Some(street),
            Some(postal_code),
            Some(locality),
            Some(insee_code),
            Some(opening_hours),
            Some(website),
            Some(contact_email),
            Some(phone),
            Some(siret),
            Some(description),
        ) if e.errors.is_empty() => Ok(ImportRow {
            line,
            external_id,
            description: Description {
                display_name,
                kinds,
                description,
                address: Address {
                    street,
                    postal_code,
                    locality,
                },
                insee_code,
                location,
                capabilities,
                opening_hours,
                website,
                contact_email,
                phone,
                operator: None,
                eco_labels: Vec::new(),
                siret,
            },
        }),
        _ => Err(e.errors),
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Rows new to the source, now LISTED places.
    pub created: usize,
    /// Rows whose place changed.
    pub updated: usize,
    /// Rows whose place was already as described.
    pub unchanged: usize,
    /// One per bad field, in line order.
    pub errors: Vec<RowError>,
}

impl ImportReport {
    /// How many rows were not imported.
    pub fn refused_rows(&self) -> usize {
        let mut lines: Vec<usize> = self.errors.iter().map(|e| e.line).collect();
        lines.dedup();
        lines.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "id,nom,adresse,code_postal,commune,code_insee,latitude,longitude,typologie,horaires,site_web";

    #[test]
    fn good_and_bad_rows_are_told_apart_by_line() {
        let file = format!(
            "{HEADER}\n\
             a1,FabLab de Thiers,\"1 rue de la Coutellerie, bât. B\",63300,Thiers,63430,45.8564,3.5475,fablab,Mo-Fr 14:00-18:00,https://fablab.example.org\n\
             a2,Sans latitude,,,,,,3.0,fablab,,\n\
             a3,Ressourcerie,,63000,Clermont-Ferrand,63113,45.77,3.08,recyclerie;atelier de réparation,,\n\
             a4,Trop au nord,,,,,91,3.0,fablab,,\n"
        );
        let rows = parse_csv(file.as_bytes()).unwrap();
        let ok: Vec<_> = rows.iter().filter_map(|r| r.as_ref().ok()).collect();
        let bad: Vec<_> = rows.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].line, 2);
        assert_eq!(
            ok[0].description.address.street.as_deref(),
            Some("1 rue de la Coutellerie, bât. B")
        );
        assert_eq!(ok[1].description.kinds.len(), 2);
        assert_eq!(
            bad.iter()
                .map(|e| (e.line, e.field.as_str()))
                .collect::<Vec<_>>(),
            [(3, "latitude"), (5, "latitude")]
        );
    }

    #[test]
    fn semicolons_and_decimal_commas_are_understood() {
        let file = "identifiant;Nom;Latitude;Longitude;Typologie\nx;Tiers-lieu;45,7772;3,0870;Tiers-lieu\n";
        let rows = parse_csv(file.as_bytes()).unwrap();
        let row = rows[0].as_ref().unwrap();
        assert!((row.description.location.latitude() - 45.7772).abs() < 1e-9);
    }

    #[test]
    fn rows_with_the_wrong_number_of_fields_are_reported() {
        let file =
            "id,nom,latitude,longitude,typologie\na,A,45,3,fablab\nb,B,45,3,tiers-lieu,fablab\n";
        let rows = parse_csv(file.as_bytes()).unwrap();
        assert!(rows[0].is_ok());
        let error = rows[1].as_ref().unwrap_err();
        assert_eq!(error.line, 3);
        assert!(
            error.description.contains("quoted"),
            "{}",
            error.description
        );
    }

    #[test]
    fn files_missing_columns_or_repeating_ids_are_refused() {
        assert!(
            parse_csv(b"nom,latitude\nx,1\n")
                .unwrap_err()
                .0
                .contains("id")
        );
        let twice = format!("{HEADER}\nsame,A,,,,,45,3,fablab,,\nsame,B,,,,,45,3,fablab,,\n");
        let rows = parse_csv(twice.as_bytes()).unwrap();
        assert_eq!(rows[1].as_ref().unwrap_err().field, "id");
    }
}
