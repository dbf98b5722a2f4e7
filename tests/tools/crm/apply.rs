//! `crm check` and `crm apply` on a file-backed CIB: create, no-op, add and drop VIPs,
//! operator meta attributes, constraints on dropped VIPs, and check's exit codes.

use super::{path_str, spec_text, webapp, FileCib};
use crate::util::bb_env;

#[test]
fn apply_creates_then_changes_nothing() {
    let cib = FileCib::new();
    let spec = &webapp();
    let r = cib.bb(&["crm", "check", spec]);
    r.expect_code(1);
    assert!(
        r.stdout().contains("webapp_group: missing from the CIB"),
        "{}",
        r.stdout()
    );

    let r = cib.bb(&["crm", "apply", spec]);
    r.expect_code(0);
    assert!(
        r.stdout()
            .contains("webapp_group: created (ipvs_webapp, ip_204.109.13.7)"),
        "{}",
        r.stdout()
    );
    cib.bb(&["crm", "check", spec]).expect_code(0);
    cib.verify();

    // Again: in sync, and not a single byte of the CIB is rewritten (no epoch bump).
    let before = cib.snapshot("before.xml");
    let bytes = cib.bytes();
    let r = cib.bb(&["crm", "apply", spec]);
    r.expect_code(0);
    assert_eq!(r.stdout(), "webapp_group: in sync, nothing written\n");
    assert_eq!(
        cib.bytes(),
        bytes,
        "apply of an in-sync group wrote the CIB"
    );
    cib.tool(
        "crm_diff",
        &[
            "--original",
            path_str(&before),
            "--new",
            path_str(&cib.path),
        ],
    )
    .expect_code(0);
}

#[test]
fn adding_and_dropping_vips() {
    let cib = FileCib::new();
    let one = cib.spec("w.toml", &spec_text("w", 7, &["192.0.2.7/32@eth0"]));
    cib.bb(&["crm", "apply", &one]).expect_code(0);

    // Add a VIP: check says differs (1) and shows it; apply; check says 0.
    let two = cib.spec(
        "w2.toml",
        &spec_text("w", 7, &["192.0.2.7/32@eth0", "192.0.2.8/24"]),
    );
    let r = cib.bb(&["crm", "check", &two]);
    r.expect_code(1);
    assert!(
        r.stdout()
            .contains("+  <primitive class=\"ocf\" id=\"ip_192.0.2.8\" provider=\"heartbeat\" type=\"IPaddr2\">"),
        "{}",
        r.stdout()
    );
    let r = cib.bb(&["crm", "apply", &two]);
    r.expect_code(0);
    assert!(
        r.stdout()
            .contains("w_group: replaced with cibadmin --replace"),
        "{}",
        r.stdout()
    );
    cib.bb(&["crm", "check", &two]).expect_code(0);
    assert!(cib.has_id("ip_192.0.2.8"));
    cib.verify();

    // Drop the first VIP: it disappears from the whole CIB.
    let last = cib.spec("w3.toml", &spec_text("w", 7, &["192.0.2.8/24"]));
    cib.bb(&["crm", "check", &last]).expect_code(1);
    let r = cib.bb(&["crm", "apply", &last]);
    r.expect_code(0);
    assert!(
        r.stdout().contains("removed primitives: ip_192.0.2.7"),
        "{}",
        r.stdout()
    );
    cib.bb(&["crm", "check", &last]).expect_code(0);
    for id in ["ip_192.0.2.7", "ip_192.0.2.7_ia", "ip_192.0.2.7_op_monitor"] {
        assert!(!cib.has_id(id), "{id} lingers");
    }
    assert!(!String::from_utf8_lossy(&cib.bytes()).contains("192.0.2.7"));
    cib.verify();
}

