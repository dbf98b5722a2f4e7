//! A real server's checker block (`HTTP_GET`, `SSL_GET`, `TCP_CHECK`, `MISC_CHECK`) → the node's
//! `check` keys; `misc_path` → an argument vector without a shell.

use std::time::Duration;

use super::{count, kdefaults, port, seconds, Check, Ctx, Inherit, Plan};
use crate::spec::keepalived::parse::Stmt;
use crate::text::quoted;

/// Most items in one `misc_path` (the spec's `check_command` limit).
const MAX_ARGV: usize = 64;

/// A checker block → (check, connect_port, budget, retry).
pub(super) fn checker(
    c: &mut Ctx,
    k: &Stmt,
    plan: &Plan,
    inherit: Inherit,
) -> Option<(Check, Option<u16>, Duration, Option<u32>)> {
    let before = c.problems.len();
    let mut cport = None;
    let mut timeout = inherit.timeout;
    let mut retry = inherit.retry;
    let mut urls: Vec<&Stmt> = Vec::new();
    let mut misc_path: Option<&Stmt> = None;
    let mut dynamic = false;
    let mut sni: Option<String> = None;
    let is_http = matches!(k.key.as_str(), "HTTP_GET" | "SSL_GET");
    let is_misc = k.key == "MISC_CHECK";
    for o in k.children() {
        match (o.key.as_str(), is_http, is_misc) {
            ("connect_port", _, false) => {
                if let Some(a) = c.arg(o, "a port") {
                    cport = port(c, o, a, "a port");
                }
            }
            ("connect_timeout", _, false) => timeout = seconds(c, o),
            ("retry" | "nb_get_retry", _, _) => retry = count(c, o, 1000),
            ("url", true, _) => urls.push(o),
            ("sni_name", true, _) => sni = c.arg(o, "a server name").map(str::to_string),
            ("enable_sni", true, _) => c.drop(o, "big_brother sends tls_server_name as SNI (the node's address unless set): set it to the name the node's certificate carries"),
            ("misc_path", _, true) => misc_path = Some(o),
            ("misc_timeout", _, true) => timeout = seconds(c, o),
            ("misc_dynamic", _, true) => dynamic = true,
            ("user", _, true) => c.drop(o, "the command runs as the supervisor's user"),
            ("connect_ip", _, _) => c.drop(o, "big_brother checks the node's own address"),
            ("bindto" | "bind_port" | "bind_if", _, _) => c.drop(o, "big_brother's checks leave from the system's chosen source address"),
            ("delay_before_retry", _, _) => c.drop(o, "big_brother retries at the next check_interval (fall counts the failures)"),
            ("warmup", _, _) => c.drop(o, "big_brother spreads its checks itself"),
            ("fwmark", _, _) => c.drop(o, "big_brother's checks carry no firewall mark"),
            ("virtualhost", true, _) => c.drop(o, "big_brother's HTTP check sends the node's address as Host"),
            ("http_protocol", true, _) => c.drop(o, "big_brother's HTTP check speaks HTTP/1.1"),
            ("alpha", _, _) => c.drop(o, "big_brother starts a new node at weight 0 and ramps it up after its first good check (ramp_up_time)"),
            ("log_all_failures", _, _) => c.drop(o, "big_brother shows every node's last error in status"),
            ("delay_loop", _, _) => c.drop(o, "big_brother checks every node of a spec at one check_interval (the virtual_server's delay_loop)"),
            _ => c.drop(o, format!("not a {} keyword big_brother knows", k.key)),
        }
    }
    let check = match k.key.as_str() {
        "TCP_CHECK" => Check::Tcp,
        "MISC_CHECK" => {
            let Some(mp) = misc_path else {
                c.bad(k, "a misc_path (the command MISC_CHECK runs)");
                return None;
            };
            let argv =
                c.arg(mp, "the command, quoted")
                    .and_then(|cmd| match split_command(cmd) {
                        Ok(argv) => Some(argv),
                        Err(why) => {
                            c.bad(mp, why);
                            None
                        }
                    })?;
            if dynamic {
                c.notes.push(format!(
                    "line {}: misc_dynamic: the exit status 2-255 sets health (status - 2, at most 100) as a share of max_weight, where keepalived set the weight to status - 2: the same with max_weight = 100",
                    mp.line
                ));
            } else {
                c.notes.push(format!(
                    "line {}: no misc_dynamic: keepalived counted every non-zero exit as down; big_brother's exec counts 1 as down and 2-255 as healthy with less weight: make the command exit 0 or 1",
                    mp.line
                ));
            }
            // keepalived's MISC_CHECK timeout defaults to the delay_loop.
            timeout = timeout.or(Some(plan.interval));
            Check::Exec { argv }
        }
        _ => {
            let tls = k.key == "SSL_GET";
            let (path, status) = match urls.first() {
                Some(u) => url(c, u),
                None => (None, Vec::new()),
            };
            for extra in urls.iter().skip(1) {
                c.drop(
                    extra,
                    format!(
                        "big_brother checks one path per node: the url on line {} is carried",
                        urls.first().map_or(0, |u| u.line)
                    ),
                );
            }
            if tls {
                c.notes.push(format!(
                    "line {}: SSL_GET becomes tls = true with tls_verify = false: keepalived does not verify the server's certificate; set tls_verify = true (and tls_ca_file) once the nodes' certificates verify",
                    k.line
                ));
            }
            Check::Http {
                path,
                status,
                tls,
                server_name: sni,
            }
        }
    };
    let timeout = timeout.unwrap_or(kdefaults::CONNECT_TIMEOUT);
    (c.problems.len() == before).then_some((check, cport, timeout, retry))
}

