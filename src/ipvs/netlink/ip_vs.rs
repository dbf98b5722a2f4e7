//! The IPVS generic-netlink ABI as numbers: commands, attributes and flags spelled as in
//! `include/uapi/linux/ip_vs.h` (values verified against Debian 12's `linux-libc-dev` and the
//! bytes the kernel sends, see `fixtures.rs`). Each attribute's doc says its wire type; "be16" is
//! network byte order, everything else is host order.

/// Generic netlink family name of IPVS (`IPVS_GENL_NAME`).
pub const IPVS_GENL_NAME: &str = "IPVS";
/// `IPVS_GENL_VERSION`.
pub const IPVS_GENL_VERSION: u8 = 1;

// Commands (`enum { IPVS_CMD_* }`).
pub const IPVS_CMD_NEW_SERVICE: u8 = 1;
pub const IPVS_CMD_SET_SERVICE: u8 = 2;
pub const IPVS_CMD_DEL_SERVICE: u8 = 3;
pub const IPVS_CMD_GET_SERVICE: u8 = 4;
pub const IPVS_CMD_NEW_DEST: u8 = 5;
pub const IPVS_CMD_SET_DEST: u8 = 6;
pub const IPVS_CMD_DEL_DEST: u8 = 7;
pub const IPVS_CMD_GET_DEST: u8 = 8;
/// Starts a sync daemon; also the command of each GET_DAEMON dump message.
pub const IPVS_CMD_NEW_DAEMON: u8 = 9;
/// Stops the sync daemon of one state.
pub const IPVS_CMD_DEL_DAEMON: u8 = 10;
/// Dump only: one NEW_DAEMON message per running daemon.
pub const IPVS_CMD_GET_DAEMON: u8 = 11;
/// Sets the namespace's tcp / tcpfin / udp timeouts; also the command of GET_CONFIG's reply.
pub const IPVS_CMD_SET_CONFIG: u8 = 12;
pub const IPVS_CMD_GET_CONFIG: u8 = 13;
/// Only used as the command of GET_INFO's reply.
pub const IPVS_CMD_SET_INFO: u8 = 14;
pub const IPVS_CMD_GET_INFO: u8 = 15;

// Top-level attributes (`IPVS_CMD_ATTR_*`).
pub const IPVS_CMD_ATTR_SERVICE: u16 = 1;
pub const IPVS_CMD_ATTR_DEST: u16 = 2;
/// Nested `IPVS_DAEMON_ATTR_*`.
pub const IPVS_CMD_ATTR_DAEMON: u16 = 3;
/// u32 seconds: established TCP connections (`IP_VS_TCP_S_ESTABLISHED`).
pub const IPVS_CMD_ATTR_TIMEOUT_TCP: u16 = 4;
/// u32 seconds: TCP connections after the client's FIN (`IP_VS_TCP_S_FIN_WAIT`).
pub const IPVS_CMD_ATTR_TIMEOUT_TCP_FIN: u16 = 5;
/// u32 seconds: UDP "connections" (`IP_VS_UDP_S_NORMAL`).
pub const IPVS_CMD_ATTR_TIMEOUT_UDP: u16 = 6;

// Service attributes, nested in IPVS_CMD_ATTR_SERVICE (`IPVS_SVC_ATTR_*`).
/// u16 address family.
pub const IPVS_SVC_ATTR_AF: u16 = 1;
/// u16 IPPROTO_*.
pub const IPVS_SVC_ATTR_PROTOCOL: u16 = 2;
/// 16 bytes `union nf_inet_addr`.
pub const IPVS_SVC_ATTR_ADDR: u16 = 3;
/// be16 port.
pub const IPVS_SVC_ATTR_PORT: u16 = 4;
/// u32 firewall mark.
pub const IPVS_SVC_ATTR_FWMARK: u16 = 5;
/// NUL-terminated scheduler name, at most 15 characters.
pub const IPVS_SVC_ATTR_SCHED_NAME: u16 = 6;
/// `struct ip_vs_flags { u32 flags; u32 mask; }`.
pub const IPVS_SVC_ATTR_FLAGS: u16 = 7;
/// u32 persistence timeout in seconds.
pub const IPVS_SVC_ATTR_TIMEOUT: u16 = 8;
/// u32 read as `__be32`: IPv4 mask / IPv6 prefix length.
pub const IPVS_SVC_ATTR_NETMASK: u16 = 9;
/// Nested 32-bit counters (output only).
pub const IPVS_SVC_ATTR_STATS: u16 = 10;
/// Persistence engine name (not used by big_brother).
pub const IPVS_SVC_ATTR_PE_NAME: u16 = 11;
/// Nested 64-bit counters (output only).
pub const IPVS_SVC_ATTR_STATS64: u16 = 12;

