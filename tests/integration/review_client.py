"""The review web app as a process, and a reviewer's HTTP client for its NLU inbox and export.

Started the way tests/browser/conftest.py starts it (``python -m services.review serve``, users made
with ``create-user``), on a tracker store and a data folder the caller names. Not imported from that
conftest: it needs Playwright. Pages are read with regexes on the ids the templates give
(services/review/templates/inbox.html, login.html).
"""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
ACTIONS_PYTHON = ROOT / ".venvs" / "actions" / "bin" / "python"
START_SECONDS = 60
ADMIN = ("ayu", "admin-loop-pass-1")
REVIEWER = ("rudi", "reviewer-loop-pass-1")

_LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]*)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
_ROW = re.compile(r'<tr id="group-(\d+)">.*?<td class="inbox-text">(.*?)</td>', re.DOTALL)
_NEXT_PAGE = re.compile(r'<a href="/inbox\?page=(\d+)" id="page-next">')
_ADDED = re.compile(r'<b class="export-added">(\d+)</b>')


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(root: Path, data_dir: Path, models_dir: Path, rasa_url: str) -> dict[str, str]:
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


@contextmanager
def review_app(root: Path, data_dir: Path, models_dir: Path, rasa_url: str) -> Iterator[str]:
    """The app on ``root/tracker.db`` with an admin and a reviewer; yields its URL."""
    env = _env(root, data_dir, models_dir, rasa_url)
    for (name, password), role in ((ADMIN, "admin"), (REVIEWER, "reviewer")):
        command = [str(ACTIONS_PYTHON), "-m", "services.review", "create-user", name, "--role", role]
        done = subprocess.run(
            [*command, "--password-stdin"],
            input=f"{password}\n",
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"create-user {name}:\n{done.stdout}\n{done.stderr}"
    port = unused_port()
    url = f"http://127.0.0.1:{port}"
    log = root / "review.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(ACTIONS_PYTHON), "-m", "services.review", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def signed_in(url: str, user: tuple[str, str]) -> Iterator[httpx.Client]:
    """A client holding a session cookie: signed in through ``/login`` with its CSRF token."""
    with httpx.Client(base_url=url, timeout=60) as client:
        form = client.get("/login")
        token = _LOGIN_CSRF.search(form.text)
        assert form.status_code == 200 and token, form.text[-2000:]
        login = {"username": user[0], "password": user[1], "login_csrf": token.group(1), "next": "/"}
        answer = client.post("/login", data=login)
        assert answer.status_code == 303, f"sign-in as {user[0]}: {answer.status_code} {answer.text[-2000:]}"
        yield client


def inbox_rows(client: httpx.Client) -> tuple[dict[str, int], str]:
    """Every inbox row, every page: shown text -> group id; and the session's CSRF token."""
    rows: dict[str, int] = {}
    page: str | None = "1"
    csrf = ""
    while page:
        answer = client.get("/inbox", params={"page": page})
        assert answer.status_code == 200, answer.text[-2000:]
        rows.update({html.unescape(text).strip(): int(gid) for gid, text in _ROW.findall(answer.text)})
        found = _CSRF.search(answer.text)
        csrf = found.group(1) if found else csrf
        following = _NEXT_PAGE.search(answer.text)
        page = following.group(1) if following else None
    return rows, csrf


def correct(client: httpx.Client, csrf: str, group: int, label: str) -> None:
    """A row's own form (``decide-{group}``): Correct to ``label``."""
    form = {"csrf_token": csrf, "group": str(group), "page": "1", "label": label, "action": "correct"}
    answer = client.post("/inbox/decide", data=form)
    assert answer.status_code == 303, f"{answer.status_code} {answer.text[-2000:]}"
    assert "done=1" in answer.headers["location"], answer.headers["location"]


def export(client: httpx.Client) -> int:
    """An admin's ``Export approved to training data``: how many examples the page says were added."""
    page = client.get("/inbox/approved")
    csrf = _CSRF.search(page.text)
    assert page.status_code == 200 and csrf, page.text[-2000:]
    answer = client.post("/inbox/export", data={"csrf_token": csrf.group(1), "export": "1"})
    added = _ADDED.search(answer.text)
    assert answer.status_code == 200 and added, answer.text[-3000:]
    return int(added.group(1))
