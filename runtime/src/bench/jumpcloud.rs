//! `sluice bench jumpcloud`: what a brokered JumpCloud call costs. Three measurements over
//! one in-process simulator on loopback: raw HTTP GETs (the simulator's throughput), the same
//! GET through the JumpCloud broker (client, headers, retries' bookkeeping) with an API
//! key and, interleaved, with a service account's cached bearer token, and a plugin
//! step that makes that GET (fresh sandboxed instance → host import → broker → simulator →
//! back into the plugin). The step minus the broker call is the simulator's overhead.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::Summary;
use crate::broker::jumpcloud::{ApiKey, Credentials, JumpCloudClient, JumpCloudConfig};
use crate::broker::permissions::{Grants, Role};
use crate::broker::token::{ServiceAccountConfig, default_token_url};
use crate::broker::{JumpCloudBroker, JumpCloudRequest, Unconfigured};
use crate::host::registry::BUNDLED;
use crate::host::{CallContext, HostConfig, Limits, PluginHost, Services};
use sluice_jcsim::oauth::ServiceAccount;
use sluice_jcsim::{Faults, Simulator, seed};

/// The report of `sluice bench jumpcloud`.
#[derive(Debug, Serialize)]
pub struct JumpCloudReport {
    pub iterations: usize,
    pub concurrency: usize,
    /// Sequential raw GETs to the simulator.
    pub http_get: Summary,
    /// Raw GETs per second with `concurrency` clients.
    pub sandbox_gets_per_second: f64,
    /// The same GET through the broker, sequential.
    pub broker_call: Summary,
    /// The same GET through a broker holding a service account's cached token, measured
    /// interleaved with `broker_call` so noise hits both alike.
    pub broker_call_service_account: Summary,
    /// A `user-get` step (one GET) through the plugin host, sequential.
    pub plugin_step: Summary,
    /// Plugin steps per second with `concurrency` in flight.
    pub plugin_steps_per_second: f64,
}

const KEY: &str = "bench-key";
/// The benchmark simulator's service account: `bench-svc` with this secret.
const SA_SECRET: &str = "bench-secret";

