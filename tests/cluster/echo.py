#!/usr/bin/env python3
"""The real servers' service in the cluster tier's failover measurement (runs in a real server's
network namespace of the outside VM): a TCP echo server on 0.0.0.0:PORT, so it answers for the
VIP that ipip decapsulation delivers on tunl0. One process, non-blocking, any number of
connections; a connection's bytes go back as they come.

Usage: echo.py PORT
"""

import selectors
import socket
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sel = selectors.DefaultSelector()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("0.0.0.0", int(sys.argv[1])))
    lsock.listen(1024)
    lsock.setblocking(False)
    sel.register(lsock, selectors.EVENT_READ, None)
    print(f"echo.py: listening on 0.0.0.0:{sys.argv[1]}", flush=True)
    while True:
        for key, _ in sel.select():
            if key.data is None:
                try:
                    c, _ = lsock.accept()
                except OSError:
                    continue
                c.setblocking(False)
                c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sel.register(c, selectors.EVENT_READ, c)
                continue
            c = key.data
            try:
                data = c.recv(4096)
                if data:
                    c.send(data)
                    continue
            except OSError:
                pass
            sel.unregister(c)
            c.close()


if __name__ == "__main__":
    main()
