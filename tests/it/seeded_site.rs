//! `fabrique serve` as the README's quick start runs it, after `fabrique seed`, on free
//! ports, for the tests in a real browser (`browser.rs`, `sign_in.rs`), and what those
//! tests share to read its pages.

use std::process::Stdio;
use std::time::Duration;

use fabrique_api::projects as pp;
use fabrique_testkit::browser::{Browser, Element};
use fabrique_testkit::{TempDir, free_port};

const BIN: &str = env!("CARGO_BIN_EXE_fabrique");

/// What a `serve` process printed, as it prints it.
type Terminal = std::sync::Arc<std::sync::Mutex<String>>;

/// `fabrique serve` on the seeded example alliance (SQLite, in-process bus), on free
/// ports; stops when dropped.
pub struct SeededSite {
    /// `http://127.0.0.1:<port>`.
    pub site: String,
    /// The gRPC API's address.
    pub grpc: String,
    /// What `serve` printed on its terminal (the admin's one-time link).
    terminal: Terminal,
    envs: Vec<(String, String)>,
    _server: tokio::process::Child,
    _data: TempDir,
}

impl SeededSite {
    pub async fn start() -> Self {
        Self::launch(&[], None).await
    }

    /// The seeded site with `extra` settings, its web address chosen by the caller
    /// (`site`) when it must be known first (an OpenID provider redirects to it).
    pub async fn launch(extra: &[(&str, &str)], site: Option<String>) -> Self {
        let data = TempDir::new("browser");
        let data_dir = data.path().to_str().expect("a UTF-8 path").to_string();
        let seeded = tokio::process::Command::new(BIN)
            .arg("seed")
            .env_remove("FABRIQUE_DATABASE_URL")
            .env_remove("FABRIQUE_NATS_URL")
            .env("FABRIQUE_DATA_DIR", &data_dir)
            .envs(extra.iter().copied())
            .output()
            .await
            .expect("fabrique seed runs");
        assert!(
            seeded.status.success(),
            "{}",
            String::from_utf8_lossy(&seeded.stderr)
        );
        // A free port can be taken by another process between choosing it and `serve`
        // binding it: then again on other ports (the caller's site address aside).
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (grpc, address) = (
                format!("127.0.0.1:{}", free_port()),
                site.clone()
                    .unwrap_or_else(|| format!("127.0.0.1:{}", free_port())),
            );
            let mut envs = vec![
                ("FABRIQUE_DATA_DIR", data_dir.as_str()),
                ("FABRIQUE_LISTEN", grpc.as_str()),
                ("FABRIQUE_WEB_LISTEN", address.as_str()),
            ];
            envs.extend_from_slice(extra);
            match Self::serve(&envs, &grpc, &address).await {
                Ok((server, terminal)) => {
                    return SeededSite {
                        site: format!("http://{address}"),
                        grpc: format!("http://{grpc}"),
                        terminal,
                        envs: envs
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                        _server: server,
                        _data: data,
                    };
                }
                Err(printed) if printed.contains("Address already in use") && attempt < 3 => {}
                Err(printed) => panic!("{printed}"),
            }
        }
    }

    /// `fabrique serve` with `envs`, once its site and API answer; what it printed if
    /// it stopped first.
    async fn serve(
        envs: &[(&str, &str)],
        grpc: &str,
        site: &str,
    ) -> Result<(tokio::process::Child, Terminal), String> {
        let mut server = tokio::process::Command::new(BIN)
            .arg("serve")
            .env_remove("FABRIQUE_DATABASE_URL")
            .env_remove("FABRIQUE_NATS_URL")
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("fabrique serve starts");
        let terminal: Terminal = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut stderr = server.stderr.take().expect("piped");
        let written = terminal.clone();
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt as _;
            let mut buffer = [0u8; 4096];
            while let Ok(read) = stderr.read(&mut buffer).await {
                if read == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buffer[..read]).to_string();
                written
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push_str(&text);
            }
        });
        let address: std::net::SocketAddr = site.parse().expect("an address");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if tokio::net::TcpStream::connect(address).await.is_ok()
                && fabrique_testkit::http::get(address, "/healthz")
                    .await
                    .status
                    == 200
            {
                break;
            }
            let printed = || terminal.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if let Ok(Some(exit)) = server.try_wait() {
                // Its last words may still be in the pipe.
                tokio::time::sleep(Duration::from_millis(200)).await;
                return Err(format!("fabrique serve stopped ({exit}):\n{}", printed()));
            }
            if tokio::time::Instant::now() > deadline {
                panic!("the site did not answer within 60 s:\n{}", printed());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let endpoint = format!("http://{grpc}");
        fabrique_testkit::eventually("the API to serve", Duration::from_secs(60), || async {
            let channel = tonic::transport::Channel::from_shared(endpoint.clone())
                .ok()?
                .connect()
                .await
                .ok()?;
            let health = tonic_health::pb::health_client::HealthClient::new(channel)
                .check(tonic_health::pb::HealthCheckRequest::default())
                .await
                .ok()?;
            let serving = tonic_health::pb::health_check_response::ServingStatus::Serving;
            (health.get_ref().status == serving as i32).then_some(())
        })
        .await;
        Ok((server, terminal))
    }

    /// What `serve` printed on its terminal so far.
    pub fn terminal(&self) -> String {
        self.terminal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// An admin's bearer token for the API (`fabrique token` with the site's data).
    pub async fn admin_token(&self) -> String {
        let output = tokio::process::Command::new(BIN)
            .arg("token")
            .env_remove("FABRIQUE_JWT_SECRET")
            .envs(self.envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .await
            .expect("fabrique token runs");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// The admin's one-time link `serve` printed when it started.
    pub async fn admin_link(&self) -> String {
        fabrique_testkit::eventually("the admin's link", Duration::from_secs(30), || async {
            let terminal = self
                .terminal
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            terminal
                .split_whitespace()
                .find(|word| word.contains("/connexion/lien/"))
                .map(str::to_string)
        })
        .await
    }

    /// `fabrique login-link` with this site's settings.
    pub async fn login_link(&self, args: &[&str]) -> String {
        let output = tokio::process::Command::new(BIN)
            .arg("login-link")
            .args(args)
            .env_remove("FABRIQUE_DATABASE_URL")
            .env_remove("FABRIQUE_NATS_URL")
            .envs(self.envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .await
            .expect("fabrique login-link runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// A gRPC channel to the site's API.
    pub async fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Channel::from_shared(self.grpc.clone())
            .expect("a URI")
            .connect()
            .await
            .expect("the API")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.site)
    }

    pub async fn programme(&self, title: &str) -> pp::Programme {
        pp::projects_service_client::ProjectsServiceClient::new(self.channel().await)
            .list_programmes(pp::ListProgrammesRequest::default())
            .await
            .expect("programmes")
            .into_inner()
            .programmes
            .into_iter()
            .find(|p| p.title == title)
            .unwrap_or_else(|| panic!("the seed opens {title}"))
    }
}

/// Saves what `browser` shows as `<name>.png` for the guides in `docs/guides/images`,
/// when `FABRIQUE_GUIDE_SCREENSHOTS` names that folder (`scripts/screenshots` does):
/// the pictures in the guides are the pages the tests have just checked. The window
/// shows the page from the element `at` (`main`: from the top).
pub async fn for_the_guides(browser: &Browser, name: &str, at: &str) {
    if let Some(folder) = std::env::var_os("FABRIQUE_GUIDE_SCREENSHOTS") {
        let folder = std::path::PathBuf::from(folder);
        std::fs::create_dir_all(&folder).expect("the screenshots' folder");
        browser
            .execute(
                "const at = document.querySelector(arguments[0]);
                 if (arguments[0] === 'main' || !at) window.scrollTo(0, 0);
                 else at.scrollIntoView({block: 'start'});",
                vec![at.into()],
            )
            .await;
        browser
            .screenshot(&folder.join(format!("{name}.png")))
            .await;
    }
}

/// The first link whose text contains `text`.
pub async fn link_with_text(browser: &Browser, text: &str) -> Element {
    for link in browser.find_all("main a").await {
        if browser.text(&link).await.contains(text) {
            return link;
        }
    }
    panic!("no link says {text} on {}", browser.url().await);
}

/// The text of the first element matching `css` once it shows (a popup fades in: until
/// then it reads as empty), read again when a navigation replaced the page meanwhile.
pub async fn shown_text(browser: &Browser, css: &str) -> String {
    fabrique_testkit::eventually(css, Duration::from_secs(10), || async {
        let element = browser.find_all(css).await.into_iter().next()?;
        let text = browser.text_now(&element).await?;
        (!text.is_empty()).then_some(text)
    })
    .await
}

/// The first button whose text is `text`.
pub async fn link_or_button(browser: &Browser, text: &str) -> Element {
    for button in browser.find_all("main button, main a").await {
        if browser.text(&button).await.trim() == text {
            return button;
        }
    }
    panic!("no button says {text} on {}", browser.url().await);
}

/// Waits until the browser is on a page whose URL ends with `end` (after a form's
/// redirect, say).
pub async fn arrived(browser: &Browser, end: &str) {
    fabrique_testkit::eventually(end, Duration::from_secs(10), || async {
        browser.url().await.ends_with(end).then_some(())
    })
    .await;
}

/// Waits until the page's heading holds `text` (the page a click leads to has loaded),
/// and returns it.
pub async fn heading_with(browser: &Browser, text: &str) -> String {
    fabrique_testkit::eventually(text, Duration::from_secs(10), || async {
        let heading = browser.find_all("h1").await.into_iter().next()?;
        let heading = browser.text_now(&heading).await?;
        heading.contains(text).then_some(heading)
    })
    .await
}

/// What runs the seeded site on PostgreSQL and NATS instead of the embedded default: a
/// database of its own, the shared NATS server under subjects of its own with small
/// streams, and a JWT secret drawn now (off the embedded default, `serve` generates
/// none). The database lives as long as this value.
pub struct OnPostgres {
    _database: fabrique_testkit::TestDatabase,
    settings: Vec<(&'static str, String)>,
}

impl OnPostgres {
    pub async fn new() -> Self {
        let database = fabrique_testkit::TestDatabase::create().await;
        let secret =
            uuid::Uuid::new_v4().simple().to_string() + &uuid::Uuid::new_v4().simple().to_string();
        let settings = vec![
            ("FABRIQUE_DATABASE_URL", database.url.clone()),
            (
                "FABRIQUE_NATS_URL",
                fabrique_testkit::nats::shared_nats_url(),
            ),
            (
                "FABRIQUE_SUBJECT_PREFIX",
                fabrique_testkit::nats::unique_prefix(),
            ),
            ("FABRIQUE_JWT_SECRET", secret),
            // Small streams: JetStream sets aside each stream's limit in its store, and
            // the tests share one server (the default 1 GiB a stream fills it after a
            // few sites).
            ("FABRIQUE_NATS_STREAM_MAX_BYTES", "16MiB".to_string()),
            ("FABRIQUE_NATS_DLQ_MAX_BYTES", "4MiB".to_string()),
        ];
        OnPostgres {
            _database: database,
            settings,
        }
    }

    /// The settings, as `SeededSite::launch` takes them.
    pub fn settings(&self) -> Vec<(&str, &str)> {
        self.settings
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect()
    }
}
