//! Overrides in the Pacemaker CIB (issue 15) against the real `cibadmin` and `crm_verify`, on a
//! file CIB (`CIB_file`) shared by two supervisors in dry run — two directors of one cluster,
//! as `cib_drain` does for drains (its helpers are shared). What must hold: both apply an
//! override made with either's command within a check interval, with who/when/why recorded and
//! shown; precedence drain > node override > cluster override > health, and `up` wins between
//! a director's override file and the CIB; an override that cannot be read keeps the last
//! state (said in status; `/metrics` is unit-tested in `api::metrics`); a refused write and
//! bad input leave nothing half-written; existing entries keep their ids.

use std::time::{Duration, Instant};

use super::cib_drain::{bb, cib_set, start};
use crate::ocf_support::wait_for;
use crate::process::health_supervisor::Lb;
use crate::tools::crm::FileCib;

/// `big_brother override …` for `lb`'s cluster, with its spec, on the shared CIB.
fn ovr(lb: &Lb, cib: &FileCib, args: &[&str]) -> crate::util::Run {
    let config = lb.config.display().to_string();
    let mut all = vec!["override", lb.name.as_str()];
    all.extend_from_slice(args);
    all.extend(["--config", config.as_str()]);
    bb(lb, &cib.path, &all)
}

/// Issue 15: two directors, one CIB. A cluster-wide `down` and a node's weight made on one are
/// applied by both within a check interval; a node override wins over the cluster's, a drain
/// over both; clearing on the other lifts them on both. Who/when/why are in the CIB, in
/// status.json and in `status`.
#[test]
fn two_directors_sharing_one_cib_apply_the_same_override() {
    let cib = FileCib::new();
    let a = Lb::new("cibo", &[100.0, 100.0, 100.0]);
    let b = Lb::new("cibo", &[100.0, 100.0, 100.0]);
    start(&a, &cib.path);
    start(&b, &cib.path);
    a.wait_weights("a: full weights", |w| w == [100, 100, 100]);
    b.wait_weights("b: full weights", |w| w == [100, 100, 100]);

    let t0 = Instant::now();
    let r = ovr(&a, &cib, &["down", "--reason", "rack 4 power → off"]);
    r.expect_code(0);
    assert!(
        r.stdout()
            .contains("override down on every director (CIB big_brother-cibo, by "),
        "{}",
        r.stdout()
    );
    a.wait_weights("a: down", |w| w == [0, 0, 0]);
    b.wait_weights("b: down", |w| w == [0, 0, 0]);
    let took = t0.elapsed();
    println!("cib override seen by both directors after {took:.2?} (check_interval 500ms, CIB read every 1 s)");
    assert!(took < Duration::from_secs(6), "took {took:?}");

    // A node's own override wins over the cluster's.
    let node = a.id(1);
    ovr(
        &b,
        &cib,
        &[&node, "40", "--reason", "new kernel, half load"],
    )
    .expect_code(0);
    a.wait_weights("a: node at 40 under down", |w| w == [0, 40, 0]);
    b.wait_weights("b: node at 40 under down", |w| w == [0, 40, 0]);

    let set = cib_set(&cib);
    assert!(
        set.contains("name=\"override\" value=\"down at=")
            && set.contains("reason=rack 4 power → off")
            && set.contains(&format!("name=\"override-{node}\" value=\"40 at=")),
        "{set}"
    );
    cib.verify();
    let st = b.status_file();
    let o = &st["override"];
    assert_eq!(o["state"], "down", "{st}");
    assert_eq!(o["source"], "cib");
    assert_eq!(o["reason"], "rack 4 power → off");
    assert!(o["by"].as_str().unwrap().contains('@'), "{o}");
    assert!(o["at"].as_str().unwrap().ends_with('Z'), "{o}");
    assert_eq!(st["nodes"][1]["weight_override"], 40);
    assert!(st["nodes"][0]["weight_override"].is_null());
    assert_eq!(st["cib"]["overrides"]["nodes"][&node]["weight"], 40);
    let text = b.bb(&["status", "cibo"]).stdout();
    assert!(
        text.contains("override: down — every node at weight 0 (cluster-wide in the CIB, by ")
            && text.contains(": rack 4 power → off)")
            && text.contains("override: weight 40 cluster-wide by ")
            && text.contains(": new kernel, half load"),
        "{text}"
    );

    // A drain wins over the node's override.
    bb(
        &a,
        &cib.path,
        &[
            "drain",
            "cibo",
            &node,
            "--config",
            &a.config.display().to_string(),
        ],
    )
    .expect_code(0);
    a.wait_weights("a: drained beats 40", |w| w == [0, 0, 0]);
    assert_eq!(a.status_file()["nodes"][1]["drained"], true);
    bb(
        &a,
        &cib.path,
        &[
            "undrain",
            "cibo",
            &node,
            "--config",
            &a.config.display().to_string(),
        ],
    )
    .expect_code(0);
    a.wait_weights("a: undrained, back at 40", |w| w == [0, 40, 0]);

    // Cleared from the other director: health again on both (ramping up from 0 after down).
    ovr(&b, &cib, &["clear"]).expect_code(0);
    a.wait_weights("a: the node override stays", |w| w[1] == 40 && w[0] > 0);
    ovr(&a, &cib, &[&node, "clear"]).expect_code(0);
    a.wait_weights("a: health again", |w| w == [100, 100, 100]);
    b.wait_weights("b: health again", |w| w == [100, 100, 100]);
    let set = cib_set(&cib);
    assert!(!set.contains("override"), "{set}");
    assert!(b.status_file()["override"].is_null());
    a.agent("stop").expect_code(0);
    b.agent("stop").expect_code(0);
}

