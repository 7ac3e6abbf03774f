"""Real HTTP servers for the action tests: the registry app itself, and a scripted stand-in.

The registry client is tested over real sockets, never with a mocked client: the registry app
(services/registry) served by uvicorn in a thread, and a small scripted server for what the real
one will not do on demand (5xx, slowness, a port that starts listening late).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import SecretStr

from services.registry.app import create_app
from services.registry.database import make_engine, make_session_factory
from services.registry.demo import seed_demo
from services.registry.migrate import upgrade_to_head
from services.registry.settings import RegistrySettings

SERVICE_TOKEN = "actions-test-service-token-0123456789"
AUDIT_HASH_KEY = "actions-test-audit-hash-key-0123456789"


def bound_socket() -> socket.socket:
    """A socket bound to a free local port (not listening yet)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def closed_port_url() -> str:
    """A URL where nothing listens: connecting is refused at once."""
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


@contextmanager
def registry_app(database: Path, today: date, **overrides: Any) -> Iterator[str]:
    """The real registry, seeded with the demo people for ``today``, served on a free port."""
    settings = RegistrySettings(
        database_url=f"sqlite:///{database}",
        service_token=SecretStr(SERVICE_TOKEN),
        audit_hash_key=SecretStr(AUDIT_HASH_KEY),
        **overrides,
    )
    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)
    seed_demo(make_session_factory(engine), today)
    engine.dispose()
    sock = bound_socket()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the registry app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@dataclass
class Reply:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    delay_seconds: float = 0.0


@dataclass
class ScriptedServer:
    """Answers each request with the next scripted reply (the last one repeats) and records them."""

    replies: list[Reply]
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def next_reply(self, request: dict[str, Any]) -> Reply:
        self.requests.append(request)
        return self.replies[min(len(self.requests), len(self.replies)) - 1]


@contextmanager
def scripted_server(replies: list[Reply], listen_after_seconds: float = 0.0) -> Iterator[ScriptedServer]:
    """A scripted HTTP server; with ``listen_after_seconds`` its port refuses connections until then."""
    script = ScriptedServer(replies)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the name http.server looks for
            length = int(self.headers.get("Content-Length", "0"))
            request = {
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "body": json.loads(self.rfile.read(length) or b"{}"),
            }
            reply = script.next_reply(request)
            time.sleep(reply.delay_seconds)
            payload = json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting: that is what the slow replies test

        def log_message(self, format: str, *args: Any) -> None:  # http.server's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
    server.daemon_threads = True
    server.allow_reuse_address = True
    server.server_bind()
    script.url = f"http://127.0.0.1:{server.server_address[1]}"

    serving = threading.Event()
    if listen_after_seconds <= 0:  # listening before the test's first request (no race with the thread)
        server.server_activate()
        serving.set()

    def serve() -> None:
        if not serving.is_set():
            time.sleep(listen_after_seconds)
            server.server_activate()
            serving.set()
        server.serve_forever(poll_interval=0.05)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield script
    finally:
        serving.wait(timeout=listen_after_seconds + 5)
        server.shutdown()
        server.server_close()
