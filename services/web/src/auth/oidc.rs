//! Signing in with the OpenID Connect provider the operator configures (Keycloak,
//! ProConnect for public agents, the alliance's own): the authorization code flow with
//! PKCE (S256), `state` and `nonce`. What the flow must remember between leaving for the
//! provider and coming back (state, nonce, PKCE verifier) travels in a short cookie
//! signed with the session key, so any replica can finish what another started.
//!
//! The ID token is checked against the provider's keys (discovered, refetched when a
//! token names a key not seen yet): its signature (asymmetric algorithms only), issuer,
//! audience, expiry and nonce. The person's e-mail counts only when the provider says
//! it is verified; it is what finds the members they may act for (a member's contact
//! people). Admins are the e-mails of `FABRIQUE_WEB_ADMINS`, or the people whose claim
//! `FABRIQUE_WEB_ADMIN_CLAIM` (`name=value`) holds the value.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

use super::http_client::{self, base64url, encode};
use super::{SignIn, random_hex};

/// How long a person may take at the provider.
const FLOW_MINUTES: i64 = 10;

const FLOW_AUDIENCE: &str = "fabrique-web-oidc";

/// The provider as the operator configures it.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// Its issuer URL, as in its tokens (discovery is under it).
    pub issuer: String,
    /// This site's client id there.
    pub client_id: String,
    /// The client secret, for a confidential client (HTTP Basic at the token endpoint).
    pub client_secret: Option<String>,
    /// How the sign-in button names it ("ProConnect").
    pub name: String,
    /// E-mails of the alliance's admins (lowercase).
    pub admins: Vec<String>,
    /// A claim and the value that make an admin (`roles`, `fabrique-admin`).
    pub admin_claim: Option<(String, String)>,
}

/// What the provider's discovery document says, and its keys.
#[derive(Debug, Clone)]
struct Discovery {
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: Option<String>,
    keys: JwkSet,
}

/// The provider, its discovery fetched on first use (and again when it fails or a key
/// is missing).
#[derive(Debug)]
pub struct Oidc {
    /// As configured.
    pub config: OidcConfig,
    discovery: RwLock<Option<Discovery>>,
}

/// A person the provider vouched for.
#[derive(Debug, Clone)]
pub struct Person {
    /// `oidc:` and the provider's `sub`: stable and pseudonymous.
    pub id: String,
    /// How to greet them.
    pub name: String,
    /// Their e-mail, when the provider verified it (lowercase).
    pub email: Option<String>,
    /// Whether they administer the alliance.
    pub admin: bool,
}

/// What the flow remembers between leaving and coming back.
#[derive(Debug, Serialize, Deserialize)]
struct Flow {
    state: String,
    nonce: String,
    verifier: String,
    exp: i64,
    aud: String,
}

impl Oidc {
    /// The provider of `config`, not contacted yet.
    pub fn new(config: OidcConfig) -> Self {
        Oidc {
            config,
            discovery: RwLock::new(None),
        }
    }

