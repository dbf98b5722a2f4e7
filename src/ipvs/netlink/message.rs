//! Netlink message framing: `struct nlmsghdr` (16 bytes) and, for generic netlink, `struct
//! genlmsghdr` (4 bytes), as in `include/uapi/linux/netlink.h` and `genetlink.h`.
//!
//! Pure code: building a request leaves `nlmsg_seq` and `nlmsg_pid` zero for the socket to stamp
//! ([`stamp`]); splitting a received datagram yields each message's header and body, and
//! [`classify`] turns the control messages (`NLMSG_ERROR`, `NLMSG_DONE`) into what they mean.

use super::attr::{align4, Attrs, DecodeError, EncodeError, Writer};

/// `sizeof(struct nlmsghdr)`.
pub const NLMSG_HDRLEN: usize = 16;
/// `sizeof(struct genlmsghdr)`.
pub const GENL_HDRLEN: usize = 4;

pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLMSG_OVERRUN: u16 = 4;

pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_MULTI: u16 = 0x2;
pub const NLM_F_ACK: u16 = 0x4;
/// `NLM_F_ROOT | NLM_F_MATCH`: return every object.
pub const NLM_F_DUMP: u16 = 0x300;

/// A generic-netlink request: `nlmsghdr{type: family, flags}` + `genlmsghdr{cmd, version}` +
/// whatever attributes `attrs` writes. Sequence number and port id are left zero.
pub fn genl_request(
    family: u16,
    flags: u16,
    cmd: u8,
    version: u8,
    attrs: impl FnOnce(&mut Writer),
) -> Result<Vec<u8>, EncodeError> {
    let mut head = [0u8; NLMSG_HDRLEN + GENL_HDRLEN];
    head[4..6].copy_from_slice(&family.to_ne_bytes());
    head[6..8].copy_from_slice(&flags.to_ne_bytes());
    head[16] = cmd;
    head[17] = version;
    let mut w = Writer::with_prefix(&head);
    attrs(&mut w);
    let mut buf = w.finish()?;
    let len = u32::try_from(buf.len()).map_err(|_| EncodeError {
        reason: format!("message of {} bytes is too long", buf.len()),
    })?;
    buf[0..4].copy_from_slice(&len.to_ne_bytes());
    Ok(buf)
}

/// Writes the sequence number and port id into a built request.
pub fn stamp(msg: &mut [u8], seq: u32, pid: u32) {
    if msg.len() >= NLMSG_HDRLEN {
        msg[8..12].copy_from_slice(&seq.to_ne_bytes());
        msg[12..16].copy_from_slice(&pid.to_ne_bytes());
    }
}

/// The fixed header of a received message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub len: u32,
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
}

impl Header {
    pub fn parse(b: &[u8]) -> Result<Header, DecodeError> {
        if b.len() < NLMSG_HDRLEN {
            return Err(DecodeError::new(format!(
                "{} bytes are too short for a netlink header",
                b.len()
            )));
        }
        let u32_at = |i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let u16_at = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        Ok(Header {
            len: u32_at(0),
            kind: u16_at(4),
            flags: u16_at(6),
            seq: u32_at(8),
            pid: u32_at(12),
        })
    }
}

/// Splits one datagram into `(header, body)` pairs; stops with an error at a malformed one.
pub fn split(datagram: &[u8]) -> Vec<Result<(Header, &[u8]), DecodeError>> {
    let mut out = Vec::new();
    let mut rest = datagram;
    while !rest.is_empty() {
        let h = match Header::parse(rest) {
            Ok(h) => h,
            Err(e) => {
                out.push(Err(e));
                break;
            }
        };
        let len = h.len as usize;
        if len < NLMSG_HDRLEN || len > rest.len() {
            out.push(Err(DecodeError::new(format!(
                "netlink message claims {len} bytes but {} remain",
                rest.len()
            ))));
            break;
        }
        out.push(Ok((h, &rest[NLMSG_HDRLEN..len])));
        rest = &rest[align4(len).min(rest.len())..];
    }
    out
}

/// What a received message means for the request it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind<'a> {
    /// A reply carrying data (a family message, or one part of a dump).
    Data(&'a [u8]),
    /// `NLMSG_ERROR` with error 0: the request succeeded.
    Ack,
    /// `NLMSG_ERROR` with a negative errno, reported here as the positive errno.
    Error(i32),
    /// `NLMSG_DONE`: the dump is complete (`Err(errno)` if the kernel ended it with an error).
    Done(Result<(), i32>),
    /// `NLMSG_NOOP` / `NLMSG_OVERRUN`: nothing to act on.
    Ignore,
}

