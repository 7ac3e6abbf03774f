"""The conversation list (filters, paging), transcripts, tags, review marks and handoff release."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from services.review.app import create_app
from services.review.auth import create_user
from services.review.database import make_engine, make_session_factory
from services.review.migrate import upgrade_to_head
from services.review.models import ConversationLabel, ReviewConversation, Role
from services.review.settings import ReviewSettings
from tests.harness.synthetic import write_conversations
from tests.services.review.conftest import AppFactory
from tests.services.review.support import (
    ADMIN,
    REVIEWER,
    START,
    FakeClock,
    csrf_token,
    page_text,
    sign_in,
    snapshot,
    write_events,
    write_snapshots,
)

WAITING = "wa_8b2e44f01c9a"
ANSWERED = "wa_3f9a1c0d7e21"
REST = "web-7d1f"


def every_page(client: TestClient, params: dict[str, str]) -> list[dict[str, Any]]:
    """All rows of a filtered list, following the "older" cursors; no row may repeat."""
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        query = dict(params, **({"after": cursor} if cursor else {}))
        body = client.get("/api/conversations", params=query).json()
        rows.extend(body["conversations"])
        cursor = body["older"]
        if cursor is None:
            assert len(rows) == body["total"]
            ids = [row["conversation_id"] for row in rows]
            assert len(ids) == len(set(ids))
            return rows
    raise AssertionError("paging did not end")


@pytest.fixture(scope="module")
def many_settings(tmp_path_factory: pytest.TempPathFactory) -> ReviewSettings:
    """The snapshots, 300 synthetic conversations, and 12 exact copies of one (equal timestamps).

    Shared by the module's read-only tests: building it costs seconds.
    """
    directory = tmp_path_factory.mktemp("many")
    tracker_url = f"sqlite:///{directory / 'tracker.db'}"
    write_snapshots(tracker_url)
    engine = create_engine(tracker_url)
    write_conversations(engine, 300, seed=3, days=10, now=datetime(2026, 1, 3, tzinfo=UTC))
    engine.dispose()
    events = snapshot("faq_answered")["events"]
    for number in range(12):
        write_events(tracker_url, f"copy-{number:02d}", events)
    settings = ReviewSettings(
        database_url=f"sqlite:///{directory / 'review.db'}",
        tracker_store_url=tracker_url,
        models_dir=directory,
        page_size=7,
        sync_min_interval_seconds=0,
        login_failure_delay_seconds=0,
        secure_cookies=False,  # TestClient speaks plain http to "testserver"
    )
    review = make_engine(settings.database_url)
    upgrade_to_head(review)
    with make_session_factory(review)() as session, session.begin():
        create_user(session, *REVIEWER, Role.REVIEWER, START)
    review.dispose()
    return settings


@pytest.fixture(scope="module")
def many(many_settings: ReviewSettings) -> Iterator[TestClient]:
    with TestClient(create_app(many_settings, clock=FakeClock())) as client:
        assert sign_in(client, *REVIEWER).status_code == 303
        yield client


def indexed(settings: ReviewSettings) -> tuple[list[ReviewConversation], dict[str, set[str]]]:
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            conversations = list(session.scalars(select(ReviewConversation)))
            labels: dict[str, set[str]] = {}
            for row in session.scalars(select(ConversationLabel)):
                labels.setdefault(row.conversation_id, set()).add(row.label)
            return conversations, labels
    finally:
        engine.dispose()


def test_paging_covers_everything_newest_first(many: TestClient, many_settings: ReviewSettings) -> None:
    rows = every_page(many, {})
    conversations, _ = indexed(many_settings)
    assert len(rows) == len(conversations) == 300 + 5 + 12
    keys = [(row["last_message_at"], row["conversation_id"]) for row in rows]
    assert keys == sorted(keys, reverse=True)


def test_paging_back_to_newer_pages(many: TestClient) -> None:
    first = many.get("/api/conversations").json()
    second = many.get("/api/conversations", params={"after": first["older"]}).json()
    third = many.get("/api/conversations", params={"after": second["older"]}).json()
    back = many.get("/api/conversations", params={"before": third["newer"]}).json()
    assert back["conversations"] == second["conversations"]
    again = many.get("/api/conversations", params={"before": back["newer"]}).json()
    assert again["conversations"] == first["conversations"]
    assert again["newer"] is None


def test_ties_in_time_are_paged_without_loss(many: TestClient) -> None:
    rows = every_page(many, {"label": "thank"})
    copies = [row["conversation_id"] for row in rows if row["conversation_id"].startswith("copy-")]
    assert copies == [f"copy-{n:02d}" for n in reversed(range(12))]


FILTERS: list[dict[str, str]] = [
    {"fallback": "yes"},
    {"fallback": "no"},
    {"waiting": "yes"},
    {"reviewed": "no", "channel": "rest"},
    {"channel": "rest"},
    {"below": "0.3"},
    {"label": "faq/halal"},
    {"label": "human_handoff", "waiting": "no"},
    {"channel": "whatsapp", "fallback": "yes", "below": "0.25"},
    {"date_from": "2025-12-28", "date_to": "2025-12-30"},
]


def expected(conversation: ReviewConversation, labels: set[str], params: dict[str, str]) -> bool:
    zone_offset = timedelta(hours=7)  # Asia/Jakarta
    checks = {
        "fallback": lambda v: conversation.has_fallback == (v == "yes"),
        "waiting": lambda v: conversation.waiting_for_officer == (v == "yes"),
        "reviewed": lambda v: conversation.reviewed == (v == "yes"),
        "channel": lambda v: conversation.channel == v,
        "below": lambda v: (
            conversation.lowest_confidence is not None and conversation.lowest_confidence < float(v)
        ),
        "label": lambda v: v in labels,
        "date_from": lambda v: (conversation.last_message_at + zone_offset).date() >= date.fromisoformat(v),
        "date_to": lambda v: (conversation.started_at + zone_offset).date() <= date.fromisoformat(v),
    }
    return all(checks[name](value) for name, value in params.items())


@pytest.mark.parametrize("params", FILTERS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
def test_filters(many: TestClient, many_settings: ReviewSettings, params: dict[str, str]) -> None:
    conversations, labels = indexed(many_settings)
    want = {
        c.conversation_id for c in conversations if expected(c, labels.get(c.conversation_id, set()), params)
    }
    got = {row["conversation_id"] for row in every_page(many, params)}
    assert got == want
    assert 0 < len(want) < len(conversations)  # the filter really filters


def test_filters_on_the_snapshots(reviewer: TestClient) -> None:
    def ids(**params: str) -> set[str]:
        return {row["conversation_id"] for row in every_page(reviewer, params)}

    assert ids(waiting="yes") == {WAITING}
    assert ids(channel="rest") == {REST}
    assert ids(fallback="yes") == {WAITING, REST}
    assert ids(label="faq/booster") == {REST}
    assert ids(below="0.25") == {WAITING}
    assert ids(date_from="2026-01-02") == {"wa_5e55101abcde", REST}  # local (WIB) days


def test_bad_filters_are_reported_not_fatal(reviewer: TestClient) -> None:
    page = reviewer.get("/conversations", params={"date_from": "yesterday", "below": "2"})
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Filter diabaikan: Dari tanggal: bukan tanggal (TTTT-BB-HH)" in text
    assert "Filter diabaikan: Keyakinan di bawah: harus antara 0 dan 1" in text
    assert reviewer.get("/api/conversations", params={"below": "x"}).status_code == 422


def test_list_page_shows_rows_and_filters(reviewer: TestClient) -> None:
    page = reviewer.get("/conversations", params={"fallback": "yes"})
    assert page.status_code == 200
    text = page_text(page.text)
    assert "2 percakapan" in text
    assert WAITING in text and REST in text and ANSWERED not in text
    assert "menunggu petugas" in text
    assert '<option value="yes" selected>' in page.text


def user_event(text: str, intent: str, confidence: float, at: float, **entities: str) -> dict[str, Any]:
    return {
        "event": "user",
        "timestamp": at,
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": [{"entity": name, "value": value} for name, value in entities.items()],
        },
        "input_channel": "rest",
    }


def bot_event(text: str, response: str | None, at: float) -> dict[str, Any]:
    metadata = {"utter_action": response} if response else {}
    return {"event": "bot", "timestamp": at, "text": text, "data": {"buttons": None}, "metadata": metadata}


def in_order(text: str, expected: list[str]) -> None:
    positions = [text.find(item) for item in expected]
    assert -1 not in positions, dict(zip(expected, positions, strict=True))
    assert positions == sorted(positions), dict(zip(expected, positions, strict=True))


# Rasa's bookkeeping, which no transcript shows.
INTERNALS = (
    "action_listen",
    "action_execution_rejected",
    "active_loop",
    "sealed:",
    "utter_",
    "/faq_choice",
    "{",
)


def test_transcript_says_what_was_asked_answered_and_why(reviewer: TestClient) -> None:
    page = reviewer.get(f"/conversations/{REST}")
    assert page.status_code == 200
    text = page_text(page.text).replace("&#34;", '"')
    in_order(
        text,
        [
            "booster kedua kapan ya",
            "Topik: Booster pertama (yakin 42 %)",  # the topic's title, from the menus
            "Apakah maksud Anda",
            "Tidak yakin: menawarkan pilihan",
            "menekan tombol: Booster",  # the button's title, not its payload
            "Topik dipilih: Booster pertama",
            "Booster (dosis lanjutan)",
            "Dijawab dari topik Booster pertama (dipilih penerima)",
            "siapa presiden sekarang",
            "Maksud: Di luar topik vaksinasi (yakin 77 %)",
            "Di luar topik vaksinasi: menawarkan menu",
        ],
    )
    for internal in (*INTERNALS, "offered_options", "RulePolicy", "faq/booster"):
        assert internal not in text, internal


def test_transcript_of_a_handoff_in_words(reviewer: TestClient) -> None:
    text = page_text(reviewer.get(f"/conversations/{WAITING}").text)
    in_order(
        text,
        [
            "apa boleh vaksin abis begadang semalaman",
            "Maksud: Tidak dipahami (yakin 30 %)",
            "Tidak yakin: menawarkan pilihan",
            "Menawarkan petugas",
            "menekan tombol: Minta petugas",
            "Baik, percakapan ini sudah kami teruskan ke petugas.",
            "Diteruskan ke petugas",
            "Menunggu petugas",
        ],
    )
    assert "fallback_streak" not in text and "handoff_requested" not in text
    released = page_text(reviewer.get("/conversations/wa_c0ffee000123").text)
    in_order(
        released, ["Menunggu petugas", "Petugas mengembalikan percakapan ke bot", "Petugas sudah selesai."]
    )
    assert "EXTERNAL" not in released and "release_handoff" not in released


def test_transcript_hides_internals_and_sealed_values(reviewer: TestClient, settings: ReviewSettings) -> None:
    """A schedule check: form bookkeeping, rejected actions and sealed values stay out of sight;
    what the recipient typed and the slots filled from it are masked, the bot's words are not."""
    at = 1767340000.0
    events: list[dict[str, Any]] = [
        {"event": "session_started", "timestamp": at},
        user_event("cek jadwal saya", "check_schedule", 0.95, at + 1),
        {"event": "active_loop", "timestamp": at + 2, "name": "schedule_form"},
        {"event": "action_execution_rejected", "timestamp": at + 2.5, "name": "action_listen"},
        {"event": "slot", "timestamp": at + 3, "name": "requested_slot", "value": "schedule_nik"},
        bot_event("Silakan ketik NIK Anda (16 angka).", "utter_ask_schedule_nik", at + 4),
        user_event("kemarin tgl 12/03/1980 nik 3174051708859001", "inform", 0.9, at + 5),
        {"event": "slot", "timestamp": at + 6, "name": "schedule_nik", "value": "3174051708859001"},
        {"event": "slot", "timestamp": at + 7, "name": "schedule_birth_date", "value": "12/03/1980"},
        {
            "event": "slot",
            "timestamp": at + 8,
            "name": "schedule_challenge",
            "value": "sealed:v1:QUJDREVGRw==",
        },
        {"event": "slot", "timestamp": at + 9, "name": "catatan", "value": "sealed:v1:SElKS0xN"},
        bot_event("Sejak 1 Januari 2024 jadwal dibuka. Halo Kemenkes 1500-567.", None, at + 10),
        {"event": "active_loop", "timestamp": at + 11, "name": None},
    ]
    write_events(settings.tracker_store_url, "web-schedule-1", events)
    text = page_text(reviewer.get("/conversations/web-schedule-1").text)
    in_order(
        text,
        [
            "cek jadwal saya",
            "Maksud: Ingin cek jadwal (yakin 95 %)",
            "Silakan ketik NIK Anda (16 angka).",
            "Cek jadwal: meminta data",
            "kemarin tgl [TANGGAL] nik [NIK]",
            "Data tercatat · NIK: [NIK]",
            "Data tercatat · Tanggal lahir: [TANGGAL]",
            "Sejak 1 Januari 2024 jadwal dibuka. Halo Kemenkes 1500-567.",  # the bot's words as written
        ],
    )
    for secret in ("3174051708859001", "12/03/1980", "1980", "QUJDRA", "SElKS0xN", "Catatan"):
        assert secret not in text, secret
    for internal in (*INTERNALS, "schedule_form", "requested_slot", "schedule_challenge"):
        assert internal not in text, internal


