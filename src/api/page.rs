//! The status page (issue 20): one self-contained HTML document for `GET /` when the client
//! prefers HTML ([`super::negotiate`]), pure — cluster views in, a string out — like HAProxy's
//! stats page: every cluster on this director, its service, and per node its health, weight
//! (a bar against its `max_weight`), state, since when, last check latency, drain and override,
//! and the kernel's active and inactive connections.
//!
//! - **Self-contained**: inline CSS, no script, no external asset, no font, no image; it
//!   reloads itself with `<meta http-equiv="refresh">` every [`REFRESH_SECS`]. [`CSP`] lets the
//!   browser load nothing else, so even a mistake in escaping could not run or fetch anything.
//! - **Hostile text** (node ids, errors, reasons, file paths, states, the host name) goes
//!   through [`html`] — element text and double-quoted attributes alike; CSS classes come
//!   from fixed lists, never from the files.
//! - **Phone and wide screen**: a table on wide screens; below 760 px each node is a card.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::text::html;
use super::view::ClusterView;
use crate::ipvs::ServiceKey;
use crate::spec::defaults;
use crate::state::overrides::Override;
use crate::state::repr::DestRepr;
use crate::state::status::{unix_secs, NodeStatus, Now, Status};
use crate::text::ago;

/// How often the page reloads itself, in seconds.
pub const REFRESH_SECS: u32 = 5;

/// The page's Content-Security-Policy: nothing but its own inline styles (the weight bars'
/// widths are `style` attributes). No script source at all, no base, no form target, no frame.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                       form-action 'none'; frame-ancestors 'none'";

