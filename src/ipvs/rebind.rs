//! Binding synced connections to destinations that appear after them.
//!
//! A backup sync daemon creates the connections a master announces. It binds each to a real
//! server (`ip_vs_find_dest`) only if the service and that destination exist *when the message
//! arrives*; otherwise the connection stays unbound ("remain unbound but still handled",
//! `ip_vs_proc_conn` in `net/netfilter/ipvs/ip_vs_sync.c`), and the only thing that binds it
//! later is another sync message for the same connection (`ip_vs_try_bind_dest`, called from
//! there and nowhere else). A cold director (the talk's group) has no service until it takes
//! over, and after a takeover nobody announces the old director's connections again: it is
//! gone. An unbound connection is not forwarded through the real server it names (with `ipip`
//! the transmitter reads the destination's tunnel settings), so every synced connection was lost.
//!
//! So when destinations are added, the supervisor announces the synced connections that name
//! them to its own backup daemon: sync protocol v1 messages (the kernel's format, `struct
//! ip_vs_sync_mesg` + `struct ip_vs_sync_v4`) sent to the backup's group and port through its
//! interface, looped back locally with TTL 0 so they never leave the host. The backup treats
//! them as it treats a master's update: same client, virtual and real addresses, so the entry
//! is kept and bound to the destination that now exists. Connections already bound are left as
//! they are (`ip_vs_try_bind_dest` returns at once). IPv4 only (an IPv6 group or connection is
//! skipped): the talk's directors sync over IPv4.

use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use super::{Forward, SyncDaemon};

/// Where the kernel lists every connection with its origin (LOCAL or SYNC).
pub const CONN_SYNC_PROC: &str = "/proc/net/ip_vs_conn_sync";
/// At most this much of the table is read (about 80 bytes a line: a million connections).
pub const READ_LIMIT: u64 = 96 << 20;
/// Connections per message: 8 + 27 × 36 = 980 bytes, under the 1024 bytes every backup takes.
const PER_MESSAGE: usize = 27;
/// `SYNC_PROTO_VER`.
const VERSION: u8 = 1;
const CONN_LEN: usize = 36;
const HEADER_LEN: usize = 8;
/// `IP_VS_TCP_S_ESTABLISHED`.
const TCP_ESTABLISHED: u16 = 1;
/// Messages sent before the backup's socket must have drained. Loopback delivery queues every
/// message on the backup's socket at once, and a burst overflows it: of 10,000 connections
/// (371 messages) sent in one go, the backup created 7,408 (kernel tier, TCG). Sixteen messages
/// (~2.3 KiB of socket memory each) fit several times in the smallest receive buffer a backup
/// has (`sync_sock_size` 0: the default rmem, ~208 KiB).
const BATCH: usize = 16;
/// How long one batch may wait for the backup to drain it before the next is sent anyway.
const DRAIN_WAIT: Duration = Duration::from_millis(250);
/// All the waiting one announcement may do; past it the rest is sent unpaced (best effort).
const PACING_BUDGET: Duration = Duration::from_secs(30);
/// The UDP socket table of the calling thread's network namespace (`/proc/net` is the main
/// thread's).
const UDP_PROC: &str = "/proc/thread-self/net/udp";
/// At most this much of it is read (about 128 bytes a socket).
const UDP_READ_LIMIT: u64 = 4 << 20;

/// One connection a backup daemon created (origin SYNC), as `/proc/net/ip_vs_conn_sync` shows
/// it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncedConn {
    /// `IPPROTO_TCP` or `IPPROTO_UDP`.
    pub protocol: u8,
    pub caddr: Ipv4Addr,
    pub cport: u16,
    pub vaddr: Ipv4Addr,
    pub vport: u16,
    pub daddr: Ipv4Addr,
    pub dport: u16,
    /// The protocol's state number (TCP: only ESTABLISHED is announced again).
    pub state: u16,
    /// Seconds left, as the kernel shows them.
    pub expires: u32,
}

fn hex_v4(s: &str) -> Option<Ipv4Addr> {
    (s.len() == 8)
        .then(|| u32::from_str_radix(s, 16).ok())
        .flatten()
        .map(Ipv4Addr::from)
}

fn hex_port(s: &str) -> Option<u16> {
    (s.len() == 4)
        .then(|| u16::from_str_radix(s, 16).ok())
        .flatten()
}

/// The SYNC-origin IPv4 connections of the table text that are worth announcing again: TCP
/// ones that are ESTABLISHED (the ones a client still sends on) and UDP ones. Lines it does not
/// understand (the header, IPv6, other protocols or states) are skipped.
pub fn parse(text: &str) -> Vec<SyncedConn> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[8] != "SYNC" {
                return None;
            }
            let (protocol, state) = match (f[0], f[7]) {
                ("TCP", "ESTABLISHED") => (libc::IPPROTO_TCP as u8, TCP_ESTABLISHED),
                ("UDP", _) => (libc::IPPROTO_UDP as u8, 0),
                _ => return None,
            };
            Some(SyncedConn {
                protocol,
                caddr: hex_v4(f[1])?,
                cport: hex_port(f[2])?,
                vaddr: hex_v4(f[3])?,
                vport: hex_port(f[4])?,
                daddr: hex_v4(f[5])?,
                dport: hex_port(f[6])?,
                state,
                expires: f[9].parse().ok()?,
            })
        })
        .collect()
}

