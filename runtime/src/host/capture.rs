//! The step's log: lines from the `log` import and everything the guest writes to stdout
//! and stderr, in one bounded buffer. Past the cap the guest traps and the step ends with
//! `PLUGIN_LOG_LIMIT`, so a spamming plugin costs bounded memory and time.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use serde::{Deserialize, Serialize};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

/// Severity of a captured line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Where a captured line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogSource {
    /// The `log` import.
    Log,
    Stdout,
    Stderr,
}

/// One captured line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub level: LogLevel,
    pub source: LogSource,
    pub message: String,
}

/// What a line costs beyond its text, against the log cap.
const LINE_OVERHEAD: usize = 32;

/// The bounded buffer behind a step's log.
#[derive(Debug)]
pub(crate) struct StepLog {
    lines: Vec<LogLine>,
    bytes: usize,
    cap: usize,
    exceeded: bool,
    partial_stdout: Vec<u8>,
    partial_stderr: Vec<u8>,
}

/// The cap was reached.
#[derive(Debug)]
pub(crate) struct LogLimit;

impl StepLog {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            lines: Vec::new(),
            bytes: 0,
            cap,
            exceeded: false,
            partial_stdout: Vec::new(),
            partial_stderr: Vec::new(),
        }
    }

    fn charge(&mut self, n: usize) -> Result<(), LogLimit> {
        if self.exceeded || self.bytes + n > self.cap {
            self.exceeded = true;
            return Err(LogLimit);
        }
        self.bytes += n;
        Ok(())
    }

    /// Appends a line from the `log` import. Each line costs its length plus a fixed
    /// overhead, so a flood of empty lines is bounded too.
    pub(crate) fn line(&mut self, level: LogLevel, message: String) -> Result<(), LogLimit> {
        self.charge(message.len() + LINE_OVERHEAD)?;
        self.lines.push(LogLine {
            level,
            source: LogSource::Log,
            message,
        });
        Ok(())
    }

    /// Appends raw stdout/stderr bytes; complete lines become log lines.
    pub(crate) fn stream(&mut self, source: LogSource, bytes: &[u8]) -> Result<(), LogLimit> {
        // Each completed line costs like a log line, so a flood of newlines is bounded too.
        let newlines = bytes.iter().filter(|b| **b == b'\n').count();
        self.charge(bytes.len() + newlines * LINE_OVERHEAD)?;
        let partial = match source {
            LogSource::Stderr => &mut self.partial_stderr,
            _ => &mut self.partial_stdout,
        };
        partial.extend_from_slice(bytes);
        while let Some(pos) = partial.iter().position(|b| *b == b'\n') {
            let rest = partial.split_off(pos + 1);
            let line = std::mem::replace(partial, rest);
            let text = String::from_utf8_lossy(&line[..pos]).into_owned();
            let level = if source == LogSource::Stderr {
                LogLevel::Warn
            } else {
                LogLevel::Info
            };
            self.lines.push(LogLine {
                level,
                source,
                message: text,
            });
        }
        Ok(())
    }

    pub(crate) fn exceeded(&self) -> bool {
        self.exceeded
    }

    /// Empties the log and its count against the cap, as a fresh step starts (the
    /// benchmark's reused instance calls this between calls).
    pub(crate) fn reset(&mut self) {
        self.lines.clear();
        self.bytes = 0;
        self.exceeded = false;
        self.partial_stdout.clear();
        self.partial_stderr.clear();
    }

    /// The captured lines; unterminated stdout/stderr text becomes a final line.
    pub(crate) fn finish(&mut self) -> Vec<LogLine> {
        for (source, partial) in [
            (LogSource::Stdout, std::mem::take(&mut self.partial_stdout)),
            (LogSource::Stderr, std::mem::take(&mut self.partial_stderr)),
        ] {
            if !partial.is_empty() {
                let level = if source == LogSource::Stderr {
                    LogLevel::Warn
                } else {
                    LogLevel::Info
                };
                let message = String::from_utf8_lossy(&partial).into_owned();
                self.lines.push(LogLine {
                    level,
                    source,
                    message,
                });
            }
        }
        if self.exceeded {
            self.lines.push(LogLine {
                level: LogLevel::Error,
                source: LogSource::Log,
                message: format!("[log truncated at {} bytes]", self.cap),
            });
        }
        std::mem::take(&mut self.lines)
    }

    /// The stderr text, for the message of a trap (a panic message is printed there).
    pub(crate) fn stderr_text(&self) -> String {
        let mut text: Vec<&str> = self
            .lines
            .iter()
            .filter(|l| l.source == LogSource::Stderr)
            .map(|l| l.message.as_str())
            .collect();
        let partial = String::from_utf8_lossy(&self.partial_stderr);
        if !partial.is_empty() {
            text.push(&partial);
        }
        text.join("\n")
    }
}

/// A guest stdout or stderr writing into the step's log.
#[derive(Debug, Clone)]
pub(crate) struct Capture {
    pub(crate) log: Arc<Mutex<StepLog>>,
    pub(crate) source: LogSource,
}

impl Capture {
    fn append(&self, bytes: &[u8]) -> Result<(), LogLimit> {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.stream(self.source, bytes)
    }
}

impl IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Capture {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Capture {
    async fn ready(&mut self) {}
}

impl OutputStream for Capture {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.append(&bytes)
            .map_err(|_| StreamError::trap("plugin log limit exceeded"))
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 << 10)
    }
}

impl tokio::io::AsyncWrite for Capture {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(
            self.append(buf)
                .map(|()| buf.len())
                .map_err(|_| std::io::Error::other("plugin log limit exceeded")),
        )
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_bytes_become_lines_and_the_cap_holds() {
        let mut log = StepLog::new(20 + 3 * LINE_OVERHEAD);
        log.stream(LogSource::Stdout, b"hello\nwor").unwrap();
        log.stream(LogSource::Stdout, b"ld\n").unwrap();
        log.line(LogLevel::Info, "x".into()).unwrap();
        assert!(log.stream(LogSource::Stderr, &[b'a'; 20]).is_err());
        assert!(log.exceeded());
        let lines = log.finish();
        let texts: Vec<_> = lines.iter().map(|l| l.message.as_str()).collect();
        assert_eq!(
            texts,
            ["hello", "world", "x", "[log truncated at 116 bytes]"]
        );
    }

    #[test]
    fn empty_lines_cost_too() {
        let mut log = StepLog::new(10 * LINE_OVERHEAD);
        let pushed = (0..100)
            .take_while(|_| log.line(LogLevel::Info, String::new()).is_ok())
            .count();
        assert_eq!(pushed, 10);
        let mut log = StepLog::new(10 * LINE_OVERHEAD);
        assert!(log.stream(LogSource::Stdout, &[b'\n'; 11]).is_err());
    }
}
