//! Policy tests for the behaviours carried over from the original big_brother (issue 8):
//! `max_weight`, `active_passive` (priority, ties by address, a switch in one reconcile), the
//! sorry server (its `has_downpage`) and the cluster-wide override files. Kept apart from the
//! policy's own tests so each set reads as one story.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::tests::spec;
use super::*;
use crate::health::{CheckError, Health, Phase};
use crate::ipvs::memory::Memory;
use crate::ipvs::{DestEntry, Ipvs, Service};
use crate::spec::SorryServer;
use crate::supervisor::reconcile::{self, Op};

const SEC: Duration = Duration::from_secs(1);

fn obs(node: usize, at: Instant, result: Result<Health, CheckError>) -> Observation {
    Observation {
        node,
        at,
        latency: Duration::from_millis(2),
        result,
        drain: false,
        output: None,
    }
}

fn good(at: Instant, h: f64) -> Observation {
    obs(0, at, Ok(Health::new(h)))
}

fn failed(at: Instant) -> Observation {
    obs(0, at, Err(CheckError::Closed { phase: Phase::Head }))
}

/// Nodes that have been up (health `h`) for long enough that no ramp is running at `t`.
fn settled(spec: &Spec, healths: &[f64], t: Instant) -> Vec<NodeState> {
    let p = Policy::from_spec(spec);
    let long_ago = t - 1000 * SEC;
    healths
        .iter()
        .map(|&h| {
            let mut s = NodeState::new(None, long_ago);
            s.observe(&good(long_ago, 100.0), &p);
            s.observe(&good(t, h), &p);
            s
        })
        .collect()
}

fn weights(d: &[Dest]) -> Vec<u32> {
    d.iter().map(|d| d.weight).collect()
}

fn none() -> BTreeSet<String> {
    BTreeSet::new()
}

fn table(spec: &Spec, dests: &[Dest]) -> Memory {
    let mut m = Memory::new();
    let key = spec.service.unwrap();
    m.add_service(&Service::new(key, spec.scheduler.clone()))
        .unwrap();
    for d in dests {
        m.add_dest(&key, d).unwrap();
    }
    m
}

fn entries(dests: &[Dest]) -> Vec<DestEntry> {
    dests
        .iter()
        .map(|d| DestEntry {
            dest: *d,
            stats: Default::default(),
        })
        .collect()
}

#[test]
fn max_weight_scales_health_into_its_range() {
    let mut sp = spec(4);
    sp.nodes[0].max_weight = 50;
    sp.nodes[1].max_weight = 200;
    sp.nodes[2].max_weight = 0;
    let t = Instant::now() + 2000 * SEC;
    let st = settled(&sp, &[100.0, 100.0, 100.0, 100.0], t);
    assert_eq!(weights(&desired(&sp, &st, &none(), t)), [50, 200, 0, 100]);
    // Below full health the weight scales (the original capped instead: min(40, 50) = 40).
    let st = settled(&sp, &[40.0, 40.0, 40.0, 40.0], t);
    assert_eq!(weights(&desired(&sp, &st, &none(), t)), [20, 80, 0, 40]);
}

#[test]
fn active_passive_prefers_low_priority_then_low_address() {
    let mut sp = spec(3);
    sp.backend_mode = BackendMode::ActivePassive;
    // Ties on priority go to the numerically lowest address: .9 before .10 (the original
    // compared strings, which put "192.0.2.10" first).
    sp.nodes[0].address = "192.0.2.10".parse().unwrap();
    sp.nodes[1].address = "192.0.2.9".parse().unwrap();
    sp.nodes[2].priority = 5;
    let t = Instant::now() + 2000 * SEC;
    let st = settled(&sp, &[100.0, 100.0, 100.0], t);
    assert_eq!(weights(&desired(&sp, &st, &none(), t)), [0, 100, 0]);
    sp.nodes[2].priority = -1;
    assert_eq!(weights(&desired(&sp, &st, &none(), t)), [0, 0, 100]);
}

#[test]
fn active_passive_switch_is_one_reconcile_and_preempts_back() {
    let mut sp = spec(3);
    sp.backend_mode = BackendMode::ActivePassive;
    sp.nodes[0].priority = 2;
    sp.nodes[1].priority = 1;
    sp.nodes[2].priority = 3;
    let p = Policy::from_spec(&sp);
    let t = Instant::now() + 2000 * SEC;
    let mut st = settled(&sp, &[100.0, 90.0, 80.0], t);
    let before = desired(&sp, &st, &none(), t);
    assert_eq!(weights(&before), [0, 90, 0]);
    let mut m = table(&sp, &before);
    let key = sp.service.unwrap();

    // The active node fails: in one reconcile the next one is raised, then the failed one
    // dropped (capacity first), and nobody is deleted.
    st[1].observe(&failed(t), &p);
    let after = desired(&sp, &st, &none(), t);
    assert_eq!(weights(&after), [100, 0, 0]);
    let ops = reconcile::reconcile(&after, &entries(&before));
    assert_eq!(ops, [Op::Edit(after[0]), Op::Edit(after[1])]);
    assert_eq!(reconcile::apply(&mut m, &key, &ops).unwrap(), 2);
    assert!(reconcile::reconcile(&after, &m.dests(&key).unwrap()).is_empty());

    // It recovers: the preferred node takes over again at once (as the original did), ramping
    // (which does not matter with one serving node).
    let t2 = t + 5 * SEC;
    st[1].observe(&good(t2, 90.0), &p);
    let back = desired(&sp, &st, &none(), t2);
    assert_eq!(weights(&back), [0, 1, 0]);
    assert_eq!(
        reconcile::reconcile(&back, &m.dests(&key).unwrap()).len(),
        2,
        "one raise and one drop"
    );
}

