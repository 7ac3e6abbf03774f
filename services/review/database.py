"""Engines for the review database (read-write) and Rasa's tracker store (read only)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL

from services.common import database as common
from services.common.database import make_session_factory as make_session_factory
from services.common.database import normalise_database_url as normalise_database_url


def make_engine(url: str) -> Engine:
    """The review database. Statement parameters stay out of error messages (they hold chat text).

    SQLite runs in WAL mode so that readers of the file do not wait for the indexer.
    """
    return common.make_engine(url, sqlite_busy_timeout_ms=10_000, sqlite_wal=True)


def make_tracker_engine(url: str) -> Engine:
    """Rasa's tracker store, opened so that nothing can be written to it.

    SQLite files are opened with ``mode=ro``: a missing file is an error instead of a new empty
    database, and Rasa's writer is never blocked by a write lock of ours.
    """
    parsed = normalise_database_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database).resolve()
        readonly = URL.create("sqlite", database=f"file:{path}?mode=ro", query={"uri": "true"})
        return create_engine(readonly, hide_parameters=True)
    return create_engine(
        parsed,
        hide_parameters=True,
        pool_pre_ping=True,
        execution_options={"postgresql_readonly": True},
    )
