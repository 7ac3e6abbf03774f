"""The real Rasa server and the real action server, driven over the REST channel."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

import httpx
import pytest

from tests.harness.assistant_process import AssistantProcess
from tests.integration.support import reply, response_text


def test_a_faq_question_gets_its_answer(assistant: AssistantProcess) -> None:
    assert reply(assistant.say("it-biaya", "vaksin bayar ga?")) == response_text("utter_faq/biaya")


def test_greeting_says_what_the_assistant_can_do(assistant: AssistantProcess) -> None:
    assert reply(assistant.say("it-greet", "halo min")) == response_text("utter_greet")


def test_fallback_goes_through_the_action_server(assistant: AssistantProcess) -> None:
    """``/nlu_fallback`` forces the fallback intent; only the action server can answer it."""
    assert reply(assistant.say("it-fallback", "/nlu_fallback")) == response_text("utter_uncertain_answer")


def test_conversations_are_kept_in_the_embedded_sqlite_store(assistant: AssistantProcess) -> None:
    assistant.say("it-store", "apakah vaksin halal?")
    with sqlite3.connect(assistant.run_dir / "tracker.db") as database:
        rows = database.execute(
            "SELECT type_name FROM events WHERE sender_id = ? ORDER BY id", ("it-store",)
        ).fetchall()
    assert ("user",) in rows
    assert ("bot",) in rows


def group_members_after_graceful_shutdown(group: int, seconds: float) -> str:
    """Servers finish their graceful shutdown (Sanic workers take a moment) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        members = subprocess.run(["pgrep", "-g", str(group)], capture_output=True, text=True).stdout
        if not members.strip() or time.monotonic() > deadline:
            return members.strip()
        time.sleep(0.5)


@pytest.mark.last
def test_sigterm_to_the_process_group_stops_everything(disposable: AssistantProcess) -> None:
    disposable.wait_until_up()  # servers killed by earlier tests are back
    try:
        assert set(disposable.member_pids()) == {
            "rasa server",
            "action server",
            "registry",
            "review app",
            "outreach worker",  # the stack has a WhatsApp number: the worker stops with the rest
        }
    finally:
        os.killpg(disposable.process.pid, signal.SIGTERM)
    disposable.process.wait(timeout=60)
    leftovers = group_members_after_graceful_shutdown(disposable.process.pid, seconds=30)
    assert leftovers == "", f"processes left behind: {leftovers}"
    for port in (disposable.rasa_port, disposable.action_port):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
