"""The stack `make run` starts keeps serving: a server that dies comes back, the health report says so.

Also the closed action server on the real stack (issue #11.3): a direct call to its /webhook
without Rasa's token is refused; with the token, sealed slots from one conversation give no record
in another; and it is not reachable on the machine's network address. And the run folder is
owner-only (issue #11.6). On the session's disposable assistant (tests/integration/conftest.py):
its supervisor checks health every 0.5 s and restarts a dead server after 1 s.
"""

from __future__ import annotations

import os
import signal
import stat
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from actions.schedule import RESPONSE_EXPIRED
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
from tests.harness.assistant_process import AssistantProcess
from tests.integration.support import reply, response_text

FAQ_QUESTION = "vaksin bayar ga?"
FAQ_ANSWER = response_text("utter_faq/biaya")
RECOVERY_SECONDS = 300  # Rasa loads its model again after a restart


@pytest.fixture(scope="module")
def assistant(disposable: AssistantProcess) -> AssistantProcess:
    return disposable


def health_when(
    assistant: AssistantProcess, condition: Callable[[dict[str, Any]], bool], seconds: float
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    report: dict[str, Any] = {}
    while time.monotonic() < deadline:
        report = assistant.health()
        if condition(report):
            return report
        time.sleep(0.2)
    raise AssertionError(f"the condition never held; last report {report}")


def state(name: str) -> Callable[[dict[str, Any]], str]:
    return lambda report: str(report["components"][name]["state"])


def test_the_health_report_names_every_component_up(assistant: AssistantProcess) -> None:
    report = health_when(assistant, lambda report: report["status"] == "ok", seconds=120)
    # With a WhatsApp number configured the stack also runs the outreach worker (no HTTP: up while running).
    assert set(report["components"]) == {
        "registry",
        "review app",
        "action server",
        "rasa server",
        "outreach worker",
    }
    for entry in report["components"].values():
        assert entry["state"] == "up" and entry["health"]["status_code"] == 200
    assert report["components"]["action server"]["health"]["body"] == {
        "status": "ok",
        "semantic_search": "loaded",
        "registry": "ok",
    }
    assert "Health: http://127.0.0.1:" in assistant.log_file.read_text()


@pytest.mark.parametrize("name", ["action server", "rasa server"])
def test_a_killed_server_comes_back_and_the_faq_is_answered_again(
    assistant: AssistantProcess, name: str
) -> None:
    assert reply(assistant.say(f"before-{name}", FAQ_QUESTION)) == FAQ_ANSWER
    restarts = assistant.health()["components"][name]["restarts"]
    pid = assistant.member_pids()[name]
    os.kill(pid, signal.SIGKILL)

    report = health_when(assistant, lambda report: state(name)(report) != "up", seconds=30)
    assert report["status"] == "degraded"
    assert state(name)(report) in ("restarting", "starting", "down")
    assert report["components"]["registry"]["state"] == "up"  # nothing else was stopped

    report = health_when(assistant, lambda report: state(name)(report) == "up", seconds=RECOVERY_SECONDS)
    assert report["components"][name]["restarts"] == restarts + 1
    assert report["components"][name]["last_exit_code"] == -signal.SIGKILL
    assert assistant.member_pids()[name] != pid
    assert reply(assistant.say(f"after-{name}", FAQ_QUESTION)) == FAQ_ANSWER
    log = assistant.log_file.read_text(errors="replace")
    assert f"{name} exited (code -9)" in log and f"{name} restarted (restart {restarts + 1})" in log


def test_the_action_server_refuses_calls_without_the_token(assistant: AssistantProcess) -> None:
    """#11.3 as reported: validate_schedule_form with "NIK date", straight to the action server."""
    answer = call(assistant.action_url, "validate_schedule_form", typed(demo_nik_and_date(), "x"), None)
    assert answer.status_code == 401
    assert "sealed:" not in answer.text
    slots = sealed_slots(assistant.action_url, "victim-chat", assistant.action_server_token())
    replay = call(assistant.action_url, "action_lookup_schedule", complete("attacker-chat", slots), None)
    assert replay.status_code == 401


def test_replayed_slots_give_no_record_in_another_conversation(assistant: AssistantProcess) -> None:
    """Even with the token (as Rasa), slots sealed for one conversation do not open in another."""
    token = assistant.action_server_token()
    slots = sealed_slots(assistant.action_url, "victim-chat", token)
    replay = call(assistant.action_url, "action_lookup_schedule", complete("attacker-chat", slots), token)
    assert replay.status_code == 200
    assert said(replay) == [RESPONSE_EXPIRED]
    assert "Dosis" not in replay.text and "Data vaksinasi" not in replay.text


def test_the_action_server_is_not_on_the_network(assistant: AssistantProcess) -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{outbound_address()}:{assistant.action_port}/health", timeout=5)
    assert listening_addresses(assistant.action_port) == {f"127.0.0.1:{assistant.action_port}"}
    assert listening_addresses(assistant.supervisor_port) == {f"127.0.0.1:{assistant.supervisor_port}"}


def test_everything_in_the_run_folder_is_owner_only(assistant: AssistantProcess) -> None:
    assistant.say("owner-only", FAQ_QUESTION)  # the tracker database has been written to
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in assistant.run_dir.iterdir()}
    expected = {"tracker.db", "registry.db", "review.db", "secrets.env", "assistant.log", "earlier-run.log"}
    assert expected <= set(modes)
    assert {name: mode for name, mode in modes.items() if mode & 0o077} == {}
