//! Generic netlink family resolution through the `nlctrl` family (`GENL_ID_CTRL` = 16,
//! `CTRL_CMD_GETFAMILY`): a family name such as `"IPVS"` in, its dynamic message type out.
//!
//! The kernel loads a module that declares `MODULE_ALIAS_GENL_FAMILY(name)` (ip_vs does) during
//! the lookup when it can; a family that still does not exist answers `ENOENT`.

use super::attr::{DecodeError, EncodeError};
use super::message::{genl_request, GenlMsg, NLM_F_ACK, NLM_F_REQUEST};
use super::socket::{NlError, Socket};

/// `GENL_ID_CTRL`: the fixed message type of nlctrl.
pub const GENL_ID_CTRL: u16 = 16;
pub const CTRL_CMD_NEWFAMILY: u8 = 1;
pub const CTRL_CMD_GETFAMILY: u8 = 3;
pub const CTRL_ATTR_FAMILY_ID: u16 = 1;
pub const CTRL_ATTR_FAMILY_NAME: u16 = 2;
pub const CTRL_ATTR_VERSION: u16 = 3;

/// `CTRL_CMD_GETFAMILY` for `name`.
pub fn request(name: &str) -> Result<Vec<u8>, EncodeError> {
    genl_request(
        GENL_ID_CTRL,
        NLM_F_REQUEST | NLM_F_ACK,
        CTRL_CMD_GETFAMILY,
        1,
        |w| {
            w.string(CTRL_ATTR_FAMILY_NAME, name);
        },
    )
}

/// The family id in a `CTRL_CMD_NEWFAMILY` reply.
pub fn parse_reply(body: &[u8]) -> Result<u16, DecodeError> {
    let msg = GenlMsg::parse(body)?;
    if msg.cmd != CTRL_CMD_NEWFAMILY {
        return Err(DecodeError::new(format!(
            "nlctrl replied with command {}, expected NEWFAMILY ({CTRL_CMD_NEWFAMILY})",
            msg.cmd
        )));
    }
    for a in msg.attrs() {
        let a = a?;
        if a.kind == CTRL_ATTR_FAMILY_ID {
            return a.u16().map_err(|e| e.context("CTRL_ATTR_FAMILY_ID"));
        }
    }
    Err(DecodeError::new("nlctrl reply has no CTRL_ATTR_FAMILY_ID"))
}

/// Resolves `name` on `sock` (`NlError::Kernel(ENOENT)` when no such family exists).
pub fn resolve(sock: &mut Socket, name: &str) -> Result<u16, NlError> {
    let req = request(name).map_err(|e| NlError::Decode(DecodeError::new(e.reason)))?;
    let replies = sock.request(req)?;
    let first = replies.first().ok_or_else(|| {
        NlError::Decode(DecodeError::new(format!(
            "nlctrl acked the lookup of {name:?} without a reply"
        )))
    })?;
    parse_reply(first).map_err(|e| NlError::Decode(e.context(format!("family {name:?}"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The lookup ipvsadm 1.31 sends (captured in the VM, see `fixtures.rs`): same bytes.
    #[test]
    fn request_matches_libnl() {
        let req = request("IPVS").unwrap();
        assert_eq!(&req[4..8], &[16, 0, 5, 0], "type nlctrl, flags REQUEST|ACK");
        assert_eq!(&req[16..], super::super::fixtures::INFO_CTRL_GETFAMILY_REQ);
    }

    #[test]
    fn reply_parses() {
        assert_eq!(
            parse_reply(super::super::fixtures::INFO_CTRL_NEWFAMILY_REPLY).unwrap(),
            32
        );
        assert!(parse_reply(&[3, 1, 0, 0]).is_err(), "wrong command");
        assert!(parse_reply(&[1, 1, 0, 0]).is_err(), "no id");
    }

    /// nlctrl itself is always there and needs no privileges: resolve it by name on the host.
    #[test]
    fn resolves_nlctrl_and_reports_enoent() {
        let mut s = Socket::open(libc::NETLINK_GENERIC, Duration::from_secs(5)).unwrap();
        assert_eq!(resolve(&mut s, "nlctrl").unwrap(), GENL_ID_CTRL);
        // At most 15 characters: longer names are EINVAL (GENL_NAMSIZ), not ENOENT.
        match resolve(&mut s, "BB_NO_SUCH_FAM") {
            Err(NlError::Kernel(e)) => assert_eq!(e, libc::ENOENT),
            other => panic!("expected ENOENT, got {other:?}"),
        }
    }
}
