//! Netlink attributes (`struct nlattr`, `include/uapi/linux/netlink.h`): a writer that appends
//! type-length-value records to a message buffer, and a reader that walks them without copying.
//!
//! Wire format: `{len: u16, type: u16}` in host byte order, `len` counting the 4-byte header
//! plus the payload but not the padding that aligns the next record to 4 bytes. The top two bits
//! of `type` are flags (`NLA_F_NESTED`, `NLA_F_NET_BYTEORDER`); readers mask them off. Integers
//! are host order unless an attribute says otherwise (IPVS ports are big-endian: [`Writer::be16`],
//! [`Attr::be16`]). Nothing here panics on malformed input: the reader returns [`DecodeError`]s
//! that say which attribute was wrong and how.

use std::fmt;

/// Attribute header length (`NLA_HDRLEN`).
pub const NLA_HDRLEN: usize = 4;
/// The payload is itself a list of attributes.
pub const NLA_F_NESTED: u16 = 0x8000;
/// The payload is in network byte order (informational; IPVS never sets it).
pub const NLA_F_NET_BYTEORDER: u16 = 0x4000;
/// Bits of `nla_type` that are the type proper.
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

/// Rounds up to the 4-byte netlink alignment (`NLA_ALIGN` / `NLMSG_ALIGN`).
pub const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Something in a netlink message did not have the expected shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    reason: String,
}

impl DecodeError {
    pub fn new(reason: impl Into<String>) -> DecodeError {
        DecodeError {
            reason: reason.into(),
        }
    }

    /// Prefixes the reason with where it happened ("service: …").
    pub fn context(self, what: impl fmt::Display) -> DecodeError {
        DecodeError {
            reason: format!("{what}: {}", self.reason),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for DecodeError {}

/// A message could not be built (an attribute longer than the 16-bit length field allows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodeError {
    pub reason: String,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for EncodeError {}

/// Appends attributes to a buffer that may already hold message headers. Length overflows are
/// remembered and reported once by [`Writer::finish`], so building stays a straight line.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
    overflow: Option<String>,
}

impl Writer {
    /// Starts with `prefix` (e.g. nlmsghdr + genlmsghdr) already in place.
    pub fn with_prefix(prefix: &[u8]) -> Writer {
        Writer {
            buf: prefix.to_vec(),
            overflow: None,
        }
    }

    /// One attribute with a raw payload, padded to 4 bytes.
    pub fn bytes(&mut self, kind: u16, payload: &[u8]) -> &mut Writer {
        let len = NLA_HDRLEN + payload.len();
        let Ok(len16) = u16::try_from(len) else {
            self.overflow
                .get_or_insert(format!("attribute {kind}: {len} bytes exceed 65535"));
            return self;
        };
        self.buf.extend_from_slice(&len16.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(payload);
        self.pad();
        self
    }

    pub fn u8(&mut self, kind: u16, v: u8) -> &mut Writer {
        self.bytes(kind, &[v])
    }

    pub fn u16(&mut self, kind: u16, v: u16) -> &mut Writer {
        self.bytes(kind, &v.to_ne_bytes())
    }

    /// A 16-bit value in network byte order (IPVS ports).
    pub fn be16(&mut self, kind: u16, v: u16) -> &mut Writer {
        self.bytes(kind, &v.to_be_bytes())
    }

    pub fn u32(&mut self, kind: u16, v: u32) -> &mut Writer {
        self.bytes(kind, &v.to_ne_bytes())
    }

    /// A NUL-terminated string (`NLA_NUL_STRING` / libnl `NLA_PUT_STRING`).
    pub fn string(&mut self, kind: u16, s: &str) -> &mut Writer {
        let mut payload = Vec::with_capacity(s.len() + 1);
        payload.extend_from_slice(s.as_bytes());
        payload.push(0);
        self.bytes(kind, &payload)
    }

    /// A nested attribute: `fill` writes the inner attributes, the length is patched afterwards.
    /// The `NLA_F_NESTED` flag is set, as libnl (and so ipvsadm) does; IPVS accepts either.
    pub fn nest(&mut self, kind: u16, fill: impl FnOnce(&mut Writer)) -> &mut Writer {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0, 0]);
        self.buf
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        fill(self);
        let len = self.buf.len() - start;
        match u16::try_from(len) {
            Ok(len16) => self.buf[start..start + 2].copy_from_slice(&len16.to_ne_bytes()),
            Err(_) => {
                self.overflow
                    .get_or_insert(format!("nested attribute {kind}: {len} bytes exceed 65535"));
            }
        }
        self
    }

    fn pad(&mut self) {
        let aligned = align4(self.buf.len());
        self.buf.resize(aligned, 0);
    }

    /// The bytes written so far (headers included).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn finish(self) -> Result<Vec<u8>, EncodeError> {
        match self.overflow {
            Some(reason) => Err(EncodeError { reason }),
            None => Ok(self.buf),
        }
    }
}

/// One attribute as read from a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr<'a> {
    /// The type with the flag bits masked off.
    pub kind: u16,
    pub payload: &'a [u8],
}

impl<'a> Attr<'a> {
    fn exact<const N: usize>(&self, what: &str) -> Result<[u8; N], DecodeError> {
        <[u8; N]>::try_from(self.payload).map_err(|_| {
            DecodeError::new(format!(
                "attribute {} ({what}) has {} payload bytes, expected {N}",
                self.kind,
                self.payload.len()
            ))
        })
    }

