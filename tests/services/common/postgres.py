"""A private PostgreSQL database for a test module: created on the local server, dropped afterwards.

When the server cannot be reached the test fails: PostgreSQL tests are never skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import uuid4

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from services.common.database import normalise_database_url


@contextmanager
def temporary_database(admin_url: str, prefix: str) -> Iterator[str]:
    """The URL of a new, empty database on ``admin_url``'s server."""
    name = f"{prefix}_{uuid4().hex[:12]}"
    admin = create_engine(normalise_database_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as error:
        admin.dispose()
        pytest.fail(f"PostgreSQL at {admin_url} is unreachable: {type(error).__name__}", pytrace=False)
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
