//! External App Connectors: an external application defined once — base URL,
//! how to authenticate, default headers, the hosts it may reach — and called from any
//! workflow by name. The definition lives in the store in clear; its credential is sealed
//! with the secrets module under `connector.<name>` and only the broker ever opens it.
//!
//! # Layout
//! One file: [`ConnectorDef`] and [`Auth`], [`ConnectorDef::validate`] (the one place a
//! definition is checked), the [`ConnectorStore`] trait the store implements, and
//! [`ConnectorError`] with stable codes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The definition format version.
pub const VERSION: u32 = 1;
/// Default per-request timeout.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// Default cap on a response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 1024 * 1024;

/// How the host authenticates calls through a connector. The credential itself is never
/// part of the definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Auth {
    /// No credential.
    None,
    /// The secret as the value of a header, e.g. `X-Api-Key`.
    Header { header: String },
    /// `Authorization: Bearer <secret>`.
    Bearer,
    /// `Authorization: Basic base64(user:secret)`.
    Basic { user: String },
    /// The secret appended to the base URL's path, for webhook URLs that carry their token
    /// (Slack's `https://hooks.slack.com/services/<secret>`).
    Path,
}

/// [`Auth`] as it is read: every variant a struct, so that a field it does not have is an
/// error for each (serde lets a unit variant of a tagged enum ignore them).
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum AuthFields {
    None {},
    Header { header: String },
    Bearer {},
    Basic { user: String },
    Path {},
}

impl<'de> Deserialize<'de> for Auth {
    /// An object only: serde would also read a tagged enum from an array (`["bearer"]`).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let fields = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        Ok(
            match serde_json::from_value(serde_json::Value::Object(fields))
                .map_err(serde::de::Error::custom)?
            {
                AuthFields::None {} => Auth::None,
                AuthFields::Header { header } => Auth::Header { header },
                AuthFields::Bearer {} => Auth::Bearer,
                AuthFields::Basic { user } => Auth::Basic { user },
                AuthFields::Path {} => Auth::Path,
            },
        )
    }
}

impl Auth {
    pub fn needs_secret(&self) -> bool {
        !matches!(self, Auth::None)
    }

    /// The header the host sets, which plugins may therefore not set.
    pub fn header(&self) -> Option<String> {
        match self {
            Auth::Header { header } => Some(header.to_ascii_lowercase()),
            Auth::Bearer | Auth::Basic { .. } => Some("authorization".into()),
            Auth::None | Auth::Path => None,
        }
    }

    /// A short description for listings (never the secret).
    pub fn describe(&self) -> String {
        match self {
            Auth::None => "none".into(),
            Auth::Header { header } => format!("header {header}"),
            Auth::Bearer => "bearer".into(),
            Auth::Basic { user } => format!("basic (user {user})"),
            Auth::Path => "secret in URL path".into(),
        }
    }
}

/// One connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorDef {
    pub version: u32,
    pub name: String,
    /// `https://host[:port][/base/path]`; plain `http` only for loopback or when allowed.
    pub base_url: String,
    pub auth: Auth,
    /// Headers sent with every call; a step's own headers override them.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Hosts requests and redirects may reach; the base URL's host is always allowed.
    #[serde(default)]
    pub allow_hosts: Vec<String>,
    /// Whether a non-loopback `http://` base URL was allowed explicitly.
    #[serde(default)]
    pub allow_http: bool,
    pub timeout_ms: u64,
    pub max_response_bytes: u64,
    pub created_at: String,
}

/// What went wrong with a connector definition or lookup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    #[error("connector name `{0}`: use lower-case letters, digits, `-` and `_` (1-64)")]
    BadName(String),
    #[error("connector `{name}`: {why}")]
    Invalid { name: String, why: String },
    #[error("connector `{0}` is not defined (see `sluice connector list`)")]
    NotFound(String),
    #[error("connector `{0}` already exists; remove it first or pass --replace")]
    Exists(String),
    #[error("store: {0}")]
    Store(String),
}

