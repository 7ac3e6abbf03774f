"""The review app as a process (``python -m services.review serve``), the way ``make run`` starts it.

Used by the browser tests and the trainer-loop test, so both run the app exactly as deployed: its
own database, a tracker store and a data folder the caller names, users made with ``create-user``.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venvs" / "actions" / "bin" / "python"
START_SECONDS = 60
STOP_SECONDS = 15


def review_env(root: Path, data_dir: Path, models_dir: Path, rasa_url: str) -> dict[str, str]:
    """Settings for an app keeping everything in ``root``; none inherited from a developer's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_") and k != "RASA_API_TOKEN"}
    env.update(
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        REVIEW_DATABASE_URL=f"sqlite:///{root / 'review.db'}",
        REVIEW_TRACKER_STORE_URL=f"sqlite:///{root / 'tracker.db'}",
        REVIEW_DATA_DIR=str(data_dir),
        REVIEW_MODELS_DIR=str(models_dir),
        REVIEW_RASA_URL=rasa_url,
    )
    return env


def create_user(env: dict[str, str], username: str, password: str, role: str) -> None:
    done = subprocess.run(
        [str(PYTHON), "-m", "services.review", "create-user", username, "--role", role, "--password-stdin"],
        input=f"{password}\n",
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"create-user {username} failed:\n{done.stdout}\n{done.stderr}"


def _tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


@contextmanager
def running_review_app(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """The app on ``port`` until the block ends; yields its URL once ``/healthz`` answers."""
    url = f"http://127.0.0.1:{port}"
    command = [str(PYTHON), "-m", "services.review", "serve", "--port", str(port), "--log-level", "warning"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert process.poll() is None, f"the review app exited with {process.returncode}:\n{_tail(log)}"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"no /healthz in {START_SECONDS} s:\n{_tail(log)}"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
