"""A table in a database the channel shares with other Rasa instances, whose rows expire.

The seen-message store (``idempotency``) and the handoff contacts (``handoff_contacts``) keep rows
with an ``expires_at`` in the tracker database (or another SQL database). The channel creates its
tables itself (Rasa owns no migrations for them), and several instances may start at once; expired
rows are deleted now and then, by whichever instance writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError


class ExpiringTable:
    """``table`` (with a float ``expires_at`` column) created if missing, and purged every so often."""

    def __init__(
        self,
        engine: Engine,
        table: sa.Table,
        purge_every_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.table = table
        self._purge_every = purge_every_seconds
        self._clock = clock
        self._next_purge = 0.0
        try:
            table.create(engine, checkfirst=True)
        except SQLAlchemyError:
            # Another instance created it between our check and our CREATE.
            if not sa.inspect(engine).has_table(table.name):
                raise

    def purge_if_due(self) -> None:
        now = self._clock()
        if now < self._next_purge:
            return
        self._next_purge = now + self._purge_every
        with self.engine.begin() as connection:
            connection.execute(self.table.delete().where(self.table.c.expires_at <= now))
