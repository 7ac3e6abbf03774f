"""The officer console in a real browser: the queue refreshing itself, taking a conversation, what an
officer sees when the assistant is down, canned replies, the WhatsApp reply window, and a 390 px phone.

REST-only: Rasa is down here (nothing listens on its port, but an API token is set), so a reply
ends in the Indonesian error and is not recorded as sent. The end-to-end WhatsApp test with a real
assistant uses these pages and their labels: "Ambil", "Balasan", "Kirim", "Tutup & kembalikan ke
bot", "Kembalikan ke antrean".

This module runs its own server (the ``review_server`` fixture below replaces conftest's): its
tracker store holds conversations waiting for an officer, written relative to the real clock.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from tests.browser.conftest import (
    ADMIN,
    RASA_URL,
    REPO,
    REVIEWER,
    ReviewServer,
    _free_port,
    keep_on_failure,
    sign_in,
)
from tests.harness.review_process import create_user, review_env, running_review_app
from tests.services.review.officer_support import handoff_events
from tests.services.review.support import write_events

OLGA = ("olga", "officer-browser-pass-1")
OKI = ("oki", "officer-browser-pass-2")
REPLY_TEST = "web-petugas-balas"  # olga takes it, her reply fails: Rasa is down
REFRESH_TEST = "web-petugas-segar"  # oki takes it while olga's queue refreshes itself
WHATSAPP_OPEN = "wa_6281234000001"  # asked 3 h ago: the window is open for about 21 h
WHATSAPP_CLOSED = "wa_6281234000002"  # asked 30 h ago: the window has closed
PHONE: ViewportSize = {"width": 390, "height": 844}
REFRESH_WAIT_MS = 25_000  # the queue refreshes every 15 s


@pytest.fixture(scope="module")
def review_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewServer]:
    root = tmp_path_factory.mktemp("officer_app")
    data_dir = root / "data"
    shutil.copytree(REPO / "data", data_dir)
    (root / "models").mkdir()
    tracker = f"sqlite:///{root / 'tracker.db'}"
    now = datetime.now(UTC)
    for conversation_id, asked, channel in (
        (WHATSAPP_CLOSED, now - timedelta(hours=30), "whatsapp"),
        (WHATSAPP_OPEN, now - timedelta(hours=3), "whatsapp"),
        (REPLY_TEST, now - timedelta(minutes=20), "rest"),
        (REFRESH_TEST, now - timedelta(minutes=5), "rest"),
    ):
        write_events(tracker, conversation_id, handoff_events(asked, channel, "halo, saya masih menunggu"))
    env = review_env(root, data_dir, root / "models", RASA_URL)
    env["RASA_API_TOKEN"] = "browser-test-token"  # replies are allowed; Rasa is simply down
    create_user(env, *ADMIN, role="admin")
    create_user(env, *REVIEWER, role="reviewer")
    create_user(env, *OLGA, role="officer")
    create_user(env, *OKI, role="officer")
    log = root / "server.log"
    with running_review_app(env, _free_port(), log) as url:
        yield ReviewServer(url=url, root=root, data_dir=data_dir, fallback={}, log=log)


def officer_signed_in(page: Page, user: tuple[str, str]) -> None:
    sign_in(page, *user, path="/login?next=%2Fpetugas")
    expect(page).to_have_url(re.compile(r"/petugas$"))


def entry(page: Page, conversation_id: str) -> Locator:
    """The queue entry of one conversation (its link names it; the text shown is masked)."""
    return page.locator("ul.queue li").filter(has=page.locator(f'a[href="/petugas/{conversation_id}"]'))


def fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


def test_a_reviewer_is_refused_in_indonesian(page: Page) -> None:
    sign_in(page, *REVIEWER)
    page.goto("/petugas")
    expect(page.locator("p.error")).to_have_text(
        "Hanya petugas atau administrator yang boleh membuka konsol petugas."
    )


def test_take_reply_while_rasa_is_down_pick_a_canned_reply_and_put_it_back(page: Page) -> None:
    officer_signed_in(page, OLGA)
    queued = page.locator("ul.queue li")
    ids = [link.get_attribute("href") for link in queued.locator("div.row:first-child a").all()]
    assert ids.index(f"/petugas/{WHATSAPP_CLOSED}") < ids.index(f"/petugas/{REPLY_TEST}")  # oldest first
    reply_entry = entry(page, REPLY_TEST)
    expect(reply_entry).to_contain_text(re.compile(r"menunggu 2\d menit"))
    expect(reply_entry).to_contain_text("halo, saya masih menunggu")

    reply_entry.get_by_role("button", name="Ambil").click()

    expect(page).to_have_url(re.compile(rf"/petugas/{REPLY_TEST}\?done=claimed$"))
    expect(page.locator("p.notice")).to_have_text("Percakapan ini sekarang Anda tangani.")
    box = page.get_by_label("Balasan")
    box.fill("Halo, saya petugas. Vaksin booster gratis di puskesmas.")
    page.get_by_role("button", name="Kirim").click()

    expect(page.locator("p.error")).to_have_text(
        "Balasan tidak terkirim dan tidak dicatat sebagai terkirim. "
        "Asisten (Rasa) tidak dapat dihubungi. Coba lagi sebentar lagi."
    )
    expect(page.get_by_label("Balasan")).to_have_value(
        "Halo, saya petugas. Vaksin booster gratis di puskesmas."
    )
    expect(page.locator(".history")).not_to_contain_text("membalas")

    page.get_by_role("link", name="Keadaan darurat").click()
    expect(page.get_by_label("Balasan")).to_have_value(re.compile(r"segera hubungi 119 atau datang ke IGD"))

    page.get_by_role("button", name="Kembalikan ke antrean").click()
    expect(page).to_have_url(re.compile(r"/petugas\?done=requeued$"))
    expect(page.locator("p.notice")).to_have_text("Percakapan dikembalikan ke antrean.")
    expect(entry(page, REPLY_TEST).get_by_role("button", name="Ambil")).to_be_visible()


def test_the_queue_refreshes_itself_when_another_officer_takes_a_conversation(
    page: Page, browser: Browser, review_server: ReviewServer, request: pytest.FixtureRequest
) -> None:
    officer_signed_in(page, OLGA)
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_attribute("content", "15")
    expect(entry(page, REFRESH_TEST).get_by_role("button", name="Ambil")).to_be_visible()

    other = browser.new_context(base_url=review_server.url, locale="id-ID")
    try:
        oki = other.new_page()
        keep_on_failure(request, oki)
        officer_signed_in(oki, OKI)
        entry(oki, REFRESH_TEST).get_by_role("button", name="Ambil").click()
        expect(oki.locator("p.notice")).to_have_text("Percakapan ini sekarang Anda tangani.")

        # olga does nothing: her queue reloads itself and says who answers
        expect(entry(page, REFRESH_TEST)).to_contain_text(
            "Sedang ditangani oleh oki.", timeout=REFRESH_WAIT_MS
        )
        page.goto(f"/petugas/{REFRESH_TEST}")
        expect(page.get_by_text("Sedang ditangani oleh oki.")).to_be_visible()
        expect(page.get_by_label("Balasan")).to_have_count(0)
        expect(page.get_by_role("button", name="Ambil")).to_have_count(0)
    finally:
        other.close()


def test_the_whatsapp_reply_window(page: Page) -> None:
    officer_signed_in(page, OKI)
    entry(page, WHATSAPP_OPEN).get_by_role("button", name="Ambil").click()
    expect(page.get_by_text(re.compile(r"Jendela balasan berakhir dalam 2[01] jam"))).to_be_visible()
    expect(page.get_by_label("Balasan")).to_be_enabled()

    page.goto("/petugas")
    entry(page, WHATSAPP_CLOSED).get_by_role("button", name="Ambil").click()
    expect(page.locator("fieldset p.error")).to_contain_text("Jendela balasan WhatsApp sudah berakhir")
    expect(page.get_by_label("Balasan")).to_be_disabled()
    expect(page.get_by_role("button", name="Kirim")).to_be_disabled()
    expect(page.get_by_role("button", name="Tutup & kembalikan ke bot")).to_be_visible()


def test_the_console_fits_a_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)
    officer_signed_in(page, ADMIN)
    fits(page)
    page.goto(f"/petugas/{WHATSAPP_OPEN}")  # held by oki: the admin may put it back
    expect(page.get_by_role("button", name="Kembalikan ke antrean")).to_be_visible()
    fits(page)
    page.goto("/petugas")
    entry(page, REPLY_TEST).get_by_role("button", name="Ambil").click()
    expect(page.get_by_label("Balasan")).to_be_visible()
    fits(page)
    page.goto("/balasan-siap")
    expect(page.get_by_role("heading", name="Balasan siap pakai", exact=True)).to_be_visible()
    fits(page)
