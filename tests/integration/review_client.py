"""The review web app as a process, and a reviewer's HTTP client for its NLU inbox and export.

Started with tests/harness/review_process.py, as the browser tests start it, on a tracker store and a data
folder the caller names. Pages are read with regexes on the ids the templates give
(services/review/templates/inbox.html, login.html).
"""

from __future__ import annotations

import html
import re
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.harness.review_process import create_user, review_env, running_review_app

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


@contextmanager
def review_app(
    root: Path, data_dir: Path, models_dir: Path, rasa_url: str, extra_env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """The app on ``root/tracker.db`` with an admin and a reviewer; yields its URL. ``extra_env``:
    more settings (the Rasa API token and the pipeline the Models page trains with)."""
    env = {**review_env(root, data_dir, models_dir, rasa_url), **(extra_env or {})}
    for (name, password), role in ((ADMIN, "admin"), (REVIEWER, "reviewer")):
        create_user(env, name, password, role)
    with running_review_app(env, unused_port(), root / "review.log") as url:
        yield url


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
