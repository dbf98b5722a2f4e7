//! Unit tests of the legacy import: the original's example shapes, defaults merging, every key
//! that is dropped or changed, and broken configs with located messages.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use super::*;
use crate::ipvs::{Family, Forward, ServiceKey};
use crate::spec::BackendMode;
use crate::spec::{load_cluster, parse};

const EXAMPLE: &str = include_str!("../../../tests/fixtures/legacy/big_brother.conf");
const OLD: &str = include_str!("../../../tests/fixtures/legacy/pre-0.8.6.yml");

fn ok(text: &str) -> Import {
    import(Path::new("/etc/big_brother.conf"), text, None, None)
        .unwrap_or_else(|e| panic!("import failed: {e}"))
}

fn problems(text: &str) -> Vec<Problem> {
    match import(Path::new("/etc/big_brother.conf"), text, None, None) {
        Err(SpecError::Invalid { problems, .. }) => problems,
        Err(e) => panic!("wanted problems, got {e}"),
        Ok(_) => panic!("wanted problems, got a good import"),
    }
}

fn cluster<'a>(i: &'a Import, name: &str) -> &'a Converted {
    i.clusters.iter().find(|c| c.name == name).unwrap()
}

const MINIMAL: &str = "clusters:\n  - cluster_name: web\n    fwmark: 7\n    scheduler: wlc\n    nodes:\n      - address: 192.0.2.1\n        port: 9001\n        path: /web/status\n";

#[test]
fn example_config_imports_every_cluster() {
    let i = ok(EXAMPLE);
    assert_eq!(i.form, Form::Clusters);
    assert_eq!(i.names, ["webapp", "api", "search", "payments"]);
    assert_eq!(i.clusters.len(), 4);
    for c in &i.clusters {
        // What was written is what was validated.
        let again = parse(Path::new("x.toml"), &c.toml).unwrap();
        assert_eq!(again.name, c.name);
        assert_eq!(again.forward, Forward::Ipip);
        assert!(again.vips.is_empty());
        assert_eq!((again.fall, again.rise), (1, 1));
        assert!(c.toml.contains("/etc/big_brother.conf"), "{}", c.toml);
        assert!(c.toml.contains("add [[vip]]"), "{}", c.toml);
    }
}

#[test]
fn active_passive_with_downpage_and_priorities() {
    let i = ok(EXAMPLE);
    let w = cluster(&i, "webapp");
    let s = &w.spec;
    assert_eq!(
        s.service,
        Some(ServiceKey::Fwmark {
            family: Family::V4,
            mark: 1
        })
    );
    assert_eq!(s.scheduler, "wrr");
    assert_eq!(s.backend_mode, BackendMode::ActivePassive);
    assert_eq!(s.check_interval, Duration::from_secs(1));
    // The cluster's own ramp_up_time wins over _big_brother's.
    assert_eq!(s.ramp_up_time, Duration::from_secs(120));
    let sorry = s.sorry_server.unwrap();
    assert_eq!(sorry.address, IpAddr::V4(DOWNPAGE_ADDRESS));
    assert_eq!((sorry.port, sorry.weight), (0, 1));
    assert_eq!(s.nodes.len(), 2);
    assert_eq!(s.nodes[0].address.to_string(), "192.0.2.11");
    assert_eq!((s.nodes[0].port, s.nodes[0].priority), (9001, 0));
    assert_eq!((s.nodes[1].port, s.nodes[1].priority), (9002, 1));
    assert_eq!(s.nodes[0].path, "/webapp/status");
    // `max_weight:` with no value is the original's "no cap".
    assert_eq!(s.nodes[0].max_weight, 100);
    // nagios merged from _big_brother (server, host) and the cluster (check), then carried
    // over as an on_change hook running send_nsca with the original's line.
    assert!(
        w.notes.iter().any(|n| n.starts_with(
            "nagios (server nsca.example.net, check webapp_status, host prod-load) becomes on_change"
        )),
        "{:?}",
        w.notes
    );
    assert!(!w.dropped.iter().any(|d| d.key.starts_with("nagios")));
    let hook = s.on_change.as_ref().unwrap();
    assert_eq!(hook.argv[..2], ["/bin/sh", "-c"]);
    assert_eq!(
        hook.argv[3..],
        [
            "big_brother-nsca",
            "prod-load",
            "webapp_status",
            "nsca.example.net"
        ]
    );
    // active_passive: no relay service; the explicit offset is reported.
    assert!(w.dropped.iter().any(|d| d.key == "offset = 10000"));
    assert!(!w.dropped.iter().any(|d| d.key.starts_with("relay")));
    assert!(w.notes.iter().any(|n| n.contains("169.254.254.254")));
}

