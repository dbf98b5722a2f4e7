//! Problem collection for the legacy import: one [`Check`] per context (a cluster,
//! `_big_brother`, or the top level), typed getters that treat YAML null as "not set" (as the
//! original's schema did), and every problem located at the value's line and column.

use std::time::Duration;

use super::yaml::{Key, Node, Value};
use crate::spec::Problem;

/// A line and (when known) a column.
pub type Pos = (usize, Option<usize>);

/// Collects problems for one context (`cluster web`, `_big_brother`, or the top level).
pub struct Check {
    ctx: String,
    pub problems: Vec<Problem>,
}

impl Check {
    pub fn new(ctx: &str) -> Check {
        Check {
            ctx: ctx.to_string(),
            problems: Vec::new(),
        }
    }

    pub fn key(&self, key: &str) -> String {
        match (self.ctx.is_empty(), key.is_empty()) {
            (true, _) => key.to_string(),
            (false, true) => self.ctx.clone(),
            (false, false) => format!("{}: {key}", self.ctx),
        }
    }

    pub fn at(&mut self, (line, column): Pos, key: &str, expected: impl Into<String>) {
        self.problems.push(Problem {
            line: Some(line),
            column,
            key: self.key(key),
            expected: expected.into(),
        });
    }

    pub fn at_node(&mut self, n: &Node, key: &str, expected: impl Into<String>) {
        self.at((n.line, Some(n.column)), key, expected);
    }

    pub fn at_key(&mut self, k: &Key, key: &str, expected: impl Into<String>) {
        self.at((k.line, Some(k.column)), key, expected);
    }

    pub fn has_problem(&self, key: &str) -> bool {
        let full = self.key(key);
        self.problems.iter().any(|p| p.key == full)
    }

    pub fn unknown_keys(&mut self, entries: &[(Key, Node)], allowed: &[&str], why: &str) {
        self.unknown_keys_in(entries, allowed, "", why);
    }

    pub fn unknown_keys_in(
        &mut self,
        entries: &[(Key, Node)],
        allowed: &[&str],
        prefix: &str,
        why: &str,
    ) {
        for (k, _) in entries {
            if !allowed.contains(&k.name.as_str()) {
                let key = if prefix.is_empty() {
                    k.name.clone()
                } else {
                    format!("{prefix}.{}", k.name)
                };
                self.at_key(
                    k,
                    &key,
                    format!("one of {} ({why}); not an unknown key", allowed.join(", ")),
                );
            }
        }
    }

    /// An optional integer; null counts as absent.
    pub fn int(&mut self, m: &Node, key: &str) -> Option<i64> {
        self.scalar(m, key, "an integer", |v| match v {
            Value::Int(i) => Some(*i),
            _ => None,
        })
    }

    pub fn bool(&mut self, m: &Node, key: &str) -> Option<bool> {
        self.scalar(m, key, "true or false", |v| match v {
            Value::Bool(b) => Some(*b),
            _ => None,
        })
    }

    /// An optional scalar that `pick` accepts; null counts as absent, anything else is a
    /// problem that says `expected`.
    fn scalar<T>(
        &mut self,
        m: &Node,
        key: &str,
        expected: &str,
        pick: impl FnOnce(&Value) -> Option<T>,
    ) -> Option<T> {
        let n = m.get(key)?;
        if matches!(n.value, Value::Null) {
            return None;
        }
        let v = pick(&n.value);
        if v.is_none() {
            self.at_node(n, key, format!("{expected}, not {}", n.describe()));
        }
        v
    }

    pub fn string<'n>(&mut self, m: &'n Node, key: &str) -> Option<(String, &'n Node)> {
        let n = m.get(key)?;
        match &n.value {
            Value::Null => None,
            Value::Str(s) => Some((s.clone(), n)),
            _ => {
                self.at_node(n, key, format!("a string, not {}", n.describe()));
                None
            }
        }
    }

    /// Seconds as the original wrote them: a whole number (its schema), or a fraction (kept to
    /// the millisecond), at most `max` (the spec's bound for the key it becomes). Zero is
    /// allowed here and handled by the caller, as the original allowed it.
    pub fn seconds(&mut self, m: &Node, key: &str, max: Duration) -> Option<(Duration, Pos)> {
        let n = m.get(key)?;
        let pos = (n.line, Some(n.column));
        let ms = match n.value {
            Value::Null => return None,
            Value::Int(s) if s >= 0 => u64::try_from(s).ok().and_then(|s| s.checked_mul(1000)),
            Value::Float(f) if (0.0..1e12).contains(&f) => {
                // Whole milliseconds; at most 1e15, well inside u64.
                Some((f * 1000.0).round() as u64)
            }
            _ => None,
        };
        match ms.map(Duration::from_millis) {
            Some(d) if d <= max => Some((d, pos)),
            _ => {
                self.at_node(
                    n,
                    key,
                    format!(
                        "a number of seconds from 0 to {} ({}), not {}",
                        max.as_secs(),
                        crate::spec::duration::human(max),
                        n.describe()
                    ),
                );
                None
            }
        }
    }
}
