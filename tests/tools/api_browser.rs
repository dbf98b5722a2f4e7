//! The status page in a real browser (issue 20 item 4), tools tier: Debian's headless Chromium
//! loads `GET /` from a `big_brother api` on loopback serving a dry-run supervisor's state and a
//! hand-made hostile cluster. Chromium sends its own `Accept`, so this is also the browser's
//! side of content negotiation. Asserted on the rendered DOM: every node row with its numbers,
//! each weight bar's rendered width against its `max_weight`, the hostile strings shown as
//! text, no element or script from them (none ran: no `window.pwned`, no CSP violation), no
//! horizontal scrolling on a phone-sized screen, and the page reloading itself with fresh data.
//! Screenshots (wide and phone) are written to `$BB_TEST_OUT/api_browser/`, by default
//! `target/test-output/api_browser/`, with Chromium's own log beside them.
//!
//! Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: fd 3 in,
//! fd 4 out, one JSON message per NUL-terminated chunk) — no port to race for, no websocket
//! client, no new dependency: serde_json and libc are already here. `--dump-dom` alone cannot
//! measure a rendered width, emulate a phone or watch a reload. Fails loudly without
//! `chromium` (tests/install-deps installs it).

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::api_page::{hostile_cluster, hostile_shown, HOSTILE, HOSTILE_ID};
use crate::process::api::{now, started_cluster, Api};
use crate::util::{repo, require_tool};

/// Longest wait for any one answer or event from the browser.
const STEP: Duration = Duration::from_secs(30);

