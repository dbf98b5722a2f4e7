//! The API's routes, pure: a request head and a [`Clusters`] source in, a [`Response`] out.
//! The paths and bodies are the original big_brother's (port 9292), so its consumers keep
//! working — litmus_paper's `big_brother_service` metric reads `CombinedWeight: N` from
//! `GET /cluster/NAME` — minus everything that changed state: Pacemaker starts and stops
//! clusters, so PUT/DELETE (and every other method but GET and HEAD) answer 405.
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | `Big Brother: VERSION`, then the running and the stopped clusters; the HTML status page ([`super::page`]) when `Accept` prefers `text/html` ([`super::negotiate`]) |
//! | `GET /cluster/NAME`, `GET /cluster/NAME/status` | `Running: true\|false` and `CombinedWeight: N` |
//! | `GET /cluster/NAME/status_detail` | `{"nodes":{"ID":WEIGHT,…},"cluster":"NAME","running":BOOL}` |
//! | `GET /metrics` | Prometheus text format ([`super::metrics`]) |
//!
//! An unknown cluster is 404 `Cluster NAME not found`, as in the original.

use super::http::{Request, Response, HTML, JSON, PROMETHEUS};
use super::metrics;
use super::negotiate::prefers_html;
use super::page;
use super::text::{json_string, plain};
use super::view::{ClusterView, Clusters};
use crate::ipvs::ServiceKey;
use crate::state::status::Now;

/// What a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route<'a> {
    Index,
    Metrics,
    Status(&'a str),
    Detail(&'a str),
}

fn parse(path: &str) -> Option<Route<'_>> {
    match path {
        "/" => return Some(Route::Index),
        "/metrics" => return Some(Route::Metrics),
        _ => {}
    }
    let rest = path.strip_prefix("/cluster/")?;
    let (name, tail) = match rest.split_once('/') {
        Some((n, t)) => (n, Some(t)),
        None => (rest, None),
    };
    if name.is_empty() {
        return None;
    }
    match tail {
        None | Some("status") => Some(Route::Status(name)),
        Some("status_detail") => Some(Route::Detail(name)),
        Some(_) => None,
    }
}

/// Answers one request.
/// `now`: take [`Now::read`] (heartbeat ages by the boot-time clock, see [`Status::age`]).
pub fn respond(req: &Request, src: &impl Clusters, now: impl Into<Now>) -> Response {
    let now = now.into();
    let Some(route) = parse(&req.path) else {
        return Response::text(404, "Not Found\n");
    };
    if req.method != "GET" && req.method != "HEAD" {
        return Response::text(
            405,
            "Method Not Allowed: this API is read-only; Pacemaker starts and stops clusters \
             (crm resource start|stop ipvs_NAME)\n",
        )
        .with_header("Allow", "GET, HEAD");
    }
    match route {
        Route::Index if prefers_html(req.accept.as_deref()) => {
            let views: Vec<ClusterView> = src.names().iter().filter_map(|n| src.view(n)).collect();
            let body = page::render(&views, src.host().as_deref(), now);
            Response {
                status: 200,
                content_type: HTML,
                body: body.into_bytes(),
                headers: Vec::new(),
            }
            .with_header("Content-Security-Policy", page::CSP)
            .with_header("X-Content-Type-Options", "nosniff")
            // Cache-Control: no-store already keeps every cache from storing either answer;
            // Vary says why they differ. The text answer stays exactly the original's.
            .with_header("Vary", "Accept")
        }
        Route::Index => Response::text(200, index(src)),
        Route::Metrics => {
            let views: Vec<ClusterView> = src.names().iter().filter_map(|n| src.view(n)).collect();
            let mut page = metrics::render(&views, now);
            metrics::render_sync(&mut page, src.sync_daemons().as_deref());
            metrics::render_host_settings(&mut page, src.host_settings().as_deref());
            let mut r = Response::text(200, page);
            r.content_type = PROMETHEUS;
            r
        }
        Route::Status(name) | Route::Detail(name) => {
            let Some(v) = src.view(name) else {
                return Response::text(404, format!("Cluster {} not found", plain(name)));
            };
            if matches!(route, Route::Detail(_)) {
                let mut r = Response::text(200, detail(&v));
                r.content_type = JSON;
                r
            } else {
                Response::text(
                    200,
                    format!(
                        "Running: {}\nCombinedWeight: {}\n",
                        v.running,
                        v.combined_weight()
                    ),
                )
            }
        }
    }
}

