//! HAProxy's agent-check protocol (what litmus_paper's agent-check server also speaks): connect,
//! read one line (at most [`LINE_LIMIT`] bytes, within the budget), and read it as HAProxy does —
//! words separated by spaces, tabs or commas, each one of:
//! - `ready` / `up`: serving; `NN%`: the health (capped at 100; default 100);
//! - `drain`: serving no new connections, administratively (weight 0, not a failure);
//! - `maint`, `down`, `stopped`, `fail`, `failed`: down; text after `#` is the reason;
//! - anything else (`maxconn:N`, future words): ignored, as HAProxy does.
//!
//! The strongest word wins: down beats drain beats ready, so `drain down#disk` is down.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::plan::{timeout_or_io, Verdict};
use super::{clean_text, CheckError, Health, Phase};

/// Longest agent line read; HAProxy itself reads a small buffer, a real answer is a few words.
pub const LINE_LIMIT: usize = 512;

/// One agent check: connect, read the line, interpret it.
pub fn check(addr: SocketAddr, budget: Duration) -> Result<Verdict, CheckError> {
    let started = Instant::now();
    let deadline = started.checked_add(budget).unwrap_or(started);
    let budget_ms = u64::try_from(budget.as_millis()).unwrap_or(u64::MAX);
    let mut sock = TcpStream::connect_timeout(&addr, budget)
        .map_err(|e| timeout_or_io(Phase::Connect, &e, budget_ms))?;
    let mut line = Vec::with_capacity(64);
    let mut chunk = [0u8; 256];
    loop {
        if line.contains(&b'\n') {
            break;
        }
        if line.len() >= LINE_LIMIT {
            return Err(CheckError::TooLarge {
                what: "agent line",
                limit: LINE_LIMIT,
            });
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(CheckError::Timeout {
                phase: Phase::Line,
                budget_ms,
            });
        }
        sock.set_read_timeout(Some(left))
            .map_err(|e| CheckError::io(Phase::Line, &e))?;
        match sock.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => line.extend_from_slice(chunk.get(..n).unwrap_or(&[])),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(timeout_or_io(Phase::Line, &e, budget_ms)),
        }
    }
    verdict(&line)
}

/// Whether `got` (the bytes read so far) holds the whole line: a newline, or the limit reached
/// ([`verdict`] then says it is too long).
pub fn complete(got: &[u8]) -> bool {
    got.contains(&b'\n') || got.len() >= LINE_LIMIT
}

