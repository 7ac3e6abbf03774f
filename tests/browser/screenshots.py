"""Screenshots of every review app page at 1280 px and 390 px, for the README (``make screenshots``).

The app runs as in the browser tests (tests/browser/conftest.py): its own process on the
conversations of tests/browser/tracker_data.py, a copy of ``data/``, the repository's models
registry, Rasa down; the outreach pages read a demo registry run here, holding a correction request,
two KIPI reports and an opt-out (tests/services/review/outreach_support.py). Pages are shot in
Indonesian, as ministry staff see them, signed in as an administrator (who sees every page, the
officer console included). JPEG, so the images stay small.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from playwright.sync_api import Page

from tests.actions.servers import registry_app
from tests.browser.conftest import RASA_URL, chromium
from tests.browser.tracker_data import write_tracker
from tests.harness.review_process import create_user, review_env, running_review_app
from tests.integration.review_client import unused_port
from tests.services.review.outreach_support import (
    REGISTRY_SETTINGS,
    STAFF_TOKEN,
    registry_today,
    seed_requests,
)

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "docs" / "screenshots"
ADMIN = ("ayu", "admin-screenshot-pass-1")
WIDTHS = (1280, 390)
# name -> path; "first:<css>" opens the first link matching <css> on the previous page.
PAGES = [
    ("login", "/login"),
    ("percakapan", "/conversations"),
    ("transkrip", "first:a[href^='/conversations/']"),
    ("petugas", "/petugas"),
    ("petugas-percakapan", "first:a[href^='/petugas/']"),
    ("balasan-siap-pakai", "/balasan-siap"),
    ("inbox", "/inbox"),
    ("belum-terjawab", "/unanswered"),
    ("statistik", "/stats"),
    ("uji-chat", "/chat"),
    ("model", "/models"),
    ("konten", "/content"),
    ("kampanye", "/kampanye"),
    ("koreksi-data", "/koreksi"),
    ("laporan-kipi", "/kipi"),
    ("berhenti-langganan", "/berhenti-langganan"),
]


def sign_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Nama pengguna").fill(ADMIN[0])
    page.get_by_label("Kata sandi").fill(ADMIN[1])
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_load_state()


def shoot(url: str, out: Path, image_format: str = "jpeg") -> list[Path]:
    written = []
    with chromium() as browser:
        for width in WIDTHS:
            context = browser.new_context(
                base_url=url, locale="id-ID", viewport={"width": width, "height": 900}
            )
            page = context.new_page()
            for name, path in PAGES:
                if name == "login":
                    page.goto(path)
                else:
                    if page.url.endswith("/login") or "/login?" in page.url:
                        sign_in(page)
                    if path.startswith("first:"):
                        links = page.locator(path.removeprefix("first:"))
                        if links.count() == 0:
                            print(f"{name}: no link {path} on {page.url}; skipped")
                            continue
                        page.goto(links.first.get_attribute("href") or "/")
                    else:
                        page.goto(path)
                if image_format == "png":
                    target = out / f"{name}-{width}.png"
                    page.screenshot(path=str(target), full_page=True, type="png")
                else:
                    target = out / f"{name}-{width}.jpg"
                    page.screenshot(path=str(target), full_page=True, type="jpeg", quality=60)
                written.append(target)
            context.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--format", choices=("jpeg", "png"), default="jpeg", help="png: lossless, larger")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        data_dir = root / "data"
        shutil.copytree(REPO / "data", data_dir)
        models_dir = REPO / "models" if (REPO / "models" / "registry.json").exists() else root / "models"
        models_dir.mkdir(exist_ok=True)
        write_tracker(f"sqlite:///{root / 'tracker.db'}")
        env = review_env(root, data_dir, models_dir, RASA_URL)
        create_user(env, *ADMIN, role="admin")
        with registry_app(root / "registry.db", registry_today(), **REGISTRY_SETTINGS) as registry_url:
            seed_requests(registry_url)
            env.update(REGISTRY_URL=registry_url, REGISTRY_STAFF_TOKEN=STAFF_TOKEN)
            with running_review_app(env, unused_port(), root / "review.log") as url:
                for path in shoot(url, args.out, args.format):
                    print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


if __name__ == "__main__":
    main()
