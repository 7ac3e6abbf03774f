"""The indexer on tracker stores built from Rasa-shaped event snapshots (snapshots/*.json)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from services.review.database import make_engine, make_session_factory, make_tracker_engine
from services.review.indexer import (
    FALLBACK_RESPONSES,
    Indexer,
    TrackerUnavailable,
    bot_outcome,
    parse_user_event,
    read_conversation_events,
    sync,
)
from services.review.migrate import upgrade_to_head
from services.review.models import ConversationLabel, ReviewConversation, ReviewMessage, SyncState
from tests.services.review.support import SNAPSHOT_NAMES, snapshot, write_events, write_snapshots

DOMAIN_DIR = Path(__file__).resolve().parents[3] / "rasa_project" / "domain"


@pytest.fixture
def review(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'review.db'}")
    upgrade_to_head(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def tracker(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    write_snapshots(url)
    engine = make_tracker_engine(url)
    yield url, engine
    engine.dispose()


def conversations(factory: sessionmaker[Session]) -> dict[str, ReviewConversation]:
    with factory() as session:
        return {c.conversation_id: c for c in session.scalars(select(ReviewConversation))}


def messages(factory: sessionmaker[Session], conversation_id: str) -> list[ReviewMessage]:
    with factory() as session:
        return list(
            session.scalars(
                select(ReviewMessage)
                .where(ReviewMessage.conversation_id == conversation_id)
                .order_by(ReviewMessage.event_id)
            )
        )


def labels(factory: sessionmaker[Session], conversation_id: str) -> set[str]:
    with factory() as session:
        return set(
            session.scalars(
                select(ConversationLabel.label).where(ConversationLabel.conversation_id == conversation_id)
            )
        )


def test_fallback_response_names_are_the_bots(tmp_path: Path) -> None:
    """The responses counted as fallbacks exist in the domain (a rename would silently stop them)."""
    domain = "".join(path.read_text(encoding="utf-8") for path in DOMAIN_DIR.glob("*.yml"))
    for response in FALLBACK_RESPONSES:
        assert f"\n  {response}:" in domain, response


def test_a_confident_faq_answer(review: sessionmaker[Session], tracker: tuple[str, Engine]) -> None:
    result = sync(tracker[1], review)
    assert result.error is None
    conversation = conversations(review)["wa_3f9a1c0d7e21"]
    assert conversation.channel == "whatsapp"
    assert conversation.user_messages == 2
    assert not conversation.has_fallback
    assert not conversation.waiting_for_officer
    assert conversation.lowest_confidence == pytest.approx(0.93)  # the response selector's, not the intent's
    assert conversation.started_at == datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    first, second = messages(review, "wa_3f9a1c0d7e21")
    assert (first.text, first.intent, first.topic, first.outcome) == (
        "apakah vaksin covid halal?",
        "faq",
        "faq/halal",
        "answered",
    )
    assert first.confidence == pytest.approx(0.93)
    assert first.channel == "whatsapp"
    assert first.timestamp.tzinfo is not None
    assert (second.intent, second.topic, second.outcome) == ("thank", None, "other")
    assert second.confidence == pytest.approx(0.99)
    assert conversation.last_message_at > second.timestamp  # the bot's answer came after it
    assert labels(review, "wa_3f9a1c0d7e21") == {"faq/halal", "thank"}


def test_fallbacks_and_a_handoff(review: sessionmaker[Session], tracker: tuple[str, Engine]) -> None:
    sync(tracker[1], review)
    conversation = conversations(review)["wa_8b2e44f01c9a"]
    assert conversation.has_fallback
    assert conversation.waiting_for_officer
    assert conversation.lowest_confidence == pytest.approx(0.21)
    outcomes = [(m.intent, m.outcome) for m in messages(review, "wa_8b2e44f01c9a")]
    assert outcomes == [
        ("nlu_fallback", "fallback"),
        ("nlu_fallback", "fallback"),
        ("human_handoff", "handoff"),
        ("out_of_scope", "other"),  # while waiting the bot says nothing
    ]
    assert labels(review, "wa_8b2e44f01c9a") == {"nlu_fallback", "human_handoff", "out_of_scope"}


def test_released_and_new_session_are_not_waiting(
    review: sessionmaker[Session], tracker: tuple[str, Engine]
) -> None:
    sync(tracker[1], review)
    found = conversations(review)
    assert not found["wa_c0ffee000123"].waiting_for_officer
    assert [m.outcome for m in messages(review, "wa_c0ffee000123")] == ["handoff", "other"]
    after_new_session = found["wa_5e55101abcde"]
    assert not after_new_session.waiting_for_officer
    assert [m.outcome for m in messages(review, "wa_5e55101abcde")] == ["handoff", "other"]


def test_did_you_mean_choice_and_out_of_scope(
    review: sessionmaker[Session], tracker: tuple[str, Engine]
) -> None:
    sync(tracker[1], review)
    conversation = conversations(review)["web-7d1f"]
    assert conversation.channel == "rest"
    assert conversation.has_fallback
    found = messages(review, "web-7d1f")
    assert [(m.intent, m.topic, m.outcome) for m in found] == [
        ("faq", "faq/booster", "fallback"),  # answered with "did you mean"
        ("faq_choice", "faq/booster", "answered"),
        ("out_of_scope", None, "fallback"),
    ]
    assert found[0].confidence == pytest.approx(0.42)
    assert labels(review, "web-7d1f") == {"faq/booster", "out_of_scope"}


def snapshot_state(factory: sessionmaker[Session]) -> tuple[list[Any], list[Any], list[Any]]:
    with factory() as session:
        conversation_rows = [
            (
                c.conversation_id,
                c.channel,
                c.started_at,
                c.last_message_at,
                c.user_messages,
                c.has_fallback,
                c.lowest_confidence,
                c.waiting_for_officer,
            )
            for c in session.scalars(select(ReviewConversation).order_by(ReviewConversation.conversation_id))
        ]
        message_rows = [
            (m.event_id, m.conversation_id, m.timestamp, m.text, m.intent, m.topic, m.confidence, m.outcome)
            for m in session.scalars(select(ReviewMessage).order_by(ReviewMessage.event_id))
        ]
        label_rows = [
            (row.conversation_id, row.label)
            for row in session.scalars(
                select(ConversationLabel).order_by(ConversationLabel.conversation_id, ConversationLabel.label)
            )
        ]
    return conversation_rows, message_rows, label_rows


@pytest.mark.parametrize("batch_size", [1, 2, 3, 7])
def test_small_batches_give_the_same_index(
    tmp_path: Path, review: sessionmaker[Session], tracker: tuple[str, Engine], batch_size: int
) -> None:
    """Turns split across syncs (the bot's answer in a later batch) end up with the same outcome."""
    sync(tracker[1], review)
    expected = snapshot_state(review)
    other = make_engine(f"sqlite:///{tmp_path / f'review-{batch_size}.db'}")
    upgrade_to_head(other)
    factory = make_session_factory(other)
    try:
        sync(tracker[1], factory, batch_size=batch_size)
        assert snapshot_state(factory) == expected
    finally:
        other.dispose()


def test_events_arriving_later_are_added(review: sessionmaker[Session], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    events = snapshot("fallback_then_handoff")["events"]
    handoff_slot = next(
        i for i, e in enumerate(events) if e["event"] == "slot" and e["name"] == "handoff_requested"
    )
    write_events(url, "wa_8b2e44f01c9a", events[:handoff_slot])
    engine = make_tracker_engine(url)
    try:
        first = sync(engine, review)
        before = conversations(review)["wa_8b2e44f01c9a"]
        assert not before.waiting_for_officer
        assert messages(review, "wa_8b2e44f01c9a")[-1].outcome == "other"  # handoff not yet known
        write_events(url, "wa_8b2e44f01c9a", events[handoff_slot:])
        second = sync(engine, review)
        assert second.events == len(events) - handoff_slot
        assert second.last_event_id == first.last_event_id + second.events
        after = conversations(review)["wa_8b2e44f01c9a"]
        assert after.waiting_for_officer
        assert after.user_messages == 4
        assert [m.outcome for m in messages(review, "wa_8b2e44f01c9a")][-2:] == ["handoff", "other"]
        assert sync(engine, review).events == 0  # nothing new: nothing done
    finally:
        engine.dispose()


def test_a_review_holds_until_the_recipient_writes_again(
    review: sessionmaker[Session], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    events = snapshot("faq_answered")["events"]
    later = next(i for i, event in enumerate(events) if i >= 6 and event["event"] == "user")
    write_events(url, "wa_3f9a1c0d7e21", events[:6])
    engine = make_tracker_engine(url)
    try:
        sync(engine, review)
        with review() as session, session.begin():
            conversation = session.get(ReviewConversation, "wa_3f9a1c0d7e21")
            assert conversation is not None
            conversation.reviewed = True
            conversation.reviewed_by = "rita"
        write_events(url, "wa_3f9a1c0d7e21", events[6:later])  # the bot and slots only
        sync(engine, review)
        conversation = conversations(review)["wa_3f9a1c0d7e21"]
        assert conversation.reviewed and conversation.reviewed_by == "rita"
        write_events(url, "wa_3f9a1c0d7e21", events[later:])  # a new question: unreviewed again
        sync(engine, review)
        conversation = conversations(review)["wa_3f9a1c0d7e21"]
        assert (conversation.reviewed, conversation.reviewed_by, conversation.reviewed_at) == (
            False,
            None,
            None,
        )
        assert conversation.user_messages == 2
    finally:
        engine.dispose()


def test_the_tracker_store_is_only_read(review: sessionmaker[Session], tracker: tuple[str, Engine]) -> None:
    url, engine = tracker
    path = Path(url.removeprefix("sqlite:///"))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    sync(engine, review)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    with pytest.raises(OperationalError, match="readonly"), engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM events")


def test_a_missing_tracker_store_is_reported(review: sessionmaker[Session], tmp_path: Path) -> None:
    engine = make_tracker_engine(f"sqlite:///{tmp_path / 'nowhere.db'}")
    try:
        with pytest.raises(TrackerUnavailable):
            sync(engine, review)
        result = Indexer(engine, review).sync()
        assert result.error is not None and result.events == 0
        assert not (tmp_path / "nowhere.db").exists()  # not created by reading it
    finally:
        engine.dispose()


def test_watermark_and_rate_limit(review: sessionmaker[Session], tracker: tuple[str, Engine]) -> None:
    indexer = Indexer(tracker[1], review, min_interval=3600)
    first = indexer.sync_if_due()
    assert first is not None and first.events > 0
    assert indexer.sync_if_due() is first  # within the interval: the last result, no new run
    with review() as session:
        state = session.get(SyncState, "tracker")
        assert state is not None and state.last_event_id == first.last_event_id


def test_read_conversation_events_in_order(tracker: tuple[str, Engine]) -> None:
    events = read_conversation_events(tracker[1], "web-7d1f")
    assert [e.type_name for e in events][:3] == ["action", "session_started", "action"]
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert len(events) == len(snapshot("did_you_mean_then_choice")["events"])


def test_parse_helpers_on_odd_events() -> None:
    assert parse_user_event({}).intent is None
    assert parse_user_event({"parse_data": {"intent": {"name": "faq", "confidence": 0.9}}}).topic is None
    assert bot_outcome({"metadata": {"utter_action": "utter_faq/halal"}}) is not None
    assert bot_outcome({"metadata": None}) is None
    assert bot_outcome({}) is None


def test_every_snapshot_is_indexed(review: sessionmaker[Session], tracker: tuple[str, Engine]) -> None:
    sync(tracker[1], review)
    assert set(conversations(review)) == {snapshot(name)["sender_id"] for name in SNAPSHOT_NAMES}


UNREDACTED = (  # as an older row or another tracker store may hold them
    "nik saya 3174/0517/0885/9001",
    "3174, 0517,\n0885, 9001",
    "lahir Agustus 17, 1985 hp 0812-3456-7890",
    "0885",  # an NIK sent a group at a time
)


def test_user_text_is_stored_masked(review: sessionmaker[Session], tmp_path: Path) -> None:
    """The review database holds no NIK, birth date or phone number, whatever the tracker store kept."""
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    events = [
        {
            "event": "user",
            "timestamp": 1_700_000_000 + index,
            "text": said,
            "parse_data": {"text": said, "intent": {"name": "nlu_fallback", "confidence": 0.2}},
            "input_channel": "rest",
        }
        for index, said in enumerate(UNREDACTED)
    ]
    write_events(url, "unredacted", events)
    engine = make_tracker_engine(url)
    try:
        sync(engine, review)
    finally:
        engine.dispose()
    assert [m.text for m in messages(review, "unredacted")] == [
        "nik saya [NIK]",
        "[NIK]",
        "lahir [TANGGAL] hp [TELEPON]",
        "[NOMOR]",
    ]
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("review.db*"))
    for secret in (b"3174", b"9001", b"1985", b"7890"):
        assert secret not in stored
