//! Cron schedules (with seconds, in an IANA timezone).
//!
//! Each schedule's progress — the last fire time handled — is persisted after every fire,
//! and every fire starts its run through a fire key (`schedule/<workflow>/<time>`) recorded
//! in the same transaction as the run. So a restart loses no fire (the schedule goes on from
//! its last handled time) and doubles none (a fire that already has a run is not started
//! again).
//!
//! Misfire policy: a fire up to [`GRACE`] late runs, each one, in order (a restart or a
//! pause of a few seconds loses nothing). Fires missed by more than that — the service was
//! down — follow the workflow's `misfire`: `skip` (the default) drops them, `run_once` runs
//! once for the latest of them.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::Clock;
use crate::service::workflows::Pins;
use crate::service::{Service, Source};
use crate::store::ServiceStore;
use crate::workflow::model::{Misfire, Trigger, WorkflowDoc};

/// How late a fire may be and still run.
pub const GRACE: Duration = Duration::from_secs(60);

/// How long after a workflow change the schedules are reloaded (changes in between are
/// taken in by the same reload).
const RELOAD_DELAY: Duration = Duration::from_millis(200);

/// Missed fires are counted up to this many (for the metric), then skipped over.
const MAX_COUNTED_MISSES: u64 = 100_000;

/// A schedule as written in the workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub cron: String,
    pub timezone: String,
    pub misfire: Misfire,
}

struct Entry<T> {
    spec: Spec,
    schedule: cron::Schedule,
    tz: chrono_tz::Tz,
    next: DateTime<Utc>,
    payload: T,
}

/// The schedules of enabled workflows, ordered by next fire time.
pub struct Schedules<T> {
    store: Arc<dyn ServiceStore>,
    entries: HashMap<String, Entry<T>>,
    queue: BTreeSet<(DateTime<Utc>, String)>,
}

impl<T> std::fmt::Debug for Schedules<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schedules")
            .field("count", &self.entries.len())
            .finish_non_exhaustive()
    }
}

/// What one tick did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TickStats {
    pub fired: u64,
    pub missed: u64,
}

fn state_key(name: &str) -> String {
    format!("schedule/{name}")
}

fn first_after(
    schedule: &cron::Schedule,
    tz: &chrono_tz::Tz,
    t: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    schedule
        .after(&t.with_timezone(tz))
        .next()
        .map(|d| d.with_timezone(&Utc))
}

impl<T> Schedules<T> {
    pub fn new(store: Arc<dyn ServiceStore>) -> Self {
        Self {
            store,
            entries: HashMap::new(),
            queue: BTreeSet::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Makes the schedules exactly `specs`. A schedule already known keeps its place; a new
    /// or changed one goes on from its persisted progress when the spec is unchanged, else
    /// from `now` (a new schedule does not fire for times before it existed).
    pub fn sync(&mut self, specs: Vec<(String, Spec, T)>, now: DateTime<Utc>) {
        let mut keep = BTreeSet::new();
        for (name, spec, payload) in specs {
            keep.insert(name.clone());
            if let Some(e) = self.entries.get_mut(&name)
                && e.spec == spec
            {
                e.payload = payload;
                continue;
            }
            let (Ok(schedule), Ok(tz)) = (
                spec.cron.parse::<cron::Schedule>(),
                spec.timezone.parse::<chrono_tz::Tz>(),
            ) else {
                tracing::warn!("workflow {name}: schedule `{}` does not parse", spec.cron);
                continue;
            };
            let last = self
                .store
                .trigger_get(&state_key(&name))
                .ok()
                .flatten()
                .filter(|s| {
                    s["cron"] == spec.cron.as_str() && s["timezone"] == spec.timezone.as_str()
                })
                .and_then(|s| s["last"].as_str().map(str::to_owned))
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc));
            let Some(next) = first_after(&schedule, &tz, last.unwrap_or(now)) else {
                continue;
            };
            if let Some(old) = self.entries.remove(&name) {
                self.queue.remove(&(old.next, name.clone()));
            }
            self.queue.insert((next, name.clone()));
            self.entries.insert(
                name,
                Entry {
                    spec,
                    schedule,
                    tz,
                    next,
                    payload,
                },
            );
        }
        let gone: Vec<String> = self
            .entries
            .keys()
            .filter(|n| !keep.contains(*n))
            .cloned()
            .collect();
        for name in gone {
            if let Some(e) = self.entries.remove(&name) {
                self.queue.remove(&(e.next, name));
            }
        }
    }

