"""The NLU inbox, Unanswered and Statistics in a real browser, as ministry staff use them.

A reviewer confirms the model's guess of an uncertain message with one click, picks another topic
for a wrong one, and an administrator exports; on a 390 px phone none of the three pages is wider
than the screen, and the inbox's decision is on screen. The server is this module's (conftest.py),
on tracker_data.py's conversations plus one written here: a fallback whose ranking holds a topic.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from services.review.settings import ReviewSettings
from tests.browser.conftest import ADMIN, REPO, REVIEWER, ReviewServer, keep_on_failure, sign_in
from tests.browser.tracker_data import INBOX_CONFIDENCE, INBOX_CORRECT_TOPIC, INBOX_TEXT
from tests.services.review.support import write_events
from tests.services.review.test_inbox_pages import conversation, user_event

PHONE: ViewportSize = {"width": 390, "height": 844}
# An uncertain message (not in data/): the gate said nlu_fallback, the ranking behind it holds
# "faq/efek_samping" at 0.34, the menu button "Efek samping ringan".
SORE_ARM = "habis suntik kemarin lengan saya pegel banget sampe susah angkat tas normal ga sih"
SORE_ARM_GUESS = "Efek samping ringan"
NIK_REPLIES = 4  # people answering the schedule check with their NIK: one hidden line, not rows
SYNC_INTERVAL_SECONDS = ReviewSettings.model_fields["sync_min_interval_seconds"].default + 0.5
PAGES = ["/inbox", "/inbox?data_pribadi=1", "/inbox/approved", "/unanswered", "/stats"]


@pytest.fixture(scope="module", autouse=True)
def uncertain_messages(review_server: ReviewServer) -> Iterator[None]:
    """More conversations in the server's tracker store; the app indexes them on the next page."""
    tracker = f"sqlite:///{review_server.root / 'tracker.db'}"
    now = time.time() - 3600
    fallback = user_event(0, SORE_ARM, "nlu_fallback", 0.3, "faq/efek_samping", 0.34, behind=[("faq", 0.29)])
    write_events(tracker, "browser-guess-77e1", conversation(now, [(fallback, "utter_uncertain_answer")]))
    for number in range(NIK_REPLIES):
        reply = user_event(0, f"317405170885000{number}", "nlu_fallback", 0.1)
        turns = [(reply, "utter_ask_schedule")]
        write_events(tracker, f"browser-nik-{number}", conversation(now + number, turns))
    time.sleep(SYNC_INTERVAL_SECONDS)  # the app indexes the tracker store at most this often
    yield


def signed_in(page: Page, user: tuple[str, str], path: str) -> None:
    sign_in(page, *user, path=f"/login?next={path}")
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def inbox_row(page: Page, text: str) -> Locator:
    return page.locator("#inbox-table tbody tr").filter(has_text=text)


def test_confirm_a_guess_with_one_click(page: Page) -> None:
    signed_in(page, REVIEWER, "/inbox")
    expect(page.get_by_role("heading", name="Kotak masuk NLU")).to_be_visible()
    row = inbox_row(page, SORE_ARM)
    expect(row).to_have_count(1)
    expect(row.locator(".inbox-guess")).to_contain_text(f"Tebakan model: {SORE_ARM_GUESS} (34 %)")
    expect(page.locator("#personal-data-line")).to_contain_text(
        re.compile(r"\d+ balasan data pribadi \(disembunyikan\)")
    )
    expect(page.locator("#inbox-table")).not_to_contain_text("[NIK]")

    row.get_by_role("button", name="Benar", exact=True).click()

    expect(page.locator("#decision-notice")).to_have_text("1 pesan dikonfirmasi.")
    expect(inbox_row(page, SORE_ARM)).to_have_count(0)
    page.get_by_role("link", name="Disetujui & diekspor").click()
    approved = page.locator("#approved-table tbody tr").filter(has_text=SORE_ARM)
    expect(approved).to_contain_text(f"{SORE_ARM_GUESS} — Efek samping (KIPI)")
    expect(approved).to_contain_text(REVIEWER[0])


def test_choose_another_topic_then_export_as_admin(
    page: Page, browser: Browser, review_server: ReviewServer, request: pytest.FixtureRequest
) -> None:
    label = f"faq/{INBOX_CORRECT_TOPIC}"
    signed_in(page, REVIEWER, "/inbox")
    row = inbox_row(page, INBOX_TEXT)
    expect(row.locator(".inbox-confidence")).to_have_text(f"{round(INBOX_CONFIDENCE * 100)} %")
    row.get_by_text("Pilih topik lain").click()
    row.get_by_label("topik yang benar").select_option(label)
    row.get_by_role("button", name="Simpan topik").click()

    expect(page.locator("#decision-notice")).to_have_text("1 pesan diberi topik lain.")
    expect(inbox_row(page, INBOX_TEXT)).to_have_count(0)
    expect(page.get_by_role("button", name="Ekspor yang disetujui ke data latih")).to_have_count(0)

    admin_context = browser.new_context(base_url=review_server.url)
    try:
        admin = admin_context.new_page()
        keep_on_failure(request, admin)
        signed_in(admin, ADMIN, "/inbox/approved")
        expect(admin.locator("#approved-table")).to_contain_text("Biaya vaksin — Info umum vaksin")
        admin.get_by_role("button", name="Ekspor yang disetujui ke data latih").click()
        expect(admin.locator("#export-result")).to_contain_text("Ekspor selesai:")
        expect(admin.locator("#export-result .export-added")).not_to_have_text("0")
        exported = (review_server.data_dir / "nlu" / "reviewed.yml").read_text(encoding="utf-8")
        assert f"- intent: {label}\n" in exported and f"    - {INBOX_TEXT}\n" in exported
        expect(admin.locator("#approved-table tbody")).to_contain_text("Tidak ada yang menunggu ekspor.")
    finally:
        admin_context.close()
    checkout_file = REPO / "data" / "nlu" / "reviewed.yml"
    assert not checkout_file.exists() or INBOX_TEXT not in checkout_file.read_text(encoding="utf-8")


def test_unanswered_refreshes_itself(page: Page) -> None:
    signed_in(page, REVIEWER, "/unanswered")
    expect(page.get_by_role("heading", name="Pertanyaan belum terjawab")).to_be_visible()
    refresh = page.locator('meta[http-equiv="refresh"]')
    expect(refresh).to_have_count(1)
    assert refresh.get_attribute("content") in ("10", "60")
    expect(page.locator("#auto-refresh")).to_contain_text("memuat ulang sendiri")


def test_stats_in_titles_and_words(page: Page) -> None:
    signed_in(page, REVIEWER, "/stats")
    expect(page.get_by_role("heading", name="Statistik")).to_be_visible()
    expect(page.locator("#trend")).to_contain_text(
        re.compile(r"Pesan masuk:\s+minggu ini \d+, [^;]*minggu lalu")
    )
    expect(page.locator("main")).not_to_contain_text("faq/")


@pytest.mark.parametrize("path", PAGES)
def test_a_phone_sees_the_whole_page(page: Page, path: str) -> None:
    page.set_viewport_size(PHONE)
    signed_in(page, REVIEWER, path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} is {width} px wide on a {PHONE['width']} px phone"
    if path == "/inbox":
        # the decision of the first message is on screen, not cut off to the right
        first = page.locator("#inbox-table tbody tr").first
        for button in (first.locator("button.confirm"), first.get_by_text("Pilih topik lain")):
            if button.count():
                box = button.bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