/// The original's override files stay this director's, and decide with the CIB: `up` wins
/// whichever place says it; status shows both, with their sources.
#[test]
fn override_files_and_the_cib_decide_together_up_wins() {
    let cib = FileCib::new();
    let lb = Lb::new("cibf", &[0.0, 100.0]);
    let dir = lb.dir.path().join("ovr");
    *lb.extra.borrow_mut() = format!("override_dir = \"{}\"", dir.display());
    lb.write_spec("1s");
    start(&lb, &cib.path);
    lb.wait_weights("health", |w| w == [0, 100]);

    ovr(&lb, &cib, &["down", "--reason", "cib says down"]).expect_code(0);
    lb.wait_weights("down from the CIB", |w| w == [0, 0]);
    std::fs::create_dir_all(dir.join("up")).unwrap();
    std::fs::write(dir.join("up").join("cibf"), "file says up\n").unwrap();
    lb.wait_weights("the up file wins over the CIB's down", |w| w == [100, 100]);
    let st = lb.status_file();
    assert_eq!(
        (&st["override"]["state"], &st["override"]["source"]),
        (&"up".into(), &"file".into()),
        "{st}"
    );
    assert_eq!(st["override_other"]["source"], "cib");
    assert_eq!(st["override_other"]["state"], "down");
    let text = lb.bb(&["status", "cibf"]).stdout();
    assert!(
        text.contains("override: down also set (cluster-wide in the CIB, by ")
            && text.contains("; up wins"),
        "{text}"
    );
    // The command says the file is there too.
    let r = ovr(&lb, &cib, &["down", "--reason", "again"]);
    r.expect_code(0);
    assert!(
        r.stdout().contains("this director's override file ") && r.stdout().contains("says up too"),
        "{}",
        r.stdout()
    );
    std::fs::remove_file(dir.join("up").join("cibf")).unwrap();
    lb.wait_weights("the CIB's down again", |w| w == [0, 0]);
    ovr(&lb, &cib, &["up"]).expect_code(0);
    lb.wait_weights("the CIB's up: full weight whatever health says", |w| {
        w == [100, 100]
    });
    lb.agent("stop").expect_code(0);
}

/// An override edited by hand into something unreadable keeps the state read last — never a
/// weight reset — and says so in status and `/metrics`; `override … clear` removes it.
#[test]
fn a_bad_override_keeps_the_last_state_and_says_so() {
    let cib = FileCib::new();
    let lb = Lb::new("cibx", &[100.0, 100.0]);
    start(&lb, &cib.path);
    lb.wait_weights("full weights", |w| w == [100, 100]);
    let node = lb.id(0);
    ovr(&lb, &cib, &[&node, "30"]).expect_code(0);
    lb.wait_weights("node at 30", |w| w == [30, 100]);

    // A hand edit, as `crm_attribute` would make it.
    cib.tool(
        "crm_attribute",
        &[
            "--type",
            "crm_config",
            "--set-name",
            "big_brother-cibx",
            "--name",
            &format!("override-{node}"),
            "--update",
            "lots",
        ],
    )
    .expect_code(0);
    wait_for(
        "status to say the CIB has a bad override",
        Duration::from_secs(20),
        || {
            lb.status_file()["cib"]["error"]
                .as_str()
                .is_some_and(|e| e.contains("expected a weight 0–65535"))
        },
    );
    std::thread::sleep(Duration::from_millis(3000));
    assert_eq!(lb.weights(), [30, 100], "the last good state is kept");
    let text = lb.bb(&["status", "cibx"]).stdout();
    assert!(
        text.contains("CIB: cannot read it (the CIB set big_brother-cibx has override-")
            && text.contains("keeping the 0 cluster-wide drains and 1 overrides read"),
        "{text}"
    );
    // The bad value stays one nvpair: the hand edit updated ours in place (same name).
    assert_eq!(cib_set(&cib).matches("name=\"override-").count(), 1);

    ovr(&lb, &cib, &[&node, "clear"]).expect_code(0);
    lb.wait_weights("cleared: health again", |w| w == [100, 100]);
    assert!(lb.status_file()["cib"]["error"].is_null());
    lb.agent("stop").expect_code(0);
}

