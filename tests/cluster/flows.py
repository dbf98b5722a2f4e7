#!/usr/bin/env python3
"""The client of the cluster tier's failover measurement (runs in the `client` network namespace
of the outside VM; tests/cluster/outside starts it, tests/cluster/failover reads what it writes).

Usage: flows.py VIP PORT CONNS DIR EVENTS [INTERVAL_MS]

Opens CONNS long-lived TCP connections to VIP:PORT (an echo service on the real servers behind
IPVS), each sending one byte every INTERVAL_MS (default 100) and reading it back, and writes
DIR/ready once all of them have echoed steadily (each within GRACE = 2 s, the stall the
measurement counts, or 2 intervals + 0.5 s if longer) for 2 s. Then, for each event k = 1 …
EVENTS, it waits for the host to
create DIR/fault.k (DIR/ports lists the connections' client ports, in hex, as
/proc/net/ip_vs_conn shows them; the host creates the fault file right before the fault: standby, power cut, failback) and
measures, from the moment it sees that file:

  failover_ms  until a *new* connection to VIP:PORT is served (connected and its byte echoed)
               through the other director: a new connection is attempted every 50 ms, each given
               up after 1 s (before its SYN would be retransmitted), and counts only when the
               VIP's MAC address in the client's ARP table differed, when it started, from the
               one at the fault (a standby keeps serving through the old director for a while;
               IPaddr2's gratuitous ARPs move the VIP);
  survived     connections that got no reset (or other error) and caught up — every byte they
               had sent when the new connection was served came back — within 2 s of their first
               retransmission after that moment (TCP backs off exponentially during the outage, so
               that retransmission may come many seconds later: no director can shorten it; it is
               the first packet of the connection the new director sees, and a connection not
               caught up 2 s after it is a stall);
  reset        connections that ended with an error (ECONNRESET when the new director has no
               entry for them and its stack answers the retransmission with a reset);
  stalled      the rest;
  mac_moved_ms, first_error_ms  the client's side of where the time went: when the VIP first
               resolved to another director's address, and when the first connection failed.

A connection lost in event k stays lost in later events (they measure the same connections), so
a failback's `survived` counts the connections that lived through both. Each event's figures are
one JSON object in DIR/result.k; DIR/served.k (failover_ms alone) is written as soon as the new
connection is served. Exit status 0 when every event was measured; 1 when the
connections could not be set up or an event's new connection was not served within 180 s.
"""

import bisect
import errno
import heapq
import json
import os
import selectors
import socket
import struct
import sys
import time

TICK = 0.02
SEND_EVERY = 0.1
PROBE_EVERY = 0.05
PROBE_GIVE_UP = 1.0
GRACE = 2.0
RTO_MAX = 120.0  # Linux's TCP_RTO_MAX: no retransmission is further apart
SERVE_LIMIT = 180.0
# The connections' next sends, earliest first: (time, index, Conn). The loop wakes for the
# earliest only instead of visiting every connection on every wake-up — with 100 connections
# echoing every 100 ms that visit was most of this client's CPU under software emulation.
DUE = []


def now():
    return time.monotonic()


def total_retrans(sock):
    # struct tcp_info: 8 one-byte fields, then 23 __u32 up to tcpi_total_retrans at offset 100.
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        return struct.unpack_from("I", info, 100)[0]
    except (OSError, struct.error):
        return 0


class Conn:
    def __init__(self, sel, addr, index):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.sel = sel
        self.sent = 0
        self.echoed = 0
        self.error = None
        self.failed_at = None
        self.connected = False
        self.next_send = now() + (index % 100) * SEND_EVERY / 100
        self.last_echo = None
        self.send_times = []
        heapq.heappush(DUE, (self.next_send, index, self))
        err = self.sock.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS):
            self.fail(os.strerror(err))
            return
        sel.register(self.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, self)

    def fail(self, why):
        if self.error is None:
            self.error = why
            self.failed_at = now()
            try:
                self.sel.unregister(self.sock)
            except (KeyError, ValueError):
                pass
            self.sock.close()

    def on_event(self, mask):
        if self.error:
            return
        if not self.connected and mask & selectors.EVENT_WRITE:
            err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.fail(os.strerror(err))
                return
            self.connected = True
            self.sel.modify(self.sock, selectors.EVENT_READ, self)
        if mask & selectors.EVENT_READ:
            try:
                data = self.sock.recv(4096)
            except OSError as e:
                self.fail(e.strerror or str(e))
                return
            if not data:
                self.fail("closed by the peer")
                return
            self.echoed += len(data)
            self.last_echo = now()

    def tick(self, t):
        """Sends this connection's byte if it is due; returns False once it has failed (it then
        leaves the schedule)."""
        if self.error:
            return False
        if not self.connected:
            self.next_send = t + SEND_EVERY
            return True
        self.next_send += SEND_EVERY
        if self.next_send < t:
            self.next_send = t + SEND_EVERY
        try:
            self.sent += self.sock.send(bytes([self.sent % 256]))
            self.send_times.append(t)
        except BlockingIOError:
            pass
        except OSError as e:
            self.fail(e.strerror or str(e))
            return False
        return True


