"""Values and helpers shared by the registry tests (fixtures live in conftest.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

SERVICE_TOKEN = "test-service-token-0123456789"
AUDIT_HASH_KEY = "test-audit-hash-key-0123456789"
# 10:00 in Jakarta; the demo registry is seeded for this day, and the app's clock starts here.
START = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)


class FakeClock:
    """The app's clock, moved by hand to test lockout expiry."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
