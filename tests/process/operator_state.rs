//! Operator state that follows the cluster (issue 15), end to end with the real binary, the
//! dry-run backend and litmus_paper look-alikes on loopback: the panic threshold (a bad
//! health-endpoint deploy must not empty the pool), graceful removal of nodes a reload takes
//! out, and `drain --wait`.

use std::time::Duration;

use crate::ocf_support::wait_for;
use crate::process::health_supervisor::Lb;

/// What a broken health endpoint deploy answers on every node: a bare 503.
const BARE_503: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// An `on_change` hook that appends `BB_PANIC BB_NODES_DOWN` to `file`.
fn panic_hook(file: &std::path::Path) -> String {
    format!(
        "on_change = [\"/bin/sh\", \"-c\", \"echo \\\"$BB_PANIC $BB_NODES_DOWN\\\" >> \\\"$0\\\"\", \"{}\"]",
        file.display()
    )
}

fn panic_of(lb: &Lb) -> serde_json::Value {
    lb.status_file()["panic"].clone()
}

/// Issue 15 item 4: every node answers 503 at once. With `panic_threshold` the weights stay
/// (loudly: status, status.json, the hook), a node that stops answering TCP still goes to 0,
/// and panic ends only with hysteresis: at the threshold it holds; above threshold + margin for
/// two check intervals it ends.
#[test]
fn every_node_503_keeps_the_pool_in_panic_and_panic_ends_with_hysteresis() {
    let mut lb = Lb::new("panic1", &[80.0, 60.0, 100.0, 40.0, 70.0]);
    let hook = lb.dir.path().join("hook.log");
    *lb.extra.borrow_mut() = format!("panic_threshold = 50\n{}", panic_hook(&hook));
    lb.write_spec("1ms");
    lb.agent("start").expect_code(0);
    lb.wait_weights("weights = health", |w| w == [80, 60, 100, 40, 70]);
    assert_eq!(panic_of(&lb)["active"], false);
    // The hook coalesces runs queued while it is busy: wait for its run at start before the
    // nodes fail, or under load it may run only for the panic.
    wait_for("the hook's run at start", Duration::from_secs(10), || {
        std::fs::read_to_string(&hook)
            .unwrap_or_default()
            .lines()
            .next()
            == Some("0 0")
    });

    for s in &lb.servers {
        s.set_raw(Some(BARE_503.to_vec()));
    }
    wait_for("panic", Duration::from_secs(10), || {
        panic_of(&lb)["active"] == true
    });
    // Three check intervals later nothing moved: the pool is kept at its last good weights.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(lb.weights(), [80, 60, 100, 40, 70]);
    let p = panic_of(&lb);
    assert_eq!(
        (p["healthy"].as_u64(), p["counted"].as_u64()),
        (Some(0), Some(5))
    );
    assert_eq!(p["held"].as_array().map(Vec::len), Some(5), "{p}");
    let st = lb.status_file();
    assert_eq!(st["nodes"][0]["state"], "down", "health says down: {st}");
    let r = lb.bb(&["status", "panic1"]);
    let out = r.expect_code(0).stdout();
    assert!(
        out.contains("PANIC") && out.contains("0 of 5 nodes healthy, below panic_threshold 50 %"),
        "{out}"
    );
    // /metrics of `big_brother api` says it too.
    let api = crate::process::api::Api::start(&lb.rsctmp(), lb.dir.path());
    let m = api.get("/metrics").body;
    for line in [
        "big_brother_cluster_panic{cluster=\"panic1\"} 1".to_string(),
        "big_brother_cluster_panics_total{cluster=\"panic1\"} 1".to_string(),
        format!(
            "big_brother_node_panic_held{{cluster=\"panic1\",node=\"{}\"}} 1",
            lb.id(0)
        ),
    ] {
        assert!(m.lines().any(|l| l == line), "missing {line} in\n{m}");
    }
    drop(api);
    assert!(
        out.contains("kept at its last good weight (answers TCP)"),
        "{out}"
    );
    // Checks are staggered: panic begins at the first share below 50 %, whichever that is.
    assert!(
        lb.log().contains("% healthy, below panic_threshold 50 %)")
            || lb.log().contains("%, below panic_threshold 50 %)"),
        "{}",
        lb.log()
    );

    // A node that no longer answers TCP is not kept.
    let gone = lb.servers.pop().expect("five servers");
    drop(gone);
    wait_for("the silent node at 0", Duration::from_secs(10), || {
        lb.status_file()["nodes"][4]["weight"] == 0
    });
    assert_eq!(lb.weights(), [80, 60, 100, 40]);

    // Two of five healthy (40 %): still below 50 %, panic stays.
    lb.servers[0].set_raw(None);
    lb.servers[1].set_raw(None);
    wait_for("two healthy", Duration::from_secs(10), || {
        panic_of(&lb)["healthy"] == 2
    });
    // Three of five (60 %) reaches the exit level (50 + 10): panic ends after two intervals.
    lb.servers[2].set_raw(None);
    wait_for("panic to end", Duration::from_secs(10), || {
        panic_of(&lb)["active"] == false
    });
    lb.wait_weights("weights follow health again", |w| w == [80, 60, 100, 0]);
    assert_eq!(panic_of(&lb)["entered"], 1);
    // The hook runs on its own thread: its last run (panic over, 2 down) may still be going.
    let read = || std::fs::read_to_string(&hook).unwrap_or_default();
    wait_for(
        "the hook told of the end of panic",
        Duration::from_secs(10),
        || read().lines().last() == Some("0 2"),
    );
    let text = read();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first(), Some(&"0 0"), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("1 ")), "{lines:?}");
    lb.agent("stop").expect_code(0);
}

