//! The check keys (issue 16): `check`, `expect_status`, `expect_body`, `check_command`, `tls`,
//! `tls_server_name`, `tls_ca_file`, `tls_verify`. Each may stand at the top (the default for
//! every node) and in a `[[node]]` (that node's override); a node's keys are merged first and
//! then checked together, so a wrong combination is reported at the key that makes it wrong.

use std::path::PathBuf;

use super::checker::{abs_path_problem, argv_problem, Checker};
use super::model::*;
use super::raw::{RawNode, RawSpec, S};
use crate::text::{first_unprintable, quoted};

/// At most this many `expect_status` items (each a code or a range: a few are plenty).
pub const MAX_EXPECT_STATUS: usize = 32;
/// `expect_body` is searched in a bounded body: a needle of at most 1 KiB.
pub const MAX_EXPECT_BODY: usize = 1024;
/// `check_command`: at most 64 arguments, like `on_change`.
pub const MAX_CHECK_ARGS: usize = 64;
/// A DNS name is at most 253 characters.
pub const MAX_SERVER_NAME: usize = 253;

/// One key's value and the key path it is reported under (`check` or `node[2].check`).
struct K<'a, T> {
    v: &'a S<T>,
    key: String,
}

fn pick<'a, T>(
    top: &'a Option<S<T>>,
    node: &'a Option<S<T>>,
    prefix: &str,
    name: &str,
) -> Option<K<'a, T>> {
    match (node, top) {
        (Some(v), _) => Some(K {
            v,
            key: format!("{prefix}.{name}"),
        }),
        (None, Some(v)) => Some(K {
            v,
            key: name.to_string(),
        }),
        (None, None) => None,
    }
}

/// The check of node `prefix` (`node[i]`), or of the cluster defaults alone when `node` is
/// `None` (so a wrong top-level combination is reported even without nodes). Problems found
/// through a top-level key repeat for every node; the caller removes the repeats.
pub fn check(c: &mut Checker<'_>, raw: &RawSpec, node: Option<&RawNode>, prefix: &str) -> Check {
    // One key's merged value, reported under its own name.
    macro_rules! key {
        ($f:ident) => {
            merge(&raw.$f, node.map(|n| &n.$f), prefix, stringify!($f))
        };
    }
    let check_k = key!(check);
    let status_k = key!(expect_status);
    let body_k = key!(expect_body);
    let cmd_k = key!(check_command);
    let tls_k = key!(tls);
    let name_k = key!(tls_server_name);
    let ca_k = key!(tls_ca_file);
    let verify_k = key!(tls_verify);

    let kind_name = match &check_k {
        None => "litmus",
        Some(k) => match k.v.get_ref().as_str() {
            t @ ("litmus" | "http" | "tcp" | "agent" | "exec") => t,
            other => {
                c.at(
                    k.v,
                    &k.key,
                    format!(
                        "one of \"litmus\", \"http\", \"tcp\", \"agent\", \"exec\", not {}",
                        quoted(other, 80)
                    ),
                );
                return Check::default();
            }
        },
    };
    let only = |what: &str| {
        format!("no {what} unless check = \"http\" (this node's check is \"{kind_name}\")")
    };

    // Keys of another type.
    if kind_name != "http" {
        if let Some(k) = &status_k {
            c.at(k.v, &k.key, only("expect_status"));
        }
        if let Some(k) = &body_k {
            c.at(k.v, &k.key, only("expect_body"));
        }
    }
    if kind_name != "exec" {
        if let Some(k) = &cmd_k {
            c.at(
                k.v,
                &k.key,
                format!("no check_command unless check = \"exec\" (this node's check is \"{kind_name}\")"),
            );
        }
    }

    let kind = match kind_name {
        "http" => CheckKind::Http {
            expect_status: status_k
                .as_ref()
                .map_or_else(|| vec![(200, 299)], |k| expect_status(c, k)),
            expect_body: body_k.as_ref().and_then(|k| expect_body(c, k)),
        },
        "tcp" => CheckKind::Tcp,
        "agent" => CheckKind::Agent,
        "exec" => match &cmd_k {
            Some(k) => CheckKind::Exec {
                argv: check_command(c, k).unwrap_or_default(),
            },
            None => {
                // `kind_name` is "exec" only when a `check` key said so.
                if let Some(k) = &check_k {
                    c.at(
                        k.v,
                        &k.key,
                        "check_command beside check = \"exec\" (the program to run, like [\"/usr/local/bin/probe\", \"--quick\"])",
                    );
                }
                CheckKind::Exec { argv: Vec::new() }
            }
        },
        _ => CheckKind::Litmus,
    };

    // TLS: only `tls = true` on litmus/http; its keys only beside it.
    let tls_on = tls_k.as_ref().is_some_and(|k| *k.v.get_ref());
    if let Some(k) = &tls_k {
        if tls_on && !matches!(kind_name, "litmus" | "http") {
            c.at(
                k.v,
                &k.key,
                format!("no tls unless check = \"litmus\" or \"http\" (this node's check is \"{kind_name}\")"),
            );
        }
    }
    let without_tls = "tls = true beside it (it only configures TLS)";
    if !tls_on {
        if let Some(k) = &name_k {
            c.at(k.v, &k.key, without_tls);
        }
        if let Some(k) = &ca_k {
            c.at(k.v, &k.key, without_tls);
        }
        if let Some(k) = &verify_k {
            c.at(k.v, &k.key, without_tls);
        }
        return Check { kind, tls: None };
    }
    let server_name = name_k.as_ref().and_then(|k| server_name(c, k));
    let ca_file = ca_k.as_ref().and_then(|k| {
        let p = k.v.get_ref();
        match abs_path_problem(p) {
            Some(problem) => {
                c.at(
                    k.v,
                    &k.key,
                    format!("an absolute path to a PEM file of CA certificates{problem}"),
                );
                None
            }
            None => Some(PathBuf::from(p)),
        }
    });
    let verify = verify_k.as_ref().is_none_or(|k| *k.v.get_ref());
    let tls = matches!(kind_name, "litmus" | "http").then_some(CheckTls {
        server_name,
        ca_file,
        verify,
    });
    Check { kind, tls }
}