#[test]
fn defaults_merge_into_clusters() {
    let i = ok(EXAMPLE);
    let api = cluster(&i, "api");
    // ramp_up_time comes from _big_brother; check_interval is the cluster's.
    assert_eq!(api.spec.ramp_up_time, Duration::from_secs(30));
    assert_eq!(api.spec.check_interval, Duration::from_secs(2));
    assert_eq!(api.spec.backend_mode, BackendMode::ActiveActive);
    // nagios from _big_brother alone is still reported.
    assert!(api
        .dropped
        .iter()
        .any(|d| d.key == "nagios (server nsca.example.net, host prod-load)"));
    // max_weight 50: carried, and the change of meaning said.
    assert_eq!(api.spec.nodes[0].max_weight, 50);
    assert!(api.notes.iter().any(|n| n.contains("max_weight 50")));
    // The original's defaults when neither sets a key.
    let i = ok(MINIMAL);
    let s = &i.clusters[0].spec;
    assert_eq!(s.check_interval, Duration::from_secs(1));
    assert_eq!(s.ramp_up_time, Duration::from_secs(60));
    assert!(s.sorry_server.is_none());
}

#[test]
fn yaml_1_1_booleans_work_as_in_ruby() {
    let i = ok(EXAMPLE);
    assert!(cluster(&i, "search").spec.sorry_server.is_some());
}

#[test]
fn active_active_reports_relay_interpol_and_ticks() {
    let i = ok(EXAMPLE);
    let p = cluster(&i, "payments");
    // The interpol node is not a real server.
    assert_eq!(p.spec.nodes.len(), 1);
    assert_eq!(p.spec.nodes[0].address.to_string(), "192.0.2.41");
    let keys: Vec<&str> = p.dropped.iter().map(|d| d.key.as_str()).collect();
    assert!(
        keys.contains(&"nodes[1] (198.51.100.2:9292, interpol)"),
        "{keys:?}"
    );
    assert!(keys.contains(&"max_down_ticks = 100"), "{keys:?}");
    assert!(keys.contains(&"non_egress_locations (sandbox)"), "{keys:?}");
    assert!(
        keys.contains(&"relay service fwmark 10004 (fwmark 4 + offset 10000)"),
        "{keys:?}"
    );
    // The header lists what was dropped.
    assert!(p.toml.contains("# Not carried over:"));
    assert!(p.toml.contains("max_down_ticks = 100: "));
}

#[test]
fn rendering_is_deterministic_and_in_readme_order() {
    let a = ok(EXAMPLE);
    let b = ok(EXAMPLE);
    for (x, y) in a.clusters.iter().zip(&b.clusters) {
        assert_eq!(x.toml, y.toml);
    }
    let t = &cluster(&a, "webapp").toml;
    let order = [
        "\nname = ",
        "\nfwmark = ",
        "\nscheduler = ",
        "\nforward = ",
        "\ncheck_interval = ",
        "\nramp_up_time = ",
        "\nfall = ",
        "\nrise = ",
        "\nbackend_mode = ",
        "\n[sorry_server]",
        "add [[vip]]",
        "\n[[node]]",
    ];
    let pos: Vec<usize> = order
        .iter()
        .map(|k| t.find(k).unwrap_or_else(|| panic!("{k} missing in\n{t}")))
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{t}");
}

