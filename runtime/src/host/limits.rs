//! Sandbox limits: documented defaults, global settings and per-plugin overrides.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The default ceiling on any call's deadline, whatever a plugin's install or a step's
/// `timeout:` asks for (`SLUICE_MAX_STEP_TIMEOUT` changes it).
pub const MAX_STEP_TIMEOUT_DEFAULT: Duration = Duration::from_secs(15 * 60);

/// The highest ceiling that may be configured: a day. Deadlines are wall time; a step that
/// needs longer should be split or poll.
pub const MAX_STEP_TIMEOUT_LIMIT: Duration = Duration::from_secs(24 * 3600);

/// A plugin error's message is cut to this many bytes (the rest is summarised).
pub const MAX_ERROR_MESSAGE_BYTES: usize = 4 << 10;

/// A plugin error's details (JSON text) above this many bytes are replaced by a note of
/// their size.
pub const MAX_ERROR_DETAILS_BYTES: usize = 16 << 10;

/// The limits one plugin call runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Wall-clock deadline of one call, guest code and host calls included.
    #[serde(with = "millis")]
    pub timeout: Duration,
    /// Linear memory cap of the instance, bytes.
    pub memory_bytes: u64,
    /// Largest input accepted, bytes of JSON.
    pub max_input_bytes: usize,
    /// Largest output accepted, bytes of JSON.
    pub max_output_bytes: usize,
    /// Log captured per call (log lines + stdout + stderr), bytes.
    pub max_log_bytes: usize,
}

impl Limits {
    /// The defaults: 30 s, 64 MiB of memory, 1 MiB in, 1 MiB out, 64 KiB of log.
    pub const DEFAULT: Limits = Limits {
        timeout: Duration::from_secs(30),
        memory_bytes: 64 << 20,
        max_input_bytes: 1 << 20,
        max_output_bytes: 1 << 20,
        max_log_bytes: 64 << 10,
    };

    /// These limits with the overrides applied.
    pub fn with(self, o: &LimitOverrides) -> Limits {
        Limits {
            timeout: o
                .timeout_ms
                .map(Duration::from_millis)
                .unwrap_or(self.timeout),
            memory_bytes: o.memory_bytes.unwrap_or(self.memory_bytes),
            max_input_bytes: o.max_input_bytes.unwrap_or(self.max_input_bytes),
            max_output_bytes: o.max_output_bytes.unwrap_or(self.max_output_bytes),
            max_log_bytes: o.max_log_bytes.unwrap_or(self.max_log_bytes),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Per-plugin (or per-installation) changes to the limits; unset fields keep the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_input_bytes: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_bytes: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_log_bytes: Option<usize>,
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}
