//! Native tests of a plugin's logic with the host served in process (crate feature
//! `testing`, native builds only).
//!
//! [`TestHost`] runs an [`Action`], [`Condition`] or [`Connector`] as the host would —
//! JSON input in, the plugin's own types out — while the typed helpers
//! ([`crate::jumpcloud`], [`crate::http`], [`crate::state`], [`crate::log`]) are answered on
//! the test's thread:
//! - JumpCloud calls by the JumpCloud simulator (the organisation `sluice sandbox` serves:
//!   the default one, a seed file, or a [`Directory`] built in the test), with injected
//!   faults if asked;
//! - connector calls by responses scripted per connector;
//! - state from a map in memory; log lines kept.
//!
//! Every call is checked as the host checks it: the grants are the plugin's declared
//! `PERMISSIONS` (or the ones [`TestHost::grants`] gives), and a call they do not cover
//! fails with `PERMISSION_DENIED` and the host's message — and, as in production, ends the
//! call there: the step's result is that refusal even if the plugin handled the error.
//! Every call is recorded ([`TestHost::calls`]).
//!
//! Add the SDK a second time as a dev-dependency with the feature:
//!
//! ```toml
//! [dev-dependencies]
//! sluice-plugin = { version = "...", features = ["testing"] }
//! ```
//!
//! ```
//! use serde_json::json;
//! use sluice_plugin::testing::TestHost;
//! use sluice_plugin::{Action, PluginError, Step, jumpcloud};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct In { username: String }
//! #[derive(serde::Serialize, schemars::JsonSchema, Debug)]
//! struct Out { found: bool }
//!
//! struct UserKnown;
//! impl Action for UserKnown {
//!     type Input = In;
//!     type Output = Out;
//!     const DESCRIPTION: &'static str = "Says whether a username exists.";
//!     const PERMISSIONS: &'static [&'static str] = &["jumpcloud:users.readonly"];
//!     fn run(_: &Step, input: In) -> Result<Out, PluginError> {
//!         let filter = format!("username:$eq:{}", input.username);
//!         let r = jumpcloud::get("/api/systemusers", &[("filter", filter.as_str())])?;
//!         let body: serde_json::Value = r.json()?;
//!         Ok(Out { found: body["totalCount"].as_u64().unwrap_or(0) > 0 })
//!     }
//! }
//!
//! let host = TestHost::new(); // the default organisation
//! let out = host.action::<UserKnown>(json!({"username": "jane.doe"})).unwrap();
//! assert!(out.found);
//! assert_eq!(host.calls()[0].to_string(), "GET /api/systemusers 200");
//!
//! // Granted less than it needs, the call is refused as in production.
//! let host = TestHost::new().grants(["jumpcloud:groups.readonly"]);
//! let err = host.action::<UserKnown>(json!({"username": "jane.doe"})).unwrap_err();
//! assert_eq!(err.code, "PERMISSION_DENIED");
//! ```
//!
//! Differences from the host, on purpose: a faulted JumpCloud call (429, 5xx) reaches the
//! plugin at once (the host retries a few times first, and hands the plugin the last
//! answer); the workflow's run-as role is not modelled (only the plugin's grants are
//! checked).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

use serde::Serialize;
use sluice_jcsim::Simulator;
use sluice_jcsim::permissions::Permission;

use crate::{Action, Condition, Connector, PluginError, Step, http};

pub(crate) mod serve;
#[cfg(test)]
mod tests;

pub use sluice_jcsim;
pub use sluice_jcsim::{Directory, Faults};

/// The API key the test host's simulator accepts (the host adds it, as in production).
const TEST_API_KEY: &str = "sluice-test-host";

/// What a host call was to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    JumpCloud,
    Http,
    State,
}

/// One host call the plugin made, as the host records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub kind: CallKind,
    /// `GET`, `POST`, ...; for state `GET`, `SET` or `DELETE`.
    pub method: String,
    /// The JumpCloud path, `connector:path`, or the state key.
    pub target: String,
    pub query: Vec<(String, String)>,
    /// The status answered; `None` when the call failed.
    pub status: Option<u16>,
    /// The error code, when the call failed (`PERMISSION_DENIED` for a refused call).
    pub error: Option<String>,
}