#[test]
fn pre_0_8_6_map_form() {
    let i = ok(OLD);
    assert_eq!(i.form, Form::ClusterMap);
    assert_eq!(i.names, ["webapp", "api"]);
    let w = cluster(&i, "webapp");
    assert_eq!(w.spec.backend_mode, BackendMode::ActivePassive);
    assert!(w.toml.contains("pre-0.8.6 map form"));
    let api = cluster(&i, "api");
    // `persistent` was ignored by those versions: dropped, not an error.
    assert!(api.dropped.iter().any(|d| d.key == "persistent"));
    // No path: the original asked for "/"; port kept.
    assert_eq!(api.spec.nodes[0].path, "/");
    assert!(api.notes.iter().any(|n| n.contains("no path")));
}

#[test]
fn edge_values_are_mapped_honestly() {
    let t = MINIMAL
        .replace(
            "    fwmark: 7\n",
            "    fwmark: 7\n    check_interval: 0\n    ramp_up_time: 0\n",
        )
        .replace("        port: 9001\n", "        max_weight: 0\n")
        .replace(
            "- address: 192.0.2.1\n",
            "- address: 192.0.2.1\n        priority: -5\n",
        )
        + "      - address: 192.0.2.2\n        port: 9001\n        max_weight: 250\n";
    let i = ok(&t);
    let c = &i.clusters[0];
    assert_eq!(c.spec.check_interval, Duration::from_millis(100));
    assert_eq!(c.spec.ramp_up_time, Duration::from_millis(1));
    assert_eq!(c.spec.nodes[0].port, 80);
    assert_eq!(c.spec.nodes[0].max_weight, 100);
    assert_eq!(c.spec.nodes[0].priority, -5);
    assert_eq!(c.spec.nodes[1].max_weight, 100);
    for part in [
        "check_interval 0",
        "ramp_up_time 0",
        "no port",
        "max_weight 0 is left out",
        "max_weight 250 is left out",
    ] {
        assert!(
            c.notes.iter().any(|n| n.contains(part)),
            "{part}: {:?}",
            c.notes
        );
    }
    // Fractions of seconds are kept to the millisecond.
    let i = ok(&MINIMAL.replace(
        "    fwmark: 7\n",
        "    fwmark: 7\n    check_interval: 1.5\n",
    ));
    assert_eq!(
        i.clusters[0].spec.check_interval,
        Duration::from_millis(1500)
    );
}

#[test]
fn no_nodes_is_a_staged_spec() {
    let t = "clusters:\n  - cluster_name: web\n    fwmark: 7\n    scheduler: wlc\n    nodes: []\n";
    let i = ok(t);
    assert!(i.clusters[0].spec.runnable().is_err());
    assert!(i.clusters[0].notes.iter().any(|n| n.contains("staged")));
}

#[test]
fn scheduler_may_come_from_defaults() {
    let t = format!(
        "_big_brother:\n  scheduler: sh\n{}",
        MINIMAL.replace("    scheduler: wlc\n", "")
    );
    assert_eq!(ok(&t).clusters[0].spec.scheduler, "sh");
}

fn one_problem(text: &str, key: &str, expected_part: &str) -> Problem {
    let p = problems(text);
    let hit = p
        .iter()
        .find(|p| p.key == key)
        .unwrap_or_else(|| panic!("no problem at {key:?} in {p:#?}"));
    assert!(
        hit.expected.contains(expected_part),
        "{key}: {:?} lacks {expected_part:?}",
        hit.expected
    );
    hit.clone()
}