const STYLE: &str = r#"
:root{color-scheme:light dark;--bg:#eef1f5;--card:#fff;--fg:#1b2230;--dim:#687286;--line:#e2e6ed;--track:#e4e8ef;
--ok:#178a4c;--okbg:#e0f4e9;--warn:#a86400;--warnbg:#fdf1dc;--bad:#c93636;--badbg:#fce6e6;--info:#2f63c8;--infobg:#e4ecfb;
--mute:#5c6577;--mutebg:#eceff4;--mono:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace}
@media (prefers-color-scheme:dark){:root{--bg:#11151c;--card:#1a1f29;--fg:#e4e8ef;--dim:#8f98aa;--line:#2a313d;
--track:#2c3340;--ok:#4cc082;--okbg:#173526;--warn:#e0a040;--warnbg:#3a2c12;--bad:#f07070;--badbg:#3e1d1d;
--info:#7aa5f5;--infobg:#1b2a47;--mute:#a3abbb;--mutebg:#272d38}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
.top{display:flex;flex-wrap:wrap;align-items:center;gap:8px 18px;padding:12px 20px;background:var(--card);border-bottom:1px solid var(--line)}
h1{font-size:18px;margin:0;white-space:nowrap}
h1 .host{font-weight:400;color:var(--dim)}
.sum{display:flex;flex-wrap:wrap;gap:6px}
.meta{margin-left:auto;color:var(--dim);font-size:12px}
main{max-width:1500px;margin:0 auto;padding:16px}
.empty{color:var(--dim);text-align:center;padding:40px}
.cluster{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--ok);border-radius:8px;margin:0 0 16px;overflow:hidden}
.cluster.stopped{border-left-color:var(--bad)}
.ch{display:flex;flex-wrap:wrap;align-items:center;gap:6px 12px;padding:10px 14px}
.ch h2{font-size:16px;margin:0;overflow-wrap:anywhere}
.svc{font-family:var(--mono);font-size:13px;color:var(--dim)}
.cw{margin-left:auto;color:var(--dim);white-space:nowrap}
.cw b{color:var(--fg);font-size:16px;font-variant-numeric:tabular-nums}
.alerts{list-style:none;margin:0;padding:0 14px 10px;display:grid;gap:4px}
.alerts li{padding:5px 10px;border-radius:6px;font-size:13px;overflow-wrap:anywhere}
.a-bad{background:var(--badbg);color:var(--bad)}.a-warn{background:var(--warnbg);color:var(--warn)}.a-info{background:var(--infobg);color:var(--info)}
table{width:100%;border-collapse:collapse;border-top:1px solid var(--line)}
th{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--dim);font-weight:600;text-align:left;padding:7px 12px;white-space:nowrap}
td{padding:7px 12px;border-top:1px solid var(--line);vertical-align:middle}
.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.tw{overflow-x:auto}
.id{font-family:var(--mono);font-size:13px}
.id span{display:inline-block;max-width:34ch;overflow-wrap:break-word}
.st{max-width:14em;overflow:hidden;text-overflow:ellipsis;vertical-align:middle}
.w{white-space:nowrap}
.bar{display:inline-block;vertical-align:middle;width:150px;height:10px;background:var(--track);border-radius:5px;overflow:hidden;margin-right:8px}
.bar i{display:block;height:100%;background:var(--ok)}
.bar.nz i{min-width:3px}
.s-ramping .bar i{background:var(--info)}.s-failing .bar i{background:var(--warn)}.s-other .bar i,.s-sorry .bar i{background:var(--mute)}
.wn{font-variant-numeric:tabular-nums}.wn small{color:var(--dim)}
.pill{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:600;white-space:nowrap}
.p-ok{background:var(--okbg);color:var(--ok)}.p-bad{background:var(--badbg);color:var(--bad)}.p-warn{background:var(--warnbg);color:var(--warn)}
.p-info{background:var(--infobg);color:var(--info)}.p-mute{background:var(--mutebg);color:var(--mute)}
.note{font-size:13px;overflow-wrap:anywhere;min-width:12em}
.note .pill{margin-right:6px}
.err{color:var(--bad);font-family:var(--mono);font-size:12px}
.dim{color:var(--dim)}
.stopped table{opacity:.7}
footer{max-width:1500px;margin:0 auto;padding:0 16px 24px;color:var(--dim);font-size:12px}
footer a{color:inherit}
@media (max-width:760px){
.top{padding:10px 12px}.meta{margin-left:0}main{padding:10px 8px}
.cw{margin-left:0}
thead{display:none}
table,tbody{display:block}
tr{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:8px 12px;padding:10px 14px;border-top:1px solid var(--line)}
td,td.n{display:block;padding:0;border:0;text-align:left}
td::before{content:attr(data-label);display:block;font-size:10px;text-transform:uppercase;letter-spacing:.05em;color:var(--dim)}
td.id,td.w,td.note{grid-column:1/-1}
td.id{order:-2;font-size:15px;font-weight:600}td.id::before{content:none}
.id span{max-width:100%;overflow-wrap:anywhere}.st{max-width:100%}
td.w{order:-1}
td.note:empty{display:none}
.bar{width:calc(100% - 90px)}
}
"#;

/// The page for `views` as seen at `now` on the director called `host`.
pub fn render(views: &[ClusterView], host: Option<&str>, now: impl Into<Now>) -> String {
    let now = now.into();
    let now_unix = unix_secs(now.wall);
    let mut out = String::with_capacity(16 * 1024);
    let title = match host {
        Some(h) => format!("big_brother · {}", html(h)),
        None => "big_brother".to_string(),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECS}\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
    );
    header(&mut out, views, host, now_unix);
    out.push_str("<main>\n");
    if views.is_empty() {
        out.push_str(
            "<p class=\"empty\">No cluster on this director: no supervisor state and no spec \
             in the config directory.</p>\n",
        );
    }
    for v in views {
        cluster(&mut out, v, now);
    }
    let _ = write!(
        out,
        "</main>\n<footer>big_brother api {}, read-only. The same data as text: \
         <a href=\"/metrics\">/metrics</a>, <code>/cluster/NAME</code>; \
         this page reloads every {REFRESH_SECS} s.</footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    out
}

/// The bar across the top: where, how many clusters and nodes are well, when.
fn header(out: &mut String, views: &[ClusterView], host: Option<&str>, now: u64) {
    let running = views.iter().filter(|v| v.running).count();
    let nodes: Vec<&NodeStatus> = views
        .iter()
        .filter_map(|v| v.status.as_ref())
        .flat_map(|s| s.nodes.iter())
        .collect();
    let serving = nodes.iter().filter(|n| n.weight > 0).count();
    let _ = write!(out, "<header class=\"top\">\n<h1>big_brother");
    if let Some(h) = host {
        let _ = write!(out, " <span class=\"host\">on {}</span>", html(h));
    }
    out.push_str("</h1>\n<div class=\"sum\">");
    let _ = write!(
        out,
        "<span class=\"pill p-ok\" id=\"sum-running\">{running} running</span>"
    );
    let stopped = views.len() - running;
    if stopped > 0 {
        let _ = write!(
            out,
            "<span class=\"pill p-bad\" id=\"sum-stopped\">{stopped} not running</span>"
        );
    }
    let _ = write!(
        out,
        "<span class=\"pill p-info\" id=\"sum-nodes\">{serving} of {} nodes serving</span>",
        nodes.len()
    );
    let _ = write!(
        out,
        "</div>\n<div class=\"meta\">{} · refreshes every {REFRESH_SECS} s</div>\n</header>\n",
        utc(now)
    );
}

/// The service a status names, as operators read it (`TCP 192.0.2.80:443`, `FWM 7`).
fn service(s: &Status) -> String {
    format!(
        "{} · {}",
        ServiceKey::from(s.service.key),
        html(&s.service.scheduler)
    )
}

fn cluster(out: &mut String, v: &ClusterView, at: Now) {
    let now = unix_secs(at.wall);
    let name = html(&v.name);
    let _ = write!(
        out,
        "<section class=\"cluster {}\" id=\"cluster-{name}\" data-cluster=\"{name}\">\n\
         <div class=\"ch\"><h2>{name}</h2>",
        if v.running { "running" } else { "stopped" },
    );
    if v.running {
        out.push_str("<span class=\"pill p-ok\">running</span>");
    } else {
        out.push_str("<span class=\"pill p-bad\">not running</span>");
    }
    let Some(s) = &v.status else {
        out.push_str("</div>\n");
        alerts(out, v, None);
        out.push_str("</section>\n");
        return;
    };
    if s.dry_run {
        out.push_str("<span class=\"pill p-mute\">dry run</span>");
    }
    override_pill(out, s);
    let _ = writeln!(
        out,
        "<span class=\"svc\">{}</span><span class=\"dim\">heartbeat {} ago</span>\
         <span class=\"cw\"><b>{}</b> combined weight</span></div>",
        service(s),
        ago(s.age(at).as_secs()),
        v.combined_weight()
    );
    alerts(out, v, Some(s));
    out.push_str(
        "<div class=\"tw\"><table>\n<thead><tr><th>Node</th><th class=\"n\">Health</th><th>Weight</th>\
         <th>State</th><th class=\"n\">Since</th><th class=\"n\">Latency</th>\
         <th class=\"n\">Active</th><th class=\"n\">Inactive</th>\
         <th>Drain · override · last error</th></tr></thead>\n<tbody>\n",
    );
    for n in &s.nodes {
        node(out, n, s, now);
    }
    for d in &s.dests {
        let id = d.id();
        if !s.nodes.iter().any(|n| n.id == id) {
            sorry(out, d, &id, s);
        }
    }
    out.push_str("</tbody>\n</table></div>\n</section>\n");
}

/// What needs the operator's eye, worst first.
fn alerts(out: &mut String, v: &ClusterView, s: Option<&Status>) {
    let mut items: Vec<(&str, String)> = Vec::new();
    if let Some(p) = &v.problem {
        items.push(("bad", format!("Not running: {}", html(p))));
    } else if !v.running && s.is_some() {
        items.push((
            "info",
            "Stopped; below is the last status its supervisor left (the kernel may still hold \
             these weights)"
                .into(),
        ));
    }
    if let Some(s) = s {
        if let Some(e) = &s.backend_error {
            items.push(("bad", format!("Backend error: {}", html(e))));
        }
        if let Some(p) = s.panic.as_ref().filter(|p| p.active) {
            items.push((
                "bad",
                format!(
                    "PANIC: {} of {} nodes healthy, below panic_threshold {} %: health is not \
                     trusted; kept at their last good weight because they answer TCP: {}",
                    p.healthy,
                    p.counted,
                    p.threshold,
                    if p.held.is_empty() {
                        "none".to_string()
                    } else {
                        html(&p.held.join(", ")).into_owned()
                    }
                ),
            ));
        }
        if let (false, Some(e)) = (s.reload.ok, &s.reload.error) {
            items.push((
                "warn",
                format!(
                    "Reload refused (the previous spec keeps running): {}",
                    html(e)
                ),
            ));
        }
        if let Some(o) = &s.override_state {
            let effect = match o.state {
                Override::Up => "every node at its full weight, whatever its checks say",
                Override::Down => "every node at weight 0",
            };
            let reason = if o.reason.is_empty() {
                String::new()
            } else {
                format!(": {}", html(&o.reason))
            };
            items.push((
                "warn",
                format!(
                    "Override {} ({}){reason} — {effect}",
                    o.state.as_str(),
                    html(&o.origin())
                ),
            ));
        }
        if let Some(e) = &s.drain_error {
            items.push(("warn", format!("Drain file unreadable: {}", html(e))));
        }
        if let Some(e) = &s.override_error {
            items.push(("warn", format!("Override files unreadable: {}", html(e))));
        }
        if let Some(h) = s.on_change.as_ref().filter(|h| h.failures > 0) {
            let last = h
                .last_error
                .as_ref()
                .map_or_else(String::new, |e| format!("; last: {}", html(e)));
            items.push((
                "warn",
                format!("on_change: {} of {} runs failed{last}", h.failures, h.runs),
            ));
        }
        if s.drift > 0 {
            items.push((
                "info",
                format!(
                    "{} changes made outside big_brother were found and undone",
                    s.drift
                ),
            ));
        }
    }
    if items.is_empty() {
        return;
    }
    out.push_str("<ul class=\"alerts\">");
    for (kind, text) in items {
        let _ = write!(out, "<li class=\"a-{kind}\">{text}</li>");
    }
    out.push_str("</ul>\n");
}

/// The state's style: a fixed class, never the file's text.
fn state_class(state: &str) -> (&'static str, &'static str) {
    match state {
        "up" => ("up", "p-ok"),
        "ramping" => ("ramping", "p-info"),
        "failing" => ("failing", "p-warn"),
        "down" | "forced_down" => ("down", "p-bad"),
        // `new`, `drained`, and anything this version does not know.
        _ => ("other", "p-mute"),
    }
}

/// The weight bar's fill, in percent of `max` (0 when `max` is 0), at most 100.
pub fn bar_percent(weight: u32, max: u32) -> f64 {
    if max == 0 {
        return 0.0;
    }
    (f64::from(weight) * 100.0 / f64::from(max)).min(100.0)
}

fn weight_cell(out: &mut String, weight: u32, max: u32) {
    let pct = bar_percent(weight, max);
    let _ = write!(
        out,
        "<td class=\"w\" data-label=\"Weight\"><span class=\"bar{}\" data-weight=\"{weight}\" \
         data-max=\"{max}\"><i style=\"width:{pct:.2}%\"></i></span>\
         <span class=\"wn\">{weight}<small> / {max}</small></span></td>",
        if weight > 0 { " nz" } else { "" }
    );
}

fn node(out: &mut String, n: &NodeStatus, s: &Status, now: u64) {
    let id = html(&n.id);
    let state = html(&n.state);
    let (row, pill) = state_class(&n.state);
    let _ = write!(
        out,
        "<tr class=\"node s-{row}\" data-node=\"{id}\"><td class=\"id\" data-label=\"Node\"><span>{id}</span></td>\
         <td class=\"n\" data-label=\"Health\">{}</td>",
        n.health.map_or_else(|| "–".into(), |h| format!("{h:.0}"))
    );
    // A status file from before max_weight was recorded: the default, or the weight itself if
    // it is higher (an override or an older spec), so the bar never overflows.
    let max = n
        .max_weight
        .unwrap_or_else(|| defaults::MAX_WEIGHT.max(n.weight));
    weight_cell(out, n.weight, max);
    let _ = write!(
        out,
        "<td data-label=\"State\"><span class=\"pill st {pill}\" title=\"{state}\">{state}</span></td>\
         <td class=\"n\" data-label=\"Since\" title=\"since {}\">{}</td>\
         <td class=\"n\" data-label=\"Latency\">{}</td>\
         <td class=\"n\" data-label=\"Active\">{}</td>\
         <td class=\"n\" data-label=\"Inactive\">{}</td>\
         <td class=\"note\" data-label=\"Note\">",
        utc(n.since),
        ago(now.saturating_sub(n.since)),
        n.last_latency_ms
            .map_or_else(|| "–".into(), |l| format!("{l:.1} ms")),
        count(n.active_conns),
        count(n.inactive_conns),
    );
    if n.drained {
        out.push_str("<span class=\"pill p-mute\">drained</span>");
    }
    if let Some(w) = n.weight_override {
        // The node's own override (CIB), which wins over the cluster's.
        let _ = write!(
            out,
            "<span class=\"pill p-warn\">override weight {w}</span>"
        );
    }
    override_pill(out, s);
    if let Some(r) = &n.forced_reason {
        let _ = write!(
            out,
            "<span class=\"pill p-bad\">forced</span><span class=\"reason\">{}</span> ",
            html(r)
        );
    }
    if let Some(e) = &n.last_error {
        let _ = write!(out, "<span class=\"err\">{}</span>", html(e));
    }
    check_note(out, n);
    out.push_str("</td></tr>\n");
}

/// The node's check when it is not the default litmus one (type and target), a TLS check that
/// does not verify certificates, and what the check said (issue 16).
fn check_note(out: &mut String, n: &NodeStatus) {
    let kind = n.check.as_deref().unwrap_or("litmus");
    if kind != "litmus" || n.tls_verify.is_some() {
        let _ = write!(
            out,
            "<span class=\"pill p-mute\">{}</span><span class=\"reason\">{}</span> ",
            html(kind),
            html(n.check_target.as_deref().unwrap_or(""))
        );
    }
    if n.tls_verify == Some(false) {
        out.push_str("<span class=\"pill p-bad\">TLS not verified</span>");
    }
    if let Some(o) = &n.check_output {
        let _ = write!(out, "<span class=\"reason\">{}</span>", html(o));
    }
}

/// A destination that is no node: the sorry server while every node is down, or a node a
/// reload took out, kept at weight 0 until its connections end (issue 15).
fn sorry(out: &mut String, d: &DestRepr, id: &str, s: &Status) {
    if let Some(r) = s.removing.iter().find(|r| r.id == id) {
        let id = html(id);
        let _ = write!(
            out,
            "<tr class=\"node s-removing\" data-node=\"{id}\"><td class=\"id\" data-label=\"Node\"><span>{id}</span></td>\
             <td class=\"n\" data-label=\"Health\">–</td>"
        );
        weight_cell(out, d.weight, d.weight.max(1));
        let _ = writeln!(
            out,
            "<td data-label=\"State\"><span class=\"pill p-warn\">removing</span></td>\
             <td class=\"n\" data-label=\"Since\">–</td><td class=\"n\" data-label=\"Latency\">–</td>\
             <td class=\"n\" data-label=\"Active\">{}</td><td class=\"n\" data-label=\"Inactive\">{}</td>\
             <td class=\"note\" data-label=\"Note\">out of the spec: deleted when its active connections end</td></tr>",
            count(r.active_conns),
            count(r.inactive_conns)
        );
        return;
    }
    let id = html(id);
    let _ = write!(
        out,
        "<tr class=\"node s-sorry\" data-node=\"{id}\"><td class=\"id\" data-label=\"Node\"><span>{id}</span></td>\
         <td class=\"n\" data-label=\"Health\">–</td>"
    );
    weight_cell(out, d.weight, d.weight.max(defaults::SORRY_WEIGHT));
    let _ = writeln!(
        out,
        "<td data-label=\"State\"><span class=\"pill p-mute\">sorry server</span></td>\
         <td class=\"n\" data-label=\"Since\">–</td><td class=\"n\" data-label=\"Latency\">–</td>\
         <td class=\"n\" data-label=\"Active\">–</td><td class=\"n\" data-label=\"Inactive\">–</td>\
         <td class=\"note\" data-label=\"Note\">{}</td></tr>",
        if s.override_state.is_some() {
            "override down"
        } else {
            "every node is down"
        }
    );
}

/// The pill that says an override (a file or the CIB's) holds the cluster (shown on the
/// cluster and each node).
fn override_pill(out: &mut String, s: &Status) {
    if let Some(o) = &s.override_state {
        let _ = write!(
            out,
            "<span class=\"pill p-warn\">override {}</span>",
            o.state.as_str()
        );
    }
}

fn count(c: Option<u32>) -> Cow<'static, str> {
    c.map_or(Cow::Borrowed("–"), |c| Cow::Owned(c.to_string()))
}

