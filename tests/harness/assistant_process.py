"""Starting and stopping the whole assistant (``python -m supervisor``, as `make run` does) from Python.

Used by the integration tests and the benchmark, so both exercise exactly what
``make run`` starts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from actions.schedule import today_in_indonesia

ROOT = Path(__file__).resolve().parents[2]
ACTIONS_PYTHON = ROOT / ".venvs" / "actions" / "bin" / "python"
# Rasa loads its model in 1-2 minutes on 2 cores; a CI machine under load once took longer than 5.
STARTUP_SECONDS = 600


@dataclass
class AssistantProcess:
    process: subprocess.Popen[bytes]
    rasa_port: int
    action_port: int
    run_dir: Path
    log_file: Path
    registry_port: int
    review_port: int
    supervisor_port: int
    registry_database_url: str

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}"

    @property
    def registry_url(self) -> str:
        return f"http://127.0.0.1:{self.registry_port}"

    @property
    def review_url(self) -> str:
        return f"http://127.0.0.1:{self.review_port}"

    @property
    def supervisor_url(self) -> str:
        return f"http://127.0.0.1:{self.supervisor_port}"

    def secret(self, name: str) -> str:
        """A secret the stack uses: from the environment, else the one the supervisor generated."""
        if os.environ.get(name):
            return os.environ[name]
        for line in (self.run_dir / "secrets.env").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key == name:
                return value
        raise RuntimeError(f"no {name} in the environment or the run folder's secrets")

    def action_server_token(self) -> str:
        """What Rasa presents to the action server."""
        return self.secret("ACTION_SERVER_TOKEN")

    def health(self) -> dict[str, Any]:
        """The supervisor's report on every component (supervisor/health.py)."""
        return dict(httpx.get(f"{self.supervisor_url}/health", timeout=10).json())

    def say(self, sender: str, text: str) -> list[dict]:
        response = httpx.post(self.rest_url, json={"sender": sender, "message": text}, timeout=60)
        response.raise_for_status()
        return list(response.json())

    def seed_demo_registry(self) -> date:
        """Moves the demo registry's upcoming appointments to count from today in Jakarta; that day.

        The registry seeds them from the day it started, so a test comparing a shown appointment
        with "today + N days" fails when its run crosses midnight in Jakarta (17:00 UTC). A test
        that reads the demo's upcoming dates calls this first and counts from the day it returns
        (``python -m services.registry seed-demo``, the command an operator has).
        """
        day = today_in_indonesia()
        subprocess.run(
            [str(ACTIONS_PYTHON), "-m", "services.registry", "seed-demo", "--today", day.isoformat()],
            cwd=ROOT,
            env={**os.environ, "REGISTRY_DATABASE_URL": self.registry_database_url},
            check=True,
            capture_output=True,
            timeout=120,
        )
        return day

    def wait_until_up(self) -> None:
        wait_for_http(f"http://127.0.0.1:{self.rasa_port}/", self.process, self.log_file)
        wait_for_http(f"{self.action_url}/health", self.process, self.log_file)
        wait_for_http(f"{self.registry_url}/health", self.process, self.log_file)
        wait_for_http(f"{self.review_url}/healthz", self.process, self.log_file)

    def member_pids(self) -> dict[str, int]:
        """The processes of the group by role (their command lines tell them apart)."""
        output = subprocess.run(
            ["pgrep", "-g", str(self.process.pid), "-a"], capture_output=True, text=True
        ).stdout
        roles = {}
        for line in output.splitlines():
            pid, _, command = line.partition(" ")
            if "actions.server" in command:
                roles["action server"] = int(pid)
            elif "services.registry.outreach" in command:
                roles["outreach worker"] = int(pid)
            elif "services.registry" in command:
                roles["registry"] = int(pid)
            elif "services.review" in command:
                roles["review app"] = int(pid)
            elif "rasa run" in command or command.endswith("rasa") or " run --model" in command:
                roles["rasa server"] = int(pid)
        return roles

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)


def wait_for_http(url: str, process: subprocess.Popen[bytes], log_file: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the assistant exited early:\n{log_tail(log_file)}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the assistant did not come up at {url}:\n{log_tail(log_file)}")


def log_tail(log_file: Path, characters: int = 6000) -> str:
    """The end of the stack's log without the health checks' access lines, which would fill it."""
    lines = log_file.read_text(errors="replace").splitlines()
    kept = [line for line in lines if '"GET /health' not in line]
    return "\n".join(kept)[-characters:]


def start_assistant(
    run_dir: Path,
    rasa_port: int,
    action_port: int,
    extra_env: Mapping[str, str] | None = None,
    registry_port: int | None = None,
    supervisor_port: int | None = None,
) -> AssistantProcess:
    """Starts the assistant in its own process group; call ``wait_until_up`` next.

    ``extra_env`` adds settings (e.g. the WhatsApp channel's); ports and run folder stay the arguments'.
    The registry listens on ``registry_port`` (default: the Rasa port + 1), the review app on the Rasa
    port + 2, the supervisor's health endpoint on the Rasa port + 3. The registry and the review app
    keep their data in the run folder unless ``extra_env`` names another database, so a test never
    touches a shared one.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    log_file = run_dir / "assistant.log"
    registry_port = registry_port or rasa_port + 1
    review_port = rasa_port + 2
    supervisor_port = supervisor_port or rasa_port + 3
    environment = {
        **os.environ,
        "REGISTRY_DATABASE_URL": f"sqlite:///{run_dir / 'registry.db'}",
        **(extra_env or {}),
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "REGISTRY_PORT": str(registry_port),
        "REGISTRY_URL": f"http://127.0.0.1:{registry_port}",
        "REVIEW_PORT": str(review_port),
        "SUPERVISOR_PORT": str(supervisor_port),
        "RUN_DIR": str(run_dir),
    }
    # Owner-only, like everything else the run writes (the servers run under umask 077).
    with open(os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as log:
        process = subprocess.Popen(
            [str(ACTIONS_PYTHON), "-m", "supervisor"],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return AssistantProcess(
        process,
        rasa_port,
        action_port,
        run_dir,
        log_file,
        registry_port,
        review_port,
        supervisor_port,
        environment["REGISTRY_DATABASE_URL"],
    )