// Destination attributes, nested in IPVS_CMD_ATTR_DEST (`IPVS_DEST_ATTR_*`).
/// 16 bytes `union nf_inet_addr`.
pub const IPVS_DEST_ATTR_ADDR: u16 = 1;
/// be16 port.
pub const IPVS_DEST_ATTR_PORT: u16 = 2;
/// u32 `IP_VS_CONN_F_*` forwarding method.
pub const IPVS_DEST_ATTR_FWD_METHOD: u16 = 3;
/// u32 weight, 0..=i32::MAX.
pub const IPVS_DEST_ATTR_WEIGHT: u16 = 4;
/// u32 upper connection threshold (0 = none).
pub const IPVS_DEST_ATTR_U_THRESH: u16 = 5;
/// u32 lower connection threshold.
pub const IPVS_DEST_ATTR_L_THRESH: u16 = 6;
/// u32 active connections (output only).
pub const IPVS_DEST_ATTR_ACTIVE_CONNS: u16 = 7;
/// u32 inactive connections (output only).
pub const IPVS_DEST_ATTR_INACT_CONNS: u16 = 8;
/// u32 persistence templates (output only).
pub const IPVS_DEST_ATTR_PERSIST_CONNS: u16 = 9;
/// Nested 32-bit counters (output only).
pub const IPVS_DEST_ATTR_STATS: u16 = 10;
/// u16 address family of the destination (may differ from the service's for tunnels).
pub const IPVS_DEST_ATTR_ADDR_FAMILY: u16 = 11;
/// Nested 64-bit counters (output only).
pub const IPVS_DEST_ATTR_STATS64: u16 = 12;
/// u8 tunnel type (IPIP 0, GUE 1, GRE 2).
pub const IPVS_DEST_ATTR_TUN_TYPE: u16 = 13;
/// be16 tunnel port (GUE).
pub const IPVS_DEST_ATTR_TUN_PORT: u16 = 14;
/// u16 tunnel flags.
pub const IPVS_DEST_ATTR_TUN_FLAGS: u16 = 15;

// Counters (`IPVS_STATS_ATTR_*`), u32 in STATS except the byte counters, all u64 in STATS64.
pub const IPVS_STATS_ATTR_CONNS: u16 = 1;
pub const IPVS_STATS_ATTR_INPKTS: u16 = 2;
pub const IPVS_STATS_ATTR_OUTPKTS: u16 = 3;
pub const IPVS_STATS_ATTR_INBYTES: u16 = 4;
pub const IPVS_STATS_ATTR_OUTBYTES: u16 = 5;
pub const IPVS_STATS_ATTR_CPS: u16 = 6;

// Info reply attributes (`IPVS_INFO_ATTR_*`).
pub const IPVS_INFO_ATTR_VERSION: u16 = 1;
pub const IPVS_INFO_ATTR_CONN_TAB_SIZE: u16 = 2;

