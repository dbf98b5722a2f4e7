//! The status page (issue 20 item 4), process tier: the real `big_brother api` binary.
//! - Content negotiation: what curl and Ruby's `Net::HTTP.get` (litmus_paper's
//!   `big_brother_service` metric) really send — captured from the real clients by a loopback
//!   listener, then replayed — gets today's text answer byte for byte, headers included; the
//!   real clients read the same bodies; a browser's `Accept` gets the page with its CSP.
//! - Hostile text: a status file whose node id, error, forced reason, state and backend error
//!   carry `<script>`, attribute breakouts and bidi characters; the page shows them as text.
//! - Connections: a dry-run supervisor records `max_weight` and the backend's connection
//!   counts per node in `status.json`; `big_brother status` and the page show them.
//!
//! The real-browser test (headless Chromium) is the tools tier: `tests/api_browser.rs`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::api::{fake_cluster_with, now, started_cluster, Answer, Api};
use crate::util::{bb_env, require_tool};

/// What a browser (Chromium 156) sends when it loads a page.
pub const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,\
     image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";

/// Node error, forced reason and backend error with markup, attribute breakouts, an entity
/// and bidi/zero-width characters: what a hostile endpoint or a corrupted file could carry.
pub const HOSTILE: &str =
    "<script>window.pwned=1</script>\"'><img src=x onerror=\"window.pwned=2\">\
     <svg onload=window.pwned=3>&lt;b&gt;\u{202e}evil\u{2066}\u{200b}";

/// [`HOSTILE`] as the page must show it: every unsafe character as visible `\u{hex}`, the rest
/// as it is (what the DOM's text reads after the browser decodes the character references).
pub fn hostile_shown(s: &str) -> String {
    s.replace('\u{202e}', "\\u{202e}")
        .replace('\u{2066}', "\\u{2066}")
        .replace('\u{200b}', "\\u{200b}")
}

/// A hostile node id: markup, a quote to leave an attribute, and a right-to-left override.
pub const HOSTILE_ID: &str = "192.0.2.66:443\"><script>window.pwned=4</script>\u{202e}";

/// Writes the hostile cluster `evil` (lock held by the returned file: running while it lives)
/// next to whatever else is in `rsctmp`.
pub fn hostile_cluster(rsctmp: &std::path::Path) -> Option<std::fs::File> {
    let nodes = serde_json::json!([
        {"id": "192.0.2.65:443", "address": "192.0.2.65", "health": 60.0, "weight": 60,
         "max_weight": 120, "state": "up", "since": now() - 75, "last_latency_ms": 4.2,
         "last_error": HOSTILE, "active_conns": 17, "inactive_conns": 230},
        {"id": HOSTILE_ID, "address": "192.0.2.66", "health": 0.0, "weight": 0,
         "state": format!("forced_down{HOSTILE}"), "since": now() - 3700,
         "forced_reason": HOSTILE},
    ]);
    fake_cluster_with(rsctmp, "evil", now(), true, nodes, Some(HOSTILE))
}

/// A GET of `/` as raw bytes with the given extra header lines.
fn index_request(headers: &str) -> Vec<u8> {
    format!("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n").into_bytes()
}

/// Runs `cmd` (which is given the port to talk to) against a one-shot loopback listener and
/// returns the request head it sent. The listener answers a minimal 200 and closes.
fn capture_request(cmd: impl FnOnce(u16) -> Command) -> Vec<u8> {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let mut child = cmd(port)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    l.set_nonblocking(true).unwrap();
    let end = Instant::now() + Duration::from_secs(20);
    let mut s = loop {
        match l.accept() {
            Ok((s, _)) => break s,
            Err(_) if Instant::now() < end => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                let _ = child.kill();
                panic!("the client never connected: {e}");
            }
        }
    };
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed before the head ended: {head:?}");
        head.extend_from_slice(&buf[..n]);
    }
    s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        .unwrap();
    drop(s);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    head
}

