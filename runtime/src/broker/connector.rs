//! The connector client behind the `http` import: resolves the connector's definition,
//! opens its sealed credential, joins the plugin's relative path to the base URL, adds the
//! credential, and sends the request with rustls, a timeout and a response size cap.
//! Redirects are followed by hand so that every hop is checked against the connector's
//! host allow-list, and the credential is scrubbed from whatever comes back, so that an
//! application echoing a header cannot hand it to the plugin or the run record.
//!
//! Retries of 429 and 5xx answers belong to the step's retry policy (the connector plugins
//! mark them retryable), not to this client: a connector call is not always idempotent.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::{BrokerError, BrokerResponse, ConnectorRequest, HttpBroker};
use crate::code::Code;
use crate::connector::{Auth, ConnectorDef, ConnectorStore, RESERVED_HEADERS, secret_name};
use crate::secrets::{self, SecretKey, SecretStore};

/// Redirect hops followed before giving up.
const MAX_REDIRECTS: usize = 5;
/// What replaces a credential found in a response.
const REDACTED: &str = "[REDACTED]";

fn error(code: Code, message: impl Into<String>, retryable: bool) -> BrokerError {
    BrokerError {
        code: code.into(),
        message: message.into(),
        retryable,
    }
}

/// The `http` broker over the store's connector definitions and sealed credentials.
pub struct ConnectorBroker {
    defs: Arc<dyn ConnectorStore>,
    secrets: Arc<dyn SecretStore>,
    key: Option<SecretKey>,
    /// Connectors the runtime itself provides (the sandbox's mail outbox), with their
    /// credential; a stored definition of the same name wins.
    builtin: Vec<(ConnectorDef, String)>,
    client: reqwest::Client,
}

impl std::fmt::Debug for ConnectorBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorBroker").finish_non_exhaustive()
    }
}

impl ConnectorBroker {
    /// A broker reading definitions from `defs` and credentials from `secrets`, opened with
    /// `key` (the administrator's `SLUICE_SECRET_KEY`, when set).
    pub fn new(
        defs: Arc<dyn ConnectorStore>,
        secrets: Arc<dyn SecretStore>,
        key: Option<SecretKey>,
    ) -> Result<ConnectorBroker, BrokerError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .use_rustls_tls()
            .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| error(Code::ConnectorClientError, e.to_string(), false))?;
        Ok(ConnectorBroker {
            defs,
            secrets,
            key,
            builtin: Vec::new(),
            client,
        })
    }

    /// Adds a connector the runtime provides, with its credential.
    pub fn with_builtin(mut self, def: ConnectorDef, secret: String) -> ConnectorBroker {
        self.builtin.push((def, secret));
        self
    }

    fn definition(&self, name: &str) -> Result<ConnectorDef, BrokerError> {
        self.defs
            .connector_get(name)
            .map_err(|e| error(e.code(), e.to_string(), false))?
            .or_else(|| {
                self.builtin
                    .iter()
                    .find(|(d, _)| d.name == name)
                    .map(|(d, _)| d.clone())
            })
            .ok_or_else(|| {
                error(
                    Code::ConnectorNotFound,
                    format!("connector `{name}` is not defined (see `sluice connector list`)"),
                    false,
                )
            })
    }

    fn credential(&self, def: &ConnectorDef) -> Result<Option<String>, BrokerError> {
        if !def.auth.needs_secret() {
            return Ok(None);
        }
        if let Some((_, secret)) = self
            .builtin
            .iter()
            .find(|(d, _)| d.name == def.name && d == def)
        {
            return Ok(Some(secret.clone()));
        }
        let name = secret_name(&def.name);
        match secrets::read(self.secrets.as_ref(), self.key.as_ref(), &name) {
            Ok(Some(v)) => Ok(Some(v)),
            Ok(None) => Err(error(
                Code::ConnectorSecretMissing,
                format!(
                    "connector `{}` authenticates with a credential but none is stored; \
                     define it again with `sluice connector add {} --replace ...`",
                    def.name, def.name
                ),
                false,
            )),
            Err(e) => Err(error(
                Code::ConnectorSecretUnavailable,
                format!("connector `{}`: {e}", def.name),
                false,
            )),
        }
    }
}

