"""The command line, including the real ``serve`` process over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from services.registry.cli import main
from services.registry.demo import DEMO_PERSON
from tests.services.registry.support import AUDIT_HASH_KEY, SERVICE_TOKEN

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).parent / "fixtures"
STARTUP_SECONDS = 60


@pytest.fixture
def registry_env(monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine) -> str:
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    return database_url


def test_import_csv_good_file(registry_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-csv", str(FIXTURES / "registry_example.csv")]) == 0
    assert "Imported 8 rows" in capsys.readouterr().out
    assert main(["import-csv", str(FIXTURES / "registry_example.csv")]) == 0
    assert "recipients 0 added, 0 updated" in capsys.readouterr().out


def test_import_csv_bad_file_prints_each_rejected_line_and_exits_non_zero(
    registry_env: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import-csv", str(FIXTURES / "registry_rejected.csv")]) == 1
    output = capsys.readouterr()
    lines = output.err.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [f"line {n}" for n in (3, 4, 5, 6, 7, 8)]
    assert "nothing was written" in lines[-1]
    assert "3471014907929201" not in output.err + output.out
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM recipients")).scalar() == 0


def test_import_csv_missing_file(registry_env: str, tmp_path: Path) -> None:
    assert main(["import-csv", str(tmp_path / "nope.csv")]) == 2


def test_seed_demo(registry_env: str, engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed-demo", "--today", "2026-11-26"]) == 0
    output = capsys.readouterr().out
    assert "Demo registry loaded" in output
    assert DEMO_PERSON.nik not in output
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM recipients")).scalar() == 43


def test_serve_refuses_to_start_without_its_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REGISTRY_SERVICE_TOKEN", raising=False)
    monkeypatch.delenv("REGISTRY_AUDIT_HASH_KEY", raising=False)
    assert main(["serve", "--port", "1"]) == 2
    error = capsys.readouterr().err
    assert "REGISTRY_SERVICE_TOKEN" in error and "REGISTRY_AUDIT_HASH_KEY" in error


@dataclass
class ServeProcess:
    process: subprocess.Popen[bytes]
    url: str
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[ServeProcess]:
    port = free_port()
    log = tmp_path / "registry.log"
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.db'}",
        "REGISTRY_SERVICE_TOKEN": SERVICE_TOKEN,
        "REGISTRY_AUDIT_HASH_KEY": AUDIT_HASH_KEY,
    }
    with log.open("wb") as log_stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.registry", "serve", "--port", str(port), "--seed-demo"],
            cwd=ROOT,
            env=environment,
            stdout=log_stream,
            stderr=subprocess.STDOUT,
        )
    running = ServeProcess(process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_healthy(running)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def _wait_until_healthy(running: ServeProcess) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            pytest.fail(f"registry exited early:\n{running.log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{running.url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"registry did not come up:\n{running.log.read_text()[-3000:]}")


def test_real_process_looks_up_over_http_and_logs_no_nik_or_birth_date(serve_process: ServeProcess) -> None:
    auth = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    body = {
        "nik": DEMO_PERSON.nik,
        "birth_date": "1985-08-17",
        "conversation_id": "process-test",
        "channel": "rest",
    }
    with httpx.Client(base_url=serve_process.url, timeout=10) as http:
        found = http.post("/v1/lookup", json=body, headers=auth)
        assert found.status_code == 200
        assert found.json()["name_masked"] == "B••• S•••••o"
        assert found.json()["next_appointment"]["dose_number"] == 3
        assert (
            http.post("/v1/lookup", json={**body, "birth_date": "1985-08-18"}, headers=auth).status_code
            == 404
        )
        assert http.post("/v1/lookup", json=body).status_code == 401
        assert (
            http.post("/v1/lookup", json={**body, "birth_date": "17-08-1985"}, headers=auth).status_code
            == 422
        )
        assert http.get("/docs").status_code == 200

    serve_process.process.send_signal(signal.SIGTERM)
    serve_process.process.wait(timeout=30)
    log = serve_process.log.read_text(encoding="utf-8")
    assert '"POST /v1/lookup HTTP/1.1" 200' in log  # the access log is on, and shows only the path
    nik = DEMO_PERSON.nik
    for secret in (
        nik,
        f"{nik[:4]} {nik[4:8]} {nik[8:12]} {nik[12:]}",
        nik[6:12],
        "1985-08-17",
        "1985-08-18",
        "17-08-1985",
        "17/08/1985",
        "17081985",
        "19850817",
        "process-test",
    ):
        assert secret not in log, secret
