"""The officer console in Debian's Chromium, on the whole assistant, with a simulated WhatsApp phone.

A recipient asks for an officer over WhatsApp; an officer signs in to the review app, finds the
conversation in the queue, claims it and replies; the reply reaches the phone under the officer
line; closing hands the chat back to the bot, which tells the phone and answers again; the sealed
number is gone from storage. Everything the officer does is through the pages, as a person would.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from rasa_project.channels.handoff_contacts import TABLE_NAME
from rasa_project.channels.privacy import conversation_id
from tests.browser.conftest import ACTION_TIMEOUT_MS, chromium
from tests.harness.assistant_process import AssistantProcess
from tests.harness.review_process import create_user
from tests.harness.whatsapp import payloads
from tests.harness.whatsapp.fake_graph_api import FakeGraphApiThread
from tests.integration.support import WHATSAPP_SECRETS, response_text
from tests.integration.test_whatsapp_channel import WhatsAppRig, bodies

OFFICER = ("sari", "petugas-console-pass-1")
REPLY = "Selamat siang, Bu. Dosis berikutnya bisa di puskesmas terdekat; bawa KTP ya."


@pytest.fixture(scope="module")
def rig(assistant: AssistantProcess, graph_api: FakeGraphApiThread) -> WhatsAppRig:
    return WhatsAppRig(assistant, graph_api)


@pytest.fixture(scope="module")
def officer(assistant: AssistantProcess) -> tuple[str, str]:
    """An officer account in the stack's review database, made with the review app's CLI."""
    env = {
        **os.environ,
        "REVIEW_DATABASE_URL": f"sqlite:///{assistant.run_dir / 'review.db'}",
        "REVIEW_TRACKER_STORE_URL": f"sqlite:///{assistant.run_dir / 'tracker.db'}",
    }
    create_user(env, *OFFICER, role="officer")
    return OFFICER


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, assistant: AssistantProcess, tmp_path: Path) -> Iterator[Page]:
    context = browser.new_context(base_url=assistant.review_url, locale="id-ID")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    opened = context.new_page()
    try:
        yield opened
    finally:
        opened.screenshot(path=str(tmp_path / "last.png"), full_page=True)
        context.close()


def sign_in(page: Page, user: tuple[str, str]) -> None:
    page.goto("/login")
    page.get_by_label("Nama pengguna").fill(user[0])
    page.get_by_label("Kata sandi").fill(user[1])
    page.get_by_role("button", name="Masuk").click()
    expect(page).not_to_have_url("/login")


def stored_numbers(rig: WhatsAppRig, conversation: str, expected: int) -> int:
    """Rows for the conversation, once they are ``expected`` or after 10 s (the channel stores the
    number just after the message that opened the handoff went out)."""
    deadline = time.monotonic() + 10
    while True:
        with sqlite3.connect(rig.run_dir / "tracker.db") as database:
            [(count,)] = database.execute(
                f"SELECT COUNT(*) FROM {TABLE_NAME} WHERE conversation_id = ?", (conversation,)
            )
        if count == expected or time.monotonic() > deadline:
            return int(count)
        time.sleep(0.1)


def test_an_officer_answers_a_whatsapp_recipient_from_the_console(
    rig: WhatsAppRig, officer: tuple[str, str], page: Page
) -> None:
    phone = rig.new_phone()
    conversation = conversation_id(phone, WHATSAPP_SECRETS["WHATSAPP_SENDER_HASH_KEY"])
    rig.deliver(payloads.text_message(phone, "tolong sambungkan ke petugas"))
    [handed_over] = bodies(rig.replies(phone, 1))
    assert handed_over.startswith("Baik, percakapan ini sudah kami teruskan ke petugas.")
    assert stored_numbers(rig, conversation, 1) == 1

    sign_in(page, officer)
    page.goto("/petugas")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Antrean petugas")
    page.locator(f'a[href*="{conversation}"]').first.click()
    page.get_by_role("button", name="Ambil").click()
    expect(page.get_by_text("Anda menangani percakapan ini")).to_be_visible()
    page.get_by_label("Balasan").fill(REPLY)
    page.get_by_role("button", name="Kirim").click()
    assert bodies(rig.replies(phone, 2))[1] == f"*Petugas TanyaVaksin:*\n{REPLY}"
    expect(page.locator("main")).to_contain_text(REPLY)  # the reply is part of the transcript

    page.get_by_role("button", name="Tutup & kembalikan ke bot").click()
    assert bodies(rig.replies(phone, 3))[2] == response_text("utter_handoff_released")
    assert stored_numbers(rig, conversation, 0) == 0

    page.goto("/petugas")
    expect(page.locator(f'a[href*="{conversation}"]')).to_have_count(0)
    rig.deliver(payloads.text_message(phone, "vaksin bayar ga?"))
    assert bodies(rig.replies(phone, 4))[3] == response_text("utter_faq/biaya")