/// The request URL: base URL, the credential when it travels in the path, the plugin's
/// path (`/` alone means the base URL itself) and its query.
fn request_url(
    def: &ConnectorDef,
    secret: Option<&str>,
    path: &str,
    query: &[(String, String)],
) -> Result<reqwest::Url, BrokerError> {
    let mut text = def.base_url.trim_end_matches('/').to_owned();
    if let (Auth::Path, Some(s)) = (&def.auth, secret) {
        text.push('/');
        text.push_str(s.trim_matches('/'));
    }
    if path != "/" {
        text.push_str(path);
    }
    let mut url = reqwest::Url::parse(&text).map_err(|e| {
        error(
            Code::InvalidRequest,
            format!("path `{path}` does not make a valid URL: {e}"),
            false,
        )
    })?;
    // Whatever the parser normalised, the result must stay below the base URL.
    let base = reqwest::Url::parse(&def.base_url)
        .map_err(|e| error(Code::ConnectorInvalid, e.to_string(), false))?;
    let below = base.path().trim_end_matches('/');
    if url.host_str() != base.host_str()
        || url.port_or_known_default() != base.port_or_known_default()
        || !(url.path() == below
            || url.path().starts_with(&format!("{below}/"))
            || below.is_empty())
    {
        return Err(error(
            Code::InvalidRequest,
            format!("path `{path}` leaves the connector's base URL"),
            false,
        ));
    }
    if !query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in query {
            pairs.append_pair(k, v);
        }
    }
    Ok(url)
}

/// Whether `url` may be reached through `def`: a listed host, and no downgrade to plain
/// http unless the connector allows it.
fn check_target(def: &ConnectorDef, url: &reqwest::Url) -> Result<(), BrokerError> {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if !def.hosts().contains(&host) {
        return Err(error(
            Code::ConnectorHostNotAllowed,
            format!(
                "connector `{}` may not reach host `{host}` (allowed: {}); add it with \
                 --allow-host if it is expected",
                def.name,
                def.hosts().join(", ")
            ),
            false,
        ));
    }
    let loopback = crate::connector::is_loopback(&host);
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback || def.allow_http => Ok(()),
        other => Err(error(
            Code::ConnectorHostNotAllowed,
            format!(
                "connector `{}` refused a `{other}` URL on `{host}`",
                def.name
            ),
            false,
        )),
    }
}

/// The headers of a request: the connector's defaults, the step's own (which may not touch
/// what the host sets), then the credential.
fn request_headers(
    def: &ConnectorDef,
    secret: Option<&str>,
    step: &[(String, String)],
) -> Result<HeaderMap, BrokerError> {
    let invalid = |m: String| error(Code::InvalidRequest, m, false);
    let mut headers = HeaderMap::new();
    let mut put = |k: &str, v: &str| -> Result<(), BrokerError> {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| invalid(format!("header name `{k}` is not valid")))?;
        let value = HeaderValue::from_str(v)
            .map_err(|_| invalid(format!("header `{k}` has an invalid value")))?;
        headers.insert(name, value);
        Ok(())
    };
    for (k, v) in &def.headers {
        put(k, v)?;
    }
    let credential_header = def.auth.header();
    for (k, v) in step {
        let lower = k.to_ascii_lowercase();
        if RESERVED_HEADERS.contains(&lower.as_str())
            || credential_header.as_deref() == Some(&lower)
        {
            return Err(invalid(format!(
                "header `{k}` is set by the host, not by plugins"
            )));
        }
        put(&lower, v)?;
    }
    if let Some(s) = secret {
        match &def.auth {
            Auth::Header { header } => put(header, s)?,
            Auth::Bearer => put("authorization", &format!("Bearer {s}"))?,
            Auth::Basic { user } => {
                let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{s}"));
                put("authorization", &format!("Basic {token}"))?;
            }
            Auth::None | Auth::Path => {}
        }
    }
    if let Some(v) = credential_header.and_then(|name| headers.get_mut(name.as_str())) {
        v.set_sensitive(true);
    }
    Ok(headers)
}