class Probe:
    """One new connection: served when its byte comes back."""

    def __init__(self, sel, addr, mac):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sel = sel
        self.mac = mac
        self.started = now()
        self.done = False
        self.served_at = None
        self.sock.connect_ex(addr)
        sel.register(self.sock, selectors.EVENT_WRITE, self)

    def close(self):
        if not self.done:
            self.done = True
            try:
                self.sel.unregister(self.sock)
            except (KeyError, ValueError):
                pass
            self.sock.close()

    def on_event(self, mask):
        if self.done:
            return
        try:
            if mask & selectors.EVENT_WRITE:
                if self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    self.close()
                    return
                self.sock.send(b"p")
                self.sel.modify(self.sock, selectors.EVENT_READ, self)
            elif mask & selectors.EVENT_READ:
                if self.sock.recv(16):
                    self.served_at = now()
                self.close()
        except OSError:
            self.close()


def vip_mac(vip):
    """The VIP's hardware address in this namespace's ARP table (complete entries only): which
    director the next packet to the VIP goes to."""
    with open("/proc/net/arp") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 4 and fields[0] == vip and fields[2] == "0x2":
                return fields[3]
    return None


def pump(sel, conns, t_end):
    """Runs the event loop until t_end (monotonic): I/O as it comes, each connection's send when
    it is due (DUE)."""
    while True:
        t = now()
        if t >= t_end:
            return
        wake = min(t_end, DUE[0][0]) if DUE else t_end
        for key, mask in sel.select(max(0.0, min(TICK, wake - t))):
            key.data.on_event(mask)
        t = now()
        while DUE and DUE[0][0] <= t:
            _, i, c = heapq.heappop(DUE)
            if c.tick(t):
                heapq.heappush(DUE, (c.next_send, i, c))


def write_json(path, obj):
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f)
        f.write("\n")
    os.rename(path + ".tmp", path)


