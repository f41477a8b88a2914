//! Service accounts in the simulator: JumpCloud's OAuth 2.0 client-credentials token endpoint
//! (`POST /oauth2/token`), the opaque bearer tokens it issues, and the administrator role
//! each account holds, so that a call beyond the role is refused with 403 as JumpCloud
//! refuses it. Token lifetimes can be shortened so tests cross an expiry in seconds.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use serde_json::json;

use crate::scopes::{Role, jumpcloud_needs};
use crate::{ApiError, Reply};

/// JumpCloud's token lifetime (about an hour); `--token-ttl` shortens it.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);
/// The path of the token endpoint, on the simulator's own host.
pub const TOKEN_PATH: &str = "/oauth2/token";
/// The simulator's own listing of its service accounts (API key only; no secrets).
pub const ACCOUNTS_PATH: &str = "/sandbox/service-accounts";
/// Every issued token starts with this, so a test can search any output for tokens.
pub const TOKEN_PREFIX: &str = "jcsa_";
/// Tokens remembered at once; expired ones are dropped first, then the oldest.
const MAX_TOKENS: usize = 10_000;
/// JumpCloud holds at most two secrets per service account (one to rotate to).
const MAX_SECRETS: usize = 2;

/// One client secret of a service account.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret {
    pub secret: String,
    /// After this instant the secret is refused.
    pub expires: Option<SystemTime>,
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecret")
            .field("secret", &"****")
            .field("expires", &self.expires)
            .finish()
    }
}

/// A service account: a client id, its secrets and its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub client_id: String,
    pub secrets: Vec<ClientSecret>,
    pub role: Role,
}

impl ServiceAccount {
    /// Parses `ID:SECRET[:ROLE]` (`sluice sandbox --service-account`); ROLE is a predefined
    /// role name (`Administrator` by default).
    pub fn parse(spec: &str) -> Result<ServiceAccount, String> {
        let mut parts = spec.splitn(3, ':');
        let id = parts.next().unwrap_or_default().trim();
        let secret = parts.next().unwrap_or_default();
        if id.is_empty() || secret.is_empty() {
            return Err(format!(
                "`{}`: expected CLIENT_ID:SECRET[:ROLE]",
                spec.split(':').next().unwrap_or_default()
            ));
        }
        let role = match parts.next() {
            None => Role::Administrator,
            // The text is not echoed: a secret containing `:` would end up in it.
            Some(r) => serde_json::from_value(json!(r.trim())).map_err(|_| {
                format!(
                    "service account `{id}`: unknown role after the secret; one of {}",
                    Role::ALL.map(|r| r.to_string()).join(", ")
                )
            })?,
        };
        Ok(ServiceAccount {
            client_id: id.to_owned(),
            secrets: vec![ClientSecret {
                secret: secret.to_owned(),
                expires: None,
            }],
            role,
        })
    }

    /// Folds accounts given more than once (one secret each) into one account per id.
    pub fn merge(accounts: Vec<ServiceAccount>) -> Result<Vec<ServiceAccount>, String> {
        let mut out: Vec<ServiceAccount> = Vec::new();
        for a in accounts {
            match out.iter_mut().find(|o| o.client_id == a.client_id) {
                Some(o) if o.role != a.role => {
                    return Err(format!(
                        "service account `{}` is given two roles ({} and {})",
                        a.client_id, o.role, a.role
                    ));
                }
                Some(o) => o.secrets.extend(a.secrets),
                None => out.push(a),
            }
        }
        if let Some(a) = out.iter().find(|a| a.secrets.len() > MAX_SECRETS) {
            return Err(format!(
                "service account `{}` has {} secrets; JumpCloud holds at most {MAX_SECRETS}",
                a.client_id,
                a.secrets.len()
            ));
        }
        Ok(out)
    }
}

/// A token the simulator issued.
#[derive(Debug, Clone, Copy)]
struct Issued {
    role: Role,
    expires: Instant,
}