    async fn discovery(&self, refresh_keys: bool) -> Result<Discovery, String> {
        if !refresh_keys && let Some(known) = self.discovery.read().await.clone() {
            return Ok(known);
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let document = http_client::get_json(&url, None).await?;
        let text = |key: &str| {
            document[key]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{url}: no {key}"))
        };
        if text("issuer")? != self.config.issuer {
            return Err(format!("{url}: the issuer is not {}", self.config.issuer));
        }
        let jwks_uri = text("jwks_uri")?;
        let keys: JwkSet = serde_json::from_value(http_client::get_json(&jwks_uri, None).await?)
            .map_err(|e| format!("{jwks_uri}: {e}"))?;
        let discovery = Discovery {
            authorization_endpoint: text("authorization_endpoint")?,
            token_endpoint: text("token_endpoint")?,
            userinfo_endpoint: text("userinfo_endpoint").ok(),
            keys,
        };
        *self.discovery.write().await = Some(discovery.clone());
        Ok(discovery)
    }

    /// Where to send the person, and the `Set-Cookie` that remembers the flow.
    pub async fn start(&self, sign_in: &SignIn) -> Result<(String, String), String> {
        let discovery = self.discovery(false).await?;
        let flow = Flow {
            state: random_hex(),
            nonce: random_hex(),
            verifier: random_hex() + &random_hex(),
            exp: chrono::Utc::now().timestamp() + FLOW_MINUTES * 60,
            aud: FLOW_AUDIENCE.into(),
        };
        let challenge = base64url(&Sha256::digest(flow.verifier.as_bytes()));
        let url = format!(
            "{}?response_type=code&client_id={}&redirect_uri={}&scope=openid%20email%20profile\
             &state={}&nonce={}&code_challenge={challenge}&code_challenge_method=S256",
            discovery.authorization_endpoint,
            encode(&self.config.client_id),
            encode(&redirect_uri(sign_in)),
            flow.state,
            flow.nonce,
        );
        let value = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &flow,
            &EncodingKey::from_secret(&sign_in.session_key),
        )
        .map_err(|e| e.to_string())?;
        Ok((url, flow_cookie(sign_in, &value, FLOW_MINUTES * 60)))
    }

    /// The person coming back with `code` and `state`, checked against the flow the
    /// request's cookies remember.
    pub async fn finish(
        &self,
        sign_in: &SignIn,
        cookies: Option<&str>,
        code: &str,
        state: &str,
    ) -> Result<Person, String> {
        let flow = read_flow(sign_in, cookies).ok_or("no sign-in in progress (or too old)")?;
        if !super::same(&flow.state, state) {
            return Err("the state does not match".into());
        }
        let discovery = self.discovery(false).await?;
        let redirect = redirect_uri(sign_in);
        let mut fields = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect.as_str()),
            ("code_verifier", flow.verifier.as_str()),
        ];
        let credentials = match &self.config.client_secret {
            Some(secret) => Some((self.config.client_id.as_str(), secret.as_str())),
            None => {
                fields.push(("client_id", self.config.client_id.as_str()));
                None
            }
        };
        let tokens =
            http_client::post_form(&discovery.token_endpoint, &fields, credentials).await?;
        let id_token = tokens["id_token"].as_str().ok_or("no id_token")?;
        let mut claims = self.verify(id_token, &flow.nonce).await?;
        let sub = claims["sub"].as_str().ok_or("no sub")?.to_string();
        if claims.get("email").is_none()
            && let (Some(userinfo), Some(access)) = (
                discovery.userinfo_endpoint.as_deref(),
                tokens["access_token"].as_str(),
            )
        {
            // A conforming provider may keep scope claims out of the ID token.
            let info = http_client::get_json(userinfo, Some(access)).await?;
            if info["sub"].as_str() != Some(sub.as_str()) {
                return Err("the user info is about someone else".into());
            }
            for (key, value) in info.as_object().into_iter().flatten() {
                claims[key] = value.clone();
            }
        }
        Ok(self.person(&sub, &claims))
    }

    /// The ID token's claims, once its signature, issuer, audience, expiry and nonce
    /// are right.
    async fn verify(&self, id_token: &str, nonce: &str) -> Result<Value, String> {
        let header = jsonwebtoken::decode_header(id_token).map_err(|e| e.to_string())?;
        if !matches!(
            header.alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::ES256
                | Algorithm::ES384
                | Algorithm::EdDSA
        ) {
            return Err(format!("an ID token signed with {:?}", header.alg));
        }
        let mut discovery = self.discovery(false).await?;
        let find = |set: &JwkSet| match &header.kid {
            Some(kid) => set.find(kid).cloned(),
            None if set.keys.len() == 1 => set.keys.first().cloned(),
            None => None,
        };
        let jwk = match find(&discovery.keys) {
            Some(jwk) => jwk,
            None => {
                // Keys rotate: fetch them again once.
                discovery = self.discovery(true).await?;
                find(&discovery.keys).ok_or_else(|| format!("no key {:?}", header.kid))?
            }
        };
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
        let mut validation = Validation::new(header.alg);
        validation.set_audience(&[&self.config.client_id]);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        let data = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
            .map_err(|e| format!("the ID token: {e}"))?;
        if !data.claims["nonce"]
            .as_str()
            .is_some_and(|n| super::same(n, nonce))
        {
            return Err("the nonce does not match".into());
        }
        Ok(data.claims)
    }

    fn person(&self, sub: &str, claims: &Value) -> Person {
        let verified = claims["email_verified"] == Value::Bool(true)
            || claims["email_verified"] == Value::String("true".into());
        let email = claims["email"]
            .as_str()
            .filter(|_| verified)
            .map(str::to_lowercase);
        let name = ["name", "preferred_username", "email"]
            .iter()
            .find_map(|key| claims[key].as_str())
            .or_else(|| claims["given_name"].as_str())
            .unwrap_or(sub)
            .to_string();
        let by_email = email
            .as_ref()
            .is_some_and(|e| self.config.admins.iter().any(|a| a == e));
        let by_claim = self
            .config
            .admin_claim
            .as_ref()
            .is_some_and(|(key, value)| match &claims[key] {
                Value::String(v) => v == value,
                Value::Array(items) => items.iter().any(|i| i.as_str() == Some(value)),
                _ => false,
            });
        Person {
            id: format!("oidc:{sub}"),
            name,
            email,
            admin: by_email || by_claim,
        }
    }
}

