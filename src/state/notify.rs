//! sd_notify, the readiness protocol between `start` and the supervisor: `READY=1`,
//! `STATUS=…`, `WATCHDOG=1` datagrams to `$NOTIFY_SOCKET` (a path, or `@name` for the abstract
//! namespace), as systemd defines them (`sd_notify(3)`). `start` binds that socket in the state
//! directory; under systemd the same code talks to systemd. Twenty lines of std replace a
//! dependency.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;

/// Where `sd_notify` messages go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notifier {
    /// No `NOTIFY_SOCKET`: messages are dropped.
    None,
    Path(PathBuf),
    /// `@name`: Linux abstract namespace.
    Abstract(Vec<u8>),
}

impl Notifier {
    pub fn from_env() -> Notifier {
        Notifier::parse(std::env::var_os("NOTIFY_SOCKET").as_deref())
    }

    pub fn parse(value: Option<&std::ffi::OsStr>) -> Notifier {
        use std::os::unix::ffi::OsStrExt;
        match value.map(|v| v.as_bytes()) {
            None | Some([]) => Notifier::None,
            Some([b'@', rest @ ..]) => Notifier::Abstract(rest.to_vec()),
            Some(_) => Notifier::Path(PathBuf::from(value.unwrap_or_default())),
        }
    }

    /// Sends one notification (newline-separated `KEY=value` assignments). Errors are returned
    /// for logging; a vanished listener is normal once `start` has returned.
    pub fn notify(&self, state: &str) -> io::Result<()> {
        let sock = match self {
            Notifier::None => return Ok(()),
            _ => UnixDatagram::unbound()?,
        };
        match self {
            Notifier::None => Ok(()),
            Notifier::Path(p) => sock.send_to(state.as_bytes(), p).map(|_| ()),
            Notifier::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                sock.send_to_addr(state.as_bytes(), &addr).map(|_| ())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn notify_socket_forms() {
        assert_eq!(Notifier::parse(None), Notifier::None);
        assert_eq!(Notifier::parse(Some(OsStr::new(""))), Notifier::None);
        assert_eq!(
            Notifier::parse(Some(OsStr::new("@bb"))),
            Notifier::Abstract(b"bb".to_vec())
        );
        assert_eq!(
            Notifier::parse(Some(OsStr::new("/run/x/notify"))),
            Notifier::Path("/run/x/notify".into())
        );
    }

    #[test]
    fn notify_reaches_a_bound_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let rx = UnixDatagram::bind(&path).unwrap();
        Notifier::Path(path).notify("READY=1\nSTATUS=ok").unwrap();
        let mut buf = [0u8; 64];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\nSTATUS=ok");
        Notifier::None.notify("READY=1").unwrap();
    }
}