/// The forms a credential can take in a response (itself, and its basic-auth encoding).
fn credential_forms(def: &ConnectorDef, secret: Option<&str>) -> Vec<String> {
    let Some(s) = secret.filter(|s| s.len() >= 4) else {
        return vec![];
    };
    let mut forms = vec![s.to_owned()];
    if matches!(def.auth, Auth::Path) && s.trim_matches('/') != s {
        forms.push(s.trim_matches('/').to_owned());
    }
    if let Auth::Basic { user } = &def.auth {
        forms.push(base64::engine::general_purpose::STANDARD.encode(format!("{user}:{s}")));
    }
    forms
}

fn redact(text: &str, forms: &[String]) -> String {
    forms
        .iter()
        .fold(text.to_owned(), |t, f| t.replace(f.as_str(), REDACTED))
}

fn transport_error(def: &ConnectorDef, e: reqwest::Error) -> BrokerError {
    // Never the URL: with a secret in the path it would carry the credential.
    let e = e.without_url();
    if e.is_timeout() {
        error(
            Code::ConnectorTimeout,
            format!(
                "connector `{}` did not answer within {} ms",
                def.name, def.timeout_ms
            ),
            true,
        )
    } else if e.is_connect() {
        error(
            Code::ConnectorUnreachable,
            format!("connector `{}` could not be reached: {e}", def.name),
            true,
        )
    } else {
        error(
            Code::ConnectorRequestFailed,
            format!("connector `{}`: {e}", def.name),
            true,
        )
    }
}

fn too_large(def: &ConnectorDef) -> BrokerError {
    error(
        Code::ConnectorResponseTooLarge,
        format!(
            "the response through connector `{}` exceeds its cap of {} bytes",
            def.name, def.max_response_bytes
        ),
        false,
    )
}

