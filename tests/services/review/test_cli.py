"""The command line: users, sync, synthetic data."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.review.auth import authenticate
from services.review.cli import main
from services.review.database import make_engine, make_session_factory
from services.review.models import ReviewConversation, ReviewMessage, ReviewUser

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
    assert run(monkeypatch, ["seed-synthetic", "--conversations", "40"]) == 0
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
    for command in ("serve", "create-user", "sync", "seed-synthetic"):
        assert command in result.stdout
