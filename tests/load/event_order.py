"""After a load run: is every conversation in the tracker store complete and in order?

For every conversation the load test played, the user messages stored (Rasa's ``events`` table, in
insertion order, ``id``) must be the messages sent: each one that was answered is there (else
**lost**), none is there twice (**duplicated**: e.g. a WhatsApp redelivery handled twice), they are
in the order sent (**reordered**: how many would have to move), and each is followed by at least one
bot event before the next user message (**unanswered**). A user message nobody sent is **unexpected**.

The store keeps texts redacted (``rasa_project/tracker_store.py``), so what was sent is compared
through the same ``core.personal_data.redact_message``: an NIK typed in any spelling is "[NIK]".
A message whose request failed may or may not have reached Rasa: it may be missing, not doubled.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from core.personal_data import redact_message

USER = "user"
BOT = "bot"
EXAMPLES = 10  # conversations with a problem named in the report, at most


@dataclass(frozen=True)
class Expected:
    """What the load test sent in one conversation, in order, and which messages were answered."""

    sender_id: str
    texts: tuple[str, ...]
    answered: tuple[bool, ...]


@dataclass(frozen=True)
class EventRow:
    sender_id: str
    type_name: str
    text: str | None = None  # of user events


@dataclass
class ConversationCheck:
    sender_id: str
    lost: int = 0
    duplicated: int = 0
    reordered: int = 0
    unanswered: int = 0
    unexpected: int = 0

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.reordered or self.unanswered or self.unexpected)


@dataclass
class OrderReport:
    conversations: int = 0
    messages: int = 0
    lost: int = 0
    duplicated: int = 0
    reordered: int = 0
    unanswered: int = 0
    unexpected: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.reordered or self.unanswered or self.unexpected)

    def summary(self) -> dict[str, object]:
        return {
            "conversations": self.conversations,
            "messages": self.messages,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "reordered": self.reordered,
            "unanswered": self.unanswered,
            "unexpected": self.unexpected,
            "examples": self.examples,
        }


def stored_form(sent: str) -> str:
    """How the tracker store keeps a message the load test sent (Rasa strips it; the store redacts)."""
    return redact_message(sent.strip()).strip()


def longest_common_subsequence(first: Sequence[str], second: Sequence[str]) -> int:
    previous = [0] * (len(second) + 1)
    for item in first:
        current = [0]
        for index, other in enumerate(second):
            current.append(previous[index] + 1 if item == other else max(previous[index + 1], current[index]))
        previous = current
    return previous[-1]


def check_conversation(expected: Expected, rows: Sequence[EventRow]) -> ConversationCheck:
    """Compares one conversation's stored events (in ``id`` order) with what was sent."""
    sent = [stored_form(text) for text in expected.texts]
    required = Counter(form for form, answered in zip(sent, expected.answered) if answered)
    possible = Counter(sent)
    users = [
        (index, row.text.strip()) for index, row in enumerate(rows) if row.type_name == USER and row.text
    ]
    stored = [form for _, form in users]
    found = Counter(stored)
    check = ConversationCheck(expected.sender_id)
    check.lost = sum(max(0, count - found[form]) for form, count in required.items())
    check.duplicated = sum(
        max(0, count - possible[form]) for form, count in found.items() if form in possible
    )
    check.unexpected = sum(count for form, count in found.items() if form not in possible)
    matched = sum(min(count, found[form]) for form, count in possible.items())
    check.reordered = matched - longest_common_subsequence([f for f in stored if f in possible], sent)
    # A failed last message may have reached Rasa without an answer coming back: not counted.
    excused = bool(expected.answered) and not expected.answered[-1] and stored[-1:] == sent[-1:]
    for position, (index, _) in enumerate(users):
        until = users[position + 1][0] if position + 1 < len(users) else len(rows)
        if not any(row.type_name == BOT for row in rows[index + 1 : until]):
            if position == len(users) - 1 and excused:
                continue
            check.unanswered += 1
    return check


def check(expected: Iterable[Expected], rows: Iterable[EventRow]) -> OrderReport:
    """Every conversation of ``expected`` against its rows (rows of other senders are ignored)."""
    wanted = {conversation.sender_id: conversation for conversation in expected}
    by_sender: dict[str, list[EventRow]] = {sender: [] for sender in wanted}
    for row in rows:
        if row.sender_id in by_sender:
            by_sender[row.sender_id].append(row)
    report = OrderReport()
    for sender, conversation in wanted.items():
        result = check_conversation(conversation, by_sender[sender])
        report.conversations += 1
        report.messages += len(conversation.texts)
        report.lost += result.lost
        report.duplicated += result.duplicated
        report.reordered += result.reordered
        report.unanswered += result.unanswered
        report.unexpected += result.unexpected
        if not result.clean and len(report.examples) < EXAMPLES:
            report.examples.append(
                f"{sender}: lost {result.lost}, duplicated {result.duplicated}, reordered "
                f"{result.reordered}, unanswered {result.unanswered}, unexpected {result.unexpected}"
            )
    return report


# --- reading the tracker store --------------------------------------------------------------------


def sqlite_url(database: Path) -> str:
    """The SQLite tracker store (``$RUN_DIR/tracker.db`` by default)."""
    return f"sqlite:///{database}"


def postgresql_url(database: str, host: str = "127.0.0.1", port: int = 5432, user: str = "postgres") -> str:
    """The PostgreSQL tracker store, read with psycopg 3 (the actions environment's driver)."""
    return URL.create(
        "postgresql+psycopg", username=user, host=host, port=port, database=database
    ).render_as_string()


def read_events(url: str) -> list[EventRow]:
    """User and bot events of every conversation, in the order Rasa stored them (its ``id``)."""
    query = text(
        "SELECT sender_id, type_name, CASE WHEN type_name = 'user' THEN data END AS data "
        "FROM events WHERE type_name IN ('user', 'bot') ORDER BY id"
    )
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(query).all()
    finally:
        engine.dispose()
    return [
        EventRow(sender, kind, (json.loads(data) or {}).get("text") if data else None)
        for sender, kind, data in rows
    ]


def event_count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM events")).scalar_one())
    finally:
        engine.dispose()


def wait_until_stored(url: str, quiet_seconds: float = 3.0, limit_seconds: float = 60.0) -> int:
    """Waits until no event has been added for ``quiet_seconds`` (Rasa stores a turn after the reply
    has gone out), at most ``limit_seconds``; the number of events then."""
    deadline = time.monotonic() + limit_seconds
    last = event_count(url)
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = event_count(url)
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_seconds:
            break
    return last
