//! `standby = "warm"`: the clone of the big_brother primitive, the VIP group and their two
//! constraints, through every verb and Pacemaker's own tools — `crm_verify`, crmsh's `load xml
//! update`, and `crm_simulate` for what a running cluster does (a standby moves only the VIPs;
//! cold → warm restarts nothing; warm → cold restarts the cluster on its director).

use super::{path_str, webapp, FileCib};
use crate::util::{bb, repo};

/// The talk's spec with a `standby` line (`None`: the key left out).
fn webapp_with(standby: Option<&str>) -> String {
    let text = std::fs::read_to_string(repo().join("crm/examples/webapp.toml")).unwrap();
    match standby {
        None => text,
        Some(s) => text.replacen("fwmark = 7", &format!("fwmark = 7\nstandby = \"{s}\""), 1),
    }
}

/// Writes the spec `webapp.toml` in `sub` of the scratch dir (check and apply name it).
fn spec_in(cib: &FileCib, sub: &str, standby: Option<&str>) -> String {
    let dir = cib.dir.path().join(sub);
    std::fs::create_dir_all(&dir).unwrap();
    path_str(&crate::util::write(
        &dir,
        "webapp.toml",
        &webapp_with(standby),
    ))
    .to_string()
}

const OWNED: [&str; 6] = [
    "ipvs_webapp_clone",
    "ipvs_webapp_clone_meta",
    "webapp_group",
    "ipvs_webapp",
    "colocation_webapp_group_ipvs_webapp_clone",
    "order_ipvs_webapp_clone_webapp_group",
];

#[test]
fn cold_explicit_or_default_is_still_the_golden_file() {
    let golden = std::fs::read_to_string(repo().join("crm/examples/webapp.xml")).unwrap();
    let cib = FileCib::new();
    let cold = spec_in(&cib, "cold", Some("cold"));
    assert_eq!(
        bb(&["crm", "generate", &cold]).expect_code(0).stdout(),
        golden
    );
    assert_eq!(
        bb(&["crm", "generate", &webapp()]).expect_code(0).stdout(),
        golden
    );
}

#[test]
fn warm_generates_a_cib_crm_verify_and_crmsh_accept() {
    let cib = FileCib::new();
    let warm = spec_in(&cib, "warm", Some("warm"));
    // Constraints need the cib format.
    let r = bb(&["crm", "generate", &warm]);
    r.expect_code(2);
    assert!(r.stderr().contains("needs --format cib"), "{}", r.stderr());

    let xml = bb(&["crm", "generate", "--format", "cib", &warm])
        .expect_code(0)
        .stdout();
    assert!(xml.contains("<clone id=\"ipvs_webapp_clone\">"), "{xml}");
    assert!(xml.contains("<rsc_colocation id=\"colocation_webapp_group_ipvs_webapp_clone\" rsc=\"webapp_group\" score=\"INFINITY\" with-rsc=\"ipvs_webapp_clone\"/>"), "{xml}");
    assert!(xml.contains("<rsc_order first=\"ipvs_webapp_clone\" id=\"order_ipvs_webapp_clone_webapp_group\" kind=\"Mandatory\" then=\"webapp_group\"/>"), "{xml}");

    // crmsh loads the document in one go; crm_verify accepts it; check says in sync.
    let crm_conf = crate::util::write(
        cib.dir.path(),
        "crm.conf",
        "[core]\ncheck_frequency = never\n",
    );
    let file = crate::util::write(cib.dir.path(), "warm-cib.xml", &xml);
    let mut c = cib.cmd("crm");
    c.env("CRM_CONFIG_FILE", &crm_conf).args([
        "configure",
        "load",
        "xml",
        "update",
        path_str(&file),
    ]);
    crate::util::run(&mut c).expect_code(0);
    cib.verify();
    for id in OWNED {
        assert!(cib.has_id(id), "{id} missing after crm configure load");
    }
    cib.bb(&["crm", "check", &warm]).expect_code(0);
}