def test_officer_replies_are_the_officers_words(reviewer: TestClient, settings: ReviewSettings) -> None:
    """The officer console's reply: an external ``officer_reply`` event, then its delivery."""
    at = 1767350000.0
    reply = "Halo, saya Rina dari Kemenkes. Jadwal Anda 12/03/2026, hubungi 1500-567."
    events = [
        user_event("saya mau bicara dengan petugas", "human_handoff", 0.9, at),
        bot_event("Baik, percakapan ini sudah kami teruskan ke petugas.", "utter_handoff_requested", at + 1),
        {"event": "slot", "timestamp": at + 2, "name": "handoff_requested", "value": True},
        user_event("EXTERNAL: officer_reply", "officer_reply", 1.0, at + 60, officer_text=reply),
        bot_event(f"Pesan dari petugas:\n{reply}", None, at + 61),
    ]
    write_events(settings.tracker_store_url, "web-officer-1", events)
    text = page_text(reviewer.get("/conversations/web-officer-1").text)
    in_order(text, ["Menunggu petugas", f"Petugas: {reply}"])
    assert "Pesan dari petugas" not in text  # its delivery is not shown twice
    assert "EXTERNAL" not in text and "officer_reply" not in text
    assert text.count(reply) == 1
    [row] = [row for row in every_page(reviewer, {}) if row["conversation_id"] == "web-officer-1"]
    assert (row["last_author"], row["last_text"]) == ("officer", reply)  # the preview: an officer's words
    assert every_page(reviewer, {"q": "rina"}) == []  # the search is over what recipients typed


