//! `GET /metrics`: the clusters' status files in the Prometheus text exposition format (0.0.4).
//! Pure: views in, text out. Counters count since the supervisor started (a restart resets
//! them, which Prometheus' `rate()` handles); a node's health is left out until it has one.
//!
//! Families (labels `cluster`, and `node` = the node id as `status` shows it):
//! - per cluster: `big_brother_cluster_running`, `…_combined_weight`, `…_heartbeat_age_seconds`,
//!   `…_override` (`state` = up|down: the one in force), `…_override_source` (`source` =
//!   file|cib, `state`: each place that sets one), `…_cib_read_error` (when the CIB is
//!   watched), `…_drift_repairs_total`, `…_checker_restarts_total`,
//!   `…_checker_error`, `…_reloads_total`,
//!   `…_reload_failed`, `…_on_change_runs_total`, `…_on_change_failures_total`, and with a
//!   `panic_threshold` `…_panic` (1 while health is not trusted) and `…_panics_total`,
//!   `…_nodes_removing` (nodes a reload took out, waiting for their connections);
//! - per node: `big_brother_node_health`, `…_weight`, `…_check_latency_seconds`,
//!   `…_checks_total`, `…_check_failures_total`, `…_drained`, `…_weight_override` (only for
//!   nodes with an override in the CIB), `…_panic_held` (with a
//!   `panic_threshold`: 1 while panic keeps the unhealthy node serving);
//! - per host, read from the kernel (GET_DAEMON) when it can be asked:
//!   `big_brother_ipvs_sync_daemon` (labels `state` = master|backup, `interface`, `sync_id`,
//!   `group`, `port`), 1 per running daemon ([`render_sync`]); `big_brother_ipvs_host_setting`
//!   (label `name` = tcp_timeout|tcpfin_timeout|udp_timeout|expire_nodest_conn|
//!   expire_quiescent_template|sloppy_tcp), the value the kernel has ([`render_host_settings`]).

use std::fmt::Write as _;

use super::text::prometheus_label;
use super::view::ClusterView;
use crate::ipvs::{Setting, SyncDaemon};
use crate::state::overrides::Override;
use crate::state::status::Now;

/// A sample value: integers as integers, floats in full (Rust never prints an exponent), and
/// the format's own spelling of the non-finite ones (Rust's would be `inf`).
fn value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

struct Family<'a> {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    samples: Vec<(Vec<(&'static str, &'a str)>, f64)>,
}

impl<'a> Family<'a> {
    fn new(name: &'static str, kind: &'static str, help: &'static str) -> Family<'a> {
        Family {
            name,
            kind,
            help,
            samples: Vec::new(),
        }
    }

    fn add(&mut self, labels: Vec<(&'static str, &'a str)>, v: f64) {
        self.samples.push((labels, v));
    }

    fn render(&self, out: &mut String) {
        // `writeln!` into a String cannot fail.
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} {}", self.name, self.kind);
        for (labels, v) in &self.samples {
            let l: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", prometheus_label(v)))
                .collect();
            let _ = writeln!(out, "{}{{{}}} {}", self.name, l.join(","), value(*v));
        }
    }
}

/// The host's sync daemons as one family, appended to the page (nothing when the kernel could
/// not be asked: an absent family says "unknown", an empty one "none running").
pub fn render_sync(out: &mut String, daemons: Option<&[SyncDaemon]>) {
    let Some(daemons) = daemons else {
        return;
    };
    let owned: Vec<[String; 5]> = daemons
        .iter()
        .map(|d| {
            [
                d.state.to_string(),
                d.interface.clone(),
                d.sync_id.to_string(),
                d.group_or_default().to_string(),
                d.port_or_default().to_string(),
            ]
        })
        .collect();
    let mut fam = Family::new(
        "big_brother_ipvs_sync_daemon",
        "gauge",
        "1 for each IPVS connection-sync daemon running on this host (at most one master and one backup; ocf:braintree:ipvs_sync runs both), as the kernel lists them.",
    );
    for [state, interface, id, group, port] in &owned {
        fam.add(
            vec![
                ("state", state.as_str()),
                ("interface", interface.as_str()),
                ("sync_id", id.as_str()),
                ("group", group.as_str()),
                ("port", port.as_str()),
            ],
            1.0,
        );
    }
    fam.render(out);
}

