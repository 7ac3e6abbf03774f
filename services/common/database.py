"""Engines for both services' databases: one URL rule and one SQLite set-up, so they behave alike.

Each service says how long SQLite waits for a lock and whether it uses WAL; the rest (psycopg 3,
parameters kept out of error messages, BEGIN IMMEDIATE) is the same for both.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker


def normalise_database_url(url: str | URL) -> URL:
    """``postgres://`` and ``postgresql://`` mean psycopg 3 here (psycopg2 is not installed)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, *, sqlite_busy_timeout_ms: int, sqlite_wal: bool = False) -> Engine:
    """An engine whose error messages never carry statement parameters (they hold personal data)."""
    parsed = normalise_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, hide_parameters=True)
        connect = partial(_sqlite_connect, busy_timeout_ms=sqlite_busy_timeout_ms, wal=sqlite_wal)
        event.listen(engine, "connect", connect)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(parsed, hide_parameters=True, pool_pre_ping=True)


def _sqlite_connect(dbapi_connection: Any, _record: Any, *, busy_timeout_ms: int, wal: bool) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself (below)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores foreign keys unless asked
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")  # wait for the writer instead of failing
    if wal:
        cursor.execute("PRAGMA journal_mode=WAL")  # readers of the file do not wait for the writer
    cursor.close()


def _sqlite_begin_immediate(connection: Connection) -> None:
    """Take the write lock at BEGIN: transactions take turns instead of failing with "locked".

    A deferred transaction that reads and then writes cannot wait for another writer; SQLite fails
    it at once. Starting IMMEDIATE makes it wait (busy_timeout) instead.
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