#[test]
fn warm_with_sync_orders_the_clone_after_the_sync_clone() {
    let cib = FileCib::new();
    let warm = spec_in(&cib, "warm", Some("warm"));
    let cold = cib.spec("b.toml", &super::spec_text("b", 2, &["192.0.2.20"]));
    let xml = bb(&[
        "crm",
        "generate",
        "--format",
        "cib",
        "--sync-interface",
        "eth9",
        "--sync-id",
        "7",
        &warm,
        &cold,
    ])
    .expect_code(0)
    .stdout();
    assert!(xml.contains("<rsc_order first=\"ipvs_sync_clone\" id=\"order_ipvs_sync_clone_ipvs_webapp_clone\" kind=\"Optional\" then=\"ipvs_webapp_clone\"/>"), "{xml}");
    assert!(xml.contains("<rsc_order first=\"ipvs_sync_clone\" id=\"order_ipvs_sync_clone_b_group\" kind=\"Optional\" then=\"b_group\"/>"), "{xml}");
    let section = |name: &str| {
        let start = xml.find(&format!("<{name}>")).unwrap();
        let end = xml.find(&format!("</{name}>")).unwrap() + name.len() + 3;
        xml[start..end].to_string()
    };
    for scope in ["resources", "constraints"] {
        cib.tool(
            "cibadmin",
            &["--replace", "--scope", scope, "--xml-text", &section(scope)],
        )
        .expect_code(0);
    }
    cib.verify();
    cib.bb(&["crm", "check", &warm, &cold]).expect_code(0);

    // The simulated cluster starts the sync clone, then big_brother's, then the VIPs.
    simulate_up(&cib, &["n1", "n2"]);
    let out = transition(&cib, false);
    let pos = |s: &str| out.find(s).unwrap_or_else(|| panic!("{s} not in:\n{out}"));
    assert!(
        pos("Pseudo action:   ipvs_sync_clone_running_0")
            < pos("Pseudo action:   ipvs_webapp_clone_start_0")
    );
    assert!(
        pos("Pseudo action:   ipvs_webapp_clone_running_0")
            < pos("Resource action: ip_204.109.13.7 start")
    );
}

#[test]
fn apply_warm_then_in_sync_and_apply_again_writes_nothing() {
    let cib = FileCib::new();
    let warm = spec_in(&cib, "warm", Some("warm"));
    cib.bb(&["crm", "check", &warm]).expect_code(1);
    let r = cib.bb(&["crm", "apply", &warm]);
    r.expect_code(0);
    assert!(
        r.stdout().contains("webapp_group: created (ipvs_webapp_clone, ipvs_webapp, webapp_group, ip_204.109.13.7, colocation_webapp_group_ipvs_webapp_clone, order_ipvs_webapp_clone_webapp_group) with crm_diff --no-version | cibadmin --patch"),
        "{}",
        r.stdout()
    );
    cib.verify();
    let r = cib.bb(&["crm", "check", &warm]);
    r.expect_code(0);
    assert_eq!(r.stdout(), format!("webapp_group: in sync with {warm}\n"));
    let bytes = cib.bytes();
    let r = cib.bb(&["crm", "apply", &warm]);
    assert_eq!(
        r.expect_code(0).stdout(),
        "webapp_group: in sync, nothing written\n"
    );
    assert_eq!(
        cib.bytes(),
        bytes,
        "apply of an in-sync warm cluster wrote the CIB"
    );

    // A hand edit of a constraint is a difference, and apply puts it back.
    cib.tool(
        "cibadmin",
        &[
            "--modify",
            "--xml-text",
            "<rsc_colocation id=\"colocation_webapp_group_ipvs_webapp_clone\" score=\"100\"/>",
        ],
    )
    .expect_code(0);
    let r = cib.bb(&["crm", "check", &warm]);
    r.expect_code(1);
    assert!(r.stdout().contains("-<rsc_colocation id=\"colocation_webapp_group_ipvs_webapp_clone\" rsc=\"webapp_group\" score=\"100\""), "{}", r.stdout());
    cib.bb(&["crm", "apply", &warm]).expect_code(0);
    cib.bb(&["crm", "check", &warm]).expect_code(0);
    cib.verify();
}

#[test]
fn operator_meta_on_the_clone_is_kept() {
    let cib = FileCib::new();
    let warm = spec_in(&cib, "warm", Some("warm"));
    cib.bb(&["crm", "apply", &warm]).expect_code(0);
    // `crm resource stop ipvs_webapp_clone` / `pcs resource disable` write target-role into
    // the clone's own meta block, beside interleave.
    cib.tool(
        "crm_resource",
        &[
            "--resource",
            "ipvs_webapp_clone",
            "--meta",
            "--set-parameter",
            "target-role",
            "--parameter-value",
            "Stopped",
        ],
    )
    .expect_code(0);
    cib.bb(&["crm", "check", &warm]).expect_code(0);
    // A spec change (another VIP) rewrites the cluster and keeps the operator's stop.
    let two = webapp_with(Some("warm")).replacen(
        "[[node]]",
        "[[vip]]\naddress = \"204.109.13.8\"\n\n[[node]]",
        1,
    );
    let dir = cib.dir.path().join("warm");
    crate::util::write(&dir, "webapp.toml", &two);
    let r = cib.bb(&["crm", "apply", &warm]);
    r.expect_code(0);
    assert!(
        r.stdout()
            .contains("kept operator meta attributes: ipvs_webapp_clone target-role=Stopped"),
        "{}",
        r.stdout()
    );
    cib.verify();
    cib.bb(&["crm", "check", &warm]).expect_code(0);
    let conf = cib.configuration();
    assert!(
        conf.contains("name=\"target-role\" value=\"Stopped\""),
        "{conf}"
    );
    assert_eq!(
        conf.matches("id=\"ipvs_webapp_clone_meta\"").count(),
        1,
        "{conf}"
    );
}