/// A `url` block → (path, expect_status items).
fn url(c: &mut Ctx, u: &Stmt) -> (Option<String>, Vec<String>) {
    let mut path = None;
    let mut status = Vec::new();
    for o in u.children() {
        match o.key.as_str() {
            "path" => {
                if let Some(raw) = c.arg(o, "a path") {
                    let enc = percent_encode(raw);
                    if enc != raw {
                        c.notes.push(format!(
                            "line {}: path {} is percent-encoded as {enc} (big_brother puts it into the request line as it is)",
                            o.line,
                            quoted(raw, 80)
                        ));
                    }
                    path = Some(enc);
                }
            }
            "status_code" => {
                for a in &o.args {
                    match status_item(a) {
                        Some(item) => status.push(item),
                        None => c.bad(o, format!("HTTP status codes from 100 to 599, or ranges like 200-299, not {}", quoted(a, 80))),
                    }
                }
                if o.args.is_empty() {
                    c.bad(o, "a status code");
                }
            }
            "digest" => c.drop(o, "big_brother does not hash the body: use expect_body (a substring the body must contain)"),
            "regex" | "regex_no_match" | "regex_options" | "regex_stack" | "regex_min_offset" | "regex_max_offset" => {
                c.drop(o, "big_brother matches no regular expression: use expect_body (a substring the body must contain)")
            }
            "virtualhost" => c.drop(o, "big_brother's HTTP check sends the node's address as Host"),
            _ => c.drop(o, "not a url keyword big_brother knows"),
        }
    }
    (path, status)
}

/// A URL path with every byte that is not visible ASCII, and `#`, written as `%XX` (a `%`
/// stays: the path may be encoded already).
fn percent_encode(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_graphic() && b != b'#' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `200` → `200`; `200-299` → `"200-299"`; anything else None.
fn status_item(a: &str) -> Option<String> {
    let code = |s: &str| s.parse::<u16>().ok().filter(|c| (100..=599).contains(c));
    match a.split_once('-') {
        None => code(a).map(|c| c.to_string()),
        Some((lo, hi)) => match (code(lo), code(hi)) {
            (Some(l), Some(h)) if l <= h => Some(format!("\"{l}-{h}\"")),
            _ => None,
        },
    }
}

/// `misc_path`'s command → an argument vector, split as keepalived does (words, `'…'` and
/// `"…"` quoting), refused when only a shell could run it.
pub fn split_command(cmd: &str) -> Result<Vec<String>, String> {
    const SHELL: &[char] = &[
        '|', '&', ';', '<', '>', '(', ')', '$', '`', '\\', '*', '?', '[', ']', '~', '{', '}', '\n',
        '\r',
    ];
    if let Some(ch) = cmd.chars().find(|c| SHELL.contains(c)) {
        return Err(format!(
            "a command without shell syntax (big_brother runs it without a shell), but it has {}: put it in a script and name the script",
            quoted(&ch.to_string(), 10)
        ));
    }
    let mut argv = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for ch in cmd.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(ch);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    argv.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err("a command whose quotes are closed".into());
    }
    if in_word {
        argv.push(cur);
    }
    match argv.first() {
        None => Err("a command to run".into()),
        Some(p) if !p.starts_with('/') => Err(format!(
            "an absolute program path first (big_brother runs no shell and searches no PATH), not {}",
            quoted(p, 80)
        )),
        Some(p) if p.contains('=') => Err("a command, not a variable assignment (that needs a shell)".into()),
        Some(_) if argv.len() > MAX_ARGV => Err(format!("at most {MAX_ARGV} words in the command")),
        Some(_) => Ok(argv),
    }
}