/// Unix seconds as `2026-12-04 17:41:42 UTC` (moved to `text`, shared with the CIB drains).
pub use crate::text::utc;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::overrides::Override;
    use crate::state::status::tests::sample;
    use crate::state::status::{OverrideSource, OverrideStatus};
    use std::time::{Duration, UNIX_EPOCH};

    fn node(id: &str, weight: u32, max: Option<u32>, state: &str) -> NodeStatus {
        NodeStatus {
            id: id.into(),
            address: "192.0.2.1".parse().unwrap(),
            health: Some(f64::from(weight)),
            weight,
            state: state.into(),
            drained: false,
            last_latency_ms: Some(2.4),
            last_error: None,
            forced_reason: None,
            since: 900,
            checks: 3,
            check_failures: 0,
            max_weight: max,
            active_conns: Some(12),
            inactive_conns: Some(40),
            check: None,
            check_target: None,
            check_output: None,
            tls_verify: None,
            weight_override: None,
        }
    }

    fn view(name: &str, running: bool, nodes: Vec<NodeStatus>) -> ClusterView {
        let mut s = sample();
        s.cluster = name.into();
        s.nodes = nodes;
        ClusterView {
            name: name.into(),
            running,
            problem: None,
            status: Some(s),
        }
    }

    fn at(secs: u64) -> std::time::SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_798_761_599), "2026-12-31 23:59:59 UTC");
        assert_eq!(utc(4_107_542_400), "2100-03-01 00:00:00 UTC");
        assert!(utc(u64::MAX).ends_with("UTC"), "no overflow");
    }

    #[test]
    fn bars_are_relative_to_max_weight() {
        assert_eq!(bar_percent(50, 100), 50.0);
        assert_eq!(bar_percent(150, 200), 75.0);
        assert_eq!(bar_percent(300, 200), 100.0, "never past the track");
        assert_eq!(bar_percent(0, 0), 0.0);
        assert_eq!(bar_percent(u32::MAX, 1), 100.0);
    }

    #[test]
    fn every_node_with_its_numbers() {
        let v = view(
            "webapp",
            true,
            vec![
                node("10.0.0.1", 50, Some(100), "up"),
                node("10.0.0.2", 150, Some(200), "ramping"),
                node("10.0.0.3", 0, None, "down"),
            ],
        );
        let page = render(&[v], Some("lb1"), at(1_000));
        assert!(page.starts_with("<!DOCTYPE html>\n"), "{page}");
        assert!(page.contains("<title>big_brother · lb1</title>"));
        assert!(page.contains("<meta http-equiv=\"refresh\" content=\"5\">"));
        assert!(page.contains("1970-01-01 00:16:40 UTC"));
        for (id, width, weight, max) in [
            ("10.0.0.1", "50.00", 50, 100),
            ("10.0.0.2", "75.00", 150, 200),
            ("10.0.0.3", "0.00", 0, 100),
        ] {
            let row = page
                .split("<tr class=\"node ")
                .find(|r| r.contains(&format!("data-node=\"{id}\"")))
                .unwrap_or_else(|| panic!("no row for {id}: {page}"));
            assert!(row.contains(&format!("style=\"width:{width}%\"")), "{row}");
            assert!(
                row.contains(&format!("data-weight=\"{weight}\" data-max=\"{max}\"")),
                "{row}"
            );
            assert!(row.contains(">1m40s</td>"), "since: {row}");
            assert!(row.contains(">2.4 ms</td>"), "{row}");
            assert!(row.contains("data-label=\"Active\">12</td>"), "{row}");
            assert!(row.contains("data-label=\"Inactive\">40</td>"), "{row}");
        }
        assert!(page.contains("FWM 7 · wlc"), "the service");
        assert!(page.contains("<b>200</b> combined weight"));
        assert!(page.contains("2 of 3 nodes serving"));
        // Nothing external, nothing executable.
        for banned in ["<script", "src=", "href=\"http", "@import", "url("] {
            assert!(!page.contains(banned), "{banned}");
        }
    }

    /// Issue 16: a node's check type, target, unverified TLS and output show, escaped.
    #[test]
    fn check_types_and_outputs_show() {
        let mut exec = node("10.0.0.1", 40, Some(100), "up");
        exec.check = Some("exec".into());
        exec.check_target = Some("exec /usr/lib/probe --q".into());
        exec.check_output = Some("load <high> & rising".into());
        let mut https = node("10.0.0.2", 100, Some(100), "up");
        https.check = Some("http".into());
        https.check_target = Some("https://10.0.0.2:443/".into());
        https.tls_verify = Some(false);
        let plain = node("10.0.0.3", 100, Some(100), "up");
        let page = render(
            &[view("api", true, vec![exec, https, plain])],
            None,
            at(1_000),
        );
        let row = |id: &str| {
            page.split("<tr class=\"node ")
                .find(|r| r.contains(&format!("data-node=\"{id}\"")))
                .unwrap_or_else(|| panic!("no row for {id}: {page}"))
                .to_string()
        };
        let r = row("10.0.0.1");
        assert!(r.contains(">exec</span>"), "{r}");
        assert!(r.contains("exec /usr/lib/probe --q"), "{r}");
        assert!(r.contains("load &lt;high&gt; &amp; rising"), "{r}");
        let r = row("10.0.0.2");
        assert!(r.contains("TLS not verified"), "{r}");
        assert!(r.contains("https://10.0.0.2:443/"), "{r}");
        let r = row("10.0.0.3");
        assert!(!r.contains("litmus"), "the default stays as it was: {r}");
    }

    /// Issue 15: a panic is a problem line naming the nodes kept; a node being removed is a
    /// `removing` row with its connections, never taken for the sorry server.
    #[test]
    fn panic_and_removals_show() {
        let mut v = view("api", true, vec![node("10.0.0.1", 40, Some(100), "down")]);
        let s = v.status.as_mut().unwrap();
        s.panic = Some(crate::state::status::PanicStatus {
            threshold: 50,
            exit_level: 60,
            active: true,
            since: Some(900),
            healthy: 0,
            counted: 1,
            entered: 1,
            held: vec!["10.0.0.1".into()],
        });
        s.removing = vec![crate::state::status::RemovingStatus {
            id: "10.0.0.9".into(),
            since: 990,
            deadline: 1_290,
            active_conns: Some(4),
            inactive_conns: Some(2),
        }];
        s.dests = vec![DestRepr {
            address: "10.0.0.9".parse().unwrap(),
            port: 0,
            forward: crate::state::repr::ForwardRepr::Ipip,
            weight: 0,
            upper_threshold: 0,
            lower_threshold: 0,
        }];
        let page = render(&[v], None, at(1_000));
        assert!(
            page.contains("PANIC: 0 of 1 nodes healthy, below panic_threshold 50 %"),
            "{page}"
        );
        let row = page
            .split("<tr class=\"node ")
            .find(|r| r.contains("data-node=\"10.0.0.9\""))
            .unwrap_or_else(|| panic!("no removing row: {page}"));
        assert!(
            row.contains(">removing</span>") && row.contains(">4</td>"),
            "{row}"
        );
        assert!(!row.contains("sorry"), "{row}");
    }

    #[test]
    fn stopped_clusters_drains_overrides_and_the_sorry_server() {
        let mut drained = node("10.0.0.1", 0, Some(100), "drained");
        drained.drained = true;
        let mut forced = node("10.0.0.2", 0, Some(100), "forced_down");
        forced.forced_reason = Some("apt upgrades".into());
        forced.weight_override = Some(7);
        let mut v = view("api", true, vec![drained, forced]);
        let s = v.status.as_mut().unwrap();
        s.override_state = Some(OverrideStatus {
            state: Override::Down,
            source: OverrideSource::File,
            file: Some("/etc/big_brother/down/api".into()),
            reason: "maintenance".into(),
            by: None,
            at: None,
        });
        s.dests = vec![DestRepr {
            address: "169.254.254.254".parse().unwrap(),
            port: 0,
            forward: crate::state::repr::ForwardRepr::Ipip,
            weight: 1,
            upper_threshold: 0,
            lower_threshold: 0,
        }];
        let old = ClusterView {
            name: "old".into(),
            running: false,
            problem: Some("supervisor pid 9 stopped reporting".into()),
            status: None,
        };
        let page = render(&[v, old], None, at(1_000));
        assert!(page.contains("<title>big_brother</title>"));
        assert!(page.contains("<span class=\"pill p-mute\">drained</span>"));
        assert!(page.contains(
            "<span class=\"pill p-bad\">forced</span><span class=\"reason\">apt upgrades</span>"
        ));
        assert!(page.contains("Override down (/etc/big_brother/down/api): maintenance"));
        assert!(page.contains("<span class=\"pill p-warn\">override weight 7</span>"));
        assert!(
            page.contains("data-node=\"169.254.254.254\""),
            "sorry server row"
        );
        assert!(page.contains("Not running: supervisor pid 9 stopped reporting"));
        assert!(page.contains("1 not running"));
        assert!(render(&[], None, at(0)).contains("No cluster on this director"));
    }

    /// Every quoted string from a status file is escaped, wherever it lands; classes come from
    /// fixed lists.
    #[test]
    fn hostile_text_stays_text() {
        const EVIL: &str = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>\u{202e}&amp;";
        let mut n = node(EVIL, 10, Some(100), EVIL);
        n.last_error = Some(EVIL.into());
        n.forced_reason = Some(EVIL.into());
        let mut v = view("webapp", false, vec![n]);
        v.problem = Some(EVIL.into());
        let s = v.status.as_mut().unwrap();
        s.backend_error = Some(EVIL.into());
        s.service.scheduler = EVIL.into();
        s.override_state = Some(OverrideStatus {
            state: Override::Up,
            source: OverrideSource::File,
            file: Some(EVIL.into()),
            reason: EVIL.into(),
            by: None,
            at: None,
        });
        s.on_change = Some(crate::state::status::HookStats {
            runs: 1,
            failures: 1,
            last_error: Some(EVIL.into()),
            last_duration_ms: None,
        });
        s.drain_error = Some(EVIL.into());
        let page = render(&[v], Some(EVIL), at(1_000));
        let escaped = html(EVIL);
        assert!(
            !page.contains("<script") && !page.contains("<img"),
            "{page}"
        );
        assert!(!page.contains('\u{202e}'));
        // Every place it was quoted: id (twice, text and attribute), state, error, reason,
        // problem, backend error, scheduler, override file and reason, hook error, drain
        // error, host (title and header).
        assert!(page.matches(escaped.as_ref()).count() >= 14, "{page}");
        assert!(
            page.contains("class=\"node s-other\""),
            "no class from the file"
        );
    }
}
