//! The test host's side of the host calls: the thread's current host, and what each typed
//! helper ([`crate::jumpcloud`], [`crate::http`], [`crate::state`], [`crate::log`]) asks
//! it when the `testing` feature is on in a native build. Each call is checked against the
//! grants with the checks the runtime's broker uses ([`sluice_jcsim::permissions`]),
//! recorded, and answered by the simulator, a scripted connector or the in-memory state.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use sluice_jcsim::Incoming;
use sluice_jcsim::permissions::{check_connector, check_jumpcloud, check_state};

use super::{Call, CallKind, Inner, Level, LogLine, TEST_API_KEY, executor};
use crate::{PluginError, http, jumpcloud};

/// The host a plugin call on this thread is served by: the test host, and the plugin's
/// name and grants for this call.
pub(super) struct Session {
    pub(super) inner: Rc<RefCell<Inner>>,
    pub(super) plugin: String,
    pub(super) grants: BTreeSet<String>,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Session>>> = const { RefCell::new(None) };
}

/// Installs `session` as the thread's host; the returned value is the host it replaced.
pub(super) fn install(session: Option<Rc<Session>>) -> Option<Rc<Session>> {
    CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), session))
}

fn no_host(helper: &str) -> PluginError {
    PluginError::new(
        "TEST_HOST_MISSING",
        format!(
            "`sluice_plugin::{helper}` was called natively with no test host: run the plugin \
             through `sluice_plugin::testing::TestHost` (`host.action::<P>(..)`, \
             `host.run(|| ..)` or `host.enter()`)"
        ),
    )
}

/// Runs `f` on the current session and its host's state.
fn with_session<T>(
    helper: &str,
    f: impl FnOnce(&Session, &mut Inner) -> Result<T, PluginError>,
) -> Result<T, PluginError> {
    let session = CURRENT
        .with(|c| c.borrow().clone())
        .ok_or_else(|| no_host(helper))?;
    let mut inner = session.inner.try_borrow_mut().map_err(|_| {
        PluginError::new(
            "TEST_HOST_BUSY",
            format!(
                "`sluice_plugin::{helper}` was called while the test host was serving another \
                 call (from a scripted connector's closure?)"
            ),
        )
    })?;
    // In production the first refused call traps the guest: nothing after it reaches the
    // host, and the step ends with that refusal.
    if let Some(v) = &inner.violation {
        return Err(v.clone());
    }
    f(&session, &mut inner)
}

/// Records a refused call and returns the error that ends the step.
fn deny(
    inner: &mut Inner,
    kind: CallKind,
    method: &str,
    target: &str,
    message: String,
) -> PluginError {
    let err = PluginError::new("PERMISSION_DENIED", message);
    inner.calls.push(Call {
        kind,
        method: method.to_owned(),
        target: target.to_owned(),
        query: Vec::new(),
        status: None,
        error: Some(err.code.clone()),
    });
    inner.violation = Some(err.clone());
    err
}

pub(crate) fn jumpcloud(
    method: &str,
    path: &str,
    query: Vec<(String, String)>,
    body: Option<String>,
) -> Result<jumpcloud::Response, PluginError> {
    with_session("jumpcloud", |session, inner| {
        if let Err(msg) = check_jumpcloud(
            &session.plugin,
            &session.grants,
            method,
            path,
            &query,
            body.as_deref(),
        ) {
            return Err(deny(inner, CallKind::JumpCloud, method, path, msg));
        }
        let rt = executor(&mut inner.runtime)?;
        let reply = rt.block_on(inner.simulator.exchange(Incoming {
            method,
            path,
            query: query.clone(),
            api_key: Some(TEST_API_KEY.as_bytes()),
            authorization: None,
            org: None,
            body: body.as_deref().unwrap_or_default().as_bytes(),
        }));
        inner.calls.push(Call {
            kind: CallKind::JumpCloud,
            method: method.to_owned(),
            target: path.to_owned(),
            query,
            status: Some(reply.status),
            error: None,
        });
        Ok(jumpcloud::Response {
            status: reply.status,
            headers: reply.headers,
            body: reply.body.map(|b| b.to_string()).unwrap_or_default(),
        })
    })
}

pub(crate) fn http(req: &http::Request) -> Result<http::Response, PluginError> {
    with_session("http", |session, inner| {
        let target = format!("{}:{}", req.connector, req.path);
        if let Err(msg) = check_connector(&session.plugin, &session.grants, &req.connector) {
            return Err(deny(inner, CallKind::Http, &req.method, &target, msg));
        }
        inner.requests.push(req.clone());
        let answer = match inner.connectors.get_mut(&req.connector) {
            Some(script) => script.answer(req),
            None => Err(PluginError::new(
                "CONNECTOR_NOT_FOUND",
                format!(
                    "connector `{}` is not defined (script it with `TestHost::connector`)",
                    req.connector
                ),
            )),
        };
        inner.calls.push(Call {
            kind: CallKind::Http,
            method: req.method.clone(),
            target,
            query: req.query.clone(),
            status: answer.as_ref().ok().map(|r| r.status),
            error: answer.as_ref().err().map(|e| e.code.clone()),
        });
        answer
    })
}

fn state_op<T>(
    op: &str,
    key: &str,
    f: impl FnOnce(&mut std::collections::BTreeMap<String, String>) -> T,
) -> Result<T, PluginError> {
    with_session("state", |session, inner| {
        if let Err(msg) = check_state(&session.plugin, &session.grants) {
            return Err(deny(inner, CallKind::State, op, key, msg));
        }
        inner.calls.push(Call {
            kind: CallKind::State,
            method: op.to_owned(),
            target: key.to_owned(),
            query: Vec::new(),
            status: Some(200),
            error: None,
        });
        Ok(f(&mut inner.state))
    })
}

pub(crate) fn state_get(key: &str) -> Result<Option<String>, PluginError> {
    state_op("GET", key, |s| s.get(key).cloned())
}

pub(crate) fn state_set(key: &str, value: &str) -> Result<(), PluginError> {
    state_op("SET", key, |s| {
        s.insert(key.to_owned(), value.to_owned());
    })
}

pub(crate) fn state_delete(key: &str) -> Result<(), PluginError> {
    state_op("DELETE", key, |s| {
        s.remove(key);
    })
}

/// A log line: kept by the current host, or (with none) printed to stderr so it is not lost.
pub(crate) fn log(level: Level, message: &str) {
    let kept = with_session("log", |_, inner| {
        inner.logs.push(LogLine {
            level,
            message: message.to_owned(),
        });
        Ok(())
    });
    if kept.is_err() {
        eprintln!("[{level:?}] {message}");
    }
}