/// The simulator's service accounts and the tokens it has issued.
#[derive(Debug)]
pub(super) struct Accounts {
    accounts: Vec<ServiceAccount>,
    /// Tokens issued to each account, for people and tests to see refreshes happen.
    issued: Vec<AtomicU64>,
    ttl: Duration,
    tokens: Mutex<HashMap<String, Issued>>,
}

impl Default for Accounts {
    fn default() -> Self {
        Accounts::new(Vec::new(), DEFAULT_TOKEN_TTL)
    }
}

fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    Reply {
        status,
        body: Some(json!({"error": error, "error_description": description})),
        headers: Vec::new(),
    }
}

fn unauthenticated(message: &str) -> Reply {
    ApiError::new(401, "UNAUTHENTICATED", message).into()
}

impl Accounts {
    pub(super) fn new(accounts: Vec<ServiceAccount>, ttl: Duration) -> Accounts {
        Accounts {
            issued: accounts.iter().map(|_| AtomicU64::new(0)).collect(),
            accounts,
            ttl: ttl.max(Duration::from_secs(1)),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// `POST /oauth2/token`: HTTP Basic with the client id and a secret, a form body with
    /// `grant_type=client_credentials` (and `scope=api`, the only scope).
    pub(super) fn token(&self, authorization: Option<&[u8]>, body: &[u8]) -> Reply {
        let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
        match form.get("grant_type").map(String::as_str) {
            Some("client_credentials") => {}
            Some(_) => {
                return oauth_error(
                    400,
                    "unsupported_grant_type",
                    "only grant_type=client_credentials is supported",
                );
            }
            None => return oauth_error(400, "invalid_request", "grant_type is missing"),
        }
        if form.get("scope").is_some_and(|s| s != "api") {
            return oauth_error(400, "invalid_scope", "the only scope is `api`");
        }
        let Some((id, secret)) = authorization.and_then(basic) else {
            return oauth_error(
                401,
                "invalid_client",
                "client authentication failed: send the client id and secret with HTTP Basic",
            );
        };
        let now = SystemTime::now();
        let account = self.accounts.iter().position(|a| {
            a.client_id == id
                && a.secrets
                    .iter()
                    .any(|s| s.secret == secret && s.expires.is_none_or(|e| e > now))
        });
        let Some(index) = account else {
            return oauth_error(
                401,
                "invalid_client",
                "client authentication failed: unknown client, or a wrong, revoked or expired secret",
            );
        };
        let token = format!(
            "{TOKEN_PREFIX}{:016x}{:016x}{:016x}",
            fastrand::u64(..),
            fastrand::u64(..),
            fastrand::u64(..)
        );
        self.issued[index].fetch_add(1, Ordering::Relaxed);
        let issued = Issued {
            role: self.accounts[index].role,
            expires: Instant::now() + self.ttl,
        };
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        if tokens.len() >= MAX_TOKENS {
            let now = Instant::now();
            tokens.retain(|_, t| t.expires > now);
            if tokens.len() >= MAX_TOKENS {
                let oldest = tokens
                    .iter()
                    .min_by_key(|(_, t)| t.expires)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    tokens.remove(&k);
                }
            }
        }
        tokens.insert(token.clone(), issued);
        Reply {
            status: 200,
            body: Some(json!({
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.ttl.as_secs(),
                "scope": "api",
            })),
            headers: vec![("cache-control".into(), "no-store".into())],
        }
    }

    /// `GET /sandbox/service-accounts`: each account's id, role, number of secrets and
    /// tokens issued so far (never a secret or a token).
    pub(super) fn listing(&self) -> Reply {
        let accounts: Vec<serde_json::Value> = self
            .accounts
            .iter()
            .zip(&self.issued)
            .map(|(a, n)| {
                json!({
                    "client_id": a.client_id,
                    "role": a.role,
                    "secrets": a.secrets.len(),
                    "tokens_issued": n.load(Ordering::Relaxed),
                })
            })
            .collect();
        Reply {
            status: 200,
            body: Some(json!({
                "service_accounts": accounts,
                "token_ttl_seconds": self.ttl.as_secs(),
            })),
            headers: Vec::new(),
        }
    }

    /// The role behind an `Authorization: Bearer` header, or the 401 JumpCloud answers
    /// for a missing, unknown or expired token.
    pub(super) fn role_of(&self, authorization: &[u8]) -> Result<Role, Reply> {
        let token = std::str::from_utf8(authorization)
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| unauthenticated("Unauthorized: expected a bearer token"))?;
        let tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        match tokens.get(token) {
            Some(t) if t.expires > Instant::now() => Ok(t.role),
            Some(_) => Err(unauthenticated(
                "Unauthorized: the access token has expired",
            )),
            None => Err(unauthenticated("Unauthorized: unknown access token")),
        }
    }
}

