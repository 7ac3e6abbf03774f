"""The conversation list's text search over what recipients typed, and its last-message preview."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from services.review import search
from services.review.conversations import ConversationFilters, list_conversations
from services.review.database import make_engine, make_session_factory, make_tracker_engine
from services.review.indexer import sync
from services.review.migrate import MIGRATIONS, upgrade_to_head
from services.review.models import ConversationWord, ReviewConversation, ReviewMessage
from services.review.search import SearchQuery, words
from services.review.settings import ReviewSettings
from tests.harness.synthetic import tracker_engine_for_writing, write_conversations
from tests.services.common.postgres import temporary_database
from tests.services.review.support import page_text, write_events
from tests.services.review.test_conversations import (
    ANSWERED,
    REST,
    WAITING,
    bot_event,
    every_page,
    user_event,
)
from tests.services.review.test_postgres import ADMIN_URL

AT = 1767400000.0


def found(client: TestClient, q: str) -> set[str]:
    return {row["conversation_id"] for row in every_page(client, {"q": q})}


def write_typed(settings: ReviewSettings, sender: str, *texts: str, answer: str = "Baik.") -> None:
    events: list[dict[str, Any]] = []
    for number, text in enumerate(texts):
        events += [
            user_event(text, "faq", 0.9, AT + 10 * number),
            bot_event(answer, None, AT + 10 * number + 1),
        ]
    write_events(settings.tracker_store_url, sender, events)


def test_words_are_normalised_and_split_on_anything_but_letters_and_digits() -> None:
    assert words("Ｖａｋｓｉｎ BOOSTER-ke_2, 50%!") == ["vaksin", "booster", "ke", "2", "50"]
    assert words("Straße") == ["strasse"]
    assert words("EXTERNAL: release_handoff") == []  # nobody typed that
    assert SearchQuery.parse("  %  _ ").terms == ()
    assert SearchQuery.parse("booster  BOOSTER kedua").terms == ("booster", "kedua")


def test_search_finds_what_recipients_typed(reviewer: TestClient) -> None:
    assert found(reviewer, "booster kedua") == {REST}
    assert found(reviewer, "BOOSTER") == {REST}
    assert found(reviewer, "boost") == {REST}  # the start of a word
    assert found(reviewer, "kedua presiden") == {REST}  # every word, in any message of the conversation
    assert found(reviewer, "halal") == {ANSWERED}
    assert found(reviewer, "booster halal") == set()
    assert found(reviewer, "hanya") == set()  # the bot's "saya hanya bisa membantu": not typed by anyone
    assert found(reviewer, "oster") == set()  # words, not the middle of words


def test_search_sees_no_personal_data(reviewer: TestClient) -> None:
    """The index holds masked text: an NIK, a phone number or a birth date is never a search term."""
    for secret in ("3174", "0517", "08123", "agustus", "1985", "budi", "santoso"):
        assert found(reviewer, secret) == set(), secret
    assert found(reviewer, "nik") == {WAITING}  # "NIK saya [NIK] ...": the word and the placeholder
    page = reviewer.get("/conversations", params={"q": "kenapa jadwal"})
    text = page_text(page.text)
    assert "Cocok: “NIK saya [NIK] lahir [TANGGAL] hp [TELEPON] kenapa belum ada jadwal”" in text
    assert "3174" not in page.text


def test_percent_and_underscore_are_not_wildcards(reviewer: TestClient, settings: ReviewSettings) -> None:
    write_typed(settings, "web-percent", "diskon 50% untuk vaksin_booster?")
    write_typed(settings, "web-fifty", "umur 50 tahun")
    assert found(reviewer, "50%") == {"web-percent", "web-fifty"}  # "%" separates words, matches nothing
    assert found(reviewer, "vaksin_booster") == {"web-percent"}
    assert found(reviewer, "%") == set()
    assert found(reviewer, "_") == set()
    assert found(reviewer, "%_%") == set()
    page = page_text(reviewer.get("/conversations", params={"q": "%"}).text)
    assert "Pencarian “%” tidak berisi huruf atau angka, jadi tidak ada yang cocok." in page
    assert "0 percakapan" in page


def test_search_is_unicode_aware(reviewer: TestClient, settings: ReviewSettings) -> None:
    write_typed(settings, "web-unicode", "Ｖａｋｓｉｎ untuk ÉLODIE 💉 ok?", "jarak dosis ½ tahun")
    assert found(reviewer, "vaksin élodie") == {"web-unicode"}
    assert found(reviewer, "ÉLO") == {"web-unicode"}
    assert found(reviewer, "💉") == set()  # no letters: nothing to search
    for odd in ("%00%ED%A0%80%FF+vaksin", "vaksin+" * 2000, "%E2%80%AE%EF%BB%BF"):
        page = reviewer.get(f"/conversations?q={odd}")
        assert page.status_code == 200, odd
        assert reviewer.get(f"/api/conversations?q={odd}").status_code == 200


def test_later_messages_are_searchable_without_duplicates(
    reviewer: TestClient, settings: ReviewSettings
) -> None:
    write_typed(settings, "web-later", "booster kapan")
    assert found(reviewer, "kapan booster") >= {"web-later"}
    write_typed(settings, "web-later", "booster lagi dong")  # the same words again, a new one
    assert "web-later" in found(reviewer, "lagi booster")


def test_search_with_filters_and_paging(reviewer: TestClient, settings: ReviewSettings) -> None:
    for number in range(60):
        write_typed(settings, f"web-many-{number:02d}", f"pertanyaan nomor {number} tentang sertifikat")
    everything = found(reviewer, "sertifikat")  # every_page follows the cursors: 50 a page
    assert everything == {f"web-many-{number:02d}" for number in range(60)}
    assert found(reviewer, "sertifikat 7") == {"web-many-07"}
    assert {
        row["conversation_id"] for row in every_page(reviewer, {"q": "sertifikat", "channel": "whatsapp"})
    } == set()


def test_the_list_previews_the_last_message(reviewer: TestClient, settings: ReviewSettings) -> None:
    long_answer = (
        "Vaksin booster diberikan sejak 1 Januari 2024 di puskesmas; hubungi Halo Kemenkes 1500-567 " * 3
    )
    write_typed(settings, "web-preview", "tgl lahir 12/03/1980 boleh booster?", answer=long_answer)
    write_typed(settings, "web-typed-last", "kemarin tgl 12/03/1980 saya demam")
    events = [user_event("kemarin tgl 12/03/1980 saya demam", "faq", 0.9, AT + 500)]
    write_events(settings.tracker_store_url, "web-typed-last", events)
    rows = {row["conversation_id"]: row for row in every_page(reviewer, {})}
    bot = rows["web-preview"]
    assert bot["last_author"] == "bot"
    assert bot["last_text"].startswith("Vaksin booster diberikan sejak 1 Januari 2024")  # as written
    assert len(bot["last_text"]) == 80 and bot["last_text"].endswith("…")
    assert (rows["web-typed-last"]["last_author"], rows["web-typed-last"]["last_text"]) == (
        "user",
        "kemarin tgl [TANGGAL] saya demam",
    )
    assert rows[WAITING]["last_text"] == "email saya [EMAIL]"
    text = page_text(reviewer.get("/conversations").text)
    assert "Penerima: kemarin tgl [TANGGAL] saya demam" in text
    assert "Bot: Vaksin booster diberikan sejak 1 Januari 2024" in text
    assert "12/03/1980" not in text
    reviewer.cookies.set("lang", "en")
    assert "Recipient: kemarin tgl [TANGGAL] saya demam" in page_text(reviewer.get("/conversations").text)


# ---------------------------------------------------------------- the migration fills in old rows


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = make_engine(f"sqlite:///{tmp_path / 'review.db'}")
        yield made
        made.dispose()
        return
    with temporary_database(ADMIN_URL, "review_search") as url:
        made = make_engine(url)
        yield made
        made.dispose()


def test_migration_indexes_what_was_indexed_before(engine: Engine) -> None:
    config = MIGRATIONS.config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    conversations = [
        {"conversation_id": cid, "started_at": now, "last_message_at": now, "user_messages": 2,
         "has_fallback": False, "waiting_for_officer": False, "reviewed": False, "last_event_id": 0}
        for cid in ("old-1", "old-2")
    ]  # fmt: skip
    texts = [
        ("old-1", "Booster KEDUA kapan"),
        ("old-1", "lahir [TANGGAL] ya"),
        ("old-2", "EXTERNAL: release_handoff"),
    ]
    messages = [
        {"event_id": number, "conversation_id": cid, "timestamp": now, "text": text, "outcome": "other"}
        for number, (cid, text) in enumerate(texts, start=1)
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(ReviewConversation), conversations)
        connection.execute(insert(ReviewMessage), messages)
    upgrade_to_head(engine)
    with make_session_factory(engine)() as session:
        stored = {bytes(word).decode() for word in session.scalars(select(ConversationWord.word))}
        assert stored == {"booster", "kedua", "kapan", "lahir", "tanggal", "ya"}
        rows = session.execute(select(ReviewConversation.conversation_id, ReviewConversation.last_text))
        previews = {row.conversation_id: row.last_text for row in rows}
        assert previews == {"old-1": "lahir [TANGGAL] ya", "old-2": None}
        assert session.scalar(select(func.count()).select_from(ConversationWord)) == 6


# ---------------------------------------------------------------- both ways of running a search


def search_ids(session: Session, zone: ZoneInfo, **params: str) -> tuple[list[str], int]:
    """Every id a filtered search lists (following the cursors, 7 a page), and its total."""
    filters, problems = ConversationFilters.parse(params)
    assert problems == []
    ids: list[str] = []
    page = list_conversations(session, filters, zone, page_size=7)
    ids += [row.conversation.conversation_id for row in page.rows]
    while page.older is not None:
        page = list_conversations(session, filters, zone, after=page.older, page_size=7)
        ids += [row.conversation.conversation_id for row in page.rows]
    return ids, page.total


SEARCHES = [
    {"q": "vaksin"},
    {"q": "booster kedua"},
    {"q": "lahir"},
    {"q": "vaksin", "fallback": "yes"},
    {"q": "p"},
    {"q": "tolong dicek", "channel": "rest"},
]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"], indirect=True)
def test_common_and_rare_words_find_the_same(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-row check for common words and the index read for rare ones list the same
    conversations in the same order, with the same totals, on SQLite and PostgreSQL."""
    tracker = engine.url.render_as_string(hide_password=False)
    writer = tracker_engine_for_writing(tracker)
    write_conversations(writer, 150, seed=5, days=4, now=datetime(2026, 1, 3, tzinfo=UTC))
    writer.dispose()
    upgrade_to_head(engine)
    tracker_engine = make_tracker_engine(tracker)
    factory = make_session_factory(engine)
    try:
        sync(tracker_engine, factory, batch_size=200)
    finally:
        tracker_engine.dispose()
    zone = ZoneInfo("Asia/Jakarta")
    with factory() as session:
        for params in SEARCHES:
            monkeypatch.setattr(search, "COMMON_TERM_ROWS", 10**9)  # every word rare: index reads
            rare = search_ids(session, zone, **params)
            monkeypatch.setattr(search, "COMMON_TERM_ROWS", 0)  # every word common: per-row checks
            common = search_ids(session, zone, **params)
            assert rare == common, params
            assert len(rare[0]) == rare[1] == len(set(rare[0])), params
        assert search_ids(session, zone, q="vaksin")[1] > 20  # the searches really find something
        assert search_ids(session, zone, q="p")[1] == 0  # one letter: the whole word "p" only
