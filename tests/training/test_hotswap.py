"""Hot-swapping a running server over Rasa's HTTP API, against a stand-in server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from tests.training.conftest import write_fake_model
from training.hotswap import hot_swap

TOKEN = "s3cret"
PORTS = range(16240, 16260)


class FakeRasa(BaseHTTPRequestHandler):
    """``GET /``, ``PUT /model`` and ``GET /status`` as Rasa answers them with ``--enable-api``."""

    serving = "old.tar.gz"
    requests: ClassVar[list[tuple[str, str, dict[str, str]]]] = []

    def _token_ok(self) -> bool:
        return parse_qs(urlparse(self.path).query).get("token") == [TOKEN]

    def _send(self, status: int, body: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        path = urlparse(self.path).path
        if path == "/":
            self._send(200, {"hello": "rasa"})
        elif path == "/status" and self._token_ok():
            self._send(200, {"model_file": FakeRasa.serving})
        else:
            self._send(401, {"reason": "NotAuthenticated"})

    def do_PUT(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeRasa.requests.append(("PUT", urlparse(self.path).path, body))
        if not self._token_ok():
            self._send(401, {"reason": "NotAuthenticated"})
            return
        FakeRasa.serving = Path(body["model_file"]).name
        self._send(204)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def fake_rasa() -> Iterator[str]:
    for port in PORTS:
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), FakeRasa)
            break
        except OSError:
            continue
    else:
        pytest.fail("no free port in 16240-16259")
    FakeRasa.serving, FakeRasa.requests = "old.tar.gz", []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "models" / "archive" / "20261126T103000Z.tar.gz"
    write_fake_model(path)
    return path


def test_without_settings_nothing_is_attempted(model: Path) -> None:
    result = hot_swap(model, {})
    assert not result.updated
    assert "RASA_URL and RASA_API_TOKEN are not both set" in result.message


def test_a_server_that_is_not_running_is_reported(model: Path) -> None:
    result = hot_swap(model, {"RASA_URL": f"http://127.0.0.1:{PORTS[-1] + 1}", "RASA_API_TOKEN": TOKEN})
    assert not result.updated
    assert "nothing answers" in result.message


def test_the_server_loads_the_model_by_absolute_path(fake_rasa: str, model: Path) -> None:
    result = hot_swap(model, {"RASA_URL": fake_rasa + "/", "RASA_API_TOKEN": TOKEN})
    assert result.updated, result.message
    assert result.message == f"running server at {fake_rasa} now serves 20261126T103000Z.tar.gz"
    assert FakeRasa.requests == [("PUT", "/model", {"model_file": str(model.resolve())})]


def test_a_wrong_token_is_reported_and_never_echoed(fake_rasa: str, model: Path) -> None:
    result = hot_swap(model, {"RASA_URL": fake_rasa, "RASA_API_TOKEN": "wrong-token"})
    assert not result.updated
    assert "401" in result.message and "--enable-api --auth-token" in result.message
    assert "wrong-token" not in result.message
    assert FakeRasa.serving == "old.tar.gz"


def test_every_listed_server_is_swapped_and_a_failure_is_the_last_line(fake_rasa: str, model: Path) -> None:
    """Several Rasa processes (RASA_INSTANCES): RASA_URL lists each; one that is down is not hidden."""
    absent = f"http://127.0.0.1:{PORTS[-1] + 1}"
    result = hot_swap(model, {"RASA_URL": f"{absent}, {fake_rasa}", "RASA_API_TOKEN": TOKEN})
    assert not result.updated
    first, last = result.message.splitlines()
    assert first == f"running server at {fake_rasa} now serves 20261126T103000Z.tar.gz"
    assert "nothing answers" in last and absent in last
