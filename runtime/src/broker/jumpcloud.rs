//! The JumpCloud API client behind the `jumpcloud` import: one reqwest client (rustls) for
//! v1 (`/api`), v2 (`/api/v2`) and Directory Insights (`/insights/directory/v1`), which
//! injects the credentials — an administrator's `x-api-key`, or a service account's
//! bearer token (see [`super::token`]) — and `x-org-id` (plugins never see them), spaces
//! calls with a token bucket, and retries 429, 5xx and timeouts with exponential backoff
//! and jitter, honouring `Retry-After`.
//!
//! The embedded simulator is reached in process instead ([`JumpCloudClient::in_process`]):
//! the same keys, pacing, retries and response handling, with the request handed to the
//! simulator's front (auth, faults, JSON) directly rather than through a loopback socket.

use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::token::{Exchange, ServiceAccountConfig, TokenSource, default_token_url};
use super::{BrokerError, BrokerResponse, JumpCloudBroker, JumpCloudRequest};
use crate::code::Code;

/// JumpCloud's US console (v1 and v2 APIs).
pub const US_CONSOLE: &str = "https://console.jumpcloud.com";
/// JumpCloud's EU console.
pub const EU_CONSOLE: &str = "https://console.eu.jumpcloud.com";
/// Directory Insights, US.
pub const US_INSIGHTS: &str = "https://api.jumpcloud.com";
/// Directory Insights, EU.
pub const EU_INSIGHTS: &str = "https://api.eu.jumpcloud.com";

/// Response headers passed on to plugins; the rest (cookies, tracing) stay in the host.
const PASSED_HEADERS: &[&str] = &[
    "content-type",
    "retry-after",
    "x-total-count",
    "x-result-count",
    "x-limit",
    "x-sort",
    "x-search_after",
    "x-request-id",
];

/// An API key, kept out of `Debug` output and error messages.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(****)")
    }
}

/// Retry policy for 429, 5xx and timeouts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retry {
    /// Attempts in all (1 = no retries).
    pub attempts: u32,
    /// First backoff; doubled each attempt, with full jitter.
    pub base: Duration,
    /// Longest wait between attempts, `Retry-After` included.
    pub max: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            base: Duration::from_millis(200),
            max: Duration::from_secs(30),
        }
    }
}

/// Who the broker is to JumpCloud: an administrator's API key, or a service account
/// (OAuth 2.0 client credentials). Exactly one is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    ApiKey(ApiKey),
    ServiceAccount(ServiceAccountConfig),
}

impl Credentials {
    /// Which identity calls are made as, for people (never the secret).
    pub fn identity(&self) -> String {
        match self {
            Credentials::ApiKey(_) => "an administrator's API key".into(),
            Credentials::ServiceAccount(sa) => format!(
                "service account `{}` (client credentials, {} secret(s))",
                sa.client_id,
                sa.secrets.len()
            ),
        }
    }
}

/// How to reach JumpCloud.
#[derive(Debug, Clone)]
pub struct JumpCloudConfig {
    pub credentials: Credentials,
    pub org_id: Option<String>,
    /// Base of the v1/v2 APIs, e.g. `https://console.jumpcloud.com`.
    pub base_url: String,
    /// Base of Directory Insights, e.g. `https://api.jumpcloud.com`.
    pub insights_url: String,
    /// Requests per second the client allows itself (0 = unlimited), and the burst.
    pub rate_per_second: f64,
    pub burst: u32,
    pub retry: Retry,
    /// Per-attempt timeout.
    pub timeout: Duration,
}

impl JumpCloudConfig {
    /// A configuration for `base_url` with the defaults; Directory Insights on the same host
    /// unless it is one of JumpCloud's consoles.
    pub fn new(api_key: ApiKey, base_url: &str) -> JumpCloudConfig {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let insights_url = default_insights_url(&base_url);
        JumpCloudConfig {
            credentials: Credentials::ApiKey(api_key),
            org_id: None,
            base_url,
            insights_url,
            rate_per_second: 10.0,
            burst: 20,
            retry: Retry::default(),
            timeout: Duration::from_secs(30),
        }
    }