    pub fn u8(&self) -> Result<u8, DecodeError> {
        Ok(self.exact::<1>("u8")?[0])
    }

    pub fn u16(&self) -> Result<u16, DecodeError> {
        Ok(u16::from_ne_bytes(self.exact("u16")?))
    }

    /// A 16-bit value in network byte order.
    pub fn be16(&self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.exact("be16")?))
    }

    pub fn u32(&self) -> Result<u32, DecodeError> {
        Ok(u32::from_ne_bytes(self.exact("u32")?))
    }

    pub fn u64(&self) -> Result<u64, DecodeError> {
        Ok(u64::from_ne_bytes(self.exact("u64")?))
    }

    /// A string, NUL-terminated or not; invalid UTF-8 is an error (names are ASCII).
    pub fn string(&self) -> Result<&'a str, DecodeError> {
        let bytes = match self.payload.iter().position(|&b| b == 0) {
            Some(nul) => &self.payload[..nul],
            None => self.payload,
        };
        std::str::from_utf8(bytes)
            .map_err(|_| DecodeError::new(format!("attribute {} is not a UTF-8 string", self.kind)))
    }

    /// The attributes nested in this one.
    pub fn nested(&self) -> Attrs<'a> {
        Attrs::new(self.payload)
    }
}

/// Iterator over consecutive attributes. Stops (with one error) at the first malformed header.
#[derive(Clone, Debug)]
pub struct Attrs<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Attrs<'a> {
    pub fn new(buf: &'a [u8]) -> Attrs<'a> {
        Attrs {
            rest: buf,
            failed: false,
        }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        if self.rest.len() < NLA_HDRLEN {
            self.failed = true;
            return Some(Err(DecodeError::new(format!(
                "{} trailing bytes are too short for an attribute header",
                self.rest.len()
            ))));
        }
        let head = self.rest;
        let len = usize::from(u16::from_ne_bytes([head[0], head[1]]));
        let kind = u16::from_ne_bytes([head[2], head[3]]) & NLA_TYPE_MASK;
        if len < NLA_HDRLEN || len > self.rest.len() {
            self.failed = true;
            return Some(Err(DecodeError::new(format!(
                "attribute {kind} claims {len} bytes but {} remain",
                self.rest.len()
            ))));
        }
        let payload = &self.rest[NLA_HDRLEN..len];
        // The last attribute may omit its padding.
        let next = align4(len).min(self.rest.len());
        self.rest = &self.rest[next..];
        Some(Ok(Attr { kind, payload }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_pads_and_nests() {
        let mut w = Writer::default();
        w.u16(1, 2).nest(2, |w| {
            w.string(6, "wlc").be16(4, 80);
        });
        let bytes = w.finish().unwrap();
        #[rustfmt::skip]
        let want: Vec<u8> = [
            [6u16.to_ne_bytes(), 1u16.to_ne_bytes()].concat(), 2u16.to_ne_bytes().to_vec(), vec![0, 0],
            [20u16.to_ne_bytes(), (2 | NLA_F_NESTED).to_ne_bytes()].concat(),
            [8u16.to_ne_bytes(), 6u16.to_ne_bytes()].concat(), b"wlc\0".to_vec(),
            [6u16.to_ne_bytes(), 4u16.to_ne_bytes()].concat(), vec![0, 80, 0, 0],
        ]
        .concat();
        assert_eq!(bytes, want);

        let attrs: Vec<_> = Attrs::new(&bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(attrs.len(), 2);
        assert_eq!(attrs[0].u16().unwrap(), 2);
        assert_eq!(attrs[1].kind, 2, "the NESTED flag is masked off");
        let inner: Vec<_> = attrs[1].nested().collect::<Result<_, _>>().unwrap();
        assert_eq!(inner[0].string().unwrap(), "wlc");
        assert_eq!(inner[1].be16().unwrap(), 80);
    }

    #[test]
    fn reader_reports_truncation_and_wrong_sizes() {
        // Header says 8 bytes, only 6 there.
        let bytes = [8u8, 0, 1, 0, 0xaa, 0xbb];
        let mut it = Attrs::new(&bytes);
        let err = it.next().unwrap().unwrap_err();
        assert!(err.to_string().contains("claims 8 bytes"), "{err}");
        assert!(it.next().is_none(), "the iterator stops after an error");

        let short = [2u8, 0];
        assert!(Attrs::new(&short).next().unwrap().is_err());

        let a = Attr {
            kind: 4,
            payload: &[1, 2, 3],
        };
        let err = a.u32().unwrap_err().context("dest");
        assert_eq!(
            err.to_string(),
            "dest: attribute 4 (u32) has 3 payload bytes, expected 4"
        );
    }

    #[test]
    fn oversize_attribute_is_an_error_not_a_panic() {
        let mut w = Writer::default();
        w.bytes(1, &vec![0u8; 70_000]);
        assert!(w.finish().unwrap_err().reason.contains("exceed 65535"));
    }

    #[test]
    fn unterminated_string_is_accepted() {
        let a = Attr {
            kind: 6,
            payload: b"rr",
        };
        assert_eq!(a.string().unwrap(), "rr");
    }
}
