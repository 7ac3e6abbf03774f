"""The action server as ``make run`` starts it (``python -m actions.server``), over real HTTP.

Issue #11.3: anyone who reached rasa-sdk's port could run ``validate_schedule_form`` with "NIK
date" and then ``action_lookup_schedule`` with the sealed slots it returned, and read the record.
Now every call needs Rasa's token, the server listens on loopback only, and sealed slots open only
in the conversation that produced them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from actions.schedule import RESPONSE_EXPIRED, today_in_indonesia
from actions.semantic.encoder import MODEL_ENV
from actions.semantic.faq_index import INDEX_ENV, SemanticFaqSearch
from actions.server import is_authorised
from services.registry.demo import DEMO_PERSON
from tests.actions.servers import SERVICE_TOKEN, closed_port_url, registry_app
from tests.actions.webhook_calls import (
    call,
    complete,
    demo_nik_and_date,
    listening_addresses,
    outbound_address,
    said,
    sealed_slots,
    typed,
)

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "action-server-test-token-0123456789"
PORT = 15245
DEGRADED_PORT = 15246


@contextmanager
def action_server(port: int, log_file: Path, **env: str) -> Iterator[str]:
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "ACTION_PORT": str(port),
        "REGISTRY_SERVICE_TOKEN": SERVICE_TOKEN,
        **env,
    }
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "actions.server"], cwd=ROOT, env=environment, stdout=log, stderr=log
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log_file.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the action server did not start"
            try:
                httpx.get(f"{url}/health", timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def health_when_search_settled(url: str) -> dict[str, Any]:
    """/health once the background load of the search has finished, one way or the other."""
    deadline = time.monotonic() + 120
    while True:
        report = dict(httpx.get(f"{url}/health", timeout=10).json())
        if report["semantic_search"] != "not loaded" or time.monotonic() > deadline:
            return report
        time.sleep(0.3)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with registry_app(tmp_path_factory.mktemp("registry") / "registry.db", today_in_indonesia()) as url:
        yield url


@pytest.fixture(scope="module")
def server_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The healthy server's index and log."""
    return tmp_path_factory.mktemp("action-server")


@pytest.fixture(scope="module")
def server(
    registry: str, small_search: SemanticFaqSearch, converted_model: Path, server_folder: Path
) -> Iterator[str]:
    """With the registry up and a real (small) semantic index: nothing missing."""
    small_search.index.save(server_folder / "index")
    env = {
        "ACTION_SERVER_TOKEN": TOKEN,
        "REGISTRY_URL": registry,
        INDEX_ENV: str(server_folder / "index"),
        MODEL_ENV: str(converted_model),
    }
    with action_server(PORT, server_folder / "server.log", **env) as url:
        yield url


def test_without_the_token_nothing_runs(server: str) -> None:
    tracker = typed(demo_nik_and_date(), "attacker")
    assert call(server, "validate_schedule_form", tracker, None).status_code == 401
    wrong = {
        "wrong token": f"Bearer {'x' * len(TOKEN)}",
        "prefix of the token": f"Bearer {TOKEN[:-1]}",
        "token plus more": f"Bearer {TOKEN}x",
        "no scheme": TOKEN,
        "basic": f"Basic {TOKEN}",
    }
    for case, header in wrong.items():
        answer = httpx.post(
            f"{server}/webhook", json={"next_action": "x"}, headers={"Authorization": header}, timeout=30
        )
        assert answer.status_code == 401, case
        assert answer.json() == {"error": "unauthorised"}
        assert DEMO_PERSON.nik not in answer.text and "sealed:" not in answer.text
    assert httpx.post(f"{server}/webhook?token={TOKEN}", json={}, timeout=10).status_code == 401
    assert httpx.get(f"{server}/actions", timeout=10).status_code == 401
    authorised = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{server}/actions", headers=authorised, timeout=10).status_code == 200


def test_the_replayed_slots_open_to_nothing_in_another_conversation(server: str) -> None:
    """The #11.3 attack with the token (i.e. as Rasa): the slots from one chat give no record in another."""
    slots = sealed_slots(server, "conversation-a", TOKEN)
    elsewhere = call(server, "action_lookup_schedule", complete("conversation-b", slots), TOKEN)
    assert elsewhere.status_code == 200
    assert said(elsewhere) == [RESPONSE_EXPIRED]
    assert "Data vaksinasi" not in elsewhere.text and "Dosis" not in elsewhere.text
    # The same slots in their own conversation are the person's record: the replay was the only difference.
    own = call(server, "action_lookup_schedule", complete("conversation-a", slots), TOKEN)
    assert "Dosis 1: Sinovac, 8 Maret 2021" in said(own)[0]


def test_health_is_open_and_ok_when_everything_is_there(server: str) -> None:
    assert health_when_search_settled(server) == {
        "status": "ok",
        "semantic_search": "loaded",
        "registry": "ok",
    }


def test_a_healthy_start_logs_no_error(server: str, server_folder: Path) -> None:
    """An operator reads an ERROR at start as something to fix; a healthy start must print none
    (rasa-sdk looked for a tracing configuration in ./endpoints.yml and logged an ERROR without it)."""
    health_when_search_settled(server)
    log = (server_folder / "server.log").read_text(errors="replace")
    assert " ERROR " not in log, log[-3000:]


def test_health_says_what_is_missing(tmp_path: Path) -> None:
    env = {
        "ACTION_SERVER_TOKEN": TOKEN,
        "REGISTRY_URL": closed_port_url(),
        INDEX_ENV: str(tmp_path / "no-index"),
    }
    with action_server(DEGRADED_PORT, tmp_path / "server.log", **env) as url:
        report = health_when_search_settled(url)
    assert report == {"status": "degraded", "semantic_search": "unavailable", "registry": "unreachable"}


def test_it_listens_on_loopback_only(server: str) -> None:
    address = outbound_address()
    assert not address.startswith("127.")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{address}:{PORT}/health", timeout=5)
    assert listening_addresses(PORT) == {f"127.0.0.1:{PORT}"}


def test_it_does_not_start_without_a_token(tmp_path: Path) -> None:
    environment = {key: value for key, value in os.environ.items() if key != "ACTION_SERVER_TOKEN"}
    environment |= {"PYTHONPATH": str(ROOT), "ACTION_PORT": str(DEGRADED_PORT)}
    finished = subprocess.run(
        [sys.executable, "-m", "actions.server"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode != 0
    assert "ACTION_SERVER_TOKEN" in finished.stderr


def test_only_the_exact_bearer_token_is_accepted() -> None:
    assert is_authorised(f"Bearer {TOKEN}", TOKEN)
    for header in (None, "", "Bearer ", f"bearer {TOKEN}", f"Bearer  {TOKEN}", f"Bearer {TOKEN} ", TOKEN):
        assert not is_authorised(header, TOKEN), header
    assert not is_authorised("Bearer \ud800", TOKEN)  # a lone surrogate neither crashes nor passes