    /// Reads `SLUICE_JUMPCLOUD_*` from `env`; `None` when no credentials are set. Exactly
    /// one of an API key (`SLUICE_JUMPCLOUD_API_KEY`) or a service account
    /// (`SLUICE_JUMPCLOUD_CLIENT_ID` + `SLUICE_JUMPCLOUD_CLIENT_SECRET`, optionally
    /// `SLUICE_JUMPCLOUD_CLIENT_SECRET_2` and `SLUICE_JUMPCLOUD_TOKEN_URL`) may be set.
    pub fn from_env(
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<JumpCloudConfig>, String> {
        let get = |k: &str| {
            env(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let key = get("SLUICE_JUMPCLOUD_API_KEY");
        let client_id = get("SLUICE_JUMPCLOUD_CLIENT_ID");
        let secrets: Vec<String> = [
            "SLUICE_JUMPCLOUD_CLIENT_SECRET",
            "SLUICE_JUMPCLOUD_CLIENT_SECRET_2",
        ]
        .into_iter()
        .filter_map(&get)
        .collect();
        let service_account = client_id.is_some() || !secrets.is_empty();
        if key.is_some() && service_account {
            return Err(
                "both an API key (SLUICE_JUMPCLOUD_API_KEY) and a service account \
                        (SLUICE_JUMPCLOUD_CLIENT_ID/SECRET) are configured: keep one"
                    .into(),
            );
        }
        if service_account {
            if client_id.is_none() {
                return Err(
                    "a service account secret is set but SLUICE_JUMPCLOUD_CLIENT_ID \
                            (or the stored jumpcloud.client_id) is missing"
                        .into(),
                );
            }
            if get("SLUICE_JUMPCLOUD_CLIENT_SECRET").is_none() {
                return Err(
                    "SLUICE_JUMPCLOUD_CLIENT_ID is set but SLUICE_JUMPCLOUD_CLIENT_SECRET \
                            (or the stored jumpcloud.client_secret) is missing"
                        .into(),
                );
            }
        }
        if key.is_none() && !service_account {
            return Ok(None);
        }
        let base = env("SLUICE_JUMPCLOUD_URL").unwrap_or_else(|| US_CONSOLE.to_owned());
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(format!(
                "SLUICE_JUMPCLOUD_URL `{base}`: expected an http(s) URL"
            ));
        }
        let mut cfg = JumpCloudConfig::new(ApiKey::new(key.unwrap_or_default()), &base);
        if let Some(client_id) = client_id {
            let token_url = get("SLUICE_JUMPCLOUD_TOKEN_URL")
                .unwrap_or_else(|| default_token_url(&cfg.base_url));
            if !(token_url.starts_with("https://") || token_url.starts_with("http://")) {
                return Err(format!(
                    "SLUICE_JUMPCLOUD_TOKEN_URL `{token_url}`: expected an http(s) URL"
                ));
            }
            cfg.credentials = Credentials::ServiceAccount(ServiceAccountConfig {
                client_id,
                secrets: secrets.into_iter().map(ApiKey::new).collect(),
                token_url,
            });
        }
        if let Some(i) = env("SLUICE_JUMPCLOUD_INSIGHTS_URL") {
            cfg.insights_url = i.trim_end_matches('/').to_owned();
        }
        if let Some(org) = env("SLUICE_JUMPCLOUD_ORG_ID").filter(|o| !o.is_empty()) {
            if org.len() != 24 || !org.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err("SLUICE_JUMPCLOUD_ORG_ID: expected a 24-hex organisation id".into());
            }
            cfg.org_id = Some(org);
        }
        if let Some(r) = env("SLUICE_JUMPCLOUD_RATE_LIMIT") {
            cfg.rate_per_second = r.parse().ok().filter(|r: &f64| *r >= 0.0).ok_or_else(|| {
                format!("SLUICE_JUMPCLOUD_RATE_LIMIT `{r}`: requests per second (0 = unlimited)")
            })?;
        }
        if let Some(a) = env("SLUICE_JUMPCLOUD_RETRIES") {
            let n: u32 = a
                .parse()
                .map_err(|_| format!("SLUICE_JUMPCLOUD_RETRIES `{a}`: a whole number"))?;
            cfg.retry.attempts = n + 1;
        }
        if let Some(t) = env("SLUICE_JUMPCLOUD_TIMEOUT") {
            cfg.timeout = humantime::parse_duration(&t)
                .map_err(|e| format!("SLUICE_JUMPCLOUD_TIMEOUT `{t}`: {e}"))?;
        }
        Ok(Some(cfg))
    }
}

fn default_insights_url(base: &str) -> String {
    match base {
        US_CONSOLE => US_INSIGHTS.to_owned(),
        EU_CONSOLE => EU_INSIGHTS.to_owned(),
        other => other.to_owned(),
    }
}

/// A token bucket: `rate` tokens per second up to `burst`.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// How requests reach JumpCloud.
#[derive(Debug)]
enum Transport {
    Http(reqwest::Client),
    /// The embedded simulator, called in process: a loopback HTTP round trip cost about as
    /// much CPU as the simulator's handling of the request itself.
    Simulator(std::sync::Arc<sluice_jcsim::Simulator>),
}

/// Why an attempt got no response.
#[derive(Debug)]
struct NoResponse {
    timeout: bool,
    connect: bool,
    message: String,
}

impl From<reqwest::Error> for NoResponse {
    fn from(e: reqwest::Error) -> NoResponse {
        NoResponse {
            timeout: e.is_timeout(),
            connect: e.is_connect(),
            // reqwest's message names the URL (never the key, which is a header).
            message: e.without_url().to_string(),
        }
    }
}

/// The JumpCloud broker.
#[derive(Debug)]
pub struct JumpCloudClient {
    transport: Transport,
    cfg: JumpCloudConfig,
    bucket: tokio::sync::Mutex<Bucket>,
    /// The service account's token, when the credentials are one.
    tokens: Option<TokenSource>,
}

impl JumpCloudClient {
    pub fn new(cfg: JumpCloudConfig) -> Result<JumpCloudClient, String> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(cfg.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self::with_transport(cfg, Transport::Http(http)))
    }

