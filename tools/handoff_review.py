"""Conversations waiting for an officer, from the tracker store; and handing one back to the bot.

    .venvs/actions/bin/python -m tools.handoff_review list [--db sqlite:///.run/tracker.db]
    .venvs/actions/bin/python -m tools.handoff_review release <conversation id> [--rasa http://localhost:5005]

A conversation waits while its latest ``handoff_requested`` slot event in the current session is
true (``actions/handoff.py``). ``list`` reads the tracker store's ``events`` table (read-only; the
default database is the one ``make run`` uses, or ``$TRACKER_DB_DIALECT``/``$TRACKER_DB``).
``release`` sends ``/release_handoff`` for that conversation over the REST channel; the bot answers
the recipient again from their next message on. Conversation ids are pseudonyms on WhatsApp
(``wa_<hash>``): the tool never sees a phone number.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

SLOT = "handoff_requested"
RELEASE_PAYLOAD = "/release_handoff"


@dataclass(frozen=True)
class Waiting:
    conversation: str
    since: float  # unix time of the request
    messages_since: int  # user messages while waiting

    def row(self) -> str:
        when = dt.datetime.fromtimestamp(self.since, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return f"{self.conversation}\twaiting since {when}\t{self.messages_since} message(s) since"


def default_database_url() -> str:
    dialect = os.environ.get("TRACKER_DB_DIALECT") or "sqlite"
    database = os.environ.get("TRACKER_DB") or str(Path(os.environ.get("RUN_DIR") or ".run") / "tracker.db")
    return f"{dialect}:///{database}" if dialect == "sqlite" else f"{dialect}://{database}"


def waiting(events: Iterable[tuple[str, str, float, str | None]]) -> list[Waiting]:
    """From (conversation, event type, timestamp, data JSON) rows in order: the waiting ones, oldest first."""
    state: dict[str, Waiting | None] = {}
    for conversation, kind, timestamp, data in events:
        current = state.get(conversation)
        if kind == "session_started":
            state[conversation] = None
        elif kind == "slot" and data:
            event = json.loads(data)
            if event.get("name") == SLOT:
                state[conversation] = (
                    Waiting(conversation, float(timestamp), 0) if event.get("value") else None
                )
        elif kind == "user" and current is not None:
            state[conversation] = Waiting(conversation, current.since, current.messages_since + 1)
    return sorted((w for w in state.values() if w is not None), key=lambda w: w.since)


def read_events(url: str) -> list[tuple[str, str, float, str | None]]:
    engine = sa.create_engine(url)
    query = sa.text(
        "SELECT sender_id, type_name, timestamp, data FROM events "
        "WHERE type_name IN ('session_started', 'slot', 'user') ORDER BY id"
    )
    try:
        with engine.connect() as connection:
            return [(str(r[0]), str(r[1]), float(r[2]), r[3]) for r in connection.execute(query)]
    finally:
        engine.dispose()


def release(rasa_url: str, conversation: str) -> None:
    response = httpx.post(
        f"{rasa_url.rstrip('/')}/webhooks/rest/webhook",
        json={"sender": conversation, "message": RELEASE_PAYLOAD},
        timeout=30,
    )
    response.raise_for_status()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="conversations waiting for an officer, oldest first")
    listing.add_argument("--db", default=None, help="SQLAlchemy URL of the tracker store")
    releasing = commands.add_parser("release", help="hand a conversation back to the bot")
    releasing.add_argument("conversation")
    releasing.add_argument("--rasa", default=f"http://127.0.0.1:{os.environ.get('RASA_PORT', '5005')}")
    args = parser.parse_args(argv)
    if args.command == "list":
        found = waiting(read_events(args.db or default_database_url()))
        for entry in found:
            print(entry.row())
        print(f"{len(found)} conversation(s) waiting for an officer", file=sys.stderr)
        return 0
    release(args.rasa, args.conversation)
    print(f"{args.conversation}: back with the bot", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