/// Where this test keeps its screenshots and logs.
fn out_dir() -> PathBuf {
    let base = std::env::var_os("BB_TEST_OUT")
        .map_or_else(|| repo().join("target/test-output"), PathBuf::from);
    let dir = base.join("api_browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A pipe whose ends close on exec (the child gets its own copies at fds 3 and 4).
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array we own.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just created and are owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Headless Chromium on a DevTools pipe; its process group is killed by id when dropped.
struct Chromium {
    child: Child,
    to: File,
    from: Receiver<Value>,
    /// Events that arrived while waiting for something else.
    events: Vec<Value>,
    next_id: u64,
    log: PathBuf,
    _profile: tempfile::TempDir,
}

impl Chromium {
    fn launch(log: PathBuf) -> Chromium {
        let exe = require_tool("chromium");
        let profile = tempfile::tempdir().unwrap();
        let (their_in, our_out) = pipe();
        let (our_in, their_out) = pipe();
        let (fd_in, fd_out) = (their_in.as_raw_fd(), their_out.as_raw_fd());
        let mut cmd = Command::new(exe);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--remote-debugging-pipe",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .stdin(Stdio::null())
        .stdout(File::create(&log).unwrap())
        .stderr(File::options().append(true).open(&log).unwrap())
        .process_group(0);
        // SAFETY: only async-signal-safe calls (fcntl, dup2, close) between fork and exec. The
        // pipe ends are first moved above 10 so that placing one at 3 cannot close the other.
        unsafe {
            cmd.pre_exec(move || {
                let a = libc::fcntl(fd_in, libc::F_DUPFD, 10);
                let b = libc::fcntl(fd_out, libc::F_DUPFD, 10);
                if a < 0 || b < 0 || libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(a);
                libc::close(b);
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        drop((their_in, their_out));
        let (tx, from) = mpsc::channel();
        let reader = BufReader::new(File::from(our_in));
        std::thread::spawn(move || {
            // Ends when Chromium closes its end (exit or kill).
            for chunk in reader.split(0) {
                let Ok(chunk) = chunk else { break };
                match serde_json::from_slice::<Value>(&chunk) {
                    Ok(v) => {
                        if tx.send(v).is_err() {
                            break;
                        }
                    }
                    Err(e) => eprintln!("chromium sent something that is not JSON: {e}"),
                }
            }
        });
        Chromium {
            child,
            to: File::from(our_out),
            from,
            events: Vec::new(),
            next_id: 1,
            log,
            _profile: profile,
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Sends one command (to a page session when `session` is given) and returns its result.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).unwrap();
        let end = Instant::now() + STEP;
        loop {
            let v = self.recv(end, method);
            if v["id"] == json!(id) {
                if let Some(e) = v.get("error") {
                    panic!("{method}: {e}\n{}", self.log_tail());
                }
                return v["result"].clone();
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
    }

    fn recv(&mut self, end: Instant, what: &str) -> Value {
        let left = end.saturating_duration_since(Instant::now());
        match self.from.recv_timeout(left) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => {
                panic!("no answer to {what} within {STEP:?}\n{}", self.log_tail())
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("chromium went away during {what}\n{}", self.log_tail())
            }
        }
    }

    /// Waits for the event `method` of `session` (one that arrived earlier counts) and
    /// consumes it.
    fn event(&mut self, session: &str, method: &str, limit: Duration) -> Value {
        let is_it = |v: &Value| v["method"] == json!(method) && v["sessionId"] == json!(session);
        if let Some(i) = self.events.iter().position(is_it) {
            return self.events.remove(i);
        }
        let end = Instant::now() + limit;
        loop {
            let v = self.recv(end, method);
            if is_it(&v) {
                return v;
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
    }

    fn forget_events(&mut self, session: &str, method: &str) {
        self.events
            .retain(|v| !(v["method"] == json!(method) && v["sessionId"] == json!(session)));
    }

    /// A new tab, attached: its session id.
    fn tab(&mut self) -> String {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        attached["sessionId"].as_str().unwrap().to_string()
    }

    /// Evaluates `expr` (which must produce a JSON string) in the page.
    fn eval(&mut self, session: &str, expr: &str) -> Value {
        let r = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("page script failed: {e}");
        }
        serde_json::from_str(r["result"]["value"].as_str().unwrap()).unwrap()
    }

    /// Sets the viewport; `mobile` emulates a phone (touch, device-width layout).
    fn viewport(&mut self, session: &str, width: u32, height: u32, scale: f64, mobile: bool) {
        self.call(
            Some(session),
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile}),
        );
    }

    /// A screenshot of the whole page at `width`, written to `path`; returns its pixel size.
    fn screenshot(&mut self, session: &str, width: u32, scale: f64, mobile: bool, path: &Path) {
        let height = self.eval(
            session,
            "JSON.stringify(document.documentElement.scrollHeight)",
        );
        let height = u32::try_from(height.as_u64().unwrap()).unwrap().min(8000);
        self.viewport(session, width, height, scale, mobile);
        let shot = self.call(
            Some(session),
            "Page.captureScreenshot",
            json!({"format": "png"}),
        );
        let png = base64_decode(shot["data"].as_str().unwrap());
        // A real PNG of the size asked for: signature, then IHDR's width and height.
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let dim = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
        let px = |css: u32| (f64::from(css) * scale).round() as u32;
        assert_eq!((dim(16), dim(20)), (px(width), px(height)), "{path:?}");
        std::fs::write(path, &png).unwrap();
        eprintln!(
            "api_browser: screenshot {} ({}x{})",
            path.display(),
            dim(16),
            dim(20)
        );
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let mut msg = serde_json::to_vec(&json!({"id": 0, "method": "Browser.close"})).unwrap();
        msg.push(0);
        let _ = self.to.write_all(&msg);
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // The browser's helpers (zygote, renderer) share its process group, made for it.
        let pgid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: signals the process group this fixture created (process_group(0)).
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// RFC 4648 base64 (what DevTools sends screenshots in); panics on anything else.
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c:#x}"),
        }
    };
    let bytes = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= val(*c) << (18 - 6 * i);
        }
        let b = n.to_be_bytes();
        out.extend_from_slice(&b[1..chunk.len()]);
    }
    out
}

/// Installed before any page script: records every CSP violation, so a blocked injection (or
/// anything of ours the policy forbids) shows.
const CSP_WATCH: &str = "window.__csp = []; document.addEventListener('securitypolicyviolation', \
     e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile));";

/// Everything the assertions need from the rendered page, as JSON.
const READ_PAGE: &str = r#"JSON.stringify((() => {
  const cell = (tr, l) => { const td = tr.querySelector(`td[data-label="${l}"]`); return td ? td.textContent : null; };
  const rows = [...document.querySelectorAll('tr.node')].map(tr => {
    const bar = tr.querySelector('.bar'), fill = bar.querySelector('i');
    const box = tr.getBoundingClientRect();
    return {
      cluster: tr.closest('section').dataset.cluster, node: tr.dataset.node,
      weight: +bar.dataset.weight, max: +bar.dataset.max,
      track: bar.getBoundingClientRect().width, fill: fill.getBoundingClientRect().width,
      shown: box.width > 0 && box.height > 0 && getComputedStyle(tr).visibility === 'visible',
      health: cell(tr, 'Health'), state: cell(tr, 'State'), since: cell(tr, 'Since'),
      latency: cell(tr, 'Latency'), active: cell(tr, 'Active'), inactive: cell(tr, 'Inactive'),
      note: cell(tr, 'Note'), id_text: tr.querySelector('td.id').textContent };
  });
  return {
    title: document.title, contentType: document.contentType, rows,
    pwned: typeof window.pwned, csp: window.__csp || null,
    foreign: document.querySelectorAll('script,img,svg,iframe,object,embed,link,base,form,[onerror],[onload]').length,
    alerts: [...document.querySelectorAll('.alerts li')].map(li => li.textContent),
    thead: getComputedStyle(document.querySelector('thead')).display,
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
  };
})())"#;