#[test]
fn broken_configs_name_cluster_key_and_line() {
    let p = one_problem(
        &MINIMAL.replace("  - cluster_name: web\n", "  - check_interval: 1\n"),
        "clusters[0]: cluster_name",
        "required",
    );
    assert_eq!(p.line, Some(2));
    let p = one_problem(
        &MINIMAL.replace("fwmark: 7", "fwmark: 0"),
        "cluster web: fwmark",
        "from 1 to 4294967295, not 0",
    );
    assert_eq!((p.line, p.column), (Some(3), Some(13)));
    one_problem(
        &MINIMAL.replace("    fwmark: 7\n", ""),
        "cluster web: fwmark",
        "required",
    );
    one_problem(
        &MINIMAL.replace("scheduler: wlc", "scheduler: fastest"),
        "cluster web: scheduler",
        "not \"fastest\"",
    );
    let p = one_problem(
        &MINIMAL.replace("192.0.2.1", "192.0.2.300"),
        "cluster web: nodes[0].address",
        "IPv4 address",
    );
    assert_eq!(p.line, Some(6));
    one_problem(
        &MINIMAL.replace("fwmark: 7", "fwmark: \"7\""),
        "cluster web: fwmark",
        "the string \"7\"",
    );
    one_problem(
        &MINIMAL.replace("port: 9001", "port: [9001]"),
        "cluster web: nodes[0].port",
        "a list",
    );
    one_problem(
        &MINIMAL.replace("path: /web/status", "path: web/status"),
        "cluster web: nodes[0].path",
        "starting with '/'",
    );
    one_problem(
        &MINIMAL.replace("    fwmark: 7\n", "    fwmark: 7\n    shedular: wlc\n"),
        "cluster web: shedular",
        "unknown key",
    );
    one_problem(
        &MINIMAL.replace(
            "    fwmark: 7\n",
            "    fwmark: 7\n    backend_mode: hot_standby\n",
        ),
        "cluster web: backend_mode",
        "active_passive",
    );
    one_problem(
        &MINIMAL.replace(
            "    fwmark: 7\n",
            "    fwmark: 7\n    has_downpage: maybe\n",
        ),
        "cluster web: has_downpage",
        "true or false",
    );
    one_problem(
        &MINIMAL.replace("    fwmark: 7\n", "    fwmark: 7\n    check_interval: -1\n"),
        "cluster web: check_interval",
        "seconds",
    );
    one_problem(
        &format!("_big_brother:\n  scheduler: nope\n{MINIMAL}"),
        "_big_brother: scheduler",
        "not \"nope\"",
    );
    one_problem(
        &MINIMAL.replace("cluster_name: web", "cluster_name: my web"),
        "clusters[0]: cluster_name",
        "Pacemaker ids",
    );
    one_problem("_big_brother:\n  offset: 1\n", "clusters", "required");
    one_problem("clusters: 7\n", "clusters", "a list of clusters");
    one_problem(
        &format!("{MINIMAL}extra: 1\n"),
        "extra",
        "only `_big_brother:` and `clusters:`",
    );
}

#[test]
fn duplicates_are_refused() {
    let twice = format!(
        "{MINIMAL}{}",
        MINIMAL
            .trim_start_matches("clusters:\n")
            .replace("fwmark: 7", "fwmark: 8")
            .replace("192.0.2.1", "192.0.2.2")
    );
    let p = one_problem(&twice, "cluster web: cluster_name", "also on line 2");
    assert_eq!(p.line, Some(9));
    let marks = format!(
        "{MINIMAL}{}",
        MINIMAL
            .trim_start_matches("clusters:\n")
            .replace("cluster_name: web", "cluster_name: api")
    );
    one_problem(&marks, "cluster api: fwmark", "cluster web also has 7");
    let nodes = MINIMAL.to_string() + "      - address: 192.0.2.1\n        port: 9002\n";
    one_problem(&nodes, "cluster web: nodes[1].address", "each address once");
}

#[test]
fn syntax_errors_and_empty_files() {
    let e = import(
        Path::new("b.yml"),
        "clusters:\n  - cluster_name: [web\n",
        None,
        None,
    )
    .unwrap_err();
    match &e {
        SpecError::Parse { line, column, .. } => assert!(line.is_some() && column.is_some()),
        other => panic!("{other}"),
    }
    assert!(e.to_string().starts_with("b.yml:"), "{e}");
    for empty in ["", "# nothing\n", "---\n"] {
        let e = import(Path::new("b.yml"), empty, None, None).unwrap_err();
        assert!(
            e.to_string().contains("empty file") || e.to_string().contains("not nothing"),
            "{e}"
        );
    }
    let p = problems("- a\n- b\n");
    assert!(
        p[0].expected.contains("a map with a `clusters:` list"),
        "{p:?}"
    );
}

#[test]
fn all_problems_are_reported_at_once_in_file_order() {
    let t = EXAMPLE
        .replace("fwmark: 1\n", "fwmark: 0\n")
        .replace("scheduler: rr", "scheduler: xx");
    let p = problems(&t);
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(p[0].line < p[1].line);
}