/// A location constraint on a VIP the spec drops (what `crm resource move` leaves behind)
/// would dangle — the schema refuses that — so apply deletes it in the same patch.
#[test]
fn constraints_on_a_dropped_vip_go_with_it() {
    let cib = FileCib::new();
    let both = cib.spec(
        "v.toml",
        &spec_text("v", 9, &["2001:db8::7", "2001:db8::8@eth1"]),
    );
    cib.bb(&["crm", "apply", &both]).expect_code(0);
    cib.tool(
        "cibadmin",
        &[
            "--create",
            "--scope",
            "constraints",
            "--xml-text",
            "<rsc_location id=\"cli-prefer-ip_2001_db8__8\" rsc=\"ip_2001_db8__8\" node=\"n1\" score=\"INFINITY\"/>",
        ],
    )
    .expect_code(0);
    cib.tool(
        "cibadmin",
        &[
            "--create",
            "--scope",
            "constraints",
            "--xml-text",
            "<rsc_location id=\"keep-me\" rsc=\"v_group\" node=\"n1\" score=\"100\"/>",
        ],
    )
    .expect_code(0);
    let one = cib.spec("v1.toml", &spec_text("v", 9, &["2001:db8::7"]));
    let r = cib.bb(&["crm", "apply", &one]);
    r.expect_code(0);
    let out = r.stdout();
    assert!(
        out.contains("with crm_diff --no-version | cibadmin --patch"),
        "{out}"
    );
    assert!(out.contains("removed primitives: ip_2001_db8__8"), "{out}");
    assert!(
        out.contains("removed constraints naming them: cli-prefer-ip_2001_db8__8"),
        "{out}"
    );
    assert!(!cib.has_id("ip_2001_db8__8"));
    assert!(!cib.has_id("cli-prefer-ip_2001_db8__8"));
    assert!(
        cib.has_id("keep-me"),
        "a constraint on the group itself stays"
    );
    cib.bb(&["crm", "check", &one]).expect_code(0);
    cib.verify();
}

/// `crm resource stop` / `unmanage` by an operator: check ignores it, apply keeps it.
#[test]
fn operator_meta_attributes_survive_apply() {
    let cib = FileCib::new();
    let spec = &webapp();
    cib.bb(&["crm", "apply", spec]).expect_code(0);
    cib.tool(
        "crm_resource",
        &[
            "--resource",
            "webapp_group",
            "--meta",
            "--set-parameter",
            "target-role",
            "--parameter-value",
            "Stopped",
        ],
    )
    .expect_code(0);
    cib.tool(
        "crm_resource",
        &[
            "--resource",
            "ip_204.109.13.7",
            "--meta",
            "--set-parameter",
            "is-managed",
            "--parameter-value",
            "false",
        ],
    )
    .expect_code(0);
    cib.bb(&["crm", "check", spec]).expect_code(0);

    // A real change (different nic) must be applied without undoing the operator's settings.
    let text = std::fs::read_to_string(webapp())
        .unwrap()
        .replace("eth70", "eth10");
    let changed = cib.spec("webapp.toml", &text);
    cib.bb(&["crm", "check", &changed]).expect_code(1);
    let r = cib.bb(&["crm", "apply", &changed]);
    r.expect_code(0);
    let out = r.stdout();
    assert!(
        out.contains(
            "kept operator meta attributes: webapp_group target-role=Stopped, ip_204.109.13.7 is-managed=false"
        ),
        "{out}"
    );
    let conf = cib.configuration();
    assert!(
        conf.contains("name=\"target-role\" value=\"Stopped\""),
        "{conf}"
    );
    assert!(
        conf.contains("name=\"is-managed\" value=\"false\""),
        "{conf}"
    );
    assert!(conf.contains("value=\"eth10\""), "{conf}");
    cib.bb(&["crm", "check", &changed]).expect_code(0);
    cib.verify();

    // Any other meta attribute is not the operator's: check reports it, apply removes it.
    cib.tool(
        "crm_resource",
        &[
            "--resource",
            "webapp_group",
            "--meta",
            "--set-parameter",
            "resource-stickiness",
            "--parameter-value",
            "100",
        ],
    )
    .expect_code(0);
    let r = cib.bb(&["crm", "check", &changed]);
    r.expect_code(1);
    assert!(r.stdout().contains("resource-stickiness"), "{}", r.stdout());
    cib.bb(&["crm", "apply", &changed]).expect_code(0);
    let conf = cib.configuration();
    assert!(!conf.contains("resource-stickiness"), "{conf}");
    assert!(
        conf.contains("name=\"target-role\" value=\"Stopped\""),
        "{conf}"
    );
}

