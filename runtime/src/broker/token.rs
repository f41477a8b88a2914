//! Service-account credentials for the JumpCloud broker: the cached bearer token of an
//! OAuth 2.0 client-credentials exchange, refreshed before it expires and once after a
//! 401, with one refresh shared by every concurrent call (no stampede) and a fall-back to
//! the second client secret while the first is being rotated out. The exchange itself
//! (transport, retries) is the client's, handed in as a function, so this part is tested
//! without a server. Neither the secret nor the token is ever logged, recorded or returned.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::BrokerError;
use super::jumpcloud::ApiKey;

/// JumpCloud's token endpoint, US.
pub const US_TOKEN_URL: &str = "https://admin-oauth.id.jumpcloud.com/oauth2/token";
/// JumpCloud's token endpoint, EU.
pub const EU_TOKEN_URL: &str = "https://admin-oauth.id.eu.jumpcloud.com/oauth2/token";
/// Lifetime assumed when the answer gives none (JumpCloud's is about an hour).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// Lifetimes are taken within these bounds: a token is kept at least a few seconds (one
/// that lives less is refreshed after a 401), and no answer can overflow the clock.
const MIN_LIFETIME_SECS: u64 = 5;
const MAX_LIFETIME_SECS: u64 = 24 * 3600;
/// A token is refreshed this long before it expires (at most a fifth of its lifetime).
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// Longest token accepted from the endpoint.
const MAX_TOKEN_BYTES: usize = 8 << 10;

/// The error code of every failure to obtain a token.
pub const AUTHENTICATION_FAILED: &str = crate::code::Code::AuthenticationFailed.as_str();

/// A service account: its client id, its secrets in the order tried, and where tokens come
/// from.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceAccountConfig {
    pub client_id: String,
    /// The first secret, then the second (JumpCloud holds two so one can be rotated).
    pub secrets: Vec<ApiKey>,
    pub token_url: String,
}

impl std::fmt::Debug for ServiceAccountConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountConfig")
            .field("client_id", &self.client_id)
            .field("secrets", &self.secrets.len())
            .field("token_url", &self.token_url)
            .finish()
    }
}

/// The token endpoint for a console URL: JumpCloud's US or EU one, else the same host's
/// `/oauth2/token` (the JumpCloud simulator serves it there).
pub fn default_token_url(base_url: &str) -> String {
    match base_url.trim_end_matches('/') {
        super::jumpcloud::US_CONSOLE => US_TOKEN_URL.to_owned(),
        super::jumpcloud::EU_CONSOLE => EU_TOKEN_URL.to_owned(),
        other => format!("{other}/oauth2/token"),
    }
}

/// What one exchange with one secret came to (after the client's own retries).
#[derive(Debug, PartialEq, Eq)]
pub enum Exchange {
    /// A token and its lifetime.
    Token { token: String, lifetime: Duration },
    /// The endpoint refused this secret (4xx): try the next one.
    Refused(String),
    /// No usable answer (5xx, timeout, connection, garbage): worth retrying later.
    Unavailable(String),
}

impl Exchange {
    /// Reads the endpoint's answer: `{access_token, expires_in}` on 200; an OAuth error
    /// (`{error, error_description}`) otherwise.
    pub fn read(status: u16, body: &str) -> Exchange {
        let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        if status == 200 {
            let token = json["access_token"].as_str().unwrap_or_default();
            let usable = !token.is_empty()
                && token.len() <= MAX_TOKEN_BYTES
                && token.bytes().all(|b| b.is_ascii_graphic());
            if !usable {
                return Exchange::Unavailable(
                    "the token endpoint answered 200 without a usable access_token".into(),
                );
            }
            let lifetime = json["expires_in"].as_u64().map_or(DEFAULT_LIFETIME, |s| {
                Duration::from_secs(s.clamp(MIN_LIFETIME_SECS, MAX_LIFETIME_SECS))
            });
            return Exchange::Token {
                token: token.to_owned(),
                lifetime,
            };
        }
        // The endpoint's own words, bounded; they never contain the secret.
        let error: String = json["error"]
            .as_str()
            .unwrap_or("no OAuth error")
            .chars()
            .take(64)
            .collect();
        let why = format!("HTTP {status} ({error})");
        if (400..500).contains(&status) && status != 408 && status != 429 {
            Exchange::Refused(why)
        } else {
            Exchange::Unavailable(why)
        }
    }
}