/// Reads the kernel's table, bounded by [`READ_LIMIT`]; no file (IPVS not loaded) is an
/// empty table.
pub fn read_table() -> io::Result<String> {
    let file = match std::fs::File::open(CONN_SYNC_PROC) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(String::new()),
        Err(e) => return Err(e),
    };
    let mut text = String::new();
    file.take(READ_LIMIT).read_to_string(&mut text)?;
    Ok(text)
}

/// `IP_VS_CONN_F_*` forwarding bits of a method.
fn fwd_flags(forward: Forward) -> u32 {
    match forward {
        Forward::Nat => 0,
        Forward::Ipip => 2,
        Forward::Dr => 3,
    }
}

/// The sync protocol v1 messages announcing `conns` with sync id `sync_id`; `fwmark` is the
/// service's firewall mark (0 for an address service), which the backup needs to find a
/// fwmark service's destination.
pub fn messages(sync_id: u8, conns: &[SyncedConn], forward: Forward, fwmark: u32) -> Vec<Vec<u8>> {
    conns
        .chunks(PER_MESSAGE)
        .map(|chunk| {
            let size = HEADER_LEN + chunk.len() * CONN_LEN;
            let mut m = Vec::with_capacity(size);
            m.push(0); // reserved
            m.push(sync_id);
            m.extend_from_slice(&(size as u16).to_be_bytes());
            m.push(chunk.len() as u8);
            m.push(VERSION);
            m.extend_from_slice(&[0, 0]); // spare
            for c in chunk {
                m.push(0); // type: IPv4
                m.push(c.protocol);
                m.extend_from_slice(&(CONN_LEN as u16).to_be_bytes()); // version 0, size
                m.extend_from_slice(&fwd_flags(forward).to_be_bytes());
                m.extend_from_slice(&c.state.to_be_bytes());
                m.extend_from_slice(&c.cport.to_be_bytes());
                m.extend_from_slice(&c.vport.to_be_bytes());
                m.extend_from_slice(&c.dport.to_be_bytes());
                m.extend_from_slice(&fwmark.to_be_bytes());
                m.extend_from_slice(&c.expires.max(1).to_be_bytes());
                m.extend_from_slice(&c.caddr.octets());
                m.extend_from_slice(&c.vaddr.octets());
                m.extend_from_slice(&c.daddr.octets());
            }
            m
        })
        .collect()
}

/// Sends `messages` to the backup daemon `backup` of this host only: from `source` (an IPv4
/// address of the backup's interface, so the multicast goes out of that interface and is
/// looped back on it, where the backup's socket is bound), TTL 0 (nothing leaves the host).
/// Returns how many were sent; an IPv6 group sends nothing.
pub fn announce(backup: &SyncDaemon, source: Ipv4Addr, messages: &[Vec<u8>]) -> io::Result<usize> {
    let IpAddr::V4(group) = backup.group_or_default() else {
        return Ok(0);
    };
    let sock = UdpSocket::bind(SocketAddrV4::new(source, 0))?;
    set_multicast_if(&sock, source)?;
    sock.set_multicast_loop_v4(true)?;
    sock.set_multicast_ttl_v4(0)?;
    let port = backup.port_or_default();
    let to = SocketAddrV4::new(group, port);
    let budget = Instant::now() + PACING_BUDGET;
    for (i, m) in messages.iter().enumerate() {
        if i > 0 && i % BATCH == 0 {
            wait_drained(group, port, budget);
        }
        sock.send_to(m, to)?;
    }
    Ok(messages.len())
}

/// Waits (bounded by [`DRAIN_WAIT`] and `budget`) until the backup's socket, bound to
/// `group:port`, has nothing queued. A table that cannot be read, or no such socket, ends the
/// wait at once: pacing is an improvement, never a reason not to send.
fn wait_drained(group: Ipv4Addr, port: u16, budget: Instant) {
    let until = budget.min(Instant::now() + DRAIN_WAIT);
    loop {
        let queued = std::fs::File::open(UDP_PROC).and_then(|f| {
            let mut text = String::new();
            f.take(UDP_READ_LIMIT).read_to_string(&mut text)?;
            Ok(receive_queue(&text, group, port))
        });
        match queued {
            Ok(Some(n)) if n > 0 && Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(1))
            }
            _ => return,
        }
    }
}

/// The receive queue (bytes) of the socket bound to `group:port` in `/proc/net/udp`'s text:
/// `sl local_address rem_address st tx_queue:rx_queue …`, the address as the kernel prints a
/// `__be32` with `%08X` (its bytes in memory order read as a native integer).
fn receive_queue(table: &str, group: Ipv4Addr, port: u16) -> Option<u64> {
    let local = format!("{:08X}:{port:04X}", u32::from_ne_bytes(group.octets()));
    table.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().take(5).collect();
        if f.len() < 5 || f[1] != local {
            return None;
        }
        let (_, rx) = f[4].split_once(':')?;
        u64::from_str_radix(rx, 16).ok()
    })
}

