"""What a reviewer does in a real browser: sign in, filter conversations, read a transcript, the NLU inbox.

The server, its databases and the browser are shared by the module (conftest.py); every test has a
fresh browser context, so it signs in itself. The conversations are those of tracker_data.py.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

import pytest
import yaml
from playwright.sync_api import Browser, BrowserContext, Page, expect

from services.review.auth import SESSION_COOKIE
from tests.browser.conftest import ADMIN, REPO, REVIEWER, ReviewServer, keep_on_failure, sign_in, signed_in
from tests.browser.tracker_data import (
    INBOX_CONFIDENCE,
    INBOX_CORRECT_TOPIC,
    INBOX_PREDICTED,
    INBOX_TEXT,
    PII_CONVERSATION,
    PII_EMAIL,
    PII_NIK,
    PII_PHONE,
)

# What the person of PII_CONVERSATION typed, also without its separators: no page may show any of it.
TYPED_PERSONAL_DATA = (
    PII_PHONE,
    PII_PHONE.replace("-", ""),
    PII_EMAIL,
    PII_EMAIL.split("@")[0],
    PII_NIK,
    PII_NIK.replace(" ", ""),
)


def _session_cookies(context: BrowserContext) -> list[dict[str, object]]:
    return [dict(cookie) for cookie in context.cookies() if cookie.get("name") == SESSION_COOKIE]


def _listed_ids(page: Page) -> list[str]:
    """The conversation ids of the list's rows, from their links (the link text is masked)."""
    ids = []
    for link in page.locator("table tbody tr td:first-child a").all():
        href = link.get_attribute("href") or ""
        assert href.startswith("/conversations/"), href
        ids.append(unquote(href.removeprefix("/conversations/")))
    return ids


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_sign_in_rejected_then_accepted(
    page: Page, context: BrowserContext, review_server: ReviewServer
) -> None:
    username, password = ADMIN
    sign_in(page, username, "not-the-password-1")

    expect(page.locator("p.error")).to_have_text("Nama pengguna atau kata sandi salah.")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value(username)
    assert urlsplit(page.url).path == "/login"
    assert _session_cookies(context) == []
    # Nothing from the failed attempt lets the browser in, and neither does a made-up session.
    page.goto("/conversations")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fconversations$"))
    context.add_cookies([{"name": SESSION_COOKIE, "value": "forged-session-token", "url": review_server.url}])
    page.goto("/conversations")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fconversations$"))
    context.clear_cookies()

    sign_in(page, username, password)

    expect(page).to_have_url(f"{review_server.url}/conversations")
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
    expect(page.locator("header .who")).to_contain_text(f"{username} (admin)")
    [cookie] = _session_cookies(context)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] in ("Lax", "Strict")
    assert cookie["path"] == "/"
    assert SESSION_COOKIE not in page.evaluate("document.cookie")  # HttpOnly: scripts cannot read it


def test_unauthenticated_visit_redirects_and_form_without_csrf_is_refused(
    page: Page, review_server: ReviewServer
) -> None:
    transcript = f"/conversations/{PII_CONVERSATION}"
    page.goto(transcript)

    expect(page).to_have_url(f"{review_server.url}/login?next={quote(transcript, safe='')}")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.request.get("/api/conversations").status == 401

    # Signing in from there goes back to the page asked for.
    sign_in(page, *REVIEWER, path="")
    expect(page).to_have_url(f"{review_server.url}{transcript}")

    tag_form = f"{transcript}/tags"
    without_token = page.request.post(tag_form, form={"tag": "tanpa-csrf"}, max_redirects=0)
    assert without_token.status == 403, without_token.text()
    assert "tidak dikirim dari situs ini" in without_token.text()
    wrong_token = page.request.post(
        tag_form, form={"tag": "tanpa-csrf", "csrf_token": "x" * 43}, max_redirects=0
    )
    assert wrong_token.status == 403
    page.reload()
    expect(page.get_by_text("tanpa-csrf")).to_have_count(0)


def test_filter_conversations_with_a_fallback(page: Page, review_server: ReviewServer) -> None:
    with_fallback = sorted(cid for cid, fallback in review_server.fallback.items() if fallback)
    without = sorted(cid for cid, fallback in review_server.fallback.items() if not fallback)
    assert with_fallback and without  # the fixture wrote both kinds
    signed_in(page, REVIEWER)
    expect(page.locator("main")).to_contain_text(f"{len(review_server.fallback)} conversations;")
    assert sorted(_listed_ids(page)) == sorted(review_server.fallback)

    page.locator("select[name=fallback]").select_option(label="with fallback")
    page.get_by_role("button", name="Filter").click()

    expect(page).to_have_url(re.compile(r"[?&]fallback=yes(&|$)"))
    expect(page.locator("main")).to_contain_text(f"{len(with_fallback)} conversations;")
    assert sorted(_listed_ids(page)) == with_fallback
    rows = page.locator("table tbody tr")
    expect(rows.filter(has=page.locator(".badge.fallback"))).to_have_count(len(with_fallback))
    expect(page.locator("select[name=fallback]")).to_have_value("yes")

    page.locator("select[name=fallback]").select_option(label="without")
    page.get_by_role("button", name="Filter").click()

    expect(page).to_have_url(re.compile(r"[?&]fallback=no(&|$)"))
    expect(page.locator("main")).to_contain_text(f"{len(without)} conversation")
    assert sorted(_listed_ids(page)) == without
    expect(page.locator("table tbody .badge.fallback")).to_have_count(0)