/// A cached bearer token: the header to send and when to refresh it.
pub struct Bearer {
    /// `Bearer <token>`.
    pub header: String,
    refresh_at: Instant,
    /// Bumped by each refresh, so a call that got a 401 refreshes only the token it used.
    pub generation: u64,
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bearer")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// One exchange with the secret at an index, as the client makes it.
pub type ExchangeFn<'a> =
    dyn Fn(usize) -> Pin<Box<dyn Future<Output = Exchange> + Send + 'a>> + Send + Sync + 'a;

/// The token of one service account.
#[derive(Debug)]
pub struct TokenSource {
    account: ServiceAccountConfig,
    current: RwLock<Option<Arc<Bearer>>>,
    /// Held while a token is fetched: concurrent callers wait and then share its result,
    /// a failure as much as a token (so a bad secret or a down endpoint is tried once for
    /// all of them, not once each).
    refresh: tokio::sync::Mutex<Outcome>,
}

/// How the last exchange ended: how many rounds so far, and the error of the last one if
/// it failed.
#[derive(Debug, Default)]
struct Outcome {
    rounds: u64,
    failed: Option<BrokerError>,
}

impl TokenSource {
    pub fn new(account: ServiceAccountConfig) -> TokenSource {
        TokenSource {
            account,
            current: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(Outcome::default()),
        }
    }

    pub fn account(&self) -> &ServiceAccountConfig {
        &self.account
    }

    /// The generation of the cached token (how many refreshes so far), if any.
    pub fn generation(&self) -> Option<u64> {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        current.as_ref().map(|b| b.generation)
    }

    /// The cached token if it is neither due for refresh nor the generation a caller saw
    /// refused.
    fn usable(&self, stale: Option<u64>) -> Option<Arc<Bearer>> {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        current
            .as_ref()
            .filter(|b| Instant::now() < b.refresh_at && Some(b.generation) != stale)
            .cloned()
    }

    /// A token to send: the cached one, or a new one from `exchange` (the first secret,
    /// then the next when one is refused). `stale` is the generation a 401 answered, which
    /// forces a refresh unless another call has already made one.
    pub async fn bearer(
        &self,
        stale: Option<u64>,
        exchange: &ExchangeFn<'_>,
    ) -> Result<Arc<Bearer>, BrokerError> {
        if let Some(b) = self.usable(stale) {
            return Ok(b);
        }
        let seen = self
            .refresh
            .try_lock()
            .map_or(None, |outcome| Some(outcome.rounds));
        let mut outcome = self.refresh.lock().await;
        if let Some(b) = self.usable(stale) {
            return Ok(b);
        }
        // A round finished while this call waited, and failed: its answer is this call's.
        if let Some(e) = &outcome.failed
            && seen.is_none_or(|r| r != outcome.rounds)
        {
            return Err(e.clone());
        }
        outcome.rounds += 1;
        let result = self.exchange(exchange).await;
        outcome.failed = result.as_ref().err().cloned();
        result
    }

