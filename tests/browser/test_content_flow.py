"""Four eyes on an answer, end to end: one approver edits it in the review app, a second approves,
and the running assistant answers with the new text over REST, without a restart or retraining.

The whole stack runs as ``make run`` starts it (tests/harness/assistant_process.py, ports 15805-15808 and
15855), on a COPY of the domain folder (``TANYAVAKSIN_CONTENT_DIR``, read by the live NLG and the
review app alike), so the repository's answers are never changed by this test.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from rasa_project.content import CONTENT_DIR_ENV, DEFAULT_CONTENT_DIR, load_content
from services.review.content_pages import OWN_EDIT
from tests.browser.conftest import keep_on_failure
from tests.harness.assistant_process import AssistantProcess, start_assistant
from tests.harness.review_process import create_user, review_env
from tests.integration.support import reply

RASA_PORT = 15805  # the registry on 15806, the review app on 15807, the supervisor on 15808
ACTION_PORT = 15855
ANI = ("ani", "approver-browser-ani-1")
BUDI = ("budi", "approver-browser-budi-1")
QUESTION = "vaksin bayar ga?"  # utter_faq/biaya (tests/integration/test_assistant_over_rest.py)
TOPIC = "biaya"
MARKER = "uji empat mata"
SERVED_WITHIN_SECONDS = 5.0


@dataclass(frozen=True)
class Stack:
    assistant: AssistantProcess
    content: Path
    review_url: str


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*.yml"))
    }


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("content_flow")
    content = root / "domain"
    shutil.copytree(DEFAULT_CONTENT_DIR, content)
    repository = _digest(DEFAULT_CONTENT_DIR)
    run_dir = root / "run"
    running = start_assistant(
        run_dir,
        rasa_port=RASA_PORT,
        action_port=ACTION_PORT,
        registry_port=RASA_PORT + 1,
        extra_env={CONTENT_DIR_ENV: str(content)},
    )
    try:
        running.wait_until_up()
        env = review_env(run_dir, run_dir / "data", run_dir / "models", f"http://127.0.0.1:{RASA_PORT}")
        for user in (ANI, BUDI):
            create_user(env, *user, role="approver")
        yield Stack(running, content, running.review_url)
    finally:
        running.stop()
    assert _digest(DEFAULT_CONTENT_DIR) == repository, "the test changed the repository's domain files"


def sign_in_as(context: BrowserContext, stack: Stack, user: tuple[str, str]) -> Page:
    page = context.new_page()
    page.goto(f"{stack.review_url}/login?next=%2Fcontent")
    page.locator("input[name=username]").fill(user[0])
    page.locator("input[name=password]").fill(user[1])
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/content$"))
    return page


def new_text(stack: Stack) -> tuple[str, str]:
    """The edited answer and what the recipient reads (with a contact variable when there are any)."""
    contacts = load_content(stack.content).contacts
    variable, value = next(iter(sorted(contacts.items())), ("", ""))
    contact_line = f"\nInfo: {{{variable}}}" if variable else ""
    text = f"*Biaya vaksin ({MARKER})*\nGratis untuk kelompok prioritas.{contact_line}\n\nSumber: Kemenkes."
    return text, text.replace(f"{{{variable}}}", value) if variable else text


def test_edit_approve_and_served_without_restart(
    browser: Browser, stack: Stack, request: pytest.FixtureRequest
) -> None:
    assistant = stack.assistant
    rasa_pid = assistant.member_pids()["rasa server"]
    before = reply(assistant.say("content-flow-before", QUESTION))
    assert MARKER not in before and before
    text, shown = new_text(stack)
    today = date.today()

    # Ani edits the answer; the preview shows what the phone will show, as she types.
    ani_context = browser.new_context(locale="id-ID")
    ani = sign_in_as(ani_context, stack, ANI)
    keep_on_failure(request, ani)
    ani.get_by_role("link", name=TOPIC, exact=True).click()
    expect(ani.get_by_role("heading", name=f"Jawaban: {TOPIC}")).to_be_visible()
    ani.locator("#content-text").fill(text)
    bubble = ani.locator("#preview [data-testid=wa-bubble]")
    expect(bubble.locator("strong")).to_have_text(f"Biaya vaksin ({MARKER})")
    expect(bubble).to_contain_text(shown.splitlines()[-3])  # the contact line, filled
    expect(ani.locator("#preview-length")).to_have_text(str(len(shown)))
    ani.locator("input[name=valid_as_of]").fill("2024-01-01")
    ani.locator("input[name=next_review]").fill((today + timedelta(days=180)).isoformat())
    ani.locator("#content-note").fill("Uji alur empat mata")
    ani.locator("#content-submit").click()
    expect(ani.locator("#content-notice")).to_contain_text("menunggu persetujuan")
    pending = ani.locator("[id^=pending-]").first
    expect(pending).to_contain_text("Diedit oleh ani")
    expect(ani.get_by_role("button", name="Setujui dan terbitkan")).to_have_count(0)

    # Ani cannot approve her own edit, even by sending the form herself.
    revision = (pending.get_attribute("id") or "").removeprefix("pending-")
    token = ani.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    refused = ani.request.post(
        f"{stack.review_url}/content/revisions/{revision}/approve", form={"csrf_token": token}
    )
    assert refused.status == 403
    assert OWN_EDIT in refused.text()
    assert MARKER not in reply(assistant.say("content-flow-pending", QUESTION))

    # Budi approves; the assistant answers with the new text from the next message on.
    budi_context = browser.new_context(locale="id-ID")
    budi = sign_in_as(budi_context, stack, BUDI)
    keep_on_failure(request, budi)
    budi.goto(f"{stack.review_url}/content/{TOPIC}")
    expect(budi.locator(f"#pending-{revision}")).to_contain_text("Uji alur empat mata")
    budi.get_by_role("button", name="Setujui dan terbitkan").click()
    expect(budi.locator("#content-notice")).to_contain_text("disetujui")
    approved_at = time.monotonic()
    after = reply(assistant.say("content-flow-after", QUESTION))
    served_after = time.monotonic() - approved_at
    print(f"approve -> served over REST: {served_after * 1000:.0f} ms")

    assert after.startswith(shown), after
    assert served_after < SERVED_WITHIN_SECONDS
    assert assistant.member_pids()["rasa server"] == rasa_pid  # no restart
    answer = load_content(stack.content).responses[f"utter_faq/{TOPIC}"][0]
    assert answer["text"] == text
    assert (answer["metadata"]["status"], answer["metadata"]["approved_by"]) == ("approved", "budi")
    expect(budi.locator("#content-history")).to_contain_text("disetujui")
    budi.goto(f"{stack.review_url}/content")
    expect(budi.locator(f"tr[data-topic={TOPIC}]")).to_contain_text("budi")
    ani_context.close()
    budi_context.close()
