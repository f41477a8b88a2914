//! The `log` import: appends a line to the step's bounded log. Its view is the log alone;
//! the cap lives in the log, and a plugin that writes past it traps (the step ends with
//! `PLUGIN_LOG_LIMIT`). Logging is not a brokered call: it does not count against the
//! call budget and is not recorded as one.

use std::sync::Mutex;

use wasmtime::Result as WasmResult;
use wasmtime::component::{HasData, Linker};

use crate::host::bindings::sluice::plugin::log;
use crate::host::bindings::v0_1::sluice::plugin::log as v0_1;
use crate::host::capture::{LogLevel, StepLog};
use crate::host::step_state::StepState;

/// What the `log` import sees of the store: the step's log (lines, stdout and stderr
/// share its cap).
struct LogView<'a> {
    log: &'a Mutex<StepLog>,
}

/// Names [`LogView`] as the data the `log` bindings are given.
struct Log;

impl HasData for Log {
    type Data<'a> = LogView<'a>;
}

pub(super) fn add_to_linker(linker: &mut Linker<StepState>) -> WasmResult<()> {
    log::add_to_linker::<StepState, Log>(linker, |s| LogView { log: &s.log })?;
    v0_1::add_to_linker::<StepState, Log>(linker, |s| LogView { log: &s.log })
}

/// 0.1.0's `log`, the same function.
impl v0_1::Host for LogView<'_> {
    async fn write(&mut self, level: v0_1::Level, message: String) -> WasmResult<()> {
        let level = match level {
            v0_1::Level::Trace => log::Level::Trace,
            v0_1::Level::Debug => log::Level::Debug,
            v0_1::Level::Info => log::Level::Info,
            v0_1::Level::Warn => log::Level::Warn,
            v0_1::Level::Error => log::Level::Error,
        };
        log::Host::write(self, level, message).await
    }
}

impl log::Host for LogView<'_> {
    async fn write(&mut self, level: log::Level, message: String) -> WasmResult<()> {
        let level = match level {
            log::Level::Trace => LogLevel::Trace,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Info => LogLevel::Info,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Error => LogLevel::Error,
        };
        let pushed = self
            .log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .line(level, message);
        pushed.map_err(|_| wasmtime::format_err!("plugin log limit exceeded"))
    }
}
