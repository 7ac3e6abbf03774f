"""Helpers shared by the review tests: snapshot trackers, signing in, CSRF tokens."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, insert

from tests.harness.synthetic import EVENTS_TABLE, metadata

SNAPSHOTS = Path(__file__).parent / "snapshots"
SNAPSHOT_NAMES = (
    "faq_answered",
    "fallback_then_handoff",
    "handoff_released",
    "new_session_after_handoff",
    "did_you_mean_then_choice",
)
# After every snapshot conversation (they are on 2026-01-01 and 2026-01-02 UTC).
START = datetime(2026, 1, 3, 3, 0, tzinfo=UTC)
REVIEWER = ("rita", "reviewer-password-1")
ADMIN = ("adam", "admin-password-12")


class FakeClock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def snapshot(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SNAPSHOTS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def tracker_rows(sender_id: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as Rasa's SQLTrackerStore.save writes them."""
    return [
        {
            "sender_id": sender_id,
            "type_name": event["event"],
            "timestamp": event.get("timestamp"),
            "intent_name": (event.get("parse_data") or {}).get("intent", {}).get("name"),
            "action_name": event.get("name"),
            "data": json.dumps(event),
        }
        for event in events
    ]


def write_events(url: str, sender_id: str, events: list[dict[str, Any]]) -> None:
    engine = create_engine(url)
    try:
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(insert(EVENTS_TABLE), tracker_rows(sender_id, events))
    finally:
        engine.dispose()


def write_snapshots(url: str, names: tuple[str, ...] = SNAPSHOT_NAMES) -> None:
    for name in names:
        data = snapshot(name)
        write_events(url, data["sender_id"], data["events"])


def empty_tracker(url: str) -> Engine:
    engine = create_engine(url)
    metadata.create_all(engine)
    return engine


def login_csrf(client: TestClient) -> str:
    page = client.get("/login")
    found = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str, *, next_path: str = "") -> Any:
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "login_csrf": login_csrf(client),
            "next": next_path,
        },
        follow_redirects=False,
    )


def csrf_token(client: TestClient, path: str = "/chat") -> str:
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def page_text(html: str) -> str:
    """The visible text of a page's main part, whitespace collapsed."""
    main = html.split("<main>", 1)[-1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))