/// Hysteresis at the boundary: with 4 nodes and threshold 50, two healthy nodes (50 %) are
/// not enough to leave panic (the exit level is 60 %), however long it lasts.
#[test]
fn panic_holds_at_the_threshold() {
    let lb = Lb::new("panic2", &[80.0, 60.0, 100.0, 40.0]);
    *lb.extra.borrow_mut() = "panic_threshold = 50".into();
    lb.write_spec("1ms");
    lb.agent("start").expect_code(0);
    lb.wait_weights("weights = health", |w| w == [80, 60, 100, 40]);
    // A long ramp from now on: nodes that recover during panic must not drop to its start.
    lb.write_spec("120s");
    lb.agent("reload-agent").expect_code(0);
    for s in &lb.servers {
        s.set_raw(Some(BARE_503.to_vec()));
    }
    wait_for("panic", Duration::from_secs(10), || {
        panic_of(&lb)["active"] == true
    });
    lb.servers[0].set_raw(None);
    lb.servers[1].set_raw(None);
    wait_for("two healthy", Duration::from_secs(10), || {
        panic_of(&lb)["healthy"] == 2
    });
    // Four check intervals at exactly the threshold: still in panic, the others still held,
    // and the two that recovered serve on at their weights (no ramp from 0: they were serving).
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(panic_of(&lb)["active"], true);
    assert_eq!(lb.weights(), [80, 60, 100, 40]);
    lb.servers[2].set_raw(None);
    wait_for("panic to end at 75 %", Duration::from_secs(10), || {
        panic_of(&lb)["active"] == false
    });
    lb.wait_weights("the unhealthy node at 0", |w| w == [80, 60, 100, 0]);
    lb.agent("stop").expect_code(0);
}

/// Without a threshold (the default), the same bad deploy empties the pool: the behaviour
/// panic exists to prevent, and proof that the test above can fail.
#[test]
fn without_a_threshold_every_node_503_empties_the_pool() {
    let lb = Lb::new("panic3", &[80.0, 60.0, 100.0]);
    lb.write_spec("1ms");
    lb.agent("start").expect_code(0);
    lb.wait_weights("weights = health", |w| w == [80, 60, 100]);
    for s in &lb.servers {
        s.set_raw(Some(BARE_503.to_vec()));
    }
    lb.wait_weights("every node at 0", |w| w == [0, 0, 0]);
    assert!(lb.status_file().get("panic").is_none_or(|p| p.is_null()));
    lb.agent("stop").expect_code(0);
}