    /// A client of `simulator` in this process (`cfg.base_url` only names it). Requests pass
    /// through the simulator's own front — `x-api-key`, `x-org-id`, injected faults, the JSON
    /// body — exactly as over HTTP; only the socket and the HTTP encoding are skipped.
    pub fn in_process(
        cfg: JumpCloudConfig,
        simulator: std::sync::Arc<sluice_jcsim::Simulator>,
    ) -> JumpCloudClient {
        Self::with_transport(cfg, Transport::Simulator(simulator))
    }

    fn with_transport(cfg: JumpCloudConfig, transport: Transport) -> JumpCloudClient {
        let tokens = match &cfg.credentials {
            Credentials::ServiceAccount(sa) => Some(TokenSource::new(sa.clone())),
            Credentials::ApiKey(_) => None,
        };
        JumpCloudClient {
            transport,
            bucket: tokio::sync::Mutex::new(Bucket {
                tokens: cfg.burst as f64,
                last: Instant::now(),
            }),
            cfg,
            tokens,
        }
    }

    pub fn config(&self) -> &JumpCloudConfig {
        &self.cfg
    }

    async fn take_token(&self) {
        if self.cfg.rate_per_second <= 0.0 {
            return;
        }
        loop {
            let wait = {
                let mut b = self.bucket.lock().await;
                let now = Instant::now();
                let refill = now.duration_since(b.last).as_secs_f64() * self.cfg.rate_per_second;
                b.tokens = (b.tokens + refill).min(self.cfg.burst.max(1) as f64);
                b.last = now;
                if b.tokens >= 1.0 {
                    b.tokens -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - b.tokens) / self.cfg.rate_per_second)
            };
            tokio::time::sleep(wait).await;
        }
    }

    fn url(&self, path: &str) -> String {
        let base = if path.starts_with("/insights/") {
            &self.cfg.insights_url
        } else {
            &self.cfg.base_url
        };
        format!("{base}{path}")
    }

    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let r = &self.cfg.retry;
        let exp = r.base.saturating_mul(1u32 << attempt.min(16)).min(r.max);
        let jittered = exp.mul_f64(fastrand::f64());
        match retry_after {
            Some(ra) => ra.min(r.max).max(jittered),
            None => jittered,
        }
    }

    /// The credential header of a call: the API key, or the service account's bearer
    /// token (`bearer`, fetched by the caller).
    fn credential<'a>(&'a self, bearer: Option<&'a str>) -> (&'static str, &'a str) {
        match (&self.cfg.credentials, bearer) {
            (_, Some(b)) => ("authorization", b),
            (Credentials::ApiKey(k), None) => ("x-api-key", k.expose()),
            (Credentials::ServiceAccount(_), None) => ("authorization", ""),
        }
    }

    /// One exchange of the service account's secret number `i` for a token, with the
    /// retries of any call for 429, 5xx and timeouts.
    async fn exchange_token(&self, sa: &ServiceAccountConfig, i: usize) -> Exchange {
        let Some(secret) = sa.secrets.get(i) else {
            return Exchange::Refused("no such secret".into());
        };
        let form = "grant_type=client_credentials&scope=api";
        let attempts = self.cfg.retry.attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let answer = match &self.transport {
                Transport::Http(http) => {
                    let sent = http
                        .post(&sa.token_url)
                        .basic_auth(&sa.client_id, Some(secret.expose()))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .header("accept", "application/json")
                        .body(form)
                        .send()
                        .await;
                    match sent {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            match r.text().await {
                                Ok(body) => Ok((status, body)),
                                Err(e) => Err(NoResponse::from(e).message),
                            }
                        }
                        Err(e) => Err(NoResponse::from(e).message),
                    }
                }
                Transport::Simulator(simulator) => {
                    use base64::Engine as _;
                    let basic = format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(format!(
                            "{}:{}",
                            sa.client_id,
                            secret.expose()
                        ))
                    );
                    let reply = simulator
                        .exchange(sluice_jcsim::Incoming {
                            method: "POST",
                            path: sluice_jcsim::oauth::TOKEN_PATH,
                            query: Vec::new(),
                            api_key: None,
                            authorization: Some(basic.as_bytes()),
                            org: None,
                            body: form.as_bytes(),
                        })
                        .await;
                    Ok((
                        reply.status,
                        reply.body.map(|b| b.to_string()).unwrap_or_default(),
                    ))
                }
            };
            let exchange = match answer {
                Ok((status, body)) => Exchange::read(status, &body),
                Err(message) => Exchange::Unavailable(message),
            };
            match exchange {
                Exchange::Unavailable(_) if attempt < attempts => {
                    tokio::time::sleep(self.backoff(attempt - 1, None)).await;
                }
                other => return other,
            }
        }
    }

    /// The bearer header for a call (`stale`: the generation a 401 refused).
    async fn bearer(
        &self,
        tokens: &TokenSource,
        stale: Option<u64>,
    ) -> Result<std::sync::Arc<super::token::Bearer>, BrokerError> {
        let sa = tokens.account();
        let exchange = |i: usize| -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Exchange> + Send + '_>,
        > { Box::pin(self.exchange_token(sa, i)) };
        tokens.bearer(stale, &exchange).await
    }

    async fn attempt(
        &self,
        req: &JumpCloudRequest,
        bearer: Option<&str>,
    ) -> Result<BrokerResponse, NoResponse> {
        let http = match &self.transport {
            Transport::Http(http) => http,
            Transport::Simulator(simulator) => {
                return self.attempt_in_process(simulator, req, bearer).await;
            }
        };
        let method =
            reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let (header, value) = self.credential(bearer);
        let mut rb = http
            .request(method, self.url(&req.path))
            .header(header, value)
            .header("accept", "application/json");
        if let Some(org) = &self.cfg.org_id {
            rb = rb.header("x-org-id", org);
        }
        if !req.query.is_empty() {
            rb = rb.query(&req.query);
        }
        if let Some(body) = &req.body {
            rb = rb
                .header("content-type", "application/json")
                .body(body.clone());
        }
        let resp = rb.send().await?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter(|(k, _)| PASSED_HEADERS.contains(&k.as_str()))
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = resp.text().await?;
        Ok(BrokerResponse {
            status,
            headers,
            body,
            attempts: 1,
        })
    }

    async fn attempt_in_process(
        &self,
        simulator: &sluice_jcsim::Simulator,
        req: &JumpCloudRequest,
        bearer: Option<&str>,
    ) -> Result<BrokerResponse, NoResponse> {
        let (header, value) = self.credential(bearer);
        let exchange = simulator.exchange(sluice_jcsim::Incoming {
            method: &req.method,
            path: &req.path,
            query: req.query.clone(),
            api_key: (header == "x-api-key").then_some(value.as_bytes()),
            authorization: (header == "authorization").then_some(value.as_bytes()),
            org: self.cfg.org_id.as_deref().map(str::as_bytes),
            body: req.body.as_deref().unwrap_or_default().as_bytes(),
        });
        let reply = tokio::time::timeout(self.cfg.timeout, exchange)
            .await
            .map_err(|_| NoResponse {
                timeout: true,
                connect: false,
                message: format!("no answer within {:?}", self.cfg.timeout),
            })?;
        let mut headers: Vec<(String, String)> = Vec::with_capacity(reply.headers.len() + 1);
        if reply.body.is_some() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        headers.extend(
            reply
                .headers
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .filter(|(k, _)| PASSED_HEADERS.contains(&k.as_str())),
        );
        Ok(BrokerResponse {
            status: reply.status,
            headers,
            body: reply.body.map(|b| b.to_string()).unwrap_or_default(),
            attempts: 1,
        })
    }
}

