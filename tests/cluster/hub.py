#!/usr/bin/env python3
"""A private Ethernet segment for the cluster tier's VMs (runs on the host, touches no network).

Usage: hub.py HUB_SOCKET MEMBER_SOCKET...

Each VM's NIC is a QEMU `dgram` netdev whose local end is its MEMBER_SOCKET (a unix datagram
socket QEMU binds) and whose remote end is HUB_SOCKET (bound here). It behaves as a learning
switch with port buffers:

- the source MAC of every frame is learned for the member that sent it; a unicast frame to a
  learned MAC goes to that member only, and broadcast, multicast (ARP requests, the IPVS sync
  daemons' 224.0.0.81) and unknown unicast to every other member, so three or more VMs share one
  L2 segment. Flooding every frame, as a hub does, costs under software emulation: a director
  that receives the other director's client traffic only to drop it spends its one emulated CPU
  on it, and the failover measurement's client traffic (100 connections, a byte each every
  100 ms) is thousands of frames a second. MACs never move between members here (a rebooted VM
  gets a new MAC; a stale entry only points at a socket that is not there).
- a unix datagram socket's receive queue holds only net.unix.max_dgram_qlen datagrams (10 by
  default): a VM that is busy for a moment would lose most of a burst, and Corosync's tokens
  with it. So each member has a buffer (BUFFER frames) that is drained as the member's queue
  takes frames again; sending never blocks the switch.
- the cluster's own frames go first: Corosync's (UDP port 5405, knet's link 0) and ARP wait in
  a strict-priority queue of their own per member, as a switch's class of service keeps a
  heartbeat VLAN ahead of bulk traffic (or as a dedicated ring link would). Without it a
  director too busy to take the client's frames at once (the failover measurement sends about
  a thousand a second through the active one, and under software emulation on a loaded host a
  VM drains its port slower than that for seconds) holds Corosync's token behind hundreds of
  them; past the token timeout the ring splits with no frame lost.
- a frame is lost when a member's buffer is full (the VM did not take frames for a long while)
  or when the member is not there (its VM killed or not booted yet), as a congested port or an
  unplugged cable would lose it. Every loss is counted: HUB_SOCKET.stats is rewritten at most
  once a second, one line `frames=N lost=N full=N down=N buffered_max=N` and per member
  `MEMBER:full=N,down=N,queued=N,wait_max_ms=N,ring_wait_max_ms=N` (full: the buffer
  overflowed; down: not bound or refused; queued: frames waiting for the member now; the
  longest any frame, and any Corosync or ARP frame, waited in the buffer before the member
  took it).

The switch ends on SIGTERM; frames from a socket that is not a member are dropped. SIGUSR1 cuts
Corosync's traffic (not ARP) for CUT_SECONDS, counted as `cut=N`: a split made on purpose, to
test how the tier reports and recovers one (tests/cluster/failover --inject-split).
"""

import collections
import errno
import os
import select
import signal
import socket
import struct
import sys
import time


BUFFER = 4096
RING_PORT = 5405  # Corosync's knet link 0 (mcastport's default)
CUT_SECONDS = 20.0  # longer than Corosync's default token + consensus (6.6 s)


def is_ring(frame):
    """Corosync (UDP to or from RING_PORT over IPv4) or ARP: the frames that keep the cluster."""
    ethertype = frame[12:14]
    if ethertype == b"\x08\x06":
        return True
    return is_corosync(frame)


def is_corosync(frame):
    """UDP to or from RING_PORT over IPv4."""
    if frame[12:14] != b"\x08\x00" or len(frame) < 34 or frame[23] != 17:
        return False
    ihl = (frame[14] & 0x0F) * 4
    if len(frame) < 14 + ihl + 4:
        return False
    sport, dport = struct.unpack_from("!HH", frame, 14 + ihl)
    return RING_PORT in (sport, dport)