/// A CIB that refuses the write (an id the override needs is already taken elsewhere, so the
/// schema check fails) is a clear error, exit 1, and the CIB is unchanged.
#[test]
fn a_cib_that_refuses_the_override_leaves_nothing_half_written() {
    let cib = FileCib::new();
    let lb = Lb::new("cibw", &[100.0]);
    let node = lb.id(0);
    cib.take_id(&format!("big_brother.cibw.override-{node}"));
    let before = cib.bytes();
    let r = ovr(
        &lb,
        &cib,
        &[&node, "50", "--reason", "disk <swap> & \"fan\""],
    );
    r.expect_code(1);
    assert!(
        r.stderr()
            .starts_with("big_brother override: `cibadmin --modify --allow-create")
            && r.stderr()
                .contains("does not conform to the configured schema"),
        "{}",
        r.stderr()
    );
    assert_eq!(cib.bytes(), before, "the CIB is unchanged");
    cib.verify();
}

/// Bad input is refused before anything is written: a weight above the node's max_weight or
/// not a weight, a verb that is none, a reason with control characters, an unknown node (all
/// exit 2), an unknown cluster (6, as `drain`).
#[test]
fn bad_override_input_gets_a_clear_error_and_writes_nothing() {
    let cib = FileCib::new();
    let lb = Lb::new("cibv", &[100.0]);
    let node = lb.id(0);
    let before = cib.bytes();
    for (args, says) in [
        (
            vec![node.as_str(), "101"],
            "weight 101 is above node 127.0.2.1's max_weight 100; expected 0–100",
        ),
        (
            vec![node.as_str(), "65536"],
            "expected a weight 0–65535 or clear",
        ),
        (
            vec![node.as_str(), "-1"],
            "expected a weight 0–65535 or clear",
        ),
        (vec!["sideways"], "expected up, down or clear"),
        (
            vec!["192.0.2.250", "5"],
            "expected one of the cluster's nodes",
        ),
        (
            vec!["down", "--reason", "two\nlines"],
            "\"\\n\" (character 4)",
        ),
        (
            vec!["down", "--reason", "\u{1b}[2J"],
            "\"\\u{1b}\" (character 1)",
        ),
        (vec!["clear", "--reason", "x"], "--reason is for setting"),
    ] {
        let r = ovr(&lb, &cib, &args);
        r.expect_code(2);
        assert!(r.stderr().contains(says), "{args:?}: {}", r.stderr());
    }
    let r = bb(&lb, &cib.path, &["override", "nosuch", "down"]);
    r.expect_code(6);
    assert!(r.stderr().contains("nosuch.toml"), "{}", r.stderr());
    assert_eq!(cib.bytes(), before, "nothing written to the CIB");
}

/// An entry that exists already keeps its id: a drain recorded with the first id scheme
/// (`big_brother-<cluster>-drain-<node>`) and an override made by hand with `crm_attribute` are
/// updated in place by the commands, never doubled; new ones get `big_brother.<cluster>.…`.
#[test]
fn existing_entries_keep_their_ids() {
    let cib = FileCib::new();
    let lb = Lb::new("cibi", &[100.0, 100.0]);
    let config = lb.config.display().to_string();
    let (n0, n1) = (lb.id(0), lb.id(1));
    cib.tool(
        "cibadmin",
        &[
            "--create",
            "--scope",
            "crm_config",
            "--xml-text",
            &format!(
                "<cluster_property_set id=\"big_brother-cibi\"><nvpair \
                 id=\"big_brother-cibi-drain-{n0}\" name=\"drain-{n0}\" value=\"at=x by=y \
                 reason=old\"/></cluster_property_set>"
            ),
        ],
    )
    .expect_code(0);
    cib.tool(
        "crm_attribute",
        &[
            "--type",
            "crm_config",
            "--set-name",
            "big_brother-cibi",
            "--name",
            "override",
            "--update",
            "down",
        ],
    )
    .expect_code(0);
    bb(
        &lb,
        &cib.path,
        &["drain", "cibi", &n0, "--config", &config, "--reason", "new"],
    )
    .expect_code(0);
    ovr(&lb, &cib, &["up", "--reason", "by the command"]).expect_code(0);
    ovr(&lb, &cib, &[&n1, "5"]).expect_code(0);
    let set = cib_set(&cib);
    assert_eq!(
        set.matches(&format!("name=\"drain-{n0}\"")).count(),
        1,
        "{set}"
    );
    assert!(
        set.contains(&format!(
            "id=\"big_brother-cibi-drain-{n0}\" name=\"drain-{n0}\""
        )) && set.contains("reason=new"),
        "{set}"
    );
    assert_eq!(set.matches("name=\"override\"").count(), 1, "{set}");
    assert!(set.contains("value=\"up at="), "{set}");
    assert!(
        set.contains(&format!("id=\"big_brother.cibi.override-{n1}\"")),
        "a new entry gets the new scheme: {set}"
    );
    cib.verify();
}
