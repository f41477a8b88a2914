//! The error every handler returns, rendered as JumpCloud renders its errors, so a client
//! under test sees the same bodies and statuses it will see from the real API.

use serde_json::{Value, json};

use crate::Reply;

/// An API error, rendered as JumpCloud's `{code, message, status}` error body.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Reply {
        Reply {
            status: e.status,
            body: Some(e.body()),
            headers: Vec::new(),
        }
    }
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "INVALID_ARGUMENT", message)
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(404, "NOT_FOUND", format!("{what} not found"))
    }

    /// The JSON error body JumpCloud sends.
    pub fn body(&self) -> Value {
        let mut b = json!({"code": self.status, "message": self.message, "status": self.code});
        if let Some(d) = &self.details {
            b["details"] = d.clone();
        }
        b
    }
}
