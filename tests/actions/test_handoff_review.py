"""The review tool lists the conversations waiting for an officer from the tracker store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tools.handoff_review import main, waiting


def slot(value: bool) -> str:
    return json.dumps({"event": "slot", "name": "handoff_requested", "value": value})


def test_a_conversation_waits_from_the_request_until_menu_release_or_a_new_session() -> None:
    rows = [
        ("a", "user", 1.0, None),
        ("a", "slot", 2.0, slot(True)),
        ("b", "slot", 3.0, slot(True)),
        ("a", "user", 4.0, None),
        ("a", "user", 5.0, None),
        ("b", "slot", 6.0, slot(False)),
        ("c", "slot", 7.0, slot(True)),
        ("c", "session_started", 8.0, None),
        ("d", "slot", 9.0, json.dumps({"event": "slot", "name": "menu_position", "value": "main"})),
    ]
    assert [(w.conversation, w.since, w.messages_since) for w in waiting(rows)] == [("a", 2.0, 2)]


def test_list_reads_the_tracker_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "tracker.db"
    with sqlite3.connect(database) as connection:
        connection.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, timestamp REAL,"
            " intent_name TEXT, action_name TEXT, data TEXT)"
        )
        connection.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
            [("wa_1", "slot", 1_800_000_000.0, slot(True)), ("wa_2", "user", 1_800_000_001.0, "{}")],
        )
    assert main(["list", "--db", f"sqlite:///{database}"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("wa_1\twaiting since 2027-01-15")
    assert "1 conversation(s) waiting" in out.err