def test_transcript_in_english(reviewer: TestClient) -> None:
    reviewer.cookies.set("lang", "en")
    text = page_text(reviewer.get(f"/conversations/{REST}").text)
    in_order(
        text,
        [
            "Topic: Booster pertama (42 % sure)",
            "Not sure: offered choices",
            "pressed the button: Booster",
            "Answered from topic Booster pertama (chosen by the recipient)",
            "Meant: Not about vaccination (77 % sure)",
        ],
    )
    assert "Apakah maksud Anda" in text  # what the bot said is not translated


def test_transcript_masks_personal_data(reviewer: TestClient) -> None:
    page = reviewer.get(f"/conversations/{WAITING}")
    text = page.text
    for secret in (
        "3174 0517 0885 9001",
        "0885",
        "17 agustus 1985",
        "0812-3456-7890",
        "budi.santoso@example.co.id",
    ):
        assert secret not in text
    for placeholder in ("[NIK]", "[TANGGAL]", "[TELEPON]", "[EMAIL]"):
        assert placeholder in text


def test_unknown_conversation_is_404(reviewer: TestClient) -> None:
    assert reviewer.get("/conversations/nobody-here").status_code == 404


def test_tags_add_list_filter_remove(reviewer: TestClient) -> None:
    token = csrf_token(reviewer)
    added = reviewer.post(
        f"/conversations/{ANSWERED}/tags",
        data={"csrf_token": token, "tag": "  Jawaban Bagus "},
        follow_redirects=False,
    )
    assert added.status_code == 303
    reviewer.post(f"/conversations/{ANSWERED}/tags", data={"csrf_token": token, "tag": "jawaban bagus"})
    assert [row["conversation_id"] for row in every_page(reviewer, {"tag": "jawaban bagus"})] == [ANSWERED]
    assert every_page(reviewer, {"tag": "jawaban bagus"})[0]["tags"] == ["jawaban bagus"]
    bad = reviewer.post(f"/conversations/{ANSWERED}/tags", data={"csrf_token": token, "tag": "<script>"})
    assert bad.status_code == 422
    reviewer.post(
        f"/conversations/{ANSWERED}/tags/remove", data={"csrf_token": token, "tag": "jawaban bagus"}
    )
    assert every_page(reviewer, {"tag": "jawaban bagus"}) == []