/// Runs the three measurements, `iterations` each.
pub async fn run(
    iterations: usize,
    concurrency: usize,
    cache_dir: Option<std::path::PathBuf>,
) -> Result<JumpCloudReport, String> {
    let simulator = Arc::new(
        Simulator::new(seed::default_directory(), KEY, Faults::default(), None)?
            .with_service_accounts(
                vec![ServiceAccount::parse(&format!("bench-svc:{SA_SECRET}"))?],
                sluice_jcsim::oauth::DEFAULT_TOKEN_TTL,
            ),
    )
    .spawn(([127, 0, 0, 1], 0).into())
    .map_err(|e| e.to_string())?;
    let user_id = simulator.simulator.with_directory(|d| {
        d.users
            .iter()
            .find(|(_, u)| u["username"] == "jane.doe")
            .map(|(id, _)| id.clone())
            .unwrap_or_default()
    });
    let path = format!("/api/systemusers/{user_id}");
    let url = format!("{}{path}", simulator.url());
    let http = reqwest::Client::new();
    let get = |http: reqwest::Client, url: String| async move {
        let r = http.get(&url).header("x-api-key", KEY).send().await?;
        let ok = r.status().is_success();
        r.bytes().await?;
        Ok::<bool, reqwest::Error>(ok)
    };
    // warm-up
    for _ in 0..50 {
        get(http.clone(), url.clone())
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        if !get(http.clone(), url.clone())
            .await
            .map_err(|e| e.to_string())?
        {
            return Err("the sandbox refused the benchmark GET".into());
        }
        samples.push(t.elapsed());
    }
    let http_get = Summary::of(samples);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let (http, url) = (http.clone(), url.clone());
        let n = iterations / concurrency + usize::from(w < iterations % concurrency);
        tasks.push(tokio::spawn(async move {
            for _ in 0..n {
                get(http.clone(), url.clone()).await?;
            }
            Ok::<(), reqwest::Error>(())
        }));
    }
    for t in tasks {
        t.await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    let sandbox_gets_per_second = iterations as f64 / started.elapsed().as_secs_f64();

    let mut cfg = JumpCloudConfig::new(ApiKey::new(KEY), &simulator.url());
    cfg.rate_per_second = 0.0;
    let mut sa_cfg = cfg.clone();
    sa_cfg.credentials = Credentials::ServiceAccount(ServiceAccountConfig {
        client_id: "bench-svc".into(),
        secrets: vec![ApiKey::new(SA_SECRET)],
        token_url: default_token_url(&simulator.url()),
    });
    let broker = Arc::new(JumpCloudClient::new(cfg)?);
    let sa_broker = JumpCloudClient::new(sa_cfg)?;
    let req = JumpCloudRequest {
        method: "GET".into(),
        path: path.clone(),
        query: Vec::new(),
        body: None,
    };
    // The first call fetches the token; what is timed is the cached path.
    let first = sa_broker
        .call(req.clone())
        .await
        .map_err(|e| e.to_string())?;
    if first.status != 200 {
        return Err(format!(
            "the service account's GET answered {}",
            first.status
        ));
    }
    let mut samples = Vec::with_capacity(iterations);
    let mut sa_samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        broker.call(req.clone()).await.map_err(|e| e.to_string())?;
        samples.push(t.elapsed());
        let t = Instant::now();
        sa_broker
            .call(req.clone())
            .await
            .map_err(|e| e.to_string())?;
        sa_samples.push(t.elapsed());
    }
    let broker_call = Summary::of(samples);
    let broker_call_service_account = Summary::of(sa_samples);

    let host = Arc::new(
        PluginHost::new(
            HostConfig {
                cache_dir,
                ..HostConfig::default()
            },
            Services {
                jumpcloud: broker,
                http: Arc::new(Unconfigured),
                state: crate::store::temporary().map_err(|e| e.to_string())?,
            },
        )
        .map_err(|e| e.to_string())?,
    );
    let bytes = BUNDLED
        .iter()
        .find(|(f, _)| *f == "jumpcloud.wasm")
        .map(|(_, b)| *b)
        .ok_or("the JumpCloud catalogue is not bundled")?;
    let catalogue = host
        .load("jumpcloud.wasm", bytes)
        .await
        .map_err(|e| e.to_string())?;
    let plugin = Arc::new(
        catalogue
            .plugin("user-get")
            .cloned()
            .ok_or("user-get is not in the JumpCloud catalogue")?,
    );
    let ctx = Arc::new(CallContext {
        run_id: "bench".into(),
        workflow: "bench".into(),
        step_id: "get".into(),
        attempt: 1,
        grants: Arc::new(Grants::new(plugin.manifest.permissions.iter().cloned())),
        role: Some(Role::ReadOnly.into()),
        limits: Limits::DEFAULT,
    });
    let input = Arc::new(format!("{{\"user_id\":\"{user_id}\"}}"));
    let call = |host: Arc<PluginHost>,
                plugin: Arc<_>,
                ctx: Arc<CallContext>,
                input: Arc<String>| async move {
        let out = host.call(&plugin, &ctx, &input).await;
        out.result.map(|_| ()).map_err(|e| e.to_string())
    };
    for _ in 0..20 {
        call(host.clone(), plugin.clone(), ctx.clone(), input.clone()).await?;
    }
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        call(host.clone(), plugin.clone(), ctx.clone(), input.clone()).await?;
        samples.push(t.elapsed());
    }
    let plugin_step = Summary::of(samples);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let (host, plugin, ctx, input) = (host.clone(), plugin.clone(), ctx.clone(), input.clone());
        let n = iterations / concurrency + usize::from(w < iterations % concurrency);
        tasks.push(tokio::spawn(async move {
            for _ in 0..n {
                call(host.clone(), plugin.clone(), ctx.clone(), input.clone()).await?;
            }
            Ok::<(), String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    let plugin_steps_per_second = iterations as f64 / started.elapsed().as_secs_f64();
    Ok(JumpCloudReport {
        iterations,
        concurrency,
        http_get,
        sandbox_gets_per_second,
        broker_call,
        broker_call_service_account,
        plugin_step,
        plugin_steps_per_second,
    })
}
