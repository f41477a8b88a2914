//! Everything a plugin reaches outside its sandbox goes through a broker: the JumpCloud API
//! and external applications behind connectors. This module holds the broker traits the
//! plugin host calls, the permission model they are checked against, and the record kept of
//! each call.
//!
//! The production JumpCloud client ([`jumpcloud`]) and the connector client ([`connector`])
//! implement these traits;
//! [`Unconfigured`] answers every call with a clear "not configured" error.
//!
//! # Layout
//! - `mod.rs`: the broker traits, the record of a brokered call, [`Unconfigured`].
//! - [`jumpcloud`]: the JumpCloud client (API key or service account, retries, rate limits;
//!   in process to the simulator when no JumpCloud is configured).
//! - [`token`]: service-account access tokens: fetched once, cached, refreshed before expiry.
//! - [`connector`]: the External App Connector client (auth injected, hosts pinned).
//! - [`permissions`]: grants, run-as roles (predefined and custom), and the check of a call
//!   against them; JumpCloud's scope table itself is `sluice_jcsim::scopes`.

pub mod connector;
pub mod jumpcloud;
pub mod permissions;
pub mod token;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::code::Code;

/// A request to the JumpCloud API, as a plugin made it (credentials are the broker's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JumpCloudRequest {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<String>,
}

/// A request through an External App Connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorRequest {
    pub connector: String,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub body: Option<String>,
}

/// A brokered response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// How many attempts the broker made (retries on 429, 5xx and timeouts).
    #[serde(default = "one")]
    pub attempts: u32,
}

fn one() -> u32 {
    1
}

/// A brokered call that did not produce a response (after the broker's own retries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct BrokerError {
    pub code: String,
    pub message: String,
    pub retryable: bool,
}

/// The JumpCloud API, as seen by the plugin host.
#[async_trait]
pub trait JumpCloudBroker: Send + Sync {
    async fn call(&self, req: JumpCloudRequest) -> Result<BrokerResponse, BrokerError>;
}

/// External applications, as seen by the plugin host.
#[async_trait]
pub trait HttpBroker: Send + Sync {
    async fn send(&self, req: ConnectorRequest) -> Result<BrokerResponse, BrokerError>;
}

/// The broker of an installation with no JumpCloud account and no connectors configured.
#[derive(Debug, Default, Clone, Copy)]
pub struct Unconfigured;

#[async_trait]
impl JumpCloudBroker for Unconfigured {
    async fn call(&self, _req: JumpCloudRequest) -> Result<BrokerResponse, BrokerError> {
        Err(BrokerError {
            code: Code::JumpcloudNotConfigured.into(),
            message: "no JumpCloud API is configured for this runtime".into(),
            retryable: false,
        })
    }
}

#[async_trait]
impl HttpBroker for Unconfigured {
    async fn send(&self, req: ConnectorRequest) -> Result<BrokerResponse, BrokerError> {
        Err(BrokerError {
            code: Code::ConnectorNotFound.into(),
            message: format!("connector `{}` is not defined", req.connector),
            retryable: false,
        })
    }
}

/// What kind of host call a [`HostCall`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallKind {
    Jumpcloud,
    Http,
    State,
}

/// One brokered call, as kept in the step's record. Never holds credentials or bodies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostCall {
    pub kind: CallKind,
    pub method: String,
    /// The path (JumpCloud), `connector:path` (HTTP) or key (state).
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub latency_us: u64,
    /// Attempts the broker made, when it retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
}