#[test]
fn only_one_cluster_ignores_the_others_problems() {
    let broken_other = EXAMPLE.replace("scheduler: rr", "scheduler: xx");
    let i = import(Path::new("b.yml"), &broken_other, Some("webapp"), None).unwrap();
    assert_eq!(i.clusters.len(), 1);
    assert_eq!(i.clusters[0].name, "webapp");
    let i = import(Path::new("b.yml"), EXAMPLE, Some("nope"), None).unwrap();
    assert!(i.clusters.is_empty());
    assert_eq!(i.names.len(), 4);
    // But the shared defaults must be right.
    let bad_defaults = EXAMPLE.replace("  ramp_up_time: 30\n", "  ramp_up_time: soon\n");
    assert!(import(Path::new("b.yml"), &bad_defaults, Some("webapp"), None).is_err());
}

#[test]
fn looks_legacy_by_name_or_first_key() {
    assert!(looks_legacy(Path::new("/etc/big_brother.conf"), ""));
    assert!(looks_legacy(Path::new("x.YML"), ""));
    assert!(looks_legacy(Path::new("x"), "# c\n---\nclusters:\n"));
    assert!(looks_legacy(Path::new("x"), "\n_big_brother:\n"));
    assert!(!looks_legacy(Path::new("x.toml"), "name = \"web\"\n"));
    assert!(!looks_legacy(
        Path::new("x.toml"),
        "# clusters:\nname = \"x\"\n"
    ));
}

#[test]
fn load_cluster_reads_toml_or_legacy() {
    let dir = tempfile::tempdir().unwrap();
    let yml = dir.path().join("big_brother.conf");
    std::fs::write(&yml, EXAMPLE).unwrap();
    let s = load_cluster(&yml, "api").unwrap();
    assert_eq!(s.name, "api");
    assert_eq!(s.file, yml);
    assert_eq!(s.nodes.len(), 2);
    // Same spec as the import writes.
    let imported = ok(EXAMPLE);
    let written = parse(&yml, &cluster(&imported, "api").toml).unwrap();
    assert_eq!(s, written);

    let e = load_cluster(&yml, "nope").unwrap_err();
    assert!(
        e.to_string().contains("webapp, api, search, payments"),
        "{e}"
    );
    assert!(!e.is_missing() && !e.is_denied());

    // A YAML file without a telling name is recognised by its first key.
    let plain = dir.path().join("legacy");
    std::fs::write(&plain, EXAMPLE.replace("# The shape", "# the shape")).unwrap();
    assert_eq!(load_cluster(&plain, "search").unwrap().name, "search");

    let toml = dir.path().join("web.toml");
    std::fs::write(&toml, &cluster(&imported, "webapp").toml).unwrap();
    assert_eq!(load_cluster(&toml, "webapp").unwrap().name, "webapp");
    let e = load_cluster(&toml, "api").unwrap_err();
    assert!(
        e.to_string().contains("name: expected the cluster \"api\""),
        "{e}"
    );

    let e = load_cluster(&dir.path().join("missing.yml"), "api").unwrap_err();
    assert!(e.is_missing());
}

