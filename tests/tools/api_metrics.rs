//! `GET /metrics` read by the official Prometheus parser (Debian's python3-prometheus-client):
//! every family parses, with samples from a real supervisor and hand-made state directories
//! (fresh, stale, crashed), and a node id built to forge a sample comes back as the escaped text
//! it is, in its own label. The process tier checks the same text line by line without the
//! parser (`process::api`).

use std::process::Command;

use crate::process::api::{fake_cluster, fake_cluster_with, now, started_cluster, Api, EVIL_ID};
use crate::util::{run, run_with_stdin};

const PY: &str = "/usr/bin/python3";

/// Every family and its sample count, as the parser sees them.
const COUNT: &str = "import sys\n\
    from prometheus_client.parser import text_string_to_metric_families as p\n\
    fams = list(p(sys.stdin.read()))\n\
    print(len(fams), sum(len(f.samples) for f in fams))\n";

/// The node label of every `big_brother_node_weight` sample of cluster web5.
const LABEL: &str = "import sys\n\
    from prometheus_client.parser import text_string_to_metric_families as p\n\
    for f in p(sys.stdin.read()):\n    for s in f.samples:\n        \
    if s.name == 'big_brother_node_weight' and s.labels['cluster'] == 'web5':\n            \
    print(repr(s.labels['node']))\n";

#[test]
fn metrics_parse_with_the_official_prometheus_parser() {
    let r = run(Command::new(PY).args(["-c", "import prometheus_client"]));
    assert_eq!(
        r.code(),
        0,
        "python3-prometheus-client is missing; run tests/install-deps\n{}",
        r.stderr()
    );
    let c = started_cluster("web1");
    let _fresh = fake_cluster(&c.rsctmp, "fresh", now(), true);
    let _stale = fake_cluster(&c.rsctmp, "stale", now() - 120, true);
    let _crashed = fake_cluster(&c.rsctmp, "crashed", now(), false);
    let nodes = serde_json::json!([
        {"id": EVIL_ID, "address": "192.0.2.1", "health": 50.0, "weight": 50, "state": "up",
         "since": 1}
    ]);
    let _evil = fake_cluster_with(&c.rsctmp, "web5", now(), true, nodes, None);
    let api = Api::start(&c.rsctmp, c.dir.path());
    let m = api.get("/metrics").body;

    let r = run_with_stdin(Command::new(PY).args(["-c", COUNT]), &m);
    r.expect_code(0);
    let counts: Vec<usize> = r
        .stdout()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    // Every family the page announces (one `# TYPE` line each) is one the parser read.
    let announced = m.lines().filter(|l| l.starts_with("# TYPE ")).count();
    assert!(announced >= 17, "families announced: {announced}\n{m}");
    assert_eq!(
        counts[0],
        announced,
        "every family parsed: {}\n{m}",
        r.stdout()
    );
    assert!(
        counts[1] > 40,
        "samples of all five clusters: {}",
        r.stdout()
    );

    assert!(
        !m.lines().any(|l| l.starts_with("big_brother_forged")),
        "{m}"
    );
    let r = run_with_stdin(Command::new(PY).args(["-c", LABEL]), &m);
    r.expect_code(0);
    assert_eq!(
        r.stdout().trim(),
        r#"'x"} 1\\u{a}big_brother_forged 1\\u{d}\\u{1b}]0;owned\\u{7}\\u{202e}\\u{2028}\\u{200b}\\u{feff}\\u{9b}\\'"#
    );
    c.agent("stop", &[]).expect_code(0);
}
