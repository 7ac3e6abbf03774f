"""The supervisor as a process: its health endpoint over HTTP, its messages, and Ctrl-C / SIGTERM.

It supervises stand-in servers (dummy_server.py) under the assistant's component names, so the
whole of ``run_stack`` runs for real in seconds, without models.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from supervisor.components import ACTION_SERVER, RASA_SERVER, REGISTRY, REVIEW_APP

ROOT = Path(__file__).resolve().parents[2]
DUMMY = str(Path(__file__).with_name("dummy_server.py"))
SUPERVISOR_PORT = 15220

RUN = """
import asyncio, json, sys
from supervisor.components import ComponentSpec
from supervisor.settings import SupervisorSettings
from supervisor.stack import run_stack
specs = [ComponentSpec(name, tuple(command), url) for name, command, url in json.loads(sys.argv[1])]
asyncio.run(run_stack(SupervisorSettings(), specs))
"""


@contextmanager
def supervisor(components: dict[str, tuple[int, str]], tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """``run_stack`` in its own process group over stand-ins: name -> (port, status they report)."""
    specs = [
        (name, [sys.executable, DUMMY, str(port), status], f"http://127.0.0.1:{port}/health")
        for name, (port, status) in components.items()
    ]
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_API_TOKEN": "unused-by-stand-ins",
        "RASA_PORT": str(components[RASA_SERVER][0]),
        "REVIEW_PORT": str(components[REVIEW_APP][0]),
        "RUN_DIR": str(tmp_path),
        "SUPERVISOR_PORT": str(SUPERVISOR_PORT),
        "SUPERVISOR_BACKOFF_INITIAL_SECONDS": "0.2",
        "SUPERVISOR_BACKOFF_MAX_SECONDS": "0.4",
        "SUPERVISOR_HEALTH_INTERVAL_SECONDS": "0.1",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", RUN, json.dumps(specs)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def health_when(
    condition: Callable[[dict[str, Any]], bool], seconds: float = 20.0
) -> tuple[int, dict[str, Any]]:
    """The first health answer whose JSON satisfies ``condition``."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(f"http://127.0.0.1:{SUPERVISOR_PORT}/health", timeout=2)
            last = answer.json()
            if condition(last):
                return answer.status_code, last
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the condition never held; last report {last}")


def group_members(group: int) -> str:
    return subprocess.run(["pgrep", "-g", str(group)], capture_output=True, text=True).stdout.strip()


def test_all_up_is_ok_and_sigterm_to_the_group_stops_everything(tmp_path: Path) -> None:
    components = {
        REGISTRY: (15221, "ok"),
        REVIEW_APP: (15222, "ok"),
        ACTION_SERVER: (15223, "ok"),
        RASA_SERVER: (15224, "ok"),
    }
    with supervisor(components, tmp_path) as process:
        status, report = health_when(lambda report: report["status"] == "ok")
        assert status == 200
        assert set(report["components"]) == {REGISTRY, REVIEW_APP, ACTION_SERVER, RASA_SERVER}
        for name, (port, _) in components.items():
            entry = report["components"][name]
            assert entry["state"] == "up" and entry["restarts"] == 0 and isinstance(entry["pid"], int)
            assert entry["health"] == {
                "url": f"http://127.0.0.1:{port}/health",
                "status_code": 200,
                "body": {"status": "ok"},
                "error": None,
            }
        os.killpg(process.pid, signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Traceback" not in err
    assert "TanyaVaksin is up: POST http://localhost:15224/webhooks/rest/webhook (Ctrl-C stops it)" in out
    assert f"Review app: http://localhost:15222 (admin; password: REVIEW_ADMIN_PASSWORD in {tmp_path}" in out
    assert out.rstrip().endswith("TanyaVaksin stopped.")
    assert group_members(process.pid) == ""
    for port, _ in components.values():
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
        except httpx.ConnectError:
            continue
        raise AssertionError(f"something still answers on {port}")


def test_one_process_failing_leaves_the_others_serving_and_the_report_degraded(tmp_path: Path) -> None:
    components = {
        REGISTRY: (15231, "crash"),  # exits with code 3 each time it starts
        REVIEW_APP: (15232, "ok"),
        ACTION_SERVER: (15233, "degraded"),  # up, but says it works with less
        RASA_SERVER: (15234, "ok"),
    }
    with supervisor(components, tmp_path) as process:
        status, report = health_when(
            lambda report: (
                report["components"][REGISTRY]["restarts"] >= 3
                and report["components"][ACTION_SERVER]["state"] == "up"
            )
        )
        assert status == 503 and report["status"] == "degraded"
        registry = report["components"][REGISTRY]
        assert registry["state"] in ("restarting", "starting")
        assert registry["last_exit_code"] == 3
        action_server = report["components"][ACTION_SERVER]
        assert action_server["health"]["body"] == {"status": "degraded"}
        assert report["components"][RASA_SERVER]["state"] == "up"
        # Still serving: the stack was not stopped because one process kept failing.
        assert process.poll() is None
        assert httpx.get("http://127.0.0.1:15234/", timeout=2).status_code == 200
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
        out, err = process.communicate(timeout=30)
    assert "registry exited (code 3)" in err
    assert "registry restarted (restart 1)" in err
    assert out.rstrip().endswith("TanyaVaksin stopped.")
    assert group_members(process.pid) == ""


def test_the_health_endpoint_listens_on_loopback_only(tmp_path: Path) -> None:
    components = {REGISTRY: (15241, "ok"), REVIEW_APP: (15242, "ok"), RASA_SERVER: (15244, "ok")}
    with supervisor(components, tmp_path) as process:
        health_when(lambda report: report["status"] == "ok")
        listening = subprocess.run(
            ["ss", "-Hltn", f"sport = :{SUPERVISOR_PORT}"], capture_output=True, text=True
        )
        addresses = {line.split()[3] for line in listening.stdout.splitlines()}
        assert addresses == {f"127.0.0.1:{SUPERVISOR_PORT}"}
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=30)
