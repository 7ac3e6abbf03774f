"""Engines and sessions for either backend, configured so that failures cannot leak personal data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalise_database_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` mean psycopg 3 here (psycopg2 is not installed)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """An engine whose error messages never carry statement parameters (NIKs, birth dates)."""
    parsed = make_url(normalise_database_url(url))
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(parsed, hide_parameters=True, pool_pre_ping=True)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself (below)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores foreign keys unless asked
    cursor.execute("PRAGMA busy_timeout=5000")  # wait for the writer instead of failing
    cursor.close()


def _sqlite_begin_immediate(connection: Connection) -> None:
    """Take the write lock at BEGIN: transactions take turns instead of failing with "locked".

    A deferred transaction that reads and then writes (every lookup does) cannot wait for another
    writer; SQLite fails it at once. Starting IMMEDIATE makes it wait (busy_timeout) instead.
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
