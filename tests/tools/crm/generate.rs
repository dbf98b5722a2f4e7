//! `crm generate`: the golden file, every output format in the tool it is meant for, and
//! `crm_verify` on whole CIBs holding 1, 2 and 10 generated groups.

use super::{path_str, spec_text, webapp, FileCib};
use crate::util::{bb, repo};

#[test]
fn webapp_is_the_talks_group_byte_for_byte() {
    let golden = std::fs::read_to_string(repo().join("crm/examples/webapp.xml")).unwrap();
    let r = bb(&["crm", "generate", &webapp()]);
    r.expect_code(0);
    assert_eq!(r.stdout(), golden);
    // --config-dir /etc/big_brother is the default: still the talk's XML.
    let r = bb(&[
        "crm",
        "generate",
        "--config-dir",
        "/etc/big_brother",
        &webapp(),
    ]);
    assert_eq!(r.expect_code(0).stdout(), golden);
}

#[test]
fn other_config_dir_adds_the_config_parameter() {
    let r = bb(&["crm", "generate", "--config-dir", "/srv/bb", &webapp()]);
    let out = r.expect_code(0).stdout();
    assert!(
        out.contains(
            "      <nvpair id=\"ipvs_webapp_config\" name=\"config\" value=\"/srv/bb/webapp.toml\"/>\n"
        ),
        "{out}"
    );
    let r = bb(&["crm", "generate", "--config-dir", "etc/bb", &webapp()]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("expected an absolute directory"),
        "{}",
        r.stderr()
    );
}

#[test]
fn bad_spec_exits_6_and_names_the_file() {
    let cib = FileCib::new();
    let bad = cib.spec("bad.toml", "name = \"x\"\nfwmark = 0\n");
    let r = bb(&["crm", "generate", &bad]);
    r.expect_code(6);
    assert!(r.stderr().contains("bad.toml"), "{}", r.stderr());
    assert!(r.stdout().is_empty());
    // Two specs that clash (same VIP) are refused together.
    let a = cib.spec("a.toml", &spec_text("a", 1, &["192.0.2.1"]));
    let b = cib.spec("b.toml", &spec_text("b", 2, &["192.0.2.1"]));
    let r = bb(&["crm", "generate", &a, &b]);
    r.expect_code(6);
    assert!(r.stderr().contains("192.0.2.1"), "{}", r.stderr());
}

/// Pacemaker 2.1.5 stores `é &` unescaped and corrupts the CIB (seen with `cibadmin` on a
/// file CIB), so such a description is refused before anything is written; ASCII specials and
/// accents alone are fine and survive the round trip.
#[test]
fn descriptions_pacemaker_would_corrupt_are_refused() {
    let cib = FileCib::new();
    let text = spec_text("d", 3, &["192.0.2.3"]);
    let bad = cib.spec("bad.toml", &text.replace("Cluster d", "Café & Bar"));
    for verb in ["generate", "check", "apply"] {
        let r = cib.bb(&["crm", verb, &bad]);
        r.expect_code(6);
        assert!(
            r.stderr()
                .contains("description: expected text Pacemaker can store"),
            "{}",
            r.stderr()
        );
    }
    for (file, desc) in [
        ("amp.toml", "A & B <\\\"c\\\"> 'd'"),
        ("acc.toml", "Café 'Zürich'"),
    ] {
        let good = cib.spec(file, &text.replace("Cluster d", desc));
        cib.bb(&["crm", "apply", &good]).expect_code(0);
        cib.bb(&["crm", "check", &good]).expect_code(0);
        cib.verify();
        cib.bb(&["crm", "remove", "d"]).expect_code(0);
    }
}

