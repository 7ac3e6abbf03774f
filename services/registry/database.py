"""Engines and sessions for either backend, configured so that failures cannot leak personal data."""

from __future__ import annotations

from sqlalchemy import Engine

from services.common import database as common
from services.common.database import make_session_factory as make_session_factory


def normalise_database_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` mean psycopg 3 here (psycopg2 is not installed)."""
    return common.normalise_database_url(url).render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """An engine whose error messages never carry statement parameters (NIKs, birth dates)."""
    return common.make_engine(url, sqlite_busy_timeout_ms=5_000)