fn retry_after(resp: &BrokerResponse) -> Option<Duration> {
    resp.headers
        .iter()
        .find(|(k, _)| k == "retry-after")
        .and_then(|(_, v)| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

fn retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

#[async_trait]
impl JumpCloudBroker for JumpCloudClient {
    async fn call(&self, req: JumpCloudRequest) -> Result<BrokerResponse, BrokerError> {
        let attempts = self.cfg.retry.attempts.max(1);
        let mut attempt = 0;
        // A service account's token is refreshed once after a 401 (it may have been revoked
        // or expired early); a second 401 is JumpCloud's answer.
        let mut refreshed = false;
        // Requests sent, the refused one included (`attempt` is the retry budget).
        let mut sent = 0;
        loop {
            attempt += 1;
            sent += 1;
            self.take_token().await;
            let bearer = match &self.tokens {
                Some(tokens) => Some(self.bearer(tokens, None).await?),
                None => None,
            };
            let result = self
                .attempt(&req, bearer.as_ref().map(|b| b.header.as_str()))
                .await;
            let last = attempt >= attempts;
            if let (Ok(resp), Some(tokens), Some(b)) = (&result, &self.tokens, &bearer)
                && resp.status == 401
                && !refreshed
            {
                refreshed = true;
                self.bearer(tokens, Some(b.generation)).await?;
                attempt -= 1;
                continue;
            }
            match result {
                Ok(mut resp) if !retryable_status(resp.status) || last => {
                    resp.attempts = sent;
                    return Ok(resp);
                }
                Ok(resp) => {
                    tokio::time::sleep(self.backoff(attempt - 1, retry_after(&resp))).await;
                }
                Err(e) if (e.timeout || e.connect) && !last => {
                    tokio::time::sleep(self.backoff(attempt - 1, None)).await;
                }
                Err(e) => {
                    let what = if e.timeout {
                        "timed out"
                    } else if e.connect {
                        "could not connect"
                    } else {
                        "failed"
                    };
                    return Err(BrokerError {
                        code: Code::JumpcloudUnavailable.into(),
                        message: format!(
                            "{} {} {what} after {sent} attempt(s): {}",
                            req.method, req.path, e.message
                        ),
                        retryable: true,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn configuration_comes_from_the_environment() {
        assert!(JumpCloudConfig::from_env(env(&[])).unwrap().is_none());
        let c = JumpCloudConfig::from_env(env(&[("SLUICE_JUMPCLOUD_API_KEY", "k")]))
            .unwrap()
            .unwrap();
        assert_eq!(c.base_url, US_CONSOLE);
        assert_eq!(c.insights_url, US_INSIGHTS);
        let c = JumpCloudConfig::from_env(env(&[
            ("SLUICE_JUMPCLOUD_API_KEY", "k"),
            ("SLUICE_JUMPCLOUD_URL", EU_CONSOLE),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.insights_url, EU_INSIGHTS);
        let c = JumpCloudConfig::from_env(env(&[
            ("SLUICE_JUMPCLOUD_API_KEY", "k"),
            ("SLUICE_JUMPCLOUD_URL", "http://127.0.0.1:9/"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.insights_url, "http://127.0.0.1:9");
        assert!(format!("{c:?}").contains("ApiKey(****)"));
        for bad in [
            ("SLUICE_JUMPCLOUD_URL", "console.jumpcloud.com"),
            ("SLUICE_JUMPCLOUD_ORG_ID", "nope"),
            ("SLUICE_JUMPCLOUD_RATE_LIMIT", "-1"),
            ("SLUICE_JUMPCLOUD_TIMEOUT", "soon"),
        ] {
            assert!(
                JumpCloudConfig::from_env(env(&[("SLUICE_JUMPCLOUD_API_KEY", "k"), bad])).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn exactly_one_identity_is_configured() {
        let c = JumpCloudConfig::from_env(env(&[
            ("SLUICE_JUMPCLOUD_CLIENT_ID", "svc"),
            ("SLUICE_JUMPCLOUD_CLIENT_SECRET", "s1"),
            ("SLUICE_JUMPCLOUD_CLIENT_SECRET_2", "s2"),
            ("SLUICE_JUMPCLOUD_URL", EU_CONSOLE),
        ]))
        .unwrap()
        .unwrap();
        let Credentials::ServiceAccount(sa) = &c.credentials else {
            panic!("{c:?}")
        };
        assert_eq!(sa.token_url, super::super::token::EU_TOKEN_URL);
        assert_eq!(sa.secrets.len(), 2);
        assert!(c.credentials.identity().contains("`svc`"));
        assert!(!format!("{c:?}").contains("s1"));
        let c = JumpCloudConfig::from_env(env(&[
            ("SLUICE_JUMPCLOUD_CLIENT_ID", "svc"),
            ("SLUICE_JUMPCLOUD_CLIENT_SECRET", "s1"),
            ("SLUICE_JUMPCLOUD_TOKEN_URL", "http://127.0.0.1:9/token"),
        ]))
        .unwrap()
        .unwrap();
        assert!(matches!(&c.credentials,
            Credentials::ServiceAccount(sa) if sa.token_url == "http://127.0.0.1:9/token"));
        for (bad, says) in [
            (
                &[
                    ("SLUICE_JUMPCLOUD_API_KEY", "k"),
                    ("SLUICE_JUMPCLOUD_CLIENT_ID", "svc"),
                ][..],
                "keep one",
            ),
            (
                &[("SLUICE_JUMPCLOUD_CLIENT_ID", "svc")][..],
                "SLUICE_JUMPCLOUD_CLIENT_SECRET",
            ),
            (
                &[("SLUICE_JUMPCLOUD_CLIENT_SECRET", "s")][..],
                "SLUICE_JUMPCLOUD_CLIENT_ID",
            ),
            (
                &[
                    ("SLUICE_JUMPCLOUD_CLIENT_ID", "svc"),
                    ("SLUICE_JUMPCLOUD_CLIENT_SECRET_2", "s2"),
                ][..],
                "SLUICE_JUMPCLOUD_CLIENT_SECRET",
            ),
            (
                &[
                    ("SLUICE_JUMPCLOUD_CLIENT_ID", "svc"),
                    ("SLUICE_JUMPCLOUD_CLIENT_SECRET", "s"),
                    ("SLUICE_JUMPCLOUD_TOKEN_URL", "ftp://x"),
                ][..],
                "SLUICE_JUMPCLOUD_TOKEN_URL",
            ),
        ] {
            let e = JumpCloudConfig::from_env(env(bad)).unwrap_err();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
    }

    /// A service account's token reaches the simulator in process as over HTTP; a token the
    /// simulator no longer knows (it restarted) is refreshed once after the 401.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn service_account_tokens_are_fetched_and_refreshed_after_a_401() {
        use sluice_jcsim::oauth::ServiceAccount;
        use sluice_jcsim::{Faults, Simulator, seed};
        use std::sync::Arc;

        let make = || {
            Arc::new(
                Simulator::new(seed::default_directory(), "key", Faults::default(), None)
                    .unwrap()
                    .with_service_accounts(
                        vec![ServiceAccount::parse("svc:s3cret:Read Only").unwrap()],
                        Duration::from_secs(3600),
                    ),
            )
        };
        let simulator = make();
        let running = simulator.clone().spawn(([127, 0, 0, 1], 0).into()).unwrap();
        let mut cfg = JumpCloudConfig::new(ApiKey::new(""), &running.url());
        cfg.credentials = Credentials::ServiceAccount(ServiceAccountConfig {
            client_id: "svc".into(),
            secrets: vec![ApiKey::new("s3cret")],
            token_url: default_token_url(&running.url()),
        });
        cfg.rate_per_second = 0.0;
        let get = JumpCloudRequest {
            method: "GET".into(),
            path: "/api/systemusers".into(),
            query: vec![],
            body: None,
        };
        let http = JumpCloudClient::new(cfg.clone()).unwrap();
        let local = JumpCloudClient::in_process(cfg.clone(), simulator.clone());
        assert_eq!(http.call(get.clone()).await.unwrap().status, 200);
        assert_eq!(local.call(get.clone()).await.unwrap().status, 200);
        // The role holds: a read-only account cannot create.
        let create = JumpCloudRequest {
            method: "POST".into(),
            path: "/api/systemusers".into(),
            query: vec![],
            body: Some(r#"{"username":"x.y","email":"x.y@acme.example"}"#.into()),
        };
        assert_eq!(local.call(create).await.unwrap().status, 403);
        // A new simulator knows none of the old tokens: the client refreshes once and goes on.
        let other = make();
        let moved = JumpCloudClient::in_process(cfg, other.clone());
        assert_eq!(moved.call(get.clone()).await.unwrap().status, 200);
        let before = local.tokens.as_ref().unwrap().generation();
        let swapped = JumpCloudClient {
            transport: Transport::Simulator(other.clone()),
            cfg: local.cfg.clone(),
            bucket: tokio::sync::Mutex::new(Bucket {
                tokens: 1.0,
                last: Instant::now(),
            }),
            tokens: local.tokens,
        };
        assert_eq!(swapped.call(get).await.unwrap().status, 200);
        let after = swapped.tokens.as_ref().unwrap().generation();
        assert_eq!(
            after,
            before.map(|g| g + 1),
            "exactly one refresh after the 401"
        );
    }

    #[test]
    fn backoff_is_bounded_and_honours_retry_after() {
        let mut cfg = JumpCloudConfig::new(ApiKey::new("k"), "http://127.0.0.1:9");
        cfg.retry.max = Duration::from_secs(2);
        let c = JumpCloudClient::new(cfg).unwrap();
        for attempt in 0..20 {
            assert!(c.backoff(attempt, None) <= Duration::from_secs(2));
        }
        assert!(c.backoff(0, Some(Duration::from_secs(1))) >= Duration::from_secs(1));
        assert_eq!(
            c.backoff(0, Some(Duration::from_secs(60))),
            Duration::from_secs(2)
        );
    }

    /// The embedded simulator's in-process transport answers exactly as the same simulator does
    /// over HTTP: statuses, passed headers, bodies, auth and organisation refusals, and
    /// retries of injected 429s.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_in_process_transport_answers_as_http_does() {
        use sluice_jcsim::{Faults, Simulator, seed};
        use std::sync::Arc;

        fn req(
            method: &str,
            path: &str,
            query: &[(&str, &str)],
            body: Option<&str>,
        ) -> JumpCloudRequest {
            JumpCloudRequest {
                method: method.into(),
                path: path.into(),
                query: query
                    .iter()
                    .map(|(k, v)| ((*k).into(), (*v).into()))
                    .collect(),
                body: body.map(Into::into),
            }
        }
        fn normalised(mut r: BrokerResponse) -> BrokerResponse {
            r.headers.sort();
            r
        }
        fn clients(
            simulator: &Arc<Simulator>,
            url: &str,
            key: &str,
            org: Option<&str>,
        ) -> (JumpCloudClient, JumpCloudClient) {
            let mut cfg = JumpCloudConfig::new(ApiKey::new(key), url);
            cfg.rate_per_second = 0.0;
            cfg.org_id = org.map(Into::into);
            cfg.retry.base = Duration::from_millis(1);
            cfg.retry.attempts = 2;
            (
                JumpCloudClient::new(cfg.clone()).unwrap(),
                JumpCloudClient::in_process(cfg, simulator.clone()),
            )
        }

        let simulator = Arc::new(
            Simulator::new(seed::default_directory(), "key", Faults::default(), None).unwrap(),
        );
        let running = simulator.clone().spawn(([127, 0, 0, 1], 0).into()).unwrap();
        let org = simulator.org_id();
        let (http, local) = clients(&simulator, &running.url(), "key", Some(&org));
        let reads = [
            req(
                "GET",
                "/api/systemusers",
                &[("limit", "2"), ("skip", "1")],
                None,
            ),
            req(
                "GET",
                "/api/v2/usergroups",
                &[("filter", "name:eq:UG-Engineering")],
                None,
            ),
            req(
                "GET",
                "/api/systemusers/000000000000000000000000",
                &[],
                None,
            ),
            req(
                "POST",
                "/api/search/systemusers",
                &[],
                Some(r#"{"filter": {"department": "Engineering"}}"#),
            ),
            req("POST", "/api/systemusers", &[], Some("{not json")),
            req(
                "POST",
                "/api/systemusers",
                &[],
                Some(r#"{"email": "missing-username@example.com"}"#),
            ),
            req("GET", "/api/nowhere", &[], None),
        ];
        for r in reads {
            let over_http = normalised(http.call(r.clone()).await.unwrap());
            let in_process = normalised(local.call(r.clone()).await.unwrap());
            assert_eq!(over_http, in_process, "{} {}", r.method, r.path);
        }

        // A write through each: the same status, headers and fields; a repeat is the same
        // conflict either way.
        let create = |name: &str| {
            req(
                "POST",
                "/api/systemusers",
                &[],
                Some(&format!(
                    r#"{{"username": "{name}", "email": "{name}@example.com"}}"#
                )),
            )
        };
        let a = normalised(http.call(create("parity.a")).await.unwrap());
        let b = normalised(local.call(create("parity.b")).await.unwrap());
        assert_eq!((a.status, &a.headers), (b.status, &b.headers));
        let fields = |r: &BrokerResponse| {
            let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            v.as_object().unwrap().keys().cloned().collect::<Vec<_>>()
        };
        assert_eq!(fields(&a), fields(&b));
        let again = normalised(local.call(create("parity.a")).await.unwrap());
        let again_http = normalised(http.call(create("parity.b")).await.unwrap());
        assert_eq!(again.status, again_http.status);
        assert!(again.status >= 400, "{again:?}");

        // Refusals in front of the directory.
        for (key, org) in [
            ("wrong", Some(org.as_str())),
            ("key", Some("nope")),
            ("key", Some("0123456789abcdef01234567")),
        ] {
            let (http, local) = clients(&simulator, &running.url(), key, org);
            let r = req("GET", "/api/systemusers", &[], None);
            let over_http = normalised(http.call(r.clone()).await.unwrap());
            let in_process = normalised(local.call(r).await.unwrap());
            assert!(over_http.status >= 400);
            assert_eq!(over_http, in_process, "key {key}, org {org:?}");
        }

        // Injected 429s are retried the same way and answered with `Retry-After`.
        let faulty = Arc::new(
            Simulator::new(
                seed::default_directory(),
                "key",
                Faults::parse("429=1,retry-after=0").unwrap(),
                None,
            )
            .unwrap(),
        );
        let running = faulty.clone().spawn(([127, 0, 0, 1], 0).into()).unwrap();
        let (http, local) = clients(&faulty, &running.url(), "key", None);
        let r = req("GET", "/api/systemusers", &[], None);
        let over_http = normalised(http.call(r.clone()).await.unwrap());
        let in_process = normalised(local.call(r).await.unwrap());
        assert_eq!((over_http.status, over_http.attempts), (429, 2));
        assert_eq!(over_http, in_process);
    }
}
