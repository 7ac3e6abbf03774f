"""A stand-in server for the supervisor tests: ``python dummy_server.py PORT STATUS``.

Answers every GET with ``{"status": STATUS}`` (and its port in ``X-Served-By``); exits with code 3
when STATUS is ``crash``. A script with no project imports, so it starts in milliseconds as a real
child process.
"""

from __future__ import annotations

import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it quietly, like the real servers
    port, status = int(sys.argv[1]), sys.argv[2]
    if status == "crash":
        raise SystemExit(3)
    body = json.dumps({"status": status}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the name http.server looks for
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Served-By", str(port))  # which process a load balancer picked
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            """Quiet: the tests read the supervisor's log, not ours."""

    HTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
