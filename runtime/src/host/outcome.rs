//! What a call's result becomes: the step error for a trap, a timeout, a broken limit or
//! a plugin's own error (bounded and checked for form), and the parsed output.

use std::time::Duration;

use wasmtime::{Store, Trap};

use super::bindings::sluice::plugin::types as wit;
use super::step_state::{LimitHit, StepState};
use super::{ErrorSource, Limits, StepError, codes, limits};

pub(super) fn timeout_error(plugin: &str, timeout: Duration) -> StepError {
    StepError::host(
        codes::PLUGIN_TIMEOUT,
        format!(
            "plugin `{plugin}` did not finish within {timeout:?} (guest code and host calls included)"
        ),
    )
}

/// A plugin's own error, bounded: its code must have the documented form, its message
/// and details are cut to their caps, and the whole error counts against the output
/// limit. An error that breaks these rules becomes a host error naming the plugin, with
/// what it sent shown cut short.
pub(super) fn from_plugin_error(plugin: &str, e: wit::PluginError, limits: Limits) -> StepError {
    let size = e.code.len() + e.message.len() + e.details.as_ref().map_or(0, String::len);
    let shown = |text: &str, max: usize| {
        let cut = truncate(text, max);
        let cut = cut.escape_debug().to_string();
        if cut.len() < text.len() {
            format!("{cut}…")
        } else {
            cut
        }
    };
    if size > limits.max_output_bytes {
        return StepError::host(
            codes::PLUGIN_INVALID_ERROR,
            format!(
                "plugin `{plugin}` returned an error of {size} bytes; the output limit is {} \
                 bytes (code `{}`, message \"{}\")",
                limits.max_output_bytes,
                shown(&e.code, 64),
                shown(&e.message, 256)
            ),
        );
    }
    if !valid_error_code(&e.code) {
        return StepError::host(
            codes::PLUGIN_INVALID_ERROR,
            format!(
                "plugin `{plugin}` returned an error whose code `{}` is not of the form \
                 A-Z, 0-9 and `_`, starting with a letter, at most 64 characters (message \
                 \"{}\")",
                shown(&e.code, 64),
                shown(&e.message, 256)
            ),
        );
    }
    let message = if e.message.len() > limits::MAX_ERROR_MESSAGE_BYTES {
        format!(
            "{}… ({} bytes; cut to {})",
            truncate(&e.message, limits::MAX_ERROR_MESSAGE_BYTES),
            e.message.len(),
            limits::MAX_ERROR_MESSAGE_BYTES
        )
    } else {
        e.message
    };
    let details = e.details.map(|d| {
        if d.len() > limits::MAX_ERROR_DETAILS_BYTES {
            serde_json::json!({
                "truncated": true,
                "bytes": d.len(),
                "limit": limits::MAX_ERROR_DETAILS_BYTES,
            })
        } else {
            serde_json::from_str(&d).unwrap_or(serde_json::Value::String(d))
        }
    });
    StepError {
        code: e.code,
        message,
        retryable: e.retryable,
        details,
        origin: ErrorSource::Plugin,
    }
}

/// Whether `code` has the form of a plugin error code: `^[A-Z][A-Z0-9_]{0,63}$`.
pub fn valid_error_code(code: &str) -> bool {
    let b = code.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_uppercase()
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

pub(super) fn parse_output(
    plugin: &str,
    text: &str,
    limits: Limits,
) -> Result<serde_json::Value, StepError> {
    if text.len() > limits.max_output_bytes {
        return Err(StepError::host(
            codes::PLUGIN_OUTPUT_TOO_LARGE,
            format!(
                "plugin `{plugin}` returned {} bytes; the output limit is {} bytes",
                text.len(),
                limits.max_output_bytes
            ),
        ));
    }
    serde_json::from_str(text).map_err(|e| {
        StepError::host(
            codes::PLUGIN_INVALID_OUTPUT,
            format!("plugin `{plugin}` returned invalid JSON: {e}"),
        )
    })
}

/// Turns a trap or host error into the step error a plugin author can act on.
pub(super) fn classify(e: wasmtime::Error, store: &mut Store<StepState>) -> StepError {
    let state = store.data_mut();
    if let Some(v) = state.ledger.violation.take() {
        return v;
    }
    let (log_exceeded, stderr) = {
        let log = state.log.lock().unwrap_or_else(|p| p.into_inner());
        (log.exceeded(), log.stderr_text())
    };
    if log_exceeded {
        return StepError::host(
            codes::PLUGIN_LOG_LIMIT,
            format!(
                "plugin `{}` wrote more log than allowed (log lines, stdout and stderr together)",
                state.plugin_name()
            ),
        );
    }
    if matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
        return StepError::host(
            codes::PLUGIN_TIMEOUT,
            format!(
                "plugin `{}` ran past its deadline and was interrupted",
                state.plugin_name()
            ),
        );
    }
    let mib = |b: usize| b as f64 / (1u64 << 20) as f64;
    match state.limiter.hit {
        Some(LimitHit::Memory(total)) => {
            return StepError::host(
                codes::PLUGIN_MEMORY_LIMIT,
                format!(
                    "plugin `{}` asked for {:.1} MiB of memory in all; its limit is {:.1} MiB",
                    state.plugin_name(),
                    mib(total),
                    mib(state.limiter.memory_cap)
                ),
            );
        }
        Some(LimitHit::Table(elements)) => {
            return StepError::host(
                codes::PLUGIN_MEMORY_LIMIT,
                format!(
                    "plugin `{}` tried to grow a table to {elements} elements; the limit is 100000",
                    state.plugin_name()
                ),
            );
        }
        None => {}
    }
    let panic = stderr.trim();
    let with_stderr = |m: String| {
        if panic.is_empty() {
            m
        } else {
            format!("{m}; plugin stderr: {panic}")
        }
    };
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => StepError::host(
            codes::PLUGIN_TIMEOUT,
            format!(
                "plugin `{}` ran past its deadline and was interrupted",
                state.plugin_name()
            ),
        ),
        Some(Trap::StackOverflow) => StepError::host(
            codes::PLUGIN_TRAP,
            format!(
                "plugin `{}` overflowed its stack (recursion too deep)",
                state.plugin_name()
            ),
        ),
        Some(Trap::MemoryOutOfBounds) => StepError::host(
            codes::PLUGIN_TRAP,
            with_stderr(format!(
                "plugin `{}` accessed memory out of bounds (in a Rust plugin this usually means \
                 its stack overflowed: recursion too deep or a huge local)",
                state.plugin_name()
            )),
        ),
        Some(trap) => StepError::host(
            codes::PLUGIN_TRAP,
            with_stderr(format!("plugin `{}` trapped: {trap}", state.plugin_name())),
        ),
        None => StepError::host(
            codes::PLUGIN_TRAP,
            with_stderr(format!("plugin `{}` failed: {e:#}", state.plugin_name())),
        ),
    }
}