/// The dry-run table's destinations: id → weight.
fn table(lb: &Lb) -> std::collections::BTreeMap<String, u64> {
    let text = std::fs::read_to_string(lb.state_dir().join("dryrun-ipvs.json")).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    v["services"][0]["dests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|d| {
            (
                d["address"].as_str().unwrap_or("").to_string(),
                d["weight"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect()
}

/// Pretends `active` connections on each id in the dry-run table (`state::dryrun`).
fn pretend_conns(lb: &Lb, conns: &[(&str, u32)]) {
    let map: serde_json::Map<String, serde_json::Value> = conns
        .iter()
        .map(|(id, n)| {
            (
                id.to_string(),
                serde_json::json!({"active_conns": n, "inactive_conns": 1}),
            )
        })
        .collect();
    let tmp = lb.state_dir().join("dryrun-conns.json.tmp");
    std::fs::write(&tmp, serde_json::Value::Object(map).to_string()).unwrap();
    std::fs::rename(&tmp, lb.state_dir().join("dryrun-conns.json")).unwrap();
}

fn removing_ids(lb: &Lb) -> Vec<String> {
    lb.status_file()["removing"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| r["id"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Issue 15 item 3: a node a reload takes out goes to weight 0 and keeps its destination while
/// it has active connections; a node added in the same reload serves at once; putting the node
/// back cancels the removal; once its connections end, its destination is deleted.
#[test]
fn a_removed_node_waits_for_its_connections_and_a_re_add_cancels_the_removal() {
    use big_brother::health::serve::LitmusServer;
    let mut lb = Lb::new("removal1", &[80.0, 60.0, 100.0]);
    *lb.extra.borrow_mut() = "removal_timeout = \"60s\"".into();
    lb.write_spec("1ms");
    lb.agent("start").expect_code(0);
    lb.wait_weights("weights = health", |w| w == [80, 60, 100]);
    let gone = lb.id(0);
    pretend_conns(&lb, &[(&gone, 2)]);
    wait_for(
        "the kernel's count in status",
        Duration::from_secs(10),
        || lb.status_file()["nodes"][0]["active_conns"] == 2,
    );

    // Reload: node 0 out, a new node in.
    let removed = lb.servers.remove(0);
    lb.servers
        .push(LitmusServer::start("127.0.2.9:0".parse().unwrap(), "removal1", 50.0).unwrap());
    lb.write_spec("1ms");
    lb.agent("reload-agent").expect_code(0);
    lb.wait_weights("the new node serves", |w| w == [60, 100, 50]);
    assert_eq!(table(&lb).get(&gone), Some(&0), "kept at weight 0");
    assert_eq!(removing_ids(&lb), std::slice::from_ref(&gone));
    assert_eq!(lb.status_file()["removing"][0]["active_conns"], 2);
    let out = lb.bb(&["status", "removal1"]).expect_code(0).stdout();
    assert!(
        out.lines().any(|l| l.contains(&gone)
            && l.contains("removing")
            && l.contains("deleted when its active connections end")),
        "{out}"
    );
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        table(&lb).get(&gone),
        Some(&0),
        "still there with connections"
    );
    // The deep monitor compares the table with status.json: the kept destination is in both.
    lb.agent_env("monitor", &[("OCF_CHECK_LEVEL", "10")])
        .expect_code(0);

    // Back in the spec during its grace: the removal is cancelled and it serves again.
    lb.servers.insert(0, removed);
    lb.write_spec("1ms");
    lb.agent("reload-agent").expect_code(0);
    lb.wait_weights("the re-added node serves", |w| w == [80, 60, 100, 50]);
    assert!(removing_ids(&lb).is_empty());
    assert!(lb
        .log()
        .contains("is back in the spec: its removal is cancelled"));

    // Out again; its connections end: the destination is deleted.
    let removed = lb.servers.remove(0);
    lb.write_spec("1ms");
    lb.agent("reload-agent").expect_code(0);
    wait_for("the removal", Duration::from_secs(10), || {
        removing_ids(&lb) == [gone.clone()]
    });
    pretend_conns(&lb, &[(&gone, 0)]);
    wait_for("the destination deleted", Duration::from_secs(10), || {
        !table(&lb).contains_key(&gone) && removing_ids(&lb).is_empty()
    });
    assert!(
        lb.log().contains("removed: no active connections left"),
        "{}",
        lb.log()
    );
    drop(removed);
    lb.agent("stop").expect_code(0);
}

/// `removal_timeout` bounds the wait: connections that never end do not keep a destination.
#[test]
fn a_removal_ends_at_removal_timeout() {
    let mut lb = Lb::new("removal2", &[80.0, 60.0]);
    *lb.extra.borrow_mut() = "removal_timeout = \"1s\"".into();
    lb.write_spec("1ms");
    lb.agent("start").expect_code(0);
    lb.wait_weights("weights = health", |w| w == [80, 60]);
    let gone = lb.id(1);
    pretend_conns(&lb, &[(&gone, 9)]);
    wait_for("the count", Duration::from_secs(10), || {
        lb.status_file()["nodes"][1]["active_conns"] == 9
    });
    let _removed = lb.servers.pop();
    lb.write_spec("1ms");
    lb.agent("reload-agent").expect_code(0);
    assert_eq!(table(&lb).get(&gone), Some(&0));
    wait_for("the timeout", Duration::from_secs(10), || {
        !table(&lb).contains_key(&gone)
    });
    assert!(
        lb.log().contains("removed after removal_timeout (")
            && lb.log().contains(" s) with 9 active connections left"),
        "{}",
        lb.log()
    );
    lb.agent("stop").expect_code(0);
}

/// Issue 15 item 2: `drain --wait` returns 0 once the node is at weight 0 with no active
/// connection on this director, 1 on timeout with the count left, 7 where the cluster does not
/// run; `undrain --wait` is a usage error.
#[test]
fn drain_wait_returns_when_the_connections_end_and_times_out_with_the_count_left() {
    let lb = Lb::new("dwait1", &[80.0, 60.0]);
    lb.write_spec("1ms");
    lb.agent("start").expect_code(0);
    lb.wait_weights("weights = health", |w| w == [80, 60]);
    let node = lb.id(0);
    pretend_conns(&lb, &[(&node, 2)]);
    let config = lb.config.display().to_string();
    let out = lb.dir.path().join("wait.out");
    let mut child = lb
        .command(&[
            "drain", "dwait1", &node, "--config", &config, "--wait", "30s",
        ])
        .stdout(std::fs::File::create(&out).unwrap())
        .spawn()
        .unwrap();
    // The drain takes effect, the connections hold the wait.
    lb.wait_weights("the drain", |w| w == [0, 60]);
    std::thread::sleep(Duration::from_secs(1));
    assert!(child.try_wait().unwrap().is_none(), "still waiting");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains(&format!(
            "dwait1: {node}: weight 0, 2 active connections; waiting (at most 30s)"
        )),
        "{text}"
    );
    pretend_conns(&lb, &[(&node, 0)]);
    let end = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < end,
            "drain --wait did not return"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains(&format!(
            "dwait1: {node}: weight 0 and no active connections on this director after"
        )),
        "{text}"
    );

    // Timeout: the count left is said, exit 1.
    let other = lb.id(1);
    pretend_conns(&lb, &[(&other, 3)]);
    wait_for("the count", Duration::from_secs(10), || {
        lb.status_file()["nodes"][1]["active_conns"] == 3
    });
    let r = lb.bb(&[
        "drain", "dwait1", &other, "--config", &config, "--wait", "1500ms",
    ]);
    r.expect_code(1);
    assert!(
        r.stderr().contains(&format!(
            "dwait1: {other}: timed out after 1500ms: 3 active connections left (weight 0)"
        )),
        "{}",
        r.stderr()
    );

    // undrain has nothing to wait for.
    let r = lb.bb(&[
        "undrain", "dwait1", &other, "--config", &config, "--wait", "1s",
    ]);
    r.expect_code(2);
    assert!(r.stderr().contains("--wait is for drain"), "{}", r.stderr());
    lb.agent("stop").expect_code(0);

    // Nothing runs here any more: 7, and the drain is still recorded.
    let r = lb.bb(&[
        "drain", "dwait1", &other, "--config", &config, "--wait", "1s",
    ]);
    r.expect_code(7);
    assert!(
        r.stderr().contains("nothing to wait for on this director"),
        "{}",
        r.stderr()
    );
}