/// Brings `nodes` up in the file CIB (quorum ignored), without running a transition.
fn simulate_up(cib: &FileCib, nodes: &[&str]) {
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
    let mut args = vec!["--xml-file", path_str(&cib.path)];
    for n in nodes {
        args.extend(["--node-up", n]);
    }
    args.extend(["--save-output", path_str(&up)]);
    cib.tool("crm_simulate", &args).expect_code(0);
    std::fs::copy(&up, &cib.path).unwrap();
}

/// Runs one simulated transition (stored in the CIB file when `keep`); returns what
/// crm_simulate printed (the transition summary and its actions).
fn transition(cib: &FileCib, keep: bool) -> String {
    let mut args = vec!["--xml-file", path_str(&cib.path), "--simulate"];
    if keep {
        args.push("--in-place");
    }
    cib.tool("crm_simulate", &args).expect_code(0).stdout()
}

/// The transition summary lines only.
fn summary(out: &str) -> String {
    out.split("Transition Summary:")
        .nth(1)
        .and_then(|s| s.split("Executing Cluster Transition:").next())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_standby_moves_only_the_vips() {
    let cib = FileCib::new();
    let warm = spec_in(&cib, "warm", Some("warm"));
    cib.bb(&["crm", "apply", &warm]).expect_code(0);
    simulate_up(&cib, &["n1", "n2"]);
    let first = transition(&cib, true);
    assert!(
        first.contains("ipvs_webapp:0   start on n1")
            || first.contains("ipvs_webapp:1   start on n1"),
        "{first}"
    );
    assert!(first.contains("start on n2"), "{first}");
    let located = cib
        .tool(
            "crm_resource",
            &["--resource", "ip_204.109.13.7", "--locate"],
        )
        .expect_code(0)
        .stdout();
    let vip_node = if located.contains("running on: n1") {
        "n1"
    } else {
        "n2"
    };
    assert!(
        located.contains(&format!("running on: {vip_node}")),
        "{located}"
    );
    let other = if vip_node == "n1" { "n2" } else { "n1" };
    // big_brother failing on the other director: recovered there, the VIPs untouched.
    let monitor = format!("ipvs_webapp_monitor_61000@{other}=7");
    let failed = cib
        .tool(
            "crm_simulate",
            &[
                "--xml-file",
                path_str(&cib.path),
                "--simulate",
                "--op-inject",
                &monitor,
            ],
        )
        .expect_code(0)
        .stdout();
    let failed = summary(&failed);
    assert!(failed.contains("Recover    ipvs_webapp:"), "{failed}");
    assert!(!failed.contains("ip_204.109.13.7"), "{failed}");

    cib.tool(
        "crm_attribute",
        &[
            "--node",
            vip_node,
            "--name",
            "standby",
            "--update",
            "on",
            "--lifetime",
            "forever",
        ],
    )
    .expect_code(0);
    let out = summary(&transition(&cib, false));
    assert!(
        out.contains(&format!(
            "Move       ip_204.109.13.7   ( {vip_node} -> {other} )"
        )),
        "{out}"
    );
    // big_brother is not started anywhere: it already runs on the new director (the standby
    // node's own instance stops, as everything on a node in standby does).
    assert!(!out.contains("Start") && !out.contains("Restart"), "{out}");
    assert!(
        out.contains(&format!("{vip_node} )  due to node availability")),
        "{out}"
    );
}

#[test]
fn switching_cold_to_warm_to_cold_on_a_running_cluster() {
    let cib = FileCib::new();
    let cold = spec_in(&cib, "cold", None);
    let warm = spec_in(&cib, "warm", Some("warm"));
    cib.bb(&["crm", "apply", &cold]).expect_code(0);
    simulate_up(&cib, &["n1", "n2"]);
    transition(&cib, true);

    // cold -> warm: the running director keeps its service and VIP; the other starts big_brother.
    let r = cib.bb(&["crm", "apply", &warm]);
    r.expect_code(0);
    assert!(
        r.stdout()
            .contains("webapp_group: replaced with crm_diff --no-version | cibadmin --patch"),
        "{}",
        r.stdout()
    );
    cib.verify();
    cib.bb(&["crm", "check", &warm]).expect_code(0);
    let r = cib.bb(&["crm", "check", &cold]);
    r.expect_code(1);
    assert!(
        r.stdout().contains("-<clone id=\"ipvs_webapp_clone\">"),
        "{}",
        r.stdout()
    );
    let out = summary(&transition(&cib, true));
    assert!(out.contains("Start      ipvs_webapp:1"), "{out}");
    assert!(
        !out.contains("Stop") && !out.contains("Restart") && !out.contains("Move"),
        "{out}"
    );

    // warm -> cold: the clone and constraints go; Pacemaker restarts the cluster where it runs
    // (the primitive is no longer the clone's instance) and stops the other director's.
    let r = cib.bb(&["crm", "apply", &cold]);
    r.expect_code(0);
    assert!(
        r.stdout()
            .contains("removed ipvs_webapp_clone and its constraints"),
        "{}",
        r.stdout()
    );
    cib.verify();
    cib.bb(&["crm", "check", &cold]).expect_code(0);
    for id in [
        "ipvs_webapp_clone",
        "ipvs_webapp_clone_meta",
        "colocation_webapp_group_ipvs_webapp_clone",
        "order_ipvs_webapp_clone_webapp_group",
    ] {
        assert!(!cib.has_id(id), "{id} left after switching to cold");
    }
    let out = summary(&transition(&cib, false));
    assert!(out.contains("Restart    ipvs_webapp"), "{out}");
    assert!(out.contains("Restart    ip_204.109.13.7"), "{out}");
}

#[test]
fn remove_deletes_clone_group_and_constraints() {
    let cib = FileCib::new();
    let warm = spec_in(&cib, "warm", Some("warm"));
    let xml = bb(&[
        "crm",
        "generate",
        "--format",
        "cib",
        "--sync-interface",
        "eth9",
        "--sync-id",
        "7",
        &warm,
    ])
    .expect_code(0)
    .stdout();
    let section = |name: &str| {
        let start = xml.find(&format!("<{name}>")).unwrap();
        let end = xml.find(&format!("</{name}>")).unwrap() + name.len() + 3;
        xml[start..end].to_string()
    };
    for scope in ["resources", "constraints"] {
        cib.tool(
            "cibadmin",
            &["--replace", "--scope", scope, "--xml-text", &section(scope)],
        )
        .expect_code(0);
    }
    simulate_up(&cib, &["n1", "n2"]);
    transition(&cib, true);

    // Nothing executes the stops on a file CIB: remove gives up, both containers stopped.
    let r = cib.bb(&["crm", "remove", "--timeout", "1s", "webapp"]);
    r.expect_code(1);
    assert!(
        r.stderr().contains("still running after 1s"),
        "{}",
        r.stderr()
    );
    assert_eq!(
        cib.configuration()
            .matches("name=\"target-role\" value=\"Stopped\"")
            .count(),
        2
    );
    transition(&cib, true);
    let r = cib.bb(&["crm", "remove", "--timeout", "5s", "webapp"]);
    r.expect_code(0);
    let out = r.stdout();
    assert!(out.contains("webapp_group: stopped (after "), "{out}");
    assert!(out.contains("removed with it (warm standby): ipvs_webapp_clone, colocation_webapp_group_ipvs_webapp_clone, order_ipvs_webapp_clone_webapp_group"), "{out}");
    assert!(
        out.contains("removed constraints: order_ipvs_sync_clone_ipvs_webapp_clone"),
        "{out}"
    );
    for id in OWNED
        .iter()
        .chain(&["ip_204.109.13.7", "order_ipvs_sync_clone_ipvs_webapp_clone"])
    {
        // The status section keeps the simulated history of the primitives: look in the
        // configuration.
        let conf = cib.configuration();
        assert!(
            !conf.contains(&format!("id=\"{id}\"")),
            "{id} left after remove:\n{conf}"
        );
    }
    assert!(
        cib.has_id("ipvs_sync_clone"),
        "the host-level sync clone is not the cluster's"
    );
    cib.verify();
    let r = cib.bb(&["crm", "remove", "webapp"]);
    assert_eq!(
        r.expect_code(0).stdout(),
        "webapp_group: not in the CIB, nothing to remove\n"
    );
}

#[test]
fn a_bad_standby_is_located() {
    let cib = FileCib::new();
    let bad = cib.spec("bad.toml", &webapp_with(Some("hot")));
    let r = bb(&["validate", &bad]);
    r.expect_code(6);
    assert!(
        r.stderr().contains(&format!(
            "{bad}:7:11: standby: expected \"cold\" or \"warm\", not \"hot\""
        )),
        "{}",
        r.stderr()
    );
    let r = bb(&["crm", "generate", "--format", "cib", &bad]);
    r.expect_code(6);
    let novip = cib.spec(
        "novip.toml",
        "name = \"n\"\nstandby = \"warm\"\nfwmark = 3\n[[node]]\naddress = \"198.51.100.1\"\nport = 80\n",
    );
    let r = bb(&["validate", &novip]);
    r.expect_code(6);
    assert!(
        r.stderr().contains(&format!(
            "{novip}:2:11: standby: expected at least one [[vip]]"
        )),
        "{}",
        r.stderr()
    );
}
