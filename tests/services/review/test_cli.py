"""The command line: users, sync, synthetic data."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from services.review.auth import authenticate
from services.review.cli import main
from services.review.database import make_engine, make_session_factory
from services.review.migrate import MIGRATIONS
from services.review.models import ReviewConversation, ReviewMessage, ReviewUser
from tests.harness import synthetic
from tests.services.review.support import write_events, write_snapshots

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REVIEW_DATABASE_URL", f"sqlite:///{tmp_path / 'review.db'}")
    monkeypatch.setenv("REVIEW_TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    return tmp_path


def run(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(argv)


def test_create_user(env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(monkeypatch, ["create-user", "Adam", "--role", "admin", "--password-stdin"], "admin-password-1\n")
        == 0
    )
    assert "Created admin 'adam'" in capsys.readouterr().out
    engine = make_engine(f"sqlite:///{env / 'review.db'}")
    try:
        with make_session_factory(engine)() as session:
            user = authenticate(session, "adam", "admin-password-1")
            assert user is not None and user.role == "admin"
            assert user.password_hash.startswith("$argon2id$")
    finally:
        engine.dispose()
    assert run(monkeypatch, ["create-user", "adam", "--password-stdin"], "another-password\n") == 1
    assert "exists already" in capsys.readouterr().err


def test_short_passwords_are_refused(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, ["create-user", "rita", "--password-stdin"], "123456789\n") == 2
    assert "at least 10 characters" in capsys.readouterr().err
    assert run(monkeypatch, ["create-user", "adam", "--password-stdin"], "long-enough-1\n") == 0
    engine = make_engine(f"sqlite:///{env / 'review.db'}")
    try:
        with make_session_factory(engine)() as session:
            assert list(session.scalars(select(ReviewUser.username))) == ["adam"]
    finally:
        engine.dispose()


def test_set_password(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(monkeypatch, ["create-user", "rita", "--password-stdin"], "first-password-1\n") == 0
    assert run(monkeypatch, ["set-password", "rita", "--password-stdin"], "second-password-2\n") == 0
    assert run(monkeypatch, ["set-password", "nobody", "--password-stdin"], "second-password-2\n") == 1
    engine = make_engine(f"sqlite:///{env / 'review.db'}")
    try:
        with make_session_factory(engine)() as session:
            assert authenticate(session, "rita", "second-password-2") is not None
            assert authenticate(session, "rita", "first-password-1") is None
    finally:
        engine.dispose()


def test_seed_and_sync(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, ["sync"]) == 1  # no tracker store yet
    assert "cannot be read" in capsys.readouterr().err
    tracker_url = os.environ["REVIEW_TRACKER_STORE_URL"]
    assert synthetic.main(["--tracker-url", tracker_url, "--conversations", "40"]) == 0
    assert "Wrote 40 conversations" in capsys.readouterr().out
    assert run(monkeypatch, ["sync"]) == 0
    out = capsys.readouterr().out
    assert "40 conversations touched" in out
    assert run(monkeypatch, ["sync"]) == 0
    assert "Indexed 0 events" in capsys.readouterr().out
    engine = make_engine(f"sqlite:///{env / 'review.db'}")
    try:
        with make_session_factory(engine)() as session:
            assert session.scalar(select(func.count()).select_from(ReviewConversation)) == 40
            messages = session.scalar(select(func.count()).select_from(ReviewMessage)) or 0
            assert 40 <= messages <= 80
    finally:
        engine.dispose()


def test_module_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "services.review", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    for command in ("serve", "migrate", "create-user", "sync", "waiting", "release"):
        assert command in result.stdout


def test_migrate(env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(monkeypatch, ["migrate"]) == 0
    assert "at head" in capsys.readouterr().out
    engine = make_engine(f"sqlite:///{env / 'review.db'}")
    try:
        assert MIGRATIONS.current_revision(engine) == MIGRATIONS.head_revision()
    finally:
        engine.dispose()


def user(at: float, text: str) -> dict[str, object]:
    return {"event": "user", "timestamp": at, "text": text, "parse_data": {"intent": {"name": "x"}}}


def test_waiting_lists_conversations_for_an_officer_longest_first(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tracker = f"sqlite:///{env / 'tracker.db'}"
    write_snapshots(tracker)  # one waits; one was released, one started a new session since
    asked = datetime(2025, 12, 31, 2, 0, tzinfo=UTC).timestamp()  # before every snapshot
    slot = {"event": "slot", "timestamp": asked + 1, "name": "handoff_requested", "value": True}
    events = [user(asked, "petugas"), slot, user(asked + 60, "halo?"), user(asked + 120, "masih ada?")]
    write_events(tracker, "wa_early", events)
    assert run(monkeypatch, ["waiting"]) == 0
    out = capsys.readouterr()
    listed = [line.split("\t") for line in out.out.splitlines() if "\t" in line]
    assert [row[0] for row in listed] == ["wa_early", "wa_8b2e44f01c9a"]
    assert listed[0][1:] == ["waiting since 2025-12-31 09:00 WIB", "2 message(s) since"]
    assert "2 conversation(s) waiting for an officer" in out.err


def test_release_hands_the_conversation_back_over_rest(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REVIEW_RASA_URL", "http://127.0.0.1:16199")  # nothing listens: Rasa is down
    monkeypatch.setenv("RASA_API_TOKEN", "")
    assert run(monkeypatch, ["release", "wa_1"]) == 1
    assert "wa_1 was not handed back" in capsys.readouterr().err
    sent: list[httpx.Request] = []

    def rasa(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=[])

    real_client = httpx.Client
    monkeypatch.setattr(httpx, "Client", lambda **kw: real_client(**kw, transport=httpx.MockTransport(rasa)))
    assert run(monkeypatch, ["release", "wa_1"]) == 0
    assert "wa_1: back with the bot" in capsys.readouterr().err
    assert [(r.url.path, json.loads(r.content)) for r in sent] == [
        ("/webhooks/rest/webhook", {"sender": "wa_1", "message": "/release_handoff"})
    ]
