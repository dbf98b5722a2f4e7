//! How validation reports: a [`Checker`] collects every problem with its key, line and column
//! (from the raw TOML value's span), and checks the value types every section shares —
//! addresses, ports, bounded integers, durations, operation timeouts.

use std::net::IpAddr;
use std::time::Duration;

use super::model::*;
use super::raw::{RawOpSet, S};
use super::{duration, Problem};
use crate::text::{first_unprintable, quoted};

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The table a byte offset falls in, as a key path (`node[2]`, `ops.ipvs`), or `None` at top level.
pub fn table_at(text: &str, offset: usize) -> Option<String> {
    let before = &text[..offset.min(text.len())];
    let mut current: Option<String> = None;
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for line in before.lines() {
        let l = line.trim();
        if let Some(name) = l.strip_prefix("[[").and_then(|r| r.split("]]").next()) {
            let name = name.trim().to_string();
            let n = counts.entry(name.clone()).or_insert(0);
            current = Some(format!("{name}[{n}]"));
            *n += 1;
        } else if let Some(name) = l.strip_prefix('[').and_then(|r| r.split(']').next()) {
            current = Some(name.trim().to_string());
        }
    }
    current
}

pub struct Checker<'a> {
    pub text: &'a str,
    pub problems: Vec<Problem>,
}

impl Checker<'_> {
    pub fn at<T>(&mut self, v: &S<T>, key: &str, expected: impl Into<String>) {
        let (l, c) = line_col(self.text, v.span().start);
        self.problems.push(Problem {
            line: Some(l),
            column: Some(c),
            key: key.to_string(),
            expected: expected.into(),
        });
    }

    pub fn nowhere(&mut self, key: &str, expected: impl Into<String>) {
        self.problems.push(Problem {
            line: None,
            column: None,
            key: key.to_string(),
            expected: expected.into(),
        });
    }

    pub fn ip(&mut self, v: &S<String>, key: &str) -> Option<IpAddr> {
        match v.get_ref().trim().parse::<IpAddr>() {
            Ok(a) if a.is_unspecified() || a.is_multicast() => {
                self.at(
                    v,
                    key,
                    format!(
                        "a unicast IPv4 or IPv6 address, not {}",
                        quoted(v.get_ref(), 80)
                    ),
                );
                None
            }
            Ok(a) => Some(a),
            Err(_) => {
                self.at(
                    v,
                    key,
                    format!("an IPv4 or IPv6 address, not {}", quoted(v.get_ref(), 80)),
                );
                None
            }
        }
    }

    pub fn int(&mut self, v: &S<i64>, key: &str, lo: i64, hi: i64, what: &str) -> Option<i64> {
        let n = *v.get_ref();
        if n < lo || n > hi {
            self.at(v, key, format!("{what} from {lo} to {hi}, not {n}"));
            None
        } else {
            Some(n)
        }
    }

    pub fn port(&mut self, v: &S<i64>, key: &str) -> Option<u16> {
        self.int(v, key, 1, 65535, "a port")
            .and_then(|n| u16::try_from(n).ok())
    }

    /// A duration within `(min, max)`; `default` when absent (or wrong, after reporting it).
    pub fn duration(
        &mut self,
        v: &Option<S<toml::Value>>,
        key: &str,
        default: Duration,
        (min, max): (Duration, Duration),
    ) -> Duration {
        let Some(v) = v else { return default };
        match v.get_ref() {
            toml::Value::String(s) => match duration::parse_within(s, min, max) {
                Ok(d) => d,
                Err(e) => {
                    self.at(v, key, e);
                    default
                }
            },
            toml::Value::Integer(n) if *n <= 0 => {
                self.at(
                    v,
                    key,
                    format!("a positive duration with a unit, like \"2s\", not {n}"),
                );
                default
            }
            toml::Value::Integer(n) => {
                self.at(
                    v,
                    key,
                    format!("a duration string with a unit, like \"{n}s\" or \"{n}ms\", not the bare number {n}"),
                );
                default
            }
            other => {
                self.at(
                    v,
                    key,
                    format!(
                        "a duration like \"2s\" or \"2000ms\", not {}",
                        other.type_str()
                    ),
                );
                default
            }
        }
    }

    pub fn opset(&mut self, raw: Option<&RawOpSet>, key: &str, default: OpSet) -> OpSet {
        let Some(r) = raw else { return default };
        OpSet {
            start_timeout: self.duration(
                &r.start_timeout,
                &format!("{key}.start_timeout"),
                default.start_timeout,
                limits::OP,
            ),
            stop_timeout: self.duration(
                &r.stop_timeout,
                &format!("{key}.stop_timeout"),
                default.stop_timeout,
                limits::OP,
            ),
            monitor_interval: self.duration(
                &r.monitor_interval,
                &format!("{key}.monitor_interval"),
                default.monitor_interval,
                limits::OP,
            ),
            monitor_timeout: self.duration(
                &r.monitor_timeout,
                &format!("{key}.monitor_timeout"),
                default.monitor_timeout,
                limits::OP,
            ),
        }
    }
}

/// What is wrong with `argv` as a command the spec runs (a check's `check_command`, the
/// cluster's `on_change`), as an "expected …" text, if anything. What execve(2) can carry: no NUL
/// (it ends a C string), each argument well under the kernel's 128 KiB, and a program path that
/// shows as itself in logs. `example` is the program shown in the empty-array message, `what`
/// the subject of "runs without a shell".
pub fn argv_problem(argv: &[String], example: &str, what: &str, max_args: usize) -> Option<String> {
    match argv.first() {
        None => Some(format!(
            "a command as an argument array, like [\"{example}\"], not an empty array"
        )),
        Some(p) if !p.starts_with('/') => Some(format!(
            "an absolute path as the first element (the {what} runs without a shell or PATH lookup), not {}",
            quoted(p, 80)
        )),
        Some(p) if abs_path_problem(p).is_some() => Some(format!(
            "a program path as the first element{}",
            abs_path_problem(p).unwrap_or_default()
        )),
        Some(_) if argv.len() > max_args => {
            Some(format!("at most {max_args} arguments, not {}", argv.len()))
        }
        Some(_) if argv.iter().any(|a| a.contains('\0')) => {
            Some("arguments without NUL characters".to_string())
        }
        Some(_) if argv.iter().any(|a| a.len() > limits::MAX_ARG_BYTES) => Some(format!(
            "arguments of at most {} bytes each, not {}",
            limits::MAX_ARG_BYTES,
            argv.iter().map(String::len).max().unwrap_or(0)
        )),
        Some(_) => None,
    }
}

/// What is wrong with `path` as an absolute path in the spec, as the end of an "expected …"
/// sentence (`", not …"`), if anything.
pub fn abs_path_problem(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        Some(format!(", not {}", quoted(path, 80)))
    } else if path.len() > limits::MAX_PATH_BYTES {
        Some(format!(
            " of at most {} bytes, not {}",
            limits::MAX_PATH_BYTES,
            path.len()
        ))
    } else if first_unprintable(path).is_some() {
        Some(format!(
            " without control or format characters, not {}",
            quoted(path, 80)
        ))
    } else {
        None
    }
}