fn row<'a>(page: &'a Value, node: &str) -> &'a Value {
    page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["node"] == json!(node))
        .unwrap_or_else(|| panic!("no row for {node:?} in {:#}", page["rows"]))
}

/// Checks what every load of the page must show.
fn check_page(page: &Value, layout: &str) {
    assert_eq!(page["contentType"], "text/html", "{layout}");
    assert!(
        page["title"].as_str().unwrap().starts_with("big_brother"),
        "{layout}: {page:#}"
    );
    // No script from the hostile text ran, none was even blocked, and none is in the DOM.
    assert_eq!(
        page["pwned"], "undefined",
        "{layout}: an injected script ran"
    );
    assert_eq!(
        page["csp"],
        json!([]),
        "{layout}: CSP had to block something"
    );
    assert_eq!(page["foreign"], 0, "{layout}: elements from hostile text");
    let rows = page["rows"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        4,
        "{layout}: every node, no other row: {rows:#?}"
    );
    for r in rows {
        assert_eq!(r["shown"], true, "{layout}: {r}");
        // The bar's rendered fill is weight / max_weight of its track (within a pixel).
        let (w, max) = (r["weight"].as_f64().unwrap(), r["max"].as_f64().unwrap());
        let (track, fill) = (r["track"].as_f64().unwrap(), r["fill"].as_f64().unwrap());
        assert!(track >= 60.0, "{layout}: a bar too small to read: {r}");
        let want = track * (w / max).min(1.0);
        assert!(
            (fill - want).abs() <= 1.0,
            "{layout}: bar of {} is {fill}px of {track}px, want {want}px",
            r["node"]
        );
    }
    // The dry-run supervisor's nodes, with what it recorded (cell texts exclude the phone
    // layout's labels: those are CSS-generated content).
    for (node, weight, health) in [("127.0.0.1", 100, "100"), ("127.0.0.2", 40, "40")] {
        let r = row(page, node);
        assert_eq!(r["cluster"], "page1");
        assert_eq!(
            (r["weight"].as_u64(), r["max"].as_u64()),
            (Some(weight), Some(100))
        );
        assert_eq!(
            (&r["health"], &r["state"], &r["active"], &r["inactive"]),
            (&json!(health), &json!("up"), &json!("0"), &json!("0")),
            "{r}"
        );
        assert!(r["latency"].as_str().unwrap().ends_with(" ms"), "{r}");
    }
    // The hostile cluster: its numbers, and its strings as text.
    let r = row(page, "192.0.2.65:443");
    assert_eq!(r["cluster"], "evil");
    assert_eq!(r["max"], 120);
    assert_eq!(
        (&r["health"], &r["active"], &r["inactive"], &r["latency"]),
        (&json!("60"), &json!("17"), &json!("230"), &json!("4.2 ms")),
        "{r}"
    );
    let since = r["since"].as_str().unwrap();
    assert!(
        since.len() == 5 && since.starts_with("1m") && since.ends_with('s'),
        "75 s and the test's own time ago: {since}"
    );
    let shown = hostile_shown(HOSTILE);
    assert_eq!(
        r["note"].as_str().unwrap(),
        shown,
        "{layout}: the error as text: {:?} vs {shown:?}",
        r["note"]
    );
    let evil = row(page, &hostile_shown(HOSTILE_ID));
    assert!(evil["id_text"]
        .as_str()
        .unwrap()
        .contains("<script>window.pwned=4</script>"));
    assert!(evil["note"].as_str().unwrap().contains(&shown), "{evil}");
    assert!(evil["state"].as_str().unwrap().contains(&shown), "{evil}");
    let alerts = page["alerts"].as_array().unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a.as_str().unwrap() == format!("Backend error: {shown}")),
        "{alerts:?}"
    );
}

