#!/usr/bin/env python3
"""A private Ethernet segment for the cluster tier's VMs (runs on the host, touches no network).

Usage: hub.py HUB_SOCKET MEMBER_SOCKET...

Each VM's NIC is a QEMU `dgram` netdev whose local end is its MEMBER_SOCKET (a unix datagram
socket QEMU binds) and whose remote end is HUB_SOCKET (bound here). Every frame that arrives from
one member is sent to every other member, as a hub (not a switch) does: broadcast, multicast (the
IPVS sync daemons' 224.0.0.81) and unicast alike, so three or more VMs share one L2 segment. A
member that is not there (its VM killed or not booted yet) or whose queue is full loses the frame,
as a cable unplugged or a congested port would: sending never blocks the hub. The hub ends on
SIGTERM; frames from a socket that is not a member are dropped.
"""

import os
import signal
import socket
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    hub_path, members = sys.argv[1], sys.argv[2:]
    try:
        os.unlink(hub_path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(hub_path)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    known = set(members)
    print(f"hub.py: {hub_path} joins {' '.join(members)}", flush=True)
    while True:
        frame, sender = sock.recvfrom(65536)
        if sender not in known:
            continue
        for m in members:
            if m == sender:
                continue
            try:
                sock.sendto(frame, socket.MSG_DONTWAIT, m)
            except OSError:
                # Not bound (VM down), refused or queue full: the frame is lost for that member.
                pass


if __name__ == "__main__":
    main()
