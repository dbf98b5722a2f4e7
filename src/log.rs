//! Logging in resource-agents' dialect (`ocf-shellfuncs`: `ocf_log`, `ha_log`, `ha_debug`,
//! `ocf_exit_reason`), so big_brother's lines sit next to IPaddr2's in the same places:
//!
//! - tag `<program>(<OCF_RESOURCE_INSTANCE>)[<pid>]` (`set_logtag`);
//! - syslog at `HA_LOGFACILITY` (default `daemon`; `none` turns it off), priority from the level;
//! - appended to `HA_LOGFILE` when set, as `<date> <tag>:    <LEVEL>: <msg>`;
//! - debug lines only with `HA_debug` set and not `0`, to syslog and `HA_DEBUGLOG`;
//! - when stderr is a terminal (someone runs the agent by hand) to stderr instead, as
//!   `ha_log` does.
//!
//! `ocf-exit-reason:<msg>` goes to stderr (Pacemaker shows it as the failure reason) and is logged
//! as an error. A process-wide logger is configured once by [`init`]; before that, nothing is
//! logged (the informational actions never call `init`).

use std::ffi::CString;
use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn label(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARNING",
            Level::Error => "ERROR",
        }
    }
    fn priority(self) -> libc::c_int {
        match self {
            Level::Debug => libc::LOG_DEBUG,
            Level::Info => libc::LOG_INFO,
            Level::Warn => libc::LOG_WARNING,
            Level::Error => libc::LOG_ERR,
        }
    }
}

/// Where log lines go, decided once from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `<program>(<instance>)` without the pid (syslog adds it with `LOG_PID`).
    pub ident: String,
    pub facility: Option<libc::c_int>,
    pub logfile: Option<String>,
    pub debuglog: Option<String>,
    pub debug: bool,
    pub stderr_is_tty: bool,
}

impl Config {
    /// Reads `HA_LOGFACILITY`, `HA_LOGFILE`, `HA_DEBUGLOG`, `HA_debug` through `get`.
    pub fn from_lookup(
        program: &str,
        instance: Option<&str>,
        get: impl Fn(&str) -> Option<String>,
        stderr_is_tty: bool,
    ) -> Config {
        let nonempty = |k: &str| get(k).filter(|v| !v.is_empty());
        let facility = match nonempty("HA_LOGFACILITY") {
            None => Some(libc::LOG_DAEMON),
            Some(f) if f == "none" => None,
            Some(f) => Some(facility(&f).unwrap_or(libc::LOG_DAEMON)),
        };
        Config {
            ident: match instance {
                Some(i) => format!("{program}({i})"),
                None => program.to_string(),
            },
            facility,
            logfile: nonempty("HA_LOGFILE"),
            // ocf-directories defaults HA_DEBUGLOG to /dev/null: same as unset.
            debuglog: nonempty("HA_DEBUGLOG").filter(|p| p != "/dev/null"),
            debug: nonempty("HA_debug").is_some_and(|v| v != "0"),
            stderr_is_tty,
        }
    }
}

fn facility(name: &str) -> Option<libc::c_int> {
    Some(match name {
        "daemon" => libc::LOG_DAEMON,
        "user" => libc::LOG_USER,
        "local0" => libc::LOG_LOCAL0,
        "local1" => libc::LOG_LOCAL1,
        "local2" => libc::LOG_LOCAL2,
        "local3" => libc::LOG_LOCAL3,
        "local4" => libc::LOG_LOCAL4,
        "local5" => libc::LOG_LOCAL5,
        "local6" => libc::LOG_LOCAL6,
        "local7" => libc::LOG_LOCAL7,
        "authpriv" => libc::LOG_AUTHPRIV,
        "syslog" => libc::LOG_SYSLOG,
        _ => return None,
    })
}

static LOGGER: OnceLock<Config> = OnceLock::new();

/// Configures the process-wide logger from the real environment. Later calls are ignored.
pub fn init(program: &str, instance: Option<&str>) {
    let cfg = Config::from_lookup(
        program,
        instance,
        |k| std::env::var(k).ok(),
        std::io::stderr().is_terminal(),
    );
    if let Some(f) = cfg.facility {
        if !cfg.stderr_is_tty {
            // openlog keeps the pointer: the ident must live for the whole process.
            let ident: &'static CString = Box::leak(Box::new(
                CString::new(cfg.ident.replace('\0', "")).unwrap_or_default(),
            ));
            // SAFETY: `ident` is a valid NUL-terminated string that is never freed.
            unsafe { libc::openlog(ident.as_ptr(), libc::LOG_PID | libc::LOG_NDELAY, f) };
        }
    }
    let _ = LOGGER.set(cfg);
}

