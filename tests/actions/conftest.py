"""Tracker, dispatcher and domain built from JSON snapshots of real conversations."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

SNAPSHOTS = Path(__file__).parent / "snapshots"


def load_snapshot(name: str) -> dict[str, Any]:
    return json.loads((SNAPSHOTS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def tracker_from_snapshot() -> Callable[[str], Tracker]:
    def build(name: str) -> Tracker:
        return Tracker.from_dict(load_snapshot(name))

    return build


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def domain() -> dict[str, Any]:
    return load_snapshot("domain")