/// Today's text answers, byte for byte, for the clients that read them; the page only for a
/// client that prefers HTML.
#[test]
fn curl_and_litmus_paper_keep_the_text_answer_byte_for_byte() {
    let d = tempfile::tempdir().unwrap();
    let rsctmp = d.path().join("rsctmp");
    let _web = fake_cluster_with(
        &rsctmp,
        "web",
        now(),
        true,
        serde_json::json!([{"id": "192.0.2.1:443", "address": "192.0.2.1", "weight": 70,
                            "state": "up", "since": 1}]),
        None,
    );
    let api = Api::start(&rsctmp, &d.path().join("cfg"));

    // The answer as the API gave it before the page existed: the original's text, and exactly
    // these headers in this order.
    let body = format!(
        "Big Brother: {}\n\nRunning:\n+ web (TCP 192.0.2.80:443) - CombinedWeight: 70\n\nStopped:\n",
        env!("CARGO_PKG_VERSION")
    );
    let today = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let bytes = |a: Answer| String::from_utf8(a.bytes).unwrap();
    assert_eq!(bytes(api.raw(&index_request(""))), today, "no Accept");

    // What the real clients send, captured, then replayed.
    let curl = capture_request(|port| {
        let mut c = Command::new(require_tool("curl"));
        c.args(["-s", &format!("http://127.0.0.1:{port}/")]);
        c
    });
    let ruby = capture_request(|port| {
        let mut c = Command::new(require_tool("ruby"));
        // litmus_paper's Metric::BigBrotherService#current_health, verbatim but for the path.
        c.args([
            "-rnet/http",
            "-e",
            "print Net::HTTP.get('127.0.0.1', '/', ARGV[0].to_i)",
            &port.to_string(),
        ]);
        c
    });
    let as_text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(
        as_text(&curl).contains("\r\nAccept: */*\r\n"),
        "{}",
        as_text(&curl)
    );
    assert!(
        as_text(&ruby).contains("\r\nAccept: */*\r\n"),
        "{}",
        as_text(&ruby)
    );
    for (who, request) in [
        ("curl", curl),
        ("Ruby Net::HTTP (litmus_paper)", ruby),
        ("*/*", index_request("Accept: */*\r\n")),
        ("text/*", index_request("Accept: text/*\r\n")),
        ("a tie", index_request("Accept: text/plain, text/html\r\n")),
        ("json", index_request("Accept: application/json\r\n")),
        (
            "html refused",
            index_request("Accept: text/html;q=0, */*;q=0.1\r\n"),
        ),
        ("malformed q", index_request("Accept: text/html;q=2\r\n")),
    ] {
        assert_eq!(
            bytes(api.raw(&request)),
            today,
            "{who}: {}",
            as_text(&request)
        );
    }

    // And the real clients read exactly the body (curl directly; Ruby as litmus_paper does).
    let url = format!("http://{}/", api.addr);
    let out = Command::new(require_tool("curl"))
        .args(["-s", &url])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), body);
    let out = Command::new(require_tool("ruby"))
        .args([
            "-rnet/http",
            "-e",
            "print Net::HTTP.get('127.0.0.1', ARGV[1], ARGV[0].to_i)",
            &api.addr.port().to_string(),
            "/cluster/web",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "Running: true\nCombinedWeight: 70\n",
        "litmus_paper's metric reads CombinedWeight"
    );

    // A browser gets the page, with its policy; so does curl when it asks for HTML.
    for request in [
        index_request(&format!("Accept: {BROWSER_ACCEPT}\r\n")),
        index_request("Accept: text/html\r\n"),
    ] {
        let a = api.raw(&request);
        assert_eq!(a.status, 200);
        assert_eq!(
            a.header("Content-Type").as_deref(),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(
            a.header("Content-Security-Policy").as_deref(),
            Some(big_brother::api::page::CSP)
        );
        assert_eq!(
            a.header("X-Content-Type-Options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(a.header("Vary").as_deref(), Some("Accept"));
        assert_eq!(a.header("Cache-Control").as_deref(), Some("no-store"));
        assert!(a.body.starts_with("<!DOCTYPE html>"), "{}", a.body);
        assert!(a.body.contains("data-node=\"192.0.2.1:443\""), "{}", a.body);
    }
    let out = Command::new(require_tool("curl"))
        .args(["-s", "-H", "Accept: text/html", &url])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("<title>big_brother"));
    // HEAD: the page's head, no body.
    let a = api.raw(format!("HEAD / HTTP/1.1\r\nAccept: {BROWSER_ACCEPT}\r\n\r\n").as_bytes());
    assert_eq!((a.status, a.body.as_str()), (200, ""));
    assert_eq!(
        a.header("Content-Type").as_deref(),
        Some("text/html; charset=utf-8")
    );
}

/// Issue 20: hostile text in a status file reaches the page as text — no tag, no attribute
/// breakout, no raw bidi character — wherever it is quoted.
#[test]
fn hostile_text_on_the_page_is_escaped() {
    let d = tempfile::tempdir().unwrap();
    let rsctmp = d.path().join("rsctmp");
    let _evil = hostile_cluster(&rsctmp);
    let api = Api::start(&rsctmp, &d.path().join("cfg"));
    let a = api.raw(&index_request(&format!("Accept: {BROWSER_ACCEPT}\r\n")));
    assert_eq!(a.status, 200, "{a:?}");
    let page = &a.body;
    for raw in [
        "<script",
        "<img",
        "<svg",
        "onerror=\"",
        "\u{202e}",
        "\u{2066}",
        "\u{200b}",
    ] {
        assert!(!page.contains(raw), "{raw:?} reached the page:\n{page}");
    }
    let escaped = "&lt;script&gt;window.pwned=1&lt;/script&gt;&quot;&#39;&gt;&lt;img src=x \
                   onerror=&quot;window.pwned=2&quot;&gt;&lt;svg onload=window.pwned=3&gt;\
                   &amp;lt;b&amp;gt;\\u{202e}evil\\u{2066}\\u{200b}";
    // Node error, forced reason, backend error, the state (twice: after `forced_down`).
    assert!(page.matches(escaped).count() >= 4, "{page}");
    assert!(page.contains(
        "data-node=\"192.0.2.66:443&quot;&gt;&lt;script&gt;window.pwned=4&lt;/script&gt;\\u{202e}\""
    ));
    // The only elements are the page's own: no script, no image, no svg.
    let tags: std::collections::BTreeSet<&str> = page
        .split('<')
        .skip(1)
        .filter_map(|t| {
            t.split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .map(|n| n.trim_start_matches('/'))
        })
        .collect();
    let allowed = [
        "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "span",
        "div", "main", "section", "ul", "li", "table", "thead", "tbody", "tr", "th", "td", "i",
        "b", "small", "footer", "a", "code",
    ];
    for t in &tags {
        assert!(allowed.contains(t), "unexpected element <{t}> in\n{page}");
    }
}

/// The supervisor records `max_weight` and the backend's connection counts per node; the
/// status command and the page show them (the dry-run table counts none: 0).
#[test]
fn connections_reach_status_json_big_brother_status_and_the_page() {
    let c = started_cluster("conns1");
    crate::ocf_support::wait_for("a status with counts", Duration::from_secs(10), || {
        c.status()
            .is_some_and(|s| s["nodes"][1]["active_conns"].is_number())
    });
    let st = c.status().unwrap();
    for n in st["nodes"].as_array().unwrap() {
        assert_eq!(n["max_weight"], 100, "{n}");
        assert_eq!(n["active_conns"], 0, "{n}");
        assert_eq!(n["inactive_conns"], 0, "{n}");
    }
    let r = bb_env(&["status", "conns1"], &[("HA_RSCTMP", &c.rsctmp)]);
    r.expect_code(0);
    let lines: Vec<Vec<String>> = r
        .stdout()
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    let head = lines
        .iter()
        .position(|l| l.first().is_some_and(|w| w == "NODE"))
        .unwrap_or_else(|| panic!("{}", r.stdout()));
    assert_eq!(lines[head][6..8], ["ACTIVE", "INACT"], "{}", r.stdout());
    for row in &lines[head + 1..head + 3] {
        assert_eq!(row[6..8], ["0", "0"], "{}", r.stdout());
    }

    let api = Api::start(&c.rsctmp, c.dir.path());
    let a = api.raw(&index_request("Accept: text/html\r\n"));
    for id in ["127.0.0.1", "127.0.0.2"] {
        let row = a
            .body
            .split("<tr class=\"node ")
            .find(|r| r.contains(&format!("data-node=\"{id}\"")))
            .unwrap_or_else(|| panic!("no row for {id}: {}", a.body));
        assert!(row.contains("data-label=\"Active\">0</td>"), "{row}");
        assert!(row.contains("data-max=\"100\""), "{row}");
    }
}