def test_mark_reviewed_and_back(reviewer: TestClient, clock: Any) -> None:
    token = csrf_token(reviewer)
    reviewer.post(f"/conversations/{ANSWERED}/review", data={"csrf_token": token, "reviewed": "yes"})
    row = every_page(reviewer, {"reviewed": "yes"})
    assert [(r["conversation_id"], r["reviewed_by"]) for r in row] == [(ANSWERED, "rita")]
    assert "Ditinjau oleh rita" in page_text(reviewer.get(f"/conversations/{ANSWERED}").text)
    reviewer.post(f"/conversations/{ANSWERED}/review", data={"csrf_token": token, "reviewed": "no"})
    assert every_page(reviewer, {"reviewed": "yes"}) == []


def rasa_recorder(status: int = 200) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    calls: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status, json=[] if "webhook" in request.url.path else {"tracker": {}})

    return httpx.MockTransport(handle), calls


def test_admin_releases_through_the_http_api(make_client: AppFactory) -> None:
    transport, calls = rasa_recorder()
    client = make_client(rasa=transport, rasa_api_token="secret-token-1234")
    sign_in(client, *ADMIN)
    page = client.get(f"/conversations/{WAITING}")
    assert "Kembalikan ke bot" in page.text
    response = client.post(
        f"/conversations/{WAITING}/release", data={"csrf_token": csrf_token(client)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/conversations/{WAITING}?done=released"
    (call,) = calls
    assert call.method == "POST"
    assert call.url.path == f"/conversations/{WAITING}/trigger_intent"
    assert call.url.params["token"] == "secret-token-1234"
    assert call.url.params["output_channel"] == "latest"
    assert json.loads(call.content) == {"name": "release_handoff"}


def test_admin_releases_over_rest_without_a_token(make_client: AppFactory) -> None:
    transport, calls = rasa_recorder()
    client = make_client(rasa=transport)
    sign_in(client, *ADMIN)
    client.post(f"/conversations/{WAITING}/release", data={"csrf_token": csrf_token(client)})
    (call,) = calls
    assert call.url.path == "/webhooks/rest/webhook"
    assert json.loads(call.content) == {"sender": WAITING, "message": "/release_handoff"}


def test_release_when_rasa_is_down(admin: TestClient) -> None:
    response = admin.post(f"/conversations/{WAITING}/release", data={"csrf_token": csrf_token(admin)})
    assert response.status_code == 502
    assert "Percakapan tidak dikembalikan ke bot" in response.text
    assert "Apakah asisten sedang berjalan?" in response.text


def test_release_when_rasa_refuses(make_client: AppFactory) -> None:
    transport, _ = rasa_recorder(status=401)
    client = make_client(rasa=transport, rasa_api_token="wrong-token-12345")
    sign_in(client, *ADMIN)
    response = client.post(f"/conversations/{WAITING}/release", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 502
    assert "HTTP 401" in response.text
    assert "wrong-token-12345" not in response.text


def test_new_tracker_events_show_up_on_the_next_list(reviewer: TestClient, settings: ReviewSettings) -> None:
    assert every_page(reviewer, {"channel": "rest"})[0]["conversation_id"] == REST
    events = snapshot("did_you_mean_then_choice")["events"]
    write_events(settings.tracker_store_url, "web-new-1", events)
    assert {row["conversation_id"] for row in every_page(reviewer, {"channel": "rest"})} == {
        REST,
        "web-new-1",
    }


def test_html_in_messages_is_escaped(reviewer: TestClient, settings: ReviewSettings) -> None:
    events = json.loads(json.dumps(snapshot("faq_answered")["events"]))
    user = next(event for event in events if event["event"] == "user")
    user["text"] = "<script>alert(1)</script>"
    write_events(settings.tracker_store_url, "<b>odd/id</b>", events)
    listing = reviewer.get("/conversations").text
    assert "<b>odd/id</b>" not in listing and "&lt;b&gt;odd/id&lt;/b&gt;" in listing
    page = reviewer.get("/conversations/%3Cb%3Eodd%2Fid%3C%2Fb%3E")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    token = csrf_token(reviewer)
    odd = "/conversations/%3Cb%3Eodd%2Fid%3C%2Fb%3E"
    added = reviewer.post(f"{odd}/tags", data={"csrf_token": token, "tag": "x"}, follow_redirects=False)
    assert added.headers["location"] == odd
    assert [row["conversation_id"] for row in every_page(reviewer, {"tag": "x"})] == ["<b>odd/id</b>"]
