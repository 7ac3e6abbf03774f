"""Engines for the review database (read-write) and Rasa's tracker store (read only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker


def normalise_database_url(url: str) -> URL:
    """``postgres://`` and ``postgresql://`` mean psycopg 3 here (psycopg2 is not installed)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str) -> Engine:
    """The review database. Statement parameters stay out of error messages (they hold chat text)."""
    parsed = normalise_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(parsed, hide_parameters=True, pool_pre_ping=True)


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


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself (below)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers of the file do not wait for the indexer
    cursor.close()


def _sqlite_begin_immediate(connection: Connection) -> None:
    """Take the write lock at BEGIN: a transaction that reads then writes waits instead of failing."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