impl ConnectorError {
    pub fn code(&self) -> crate::code::Code {
        use crate::code::Code;
        match self {
            ConnectorError::BadName(_) | ConnectorError::Invalid { .. } => Code::ConnectorInvalid,
            ConnectorError::NotFound(_) => Code::ConnectorNotFound,
            ConnectorError::Exists(_) => Code::ConnectorExists,
            ConnectorError::Store(_) => Code::StoreError,
        }
    }
}

/// Whether `name` is a valid connector name.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The sealed secret that holds a connector's credential.
pub fn secret_name(connector: &str) -> String {
    format!("connector.{connector}")
}

/// Whether `host` is this machine (plain http is allowed there).
pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn valid_header_name(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 128
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Headers only the host sets.
pub const RESERVED_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
];

impl ConnectorDef {
    /// Checks the whole definition; the first problem found is reported.
    pub fn validate(&self) -> Result<(), ConnectorError> {
        let bad = |why: String| ConnectorError::Invalid {
            name: self.name.clone(),
            why,
        };
        if !valid_name(&self.name) {
            return Err(ConnectorError::BadName(
                self.name.chars().take(80).collect(),
            ));
        }
        if self.version != VERSION {
            return Err(bad(format!(
                "definition version {} is not supported (expected {VERSION})",
                self.version
            )));
        }
        let url = reqwest::Url::parse(&self.base_url)
            .map_err(|e| bad(format!("base URL `{}`: {e}", self.base_url)))?;
        let host = url.host_str().unwrap_or_default().to_owned();
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&host) || self.allow_http => {}
            "http" => {
                return Err(bad(format!(
                    "base URL `{}` is plain http: credentials would cross the network in clear; \
                     use https (or --allow-http for a trusted internal network)",
                    self.base_url
                )));
            }
            other => return Err(bad(format!("base URL scheme `{other}`: use https"))),
        }
        if host.is_empty() {
            return Err(bad(format!("base URL `{}` has no host", self.base_url)));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad(
                "the base URL may not carry a query or fragment; steps add their own query".into(),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "the base URL may not carry credentials; use --auth-header, --bearer-env or \
                 --basic-user with the secret in an environment variable"
                    .into(),
            ));
        }
        for h in &self.allow_hosts {
            if h.is_empty() || h.contains(['/', ':', '@', ' ']) {
                return Err(bad(format!("allowed host `{h}`: give a host name only")));
            }
        }
        for (k, v) in &self.headers {
            if !valid_header_name(k) {
                return Err(bad(format!("header name `{k}` is not valid")));
            }
            let lower = k.to_ascii_lowercase();
            if RESERVED_HEADERS.contains(&lower.as_str()) || self.auth.header() == Some(lower) {
                return Err(bad(format!(
                    "header `{k}` is set by the host; give credentials with --auth-header, \
                     --bearer-env or --basic-user"
                )));
            }
            if v.contains(['\r', '\n']) {
                return Err(bad(format!("header `{k}` has a line break in its value")));
            }
        }
        if let Auth::Header { header } = &self.auth
            && (!valid_header_name(header)
                || RESERVED_HEADERS[1..].contains(&header.to_ascii_lowercase().as_str()))
        {
            return Err(bad(format!("credential header `{header}` is not valid")));
        }
        if let Auth::Basic { user } = &self.auth
            && (user.is_empty() || user.contains(':'))
        {
            return Err(bad(
                "the basic-auth user may not be empty or contain `:`".into()
            ));
        }
        if self.timeout_ms == 0 || self.timeout_ms > 600_000 {
            return Err(bad("the timeout must be between 1 ms and 10 minutes".into()));
        }
        if self.max_response_bytes == 0 || self.max_response_bytes > 64 * 1024 * 1024 {
            return Err(bad(
                "the response size cap must be between 1 byte and 64 MiB".into(),
            ));
        }
        Ok(())
    }

    /// The base URL's host plus the allowed hosts, lower-cased.
    pub fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = reqwest::Url::parse(&self.base_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .into_iter()
            .collect();
        hosts.extend(self.allow_hosts.iter().map(|h| h.to_ascii_lowercase()));
        hosts.dedup();
        hosts
    }
}

