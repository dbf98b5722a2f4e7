//! Pacemaker's recovery of a crashed supervisor is `stop` then `start` on the same node (a
//! monitor answering 1 or 7 leads to both). The weights must survive that: `stop` keeps the dead
//! supervisor's weights (`supervisor::snapshot`) and the next `start` restores them instead of
//! ramping every node from 0. A clean stop keeps nothing.

use std::time::Duration;

use crate::ocf_support::{signal, wait_for, Behaviour, Cluster};

/// The cluster's spec with the given ramp-up time.
fn write_spec(c: &Cluster, ramp: &str) {
    let text = c.spec_text(7, 2).replace(
        "check_interval = \"1s\"",
        &format!("check_interval = \"1s\"\nramp_up_time = \"{ramp}\""),
    );
    std::fs::write(&c.config, text).unwrap();
}

fn weights(c: &Cluster) -> Vec<u64> {
    c.table()
        .unwrap_or_default()
        .into_iter()
        .map(|(_, w)| w)
        .collect()
}

#[test]
fn recovery_after_sigkill_keeps_the_weights() {
    let c = Cluster::new("recov1", &[Behaviour::Health(80), Behaviour::Health(60)]);
    write_spec(&c, "1s");
    c.agent("start", &[]).expect_code(0);
    wait_for("weights = health", Duration::from_secs(15), || {
        weights(&c) == [80, 60]
    });

    // From now on a node that starts from 0 would take two minutes to get back.
    write_spec(&c, "120s");
    signal(c.pid().unwrap(), libc::SIGKILL);
    wait_for("the lock to be released", Duration::from_secs(5), || {
        c.probe().code() == 1
    });
    // Pacemaker: monitor failed → stop → start.
    c.agent("monitor", &[]).expect_code(1);
    c.agent("stop", &[]).expect_code(0);
    assert!(c.table().is_none(), "stop removed the service");
    assert!(c.state_dir().join("crash-weights.json").exists());
    c.agent("start", &[]).expect_code(0);
    assert_eq!(
        weights(&c),
        [80, 60],
        "weights restored, not ramping from 0\n{}",
        c.log_text()
    );
    assert!(
        c.log_text().contains("restored 2 destinations"),
        "{}",
        c.log_text()
    );
    assert!(
        !c.state_dir().join("crash-weights.json").exists(),
        "used once"
    );
    c.agent("monitor", &[("OCF_CHECK_LEVEL", "10")])
        .expect_code(0);

    // A clean stop keeps nothing: the next start ramps from 0.
    c.agent("stop", &[]).expect_code(0);
    assert!(!c.state_dir().join("crash-weights.json").exists());
    c.agent("start", &[]).expect_code(0);
    assert!(
        weights(&c).iter().all(|&w| w < 60),
        "a fresh start ramps: {:?}",
        weights(&c)
    );
    c.agent("stop", &[]).expect_code(0);
}