fn merge<'a, T>(
    top: &'a Option<S<T>>,
    node: Option<&'a Option<S<T>>>,
    prefix: &str,
    name: &str,
) -> Option<K<'a, T>> {
    match node {
        Some(n) => pick(top, n, prefix, name),
        None => top.as_ref().map(|v| K {
            v,
            key: name.to_string(),
        }),
    }
}

fn expect_status(c: &mut Checker<'_>, k: &K<'_, Vec<toml::Value>>) -> Vec<(u16, u16)> {
    let items = k.v.get_ref();
    if items.is_empty() || items.len() > MAX_EXPECT_STATUS {
        c.at(
            k.v,
            &k.key,
            format!(
                "1 to {MAX_EXPECT_STATUS} status codes or ranges, like [200, \"300-399\"], not {} items",
                items.len()
            ),
        );
        return vec![(200, 299)];
    }
    let mut out = Vec::new();
    for item in items {
        match status_item(item) {
            Ok(r) => out.push(r),
            Err(e) => {
                c.at(k.v, &k.key, e);
                return vec![(200, 299)];
            }
        }
    }
    out
}

/// One `expect_status` item: a code `200` or an inclusive range `"200-299"`, codes 100–599.
fn status_item(item: &toml::Value) -> Result<(u16, u16), String> {
    let code = |n: i64| -> Result<u16, String> {
        u16::try_from(n)
            .ok()
            .filter(|n| (100..=599).contains(n))
            .ok_or_else(|| format!("status codes from 100 to 599, not {n}"))
    };
    match item {
        toml::Value::Integer(n) => code(*n).map(|n| (n, n)),
        toml::Value::String(s) => {
            let bad = || {
                format!(
                    "a status code like 200 or a range like \"200-299\", not {}",
                    quoted(s, 40)
                )
            };
            let (a, b) = s.split_once('-').ok_or_else(bad)?;
            let a: i64 = a.trim().parse().map_err(|_| bad())?;
            let b: i64 = b.trim().parse().map_err(|_| bad())?;
            let (a, b) = (code(a)?, code(b)?);
            if a > b {
                return Err(format!("a range from low to high, not {}", quoted(s, 40)));
            }
            Ok((a, b))
        }
        other => Err(format!(
            "a status code like 200 or a range like \"200-299\", not {}",
            other.type_str()
        )),
    }
}