pub fn log(level: Level, msg: impl Display) {
    let Some(cfg) = LOGGER.get() else {
        return;
    };
    if level == Level::Debug && !cfg.debug {
        return;
    }
    let msg = msg.to_string();
    let line = format!("{}: {msg}", level.label());
    let tag = format!("{}[{}]", cfg.ident, std::process::id());
    if cfg.stderr_is_tty {
        eprintln!("{tag}: {line}");
        return;
    }
    if cfg.facility.is_some() {
        if let Ok(c) = CString::new(line.replace('\0', "")) {
            // SAFETY: a constant "%s" format with one valid C string argument.
            unsafe { libc::syslog(level.priority(), c"%s".as_ptr(), c.as_ptr()) };
        }
    }
    let file = if level == Level::Debug {
        cfg.debuglog.as_ref()
    } else {
        cfg.logfile.as_ref()
    };
    if let Some(path) = file {
        append(path, &format!("{} {tag}:    {line}\n", hadate()));
    }
}

pub fn debug(msg: impl Display) {
    log(Level::Debug, msg)
}
pub fn info(msg: impl Display) {
    log(Level::Info, msg)
}
pub fn warn(msg: impl Display) {
    log(Level::Warn, msg)
}
pub fn error(msg: impl Display) {
    log(Level::Error, msg)
}

/// `ocf_exit_reason`: the reason line on stderr for Pacemaker, and an error in the log.
pub fn exit_reason(msg: impl Display) {
    let msg = msg.to_string();
    // Pacemaker reads one line; keep the whole chain on it.
    let one_line = msg.replace('\n', "; ");
    eprintln!("ocf-exit-reason:{one_line}");
    if LOGGER.get().is_some_and(|c| !c.stderr_is_tty) {
        error(&one_line);
    }
}

fn append(path: &str, text: &str) {
    // Logging must never fail an action: an unwritable log file is silently skipped, as the
    // shell's `>>` redirection failure would be.
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(text.as_bytes());
    }
}

/// `HA_DATEFMT`'s default, `%b %d %T`, in local time.
fn hadate() -> String {
    // SAFETY: time(NULL) has no preconditions; localtime_r writes only into `tm`, which lives on
    // our stack; strftime writes at most `buf.len()` bytes into `buf` and returns the length.
    unsafe {
        let t = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return String::new();
        }
        let mut buf = [0u8; 64];
        let n = libc::strftime(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%b %d %T".as_ptr(),
            &tm,
        );
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Config {
        let m: HashMap<&str, &str> = pairs.iter().copied().collect();
        Config::from_lookup(
            "ocf_big_brother",
            Some("ipvs_webapp"),
            |k| m.get(k).map(|v| v.to_string()),
            false,
        )
    }

    #[test]
    fn defaults_to_syslog_daemon() {
        let c = cfg(&[]);
        assert_eq!(c.ident, "ocf_big_brother(ipvs_webapp)");
        assert_eq!(c.facility, Some(libc::LOG_DAEMON));
        assert_eq!(c.logfile, None);
        assert!(!c.debug);
    }

    #[test]
    fn pacemaker_style_environment() {
        let c = cfg(&[
            ("HA_LOGFACILITY", "local3"),
            ("HA_LOGFILE", "/var/log/pacemaker/pacemaker.log"),
            ("HA_DEBUGLOG", "/dev/null"),
            ("HA_debug", "0"),
        ]);
        assert_eq!(c.facility, Some(libc::LOG_LOCAL3));
        assert_eq!(
            c.logfile.as_deref(),
            Some("/var/log/pacemaker/pacemaker.log")
        );
        assert_eq!(c.debuglog, None);
        assert!(!c.debug);
        let c = cfg(&[("HA_LOGFACILITY", "none"), ("HA_debug", "1")]);
        assert_eq!(c.facility, None);
        assert!(c.debug);
    }

    #[test]
    fn date_looks_like_ha_datefmt() {
        let d = hadate();
        // "Nov 05 12:34:56"
        assert_eq!(d.len(), 15, "{d:?}");
        assert_eq!(&d[9..10], ":");
    }
}