def test_transcript_shows_nlu_results_and_masks_personal_data(
    page: Page, review_server: ReviewServer
) -> None:
    signed_in(page, REVIEWER)
    page.locator(f'a[href="/conversations/{PII_CONVERSATION}"]').click()

    expect(page.get_by_role("heading", name=f"Conversation {PII_CONVERSATION}")).to_be_visible()
    expect(page.locator("p.muted").first).to_contain_text("lowest confidence 0.31")
    turns = page.locator(".turn-user")
    expect(turns).to_have_count(2)
    first, second = _squash(turns.nth(0).inner_text()), _squash(turns.nth(1).inner_text())
    assert "nomor saya [TELEPON] dan email [EMAIL], booster kedua kapan ya?" in first
    assert "intent faq 0.88" in first
    assert "FAQ topic faq/booster_kedua 0.74" in first
    assert "answered" in first
    assert "NIK [NIK] kok belum terdaftar" in second
    assert "intent nlu_fallback 0.31" in second
    assert "fallback" in second
    expect(page.locator(".turn-bot").first).to_contain_text("utter_faq/booster_kedua")

    served = page.request.get(f"/conversations/{PII_CONVERSATION}")
    assert served.status == 200
    for html in (page.content(), served.text()):
        for value in TYPED_PERSONAL_DATA:
            assert value not in html
        for placeholder in ("[TELEPON]", "[EMAIL]", "[NIK]"):
            assert placeholder in html


def test_inbox_correct_then_export_as_admin(
    page: Page, browser: Browser, review_server: ReviewServer, request: pytest.FixtureRequest
) -> None:
    label = f"faq/{INBOX_CORRECT_TOPIC}"
    signed_in(page, REVIEWER)
    page.get_by_role("link", name="NLU inbox").click()

    expect(page.get_by_role("heading", name="NLU inbox")).to_be_visible()
    row = page.locator("#inbox-table tbody tr").filter(has_text=INBOX_TEXT)
    expect(row).to_have_count(1)
    expect(row.locator(".inbox-confidence")).to_have_text(f"{INBOX_CONFIDENCE:.2f}")
    expect(row.locator(".inbox-predicted")).to_contain_text(INBOX_PREDICTED)
    inbox_html = page.content()  # the PII conversation's messages are in the inbox too, masked
    assert not [value for value in TYPED_PERSONAL_DATA if value in inbox_html]

    row.get_by_label("correct label").select_option(label)
    row.get_by_role("button", name="Correct", exact=True).click()

    expect(page.locator("#decision-notice")).to_have_text("1 message corrected.")
    expect(page.locator("#inbox-table tbody tr").filter(has_text=INBOX_TEXT)).to_have_count(0)
    page.get_by_role("link", name="1 approved").click()
    approved = page.locator("#approved-table tbody tr").filter(has_text=INBOX_TEXT)
    expect(approved).to_contain_text(f"[{label}]")
    expect(approved).to_contain_text(REVIEWER[0])
    # Only an administrator exports: a reviewer has no button, and the form is refused.
    expect(page.get_by_role("button", name="Export approved to training data")).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    assert page.request.post("/inbox/export", form={"csrf_token": token}).status == 403
    exported_file = review_server.data_dir / "nlu" / "reviewed.yml"
    assert not exported_file.exists()

    admin_context = browser.new_context(base_url=review_server.url)
    try:
        admin = admin_context.new_page()
        keep_on_failure(request, admin)
        signed_in(admin, ADMIN)
        admin.goto("/inbox/approved")
        admin.get_by_role("button", name="Export approved to training data").click()

        result = admin.locator("#export-result")
        expect(result).to_contain_text("Export done: 1 added to data/nlu/reviewed.yml")
        expect(result.locator(".export-added")).to_have_text("1")
        exported = admin.locator("#exported-table tbody tr").filter(has_text=INBOX_TEXT)
        expect(exported).to_contain_text(f"[{label}]")
        expect(admin.locator("#approved-table tbody")).to_contain_text("Nothing waits for the export.")

        content = exported_file.read_text(encoding="utf-8")
        block = re.search(rf"^- intent: {re.escape(label)}\n  examples: \|\n((?:    - .*\n)+)", content, re.M)
        assert block, content
        assert f"    - {INBOX_TEXT}\n" in block.group(1)
        blocks = {item["intent"]: item["examples"] for item in yaml.safe_load(content)["nlu"]}
        assert INBOX_TEXT in [line.removeprefix("- ") for line in blocks[label].splitlines()]
        assert set(blocks) == {label}

        admin.get_by_role("link", name="To review").click()
        expect(admin.get_by_role("heading", name="NLU inbox")).to_be_visible()
        expect(admin.locator("#inbox-table tbody tr").filter(has_text=INBOX_TEXT)).to_have_count(0)
        expect(admin.locator("#inbox-table tbody tr")).not_to_have_count(0)  # the rest is still there
    finally:
        admin_context.close()
    # The server wrote into its copy of data/, never into the checkout's.
    checkout_file = REPO / "data" / "nlu" / "reviewed.yml"
    assert not checkout_file.exists() or INBOX_TEXT not in checkout_file.read_text(encoding="utf-8")
