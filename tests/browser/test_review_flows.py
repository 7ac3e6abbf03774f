"""What a reviewer does in a real browser: sign in, filter and search conversations, read a transcript
in plain words, switch the language, the NLU inbox; and every page of this area fits a 390 px phone.

The server, its databases and the browser are shared by the module (conftest.py); every test has a
fresh browser context, so it signs in itself. The conversations are those of tracker_data.py.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

from playwright.sync_api import BrowserContext, Page, ViewportSize, expect

from services.review.auth import SESSION_COOKIE
from tests.browser.conftest import ADMIN, REVIEWER, ReviewServer, sign_in, signed_in
from tests.browser.tracker_data import (
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
    expect(page.get_by_role("heading", name="Masuk")).to_be_visible()
    expect(page.get_by_label("Nama pengguna")).to_have_value(username)
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
    expect(page.get_by_role("heading", name="Percakapan")).to_be_visible()
    expect(page.locator("header .who")).to_contain_text(f"{username} (administrator)")
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
    expect(page.get_by_role("heading", name="Masuk")).to_be_visible()
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
    expect(page.locator("main")).to_contain_text(f"{len(review_server.fallback)} percakapan;")
    assert sorted(_listed_ids(page)) == sorted(review_server.fallback)

    page.get_by_text("Filter", exact=True).click()  # the filters fold away under the search box
    page.locator("select[name=fallback]").select_option(label="dengan fallback")
    page.get_by_role("button", name="Terapkan filter").click()

    expect(page).to_have_url(re.compile(r"[?&]fallback=yes(&|$)"))
    expect(page.locator("main")).to_contain_text(f"{len(with_fallback)} percakapan;")
    assert sorted(_listed_ids(page)) == with_fallback
    rows = page.locator("table tbody tr")
    expect(rows.filter(has=page.locator(".badge.fallback"))).to_have_count(len(with_fallback))
    expect(page.locator("select[name=fallback]")).to_have_value("yes")

    page.locator("select[name=fallback]").select_option(label="tanpa fallback")
    page.get_by_role("button", name="Terapkan filter").click()

    expect(page).to_have_url(re.compile(r"[?&]fallback=no(&|$)"))
    expect(page.locator("main")).to_contain_text(f"{len(without)} percakapan")
    assert sorted(_listed_ids(page)) == without
    expect(page.locator("table tbody .badge.fallback")).to_have_count(0)


def test_transcript_shows_nlu_results_and_masks_personal_data(
    page: Page, review_server: ReviewServer
) -> None:
    signed_in(page, REVIEWER)
    page.locator(f'a[href="/conversations/{PII_CONVERSATION}"]').click()

    expect(page.get_by_role("heading", name=f"Percakapan {PII_CONVERSATION}")).to_be_visible()
    expect(page.locator("#conversation-facts")).to_contain_text("keyakinan terendah 31 %")
    turns = page.locator(".turn-user")
    expect(turns).to_have_count(2)
    first, second = _squash(turns.nth(0).inner_text()), _squash(turns.nth(1).inner_text())
    assert "nomor saya [TELEPON] dan email [EMAIL], booster kedua kapan ya?" in first
    assert "Topik: Booster kedua (yakin 74 %)" in first  # the topic's title, not faq/booster_kedua
    assert "terjawab" in first
    assert "NIK [NIK] kok belum terdaftar" in second
    assert "Maksud: Tidak dipahami (yakin 31 %)" in second
    assert "tidak yakin" in second
    answer = page.locator(".turn-bot").first
    expect(answer).to_contain_text("Booster kedua diberikan minimal 6 bulan setelah booster pertama.")
    expect(answer.locator(".why")).to_have_text("Dijawab dari topik Booster kedua (yakin 74 %)")
    transcript = page.locator(".transcript").inner_text()
    for internal in ("utter_", "action_listen", "nlu_fallback", "faq/", "RulePolicy"):
        assert internal not in transcript, internal

    served = page.request.get(f"/conversations/{PII_CONVERSATION}")
    assert served.status == 200
    for html in (page.content(), served.text()):
        for value in TYPED_PERSONAL_DATA:
            assert value not in html
        for placeholder in ("[TELEPON]", "[EMAIL]", "[NIK]"):
            assert placeholder in html


def test_inbox_is_masked_and_only_admins_export(page: Page, review_server: ReviewServer) -> None:
    """The inbox from the header; correcting and exporting are in test_inbox_stats_pages.py."""
    signed_in(page, REVIEWER)
    page.get_by_role("link", name="Kotak masuk NLU").click()

    expect(page.get_by_role("heading", name="Kotak masuk NLU")).to_be_visible()
    expect(page.locator("main")).to_contain_text(INBOX_TEXT)
    inbox_html = page.content()  # the PII conversation's messages are in the inbox too, masked
    assert not [value for value in TYPED_PERSONAL_DATA if value in inbox_html]
    # Only an administrator exports: the form is refused to a reviewer, and nothing is written.
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    refused = page.request.post("/inbox/export", form={"csrf_token": token})
    assert refused.status == 403
    assert "Hanya administrator yang boleh melakukan ini." in refused.text()
    assert not (review_server.data_dir / "nlu" / "reviewed.yml").exists()


def test_search_what_recipients_typed(page: Page, review_server: ReviewServer) -> None:
    signed_in(page, REVIEWER)
    page.get_by_label("Cari yang diketik penerima").fill("BOOSTER kedua")
    page.get_by_role("button", name="Cari", exact=True).click()

    expect(page).to_have_url(re.compile(r"[?&]q=BOOSTER\+kedua(&|$)"))
    expect(page.locator("main")).to_contain_text("2 percakapan;")  # the PII one and did_you_mean's
    assert sorted(_listed_ids(page)) == sorted([PII_CONVERSATION, "web-7d1f"])
    row = page.locator("table tbody tr").filter(
        has=page.locator(f'a[href="/conversations/{PII_CONVERSATION}"]')
    )
    expect(row.locator(".match")).to_contain_text(
        "nomor saya [TELEPON] dan email [EMAIL], booster kedua kapan ya?"
    )
    # The preview of the last message: the bot's words as written.
    expect(row.locator(".preview")).to_contain_text("Bot: Maaf, saya belum yakin memahami pertanyaan Anda.")
    for value in TYPED_PERSONAL_DATA:
        assert value not in page.content()

    page.get_by_label("Cari yang diketik penerima").fill("%")
    page.get_by_role("button", name="Cari", exact=True).click()
    expect(page.locator("main")).to_contain_text("0 percakapan;")
    expect(page.locator("main")).to_contain_text("tidak berisi huruf atau angka")


def test_switch_language_on_any_page(page: Page, review_server: ReviewServer) -> None:
    page.goto("/login")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(REVIEWER[0])
    page.get_by_label("Password").fill(REVIEWER[1])
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()

    page.locator(f'a[href="/conversations/{PII_CONVERSATION}"]').click()
    expect(page.locator(".turn-user").first).to_contain_text("Topic: Booster kedua (74 % sure)")
    page.get_by_role("link", name="Bahasa Indonesia").click()
    expect(page).to_have_url(f"{review_server.url}/conversations/{PII_CONVERSATION}")  # the same page
    expect(page.locator(".turn-user").first).to_contain_text("Topik: Booster kedua (yakin 74 %)")
    expect(page.get_by_role("link", name="Keluar")).to_have_count(0)  # a button, in Indonesian
    expect(page.get_by_role("button", name="Keluar")).to_be_visible()


PHONE: ViewportSize = {"width": 390, "height": 844}


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


def test_pages_fit_a_phone(page: Page, review_server: ReviewServer) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/login")
    _fits(page)
    signed_in(page, ADMIN)
    _fits(page)
    expect(page.locator("#conversation-table tbody tr").first).to_be_visible()
    page.goto("/conversations?q=booster")
    _fits(page)
    page.goto(f"/conversations/{PII_CONVERSATION}")
    _fits(page)
    page.goto("/conversations/wa_8b2e44f01c9a")  # the longest transcript, with the release form
    _fits(page)
    page.goto("/chat")
    _fits(page)
    page.goto("/conversations/nobody-here")  # the error page
    _fits(page)
    page.context.add_cookies([{"name": "lang", "value": "en", "url": review_server.url}])
    page.goto("/conversations")
    _fits(page)