    /// One round: each secret in turn until one gives a token.
    async fn exchange(&self, exchange: &ExchangeFn<'_>) -> Result<Arc<Bearer>, BrokerError> {
        let mut refused = Vec::new();
        for i in 0..self.account.secrets.len() {
            match exchange(i).await {
                Exchange::Token { token, lifetime } => {
                    if i > 0 {
                        tracing::warn!(
                            client_id = %self.account.client_id,
                            "JumpCloud refused the service account's first client secret; \
                             the second one worked: finish rotating (replace the first secret)"
                        );
                    }
                    let margin = REFRESH_MARGIN.min(lifetime / 5);
                    let generation = self
                        .current
                        .read()
                        .unwrap_or_else(|p| p.into_inner())
                        .as_ref()
                        .map_or(0, |b| b.generation + 1);
                    let now = Instant::now();
                    let bearer = Arc::new(Bearer {
                        header: format!("Bearer {token}"),
                        refresh_at: now
                            .checked_add(lifetime.saturating_sub(margin))
                            .unwrap_or(now),
                        generation,
                    });
                    *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(bearer.clone());
                    return Ok(bearer);
                }
                Exchange::Refused(why) => refused.push(why),
                Exchange::Unavailable(why) => {
                    return Err(BrokerError {
                        code: AUTHENTICATION_FAILED.into(),
                        message: format!(
                            "no JumpCloud access token for service account `{}`: the token \
                             endpoint {} gave no usable answer ({why}); try again later",
                            self.account.client_id, self.account.token_url
                        ),
                        retryable: true,
                    });
                }
            }
        }
        Err(BrokerError {
            code: AUTHENTICATION_FAILED.into(),
            message: format!(
                "JumpCloud refused the client credentials of service account `{}` ({} secret(s) \
                 tried: {}): check SLUICE_JUMPCLOUD_CLIENT_ID and SLUICE_JUMPCLOUD_CLIENT_SECRET \
                 (or the stored jumpcloud.client_id and jumpcloud.client_secret), that the \
                 secret has not expired or been revoked, and that the service account still \
                 exists",
                self.account.client_id,
                refused.len(),
                refused.join(", ")
            ),
            retryable: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn source(secrets: usize) -> TokenSource {
        TokenSource::new(ServiceAccountConfig {
            client_id: "svc".into(),
            secrets: (0..secrets)
                .map(|i| ApiKey::new(format!("secret-{i}")))
                .collect(),
            token_url: "http://127.0.0.1:9/oauth2/token".into(),
        })
    }

    fn token(n: usize, lifetime: Duration) -> Exchange {
        Exchange::Token {
            token: format!("t{n}"),
            lifetime,
        }
    }

    #[test]
    fn answers_are_read_as_tokens_refusals_or_outages() {
        assert_eq!(
            Exchange::read(200, r#"{"access_token":"abc","expires_in":5}"#),
            token_named("abc", 5)
        );
        assert!(matches!(
            Exchange::read(200, r#"{"access_token":"a b"}"#),
            Exchange::Unavailable(_)
        ));
        assert!(matches!(
            Exchange::read(401, r#"{"error":"invalid_client"}"#),
            Exchange::Refused(w) if w.contains("invalid_client")
        ));
        assert!(matches!(Exchange::read(503, ""), Exchange::Unavailable(_)));
        assert!(matches!(Exchange::read(429, ""), Exchange::Unavailable(_)));
        assert_eq!(
            default_token_url("https://console.jumpcloud.com"),
            US_TOKEN_URL
        );
        assert_eq!(
            default_token_url("https://console.eu.jumpcloud.com/"),
            EU_TOKEN_URL
        );
        assert_eq!(
            default_token_url("http://127.0.0.1:8089"),
            "http://127.0.0.1:8089/oauth2/token"
        );
        let a = source(2).account().clone();
        assert!(!format!("{a:?}").contains("secret-0"));
    }

    fn token_named(t: &str, secs: u64) -> Exchange {
        Exchange::Token {
            token: t.into(),
            lifetime: Duration::from_secs(secs),
        }
    }

    #[tokio::test]
    async fn one_refresh_serves_every_concurrent_call() {
        let s = source(1);
        let calls = AtomicUsize::new(0);
        let exchange = |_: usize| -> Pin<Box<dyn Future<Output = Exchange> + Send + '_>> {
            Box::pin(async {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                token(n, Duration::from_secs(3600))
            })
        };
        let all = futures::future::join_all((0..50).map(|_| s.bearer(None, &exchange))).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(
            all.iter()
                .all(|b| b.as_ref().unwrap().header == "Bearer t0")
        );
        // A 401 on generation 0 refreshes once, whoever reports it.
        let gen0 = all[0].as_ref().unwrap().generation;
        let again =
            futures::future::join_all((0..10).map(|_| s.bearer(Some(gen0), &exchange))).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert!(
            again
                .iter()
                .all(|b| b.as_ref().unwrap().header == "Bearer t1")
        );
    }

    #[tokio::test]
    async fn a_failed_round_answers_every_waiting_call() {
        let s = source(2);
        let calls = AtomicUsize::new(0);
        let refused = |_: usize| -> Pin<Box<dyn Future<Output = Exchange> + Send + '_>> {
            Box::pin(async {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                Exchange::Refused("HTTP 401 (invalid_client)".into())
            })
        };
        let all = futures::future::join_all((0..20).map(|_| s.bearer(None, &refused))).await;
        assert!(
            all.iter()
                .all(|r| r.as_ref().unwrap_err().code == AUTHENTICATION_FAILED)
        );
        // One round (both secrets) for all 20 calls.
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // A later call tries again.
        let _ = s.bearer(None, &refused).await;
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn lifetimes_are_bounded() {
        for (answer, secs) in [
            (
                r#"{"access_token":"a","expires_in":18446744073709551615}"#,
                86_400,
            ),
            (r#"{"access_token":"a","expires_in":0}"#, 5),
            (r#"{"access_token":"a"}"#, 3600),
        ] {
            assert_eq!(
                Exchange::read(200, answer),
                token_named("a", secs),
                "{answer}"
            );
        }
    }

    #[tokio::test]
    async fn tokens_are_refreshed_before_they_expire() {
        let s = source(1);
        let calls = AtomicUsize::new(0);
        let exchange = |_: usize| -> Pin<Box<dyn Future<Output = Exchange> + Send + '_>> {
            Box::pin(async { token(calls.fetch_add(1, Ordering::SeqCst), Duration::ZERO) })
        };
        // A token with no lifetime left is due at once: each call fetches anew.
        s.bearer(None, &exchange).await.unwrap();
        s.bearer(None, &exchange).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let long = |_: usize| -> Pin<Box<dyn Future<Output = Exchange> + Send + '_>> {
            Box::pin(async {
                token(
                    calls.fetch_add(1, Ordering::SeqCst),
                    Duration::from_secs(50),
                )
            })
        };
        s.bearer(None, &long).await.unwrap();
        s.bearer(None, &long).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_refused_first_secret_falls_over_to_the_second() {
        let s = source(2);
        let tried = std::sync::Mutex::new(Vec::new());
        let exchange = |i: usize| -> Pin<Box<dyn Future<Output = Exchange> + Send + '_>> {
            tried.lock().unwrap().push(i);
            Box::pin(async move {
                if i == 0 {
                    Exchange::Refused("HTTP 401 (invalid_client)".into())
                } else {
                    token(i, Duration::from_secs(3600))
                }
            })
        };
        assert_eq!(s.bearer(None, &exchange).await.unwrap().header, "Bearer t1");
        assert_eq!(*tried.lock().unwrap(), [0, 1]);
    }

    #[tokio::test]
    async fn refusals_and_outages_are_authentication_failures() {
        let s = source(2);
        let refused = |_: usize| -> Pin<Box<dyn Future<Output = Exchange> + Send + '_>> {
            Box::pin(async { Exchange::Refused("HTTP 401 (invalid_client)".into()) })
        };
        let e = s.bearer(None, &refused).await.unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.retryable),
            (AUTHENTICATION_FAILED, false)
        );
        assert!(e.message.contains("2 secret(s) tried"), "{}", e.message);
        assert!(!e.message.contains("secret-0") && !e.message.contains("secret-1"));
        let down = |_: usize| -> Pin<Box<dyn Future<Output = Exchange> + Send + '_>> {
            Box::pin(async { Exchange::Unavailable("HTTP 503 (no OAuth error)".into()) })
        };
        let e = s.bearer(None, &down).await.unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.retryable),
            (AUTHENTICATION_FAILED, true)
        );
    }
}
