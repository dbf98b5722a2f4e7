#!/usr/bin/env python3
"""A litmus_paper-style health endpoint for the cluster tier (runs inside the test VM).

Usage: litmus.py ADDRESS PORT HEALTH_DIR

Answers GET /<service>/status like litmus_paper: the health is the number in HEALTH_DIR/ADDRESS
(100 when the file is missing), status 200 when it is above 0 and 503 when it is 0, headers
`X-Health`, body `Health: N`. Anything else is 404 with `X-Health: 0`. Changing the file changes
the next answer; killing the process makes the endpoint refuse connections ("gone").
"""

import http.server
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        parts = self.path.split("/")
        if len(parts) != 3 or parts[0] != "" or parts[2] != "status":
            self.answer(404, 0, "NOT FOUND\n")
            return
        try:
            with open(os.path.join(HEALTH_DIR, ADDRESS)) as f:
                health = int(f.read().strip())
        except FileNotFoundError:
            health = 100
        body = f"Health: {health}\nMeasured Health: {health}\n"
        self.answer(200 if health > 0 else 503, health, body)

    def answer(self, code, health, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("X-Health", str(health))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    ADDRESS, port, HEALTH_DIR = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    server = http.server.ThreadingHTTPServer((ADDRESS, port), Handler)
    print(f"litmus.py: serving http://{ADDRESS}:{port}/<service>/status", flush=True)
    server.serve_forever()