    /// The earliest next fire time.
    pub fn next_wake(&self) -> Option<DateTime<Utc>> {
        self.queue.first().map(|(t, _)| *t)
    }

    /// Handles every fire due at `now`, in time order: `fire(workflow, time, payload)` for
    /// each that runs, progress persisted after each.
    pub fn tick(
        &mut self,
        now: DateTime<Utc>,
        mut fire: impl FnMut(&str, DateTime<Utc>, &T),
    ) -> TickStats {
        let mut stats = TickStats::default();
        let cutoff = now - chrono::Duration::from_std(GRACE).unwrap_or_default();
        while let Some((t, name)) = self.queue.first().cloned() {
            if t > now {
                break;
            }
            self.queue.pop_first();
            let Some(e) = self.entries.get_mut(&name) else {
                continue;
            };
            let mut t = Some(t);
            let mut latest_missed = None;
            while let Some(m) = t.filter(|m| *m <= cutoff) {
                stats.missed += 1;
                latest_missed = Some(m);
                t = if stats.missed >= MAX_COUNTED_MISSES {
                    first_after(&e.schedule, &e.tz, cutoff)
                } else {
                    first_after(&e.schedule, &e.tz, m)
                };
            }
            let mut handled = latest_missed;
            if let (Misfire::RunOnce, Some(m)) = (e.spec.misfire, latest_missed) {
                fire(&name, m, &e.payload);
                stats.fired += 1;
            }
            while let Some(f) = t.filter(|f| *f <= now) {
                fire(&name, f, &e.payload);
                stats.fired += 1;
                handled = None;
                persist(&*self.store, &name, &e.spec, f);
                t = first_after(&e.schedule, &e.tz, f);
            }
            // Only misses: their progress still counts.
            if let Some(h) = handled {
                persist(&*self.store, &name, &e.spec, h);
            }
            match t {
                Some(next) => {
                    e.next = next;
                    self.queue.insert((next, name));
                }
                None => {
                    self.entries.remove(&name);
                }
            }
        }
        stats
    }
}

/// Saves a schedule's progress: the last fire time handled, with the spec it belongs to.
fn persist(store: &dyn ServiceStore, name: &str, spec: &Spec, last: DateTime<Utc>) {
    let state = json!({
        "last": last.to_rfc3339(),
        "cron": spec.cron,
        "timezone": spec.timezone,
    });
    if let Err(err) = store.trigger_put(&state_key(name), &state) {
        tracing::error!("workflow {name}: cannot persist schedule progress: {err}");
    }
}

/// The fire key of one schedule fire.
pub fn fire_key(workflow: &str, at: DateTime<Utc>) -> String {
    format!("schedule/{workflow}/{}", at.to_rfc3339())
}

/// The version's document and its plugin pins.
type Payload = Arc<(WorkflowDoc, Pins)>;

/// What the scheduler knows of a workflow version: its spec and what a fire runs.
type Known = std::collections::HashMap<String, (u32, Spec, Payload)>;

/// The enabled scheduled workflows, read from the store; versions already in `known` are
/// not read again (a save among 10,000 schedules reads one document, not all).
fn specs(service: &Service, known: &mut Known) -> Vec<(String, Spec, Payload)> {
    let records = match service.workflows() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("cannot read workflows for the scheduler: {e}");
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    let mut live = BTreeSet::new();
    for r in records.into_iter().filter(|r| r.enabled) {
        if !r.trigger.starts_with("schedule ") {
            continue;
        }
        live.insert(r.name.clone());
        if let Some((v, spec, payload)) = known.get(&r.name)
            && *v == r.version
        {
            out.push((r.name, spec.clone(), payload.clone()));
            continue;
        }
        let Ok(v) = service.version(&r.name, r.version) else {
            continue;
        };
        if let Trigger::Schedule {
            cron,
            timezone,
            misfire,
        } = &v.doc.trigger
        {
            let spec = Spec {
                cron: cron.clone(),
                timezone: timezone.clone(),
                misfire: *misfire,
            };
            let payload = Arc::new((v.doc, v.pins));
            known.insert(r.name.clone(), (r.version, spec.clone(), payload.clone()));
            out.push((r.name, spec, payload));
        }
    }
    known.retain(|name, _| live.contains(name));
    out
}