/// Classifies a message by its header type.
pub fn classify<'a>(h: &Header, body: &'a [u8]) -> Result<Kind<'a>, DecodeError> {
    let errno_at_start = |what: &str| -> Result<i32, DecodeError> {
        match body {
            [a, b, c, d, ..] => Ok(i32::from_ne_bytes([*a, *b, *c, *d])),
            _ => Err(DecodeError::new(format!(
                "{what} message of {} bytes has no error code",
                body.len()
            ))),
        }
    };
    // The kernel sends `-errno`; `i32::MIN` has no positive counterpart and is no errno.
    let positive = |e: i32, what: &str| {
        e.checked_neg()
            .ok_or_else(|| DecodeError::new(format!("{what} carries error code {e}, no errno")))
    };
    match h.kind {
        NLMSG_ERROR => {
            let e = errno_at_start("NLMSG_ERROR")?;
            Ok(if e == 0 {
                Kind::Ack
            } else {
                Kind::Error(positive(e, "NLMSG_ERROR")?)
            })
        }
        NLMSG_DONE => {
            // Old kernels send an empty DONE; newer ones an int error (0 = fine).
            let e = if body.len() >= 4 {
                errno_at_start("NLMSG_DONE")?
            } else {
                0
            };
            Ok(Kind::Done(if e < 0 {
                Err(positive(e, "NLMSG_DONE")?)
            } else {
                Ok(())
            }))
        }
        NLMSG_NOOP | NLMSG_OVERRUN => Ok(Kind::Ignore),
        _ => Ok(Kind::Data(body)),
    }
}

/// A generic-netlink message body: command, version and its attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenlMsg<'a> {
    pub cmd: u8,
    pub version: u8,
    pub attrs: &'a [u8],
}

impl<'a> GenlMsg<'a> {
    pub fn parse(body: &'a [u8]) -> Result<GenlMsg<'a>, DecodeError> {
        match body {
            [cmd, version, _, _, attrs @ ..] => Ok(GenlMsg {
                cmd: *cmd,
                version: *version,
                attrs,
            }),
            _ => Err(DecodeError::new(format!(
                "{} bytes are too short for a generic netlink header",
                body.len()
            ))),
        }
    }

    pub fn attrs(&self) -> Attrs<'a> {
        Attrs::new(self.attrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(kind: u16, flags: u16, seq: u32, body: &[u8]) -> Vec<u8> {
        let len = (NLMSG_HDRLEN + body.len()) as u32;
        let mut v = Vec::new();
        v.extend_from_slice(&len.to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&77u32.to_ne_bytes());
        v.extend_from_slice(body);
        v.resize(align4(v.len()), 0);
        v
    }

    #[test]
    fn request_header_and_stamp() {
        let mut m = genl_request(32, NLM_F_REQUEST | NLM_F_ACK, 15, 1, |_| {}).unwrap();
        assert_eq!(m.len(), 20);
        stamp(&mut m, 9, 0);
        let h = Header::parse(&m).unwrap();
        assert_eq!(
            h,
            Header {
                len: 20,
                kind: 32,
                flags: 5,
                seq: 9,
                pid: 0
            }
        );
        assert_eq!(&m[16..], &[15, 1, 0, 0]);
    }

    #[test]
    fn split_and_classify_a_dump_tail() {
        let mut dgram = raw(32, NLM_F_MULTI, 5, &[1, 1, 0, 0]);
        dgram.extend(raw(NLMSG_DONE, NLM_F_MULTI, 5, &0i32.to_ne_bytes()));
        let msgs: Vec<_> = split(&dgram).into_iter().map(Result::unwrap).collect();
        assert_eq!(msgs.len(), 2);
        assert_eq!(
            classify(&msgs[0].0, msgs[0].1).unwrap(),
            Kind::Data(&[1, 1, 0, 0])
        );
        assert_eq!(classify(&msgs[1].0, msgs[1].1).unwrap(), Kind::Done(Ok(())));
    }

    #[test]
    fn errors_carry_the_positive_errno() {
        let m = raw(NLMSG_ERROR, 0x100, 1, &(-17i32).to_ne_bytes());
        let (h, b) = split(&m).remove(0).unwrap();
        assert_eq!(classify(&h, b).unwrap(), Kind::Error(17));
        let m = raw(NLMSG_ERROR, 0x100, 1, &0i32.to_ne_bytes());
        let (h, b) = split(&m).remove(0).unwrap();
        assert_eq!(classify(&h, b).unwrap(), Kind::Ack);
        let m = raw(NLMSG_DONE, 2, 1, &(-1i32).to_ne_bytes());
        let (h, b) = split(&m).remove(0).unwrap();
        assert_eq!(classify(&h, b).unwrap(), Kind::Done(Err(1)));
    }

    #[test]
    fn malformed_datagrams_are_errors() {
        assert!(split(&[1, 2, 3]).remove(0).is_err());
        let mut m = raw(32, 0, 1, &[0; 8]);
        m[0] = 200; // length beyond the datagram
        assert!(split(&m).remove(0).is_err());
        let m = raw(NLMSG_ERROR, 0, 1, &[]);
        let (h, b) = split(&m).remove(0).unwrap();
        assert!(classify(&h, b).is_err());
        assert!(GenlMsg::parse(&[1, 2]).is_err());
        // An error code whose negation overflows: a decode error, never a wrapped errno.
        for kind in [NLMSG_ERROR, NLMSG_DONE] {
            let m = raw(kind, 0, 1, &i32::MIN.to_ne_bytes());
            let (h, b) = split(&m).remove(0).unwrap();
            let e = classify(&h, b).unwrap_err();
            assert!(e.to_string().contains("no errno"), "{e}");
        }
    }
}
