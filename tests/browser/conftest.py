"""Browser tests of the review web app: a real server process, Debian's Chromium driven by Playwright.

Per module: one ``python -m services.review serve`` on a port of 15505-15508 (reserved for these
tests), started the way ``make run`` starts it, on a tracker store this fixture writes
(tracker_data.py), a copy of ``data/``, and two users made with ``create-user``. Rasa's URL points
at port 15509, where nothing listens. Per test: a new browser context (no cookies), one page, and on
failure a screenshot and the page's HTML in the test's tmp dir (named in the report).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.browser.tracker_data import write_tracker
from tests.harness.review_process import create_user, review_env, running_review_app

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
APP_PORTS = range(15505, 15509)  # the first free one; 15509 stays unused: "Rasa is down"
RASA_URL = "http://127.0.0.1:15509"
ACTION_TIMEOUT_MS = 10_000

ADMIN = ("ayu", "admin-browser-pass-1")
REVIEWER = ("rudi", "reviewer-browser-pass-1")

_PAGES = pytest.StashKey[list[Page]]()
_FAILURE_DIR = pytest.StashKey[Path]()


@dataclass(frozen=True)
class ReviewServer:
    url: str
    root: Path  # the server's tmp dir: review.db, tracker.db, data/, server.log
    data_dir: Path
    fallback: dict[str, bool]  # every conversation the tracker store holds -> had a fallback turn
    log: Path


def _free_port() -> int:
    for port in APP_PORTS:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail(f"ports {APP_PORTS.start}-{APP_PORTS.stop - 1} (browser tests only) are all in use")


@pytest.fixture(scope="module")
def review_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewServer]:
    root = tmp_path_factory.mktemp("review_app")
    data_dir = root / "data"
    shutil.copytree(REPO / "data", data_dir)
    (root / "models").mkdir()
    fallback = write_tracker(f"sqlite:///{root / 'tracker.db'}")
    env = review_env(root, data_dir, root / "models", RASA_URL)
    create_user(env, *ADMIN, role="admin")
    create_user(env, *REVIEWER, role="reviewer")
    log = root / "server.log"
    with running_review_app(env, _free_port(), log) as url:
        yield ReviewServer(url=url, root=root, data_dir=data_dir, fallback=fallback, log=log)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (also for tests/integration)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium; run scripts/setup_browser.sh",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(browser: Browser, review_server: ReviewServer) -> Iterator[BrowserContext]:
    """A new, empty browser profile per test: no cookies from another test."""
    opened = browser.new_context(base_url=review_server.url, locale="id-ID")
    opened.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest, tmp_path: Path) -> Page:
    opened = context.new_page()
    request.node.stash[_PAGES] = [opened]
    request.node.stash[_FAILURE_DIR] = tmp_path
    return opened


def keep_on_failure(request: pytest.FixtureRequest, extra: Page) -> None:
    """Screenshot ``extra`` too when the test fails (a second page or context)."""
    pages: list[Page] = request.node.stash.setdefault(_PAGES, [])
    pages.append(extra)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed and _PAGES in item.stash:
        folder = item.stash[_FAILURE_DIR]
        saved: list[str] = []
        pages: list[Page] = item.stash[_PAGES]
        for number, shown in enumerate(pages):
            if shown.is_closed():
                continue
            stem = folder / f"failure-{number}"
            try:
                shown.screenshot(path=f"{stem}.png", full_page=True)
                Path(f"{stem}.html").write_text(shown.content(), encoding="utf-8")
            except Exception as error:  # the page may be gone with the browser
                saved.append(f"no screenshot of {shown.url}: {error}")
            else:
                saved.append(f"{shown.url}\n  {stem}.png\n  {stem}.html")
        if saved:
            report.sections.append(("browser on failure", "\n".join(saved)))
    return report


# --- helpers the tests share ------------------------------------------------------------------


def sign_in(page: Page, username: str, password: str, path: str = "/login") -> None:
    """Fill in and send the sign-in form (at ``path``, which may carry ``?next=``)."""
    if path:
        page.goto(path)
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk", exact=True).click()


def signed_in(page: Page, user: tuple[str, str]) -> None:
    sign_in(page, *user)
    expect(page).to_have_url(re.compile(r"/conversations$"))