/// Starts the run of one fire, unless the fire already has one.
pub(crate) fn fire(
    service: &Arc<Service>,
    name: &str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    payload: &Payload,
) {
    let (doc, pins) = &**payload;
    // Sub-workflows at their current versions (none read for a workflow that calls none).
    let subs = match service.subworkflows_of(doc) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("workflow {name}: cannot read its sub-workflows: {e}");
            return;
        }
    };
    let late_ms = (now - at).num_milliseconds().max(0);
    let trigger = match &doc.trigger {
        Trigger::Schedule { cron, timezone, .. } => json!({
            "type": "schedule",
            "fire_time": at.to_rfc3339(),
            "cron": cron,
            "timezone": timezone,
        }),
        _ => return,
    };
    match service.engine.create_run_once(
        &fire_key(name, at),
        doc.clone(),
        subs,
        pins.clone(),
        json!({}),
        trigger,
    ) {
        Ok((run, true)) => {
            service.metrics.schedule_fire(late_ms as u64 * 1000);
            service.spawn_run(run.id, name.to_owned(), Source::Trigger);
        }
        Ok((_, false)) => {}
        Err(e) => tracing::error!("workflow {name}: cannot record the fire at {at}: {e}"),
    }
}

/// The scheduler task: reloads schedules when workflows change, waits on `clock` until the
/// next fire time, and starts the due runs, until `stop`.
pub async fn run(
    service: Arc<Service>,
    clock: Arc<dyn Clock>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut schedules: Schedules<Payload> = Schedules::new(service.store.clone());
    let mut known = Known::new();
    // The longest wait between two looks at the schedules.
    let longest = chrono::Duration::seconds(60);
    let reload_delay = chrono::Duration::from_std(RELOAD_DELAY).unwrap_or(longest);
    // When to reload the schedules: at once at start, then a short while after a change,
    // so a burst of saves (an import of thousands of workflows) costs one reload. (A clock
    // set back does not hold a reload: one further off than the delay is due.)
    let mut reload_at = Some(clock.now());
    loop {
        // Among nodes sharing a database only the leader fires. A node that is not (or no
        // longer) the leader forgets its schedules and waits; once elected it reloads them
        // from their persisted progress, so the fires due since the last leader's last one
        // run (within the grace) and none twice (each fire has one run, by its fire key).
        if !service.leading() {
            let elected = service.leadership_changed();
            tokio::pin!(elected);
            elected.as_mut().enable();
            if !service.leading() {
                schedules = Schedules::new(service.store.clone());
                known.clear();
                reload_at = Some(clock.now());
                tokio::select! {
                    _ = &mut elected => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                continue;
            }
        }
        let changed = service.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let now = clock.now();
        if reload_at.is_some_and(|t| t <= now || t - now > reload_delay) {
            schedules.sync(specs(&service, &mut known), now);
            reload_at = None;
        }
        let now = clock.now();
        let stats = schedules.tick(now, |name, at, payload| {
            fire(&service, name, at, now, payload)
        });
        if stats.missed > 0 {
            service.metrics.misfires(stats.missed);
        }
        let now = clock.now();
        let mut wake = schedules
            .next_wake()
            .map_or(now + longest, |w| w.min(now + longest));
        if let Some(t) = reload_at {
            wake = wake.min(t);
        }
        tokio::select! {
            _ = clock.sleep_until(wake) => {}
            _ = &mut changed, if reload_at.is_none() => {
                reload_at = Some(clock.now() + reload_delay);
            }
            _ = service.leadership_changed() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn every_second() -> Spec {
        Spec {
            cron: "* * * * * *".into(),
            timezone: "UTC".into(),
            misfire: Misfire::Skip,
        }
    }

    /// Fires through fire keys in the store, as the service does; returns the fire times.
    fn tick(s: &mut Schedules<()>, store: &dyn Store, now: DateTime<Utc>) -> Vec<String> {
        let mut fired = Vec::new();
        s.tick(now, |name, t, _| {
            let key = fire_key(name, t);
            let id = format!("run-{key}");
            if store.run_put_once(&key, &id, &json!({})).unwrap().is_none() {
                fired.push(t.format("%H:%M:%S").to_string());
            }
        });
        fired
    }

    #[test]
    fn a_per_second_schedule_fires_every_second_and_a_restart_loses_and_doubles_nothing() {
        let store = crate::store::temporary().unwrap();
        let t0 = at("2026-11-23T10:00:00.300Z");
        let mut s: Schedules<()> = Schedules::new(store.clone());
        s.sync(vec![("tick".into(), every_second(), ())], t0);
        assert_eq!(s.next_wake(), Some(at("2026-11-23T10:00:01Z")));
        let mut all = Vec::new();
        for i in 1..=5 {
            let now = t0 + chrono::Duration::seconds(i);
            let fired = tick(&mut s, &*store, now);
            assert_eq!(fired.len(), 1, "one fire per second, at {now}");
            all.extend(fired);
        }
        // The service stops after 10:00:05 and starts again 3.2 s later: a new scheduler
        // over the same store catches up 06, 07 and 08, each once.
        drop(s);
        let mut s: Schedules<()> = Schedules::new(store.clone());
        let restart = at("2026-11-23T10:00:08.500Z");
        s.sync(vec![("tick".into(), every_second(), ())], restart);
        all.extend(tick(&mut s, &*store, restart));
        all.extend(tick(&mut s, &*store, at("2026-11-23T10:00:09.010Z")));
        let expected: Vec<String> = (1..=9).map(|i| format!("10:00:0{i}")).collect();
        assert_eq!(all, expected);
    }

    /// The fire times of `workflow`'s runs in the store, in seconds since the epoch, sorted.
    fn fire_times(service: &Service, workflow: &str) -> Vec<i64> {
        let mut times = Vec::new();
        service
            .store
            .run_scan(None, &mut |_, bytes| {
                let run: serde_json::Value = serde_json::from_slice(bytes).unwrap();
                if run["workflow"] == workflow {
                    let t = run["trigger"]["fire_time"].as_str().unwrap();
                    times.push(DateTime::parse_from_rfc3339(t).unwrap().timestamp());
                }
                Ok(true)
            })
            .unwrap();
        times.sort();
        times
    }

    /// The scheduler task over a service, on a clock the test moves (no real time passes):
    /// it fires every second, and a new scheduler over the same store 1.5 s after the first
    /// stopped (a restart) catches up and doubles nothing.
    #[tokio::test]
    async fn the_scheduler_task_fires_a_per_second_schedule_and_a_restart_loses_and_doubles_none() {
        let service = Service::for_tests();
        let clock = crate::trigger::ManualClock::new(at("2026-11-23T10:00:00.300Z"));
        let start = |clock: &Arc<crate::trigger::ManualClock>| {
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let task = tokio::spawn(run(service.clone(), clock.clone(), stopped));
            (stop, task)
        };
        let mark = clock.parks();
        let (stop, task) = start(&clock);
        clock.parked_after(mark).await;
        let tick = "version: 1\nname: tick\n\
                    trigger: { type: schedule, cron: \"* * * * * *\", timezone: UTC }\n\
                    run_as: Read Only\nsteps:\n  - id: at\n    uses: transform\n    \
                    with: { fired: \"${trigger.fire_time}\" }\n";
        let doc = crate::workflow::model::parse("tick", tick).unwrap();
        let mark = clock.parks();
        service.save_checked(doc, tick, None, "test").await.unwrap();
        // The save wakes the scheduler, which reloads a moment later.
        clock.parked_after(mark).await;
        clock.advance(RELOAD_DELAY).await;
        for _ in 0..3 {
            clock.advance(Duration::from_secs(1)).await;
        }
        assert!(fire_times(&service, "tick").len() >= 3, "three fires");
        stop.send(true).unwrap();
        task.await.unwrap();

        // Down for 1.5 s, then a new scheduler over the same store.
        clock.set_forward(Duration::from_millis(1500));
        let mark = clock.parks();
        let (stop, task) = start(&clock);
        clock.parked_after(mark).await;
        let before = fire_times(&service, "tick").len();
        for _ in 0..3 {
            clock.advance(Duration::from_secs(1)).await;
        }
        assert!(
            fire_times(&service, "tick").len() >= before + 3,
            "fires after the restart"
        );
        // Disabled, it stops firing; then the fire times: consecutive seconds, none twice.
        let mark = clock.parks();
        service.set_enabled("tick", false, "test").unwrap();
        clock.parked_after(mark).await;
        clock.advance(Duration::from_millis(300)).await;
        let fired = fire_times(&service, "tick").len();
        clock.advance(Duration::from_secs(60)).await;
        let mut times = fire_times(&service, "tick");
        let n = times.len();
        times.dedup();
        assert_eq!(times.len(), n, "no fire time ran twice");
        for w in times.windows(2) {
            assert_eq!(w[1] - w[0], 1, "no fire lost across the restart: {times:?}");
        }
        stop.send(true).unwrap();
        task.await.unwrap();
        assert_eq!(
            fire_times(&service, "tick").len(),
            fired,
            "no fire once disabled"
        );
    }

    #[test]
    fn a_crash_between_the_fire_and_its_progress_does_not_double_the_fire() {
        let store = crate::store::temporary().unwrap();
        let t0 = at("2026-11-23T10:00:00.300Z");
        let mut s: Schedules<()> = Schedules::new(store.clone());
        s.sync(vec![("tick".into(), every_second(), ())], t0);
        assert_eq!(
            tick(&mut s, &*store, at("2026-11-23T10:00:02.100Z")).len(),
            2
        );
        // Progress rolled back to before those fires (the crash came before it was saved).
        store
            .trigger_put(
                &state_key("tick"),
                &json!({"last": "2026-11-23T10:00:00+00:00", "cron": "* * * * * *", "timezone": "UTC"}),
            )
            .unwrap();
        let mut s: Schedules<()> = Schedules::new(store.clone());
        let now = at("2026-11-23T10:00:03.100Z");
        s.sync(vec![("tick".into(), every_second(), ())], now);
        assert_eq!(tick(&mut s, &*store, now), vec!["10:00:03"]);
    }

    #[test]
    fn fires_missed_beyond_the_grace_follow_the_misfire_policy() {
        let store = crate::store::temporary().unwrap();
        let hourly = |misfire| Spec {
            cron: "0 0 * * * *".into(),
            timezone: "Europe/Paris".into(),
            misfire,
        };
        let t0 = at("2026-11-23T08:30:00Z");
        for (name, policy, expected) in [
            ("skip", Misfire::Skip, vec![]),
            ("once", Misfire::RunOnce, vec!["12:00:00"]),
        ] {
            let mut s: Schedules<()> = Schedules::new(store.clone());
            s.sync(vec![(name.into(), hourly(policy), ())], t0);
            // Down from 08:30 to 12:20: the 09:00 ... 12:00 fires are all over a minute late.
            let now = at("2026-11-23T12:20:00Z");
            assert_eq!(tick(&mut s, &*store, now), expected, "{name}");
            assert_eq!(s.next_wake(), Some(at("2026-11-23T13:00:00Z")));
        }
    }

    #[test]
    fn schedules_follow_their_timezone_and_changes() {
        let store = crate::store::temporary().unwrap();
        let mut s: Schedules<()> = Schedules::new(store.clone());
        let nine_paris = Spec {
            cron: "0 0 9 * * *".into(),
            timezone: "Europe/Paris".into(),
            misfire: Misfire::Skip,
        };
        let now = at("2026-11-23T07:00:00Z");
        s.sync(vec![("report".into(), nine_paris.clone(), ())], now);
        // 09:00 in Paris in November is 08:00 UTC.
        assert_eq!(s.next_wake(), Some(at("2026-11-23T08:00:00Z")));
        let ny = Spec {
            timezone: "America/New_York".into(),
            ..nine_paris
        };
        s.sync(vec![("report".into(), ny, ())], now);
        assert_eq!(s.next_wake(), Some(at("2026-11-23T14:00:00Z")));
        s.sync(vec![], now);
        assert_eq!(s.next_wake(), None);
        assert!(s.is_empty());
    }
}
