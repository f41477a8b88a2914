//! Several nodes on one database, as [`PgCluster`](super::cluster::PgCluster) sees them:
//! leases claimed, renewed, lost and taken over; one leader at a time; cancels passed to
//! the holder; a workflow's slots counted across nodes.

use std::time::Duration;

use super::tests::Schema;
use crate::store::Store;
use crate::store::cluster::{Claim, Cluster, LEADER, NodeInfo, Slot, WORKFLOWS};

/// A short lease, so lapses happen within a test.
const LEASE: Duration = Duration::from_millis(600);

fn node(store: &super::PgStore, id: &str) -> std::sync::Arc<dyn Cluster> {
    store.cluster(id, LEASE)
}

fn info(id: &str) -> NodeInfo {
    NodeInfo {
        id: id.into(),
        url: format!("http://{id}"),
        version: "test".into(),
        started_at: "2026-01-01T00:00:00.000Z".into(),
    }
}

fn lapse() {
    std::thread::sleep(LEASE + Duration::from_millis(300));
}

#[test]
fn a_run_is_held_by_one_node_until_its_lease_lapses_then_taken_over_once() {
    let schema = Schema::new();
    let store = schema.open().unwrap();
    let (a, b, c) = (node(&store, "a"), node(&store, "b"), node(&store, "c"));
    assert!(a.shared());
    assert_eq!(a.claim("r1", "wf").unwrap(), Claim::Mine);
    assert_eq!(
        a.claim("r1", "wf").unwrap(),
        Claim::Mine,
        "claiming again is idempotent"
    );
    assert_eq!(b.claim("r1", "wf").unwrap(), Claim::Held("a".into()));
    assert!(
        b.take_over(10).unwrap().is_empty(),
        "a live lease is not taken"
    );
    assert_eq!(a.unfinished().unwrap(), 1);
    // a renews: still held after the first lease would have lapsed.
    std::thread::sleep(LEASE / 2);
    assert!(
        a.heartbeat(&info("a"), &["r1".into()])
            .unwrap()
            .lost
            .is_empty()
    );
    std::thread::sleep(LEASE / 2 + Duration::from_millis(100));
    assert!(b.take_over(10).unwrap().is_empty(), "a renewed lease holds");
    // a stops renewing: b and c race for it, one gets it.
    lapse();
    let (tb, tc) = std::thread::scope(|s| {
        let hb = s.spawn(|| b.take_over(10).unwrap());
        let hc = s.spawn(|| c.take_over(10).unwrap());
        (hb.join().unwrap(), hc.join().unwrap())
    });
    assert_eq!(
        tb.len() + tc.len(),
        1,
        "taken over exactly once: {tb:?} {tc:?}"
    );
    let (winner, taken) = if tb.is_empty() {
        ("c", &tc)
    } else {
        ("b", &tb)
    };
    assert_eq!(
        (taken[0].run.as_str(), taken[0].workflow.as_str()),
        ("r1", "wf")
    );
    assert!(!taken[0].cancel);
    // a comes back: its renewal says the run is lost.
    let renewal = a.heartbeat(&info("a"), &["r1".into()]).unwrap();
    assert_eq!(renewal.lost, ["r1"]);
    assert_eq!(a.claim("r1", "wf").unwrap(), Claim::Held(winner.into()));
    // Finished: released, and nobody holds it.
    let holder = if winner == "b" { &b } else { &c };
    holder.release("r1").unwrap();
    assert_eq!(a.unfinished().unwrap(), 0);
    drop(schema);
}