/// Issue 12, item 6: a `nagios` string that would break the NSCA line the hook writes (a line
/// break forges a second result, a comma shifts the fields) or reach a terminal raw is refused,
/// located, and shown escaped.
#[test]
fn nagios_strings_that_would_forge_or_garble_are_refused() {
    let base = MINIMAL.replace(
        "    fwmark: 7\n",
        "    fwmark: 7\n    nagios:\n      server: nsca.example.net\n      check: web_status\n      host: prod-lb\n",
    );
    assert!(ok(&base).clusters[0].spec.on_change.is_some());
    for (from, to, key) in [
        (
            "check: web_status",
            "check: \"web_status\\nprod-db,db_status,0,OK\"",
            "nagios.check",
        ),
        ("check: web_status", "check: \"a,b\"", "nagios.check"),
        (
            "host: prod-lb",
            "host: \"prod\\e]0;pwned\\a-lb\"",
            "nagios.host",
        ),
        ("host: prod-lb", "host: \"prod\\u202Elb\"", "nagios.host"),
        ("host: prod-lb", "host: \"\"", "nagios.host"),
        (
            "host: prod-lb",
            &format!("host: {}", "h".repeat(65)),
            "nagios.host",
        ),
        (
            "check: web_status",
            &format!("check: {}", "c".repeat(129)),
            "nagios.check",
        ),
        (
            "server: nsca.example.net",
            "server: \"-c/etc/evil\"",
            "nagios.server",
        ),
        (
            "server: nsca.example.net",
            "server: \"nsca example\"",
            "nagios.server",
        ),
        (
            "server: nsca.example.net",
            "server: \"nsca\\r\"",
            "nagios.server",
        ),
    ] {
        let text = base.replace(from, to);
        let p = one_problem(&text, &format!("cluster web: {key}"), "not ");
        assert_eq!(p.line.map(|l| l >= 5), Some(true), "{to}: {p:?}");
        let shown = SpecError::Invalid {
            file: "f".into(),
            problems: vec![p],
        }
        .to_string();
        assert!(
            !shown.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{to}: {shown:?}"
        );
    }
    // The same checks hold for the defaults' nagios block.
    let defaults = format!(
        "_big_brother:\n  nagios:\n    server: nsca\n    check: \"x\\ny\"\n    host: h\n{MINIMAL}"
    );
    one_problem(&defaults, "_big_brother: nagios.check", "line break");
    // And at the limits the values are fine.
    let edge = base
        .replace("host: prod-lb", &format!("host: {}", "h".repeat(64)))
        .replace(
            "check: web_status",
            &format!("check: \"{} é\"", "c".repeat(125)),
        );
    let c = ok(&edge);
    let argv = &c.clusters[0].spec.on_change.as_ref().unwrap().argv;
    assert_eq!(argv[4], "h".repeat(64));
}

/// Issue 12, item 5: legacy durations get the spec's bounds, located in the YAML; fractions
/// below the original's 100 ms tick become the tick, as the original ran them.
#[test]
fn legacy_durations_are_bounded() {
    for (line, key) in [
        ("    check_interval: 301\n", "cluster web: check_interval"),
        (
            "    check_interval: 18446744073709551615\n",
            "cluster web: check_interval",
        ),
        ("    check_interval: 1e300\n", "cluster web: check_interval"),
        ("    ramp_up_time: 3601\n", "cluster web: ramp_up_time"),
    ] {
        let text = MINIMAL.replace("    fwmark: 7\n", &format!("    fwmark: 7\n{line}"));
        let p = one_problem(&text, key, "a number of seconds from 0 to");
        assert_eq!(p.line, Some(4), "{line}");
    }
    let p = one_problem(
        &format!("_big_brother:\n  check_interval: 20000\n{MINIMAL}"),
        "_big_brother: check_interval",
        "from 0 to 300 (5m), not 20000",
    );
    assert_eq!(p.line, Some(2));
    let i = ok(&MINIMAL.replace(
        "    fwmark: 7\n",
        "    fwmark: 7\n    check_interval: 0.05\n    ramp_up_time: 3600\n",
    ));
    let c = &i.clusters[0];
    assert_eq!(c.spec.check_interval, Duration::from_millis(100));
    assert_eq!(c.spec.ramp_up_time, Duration::from_secs(3600));
    assert!(
        c.notes
            .iter()
            .any(|n| n.contains("check_interval 0.05 becomes 100ms")),
        "{:?}",
        c.notes
    );
    assert!(
        ok(&MINIMAL.replace(
            "    fwmark: 7\n",
            "    fwmark: 7\n    check_interval: 300\n"
        ))
        .clusters[0]
            .spec
            .check_interval
            == Duration::from_secs(300)
    );
}