def main():
    global SEND_EVERY
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__)
    vip, port, n, out, events = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    interval_ms = int(sys.argv[6]) if len(sys.argv) == 7 else 100
    if not (1 <= n <= 1000 and 1 <= events <= 10 and 10 <= interval_ms <= 10000):
        sys.exit("flows.py: CONNS must be 1..1000, EVENTS 1..10 and INTERVAL_MS 10..10000")
    SEND_EVERY = interval_ms / 1000
    late = max(2 * SEND_EVERY + 0.5, GRACE)
    addr = (vip, port)
    sel = selectors.DefaultSelector()
    conns = []
    for i in range(n):
        conns.append(Conn(sel, addr, i))
        pump(sel, conns, now() + 0.005)
    # Steady: every connection up and echoing for 2 s in a row, within 60 s.
    deadline = now() + 60
    steady_since = None
    while True:
        pump(sel, conns, now() + 0.2)
        t = now()
        ok = all(c.error is None and c.connected and c.last_echo and t - c.last_echo < late for c in conns)
        steady_since = (steady_since or t) if ok else None
        if steady_since and t - steady_since >= 2:
            break
        if t > deadline:
            bad = [c for c in conns if not (c.error is None and c.last_echo and t - c.last_echo < late)]
            why = {
                "error": sum(1 for c in bad if c.error),
                "not connected": sum(1 for c in bad if not c.error and not c.connected),
                "never echoed": sum(1 for c in bad if not c.error and c.connected and not c.last_echo),
                "late": sum(1 for c in bad if not c.error and c.last_echo),
            }
            write_json(os.path.join(out, "error"), {"error": f"{len(bad)} of {n} connections not echoing steadily: {why}", "errors": sorted({c.error for c in bad if c.error})[:3]})
            return 1
    # The client ports, as /proc/net/ip_vs_conn shows them (hex): the host waits until a
    # director's backup holds these very connections, not just as many entries.
    with open(os.path.join(out, "ports.tmp"), "w") as f:
        f.write(" ".join(f"{c.sock.getsockname()[1]:04X}" for c in conns) + "\n")
    os.rename(os.path.join(out, "ports.tmp"), os.path.join(out, "ports"))
    with open(os.path.join(out, "ready"), "w") as f:
        f.write(f"{n}\n")

    for k in range(1, events + 1):
        fault = os.path.join(out, f"fault.{k}")
        while not os.path.exists(fault):
            pump(sel, conns, now() + TICK)
        t_fault = now()
        old_mac = vip_mac(vip)
        alive_before = sum(1 for c in conns if c.error is None)
        probes = []
        finished = []
        next_probe = t_fault
        served = None
        mac_moved = None
        while True:
            t = now()
            if t - t_fault > SERVE_LIMIT:
                write_json(os.path.join(out, f"result.{k}"), {"error": f"no new connection served steadily within {SERVE_LIMIT:.0f} s"})
                return 1
            if t >= next_probe:
                probes.append(Probe(sel, addr, vip_mac(vip)))
                if mac_moved is None and probes[-1].mac not in (None, old_mac):
                    mac_moved = probes[-1].started
                next_probe += PROBE_EVERY
            pump(sel, conns, min(next_probe, t + TICK))
            for p in probes:
                if not p.done and now() - p.started > PROBE_GIVE_UP:
                    p.close()
                if p.done:
                    finished.append(p)
            probes = [p for p in probes if not p.done]
            # Served: the first new connection that went through another director than the one
            # serving at the fault (the VIP's MAC in this namespace's ARP table when it started).
            ok = [p.served_at for p in finished if p.served_at is not None and p.mac not in (None, old_mac)]
            if ok:
                served = min(ok)
                break
        # The failover's time is known now; the connections' figures come later (TCP's backoff).
        write_json(os.path.join(out, f"served.{k}"), {"failover_ms": round((served - t_fault) * 1000)})
        for p in probes:
            p.close()
        # Every live connection must catch up with what it had sent when service came back,
        # within GRACE of its first retransmission after that (TCP backed off during the outage:
        # that retransmission is the first packet of it the new director sees).
        want = {}
        retx0 = {}
        first_retx = {}
        for c in conns:
            if c.error is None:
                want[c] = bisect.bisect_right(c.send_times, served)
                retx0[c] = total_retrans(c.sock)
        pending = set(want)
        resumed_ms = []
        give_up = served + RTO_MAX + GRACE
        while pending:
            t = now()
            for c in list(pending):
                if c.error is not None:
                    pending.discard(c)
                elif c.echoed >= want[c]:
                    resumed_ms.append(round((max(t, served) - served) * 1000))
                    pending.discard(c)
                elif c in first_retx:
                    if t > first_retx[c] + GRACE:
                        pending.discard(c)
                elif total_retrans(c.sock) > retx0[c]:
                    first_retx[c] = t
                elif t > give_up:
                    pending.discard(c)
            if pending:
                pump(sel, conns, now() + 0.1)
        survived = len(resumed_ms)
        reset = sum(1 for c in conns if c.error is not None) - (n - alive_before)
        result = {
            "failover_ms": round((served - t_fault) * 1000),
            "from_mac": old_mac,
            "to_mac": vip_mac(vip),
            "survived": survived,
            "conns": n,
            "alive_before": alive_before,
            "reset": reset,
            "stalled": alive_before - survived - reset,
            "max_resume_ms": max(resumed_ms) if resumed_ms else None,
            # Where the time went on the client's side: when the VIP's address first resolved to
            # the other director (IPaddr2's gratuitous ARP, or the neighbour entry expiring and
            # being resolved again), and when the first connection of this event failed.
            "mac_moved_ms": round((mac_moved - t_fault) * 1000) if mac_moved else None,
            "first_error_ms": min((round((c.failed_at - t_fault) * 1000) for c in conns if c.failed_at and c.failed_at >= t_fault), default=None),
            "errors": sorted({c.error for c in conns if c.error})[:3],
        }
        write_json(os.path.join(out, f"result.{k}"), result)
    for c in conns:
        c.fail("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