/// How the original named a cluster in its index: `name (fwmark)`.
fn label(v: &ClusterView) -> String {
    match v.status.as_ref().map(|s| ServiceKey::from(s.service.key)) {
        Some(ServiceKey::Fwmark { mark, .. }) => format!("{} ({mark})", plain(&v.name)),
        Some(k) => format!("{} ({})", plain(&v.name), plain(&k.to_string())),
        None => plain(&v.name).into_owned(),
    }
}

fn index(src: &impl Clusters) -> String {
    let views: Vec<ClusterView> = src.names().iter().filter_map(|n| src.view(n)).collect();
    let mut out = format!("Big Brother: {}\n\nRunning:\n", env!("CARGO_PKG_VERSION"));
    for v in views.iter().filter(|v| v.running) {
        out.push_str(&format!(
            "+ {} - CombinedWeight: {}\n",
            label(v),
            v.combined_weight()
        ));
    }
    out.push_str("\nStopped:\n");
    for v in views.iter().filter(|v| !v.running) {
        match &v.problem {
            Some(p) => out.push_str(&format!("- {} ({})\n", label(v), plain(p))),
            None => out.push_str(&format!("- {}\n", label(v))),
        }
    }
    out
}

/// The original's `status_detail` JSON, keys in its order.
fn detail(v: &ClusterView) -> String {
    let nodes: Vec<String> = v
        .status
        .iter()
        .flat_map(|s| s.nodes.iter())
        .map(|n| format!("{}:{}", json_string(&n.id), n.weight))
        .collect();
    format!(
        "{{\"nodes\":{{{}}},\"cluster\":{},\"running\":{}}}",
        nodes.join(","),
        json_string(&v.name),
        v.running
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::http::TEXT;
    use crate::state::status::tests::sample;
    use crate::state::status::NodeStatus;
    use std::collections::BTreeMap;

    struct Table(BTreeMap<String, ClusterView>);

    impl Clusters for Table {
        fn names(&self) -> Vec<String> {
            self.0.keys().cloned().collect()
        }
        fn view(&self, name: &str) -> Option<ClusterView> {
            self.0.get(name).cloned()
        }
    }

    fn node(id: &str, weight: u32) -> NodeStatus {
        NodeStatus {
            id: id.into(),
            address: "192.0.2.1".parse().unwrap(),
            health: Some(f64::from(weight)),
            weight,
            state: "up".into(),
            drained: false,
            last_latency_ms: None,
            last_error: None,
            forced_reason: None,
            since: 0,
            checks: 0,
            check_failures: 0,
            max_weight: Some(100),
            active_conns: None,
            inactive_conns: None,
            check: None,
            check_target: None,
            check_output: None,
            tls_verify: None,
            weight_override: None,
        }
    }

    fn table() -> Table {
        let mut s = sample();
        s.nodes = vec![node("10.0.0.1", 50), node("10.0.0.2", 100)];
        let mut t = BTreeMap::new();
        t.insert(
            "webapp".to_string(),
            ClusterView {
                name: "webapp".into(),
                running: true,
                problem: None,
                status: Some(s),
            },
        );
        t.insert(
            "old".to_string(),
            ClusterView {
                name: "old".into(),
                running: false,
                problem: Some("supervisor pid 9 stopped reporting".into()),
                status: None,
            },
        );
        Table(t)
    }

    fn get(path: &str) -> Response {
        req("GET", path)
    }

    fn req(method: &str, path: &str) -> Response {
        let r = Request {
            method: method.into(),
            path: path.into(),
            content_length: None,
            accept: None,
        };
        respond(&r, &table(), Now::read())
    }

    fn body(r: &Response) -> String {
        String::from_utf8(r.body.clone()).unwrap()
    }

    #[test]
    fn the_originals_routes() {
        let r = get("/cluster/webapp");
        assert_eq!(
            (r.status, body(&r).as_str()),
            (200, "Running: true\nCombinedWeight: 150\n")
        );
        assert_eq!(get("/cluster/webapp/status"), r);
        let r = get("/cluster/old");
        assert_eq!(body(&r), "Running: false\nCombinedWeight: 0\n");
        let r = get("/cluster/webapp/status_detail");
        assert_eq!(r.content_type, JSON);
        assert_eq!(
            body(&r),
            r#"{"nodes":{"10.0.0.1":50,"10.0.0.2":100},"cluster":"webapp","running":true}"#
        );
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["nodes"]["10.0.0.2"], 100);
        let r = get("/");
        assert_eq!(
            body(&r),
            format!(
                "Big Brother: {}\n\nRunning:\n+ webapp (7) - CombinedWeight: 150\n\nStopped:\n- old (supervisor pid 9 stopped reporting)\n",
                env!("CARGO_PKG_VERSION")
            )
        );
        let r = get("/metrics");
        assert_eq!(r.content_type, PROMETHEUS);
        assert!(body(&r).contains("big_brother_cluster_combined_weight{cluster=\"webapp\"} 150"));
    }

    #[test]
    fn unknown_things_and_other_methods() {
        let r = get("/cluster/nope");
        assert_eq!(
            (r.status, body(&r).as_str()),
            (404, "Cluster nope not found")
        );
        for p in [
            "/cluster/",
            "/cluster",
            "/cluster/webapp/",
            "/cluster/webapp/x",
            "/x",
            "//",
        ] {
            assert_eq!(get(p).status, 404, "{p}");
        }
        for m in ["PUT", "DELETE", "POST", "PATCH", "OPTIONS"] {
            let r = req(m, "/cluster/webapp");
            assert_eq!(r.status, 405, "{m}");
            assert_eq!(r.headers, [("Allow", "GET, HEAD".to_string())]);
        }
        assert_eq!(req("HEAD", "/cluster/webapp").status, 200);
    }

    fn get_accepting(path: &str, accept: Option<&str>) -> Response {
        let r = Request {
            method: "GET".into(),
            path: path.into(),
            content_length: None,
            accept: accept.map(str::to_string),
        };
        respond(&r, &table(), Now::read())
    }

    /// The page goes to clients that prefer HTML; everyone else gets the original's text,
    /// the whole answer identical to the one without `Accept`.
    #[test]
    fn the_index_is_negotiated() {
        let text = get("/");
        assert_eq!(text.content_type, TEXT);
        assert!(text.headers.is_empty(), "{:?}", text.headers);
        for accept in [
            "*/*",
            "text/*",
            "text/plain",
            "text/html;q=0",
            "application/json",
        ] {
            assert_eq!(get_accepting("/", Some(accept)), text, "{accept}");
        }
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        let r = get_accepting("/", Some(browser));
        assert_eq!((r.status, r.content_type), (200, HTML));
        assert_eq!(
            r.headers,
            [
                ("Content-Security-Policy", page::CSP.to_string()),
                ("X-Content-Type-Options", "nosniff".to_string()),
                ("Vary", "Accept".to_string()),
            ]
        );
        let b = body(&r);
        assert!(b.contains("data-node=\"10.0.0.2\""), "{b}");
        assert!(
            b.contains("Not running: supervisor pid 9 stopped reporting"),
            "{b}"
        );
        // Only the index has a page: the other routes ignore Accept.
        assert_eq!(
            get_accepting("/cluster/webapp", Some(browser)),
            get("/cluster/webapp")
        );
        assert_eq!(get_accepting("/nope", Some(browser)).status, 404);
    }
}
