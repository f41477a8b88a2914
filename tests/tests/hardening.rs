//! The host stays up, responsive and bounded whatever a plugin or a run does: looping
//! plugins never hold the caller's threads and each ends at its deadline, a panic inside a
//! run fails that run only, and a plugin's error is bounded and checked for form.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sluice::engine::{Engine, Progress, Quiet, RunStatus};
use sluice::host::limits::{MAX_ERROR_DETAILS_BYTES, MAX_ERROR_MESSAGE_BYTES};
use sluice::host::registry::{Registry, StateOptions};
use sluice::host::{ErrorSource, LimitOverrides, Limits, codes};
use sluice_tests::{TestHost, ctx, hostile_wasm};

const GRANTS: &[&str] = &["state"];

/// Eight plugins spinning at once on a current-thread runtime: before the guest pool, the
/// first one held the only thread until its deadline, so no timer on it could fire. Now
/// the caller's runtime keeps ticking on time, and every spinning call still ends with
/// `PLUGIN_TIMEOUT` shortly after its own deadline.
#[tokio::test(flavor = "current_thread")]
async fn looping_plugins_never_hold_the_callers_thread_and_end_on_time() {
    let deadline = Duration::from_millis(1500);
    let limits = Limits {
        timeout: deadline,
        ..Limits::DEFAULT
    };
    let t = TestHost::new(limits);
    let p = t.load(&hostile_wasm()).await;
    let loops = (0..8).map(|_| {
        let (host, p) = (t.host.clone(), p.clone());
        async move {
            let started = Instant::now();
            let out = host
                .call(&p, &ctx(GRANTS, None, limits), r#"{"mode":"loop"}"#)
                .await;
            (out.result, started.elapsed())
        }
    });
    let ticker = async {
        // A timer on the caller's runtime: how late does it fire while the plugins spin?
        let mut worst = Duration::ZERO;
        let until = Instant::now() + deadline;
        while Instant::now() < until {
            let asked = Instant::now();
            tokio::time::sleep(Duration::from_millis(10)).await;
            worst = worst.max(asked.elapsed().saturating_sub(Duration::from_millis(10)));
        }
        worst
    };
    let (results, worst) = tokio::join!(futures::future::join_all(loops), ticker);
    assert!(
        worst < Duration::from_millis(250),
        "the caller's timers fired up to {worst:?} late while plugins spun"
    );
    for (result, took) in results {
        let e = result.expect_err("a loop never returns");
        assert_eq!(e.code, codes::PLUGIN_TIMEOUT, "{e:?}");
        assert!(
            took < deadline + Duration::from_millis(750),
            "a looping step ended {took:?} after it started; its deadline was {deadline:?}"
        );
    }
}

/// A plugin error is passed on only in its documented form and size.
#[tokio::test]
async fn plugin_errors_are_bounded_and_their_codes_checked() {
    let limits = Limits::DEFAULT;
    let t = TestHost::new(limits);
    let p = t.load(&hostile_wasm()).await;
    let call = |arg: Value| {
        let (host, p) = (t.host.clone(), p.clone());
        async move {
            let input = json!({"mode": "error", "arg": arg}).to_string();
            host.call(&p, &ctx(GRANTS, None, limits), &input)
                .await
                .result
                .expect_err("the plugin returns an error")
        }
    };

    // 20 MiB of message: more than the output limit, refused whole, shown cut short.
    let e = call(json!({"code": "BIG", "size": 20 << 20})).await;
    assert_eq!(e.code, codes::PLUGIN_INVALID_ERROR);
    assert_eq!(e.origin, ErrorSource::Host);
    assert!(e.message.contains("plugin `hostile`"), "{}", e.message);
    assert!(e.message.len() < 1024, "{} bytes", e.message.len());

    // Codes that are empty, lower-case, too long or with other characters.
    for bad in [
        "",
        "lower_case",
        "HAS-DASH",
        "9STARTS_WITH_DIGIT",
        &"A".repeat(65),
    ] {
        let e = call(json!({"code": bad, "message": "nope"})).await;
        assert_eq!(e.code, codes::PLUGIN_INVALID_ERROR, "code {bad:?}");
        assert!(e.message.contains("plugin `hostile`"), "{}", e.message);
        assert!(!e.retryable);
    }
    let longest = "A".repeat(64);
    assert_eq!(
        call(json!({"code": longest, "message": "ok"})).await.code,
        longest
    );

    // A long message is cut to its cap; the code survives.
    let e = call(json!({"code": "MY_CODE", "size": 100_000})).await;
    assert_eq!(
        (e.code.as_str(), e.origin),
        ("MY_CODE", ErrorSource::Plugin)
    );
    assert!(
        e.message.len() < MAX_ERROR_MESSAGE_BYTES + 100,
        "{} bytes",
        e.message.len()
    );
    assert!(e.message.contains("100000 bytes"), "says what was cut");

    // Large details are replaced by a note of their size.
    let e = call(json!({"code": "MY_CODE", "details_size": MAX_ERROR_DETAILS_BYTES * 2})).await;
    assert_eq!(e.details.as_ref().unwrap()["truncated"], json!(true));
    let e = call(json!({"code": "MY_CODE", "details_size": 100})).await;
    assert_eq!(
        e.details.as_ref().unwrap()["blob"].as_str().unwrap().len(),
        100
    );
}

/// Panics in `step_finished`, as a host bug inside a run would.
struct PanicsOnStep;
impl Progress for PanicsOnStep {
    fn step_finished(&self, _run: &str, _path: &str, _ok: bool, _replayed: bool) {
        panic!("a host bug inside the run");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_inside_a_run_fails_that_run_only() {
    let (engine, _t) = engine_with_hostile().await;
    let doc = sluice::workflow::model::parse(
        "echo.yaml",
        "version: 1\nname: echo\ntrigger: {type: manual}\nrun_as: Read Only\nsteps:\n\
         - id: echo\n  uses: hostile\n  with: {mode: echo, arg: {n: 1}}\n",
    )
    .unwrap();
    let doomed = engine
        .create_run(
            doc.clone(),
            Default::default(),
            Default::default(),
            json!({}),
            json!({}),
        )
        .unwrap();
    let healthy = engine
        .create_run(
            doc,
            Default::default(),
            Default::default(),
            json!({}),
            json!({}),
        )
        .unwrap();
    let (a, b) = tokio::join!(
        engine.execute(&doomed.id, &PanicsOnStep),
        engine.execute(&healthy.id, &Quiet)
    );
    let a = a.expect("the panicking run ends with a record");
    assert_eq!(a.status, RunStatus::Failed);
    let report = a.report.expect("a failure report");
    assert_eq!(
        report["failed_steps"][0]["error"]["type"],
        codes::INTERNAL_ERROR.as_str(),
        "{report}"
    );
    assert_eq!(b.unwrap().status, RunStatus::Succeeded);
    // Stored as failed: it is not resumed into the same panic.
    assert_eq!(engine.get(&doomed.id).unwrap().status, RunStatus::Failed);
    assert!(engine.unfinished().unwrap().is_empty());
}

/// A registry with the hostile plugin installed (no grants) and an engine over it.
async fn engine_with_hostile() -> (Arc<Engine>, TestHost) {
    let t = TestHost::new(Limits::DEFAULT);
    let registry = Arc::new(Registry::new(
        t.host.clone(),
        t.store.clone(),
        t.store.clone(),
    ));
    registry
        .install(
            "hostile.wasm",
            &hostile_wasm(),
            &[],
            LimitOverrides::default(),
            false,
            StateOptions::default(),
        )
        .await
        .unwrap();
    (Arc::new(Engine::new(registry, t.store.clone())), t)
}

/// A password marked `format: password` is used by the run but appears nowhere in what
/// the run records: its input, the steps' inputs, error messages and the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_only_input_is_used_but_never_recorded() {
    let (engine, _t) = engine_with_hostile().await;
    let secret = "S3cret!pass-123";
    let doc = sluice::workflow::model::parse(
        "secret.yaml",
        "version: 1\nname: secret\nrun_as: Read Only\n\
         trigger:\n  type: manual\n  input_schema:\n    type: object\n    properties:\n\
         \x20     user: {type: string}\n      password: {type: string, format: password}\n\
         steps:\n\
         - id: check\n  uses: hostile\n  when: \"{{ input.password | length == 15 and input.password[0] == 'S' }}\"\n\
         \x20 with: {mode: echo, arg: {matched: true}}\n\
         - id: leak\n  uses: hostile\n  with: {mode: error, arg: {code: LEAK, message: \"pw=${input.password}\"}}\n",
    )
    .unwrap();
    let run = engine
        .create_run(
            doc,
            Default::default(),
            Default::default(),
            json!({"user": "jsmith", "password": secret}),
            json!({"type": "manual"}),
        )
        .unwrap();
    assert_eq!(run.input["password"], sluice::workflow::redact::REDACTED);
    let done = engine.execute(&run.id, &Quiet).await.unwrap();
    assert_eq!(done.status, RunStatus::Failed);
    let journal = engine.journal(&run.id).unwrap();
    assert_eq!(
        journal[0].result.as_ref().unwrap(),
        &json!({"matched": true}),
        "the run compared the real password"
    );
    let recorded = format!(
        "{}{}",
        serde_json::to_string(&engine.get(&run.id).unwrap()).unwrap(),
        serde_json::to_string(&journal).unwrap()
    );
    assert!(
        !recorded.contains(secret),
        "the password leaked: {recorded}"
    );
    assert!(recorded.contains("pw=********"), "{recorded}");
    // A retry cannot make up the password it no longer has.
    let e = engine.retry(&run.id, true).unwrap_err();
    assert_eq!(e.code(), "RUN_INPUT_NOT_KEPT");
}