// Sync daemon attributes, nested in IPVS_CMD_ATTR_DAEMON (`IPVS_DAEMON_ATTR_*`). 4-8 exist
// since Linux 4.3.
/// u32 `IP_VS_STATE_MASTER` / `IP_VS_STATE_BACKUP`.
pub const IPVS_DAEMON_ATTR_STATE: u16 = 1;
/// NUL-terminated interface name, at most 15 characters.
pub const IPVS_DAEMON_ATTR_MCAST_IFN: u16 = 2;
/// u32 sync id (the sync message header carries a u8).
pub const IPVS_DAEMON_ATTR_SYNC_ID: u16 = 3;
/// u16 maximum sync message payload (host order).
pub const IPVS_DAEMON_ATTR_SYNC_MAXLEN: u16 = 4;
/// 4 bytes `struct in_addr` (network order).
pub const IPVS_DAEMON_ATTR_MCAST_GROUP: u16 = 5;
/// 16 bytes `struct in6_addr`.
pub const IPVS_DAEMON_ATTR_MCAST_GROUP6: u16 = 6;
/// u16 UDP port, **host order** (unlike service and destination ports).
pub const IPVS_DAEMON_ATTR_MCAST_PORT: u16 = 7;
/// u8 multicast TTL / hop limit.
pub const IPVS_DAEMON_ATTR_MCAST_TTL: u16 = 8;

/// `IP_VS_STATE_MASTER`: the daemon that sends this director's connections.
pub const IP_VS_STATE_MASTER: u32 = 0x1;
/// `IP_VS_STATE_BACKUP`: the daemon that receives the peers' connections.
pub const IP_VS_STATE_BACKUP: u32 = 0x2;
/// `IP_VS_IFNAME_MAXLEN` (= IFNAMSIZ), including the NUL.
pub const IP_VS_IFNAME_MAXLEN: usize = 16;

// Service flags (`IP_VS_SVC_F_*`), the `flags` half of `struct ip_vs_flags`.
/// Persistent service (`-p`): a client sticks to its real server for the timeout.
pub const IP_VS_SVC_F_PERSISTENT: u32 = 0x1;
/// `IP_VS_SVC_F_HASHED`: set by the kernel on every listed service; not a user flag.
pub const IP_VS_SVC_F_HASHED: u32 = 0x2;
/// One-packet scheduling (`-o`): every UDP datagram is scheduled on its own (the kernel applies
/// it to UDP packets only, so to UDP services and fwmark services carrying UDP).
pub const IP_VS_SVC_F_ONEPACKET: u32 = 0x4;
/// Scheduler flags 1-3 (`-b flag-1..3`): their meaning depends on the scheduler.
pub const IP_VS_SVC_F_SCHED1: u32 = 0x8;
pub const IP_VS_SVC_F_SCHED2: u32 = 0x10;
pub const IP_VS_SVC_F_SCHED3: u32 = 0x20;
/// `sh`: pick another server when the hashed one is unavailable (weight 0 or overloaded).
pub const IP_VS_SVC_F_SCHED_SH_FALLBACK: u32 = IP_VS_SVC_F_SCHED1;
/// `sh`: hash the source port too.
pub const IP_VS_SVC_F_SCHED_SH_PORT: u32 = IP_VS_SVC_F_SCHED2;
/// `mh` (defined in `ip_vs_mh.c`, not the uapi header): as SH_FALLBACK.
pub const IP_VS_SVC_F_SCHED_MH_FALLBACK: u32 = IP_VS_SVC_F_SCHED1;
/// `mh`: as SH_PORT.
pub const IP_VS_SVC_F_SCHED_MH_PORT: u32 = IP_VS_SVC_F_SCHED2;

// Forwarding methods (`IP_VS_CONN_F_*`, masked by IP_VS_CONN_F_FWD_MASK = 7).
pub const IP_VS_CONN_F_FWD_MASK: u32 = 0x7;
pub const IP_VS_CONN_F_MASQ: u32 = 0;
pub const IP_VS_CONN_F_LOCALNODE: u32 = 1;
pub const IP_VS_CONN_F_TUNNEL: u32 = 2;
pub const IP_VS_CONN_F_DROUTE: u32 = 3;
pub const IP_VS_CONN_F_BYPASS: u32 = 4;

/// `IP_VS_SCHEDNAME_MAXLEN`, including the NUL.
pub const IP_VS_SCHEDNAME_MAXLEN: usize = 16;
