//! `crm remove`: stop, wait, delete with constraints and tag members; idempotent; bounded wait.
//! A "running" group on a file CIB comes from `crm_simulate`, which runs Pacemaker's scheduler
//! and records the simulated results in the status section, so `crm_mon` reports the members
//! active until the next simulated transition stops them.

use super::{path_str, webapp, FileCib};

fn add_references(cib: &FileCib) {
    for c in [
        "<rsc_location id=\"loc-group\" rsc=\"webapp_group\" node=\"n1\" score=\"100\"/>",
        "<rsc_colocation id=\"col-vip\" rsc=\"ip_204.109.13.7\" with-rsc=\"ipvs_webapp\" score=\"INFINITY\"/>",
    ] {
        cib.tool(
            "cibadmin",
            &["--create", "--scope", "constraints", "--xml-text", c],
        )
        .expect_code(0);
    }
    cib.tool(
        "cibadmin",
        &[
            "--create",
            "--scope",
            "configuration",
            "--xml-text",
            "<tags><tag id=\"lb\"><obj_ref id=\"webapp_group\"/></tag></tags>",
        ],
    )
    .expect_code(0);
}

fn assert_gone(cib: &FileCib) {
    for id in [
        "webapp_group",
        "ipvs_webapp",
        "ip_204.109.13.7",
        "loc-group",
        "col-vip",
        "lb",
    ] {
        assert!(!cib.has_id(id), "{id} is still in the CIB");
    }
}

#[test]
fn remove_deletes_group_constraints_and_tags_and_is_idempotent() {
    let cib = FileCib::new();
    cib.bb(&["crm", "apply", &webapp()]).expect_code(0);
    add_references(&cib);
    cib.verify();

    let r = cib.bb(&["crm", "remove", "webapp"]);
    r.expect_code(0);
    let out = r.stdout();
    assert!(out.contains("webapp_group: stopped (after "), "{out}");
    assert!(
        out.contains("removed constraints: loc-group, col-vip"),
        "{out}"
    );
    assert!(out.contains("removed webapp_group from tag lb"), "{out}");
    assert_gone(&cib);
    cib.verify();

    let bytes = cib.bytes();
    let r = cib.bb(&["crm", "remove", "webapp"]);
    r.expect_code(0);
    assert_eq!(
        r.stdout(),
        "webapp_group: not in the CIB, nothing to remove\n"
    );
    assert_eq!(cib.bytes(), bytes, "removing an absent group wrote the CIB");
}

#[test]
fn remove_rejects_a_bad_name() {
    let cib = FileCib::new();
    let r = cib.bb(&["crm", "remove", "no such"]);
    r.expect_code(2);
    assert!(r.stderr().contains("not a cluster name"), "{}", r.stderr());
}

/// Brings node n1 up and lets the simulated cluster start everything.
fn simulate_running(cib: &FileCib) {
    cib.tool(
        "crm_attribute",
        &[
            "--type",
            "crm_config",
            "--name",
            "no-quorum-policy",
            "--update",
            "ignore",
        ],
    )
    .expect_code(0);
    let up = cib.dir.path().join("up.xml");
    cib.tool(
        "crm_simulate",
        &[
            "--xml-file",
            path_str(&cib.path),
            "--node-up",
            "n1",
            "--save-output",
            path_str(&up),
        ],
    )
    .expect_code(0);
    std::fs::copy(&up, &cib.path).unwrap();
    transition(cib);
    let mon = cib.tool("crm_mon", &["--one-shot", "--output-as=xml"]);
    assert!(
        mon.expect_code(0).stdout().contains(
            "id=\"ip_204.109.13.7\" resource_agent=\"ocf:heartbeat:IPaddr2\" role=\"Started\""
        ),
        "simulation did not start the group:\n{}",
        mon.stdout()
    );
}

/// Runs one simulated transition and stores its results in the CIB file.
fn transition(cib: &FileCib) {
    cib.tool(
        "crm_simulate",
        &[
            "--in-place",
            "--xml-file",
            path_str(&cib.path),
            "--simulate",
        ],
    )
    .expect_code(0);
}

#[test]
fn remove_waits_for_the_group_to_stop_and_gives_up_in_time() {
    let cib = FileCib::new();
    cib.bb(&["crm", "apply", &webapp()]).expect_code(0);
    simulate_running(&cib);

    // Nothing executes the stop on a file CIB: remove must give up after --timeout, leaving
    // the group present and stopped.
    let r = cib.bb(&["crm", "remove", "--timeout", "1s", "webapp"]);
    r.expect_code(1);
    assert!(
        r.stderr()
            .contains("still running after 1s (ipvs_webapp, ip_204.109.13.7); left in the CIB with target-role=Stopped"),
        "{}",
        r.stderr()
    );
    assert!(cib.has_id("webapp_group"));
    assert!(cib
        .configuration()
        .contains("name=\"target-role\" value=\"Stopped\""));

    // Pacemaker stops it (simulated transition); now remove succeeds at once.
    transition(&cib);
    let r = cib.bb(&["crm", "remove", "--timeout", "5s", "webapp"]);
    r.expect_code(0);
    assert!(
        r.stdout().contains("webapp_group: stopped"),
        "{}",
        r.stdout()
    );
    assert!(!cib.has_id("webapp_group"));
    cib.verify();
}

#[test]
fn remove_force_deletes_a_running_group_at_once() {
    let cib = FileCib::new();
    cib.bb(&["crm", "apply", &webapp()]).expect_code(0);
    simulate_running(&cib);
    let r = cib.bb(&["crm", "remove", "--force", "webapp"]);
    r.expect_code(0);
    assert!(
        r.stdout()
            .contains("removed without stopping first (--force)"),
        "{}",
        r.stdout()
    );
    assert!(!cib.has_id("webapp_group"));
    assert!(!cib.configuration().contains("ipvs_webapp"));
}
