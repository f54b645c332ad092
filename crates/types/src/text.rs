//! Text: the refusal type, bounded text, and folding for search.

use std::fmt;

/// Why a value was refused, in words for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

/// `Err(Invalid(message))`, for parsers.
pub fn invalid_err<T>(message: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid(message.into()))
}

pub(crate) use invalid_err as invalid;

/// Trimmed text of `min..=max` characters without control characters (tab and newline
/// allowed when `multiline`).
pub fn bounded_text(value: &str, min: usize, max: usize) -> Result<String, Invalid> {
    checked(value, min, max, false)
}

fn checked(value: &str, min: usize, max: usize, multiline: bool) -> Result<String, Invalid> {
    let trimmed = value.trim();
    // Count at most max + 1 characters: a 5 MB string is refused without a full pass.
    let length = trimmed.chars().take(max + 1).count();
    if length < min {
        return invalid("must not be empty");
    }
    if length > max {
        return invalid(format!("must be at most {max} characters"));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\t' | '\r');
    if trimmed.chars().any(|c| c.is_control() && !allowed(c)) {
        return invalid("must not contain control characters");
    }
    Ok(trimmed.to_string())
}

/// Optional bounded text: blank is `None`.
pub fn optional_text(value: &str, max: usize) -> Result<Option<String>, Invalid> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        bounded_text(value, 1, max).map(Some)
    }
}

/// Optional text of several lines (descriptions): blank is `None`.
pub fn optional_multiline(value: &str, max: usize) -> Result<Option<String>, Invalid> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        checked(value, 1, max, true).map(Some)
    }
}

/// Lowercase and without diacritics, for accent-insensitive search ("Dôme" ~ "dome").
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => out.push('a'),
            'ç' => out.push('c'),
            'è' | 'é' | 'ê' | 'ë' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' => out.push('i'),
            'ñ' => out.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => out.push('o'),
            'ù' | 'ú' | 'û' | 'ü' => out.push('u'),
            'ý' | 'ÿ' => out.push('y'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            '’' | '‘' | '`' => out.push('\''),
            '–' | '—' => out.push('-'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_bounded_and_trimmed() {
        assert_eq!(bounded_text("  Aduhme ", 1, 200).unwrap(), "Aduhme");
        assert!(bounded_text("   ", 1, 200).is_err());
        assert!(bounded_text(&"x".repeat(201), 1, 200).is_err());
        assert!(bounded_text(&"é".repeat(200), 1, 200).is_ok());
        assert!(bounded_text("a\u{0}b", 1, 200).is_err());
        assert!(bounded_text("a\nb", 1, 200).is_err());
        assert_eq!(
            optional_multiline("a\nb", 10).unwrap().as_deref(),
            Some("a\nb")
        );
        assert_eq!(optional_text(" ", 10).unwrap(), None);
    }

    #[test]
    fn folding_ignores_case_and_accents() {
        assert_eq!(
            fold("Département du Puy-de-Dôme"),
            "departement du puy-de-dome"
        );
        assert_eq!(fold("Cœur d’Auvergne"), "coeur d'auvergne");
    }
}