/// The whole `/metrics` page for `views` at `now`.
pub fn render(views: &[ClusterView], now: impl Into<Now>) -> String {
    let now = now.into();
    let mut running = Family::new(
        "big_brother_cluster_running",
        "gauge",
        "1 when the cluster's supervisor holds its lock, has a fresh heartbeat and programs IPVS (what the agent's monitor checks), else 0.",
    );
    let mut combined = Family::new(
        "big_brother_cluster_combined_weight",
        "gauge",
        "Sum of the weights applied to the cluster's nodes (the original big_brother's CombinedWeight).",
    );
    let mut age = Family::new(
        "big_brother_cluster_heartbeat_age_seconds",
        "gauge",
        "Seconds since the supervisor last wrote its status file.",
    );
    let mut ovr = Family::new(
        "big_brother_cluster_override",
        "gauge",
        "1 for the cluster-wide override in force (state up or down), from this director's override files or the CIB, else 0.",
    );
    let mut ovr_source = Family::new(
        "big_brother_cluster_override_source",
        "gauge",
        "1 for each place that sets a cluster-wide override: source file (this director's override files) or cib (every director's), with its state; when both do, up wins.",
    );
    let mut cib_error = Family::new(
        "big_brother_cluster_cib_read_error",
        "gauge",
        "1 while the Pacemaker CIB cannot be read or holds an override that cannot be read (the drains and overrides read last stay in force), else 0; absent when the CIB is not watched.",
    );
    let mut weight_override = Family::new(
        "big_brother_node_weight_override",
        "gauge",
        "The weight a node override in the CIB forces on the node (big_brother override CLUSTER NODE WEIGHT; capped by max_weight, a drain still wins); absent without one.",
    );
    let mut drift = Family::new(
        "big_brother_cluster_drift_repairs_total",
        "counter",
        "Changes to the IPVS service made outside big_brother (someone ran ipvsadm), each undone by the tick that found it.",
    );
    let mut checker_restarts = Family::new(
        "big_brother_cluster_checker_restarts_total",
        "counter",
        "Health checker threads restarted (they had exited) or replaced (they had stopped reporting).",
    );
    let mut checker_error = Family::new(
        "big_brother_cluster_checker_error",
        "gauge",
        "1 while some node's checker cannot be kept running (the agent's monitor then fails), else 0.",
    );
    let mut reloads = Family::new(
        "big_brother_cluster_reloads_total",
        "counter",
        "Spec reloads attempted (reload-agent or SIGHUP), successful or not.",
    );
    let mut reload_failed = Family::new(
        "big_brother_cluster_reload_failed",
        "gauge",
        "1 when the last reload was refused and the previous spec still runs.",
    );
    let mut hook_runs = Family::new(
        "big_brother_cluster_on_change_runs_total",
        "counter",
        "on_change commands started.",
    );
    let mut hook_failures = Family::new(
        "big_brother_cluster_on_change_failures_total",
        "counter",
        "on_change commands that failed to start, exited non-zero, died or timed out.",
    );
    let mut panic = Family::new(
        "big_brother_cluster_panic",
        "gauge",
        "1 while the panic threshold is in force: fewer than panic_threshold percent of the nodes are healthy, health is not trusted and nodes that answer TCP keep their last good weight.",
    );
    let mut panics = Family::new(
        "big_brother_cluster_panics_total",
        "counter",
        "Times the cluster entered panic since its supervisor started.",
    );
    let mut removing = Family::new(
        "big_brother_cluster_nodes_removing",
        "gauge",
        "Nodes a reload took out of the spec whose destinations wait at weight 0 for their active connections to end (or removal_timeout).",
    );
    let mut panic_held = Family::new(
        "big_brother_node_panic_held",
        "gauge",
        "1 while panic keeps this unhealthy node at its last good weight (it answers TCP).",
    );
    let mut health = Family::new(
        "big_brother_node_health",
        "gauge",
        "The node's last reported health, 0 to 100 (0 when its check failed).",
    );
    let mut weight = Family::new(
        "big_brother_node_weight",
        "gauge",
        "The IPVS weight applied to the node.",
    );
    let mut latency = Family::new(
        "big_brother_node_check_latency_seconds",
        "gauge",
        "Duration of the node's last health check.",
    );
    let mut checks = Family::new(
        "big_brother_node_checks_total",
        "counter",
        "Health checks made.",
    );
    let mut failures = Family::new(
        "big_brother_node_check_failures_total",
        "counter",
        "Health checks that failed (refused, timed out, bad answer); a Health: 0 answer is not a failure.",
    );
    let mut drained = Family::new(
        "big_brother_node_drained",
        "gauge",
        "1 when an operator drained the node (big_brother drain).",
    );

    for v in views {
        let c = v.name.as_str();
        running.add(vec![("cluster", c)], f64::from(u8::from(v.running)));
        combined.add(vec![("cluster", c)], v.combined_weight() as f64);
        let Some(s) = &v.status else { continue };
        age.add(vec![("cluster", c)], s.age(now).as_secs_f64());
        for o in [Override::Up, Override::Down] {
            let on = s.override_state.as_ref().is_some_and(|x| x.state == o);
            ovr.add(
                vec![("cluster", c), ("state", o.as_str())],
                f64::from(u8::from(on)),
            );
        }
        for o in [&s.override_state, &s.override_other].into_iter().flatten() {
            ovr_source.add(
                vec![
                    ("cluster", c),
                    ("source", o.source.as_str()),
                    ("state", o.state.as_str()),
                ],
                1.0,
            );
        }
        if let Some(cib) = &s.cib {
            cib_error.add(
                vec![("cluster", c)],
                f64::from(u8::from(cib.reachable && cib.error.is_some())),
            );
        }
        drift.add(vec![("cluster", c)], s.drift as f64);
        checker_restarts.add(vec![("cluster", c)], s.checkers.restarts as f64);
        checker_error.add(
            vec![("cluster", c)],
            f64::from(u8::from(s.checkers.error.is_some())),
        );
        reloads.add(vec![("cluster", c)], s.reload.generation as f64);
        reload_failed.add(vec![("cluster", c)], f64::from(u8::from(!s.reload.ok)));
        if let Some(h) = &s.on_change {
            hook_runs.add(vec![("cluster", c)], h.runs as f64);
            hook_failures.add(vec![("cluster", c)], h.failures as f64);
        }
        removing.add(vec![("cluster", c)], s.removing.len() as f64);
        if let Some(p) = &s.panic {
            panic.add(vec![("cluster", c)], f64::from(u8::from(p.active)));
            panics.add(vec![("cluster", c)], p.entered as f64);
        }
        for n in &s.nodes {
            let l = || vec![("cluster", c), ("node", n.id.as_str())];
            if let Some(p) = &s.panic {
                panic_held.add(l(), f64::from(u8::from(p.held.contains(&n.id))));
            }
            if let Some(h) = n.health {
                health.add(l(), h);
            }
            weight.add(l(), f64::from(n.weight));
            if let Some(ms) = n.last_latency_ms {
                latency.add(l(), ms / 1000.0);
            }
            checks.add(l(), n.checks as f64);
            failures.add(l(), n.check_failures as f64);
            drained.add(l(), f64::from(u8::from(n.drained)));
            if let Some(w) = n.weight_override {
                weight_override.add(l(), f64::from(w));
            }
        }
    }

    let mut out = String::new();
    for f in [
        &running,
        &combined,
        &age,
        &ovr,
        &ovr_source,
        &cib_error,
        &drift,
        &checker_restarts,
        &checker_error,
        &reloads,
        &reload_failed,
        &hook_runs,
        &hook_failures,
        &panic,
        &panics,
        &removing,
        &health,
        &weight,
        &latency,
        &checks,
        &failures,
        &drained,
        &weight_override,
        &panic_held,
    ] {
        f.render(&mut out);
    }
    out
}