/// One spec as a bare group through `cibadmin --create --xml-text`, two through the
/// `resources` format, ten through `crm apply`; IPv6 VIPs among them. Each CIB passes
/// `crm_verify`.
#[test]
fn crm_verify_accepts_1_2_and_10_groups() {
    // 1: the golden group, exactly as an operator would paste it.
    let one = FileCib::new();
    let group = bb(&["crm", "generate", &webapp()]).expect_code(0).stdout();
    one.tool(
        "cibadmin",
        &["--create", "--scope", "resources", "--xml-text", &group],
    )
    .expect_code(0);
    one.verify();
    one.bb(&["crm", "check", &webapp()]).expect_code(0);

    // 2: one IPv4, one IPv6 cluster, in one <resources> document.
    let two = FileCib::new();
    let a = two.spec("a.toml", &spec_text("a", 1, &["192.0.2.10@eth0"]));
    let b = two.spec(
        "b.toml",
        &spec_text("b", 2, &["2001:db8::10/64@eth1", "2001:db8::11"]),
    );
    let res = bb(&["crm", "generate", "--format", "resources", &a, &b])
        .expect_code(0)
        .stdout();
    assert!(res.starts_with("<resources>\n  <group"), "{res}");
    two.tool_stdin(
        "cibadmin",
        &["--create", "--scope", "resources", "--xml-pipe"],
        &res,
    )
    .expect_code(0);
    two.verify();
    assert!(two.has_id("ip_2001_db8__10"));
    assert!(two.configuration().contains("value=\"2001:db8::10\""));
    two.bb(&["crm", "check", &a, &b]).expect_code(0);

    // 10: mixed families, through apply.
    let ten = FileCib::new();
    let specs: Vec<String> = (0..10)
        .map(|i| {
            let vips = if i % 3 == 0 {
                vec![
                    format!("2001:db8:{i}::1/64@eth{i}"),
                    format!("2001:db8:{i}::2"),
                ]
            } else {
                vec![format!("203.0.113.{}/24@eth{i}", i + 1)]
            };
            let vips: Vec<&str> = vips.iter().map(String::as_str).collect();
            ten.spec(
                &format!("c{i}.toml"),
                &spec_text(&format!("c{i}"), 100 + i, &vips),
            )
        })
        .collect();
    let mut args = vec!["crm", "apply"];
    args.extend(specs.iter().map(String::as_str));
    let r = ten.bb(&args);
    r.expect_code(0);
    assert_eq!(
        r.stdout().matches(": created (").count(),
        10,
        "{}",
        r.stdout()
    );
    ten.verify();
    args[1] = "check";
    ten.bb(&args).expect_code(0);
}

/// crmsh loads the `cib` format with `crm configure load xml update` and shows the group; the
/// result is exactly what `check` expects. The agent itself is not installed in this tier, so
/// crmsh's resource-agent meta-data lookups are switched off (check_frequency = never); the
/// parsing and the commit through cibadmin are crmsh's own.
#[test]
fn crmsh_loads_and_shows_the_generated_xml() {
    let cib = FileCib::new();
    let conf = crate::util::write(
        cib.dir.path(),
        "crm.conf",
        "[core]\ncheck_frequency = never\n",
    );
    let xml = bb(&["crm", "generate", "--format", "cib", &webapp()])
        .expect_code(0)
        .stdout();
    assert!(xml.starts_with("<cib>\n  <configuration>\n    <resources>\n"));
    let file = crate::util::write(cib.dir.path(), "webapp-cib.xml", &xml);
    let crm = |args: &[&str]| {
        let mut c = cib.cmd("crm");
        c.env("CRM_CONFIG_FILE", &conf).args(args);
        crate::util::run(&mut c)
    };
    crm(&["configure", "load", "xml", "update", path_str(&file)]).expect_code(0);
    let shown = crm(&["configure", "show"]);
    shown.expect_code(0);
    let out = shown.stdout();
    assert!(
        out.contains("group webapp_group ipvs_webapp ip_204.109.13.7"),
        "{out}"
    );
    assert!(out.contains("description=\"Braintree Webapp\""), "{out}");
    assert!(
        out.contains("primitive ipvs_webapp ocf:braintree:ocf_big_brother"),
        "{out}"
    );
    assert!(
        out.contains("params ip=204.109.13.7 cidr_netmask=32 nic=eth70"),
        "{out}"
    );
    assert!(out.contains("op monitor interval=61s timeout=30s"), "{out}");
    cib.bb(&["crm", "check", &webapp()]).expect_code(0);
    cib.verify();
}