/// Where connector definitions live (the store's `connectors` tree).
pub trait ConnectorStore: Send + Sync {
    fn connector_put(&self, def: &ConnectorDef) -> Result<(), ConnectorError>;
    fn connector_get(&self, name: &str) -> Result<Option<ConnectorDef>, ConnectorError>;
    fn connector_list(&self) -> Result<Vec<ConnectorDef>, ConnectorError>;
    fn connector_remove(&self, name: &str) -> Result<bool, ConnectorError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn def(base: &str, auth: Auth) -> ConnectorDef {
        ConnectorDef {
            version: VERSION,
            name: "jira".into(),
            base_url: base.into(),
            auth,
            headers: BTreeMap::new(),
            allow_hosts: vec![],
            allow_http: false,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            created_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn auth_is_read_strictly() {
        let read = |v: serde_json::Value| serde_json::from_value::<Auth>(v);
        assert_eq!(
            read(serde_json::json!({"type": "none"})).unwrap(),
            Auth::None
        );
        assert_eq!(
            read(serde_json::json!({"type": "basic", "user": "bot"})).unwrap(),
            Auth::Basic { user: "bot".into() }
        );
        for bad in [
            serde_json::json!({"type": "none", "header": "X-Key"}),
            serde_json::json!({"type": "bearer", "extra": 1}),
            serde_json::json!(["bearer"]),
            serde_json::json!(["header", "X-Key"]),
            serde_json::json!({"type": "header"}),
        ] {
            assert!(read(bad.clone()).is_err(), "{bad}");
        }
        let stored = serde_json::to_value(Auth::Header {
            header: "X-Key".into(),
        })
        .unwrap();
        assert_eq!(
            stored,
            serde_json::json!({"type": "header", "header": "X-Key"})
        );
        assert_eq!(
            read(stored).unwrap(),
            Auth::Header {
                header: "X-Key".into()
            }
        );
    }

    #[test]
    fn definitions_are_checked() {
        assert!(
            def("https://acme.atlassian.net", Auth::Bearer)
                .validate()
                .is_ok()
        );
        assert!(
            def("http://127.0.0.1:8080/api", Auth::None)
                .validate()
                .is_ok()
        );
        let plain = def("http://jira.example.com", Auth::Bearer);
        assert!(
            plain
                .validate()
                .unwrap_err()
                .to_string()
                .contains("plain http")
        );
        assert!(
            ConnectorDef {
                allow_http: true,
                ..plain
            }
            .validate()
            .is_ok()
        );
        for bad in [
            "ftp://x",
            "not a url",
            "https://u:p@x.example.com",
            "https://x.example.com/?a=1",
        ] {
            assert!(def(bad, Auth::None).validate().is_err(), "{bad}");
        }
        let mut d = def("https://x.example.com", Auth::Bearer);
        d.headers.insert("Authorization".into(), "Basic x".into());
        assert!(d.validate().is_err());
        let mut d = def(
            "https://x.example.com",
            Auth::Header {
                header: "X-Key".into(),
            },
        );
        d.headers.insert("x-key".into(), "v".into());
        assert!(d.validate().is_err());
        d.headers.clear();
        d.headers.insert("Accept".into(), "application/json".into());
        assert!(d.validate().is_ok());
        assert!(
            def("https://x.example.com", Auth::Basic { user: "a:b".into() })
                .validate()
                .is_err()
        );
        assert!(
            ConnectorDef {
                name: "Bad Name".into(),
                ..def("https://x.example.com", Auth::None)
            }
            .validate()
            .is_err()
        );
        let mut d = def("https://x.example.com", Auth::None);
        d.allow_hosts = vec!["evil.example.com/path".into()];
        assert!(d.validate().is_err());
        d.allow_hosts = vec!["Files.Example.com".into()];
        assert_eq!(d.hosts(), ["x.example.com", "files.example.com"]);
    }
}
