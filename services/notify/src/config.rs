//! How the notify service is configured: where e-mails go (`FABRIQUE_SMTP_URL`, else
//! `.eml` files), who they are from, the site their links open, the admins told of new
//! members, and how failures are retried. [`NotifyArgs`] are the binary's flags; the
//! service runs with the [`NotifyConfig`] they give.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;

use crate::domain::{Email, Retry, parse_address};
use crate::transport::Transport;

/// The notify service's flags (each also an environment variable).
#[derive(Debug, Clone, clap::Args)]
pub struct NotifyArgs {
    /// The SMTP server e-mails leave through: `smtp://user:password@host:587?tls=required`
    /// (STARTTLS), `smtps://user:password@host:465` (TLS), `smtp://host:25` (none).
    /// Unset: e-mails are written as .eml files into FABRIQUE_NOTIFY_MAIL_DIR on the
    /// embedded default (or when that is set), and kept unsent elsewhere.
    #[arg(long, env = "FABRIQUE_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Where e-mails are written without an SMTP server. Default: `mail` in the data
    /// directory.
    #[arg(long, env = "FABRIQUE_NOTIFY_MAIL_DIR")]
    pub notify_mail_dir: Option<PathBuf>,
    /// Who e-mails are from.
    #[arg(
        long,
        env = "FABRIQUE_NOTIFY_FROM",
        default_value = "Fabrique <ne-pas-repondre@fabrique.localhost>"
    )]
    pub notify_from: String,
    /// The site's address as people reach it, for the links in e-mails. Default:
    /// FABRIQUE_WEB_PUBLIC_URL, else http://127.0.0.1:8080.
    #[arg(long, env = "FABRIQUE_NOTIFY_SITE_URL")]
    pub notify_site_url: Option<String>,
    /// E-mails of the admins told when a member applies, comma-separated. Default:
    /// FABRIQUE_WEB_ADMINS.
    #[arg(long, env = "FABRIQUE_NOTIFY_ADMINS", value_delimiter = ',')]
    pub notify_admins: Vec<String>,
    /// Attempts of an e-mail before it is given up to the dead letters.
    #[arg(long, env = "FABRIQUE_NOTIFY_MAX_ATTEMPTS", default_value_t = 10)]
    pub notify_max_attempts: u32,
    /// The wait after a failed attempt, in seconds; it doubles at each failure.
    #[arg(
        long,
        env = "FABRIQUE_NOTIFY_FIRST_RETRY_SECONDS",
        default_value_t = 30.0
    )]
    pub notify_first_retry_seconds: f64,
    /// The longest wait between attempts, in seconds.
    #[arg(
        long,
        env = "FABRIQUE_NOTIFY_LONGEST_RETRY_SECONDS",
        default_value_t = 3600.0
    )]
    pub notify_longest_retry_seconds: f64,
}

/// The notify service's settings, checked.
#[derive(Clone)]
pub struct NotifyConfig {
    /// Where e-mails go.
    pub transport: Transport,
    /// Who they are from.
    pub from: Mailbox,
    /// The site their links open, without a trailing slash.
    pub site_url: String,
    /// The admins, told of new members.
    pub admins: Vec<Email>,
    /// How failures are retried.
    pub retry: Retry,
}

impl NotifyConfig {
    /// E-mails to `transport`, the rest as by default: the config tests and the embedded
    /// default start from.
    pub fn new(transport: Transport, site_url: &str) -> Self {
        NotifyConfig {
            transport,
            from: "Fabrique <ne-pas-repondre@fabrique.localhost>"
                .parse()
                .expect("the default sender parses"),
            site_url: site_url.trim_end_matches('/').to_string(),
            admins: Vec::new(),
            retry: Retry::default(),
        }
    }
}

impl Default for NotifyConfig {
    /// E-mails recorded and discarded, links to `http://127.0.0.1:8080`: the service as
    /// the binary's list holds it until `serve` gives it its flags.
    fn default() -> Self {
        NotifyConfig::new(Transport::Discard, "http://127.0.0.1:8080")
    }
}

impl NotifyArgs {
    /// The settings the flags give; `data_dir` is the embedded default's, where e-mails
    /// go without SMTP (`embedded`: elsewhere they wait for a server);
    /// `web_public_url` and `web_admins` are the site's, the defaults of the links and
    /// the admins. The error names the flag.
    pub fn config(
        &self,
        (data_dir, embedded): (&std::path::Path, bool),
        web_public_url: Option<&str>,
        web_admins: &[String],
    ) -> Result<NotifyConfig, String> {
        let transport = match (
            self.smtp_url.as_deref().filter(|u| !u.is_empty()),
            &self.notify_mail_dir,
        ) {
            (Some(url), _) => Transport::smtp(url)?,
            (None, Some(folder)) => Transport::Files(folder.clone()),
            (None, None) if embedded => Transport::Files(data_dir.join("mail")),
            (None, None) => Transport::Hold,
        };
        let from: Mailbox = self
            .notify_from
            .parse()
            .map_err(|e| format!("FABRIQUE_NOTIFY_FROM {:?}: {e}", self.notify_from))?;
        let site_url = self
            .notify_site_url
            .as_deref()
            .or(web_public_url)
            .filter(|u| !u.is_empty())
            .unwrap_or("http://127.0.0.1:8080");
        if !(site_url.starts_with("http://") || site_url.starts_with("https://")) {
            return Err(format!(
                "FABRIQUE_NOTIFY_SITE_URL {site_url:?}: must start with http:// or https://"
            ));
        }
        let admins = if self.notify_admins.iter().any(|a| !a.trim().is_empty()) {
            &self.notify_admins
        } else {
            web_admins
        };
        let admins = admins
            .iter()
            .filter(|a| !a.trim().is_empty())
            .map(|a| parse_address(a).map_err(|e| format!("FABRIQUE_NOTIFY_ADMINS {a:?}: {}", e.0)))
            .collect::<Result<Vec<_>, _>>()?;
        let retry = self.retry()?;
        Ok(NotifyConfig {
            transport,
            from,
            site_url: site_url.trim_end_matches('/').to_string(),
            admins,
            retry,
        })
    }

    /// How failures are retried, as the flags say.
    fn retry(&self) -> Result<Retry, String> {
        let seconds = |value: f64, name: &str| {
            Duration::try_from_secs_f64(value)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| format!("{name} must be a positive number of seconds"))
        };
        if self.notify_max_attempts == 0 {
            return Err("FABRIQUE_NOTIFY_MAX_ATTEMPTS must be at least 1".into());
        }
        Ok(Retry {
            max_attempts: self.notify_max_attempts,
            first: seconds(
                self.notify_first_retry_seconds,
                "FABRIQUE_NOTIFY_FIRST_RETRY_SECONDS",
            )?,
            longest: seconds(
                self.notify_longest_retry_seconds,
                "FABRIQUE_NOTIFY_LONGEST_RETRY_SECONDS",
            )?,
        })
    }
}