#[test]
fn the_status_page_in_headless_chromium() {
    let out = out_dir();
    let c = started_cluster("page1");
    let evil = hostile_cluster(&c.rsctmp);
    let api = Api::start(&c.rsctmp, c.dir.path());
    crate::ocf_support::wait_for("the supervisor's counts", Duration::from_secs(10), || {
        c.status().is_some_and(|s| {
            s["nodes"][0]["weight"] == 100
                && s["nodes"][1]["weight"] == 40
                && s["nodes"][1]["active_conns"].is_number()
        })
    });
    let url = format!("http://{}/", api.addr);
    let mut b = Chromium::launch(out.join("chromium.log"));
    let tab = b.tab();
    b.call(Some(&tab), "Page.enable", json!({}));
    b.call(
        Some(&tab),
        "Page.addScriptToEvaluateOnNewDocument",
        json!({"source": CSP_WATCH}),
    );

    // A wide screen.
    b.viewport(&tab, 1400, 900, 1.0, false);
    b.call(Some(&tab), "Page.navigate", json!({"url": url}));
    b.event(&tab, "Page.loadEventFired", STEP);
    let page = b.eval(&tab, READ_PAGE);
    check_page(&page, "wide");
    assert_eq!(
        page["thead"], "table-header-group",
        "a table on a wide screen"
    );
    b.screenshot(&tab, 1400, 1.0, false, &out.join("status-page-wide.png"));

    // It reloads itself, and shows what changed: the hostile cluster's node goes to 90.
    let status = c.rsctmp.join("big_brother/evil/status.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&status).unwrap()).unwrap();
    v["nodes"][0]["weight"] = json!(90);
    v["updated_at"] = json!(now());
    let tmp = status.with_extension("tmp");
    std::fs::write(&tmp, v.to_string()).unwrap();
    std::fs::rename(&tmp, &status).unwrap(); // the API never reads half a file
    b.forget_events(&tab, "Page.loadEventFired");
    let refresh = Duration::from_secs(u64::from(big_brother::api::page::REFRESH_SECS));
    let t0 = Instant::now();
    b.event(&tab, "Page.loadEventFired", refresh + STEP);
    eprintln!(
        "api_browser: the page reloaded itself after {:?}",
        t0.elapsed()
    );
    let page = b.eval(&tab, READ_PAGE);
    assert_eq!(
        row(&page, "192.0.2.65:443")["weight"],
        90,
        "fresh data after the reload"
    );
    check_page(&page, "wide, reloaded");

    // A phone: cards, nothing wider than the screen.
    b.viewport(&tab, 390, 844, 3.0, true);
    b.call(Some(&tab), "Page.reload", json!({}));
    b.event(&tab, "Page.loadEventFired", STEP);
    let page = b.eval(&tab, READ_PAGE);
    assert_eq!(page["thead"], "none", "cards on a phone");
    assert!(
        page["scrollWidth"].as_u64() <= page["innerWidth"].as_u64(),
        "no sideways scrolling on a phone: {} > {}",
        page["scrollWidth"],
        page["innerWidth"]
    );
    check_page(&page, "phone");
    b.screenshot(&tab, 390, 3.0, true, &out.join("status-page-phone.png"));
    drop(evil);
}