impl std::fmt::Display for Call {
    /// `GET /api/systemusers 200`, `POST jira:/rest/api/2/issue 201`,
    /// `SET last-run 200`, `GET /api/systems PERMISSION_DENIED`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ", self.method, self.target)?;
        match (&self.status, &self.error) {
            (Some(s), _) => write!(f, "{s}"),
            (None, Some(e)) => f.write_str(e),
            (None, None) => f.write_str("-"),
        }
    }
}

/// A log line's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// One log line the plugin wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: Level,
    pub message: String,
}

type Responder = Box<dyn FnMut(&http::Request) -> Result<http::Response, PluginError>>;

/// How a scripted connector answers.
enum Script {
    /// In order, one per request; `given` for the message when they run out.
    Queue {
        left: VecDeque<Result<http::Response, PluginError>>,
        given: usize,
    },
    Closure(Responder),
}

impl Script {
    fn answer(&mut self, req: &http::Request) -> Result<http::Response, PluginError> {
        match self {
            Script::Queue { left, given } => left.pop_front().unwrap_or_else(|| {
                Err(PluginError::new(
                    "CONNECTOR_REQUEST_FAILED",
                    format!(
                        "connector `{}` was scripted with {given} response(s) and got one more \
                         request: {} {}",
                        req.connector, req.method, req.path
                    ),
                ))
            }),
            Script::Closure(f) => f(req),
        }
    }
}

/// The test host's state, shared by the [`TestHost`] and the calls it serves.
pub(crate) struct Inner {
    simulator: Simulator,
    runtime: Option<tokio::runtime::Runtime>,
    connectors: BTreeMap<String, Script>,
    requests: Vec<http::Request>,
    state: BTreeMap<String, String>,
    logs: Vec<LogLine>,
    calls: Vec<Call>,
    /// The refusal that ended the current call, as a trap ends it in production.
    violation: Option<PluginError>,
}

/// The executor the simulator's front runs on (it sleeps for injected latency), started
/// on first use.
fn executor(
    slot: &mut Option<tokio::runtime::Runtime>,
) -> Result<&tokio::runtime::Runtime, PluginError> {
    match slot {
        Some(rt) => Ok(rt),
        None => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .map_err(|e| {
                    PluginError::new(
                        "TEST_HOST_FAILED",
                        format!("the test host could not start its executor: {e}"),
                    )
                })?;
            Ok(slot.insert(rt))
        }
    }
}

/// A host for native tests: see the [module documentation](self).
pub struct TestHost {
    inner: Rc<RefCell<Inner>>,
    grants: Option<Vec<String>>,
    name: Option<String>,
    step: Step,
}

impl std::fmt::Debug for TestHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestHost")
            .field("grants", &self.grants)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Default for TestHost {
    fn default() -> Self {
        TestHost::new()
    }
}

impl TestHost {
    /// A host over the simulator's default organisation, no faults, no connectors, empty
    /// state; plugins get the permissions they declare.
    pub fn new() -> TestHost {
        TestHost::with_directory(sluice_jcsim::seed::default_directory())
    }