#[test]
fn many_lapsed_runs_are_shared_out_between_nodes_taking_over_at_once() {
    let schema = Schema::new();
    let store = schema.open().unwrap();
    let dead = node(&store, "dead");
    for i in 0..200 {
        assert_eq!(dead.claim(&format!("r{i:03}"), "wf").unwrap(), Claim::Mine);
    }
    lapse();
    let nodes: Vec<_> = (0..4).map(|i| node(&store, &format!("n{i}"))).collect();
    let taken: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = nodes
            .iter()
            .map(|n| {
                s.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let t = n.take_over(7).unwrap();
                        if t.is_empty() {
                            return mine;
                        }
                        mine.extend(t.into_iter().map(|t| t.run));
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<String> = taken.concat();
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, 200, "no run taken twice");
    assert_eq!(all.len(), 200, "every run taken");
    drop(schema);
}

#[test]
fn one_leader_at_a_time_and_another_takes_the_role_when_it_stops() {
    let schema = Schema::new();
    let store = schema.open().unwrap();
    let (a, b) = (node(&store, "a"), node(&store, "b"));
    assert!(a.lead(LEADER).unwrap());
    assert!(!b.lead(LEADER).unwrap());
    assert!(
        a.lead(LEADER).unwrap(),
        "the leader keeps its role by renewing it"
    );
    for n in [&a, &b] {
        n.heartbeat(&info(n.node()), &[]).unwrap();
    }
    let listed = a.nodes().unwrap();
    assert_eq!(listed.len(), 2);
    let leader: Vec<_> = listed.iter().filter(|n| !n.leader_of.is_empty()).collect();
    assert_eq!(leader.len(), 1);
    assert_eq!(leader[0].info.id, "a");
    assert!(listed.iter().all(|n| n.alive));
    lapse();
    assert!(b.lead(LEADER).unwrap(), "a stopped renewing: b leads");
    assert!(!a.lead(LEADER).unwrap(), "and a, back, does not");
    // Leaving gives the role up at once.
    b.leave().unwrap();
    assert!(a.lead(LEADER).unwrap());
    let listed = a.nodes().unwrap();
    assert!(listed.iter().any(|n| n.info.id == "b" && !n.alive));
    drop(schema);
}

#[test]
fn a_cancel_asked_through_another_node_reaches_the_holder() {
    let schema = Schema::new();
    let store = schema.open().unwrap();
    let (a, b) = (node(&store, "a"), node(&store, "b"));
    a.claim("r1", "wf").unwrap();
    assert_eq!(
        a.request_cancel("r1").unwrap(),
        None,
        "the holder cancels itself"
    );
    assert_eq!(b.request_cancel("r1").unwrap(), Some("a".into()));
    let renewal = a.heartbeat(&info("a"), &["r1".into()]).unwrap();
    assert_eq!(renewal.cancel, ["r1"]);
    assert!(renewal.lost.is_empty());
    // A run whose holder is gone is not passed on: the asking node cancels it itself, and
    // whoever takes it over sees the request.
    b.claim("r2", "wf").unwrap();
    lapse();
    assert_eq!(a.request_cancel("r2").unwrap(), None);
    drop(schema);
}

#[test]
fn a_run_is_held_elsewhere_only_while_another_live_node_holds_it() {
    let schema = Schema::new();
    let store = schema.open().unwrap();
    let (a, b) = (node(&store, "a"), node(&store, "b"));
    assert_eq!(b.held_elsewhere("r1").unwrap(), None, "nobody holds it");
    a.claim("r1", "wf").unwrap();
    assert_eq!(b.held_elsewhere("r1").unwrap(), Some("a".into()));
    assert_eq!(
        a.held_elsewhere("r1").unwrap(),
        None,
        "held here, not elsewhere"
    );
    a.release("r1").unwrap();
    assert_eq!(b.held_elsewhere("r1").unwrap(), None, "released");
    // A lapsed lease holds nothing: the run can be resumed (taken over).
    a.claim("r2", "wf").unwrap();
    lapse();
    assert_eq!(b.held_elsewhere("r2").unwrap(), None);
    drop(schema);
}

#[test]
fn a_workflows_slots_are_counted_across_nodes() {
    let schema = Schema::new();
    let store = schema.open().unwrap();
    let (a, b) = (node(&store, "a"), node(&store, "b"));
    for (n, run) in [(&a, "r1"), (&b, "r2"), (&a, "r3"), (&b, "o1")] {
        n.claim(run, if run == "o1" { "other" } else { "wf" })
            .unwrap();
    }
    assert_eq!(a.slot("r1", "wf", 2).unwrap(), Slot::Taken);
    assert_eq!(
        a.slot("r1", "wf", 2).unwrap(),
        Slot::Taken,
        "taking again is idempotent"
    );
    assert_eq!(b.slot("r2", "wf", 2).unwrap(), Slot::Taken);
    assert_eq!(a.slot("r3", "wf", 2).unwrap(), Slot::Full);
    assert_eq!(
        b.slot("o1", "other", 1).unwrap(),
        Slot::Taken,
        "per workflow"
    );
    assert_eq!(
        b.slot("r3", "wf", 5).unwrap(),
        Slot::NotHeld,
        "only the holder executes"
    );
    a.release("r1").unwrap();
    assert_eq!(
        a.slot("r3", "wf", 2).unwrap(),
        Slot::Taken,
        "a release frees a slot"
    );
    drop(schema);
}

#[test]
fn a_change_counted_through_one_node_is_seen_by_the_others() {
    let schema = Schema::new();
    let store = schema.open().unwrap();
    let (a, b) = (node(&store, "a"), node(&store, "b"));
    assert_eq!(b.generation(WORKFLOWS).unwrap(), 0);
    a.bump(WORKFLOWS).unwrap();
    a.bump(WORKFLOWS).unwrap();
    assert_eq!(b.generation(WORKFLOWS).unwrap(), 2);
    assert_eq!(b.generation("other").unwrap(), 0);
    drop(schema);
}
