"""Rasa's default pipeline on this machine: the ``rasa init`` moodbot, as the load test's yardstick.

``rasa init --no-prompt`` writes Rasa's example project and trains it with Rasa's default
configuration (empty pipeline and policies: Rasa fills in its defaults). Training takes minutes, so
the trained project is kept under ``reports/load/moodbot/rasa-<version>/`` (git-ignored) and trained
again only for another Rasa version. The server is ``rasa run --enable-api`` on loopback, with the
project's own credentials (the REST channel) and endpoints (in-memory tracker store, no action
server), driven with the moodbot's own small talk.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.harness.assistant_process import ROOT, log_tail
from tests.load.workload import LOOPBACK, Conversation, Turn

RASA = ROOT / ".venvs" / "rasa" / "bin" / "rasa"
RASA_PYTHON = ROOT / ".venvs" / "rasa" / "bin" / "python"
CACHE = ROOT / "reports" / "load" / "moodbot"
TRAIN_SECONDS = 1800
STARTUP_SECONDS = 600
STOP_SECONDS = 30
# The moodbot's stories: a greeting, a mood, an answer to "did that help?", a goodbye or the bot question.
MOODBOT_CONVERSATIONS = (
    ("hi", "I am sad", "yes", "bye"),
    ("hello", "great", "are you a bot?"),
    ("hey there", "not good", "no"),
    ("good morning", "perfect", "goodbye"),
    ("hello", "my day was horrible", "not really", "see you around"),
    ("hey", "I am great", "am I talking to a human?", "bye bye"),
)


def rasa_environment() -> dict[str, str]:
    """Rasa as shipped: only TensorFlow's start-up chatter and the telemetry are switched off."""
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false"}


def rasa_version() -> str:
    return subprocess.run(
        [str(RASA_PYTHON), "-c", "import importlib.metadata as m; print(m.version('rasa'))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.strip()


def trained(project: Path) -> bool:
    return any((project / "models").glob("*.tar.gz"))


def ensure_moodbot(progress: Callable[[str], None], cache: Path = CACHE) -> Path:
    """The trained moodbot project for this Rasa version: from the cache, else made now (minutes)."""
    version = rasa_version()
    project = cache / f"rasa-{version}"
    if trained(project):
        return project
    partial = cache / f"rasa-{version}.partial"  # renamed when complete: an interrupted run leaves no cache
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    progress(f"training Rasa's moodbot with Rasa {version}'s defaults (rasa init; once per version) ...")
    log = cache / f"rasa-{version}.init.log"
    with log.open("wb") as output:
        subprocess.run(
            [str(RASA), "init", "--no-prompt", "--init-dir", str(partial)],
            cwd=partial,
            env=rasa_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=True,
            timeout=TRAIN_SECONDS,
        )
    if not trained(partial):
        raise RuntimeError(f"rasa init trained no model:\n{log_tail(log)}")
    shutil.rmtree(project, ignore_errors=True)
    partial.rename(project)
    return project


@dataclass
class MoodbotServer:
    process: subprocess.Popen[bytes]
    port: int
    log_file: Path

    @property
    def rest_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/webhooks/rest/webhook"

    def wait_until_up(self, seconds: float = STARTUP_SECONDS) -> None:
        """Until the bot answers "hi" (the port opens once the model is loaded; this makes sure)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the moodbot exited early:\n{log_tail(self.log_file)}")
            try:
                answer = httpx.post(
                    self.rest_url, json={"sender": "load-moodbot-up", "message": "hi"}, timeout=10
                )
                if answer.status_code == 200 and answer.json():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise RuntimeError(f"the moodbot did not come up:\n{log_tail(self.log_file)}")

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_SECONDS)


def start_moodbot(project: Path, port: int, log_file: Path) -> MoodbotServer:
    """``rasa run --enable-api`` in the project, on loopback, in its own process group."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [
                str(RASA),
                "run",
                "--enable-api",
                "--interface",
                LOOPBACK,
                "--port",
                str(port),
                "--model",
                "models",
                "--credentials",
                "credentials.yml",
                "--endpoints",
                "endpoints.yml",
            ],
            cwd=project,
            env=rasa_environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return MoodbotServer(process, port, log_file)


def moodbot_conversations(prefix: str) -> Iterator[Conversation]:
    """The moodbot's conversations in turn, each from its own sender."""
    for number, texts in enumerate(itertools.cycle(MOODBOT_CONVERSATIONS)):
        yield Conversation(f"{prefix}-{number}", "moodbot", "rest", tuple(Turn(text) for text in texts))
