//! The JumpCloud API client behind the `jumpcloud` import: one reqwest client (rustls) for
//! v1 (`/api`), v2 (`/api/v2`) and Directory Insights (`/insights/directory/v1`), which
//! injects `x-api-key`/`x-org-id` (plugins never see them), spaces calls with a token
//! bucket, and retries 429, 5xx and timeouts with exponential backoff and jitter,
//! honouring `Retry-After`.
//!
//! The embedded sandbox is reached in process instead ([`JumpCloudClient::in_process`]):
//! the same keys, pacing, retries and response handling, with the request handed to the
//! sandbox's front (auth, faults, JSON) directly rather than through a loopback socket.

use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{BrokerError, BrokerResponse, JumpCloudBroker, JumpCloudRequest};

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

/// How to reach JumpCloud.
#[derive(Debug, Clone)]
pub struct JumpCloudConfig {
    pub api_key: ApiKey,
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
            api_key,
            org_id: None,
            base_url,
            insights_url,
            rate_per_second: 10.0,
            burst: 20,
            retry: Retry::default(),
            timeout: Duration::from_secs(30),
        }
    }

    /// Reads `SLUICE_JUMPCLOUD_*` from `env`; `None` when no API key is set.
    pub fn from_env(
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<JumpCloudConfig>, String> {
        let Some(key) = env("SLUICE_JUMPCLOUD_API_KEY").filter(|k| !k.trim().is_empty()) else {
            return Ok(None);
        };
        let base = env("SLUICE_JUMPCLOUD_URL").unwrap_or_else(|| US_CONSOLE.to_owned());
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(format!(
                "SLUICE_JUMPCLOUD_URL `{base}`: expected an http(s) URL"
            ));
        }
        let mut cfg = JumpCloudConfig::new(ApiKey::new(key.trim()), &base);
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
    /// The embedded sandbox, called in process: a loopback HTTP round trip cost about as
    /// much CPU as the sandbox's handling of the request itself.
    Sandbox(std::sync::Arc<crate::jumpcloud::sandbox::Sandbox>),
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

    /// A client of `sandbox` in this process (`cfg.base_url` only names it). Requests pass
    /// through the sandbox's own front — `x-api-key`, `x-org-id`, injected faults, the JSON
    /// body — exactly as over HTTP; only the socket and the HTTP encoding are skipped.
    pub fn in_process(
        cfg: JumpCloudConfig,
        sandbox: std::sync::Arc<crate::jumpcloud::sandbox::Sandbox>,
    ) -> JumpCloudClient {
        Self::with_transport(cfg, Transport::Sandbox(sandbox))
    }

    fn with_transport(cfg: JumpCloudConfig, transport: Transport) -> JumpCloudClient {
        JumpCloudClient {
            transport,
            bucket: tokio::sync::Mutex::new(Bucket {
                tokens: cfg.burst as f64,
                last: Instant::now(),
            }),
            cfg,
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

    async fn attempt(&self, req: &JumpCloudRequest) -> Result<BrokerResponse, NoResponse> {
        let http = match &self.transport {
            Transport::Http(http) => http,
            Transport::Sandbox(sandbox) => return self.attempt_in_process(sandbox, req).await,
        };
        let method =
            reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut rb = http
            .request(method, self.url(&req.path))
            .header("x-api-key", self.cfg.api_key.expose())
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
        sandbox: &crate::jumpcloud::sandbox::Sandbox,
        req: &JumpCloudRequest,
    ) -> Result<BrokerResponse, NoResponse> {
        let exchange = sandbox.exchange(crate::jumpcloud::sandbox::Incoming {
            method: &req.method,
            path: &req.path,
            query: req.query.clone(),
            api_key: Some(self.cfg.api_key.expose().as_bytes()),
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
        loop {
            attempt += 1;
            self.take_token().await;
            let result = self.attempt(&req).await;
            let last = attempt >= attempts;
            match result {
                Ok(mut resp) if !retryable_status(resp.status) || last => {
                    resp.attempts = attempt;
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
                        code: "JUMPCLOUD_UNAVAILABLE".into(),
                        message: format!(
                            "{} {} {what} after {attempt} attempt(s): {}",
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

    /// The embedded sandbox's in-process transport answers exactly as the same sandbox does
    /// over HTTP: statuses, passed headers, bodies, auth and organisation refusals, and
    /// retries of injected 429s.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_in_process_transport_answers_as_http_does() {
        use crate::jumpcloud::sandbox::{Faults, Sandbox, seed};
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
            sandbox: &Arc<Sandbox>,
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
                JumpCloudClient::in_process(cfg, sandbox.clone()),
            )
        }

        let sandbox = Arc::new(
            Sandbox::new(seed::default_directory(), "key", Faults::default(), None).unwrap(),
        );
        let running = sandbox.clone().spawn(([127, 0, 0, 1], 0).into()).unwrap();
        let org = sandbox.org_id();
        let (http, local) = clients(&sandbox, &running.url(), "key", Some(&org));
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
            let (http, local) = clients(&sandbox, &running.url(), key, org);
            let r = req("GET", "/api/systemusers", &[], None);
            let over_http = normalised(http.call(r.clone()).await.unwrap());
            let in_process = normalised(local.call(r).await.unwrap());
            assert!(over_http.status >= 400);
            assert_eq!(over_http, in_process, "key {key}, org {org:?}");
        }

        // Injected 429s are retried the same way and answered with `Retry-After`.
        let faulty = Arc::new(
            Sandbox::new(
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