/// Issue 12, item 7: a legacy file's lists are capped like the spec's.
#[test]
fn legacy_counts_are_capped() {
    let mut t = String::from(
        "clusters:\n  - cluster_name: web\n    fwmark: 7\n    scheduler: wlc\n    nodes:\n",
    );
    for i in 0..=crate::spec::MAX_NODES {
        t.push_str(&format!(
            "      - {{address: 10.0.{}.{}, port: 80}}\n",
            i / 256,
            i % 256 + 1
        ));
    }
    let p = one_problem(
        &t,
        "cluster web: nodes",
        &format!("at most {} nodes per cluster", crate::spec::MAX_NODES),
    );
    assert_eq!(p.line, Some(6));
    let mut many = String::from("clusters:\n");
    for i in 0..=MAX_CLUSTERS {
        many.push_str(&format!(
            "  - {{cluster_name: c{i}, fwmark: {}, scheduler: wlc, nodes: []}}\n",
            i + 1
        ));
    }
    one_problem(
        &many,
        "clusters",
        "at most 1024 clusters in one file, not 1025",
    );
    let mut old = String::new();
    for i in 0..=MAX_CLUSTERS {
        old.push_str(&format!(
            "c{i}: {{fwmark: {}, scheduler: wlc, nodes: []}}\n",
            i + 1
        ));
    }
    one_problem(
        &old,
        "clusters",
        "at most 1024 clusters in one file, not 1025",
    );
}

/// Issue 12, item 8: the agent's path to a legacy file refuses the billion laughs too, naming
/// the file, with OCF's "not configured".
#[test]
fn load_cluster_refuses_alias_bombs() {
    let mut laughs = String::from(
        "_big_brother:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..=9 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        laughs.push_str(&format!("  a{i}: &a{i} [{refs}]\n"));
    }
    laughs.push_str(MINIMAL);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("big_brother.conf");
    std::fs::write(&f, &laughs).unwrap();
    let t = std::time::Instant::now();
    let e = load_cluster(&f, "web").unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(!e.is_missing() && !e.is_denied());
    let msg = e.to_string();
    assert!(msg.starts_with(&format!("{}:", f.display())), "{msg}");
    assert!(
        msg.contains("at most 200000 values once aliases are expanded"),
        "{msg}"
    );
}

mod mutated {
    //! The sweep's property, kept: mutated configs and specs (random edits with hostile
    //! characters) never panic, and whatever is accepted is written and rendered cleanly.
    use super::*;
    use crate::crm::generate::{render_all, Format};
    use crate::text::{is_printable, is_xml_char};
    use proptest::prelude::*;

    const SPEC: &str = include_str!("../../../crm/examples/webapp.toml");

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("\n".to_string()),
            Just(": ".to_string()),
            Just("- ".to_string()),
            Just("*a".to_string()),
            Just("&a ".to_string()),
            Just("\"".to_string()),
            Just("[[vip]]\n".to_string()),
            Just("= \"".to_string()),
            Just("99999999999999999999".to_string()),
            Just("2000m".to_string()),
            Just("\u{feff}\u{202e}\u{fffe}\u{1b}\u{7}\0".to_string()),
            Just("\\u001b\\n\\e".to_string()),
            proptest::collection::vec(any::<char>(), 0..6).prop_map(|v| v.into_iter().collect()),
        ]
    }

    /// Up to eight edits: at a char position, drop up to 4 characters and insert a piece.
    fn mutate(base: &str) -> impl Strategy<Value = String> {
        let base = base.to_string();
        proptest::collection::vec((any::<prop::sample::Index>(), 0usize..4, piece()), 0..8)
            .prop_map(move |edits| {
                let mut chars: Vec<char> = base.chars().collect();
                for (at, drop, insert) in edits {
                    let i = at.index(chars.len() + 1);
                    let end = (i + drop).min(chars.len());
                    chars.splice(i..end, insert.chars());
                }
                chars.into_iter().collect()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn mutated_legacy_configs_never_panic_and_write_clean_specs(text in mutate(EXAMPLE)) {
            if let Ok(i) = import(Path::new("/etc/big_brother.conf"), &text, None, Some(Path::new("/srv"))) {
                for c in &i.clusters {
                    prop_assert!(
                        c.toml.chars().all(|ch| ch == '\n' || is_printable(ch)),
                        "unprintable text in\n{}", c.toml
                    );
                }
            }
        }

        #[test]
        fn mutated_specs_never_panic_and_render_xml(text in mutate(SPEC)) {
            if let Ok(s) = parse(Path::new("w.toml"), &text) {
                let out = render_all(std::slice::from_ref(&s), None, Format::Cib);
                prop_assert!(out.chars().all(is_xml_char), "not XML text:\n{}", out);
            }
        }
    }
}