#[test]
fn check_exit_codes() {
    let cib = FileCib::new();
    let spec = &webapp();
    // 1: missing; 0: in sync.
    cib.bb(&["crm", "check", spec]).expect_code(1);
    cib.bb(&["crm", "apply", spec]).expect_code(0);
    cib.bb(&["crm", "check", spec]).expect_code(0);
    // 1 when one of several differs; the in-sync one is still reported.
    let other = cib.spec("o.toml", &spec_text("o", 8, &["198.51.100.9"]));
    let r = cib.bb(&["crm", "check", spec, &other]);
    r.expect_code(1);
    assert!(
        r.stdout().contains("webapp_group: in sync"),
        "{}",
        r.stdout()
    );
    assert!(r.stdout().contains("o_group: missing"), "{}", r.stdout());
    // 6: invalid spec (nothing is read from the CIB).
    let bad = cib.spec("bad.toml", "name = \"bad\"\n");
    let r = cib.bb(&["crm", "check", &bad]);
    r.expect_code(6);
    assert!(r.stderr().contains("bad.toml"), "{}", r.stderr());
    cib.bb(&["crm", "apply", &bad]).expect_code(6);
    // 2: cibadmin cannot read the CIB (missing file, garbage file).
    let missing = cib.dir.path().join("nope.xml");
    let r = bb_env(&["crm", "check", spec], &[("CIB_file", &missing)]);
    r.expect_code(2);
    assert!(r.stderr().contains("cibadmin --query"), "{}", r.stderr());
    let garbage = crate::util::write(cib.dir.path(), "garbage.xml", "this is not a CIB");
    bb_env(&["crm", "check", spec], &[("CIB_file", &garbage)]).expect_code(2);
    bb_env(&["crm", "apply", spec], &[("CIB_file", &garbage)]).expect_code(2);
    // 6: an id the group needs is taken by a resource outside it.
    let clash = FileCib::new();
    clash
        .tool(
            "cibadmin",
            &[
                "--create",
                "--scope",
                "resources",
                "--xml-text",
                "<primitive class=\"ocf\" id=\"ip_204.109.13.7\" provider=\"heartbeat\" type=\"IPaddr2\"/>",
            ],
        )
        .expect_code(0);
    let r = clash.bb(&["crm", "apply", spec]);
    r.expect_code(6);
    assert!(r.stderr().contains("ip_204.109.13.7"), "{}", r.stderr());
}

/// A spec without VIPs (what `big_brother import` writes: the original kept VIPs in Pacemaker)
/// must not strip a running group of its addresses.
#[test]
fn a_spec_without_vips_never_strips_a_group_of_all_its_vips() {
    let cib = FileCib::new();
    let with = cib.spec(
        "n.toml",
        &spec_text("n", 7, &["192.0.2.7/32@eth0", "192.0.2.8"]),
    );
    cib.bb(&["crm", "apply", &with]).expect_code(0);
    let bytes = cib.bytes();
    let without = cib.spec("n.toml", &spec_text("n", 7, &[]));
    let r = cib.bb(&["crm", "apply", &without]);
    r.expect_code(6);
    assert!(
        r.stderr().contains("has no [[vip]]") && r.stderr().contains("ip_192.0.2.7, ip_192.0.2.8"),
        "{}",
        r.stderr()
    );
    assert_eq!(cib.bytes(), bytes, "a refused apply writes nothing");
    // Dropping some VIPs is still an ordinary change.
    let one = cib.spec("n.toml", &spec_text("n", 7, &["192.0.2.7/32@eth0"]));
    cib.bb(&["crm", "apply", &one]).expect_code(0);
    cib.bb(&["crm", "check", &one]).expect_code(0);
}