/// The client id and secret of an HTTP Basic `Authorization` header.
fn basic(header: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(header).ok()?;
    let encoded = text
        .strip_prefix("Basic ")
        .or_else(|| text.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// 403 unless `role` grants what the call needs, as JumpCloud refuses a call beyond the
/// caller's role. A call the permission table does not know needs an Administrator; the
/// simulator's own control paths (`/sandbox/...`) are for API keys only.
pub(super) fn authorize(
    role: Role,
    method: &str,
    path: &str,
    query: &[(String, String)],
    body: &[u8],
) -> Result<(), Reply> {
    let forbidden = |why: String| -> Reply {
        ApiError::new(403, "PERMISSION_DENIED", format!("Forbidden: {why}")).into()
    };
    if path.starts_with("/sandbox/") {
        return Err(forbidden(
            "the sandbox's control paths take its API key, not a service account token".into(),
        ));
    }
    let body = std::str::from_utf8(body).ok().filter(|b| !b.is_empty());
    match jumpcloud_needs(method, path, query, body) {
        Ok(needs) => {
            let withheld = role.withholds(&needs);
            if withheld.is_empty() {
                Ok(())
            } else {
                Err(forbidden(format!(
                    "the service account's role {role} does not grant {withheld}"
                )))
            }
        }
        Err(_) if matches!(role, Role::Administrator | Role::AdministratorWithBilling) => Ok(()),
        Err(why) => Err(forbidden(format!(
            "the service account's role {role} does not allow this call ({why})"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic_header(id: &str, secret: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        )
    }

    fn accounts(ttl: Duration) -> Accounts {
        let mut a = ServiceAccount::parse("svc:s1:Read Only").unwrap();
        a.secrets.push(ClientSecret {
            secret: "old".into(),
            expires: Some(SystemTime::now() - Duration::from_secs(1)),
        });
        Accounts::new(vec![a], ttl)
    }

    const FORM: &[u8] = b"grant_type=client_credentials&scope=api";

    #[test]
    fn specs_parse_and_merge() {
        let a = ServiceAccount::parse("id:sec:zq9x").unwrap_err();
        assert!(a.contains("unknown role") && !a.contains("zq9x"), "{a}");
        let a = ServiceAccount::parse("id:hunter2:Help Desk").unwrap();
        assert_eq!(a.role, Role::HelpDesk);
        assert_eq!(
            ServiceAccount::parse("id:x").unwrap().role,
            Role::Administrator
        );
        assert!(ServiceAccount::parse("id").is_err());
        assert!(ServiceAccount::parse(":x").is_err());
        let merged = ServiceAccount::merge(vec![
            ServiceAccount::parse("a:1").unwrap(),
            ServiceAccount::parse("a:2").unwrap(),
            ServiceAccount::parse("b:3:Manager").unwrap(),
        ])
        .unwrap();
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].secrets.len(), 2);
        assert!(
            ServiceAccount::merge(vec![
                ServiceAccount::parse("a:1").unwrap(),
                ServiceAccount::parse("a:2:Manager").unwrap(),
            ])
            .is_err()
        );
        assert!(
            ServiceAccount::merge(
                (0..3)
                    .map(|i| ServiceAccount::parse(&format!("a:{i}")).unwrap())
                    .collect()
            )
            .unwrap_err()
            .contains("at most 2")
        );
        // The secret never shows in debug output.
        assert!(!format!("{a:?}").contains("hunter2"));
    }

    #[test]
    fn tokens_are_issued_for_valid_secrets_only() {
        let a = accounts(Duration::from_secs(60));
        let ok = a.token(Some(basic_header("svc", "s1").as_bytes()), FORM);
        assert_eq!(ok.status, 200);
        let body = ok.body.unwrap();
        let token = body["access_token"].as_str().unwrap();
        assert!(token.starts_with(TOKEN_PREFIX));
        assert_eq!(body["expires_in"], 60);
        assert_eq!(
            a.role_of(format!("Bearer {token}").as_bytes()).unwrap(),
            Role::ReadOnly
        );
        for (auth, status, error) in [
            (Some(basic_header("svc", "wrong")), 401, "invalid_client"),
            (Some(basic_header("svc", "old")), 401, "invalid_client"),
            (Some(basic_header("nobody", "s1")), 401, "invalid_client"),
            (Some("Basic !!!".to_owned()), 401, "invalid_client"),
            (None, 401, "invalid_client"),
        ] {
            let r = a.token(auth.as_deref().map(str::as_bytes), FORM);
            assert_eq!(r.status, status);
            assert_eq!(r.body.unwrap()["error"], error);
        }
        let auth = basic_header("svc", "s1");
        let r = a.token(Some(auth.as_bytes()), b"grant_type=password");
        assert_eq!(r.body.unwrap()["error"], "unsupported_grant_type");
        let r = a.token(
            Some(auth.as_bytes()),
            b"grant_type=client_credentials&scope=x",
        );
        assert_eq!(r.body.unwrap()["error"], "invalid_scope");
        assert_eq!(a.role_of(b"Bearer jcsa_nope").unwrap_err().status, 401);
        let listed = a.listing().body.unwrap();
        assert_eq!(listed["service_accounts"][0]["tokens_issued"], 1);
        assert_eq!(listed["service_accounts"][0]["secrets"], 2);
        assert!(!listed.to_string().contains("s1"));
        assert_eq!(a.role_of(b"Basic abc").unwrap_err().status, 401);
    }

    #[test]
    fn tokens_expire() {
        let a = Accounts::new(
            vec![ServiceAccount::parse("svc:s").unwrap()],
            Duration::from_secs(1),
        );
        let r = a.token(Some(basic_header("svc", "s").as_bytes()), FORM);
        let token = r.body.unwrap()["access_token"].as_str().unwrap().to_owned();
        // Age the token instead of sleeping.
        a.tokens.lock().unwrap().get_mut(&token).unwrap().expires = Instant::now();
        let e = a.role_of(format!("Bearer {token}").as_bytes()).unwrap_err();
        assert_eq!(e.status, 401);
        assert!(
            e.body.unwrap()["message"]
                .as_str()
                .unwrap()
                .contains("expired")
        );
    }

    #[test]
    fn roles_bound_calls() {
        assert!(authorize(Role::ReadOnly, "GET", "/api/systemusers", &[], b"").is_ok());
        let e = authorize(Role::ReadOnly, "POST", "/api/systemusers", &[], b"{}").unwrap_err();
        assert_eq!(e.status, 403);
        assert!(authorize(Role::Manager, "POST", "/api/systemusers", &[], b"{}").is_ok());
        assert_eq!(
            authorize(Role::ReadOnly, "POST", "/sandbox/reset", &[], b"")
                .unwrap_err()
                .status,
            403
        );
        assert!(authorize(Role::Administrator, "GET", "/api/unknown", &[], b"").is_ok());
        assert!(authorize(Role::HelpDesk, "GET", "/api/unknown", &[], b"").is_err());
    }
}
