"""The officer console's rules on real databases: the queue, the claim race, the reply window, the
reply text, stale claims; Rasa's client for replies; migration 0002 on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.common.migrate import migration_connection
from services.review import officer
from services.review.auth import authenticate, create_user
from services.review.cli import main
from services.review.database import make_engine, make_session_factory, make_tracker_engine
from services.review.indexer import sync
from services.review.migrate import MIGRATIONS, upgrade_to_head
from services.review.models import CannedReply, OfficerAudit, ReviewConversation, ReviewUser, Role
from services.review.officer import Refused
from services.review.rasa_client import (
    ApiTokenMissing,
    RasaUnavailable,
    release_handoff,
    send_officer_reply,
)
from tests.services.common.postgres import temporary_database
from tests.services.review.officer_support import (
    API_TOKEN,
    NIK,
    OLD_WHATSAPP,
    REST,
    WHATSAPP,
    user_event,
    write_waiting_conversations,
)
from tests.services.review.support import START, write_events, write_snapshots
from tests.services.review.test_postgres import ADMIN_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'review.db'}"
        return
    with temporary_database(ADMIN_URL, "review_officer") as url:
        yield url


@pytest.fixture
def tracker_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    write_snapshots(url)
    write_waiting_conversations(url)
    return url


@pytest.fixture
def factory(database_url: str, tracker_url: str) -> Iterator[sessionmaker[Session]]:
    """The review database at head, the tracker store indexed into it."""
    engine = make_engine(database_url)
    tracker = make_tracker_engine(tracker_url)
    upgrade_to_head(engine)
    made = make_session_factory(engine)
    sync(tracker, made)
    yield made
    tracker.dispose()
    engine.dispose()


def reindex(factory: sessionmaker[Session], tracker_url: str) -> None:
    tracker = make_tracker_engine(tracker_url)
    try:
        sync(tracker, factory)
    finally:
        tracker.dispose()


# --- the queue --------------------------------------------------------------------------------


def test_the_queue_is_oldest_first_with_waiting_time_masked_preview_and_holder(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session, session.begin():
        officer.claim(session, WHATSAPP, "olga", START)
    with factory() as session:
        entries = officer.queue(session, START)
    ids = [entry.conversation_id for entry in entries]
    assert ids.index(OLD_WHATSAPP) < ids.index(WHATSAPP) < ids.index(REST)
    by_id = {entry.conversation_id: entry for entry in entries}
    assert by_id[REST].waited == timedelta(minutes=30)
    assert by_id[WHATSAPP].held_by == "olga" and by_id[REST].held_by is None
    preview = by_id[REST].preview or ""
    assert "tolong cek" in preview and NIK not in preview  # the indexer stored it masked
    assert by_id[WHATSAPP].preview == "halo? masih ada orang?"


# --- claims -----------------------------------------------------------------------------------


def test_two_officers_claiming_at_once_one_gets_it(factory: sessionmaker[Session]) -> None:
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def take(name: str) -> None:
        barrier.wait()
        try:
            with factory() as session, session.begin():
                officer.claim(session, REST, name, START)
            outcomes[name] = "claimed"
        except Refused as refused:
            outcomes[name] = refused.message.format(**refused.values)

    threads = [threading.Thread(target=take, args=(name,)) for name in ("olga", "oki")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winner = next(name for name, outcome in outcomes.items() if outcome == "claimed")
    loser = next(name for name in outcomes if name != winner)
    assert outcomes[loser] == f"Sedang ditangani oleh {winner}."
    with factory() as session:
        assert officer.holder(session, REST) == winner
        claims = session.scalars(select(OfficerAudit).where(OfficerAudit.action == "claim")).all()
        assert [(row.officer, row.conversation_id) for row in claims] == [(winner, REST)]


def test_claiming_again_is_no_error_and_no_second_audit_row(factory: sessionmaker[Session]) -> None:
    for _ in range(2):
        with factory() as session, session.begin():
            officer.claim(session, REST, "olga", START)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(OfficerAudit)) == 1


def test_a_conversation_that_does_not_wait_cannot_be_claimed(factory: sessionmaker[Session]) -> None:
    with factory() as session, pytest.raises(Refused) as refused:
        officer.claim(session, "web-7d1f", "olga", START)  # snapshot faq_answered: never asked
    assert refused.value.message == officer.NOT_WAITING


def test_a_claim_ends_when_the_conversation_goes_back_to_the_bot(
    factory: sessionmaker[Session], tracker_url: str
) -> None:
    with factory() as session, session.begin():
        officer.claim(session, REST, "olga", START)
    # the recipient typed "menu": the assistant released the handoff itself
    write_events(
        tracker_url,
        REST,
        [
            user_event(START, "menu", "rest", "show_menu"),
            {
                "event": "slot",
                "timestamp": START.timestamp() + 1,
                "name": "handoff_requested",
                "value": False,
            },
        ],
    )
    reindex(factory, tracker_url)
    with factory() as session, session.begin():
        assert officer.release_stale_claims(session) == 1
    with factory() as session:
        assert officer.holder(session, REST) is None
        assert REST not in [entry.conversation_id for entry in officer.queue(session, START)]
        with pytest.raises(Refused):
            officer.require_holder(session, REST, "olga")


def test_only_the_holder_or_an_admin_puts_a_claim_back(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        officer.claim(session, REST, "olga", START)
    other = ReviewUser(username="oki", role=Role.OFFICER.value)
    admin = ReviewUser(username="adam", role=Role.ADMIN.value)
    with factory() as session, pytest.raises(Refused) as refused:
        officer.end_claim(session, REST, other, officer.Action.REQUEUE, START)
    assert refused.value.values == {"name": "olga"}
    with factory() as session, pytest.raises(Refused):
        officer.end_claim(session, REST, admin, officer.Action.CLOSE, START)  # closing needs the claim
    with factory() as session, session.begin():
        officer.end_claim(session, REST, admin, officer.Action.REQUEUE, START)
    with factory() as session:
        assert officer.holder(session, REST) is None
        last = session.scalars(select(OfficerAudit).order_by(OfficerAudit.id.desc())).first()
        assert last is not None and (last.officer, last.action, last.text) == (
            "adam",
            "requeue",
            "klaim milik olga",
        )


# --- the reply window and the reply text ------------------------------------------------------


def test_whatsapp_replies_only_within_24_hours_of_the_recipients_last_message(
    factory: sessionmaker[Session], tracker_url: str
) -> None:
    with factory() as session:
        conversation = session.get(ReviewConversation, WHATSAPP)
        assert conversation is not None and conversation.channel == "whatsapp"
        window = officer.reply_window(session, conversation, START)
        assert window.open and window.left is not None
        assert officer.hours_left(window.left) == 22  # last message 2 h - 30 s before START, rounded down
        assert not officer.reply_window(session, conversation, START + timedelta(hours=22, minutes=1)).open
        rest = session.get(ReviewConversation, REST)
        assert rest is not None and officer.reply_window(session, rest, START + timedelta(days=30)).open
    # an intent the console triggered is not the recipient writing: the window does not move
    write_events(
        tracker_url, WHATSAPP, [user_event(START, "EXTERNAL: officer_reply", "whatsapp", "officer_reply")]
    )
    reindex(factory, tracker_url)
    with factory() as session:
        conversation = session.get(ReviewConversation, WHATSAPP)
        assert conversation is not None
        assert not officer.reply_window(session, conversation, START + timedelta(hours=22, minutes=1)).open
    write_events(
        tracker_url, WHATSAPP, [user_event(START + timedelta(hours=21), "masih di sini", "whatsapp")]
    )
    reindex(factory, tracker_url)
    with factory() as session:
        conversation = session.get(ReviewConversation, WHATSAPP)
        assert conversation is not None
        assert officer.reply_window(session, conversation, START + timedelta(hours=22, minutes=1)).open


def test_check_reply_needs_the_claim_and_an_open_window(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        officer.claim(session, OLD_WHATSAPP, "olga", START)
    with factory() as session:
        with pytest.raises(Refused) as closed:
            officer.check_reply(session, OLD_WHATSAPP, "olga", "halo", START)
        assert closed.value.message == officer.WINDOW_CLOSED
        with pytest.raises(Refused) as not_claimed:
            officer.check_reply(session, REST, "olga", "halo", START)
        assert not_claimed.value.message == officer.NOT_YOURS
        with pytest.raises(Refused) as other:
            officer.check_reply(session, OLD_WHATSAPP, "oki", "halo", START)
        assert other.value.values == {"name": "olga"}


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  Halo, Bu.\r\nSilakan datang ke puskesmas.  ", "Halo, Bu.\nSilakan datang ke puskesmas."),
        ("lone \ud800 surrogate \udfff gone", "lone  surrogate  gone"),
        ("bell\x07 and \x1b[31mescape", "bell and [31mescape"),
        ("\u202eevil\u202c reversed \u2066isolate\u2069", "evil reversed isolate"),
        ("cafe\u0301 👩‍⚕️", "café 👩‍⚕️"),  # NFC; the emoji's joiner stays
        ("a\n\n\n\n\nb", "a\n\nb"),
    ],
)
def test_a_reply_is_cleaned(raw: str, cleaned: str) -> None:
    assert officer.valid_reply(raw) == cleaned
    cleaned.encode("utf-8")  # always encodable: nothing that broke the tracker store remains


@pytest.mark.parametrize("raw", ["", "   \n\t ", "\ud800\x00\u202e"])
def test_an_empty_reply_is_refused(raw: str) -> None:
    with pytest.raises(Refused) as refused:
        officer.valid_reply(raw)
    assert refused.value.message == "Balasan kosong. Tulis pesan untuk penerima."


def test_a_reply_longer_than_1000_characters_is_refused() -> None:
    assert officer.valid_reply("x" * 1000) == "x" * 1000
    with pytest.raises(Refused) as refused:
        officer.valid_reply("x" * 1001)
    assert refused.value.message.format(**refused.value.values) == (
        "Balasan terlalu panjang: 1001 karakter, paling banyak 1000."
    )


# --- canned replies ---------------------------------------------------------------------------


def test_canned_replies_are_seeded_with_current_contacts_and_can_be_changed(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session:
        seeded = officer.canned_replies(session)
    assert len(seeded) == 3
    texts = " ".join(reply.text for reply in seeded)
    assert "1500-567" in texts and "119" in texts and "IGD" in texts and "ext" not in texts
    with factory() as session, session.begin():
        added = officer.add_canned(
            session, "  Jam   layanan ", "Kami melayani pukul 08.00-16.00 WIB.", "adam", START
        )
        session.flush()
        added_id = added.id
    with factory() as session, session.begin():
        officer.edit_canned(
            session, added_id, "Jam layanan", "Kami melayani pukul 08.00-15.00 WIB.", "adam", START
        )
        with pytest.raises(Refused):
            officer.edit_canned(session, added_id, "", "teks", "adam", START)
        with pytest.raises(Refused):
            officer.edit_canned(session, added_id, "x" * 81, "teks", "adam", START)
    with factory() as session:
        reply = session.get(CannedReply, added_id)
        assert reply is not None and (reply.title, reply.text) == (
            "Jam layanan",
            "Kami melayani pukul 08.00-15.00 WIB.",
        )
    with factory() as session, session.begin():
        officer.delete_canned(session, added_id, "adam", START)
        with pytest.raises(Refused):
            officer.delete_canned(session, 99_999, "adam", START)
    with factory() as session:
        assert session.get(CannedReply, added_id) is None
        actions = session.scalars(select(OfficerAudit.action).order_by(OfficerAudit.id)).all()
        assert actions == ["canned_add", "canned_edit", "canned_delete"]


# --- Rasa's client ----------------------------------------------------------------------------


def recording(status: int = 200, answer: object = None) -> tuple[httpx.Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=answer if answer is not None else {"tracker": {}, "messages": []})

    return httpx.Client(base_url="http://rasa", transport=httpx.MockTransport(handle)), seen


def test_a_reply_is_an_officer_reply_intent_with_the_token() -> None:
    client, seen = recording(
        answer={"tracker": {}, "messages": [{"recipient_id": "a/b", "text": "Petugas:\nhalo"}]}
    )
    sent = send_officer_reply(client, "a/b c", "halo", API_TOKEN)
    assert [message.text for message in sent] == ["Petugas:\nhalo"]
    (request,) = seen
    assert request.method == "POST"
    assert request.url.path == "/conversations/a%2Fb%20c/trigger_intent" or request.url.raw_path.startswith(
        b"/conversations/a%2Fb%20c/trigger_intent"
    )
    assert dict(request.url.params) == {"token": API_TOKEN, "output_channel": "latest"}
    assert json.loads(request.content) == {"name": "officer_reply", "entities": {"officer_text": "halo"}}


def test_without_a_token_no_reply_goes_anywhere() -> None:
    client, seen = recording()
    with pytest.raises(ApiTokenMissing):
        send_officer_reply(client, "web-1", "halo", "")
    assert seen == []


def test_rasa_errors_carry_their_status() -> None:
    client, _ = recording(status=500)
    with pytest.raises(RasaUnavailable) as failed:
        send_officer_reply(client, "web-1", "halo", API_TOKEN)
    assert failed.value.status == 500
    down = httpx.Client(base_url="http://127.0.0.1:16199", timeout=2)
    with pytest.raises(RasaUnavailable) as unreachable:
        send_officer_reply(down, "web-1", "halo", API_TOKEN)
    assert unreachable.value.status is None


def test_release_still_triggers_release_handoff() -> None:
    client, seen = recording()
    assert release_handoff(client, "web-1", API_TOKEN) == "trigger_intent"
    assert json.loads(seen[0].content) == {"name": "release_handoff"}


# --- migration 0002 ---------------------------------------------------------------------------


def migrate(engine: Engine, step: object, revision: str) -> None:
    config = MIGRATIONS.config()
    with migration_connection(engine, MIGRATIONS.lock_id) as connection:
        config.attributes["connection"] = connection
        step(config, revision)  # type: ignore[operator]


def test_0002_upgrades_0001_keeping_users_and_downgrades_officers_to_reviewers(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine, command.upgrade, "0001")
        made = make_session_factory(engine)
        with made() as session, session.begin():
            create_user(session, "adam", "admin-password-1", Role.ADMIN, START)
        with pytest.raises(IntegrityError), made() as session, session.begin():
            create_user(session, "olga", "officer-password", Role.OFFICER, START)  # 0001 refuses the role

        migrate(engine, command.upgrade, "0002")

        assert {"officer_claims", "officer_audit", "canned_replies"} <= set(inspect(engine).get_table_names())
        with made() as session, session.begin():
            create_user(session, "olga", "officer-password", Role.OFFICER, START)
        with made() as session:
            assert session.scalars(select(ReviewUser.username).order_by(ReviewUser.id)).all() == [
                "adam",
                "olga",
            ]
            assert session.scalar(select(func.count()).select_from(CannedReply)) == 3
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                text("INSERT INTO officer_audit (at, officer, action) VALUES (:at, 'x', 'delete_all')"),
                {"at": START.replace(tzinfo=None)},
            )

        migrate(engine, command.downgrade, "0001")

        assert "officer_claims" not in inspect(engine).get_table_names()
        with engine.connect() as connection:
            roles: dict[str, str] = dict(
                connection.execute(text("SELECT username, role FROM review_users")).all()
            )
        assert roles == {"adam": "admin", "olga": "reviewer"}
    finally:
        engine.dispose()


def test_the_command_line_creates_an_officer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("REVIEW_DATABASE_URL", url)
    monkeypatch.setattr(sys, "stdin", io.StringIO("officer-password-1\n"))
    assert main(["create-user", "Olga", "--role", "officer", "--password-stdin"]) == 0
    assert "Created officer 'olga'" in capsys.readouterr().out
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            user = authenticate(session, "olga", "officer-password-1")
            assert user is not None and user.role == "officer" and officer.may_answer(user)
    finally:
        engine.dispose()
