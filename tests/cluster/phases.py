#!/usr/bin/env python3
"""tests/cluster/phases.py — a failover's Pacemaker events on this director (guest side).

Usage: phases.py LOGFILE SECONDS

Prints, for the pacemaker.log lines of the last SECONDS (this node's clock) that mark a step of a
failover, one line "EPOCH_US TEXT": the scheduler's transition, the DC's "Initiating …", each
node's "Requesting local execution of …" and "Result of …" for starts and stops. The host
(tests/cluster/failover, `phases`) puts every director's lines on one timeline from the fault.

One process instead of a `date` per line: under software emulation a fork costs ~0.1 s.
"""

import re
import sys
import time

EVENT = re.compile(
    r"(Initiating (start|stop) operation"
    r"|Requesting local execution of (start|stop) operation"
    r"|Result of (start|stop) operation"
    r"|Calculated transition"
    r"|State transition S_IDLE"
    r"|Transition \d+ \(Complete)"
)
STAMP = re.compile(r"^([A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d)\.(\d{3}) ")
MAX_LINES = 60  # the newest; a failover has a dozen such lines per node
MAX_BYTES = 4 << 20  # only the log's tail is read


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: phases.py LOGFILE SECONDS")
    path, window = sys.argv[1], float(sys.argv[2])
    now = time.time()
    year = time.localtime(now).tm_year
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - MAX_BYTES))
        text = f.read().decode("utf-8", "replace")
    out = []
    for line in text.splitlines():
        m = STAMP.match(line)
        if not m or not EVENT.search(line):
            continue
        try:
            t = time.mktime(time.strptime(f"{year} {m.group(1)}", "%Y %b %d %H:%M:%S"))
        except ValueError:
            continue
        t += int(m.group(2)) / 1000
        if t < now - window:
            continue
        # The message after the "(function)" field, without Pacemaker's "| key=value" tail.
        msg = line[m.end():]
        msg = re.sub(r"^.*?\([a-z_0-9]+\)\s+\w+:\s*", "", msg)
        msg = msg.split(" | ")[0].strip()
        out.append(f"{int(t * 1e6)} {msg[:160]}")
    print("\n".join(out[-MAX_LINES:]))


if __name__ == "__main__":
    main()