/// `--sync-interface/--sync-id --format cib`: the clone of `ocf:braintree:ipvs_sync` and one
/// order per group; `crm_verify` accepts the CIB they make (loaded by cibadmin section by
/// section, and by crmsh's `load xml update` as the README says), and without the flags the
/// output is still the golden file.
#[test]
fn crm_verify_accepts_the_sync_clone_and_its_orders() {
    let cib = FileCib::new();
    let a = cib.spec("a.toml", &spec_text("a", 1, &["192.0.2.10@eth0"]));
    let b = cib.spec("b.toml", &spec_text("b", 2, &["2001:db8::10/64@eth1"]));
    let xml = bb(&[
        "crm",
        "generate",
        "--format",
        "cib",
        "--sync-interface",
        "eth9",
        "--sync-id",
        "42",
        "--sync-group",
        "ff02::81",
        "--ipvs-timeouts",
        "0,0,60",
        "--expire-quiescent-template",
        "1",
        &a,
        &b,
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
    cib.verify();
    assert!(cib.has_id("ipvs_sync_clone") && cib.has_id("ipvs_sync"));
    for g in ["a_group", "b_group"] {
        assert!(cib.has_id(&format!("order_ipvs_sync_clone_{g}")), "{g}");
    }
    let conf = cib.configuration();
    assert!(conf.contains("value=\"ff02::81\""), "{conf}");
    // Host settings: the ones given, as the agent's parameters; a 0 timeout is left out.
    for nv in [
        "name=\"udp_timeout\" value=\"60\"",
        "name=\"expire_quiescent_template\" value=\"1\"",
    ] {
        assert!(conf.contains(nv), "{nv}: {conf}");
    }
    for absent in [
        "tcp_timeout",
        "tcpfin_timeout",
        "expire_nodest_conn",
        "sloppy_tcp",
    ] {
        assert!(!conf.contains(absent), "{absent}: {conf}");
    }
    cib.bb(&["crm", "check", &a, &b]).expect_code(0);

    // crmsh loads the same document in one go.
    let other = FileCib::new();
    let crm_conf = crate::util::write(
        other.dir.path(),
        "crm.conf",
        "[core]\ncheck_frequency = never\n",
    );
    let file = crate::util::write(other.dir.path(), "sync-cib.xml", &xml);
    let mut c = other.cmd("crm");
    c.env("CRM_CONFIG_FILE", &crm_conf).args([
        "configure",
        "load",
        "xml",
        "update",
        path_str(&file),
    ]);
    crate::util::run(&mut c).expect_code(0);
    other.verify();
    assert!(other.has_id("order_ipvs_sync_clone_b_group"));

    // The flags need the cib format, and values the agent accepts.
    let r = bb(&[
        "crm",
        "generate",
        "--sync-interface",
        "eth9",
        "--sync-id",
        "1",
        &a,
    ]);
    r.expect_code(2);
    assert!(r.stderr().contains("needs --format cib"), "{}", r.stderr());
    let r = bb(&[
        "crm",
        "generate",
        "--format",
        "cib",
        "--sync-interface",
        "eth9",
        "--sync-id",
        "1",
        "--sync-group",
        "10.0.0.1",
        &a,
    ]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("not a multicast address"),
        "{}",
        r.stderr()
    );
    // Host settings: bounded, named in the error, and only with the sync clone.
    for (flag, value, says) in [
        (
            "--ipvs-timeouts",
            "1,2",
            "expected three numbers TCP,TCPFIN,UDP",
        ),
        (
            "--ipvs-timeouts",
            "1,2,99999999",
            "udp_timeout: expected seconds from 0 to 2147483",
        ),
        ("--sloppy-tcp", "2", "expected 0 or 1"),
    ] {
        let r = bb(&[
            "crm",
            "generate",
            "--format",
            "cib",
            "--sync-interface",
            "eth9",
            "--sync-id",
            "1",
            flag,
            value,
            &a,
        ]);
        r.expect_code(2);
        assert!(r.stderr().contains(says), "{flag} {value}: {}", r.stderr());
    }
    let r = bb(&[
        "crm",
        "generate",
        "--format",
        "cib",
        "--expire-nodest-conn",
        "1",
        &a,
    ]);
    r.expect_code(2);
    assert!(r.stderr().contains("--sync-interface"), "{}", r.stderr());
}