/// Where the provider sends people back.
pub fn redirect_uri(sign_in: &SignIn) -> String {
    format!("{}/connexion/retour", sign_in.public_url)
}

fn flow_cookie_name(sign_in: &SignIn) -> &'static str {
    if sign_in.is_https() {
        "__Host-fabrique_oidc"
    } else {
        "fabrique_oidc"
    }
}

/// The `Set-Cookie` of the flow's memory (`max_age` 0 forgets it).
pub fn flow_cookie(sign_in: &SignIn, value: &str, max_age: i64) -> String {
    let secure = if sign_in.is_https() { "; Secure" } else { "" };
    format!(
        "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
        flow_cookie_name(sign_in)
    )
}

fn read_flow(sign_in: &SignIn, cookies: Option<&str>) -> Option<Flow> {
    let name = flow_cookie_name(sign_in);
    let value = cookies?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[FLOW_AUDIENCE]);
    validation.leeway = 0;
    jsonwebtoken::decode::<Flow>(
        value,
        &DecodingKey::from_secret(&sign_in.session_key),
        &validation,
    )
    .ok()
    .map(|data| data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636_s() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            base64url(&Sha256::digest(verifier.as_bytes())),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn admins_come_from_the_list_or_the_claim() {
        let oidc = Oidc::new(OidcConfig {
            issuer: "https://id.example".into(),
            client_id: "fabrique".into(),
            client_secret: None,
            name: "Test".into(),
            admins: vec!["chef@alliance.example".into()],
            admin_claim: Some(("roles".into(), "fabrique-admin".into())),
        });
        let listed = serde_json::json!({"email": "Chef@Alliance.example", "email_verified": true});
        assert!(oidc.person("1", &listed).admin);
        let unverified = serde_json::json!({"email": "chef@alliance.example"});
        let person = oidc.person("1", &unverified);
        assert!(
            !person.admin && person.email.is_none(),
            "an unverified e-mail counts for nothing"
        );
        let claimed = serde_json::json!({"roles": ["x", "fabrique-admin"]});
        assert!(oidc.person("2", &claimed).admin);
        assert_eq!(oidc.person("3", &serde_json::json!({})).name, "3");
        assert_eq!(oidc.person("3", &serde_json::json!({})).id, "oidc:3");
    }
}