fn set_multicast_if(sock: &UdpSocket, addr: Ipv4Addr) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let a = libc::in_addr {
        s_addr: u32::from(addr).to_be(),
    };
    // SAFETY: a valid socket descriptor and a pointer to an in_addr of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_IF,
            (&a as *const libc::in_addr).cast(),
            std::mem::size_of::<libc::in_addr>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "\
Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Origin Expires
TCP C0000264 A1B2 CB00710A 0007 C6336401 0007 ESTABLISHED SYNC       899
TCP C0000264 A1B3 CB00710A 0007 C6336402 0007 ESTABLISHED LOCAL      899
TCP C0000264 A1B4 CB00710A 0007 C6336402 0007 FIN_WAIT    SYNC        60
UDP C0000264 0035 CB00710A 0035 C6336403 0035 UDP         SYNC       290
TCP 2001:db8::1 A1B2 2001:db8::2 0007 2001:db8::3 0007 ESTABLISHED SYNC 899
";

    #[test]
    fn parse_keeps_synced_established_tcp_and_udp() {
        let conns = parse(TABLE);
        assert_eq!(conns.len(), 2, "{conns:?}");
        assert_eq!(
            conns[0],
            SyncedConn {
                protocol: 6,
                caddr: Ipv4Addr::new(192, 0, 2, 100),
                cport: 0xA1B2,
                vaddr: Ipv4Addr::new(203, 0, 113, 10),
                vport: 7,
                daddr: Ipv4Addr::new(198, 51, 100, 1),
                dport: 7,
                state: TCP_ESTABLISHED,
                expires: 899,
            }
        );
        assert_eq!(conns[1].protocol, 17);
        assert_eq!(conns[1].state, 0);
    }

    #[test]
    fn messages_have_the_kernels_layout() {
        let conns = parse(TABLE);
        let m = messages(14, &conns[..1], Forward::Ipip, 0);
        assert_eq!(m.len(), 1);
        let m = &m[0];
        assert_eq!(m.len(), HEADER_LEN + CONN_LEN);
        // header: reserved, syncid, size, nr_conns, version, spare
        assert_eq!(&m[..8], &[0, 14, 0, 44, 1, 1, 0, 0]);
        // type, protocol, ver_size, flags (tunnel), state (established)
        assert_eq!(&m[8..18], &[0, 6, 0, 36, 0, 0, 0, 2, 0, 1]);
        // cport, vport, dport, fwmark, timeout
        assert_eq!(
            &m[18..32],
            &[0xA1, 0xB2, 0, 7, 0, 7, 0, 0, 0, 0, 0, 0, 3, 0x83]
        );
        // caddr, vaddr, daddr
        assert_eq!(
            &m[32..],
            &[192, 0, 2, 100, 203, 0, 113, 10, 198, 51, 100, 1]
        );
    }

    #[test]
    fn messages_stay_under_what_every_backup_takes() {
        let one = parse(TABLE).remove(0);
        let many = vec![one; 100];
        let m = messages(0, &many, Forward::Dr, 7);
        assert_eq!(m.len(), 4);
        assert!(m.iter().all(|m| m.len() <= 1024));
        assert_eq!(m.iter().map(|m| usize::from(m[4])).sum::<usize>(), 100);
        assert_eq!(u16::from_be_bytes([m[3][2], m[3][3]]) as usize, m[3].len());
    }

    /// As an x86 kernel prints 224.0.0.81 (the bytes E0 00 00 51 read little-endian).
    #[cfg(target_endian = "little")]
    #[test]
    fn the_backups_receive_queue_is_found_by_group_and_port() {
        let group = Ipv4Addr::new(224, 0, 0, 81);
        let local = "510000E0";
        let table = format!(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  193: 0500000A:E3A1 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0
  212: {local}:2290 00000000:0000 07 00000000:00001200 00:00000000 00000000     0        0 3 2 0
  213: {local}:2291 00000000:0000 07 00000000:00000900 00:00000000 00000000     0        0 4 2 0
"
        );
        assert_eq!(receive_queue(&table, group, 8848), Some(0x1200));
        assert_eq!(receive_queue(&table, group, 8849), Some(0x900));
        assert_eq!(receive_queue(&table, group, 8850), None);
        assert_eq!(receive_queue("", group, 8848), None);
        assert_eq!(
            receive_queue(
                &format!("1: {local}:2290 0:0 07 00000000:zz\n"),
                group,
                8848
            ),
            None
        );
    }

    #[test]
    fn hex_fields_are_checked() {
        assert_eq!(hex_v4("C0000264"), Some(Ipv4Addr::new(192, 0, 2, 100)));
        assert_eq!(hex_v4("C00002"), None);
        assert_eq!(hex_port("zzzz"), None);
        assert!(
            parse("TCP C0000264 A1B2 CB00710A 0007 C6336401 0007 ESTABLISHED SYNC x\n").is_empty()
        );
    }
}
