"""Fixtures of the Rasa project's tests."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ENDPOINTS = Path(__file__).resolve().parents[2] / "rasa_project" / "endpoints.yml"
# What the supervisor fills every ${VAR} with when nothing is set (supervisor/environment.py).
DEFAULTS = {"LOCK_STORE_TYPE": "in_memory", "LOCK_STORE_HOST": "127.0.0.1", "LOCK_STORE_PORT": "6379",
            "LOCK_STORE_DB": "1", "TRACKER_DB_DIALECT": "sqlite"}  # fmt: skip


@pytest.fixture
def every_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """Rasa refuses an endpoints file with an unset ${VAR}: each gets its default or empty."""
    for name in re.findall(r"\$\{(\w+)\}", ENDPOINTS.read_text(encoding="utf-8")):
        monkeypatch.setenv(name, DEFAULTS.get(name, ""))
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "tracker.db"))
    return monkeypatch