/// The host-wide IPVS settings as one gauge family; nothing at all when the kernel cannot be
/// asked (`None`).
pub fn render_host_settings(out: &mut String, settings: Option<&[(Setting, u32)]>) {
    let Some(settings) = settings else {
        return;
    };
    let mut fam = Family::new(
        "big_brother_ipvs_host_setting",
        "gauge",
        "Host-wide IPVS settings as the kernel has them: connection timeouts in seconds (tcp_timeout, tcpfin_timeout, udp_timeout) and the net.ipv4.vs sysctls expire_nodest_conn, expire_quiescent_template, sloppy_tcp (ocf:braintree:ipvs_sync can set them).",
    );
    for (s, v) in settings {
        fam.add(vec![("name", s.param())], f64::from(*v));
    }
    fam.render(out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::status::tests::sample;
    use crate::state::status::{
        CibStatus, NodeStatus, OverrideSource, OverrideStatus, PanicStatus, Status,
    };
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn host_settings_are_one_family() {
        let mut out = String::new();
        render_host_settings(&mut out, None);
        assert_eq!(out, "");
        render_host_settings(
            &mut out,
            Some(&[(Setting::UdpTimeout, 300), (Setting::SloppyTcp, 1)]),
        );
        assert!(
            out.contains("# TYPE big_brother_ipvs_host_setting gauge\n"),
            "{out}"
        );
        assert!(
            out.contains("big_brother_ipvs_host_setting{name=\"udp_timeout\"} 300\n"),
            "{out}"
        );
        assert!(
            out.contains("big_brother_ipvs_host_setting{name=\"sloppy_tcp\"} 1\n"),
            "{out}"
        );
    }

    #[test]
    fn sync_daemons_are_one_family_of_ones() {
        use crate::ipvs::{SyncDaemon, SyncState};
        let mut out = String::new();
        render_sync(&mut out, None);
        assert_eq!(out, "", "unknown: no family at all");
        render_sync(&mut out, Some(&[]));
        assert_eq!(
            out.lines().filter(|l| !l.starts_with('#')).count(),
            0,
            "none running: the family without samples"
        );
        let mut out = String::new();
        let m = SyncDaemon::new(SyncState::Master, "eth1", 42).effective(1500);
        let b = SyncDaemon {
            group: Some("ff02::81".parse().unwrap()),
            ..SyncDaemon::new(SyncState::Backup, "eth1", 42)
        }
        .effective(1500);
        render_sync(&mut out, Some(&[m, b]));
        assert!(out.contains(
            "big_brother_ipvs_sync_daemon{state=\"master\",interface=\"eth1\",sync_id=\"42\",group=\"224.0.0.81\",port=\"8848\"} 1\n"
        ), "{out}");
        assert!(
            out.contains("state=\"backup\",interface=\"eth1\",sync_id=\"42\",group=\"ff02::81\""),
            "{out}"
        );
    }

    fn node(id: &str, health: Option<f64>, weight: u32) -> NodeStatus {
        NodeStatus {
            id: id.into(),
            address: "192.0.2.1".parse().unwrap(),
            health,
            weight,
            state: "up".into(),
            drained: false,
            last_latency_ms: Some(2.5),
            last_error: None,
            forced_reason: None,
            since: 0,
            checks: 10,
            check_failures: 3,
            max_weight: None,
            active_conns: None,
            inactive_conns: None,
            check: None,
            check_target: None,
            check_output: None,
            tls_verify: None,
            weight_override: None,
        }
    }

    #[test]
    fn renders_families_and_escapes_labels() {
        let mut s = sample();
        s.nodes = vec![
            node("192.0.2.1", Some(87.5), 88),
            node("[2001:db8::1]:80", None, 0),
        ];
        s.drift = 4;
        s.checkers.restarts = 2;
        s.checkers.error = Some("cannot start a checker thread".into());
        s.override_state = Some(OverrideStatus {
            state: Override::Up,
            source: OverrideSource::Cib,
            file: None,
            reason: String::new(),
            by: Some("alice@lb1".into()),
            at: Some("2026-12-06T04:42:26Z".into()),
        });
        s.override_other = Some(OverrideStatus {
            state: Override::Down,
            source: OverrideSource::File,
            file: Some("/etc/big_brother/down/webapp".into()),
            reason: String::new(),
            by: None,
            at: None,
        });
        s.nodes[0].weight_override = Some(40);
        s.cib = Some(CibStatus {
            reachable: true,
            error: Some("cannot".into()),
            ..CibStatus::default()
        });
        let views = [
            ClusterView {
                name: "webapp".into(),
                running: true,
                problem: None,
                status: Some(s),
            },
            ClusterView {
                name: "we\"ird\\".into(),
                running: false,
                problem: None,
                status: None,
            },
        ];
        let text = render(&views, UNIX_EPOCH + Duration::from_secs(1_003));
        for line in [
            "# TYPE big_brother_cluster_running gauge",
            "big_brother_cluster_running{cluster=\"webapp\"} 1",
            "big_brother_cluster_running{cluster=\"we\\\"ird\\\\\"} 0",
            "big_brother_cluster_combined_weight{cluster=\"webapp\"} 88",
            "big_brother_cluster_heartbeat_age_seconds{cluster=\"webapp\"} 3",
            "big_brother_cluster_override{cluster=\"webapp\",state=\"up\"} 1",
            "big_brother_cluster_override{cluster=\"webapp\",state=\"down\"} 0",
            "big_brother_cluster_override_source{cluster=\"webapp\",source=\"cib\",state=\"up\"} 1",
            "big_brother_cluster_override_source{cluster=\"webapp\",source=\"file\",state=\"down\"} 1",
            "big_brother_cluster_cib_read_error{cluster=\"webapp\"} 1",
            "big_brother_node_weight_override{cluster=\"webapp\",node=\"192.0.2.1\"} 40",
            "big_brother_cluster_drift_repairs_total{cluster=\"webapp\"} 4",
            "big_brother_cluster_checker_restarts_total{cluster=\"webapp\"} 2",
            "big_brother_cluster_checker_error{cluster=\"webapp\"} 1",
            "big_brother_node_health{cluster=\"webapp\",node=\"192.0.2.1\"} 87.5",
            "big_brother_node_weight{cluster=\"webapp\",node=\"[2001:db8::1]:80\"} 0",
            "big_brother_node_check_latency_seconds{cluster=\"webapp\",node=\"192.0.2.1\"} 0.0025",
            "big_brother_node_check_failures_total{cluster=\"webapp\",node=\"192.0.2.1\"} 3",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert!(
            !text.contains("big_brother_node_health{cluster=\"webapp\",node=\"[2001"),
            "no health sample before a check"
        );
        assert!(
            !text.contains("big_brother_node_weight_override{cluster=\"webapp\",node=\"[2001"),
            "no override sample without an override"
        );
        assert!(text.ends_with('\n'));
    }

    /// Issue 15: the panic threshold is loud on /metrics: the cluster gauge, the count of
    /// panics, and which nodes panic keeps serving; nothing of it without a threshold.
    #[test]
    fn panic_is_on_the_page() {
        let mut s = sample();
        s.nodes = vec![node("192.0.2.1", Some(0.0), 70), node("192.0.2.2", None, 0)];
        let view = |s: Status| ClusterView {
            name: "webapp".into(),
            running: true,
            problem: None,
            status: Some(s),
        };
        let text = render(&[view(s.clone())], UNIX_EPOCH);
        assert!(
            !text
                .lines()
                .any(|l| !l.starts_with('#') && l.contains("panic")),
            "no panic samples without a threshold: {text}"
        );
        s.panic = Some(PanicStatus {
            threshold: 50,
            exit_level: 60,
            active: true,
            since: Some(10),
            healthy: 0,
            counted: 2,
            entered: 3,
            held: vec!["192.0.2.1".into()],
        });
        let text = render(&[view(s)], UNIX_EPOCH);
        for line in [
            "# TYPE big_brother_cluster_panic gauge",
            "big_brother_cluster_panic{cluster=\"webapp\"} 1",
            "big_brother_cluster_panics_total{cluster=\"webapp\"} 3",
            "big_brother_node_panic_held{cluster=\"webapp\",node=\"192.0.2.1\"} 1",
            "big_brother_node_panic_held{cluster=\"webapp\",node=\"192.0.2.2\"} 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn values() {
        assert_eq!(value(3.0), "3");
        assert_eq!(value(0.0025), "0.0025");
        assert_eq!(value(1e-7), "0.0000001");
        assert_eq!(value(f64::INFINITY), "+Inf");
        assert_eq!(value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(value(f64::NAN), "NaN");
    }
}