fn expect_body(c: &mut Checker<'_>, k: &K<'_, String>) -> Option<String> {
    let s = k.v.get_ref();
    if s.is_empty() || s.len() > MAX_EXPECT_BODY {
        c.at(
            k.v,
            &k.key,
            format!(
                "a substring of 1 to {MAX_EXPECT_BODY} bytes, not {} bytes",
                s.len()
            ),
        );
        None
    } else if first_unprintable(s).is_some() {
        c.at(
            k.v,
            &k.key,
            format!(
                "printable text without control characters, not {}",
                quoted(s, 80)
            ),
        );
        None
    } else {
        Some(s.clone())
    }
}

fn check_command(c: &mut Checker<'_>, k: &K<'_, Vec<String>>) -> Option<Vec<String>> {
    let argv = k.v.get_ref();
    let problem = argv_problem(
        argv,
        "/usr/local/bin/probe\", \"--quick",
        "check",
        MAX_CHECK_ARGS,
    );
    match problem {
        Some(p) => {
            c.at(k.v, &k.key, p);
            None
        }
        None => Some(argv.clone()),
    }
}

/// A DNS name or an IP address, as SNI and the name the certificate must carry.
fn server_name(c: &mut Checker<'_>, k: &K<'_, String>) -> Option<String> {
    let s = k.v.get_ref();
    let is_ip = s.parse::<std::net::IpAddr>().is_ok();
    let is_dns = !s.is_empty()
        && s.len() <= MAX_SERVER_NAME
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if is_ip || is_dns {
        Some(s.clone())
    } else {
        c.at(
            k.v,
            &k.key,
            format!(
                "a DNS name (at most {MAX_SERVER_NAME} characters) or an IP address, not {}",
                quoted(s, 80)
            ),
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::spec::{parse, Problem, Spec, SpecError};

    use super::*;

    /// A cluster with `top` at the top level and one node carrying `node` keys.
    fn spec(top: &str, node: &str) -> Result<Spec, Vec<Problem>> {
        let text = format!(
            "name = \"web\"\nfwmark = 7\n{top}\n[[vip]]\naddress = \"192.0.2.7\"\n[[node]]\naddress = \"198.51.100.1\"\nport = 80\n{node}\n"
        );
        match parse(Path::new("t.toml"), &text) {
            Ok(s) => Ok(s),
            Err(SpecError::Invalid { problems, .. }) => Err(problems),
            Err(e) => panic!("unexpected {e}"),
        }
    }

    fn messages(top: &str, node: &str) -> Vec<String> {
        spec(top, node)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                format!(
                    "{}:{}: {}: {}",
                    p.line.unwrap_or(0),
                    p.column.unwrap_or(0),
                    p.key,
                    p.expected
                )
            })
            .collect()
    }

    fn one(top: &str, node: &str, want_key: &str, want: &str) {
        let m = messages(top, node);
        assert_eq!(m.len(), 1, "{top:?} / {node:?}: {m:?}");
        assert!(
            m[0].contains(&format!(": {want_key}: ")) && m[0].contains(want),
            "{top:?} / {node:?}: {m:?}"
        );
    }

    #[test]
    fn default_is_litmus_without_tls() {
        let s = spec("", "").unwrap();
        assert_eq!(s.nodes[0].check, Check::default());
        assert_eq!(s.nodes[0].check.kind, CheckKind::Litmus);
    }

    #[test]
    fn cluster_default_and_node_override() {
        let s = spec(
            "check = \"http\"\nexpect_status = [200, \"300-302\"]\nexpect_body = \"ok\"",
            "",
        )
        .unwrap();
        assert_eq!(
            s.nodes[0].check.kind,
            CheckKind::Http {
                expect_status: vec![(200, 200), (300, 302)],
                expect_body: Some("ok".into())
            }
        );
        let s = spec("check = \"tcp\"", "check = \"http\"").unwrap();
        assert_eq!(
            s.nodes[0].check.kind,
            CheckKind::Http {
                expect_status: vec![(200, 299)],
                expect_body: None
            }
        );
        let s = spec(
            "check = \"exec\"\ncheck_command = [\"/bin/true\"]",
            "check_command = [\"/usr/bin/probe\", \"-q\"]",
        )
        .unwrap();
        assert_eq!(
            s.nodes[0].check.kind,
            CheckKind::Exec {
                argv: vec!["/usr/bin/probe".into(), "-q".into()]
            }
        );
        let s = spec("check = \"agent\"", "").unwrap();
        assert_eq!(s.nodes[0].check.kind, CheckKind::Agent);
    }

    #[test]
    fn tls_keys() {
        let s = spec(
            "tls = true\ntls_server_name = \"web.example\"\ntls_ca_file = \"/etc/ssl/ca.pem\"",
            "tls_verify = false",
        )
        .unwrap();
        assert_eq!(
            s.nodes[0].check.tls,
            Some(CheckTls {
                server_name: Some("web.example".into()),
                ca_file: Some(PathBuf::from("/etc/ssl/ca.pem")),
                verify: false
            })
        );
        let s = spec("check = \"http\"\ntls = true", "").unwrap();
        assert_eq!(
            s.nodes[0].check.tls,
            Some(CheckTls {
                server_name: None,
                ca_file: None,
                verify: true
            })
        );
        // tls = false is allowed anywhere (it says what the default says).
        assert!(spec("check = \"tcp\"\ntls = false", "").is_ok());
    }

    #[test]
    fn unknown_check_type() {
        one("check = \"ping\"", "", "check", "one of \"litmus\"");
        one("", "check = \"HTTP\"", "node[0].check", "not \"HTTP\"");
    }

    #[test]
    fn exec_needs_a_command_and_the_command_needs_exec() {
        one(
            "check = \"exec\"",
            "",
            "check",
            "check_command beside check = \"exec\"",
        );
        one(
            "check_command = [\"/bin/true\"]",
            "",
            "check_command",
            "no check_command unless check = \"exec\" (this node's check is \"litmus\")",
        );
        one(
            "check = \"exec\"",
            "check_command = [\"probe\"]",
            "node[0].check_command",
            "an absolute path as the first element",
        );
        one(
            "check = \"exec\"",
            "check_command = []",
            "node[0].check_command",
            "not an empty array",
        );
        let many = vec!["\"x\""; 65].join(", ");
        one(
            "check = \"exec\"",
            &format!("check_command = [\"/bin/true\", {many}]"),
            "node[0].check_command",
            "at most 64 arguments",
        );
        one(
            "check = \"exec\"",
            "check_command = [\"/bin/true\", \"a\\u0000b\"]",
            "node[0].check_command",
            "without NUL",
        );
        let long = "a".repeat(5000);
        one(
            "check = \"exec\"",
            &format!("check_command = [\"/bin/true\", \"{long}\"]"),
            "node[0].check_command",
            "at most 4096 bytes",
        );
    }

    #[test]
    fn tls_only_on_litmus_and_http() {
        for t in ["tcp", "agent"] {
            one(
                &format!("check = \"{t}\"\ntls = true"),
                "",
                "tls",
                &format!(
                    "no tls unless check = \"litmus\" or \"http\" (this node's check is \"{t}\")"
                ),
            );
        }
        let m = messages(
            "check = \"exec\"\ncheck_command = [\"/bin/true\"]",
            "tls = true",
        );
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("node[0].tls: no tls unless"), "{m:?}");
    }

    #[test]
    fn tls_keys_need_tls() {
        for k in [
            "tls_server_name = \"a.example\"",
            "tls_ca_file = \"/etc/ca.pem\"",
            "tls_verify = false",
        ] {
            let key = k.split(' ').next().unwrap_or_default();
            one(k, "", key, "tls = true beside it");
            one(
                &format!("tls = false\n{k}"),
                "",
                key,
                "tls = true beside it",
            );
            one("", k, &format!("node[0].{key}"), "tls = true beside it");
        }
    }

    #[test]
    fn tls_values() {
        one(
            "tls = true\ntls_ca_file = \"ca.pem\"",
            "",
            "tls_ca_file",
            "an absolute path to a PEM file",
        );
        one(
            "tls = true\ntls_server_name = \"a b\"",
            "",
            "tls_server_name",
            "a DNS name",
        );
        one(
            &format!("tls = true\ntls_server_name = \"{}\"", "a".repeat(300)),
            "",
            "tls_server_name",
            "a DNS name",
        );
        assert!(spec("tls = true\ntls_server_name = \"10.0.0.1\"", "").is_ok());
    }

    #[test]
    fn expect_keys_only_on_http() {
        one(
            "expect_status = [200]",
            "",
            "expect_status",
            "no expect_status unless check = \"http\" (this node's check is \"litmus\")",
        );
        one(
            "check = \"tcp\"",
            "expect_body = \"ok\"",
            "node[0].expect_body",
            "no expect_body unless check = \"http\" (this node's check is \"tcp\")",
        );
    }

    #[test]
    fn expect_status_ranges_and_codes() {
        for (v, want) in [
            ("[99]", "from 100 to 599, not 99"),
            ("[600]", "from 100 to 599, not 600"),
            ("[\"300-200\"]", "from low to high"),
            ("[\"2xx\"]", "a range like \"200-299\""),
            ("[\"200-700\"]", "not 700"),
            ("[true]", "not boolean"),
            ("[]", "not 0 items"),
        ] {
            one(
                &format!("check = \"http\"\nexpect_status = {v}"),
                "",
                "expect_status",
                want,
            );
        }
        let many = vec!["200"; 33].join(", ");
        one(
            &format!("check = \"http\"\nexpect_status = [{many}]"),
            "",
            "expect_status",
            "1 to 32",
        );
    }

    #[test]
    fn expect_body_is_bounded_and_printable() {
        one(
            &format!("check = \"http\"\nexpect_body = \"{}\"", "x".repeat(1025)),
            "",
            "expect_body",
            "1 to 1024 bytes",
        );
        one(
            "check = \"http\"\nexpect_body = \"\"",
            "",
            "expect_body",
            "1 to 1024 bytes",
        );
        one(
            "check = \"http\"\nexpect_body = \"a\\u0007\"",
            "",
            "expect_body",
            "printable",
        );
    }

    /// A staged cluster (no nodes) still has its defaults checked.
    #[test]
    fn defaults_are_checked_without_nodes() {
        let text = "name = \"web\"\ncheck = \"exec\"\ntls_verify = false\n[[vip]]\naddress = \"192.0.2.7\"\n";
        let problems = match parse(Path::new("t.toml"), text) {
            Err(SpecError::Invalid { problems, .. }) => problems,
            other => panic!("unexpected {other:?}"),
        };
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["check", "tls_verify"], "{problems:?}");
    }

    /// A wrong top-level key is reported once, at its own line, however many nodes there are.
    #[test]
    fn top_level_problems_are_reported_once_with_position() {
        let m = messages(
            "check = \"tcp\"\ntls = true",
            "[[node]]\naddress = \"198.51.100.2\"\nport = 80",
        );
        assert_eq!(m, vec!["4:7: tls: no tls unless check = \"litmus\" or \"http\" (this node's check is \"tcp\")".to_string()]);
    }
}