#[async_trait]
impl HttpBroker for ConnectorBroker {
    async fn send(&self, req: ConnectorRequest) -> Result<BrokerResponse, BrokerError> {
        let def = self.definition(&req.connector)?;
        let secret = self.credential(&def)?;
        let mut method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| error(Code::InvalidRequest, "bad method", false))?;
        let mut url = request_url(&def, secret.as_deref(), &req.path, &req.query)?;
        let mut headers = request_headers(&def, secret.as_deref(), &req.headers)?;
        let mut body = req.body;
        let timeout = Duration::from_millis(def.timeout_ms);
        for _hop in 0..=MAX_REDIRECTS {
            check_target(&def, &url)?;
            let mut builder = self
                .client
                .request(method.clone(), url.clone())
                .headers(headers.clone())
                .timeout(timeout);
            if let Some(b) = &body {
                builder = builder.body(b.clone());
            }
            let mut resp = builder.send().await.map_err(|e| transport_error(&def, e))?;
            let status = resp.status();
            if status.is_redirection()
                && let Some(location) = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
            {
                url = url.join(location).map_err(|_| {
                    error(
                        Code::ConnectorRequestFailed,
                        format!("connector `{}` redirected to an invalid location", def.name),
                        false,
                    )
                })?;
                // Another allowed host gets the request, not the credential.
                let origin = reqwest::Url::parse(&def.base_url).ok();
                let same_origin = origin.as_ref().is_some_and(|o| {
                    o.host_str() == url.host_str()
                        && o.port_or_known_default() == url.port_or_known_default()
                });
                if !same_origin {
                    for h in def.auth.header().into_iter().chain(["cookie".to_owned()]) {
                        headers.remove(h.as_str());
                    }
                }
                if status == reqwest::StatusCode::SEE_OTHER
                    || (matches!(status.as_u16(), 301 | 302) && method == reqwest::Method::POST)
                {
                    method = reqwest::Method::GET;
                    body = None;
                    headers.remove(reqwest::header::CONTENT_TYPE);
                }
                continue;
            }
            let cap = def.max_response_bytes;
            if resp.content_length().is_some_and(|n| n > cap) {
                return Err(too_large(&def));
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(&def, e))? {
                if (bytes.len() + chunk.len()) as u64 > cap {
                    return Err(too_large(&def));
                }
                bytes.extend_from_slice(&chunk);
            }
            let forms = credential_forms(&def, secret.as_deref());
            let headers = resp
                .headers()
                .iter()
                .filter(|(k, _)| *k != reqwest::header::SET_COOKIE)
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        redact(&String::from_utf8_lossy(v.as_bytes()), &forms),
                    )
                })
                .collect();
            return Ok(BrokerResponse {
                status: status.as_u16(),
                headers,
                body: redact(&String::from_utf8_lossy(&bytes), &forms),
                attempts: 1,
            });
        }
        Err(error(
            Code::ConnectorTooManyRedirects,
            format!(
                "connector `{}` redirected more than {MAX_REDIRECTS} times",
                def.name
            ),
            false,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::{DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS, VERSION};

    fn def(base: &str, auth: Auth) -> ConnectorDef {
        ConnectorDef {
            version: VERSION,
            name: "c".into(),
            base_url: base.into(),
            auth,
            headers: [("Accept".to_owned(), "application/json".to_owned())].into(),
            allow_hosts: vec!["files.example.com".into()],
            allow_http: false,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            created_at: String::new(),
        }
    }

    #[test]
    fn urls_join_below_the_base() {
        let d = def("https://x.example.com/api/", Auth::Bearer);
        let u = request_url(&d, Some("s"), "/issue", &[("a b".into(), "c&d".into())]).unwrap();
        assert_eq!(u.as_str(), "https://x.example.com/api/issue?a+b=c%26d");
        assert_eq!(
            request_url(&d, None, "/", &[]).unwrap().as_str(),
            "https://x.example.com/api"
        );
        let slack = def("https://hooks.example.com/services", Auth::Path);
        assert_eq!(
            request_url(&slack, Some("T1/B2/xyz"), "/", &[])
                .unwrap()
                .as_str(),
            "https://hooks.example.com/services/T1/B2/xyz"
        );
    }

    #[test]
    fn paths_cannot_leave_the_base_even_through_parser_normalisation() {
        let d = def("https://x.example.com/api", Auth::Bearer);
        assert!(request_url(&d, None, "/issue", &[]).is_ok());
        for sneaky in ["/.\t./admin", "/%2e%2e/admin", "/./../admin"] {
            let r = request_url(&d, None, sneaky, &[]);
            assert!(
                r.as_ref().is_err() || r.as_ref().unwrap().path().starts_with("/api/"),
                "{sneaky}: {r:?}"
            );
        }
        assert!(request_url(&d, None, "/.\t./.\t./other", &[]).is_err());
    }

    #[test]
    fn targets_must_be_allowed_hosts_without_downgrade() {
        let d = def("https://x.example.com", Auth::None);
        let ok = |u: &str| check_target(&d, &reqwest::Url::parse(u).unwrap());
        assert!(ok("https://x.example.com/a").is_ok());
        assert!(ok("https://FILES.example.com/a").is_ok());
        assert_eq!(
            ok("https://evil.example.net/").unwrap_err().code,
            "CONNECTOR_HOST_NOT_ALLOWED"
        );
        assert!(ok("http://x.example.com/a").is_err());
    }

    #[test]
    fn credentials_are_the_hosts_and_are_redacted() {
        let d = def(
            "https://x.example.com",
            Auth::Header {
                header: "X-Api-Key".into(),
            },
        );
        let h = request_headers(&d, Some("sek-ret"), &[("X-Trace".into(), "1".into())]).unwrap();
        assert_eq!(h["x-api-key"], "sek-ret");
        assert!(h["x-api-key"].is_sensitive());
        assert_eq!(h["accept"], "application/json");
        for bad in ["x-api-key", "Authorization", "Host", "cookie"] {
            let e = request_headers(&d, Some("s"), &[(bad.into(), "v".into())]).unwrap_err();
            assert_eq!(e.code, "INVALID_REQUEST", "{bad}");
        }
        let b = def("https://x.example.com", Auth::Basic { user: "bot".into() });
        let h = request_headers(&b, Some("pw12"), &[]).unwrap();
        assert_eq!(h["authorization"], "Basic Ym90OnB3MTI=");
        let forms = credential_forms(&b, Some("pw12"));
        assert_eq!(
            redact("echo Basic Ym90OnB3MTI= and pw12", &forms),
            "echo Basic [REDACTED] and [REDACTED]"
        );
    }
}
