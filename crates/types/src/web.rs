//! Addresses to reach someone: website URLs, e-mail addresses, phone numbers.

use crate::text::{Invalid, invalid};

/// An http(s) URL with a host, at most 500 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Website(String);

impl Website {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let url = value.trim();
        if url.chars().take(501).count() > 500 {
            return invalid("must be at most 500 characters");
        }
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| Invalid::new("must start with https:// or http://"))?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host_ok = !host.is_empty()
            && host.contains('.')
            && host
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | ':'));
        if !host_ok || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid("must be a URL with a host, e.g. https://www.puy-de-dome.fr");
        }
        Ok(Self(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plausible e-mail address (one `@`, a dotted domain), at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let email = value.trim();
        if email.len() > 254 {
            return invalid("must be at most 254 characters");
        }
        let valid = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if valid {
            Ok(Self(email.to_string()))
        } else {
            invalid("must be an e-mail address like name@example.org")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number as written (`04 73 42 20 20`, `+33 4 73 42 20 20`): 6 to 15 digits,
/// with spaces, dots, dashes, parentheses and a leading `+`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let phone = value.trim();
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let allowed = phone.char_indices().all(|(i, c)| {
            c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')') || (c == '+' && i == 0)
        });
        if allowed && (6..=15).contains(&digits) && phone.len() <= 30 {
            Ok(Self(phone.to_string()))
        } else {
            invalid("must be a phone number of 6 to 15 digits, e.g. 04 73 42 20 20")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websites_and_emails() {
        assert!(Website::parse("https://www.aduhme.org/solaire-dome").is_ok());
        assert!(Website::parse("ftp://x.org").is_err());
        assert!(Website::parse("https://").is_err());
        assert!(Website::parse("https://exa mple.org").is_err());
        assert!(Email::parse("contact@aduhme.org").is_ok());
        assert!(Email::parse("contact@aduhme").is_err());
        assert!(Email::parse("a@b@c.org").is_err());
    }

    #[test]
    fn phones() {
        assert!(Phone::parse("04 73 42 20 20").is_ok());
        assert!(Phone::parse("+33 (0)4.73.42.20.20").is_ok());
        assert!(Phone::parse("12").is_err());
        assert!(Phone::parse("04 73 x2").is_err());
        assert!(Phone::parse("0473+422020").is_err());
    }
}
