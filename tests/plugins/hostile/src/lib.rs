//! A misbehaving action plugin for the sandbox tests. Its input names one attack (`mode`);
//! each attack targets one limit or permission of the host, which must end the step with a
//! stable error code and keep serving.
//!
//! # Layout
//! One file: the [`Hostile`] action; each mode is one arm of its `match`.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use sluice_plugin::{Action, PluginError, Step};

/// Which attack to run, with its argument.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Input {
    pub mode: String,
    #[serde(default)]
    pub arg: Value,
}

/// The hostile action.
#[derive(Debug)]
pub struct Hostile;

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64, pad: &mut [u8; 256]) -> u64 {
    pad[(depth % 256) as usize] = depth as u8;
    let mut next = [0u8; 256];
    next[0] = pad[0];
    recurse(depth + 1, &mut next) + u64::from(next[1])
}

impl Action for Hostile {
    type Input = Input;
    type Output = Value;
    const DESCRIPTION: &'static str = "Attacks the sandbox; for tests only.";
    const PERMISSIONS: &'static [&'static str] =
        &["jumpcloud:users.readonly", "http:allowed", "state"];

    fn run(step: &Step, input: Input) -> Result<Value, PluginError> {
        match input.mode.as_str() {
            "echo" => Ok(input.arg),
            "loop" => {
                let mut i: u64 = 0;
                loop {
                    i = std::hint::black_box(i.wrapping_add(1));
                }
            }
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "recursion" => Ok(json!(recurse(0, &mut [0u8; 256]))),
            "huge-output" => Ok(Value::String(
                "x".repeat(input.arg.as_u64().unwrap_or(1 << 24) as usize),
            )),
            "log-spam" => loop {
                sluice_plugin::log::info(&"spam ".repeat(200));
            },
            "stdout-spam" => loop {
                println!("{}", "spam ".repeat(200));
            },
            "panic" => panic!("hostile plugin panicked on purpose (step {})", step.step_id),
            "read-file" => {
                let path = input.arg.as_str().unwrap_or("/etc/passwd");
                match std::fs::read_to_string(path) {
                    Ok(content) => Ok(json!({"read": content})),
                    Err(e) => Err(PluginError::new("FILE_DENIED", e.to_string())),
                }
            }
            "list-dir" => match std::fs::read_dir(".") {
                Ok(entries) => Ok(json!(
                    entries
                        .filter_map(|e| e.ok())
                        .map(|e| e.path().display().to_string())
                        .collect::<Vec<_>>()
                )),
                Err(e) => Err(PluginError::new("FILE_DENIED", e.to_string())),
            },
            "env" => Ok(json!({
                "vars": std::env::vars().collect::<Vec<_>>(),
                "args": std::env::args().collect::<Vec<_>>(),
            })),
            "socket" => {
                let addr = input.arg.as_str().unwrap_or("127.0.0.1:9");
                match std::net::TcpStream::connect(addr) {
                    Ok(_) => Ok(json!({"connected": addr})),
                    Err(e) => Err(PluginError::new("SOCKET_DENIED", e.to_string())),
                }
            }
            "jumpcloud" => {
                let method = input.arg["method"].as_str().unwrap_or("GET");
                let path = input.arg["path"].as_str().unwrap_or("/api/systemusers");
                // `body`, when given, is sent as the request's JSON body.
                let body = input.arg.get("body").filter(|b| !b.is_null());
                let r = sluice_plugin::jumpcloud::call(method, path, &[], body)?;
                Ok(json!({"status": r.status, "body": r.body}))
            }
            "http" => {
                let (connector, path, headers) = match &input.arg {
                    Value::String(c) => (c.clone(), "/".to_owned(), vec![]),
                    a => (
                        a["connector"].as_str().unwrap_or("allowed").to_owned(),
                        a["path"].as_str().unwrap_or("/").to_owned(),
                        a["header"]
                            .as_str()
                            .map(|h| vec![(h.to_owned(), "x".to_owned())])
                            .unwrap_or_default(),
                    ),
                };
                let r = sluice_plugin::http::send(&sluice_plugin::http::Request {
                    connector,
                    method: "GET".into(),
                    path,
                    headers,
                    ..Default::default()
                })?;
                Ok(json!({"status": r.status}))
            }
            "empty-log-spam" => loop {
                sluice_plugin::log::info("");
            },
            "call-flood" => loop {
                let _ = sluice_plugin::state::get("k");
            },
            "state" => {
                let key = input.arg["key"].as_str().unwrap_or("k");
                if let Some(v) = input.arg.get("set") {
                    sluice_plugin::state::set(key, &v.to_string())?;
                }
                Ok(json!({"value": sluice_plugin::state::get(key)?}))
            }
            "bump" => {
                // A side effect the tests can count: increments a state counter.
                let key = input.arg.as_str().unwrap_or("count");
                let n: u64 = sluice_plugin::state::get(key)?
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                sluice_plugin::state::set(key, &(n + 1).to_string())?;
                Ok(json!(n + 1))
            }
            "read-counters" => {
                let keys = input.arg.as_array().cloned().unwrap_or_default();
                let mut out = serde_json::Map::new();
                for k in keys.iter().filter_map(|k| k.as_str()) {
                    let n: u64 = sluice_plugin::state::get(k)?
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    out.insert(k.to_owned(), json!(n));
                }
                Ok(Value::Object(out))
            }
            "spin" => {
                let until = std::time::Instant::now()
                    + std::time::Duration::from_millis(input.arg.as_u64().unwrap_or(1000));
                while std::time::Instant::now() < until {
                    std::hint::spin_loop();
                }
                Ok(json!("spun"))
            }
            "error" => {
                // A plugin error shaped by the test: `code`, a `message` of `size` bytes (or
                // the given text), optional `details` of `details_size` bytes.
                let code = input.arg["code"].as_str().unwrap_or("HOSTILE").to_owned();
                let message = match input.arg["size"].as_u64() {
                    Some(n) => "m".repeat(n as usize),
                    None => input.arg["message"]
                        .as_str()
                        .unwrap_or("hostile")
                        .to_owned(),
                };
                let mut e = PluginError::new(code, message);
                if let Some(n) = input.arg["details_size"].as_u64() {
                    e = e.with_details(json!({"blob": "d".repeat(n as usize)}));
                }
                Err(e)
            }
            "state-fill" => {
                // Writes `count` values of `size` bytes under new keys, stopping at the first
                // refusal, whose code it returns with how many were written.
                let count = input.arg["count"].as_u64().unwrap_or(u64::MAX);
                let size = input.arg["size"].as_u64().unwrap_or(64 << 10) as usize;
                let prefix = input.arg["prefix"].as_str().unwrap_or("fill");
                let value = "v".repeat(size);
                let mut written = 0u64;
                while written < count {
                    if let Err(e) =
                        sluice_plugin::state::set(&format!("{prefix}-{written}"), &value)
                    {
                        return Err(e.with_details(json!({"written": written})));
                    }
                    written += 1;
                }
                Ok(json!({"written": written}))
            }
            "escape" => {
                // Terminal control sequences in a log line, the output and the error.
                let evil = "\u{1b}]52;c;aGFja2Vk\u{7}\u{1b}[2K\r\u{1b}[8mhidden";
                sluice_plugin::log::info(&format!("log {evil}"));
                if input.arg.as_bool() == Some(true) {
                    return Err(PluginError::new("ESCAPE", format!("error {evil}")));
                }
                Ok(json!({"text": format!("output {evil}")}))
            }
            "counter" => {
                // Counts calls in guest memory: a fresh instance per call must always say 1.
                static mut CALLS: u32 = 0;
                // SAFETY: a component instance is single-threaded.
                let n = unsafe {
                    CALLS += 1;
                    CALLS
                };
                Ok(json!(n))
            }
            other => Err(PluginError::invalid_input(format!(
                "unknown mode `{other}`"
            ))),
        }
    }
}

sluice_plugin::export_action!(Hostile);