def write_stats(path, frames, lost, buffered_max, queue, waits, cut):
    full = sum(v[0] for v in lost.values())
    down = sum(v[1] for v in lost.values())
    per = " ".join(
        f"{os.path.basename(m)}:full={v[0]},down={v[1]},queued={len(queue[m][0]) + len(queue[m][1])},"
        f"wait_max_ms={round(waits[m][1] * 1000)},ring_wait_max_ms={round(waits[m][0] * 1000)}"
        for m, v in lost.items()
    )
    with open(path + ".tmp", "w") as f:
        cuts = f" cut={cut}" if cut else ""
        f.write(f"frames={frames} lost={full + down} full={full} down={down}{cuts} buffered_max={buffered_max} {per}\n")
    os.rename(path + ".tmp", path)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    hub_path, members = sys.argv[1], sys.argv[2:]
    stats = hub_path + ".stats"
    try:
        os.unlink(hub_path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(hub_path)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    sock.setblocking(False)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    cut_until = [0.0]
    signal.signal(signal.SIGUSR1, lambda *_: cut_until.__setitem__(0, time.monotonic() + CUT_SECONDS))
    cut = 0
    known = set(members)
    where = {}  # MAC (6 bytes) -> member socket path
    # Frames waiting for the member's socket queue, as (time queued, frame): [ring, the rest].
    queue = {m: (collections.deque(), collections.deque()) for m in members}
    lost = {m: [0, 0] for m in members}  # member -> [buffer full, not there]
    waits = {m: [0.0, 0.0] for m in members}  # member -> longest wait [ring, any], seconds
    frames = 0
    buffered_max = 0
    written = 0.0
    dirty = True

    def drain(m):
        """Sends m's buffered frames, Corosync's and ARP first, until its queue is full again;
        False when some remain."""
        nonlocal dirty
        for cls, q in enumerate(queue[m]):
            while q:
                try:
                    sock.sendto(q[0][1], m)
                except (BlockingIOError, InterruptedError):
                    return False
                except OSError as e:
                    if e.errno in (errno.EAGAIN, errno.ENOBUFS):
                        return False
                    # Not bound or refused: the VM is down; what waited for it is lost.
                    for other in queue[m]:
                        lost[m][1] += len(other)
                        other.clear()
                    return True
                waited = time.monotonic() - q.popleft()[0]
                w = waits[m]
                if waited > w[1]:
                    w[1], dirty = waited, True
                if cls == 0 and waited > w[0]:
                    w[0] = waited
        return True

    print(f"hub.py: {hub_path} switches {' '.join(members)}", flush=True)
    try:
        while True:
            waiting = any(queue[m][0] or queue[m][1] for m in members)
            readable, _, _ = select.select([sock], [], [], 0.001 if waiting else 1.0)
            for m in members:
                if queue[m][0] or queue[m][1]:
                    drain(m)
            for _ in range(256 if readable else 0):
                try:
                    frame, sender = sock.recvfrom(65536)
                except (BlockingIOError, InterruptedError):
                    break
                if sender not in known or len(frame) < 14:
                    continue
                frames += 1
                dst, src = frame[0:6], frame[6:12]
                if not src[0] & 1:
                    where[src] = sender
                to = where.get(dst) if not dst[0] & 1 else None
                targets = (to,) if to is not None and to != sender else members
                cls = 0 if is_ring(frame) else 1
                t = time.monotonic()
                if cls == 0 and t < cut_until[0] and is_corosync(frame):
                    cut += 1
                    dirty = True
                    continue
                for m in targets:
                    if m == sender:
                        continue
                    ring, rest = queue[m]
                    held = len(ring) + len(rest)
                    if held >= BUFFER:
                        lost[m][0] += 1
                        dirty = True
                        continue
                    queue[m][cls].append((t, frame))
                    if held + 1 > buffered_max:
                        buffered_max, dirty = held + 1, True
                    drain(m)
            t = time.monotonic()
            if t - written >= 1.0 and (dirty or frames):
                write_stats(stats, frames, lost, buffered_max, queue, waits, cut)
                written, dirty = t, False
    finally:
        write_stats(stats, frames, lost, buffered_max, queue, waits, cut)


if __name__ == "__main__":
    main()