/// What the agent's line (the bytes read up to its newline or the close) says; a line of
/// [`LINE_LIMIT`] bytes or more without a newline is too large. Shared by [`check`] and the
/// supervisor's event loop.
pub fn verdict(line: &[u8]) -> Result<Verdict, CheckError> {
    if !line.contains(&b'\n') && line.len() >= LINE_LIMIT {
        return Err(CheckError::TooLarge {
            what: "agent line",
            limit: LINE_LIMIT,
        });
    }
    let end = line
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(line.len())
        .min(LINE_LIMIT);
    let text = String::from_utf8_lossy(line.get(..end).unwrap_or(&[])).into_owned();
    let output = clean_text(text.trim_end_matches('\r'));
    let answer = parse(&text)?;
    match answer.state {
        State::Down { word, reason } => Err(CheckError::AgentDown {
            state: word,
            reason,
        }),
        State::Drain | State::Ready => Ok(Verdict {
            health: Health::new(answer.percent.unwrap_or(100.0)),
            drain: answer.state == State::Drain,
            output: Some(output),
        }),
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum State {
    Ready,
    Drain,
    /// `word` is the one the agent said (`down`, `maint`…).
    Down {
        word: String,
        reason: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub state: State,
    /// `NN%`, capped at 100.
    pub percent: Option<f64>,
}

/// Reads one agent line (without its newline). A line with no state word and no percentage is a
/// malformed answer: an agent that says nothing we understand is not healthy.
pub fn parse(line: &str) -> Result<Answer, CheckError> {
    let line = line.trim_end_matches(['\r', '\n']);
    // `#` starts the reason, which runs to the end of the line (it may hold spaces).
    let (words, reason) = match line.split_once('#') {
        Some((w, r)) => (w, Some(clean_text(r.trim())).filter(|r| !r.is_empty())),
        None => (line, None),
    };
    let mut down: Option<String> = None;
    let (mut drain, mut ready) = (false, false);
    let mut percent = None;
    for word in words
        .split([' ', '\t', ','])
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
    {
        match word.as_str() {
            "ready" | "up" => ready = true,
            "drain" => drain = true,
            "maint" | "down" | "stopped" | "fail" | "failed" => {
                down.get_or_insert(word);
            }
            w => {
                if let Some(n) = w.strip_suffix('%') {
                    percent = Some(percentage(n)?);
                }
            }
        }
    }
    let state = match (down, drain) {
        (Some(word), _) => State::Down { word, reason },
        (None, true) => State::Drain,
        (None, false) if ready || percent.is_some() => State::Ready,
        (None, false) => {
            return Err(CheckError::Malformed(format!(
                "agent line {:?} has no state (ready, up, drain, maint, down, stopped, fail) \
                 and no NN%",
                clean_text(line)
            )))
        }
    };
    Ok(Answer { state, percent })
}

/// `NN` of `NN%`: digits only (HAProxy's weights are integers), capped at 100.
fn percentage(n: &str) -> Result<f64, CheckError> {
    if n.is_empty() || n.len() > 6 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CheckError::Malformed(format!(
            "agent weight {:?}: expected NN%",
            clean_text(n)
        )));
    }
    let v: u32 = n
        .parse()
        .map_err(|_| CheckError::Malformed(format!("agent weight {n:?}")))?;
    Ok(f64::from(v.min(100)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(line: &str) -> (State, Option<f64>) {
        let a = parse(line).unwrap();
        (a.state, a.percent)
    }

    fn down(word: &str, reason: Option<&str>) -> State {
        State::Down {
            word: word.into(),
            reason: reason.map(String::from),
        }
    }

    #[test]
    fn haproxy_words() {
        assert_eq!(state("ready up 87%\n"), (State::Ready, Some(87.0)));
        assert_eq!(state("up"), (State::Ready, None));
        assert_eq!(state("READY"), (State::Ready, None));
        assert_eq!(state("75%"), (State::Ready, Some(75.0)));
        assert_eq!(state("250%"), (State::Ready, Some(100.0)));
        assert_eq!(state("drain"), (State::Drain, None));
        assert_eq!(state("drain,50%"), (State::Drain, Some(50.0)));
        assert_eq!(state("maint"), (down("maint", None), None));
        assert_eq!(state("down"), (down("down", None), None));
        assert_eq!(state("stopped\r\n"), (down("stopped", None), None));
        assert_eq!(
            state("failed#disk full, see /var/log"),
            (down("failed", Some("disk full, see /var/log")), None)
        );
        assert_eq!(state("fail # x "), (down("fail", Some("x")), None));
        // Down beats drain beats ready, whatever the order.
        assert_eq!(state("up drain"), (State::Drain, None));
        assert_eq!(state("drain down#bye"), (down("down", Some("bye")), None));
        assert_eq!(state("ready maxconn:30 up"), (State::Ready, None));
    }

    #[test]
    fn nonsense_is_malformed() {
        for bad in [
            "",
            "\n",
            "hello",
            "maxconn:10",
            "#only a reason",
            "up 12.5%",
            "up -3%",
            "up %",
            "up 1234567%",
        ] {
            assert!(
                matches!(parse(bad), Err(CheckError::Malformed(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn reason_is_cleaned_and_bounded() {
        let long = format!("down#{}\u{7}", "x".repeat(1000));
        match parse(&long).unwrap().state {
            State::Down {
                reason: Some(r), ..
            } => {
                assert!(r.chars().count() <= crate::health::REASON_LIMIT + 1); // + the ellipsis
                assert!(!r.contains('\u{7}'));
            }
            s => panic!("{s:?}"),
        }
    }
}