    /// A host over the organisation a seed file describes (the format `sluice sandbox
    /// --seed` reads).
    pub fn with_seed(path: impl AsRef<std::path::Path>) -> Result<TestHost, String> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("seed file {}: {e}", path.display()))?;
        let directory = sluice_jcsim::seed::parse(&text)
            .map_err(|e| format!("seed file {}: {e}", path.display()))?;
        Ok(TestHost::with_directory(directory))
    }

    /// A host over `directory` (built in the test, or [`sluice_jcsim::seed::parse`]d).
    pub fn with_directory(directory: Directory) -> TestHost {
        TestHost {
            inner: Rc::new(RefCell::new(Inner {
                simulator: Simulator::in_memory(directory, TEST_API_KEY, Faults::default()),
                runtime: None,
                connectors: BTreeMap::new(),
                requests: Vec::new(),
                state: BTreeMap::new(),
                logs: Vec::new(),
                calls: Vec::new(),
                violation: None,
            })),
            grants: None,
            name: None,
            step: Step {
                run_id: "test-run".into(),
                workflow: "test".into(),
                step_id: "step".into(),
                attempt: 1,
            },
        }
    }

    /// Injects JumpCloud faults, as `sluice sandbox --faults` does:
    /// `429=0.1,503=0.1,latency=5ms,retry-after=1,seed=7` (`429=1` answers every call
    /// with 429). The directory as it is now is kept.
    pub fn faults(self, spec: &str) -> Result<TestHost, String> {
        let faults = Faults::parse(spec).map_err(|e| format!("faults `{spec}`: {e}"))?;
        {
            let mut inner = self.inner.borrow_mut();
            let directory = inner.simulator.with_directory(|d| d.clone());
            inner.simulator = Simulator::in_memory(directory, TEST_API_KEY, faults);
        }
        Ok(self)
    }

    /// Grants exactly these permissions instead of the plugin's declared ones (to test
    /// what happens with less, or to call logic through [`TestHost::run`]).
    pub fn grants<I, S>(mut self, permissions: I) -> TestHost
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.grants = Some(permissions.into_iter().map(Into::into).collect());
        self
    }

    /// The plugin's name in the host's messages (default: the plugin type's name).
    pub fn name(mut self, name: impl Into<String>) -> TestHost {
        self.name = Some(name.into());
        self
    }

    /// The step the plugin is told it runs in.
    pub fn step(mut self, step: Step) -> TestHost {
        self.step = step;
        self
    }

    /// Answers requests to `connector` with `responses`, in order, one each.
    pub fn connector(
        self,
        connector: &str,
        responses: impl IntoIterator<Item = http::Response>,
    ) -> TestHost {
        let left: VecDeque<_> = responses.into_iter().map(Ok).collect();
        let given = left.len();
        self.inner
            .borrow_mut()
            .connectors
            .insert(connector.to_owned(), Script::Queue { left, given });
        self
    }

    /// Answers requests to `connector` with `respond` (which may fail, as a connector
    /// that times out does).
    pub fn connector_with(
        self,
        connector: &str,
        respond: impl FnMut(&http::Request) -> Result<http::Response, PluginError> + 'static,
    ) -> TestHost {
        self.inner
            .borrow_mut()
            .connectors
            .insert(connector.to_owned(), Script::Closure(Box::new(respond)));
        self
    }

    /// Runs an action with a JSON input; its output, typed.
    pub fn action<A: Action>(&self, input: impl Serialize) -> Result<A::Output, PluginError> {
        let input = self.input(input)?;
        let output = self.call::<A, _>(A::PERMISSIONS, || A::run(&self.step, input))?;
        crate::render_output(&output)?;
        Ok(output)
    }

    /// Runs an action with a JSON input; its output as JSON, as a workflow sees it.
    pub fn action_json<A: Action>(
        &self,
        input: impl Serialize,
    ) -> Result<serde_json::Value, PluginError> {
        let output = self.action::<A>(input)?;
        serde_json::to_value(&output)
            .map_err(|e| PluginError::new("INVALID_OUTPUT", format!("output: {e}")))
    }

    /// Evaluates a condition with a JSON input.
    pub fn condition<C: Condition>(&self, input: impl Serialize) -> Result<bool, PluginError> {
        let input = self.input(input)?;
        self.call::<C, _>(C::PERMISSIONS, || C::evaluate(&self.step, input))
    }

    /// Runs a connector plugin with a JSON input; its output, typed.
    pub fn connector_call<C: Connector>(
        &self,
        input: impl Serialize,
    ) -> Result<C::Output, PluginError> {
        let input = self.input(input)?;
        let output = self.call::<C, _>(C::PERMISSIONS, || C::invoke(&self.step, input))?;
        crate::render_output(&output)?;
        Ok(output)
    }

    /// Runs `f` (plugin logic called directly) with this host serving its calls, under
    /// the permissions [`TestHost::grants`] gave (none if it was not called).
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        let _entered = self.enter();
        f()
    }

    /// Serves the calls of this thread until the returned guard is dropped, under the
    /// permissions [`TestHost::grants`] gave (none if it was not called): for tests that
    /// call plugin logic directly, many times.
    pub fn enter(&self) -> Entered {
        let grants = self.grants.iter().flatten().cloned().collect();
        self.inner.borrow_mut().violation = None;
        let session = serve::Session {
            inner: self.inner.clone(),
            plugin: self.name.clone().unwrap_or_else(|| "plugin".into()),
            grants,
        };
        Entered {
            previous: serve::install(Some(Rc::new(session))),
        }
    }

    /// Every host call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.inner.borrow().calls.clone()
    }

    /// Forgets the calls so far (to assert on the next ones only).
    pub fn clear_calls(&self) {
        self.inner.borrow_mut().calls.clear();
    }

    /// Every log line so far, in order.
    pub fn logs(&self) -> Vec<LogLine> {
        self.inner.borrow().logs.clone()
    }

    /// Every request sent to a connector so far (with headers and body), in order.
    pub fn requests(&self) -> Vec<http::Request> {
        self.inner.borrow().requests.clone()
    }

    /// The plugin's state as it is now.
    pub fn state(&self) -> BTreeMap<String, String> {
        self.inner.borrow().state.clone()
    }

    /// Sets a state key before a call (what an earlier run left).
    pub fn set_state(&self, key: &str, value: &str) {
        self.inner
            .borrow_mut()
            .state
            .insert(key.to_owned(), value.to_owned());
    }

    /// Runs `f` on the simulated organisation: to seed it before a call or inspect it after.
    pub fn directory<T>(&self, f: impl FnOnce(&mut Directory) -> T) -> T {
        self.inner.borrow().simulator.with_directory(f)
    }

    fn input<T: serde::de::DeserializeOwned>(
        &self,
        input: impl Serialize,
    ) -> Result<T, PluginError> {
        let text = serde_json::to_string(&input)
            .map_err(|e| PluginError::invalid_input(format!("input: {e}")))?;
        crate::parse_input(&text)
    }

    /// One plugin call with its grants (declared, or given), ending as the host ends it: a
    /// refused host call is the result whatever the plugin did with the error.
    fn call<P, T>(
        &self,
        declared: &[&str],
        f: impl FnOnce() -> Result<T, PluginError>,
    ) -> Result<T, PluginError> {
        let grants: BTreeSet<String> = match &self.grants {
            Some(given) => {
                for p in given {
                    Permission::parse(p).map_err(|e| {
                        PluginError::new(
                            "TEST_HOST_INVALID_GRANT",
                            format!("granted permission {e}"),
                        )
                    })?;
                }
                given.iter().cloned().collect()
            }
            None => {
                for p in declared {
                    Permission::parse(p).map_err(|e| {
                        PluginError::new(
                            "PLUGIN_INVALID_MANIFEST",
                            format!("declared permission {e}: the host would refuse to install it"),
                        )
                    })?;
                }
                declared.iter().map(|p| (*p).to_owned()).collect()
            }
        };
        let plugin = self.name.clone().unwrap_or_else(|| type_name::<P>());
        self.inner.borrow_mut().violation = None;
        let session = serve::Session {
            inner: self.inner.clone(),
            plugin,
            grants,
        };
        let result = {
            let _entered = Entered {
                previous: serve::install(Some(Rc::new(session))),
            };
            f()
        };
        match self.inner.borrow_mut().violation.take() {
            Some(refused) => Err(refused),
            None => result,
        }
    }
}

/// The plugin type's own name, kebab-cased (`UserCreate` → `user-create`).
fn type_name<P>() -> String {
    let full = std::any::type_name::<P>();
    let short = full.rsplit("::").next().unwrap_or(full);
    let mut out = String::with_capacity(short.len() + 4);
    for (i, c) in short.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// While alive, a [`TestHost`] serves this thread's host calls ([`TestHost::enter`]).
#[derive(Debug)]
#[must_use = "the host serves calls only while this guard lives"]
pub struct Entered {
    previous: Option<Rc<serve::Session>>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        serve::install(self.previous.take());
    }
}

impl std::fmt::Debug for serve::Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("plugin", &self.plugin)
            .field("grants", &self.grants)
            .finish_non_exhaustive()
    }
}