#[test]
fn sorry_server_in_when_all_down_out_when_one_is_back() {
    let mut sp = spec(2);
    sp.sorry_server = Some(SorryServer {
        address: "169.254.254.254".parse().unwrap(),
        port: 0,
        weight: 1,
    });
    let p = Policy::from_spec(&sp);
    let t = Instant::now() + 2000 * SEC;
    let mut st = settled(&sp, &[100.0, 100.0], t);
    let up = desired(&sp, &st, &none(), t);
    assert_eq!(up.len(), 2, "no sorry server while a node serves");
    for s in &mut st {
        s.observe(&failed(t), &p);
    }
    let down = desired(&sp, &st, &none(), t);
    assert_eq!(weights(&down), [0, 0, 1]);
    assert_eq!(down[2].addr.to_string(), "169.254.254.254");
    // Added before the nodes drop to 0.
    let ops = reconcile::reconcile(&down, &entries(&up));
    assert_eq!(ops[0], Op::Add(down[2]));

    st[0].observe(&good(t + SEC, 100.0), &p);
    let back = desired(&sp, &st, &none(), t + SEC);
    assert_eq!(weights(&back), [1, 0], "ramping from 1");
    let ops = reconcile::reconcile(&back, &entries(&down));
    assert_eq!(
        ops,
        [
            Op::Edit(back[0]),
            Op::Del("169.254.254.254".parse().unwrap(), 0)
        ],
        "the node is raised before the sorry server goes"
    );
}

#[test]
fn override_up_serves_every_node_at_full_weight() {
    let mut sp = spec(4);
    sp.nodes[1].max_weight = 50;
    let p = Policy::from_spec(&sp);
    let t = Instant::now() + 2000 * SEC;
    let mut st = settled(&sp, &[30.0, 30.0, 30.0, 30.0], t);
    st[2].observe(&failed(t), &p);
    let drained: BTreeSet<String> = [sp.nodes[3].id()].into();
    let d = desired_with_override(&sp, &st, &drained, Some(Override::Up), t);
    assert_eq!(
        weights(&d),
        [100, 50, 100, 0],
        "failed nodes too, no ramp; a drained node stays drained"
    );
    // Without the override, health rules again.
    let d = desired_with_override(&sp, &st, &drained, None, t);
    assert_eq!(weights(&d), [30, 15, 0, 0]);
    // active_passive still serves one node.
    sp.backend_mode = BackendMode::ActivePassive;
    let d = desired_with_override(&sp, &st, &drained, Some(Override::Up), t);
    assert_eq!(weights(&d), [100, 0, 0, 0]);
}

#[test]
fn override_down_quiesces_and_brings_the_sorry_server() {
    let mut sp = spec(3);
    let t = Instant::now() + 2000 * SEC;
    let st = settled(&sp, &[100.0, 100.0, 100.0], t);
    let d = desired_with_override(&sp, &st, &none(), Some(Override::Down), t);
    assert_eq!(weights(&d), [0, 0, 0], "nobody deleted");
    sp.sorry_server = Some(SorryServer {
        address: "203.0.113.9".parse().unwrap(),
        port: 0,
        weight: 3,
    });
    let d = desired_with_override(&sp, &st, &none(), Some(Override::Down), t);
    assert_eq!(weights(&d), [0, 0, 0, 3]);
    assert_eq!(
        node_weights(&sp, &st, &none(), Forced::cluster(Some(Override::Down)), t),
        [0, 0, 0],
        "every node counts as down"
    );
}

#[test]
fn lifting_down_restarts_the_ramp() {
    let sp = spec(1);
    let p = Policy::from_spec(&sp);
    let t = Instant::now() + 2000 * SEC;
    let mut st = settled(&sp, &[100.0], t);
    assert_eq!(st[0].weight(&p, 100, t), 100);
    st[0].restart_ramp(t);
    assert_eq!(st[0].weight(&p, 100, t), 1);
    assert_eq!(st[0].weight(&p, 100, t + 60 * SEC), 50);
    assert_eq!(st[0].weight(&p, 100, t + 120 * SEC), 100);
    // A node that is down has nothing to ramp.
    let mut down = NodeState::new(Some(0), t);
    down.restart_ramp(t);
    assert_eq!(down.weight(&p, 100, t), 0);
}
