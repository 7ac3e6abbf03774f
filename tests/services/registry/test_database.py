from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from services.registry.database import make_engine, normalise_database_url


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db:5432/registry", "postgresql+psycopg://u:p@db:5432/registry"),
        ("postgres://u@db/registry", "postgresql+psycopg://u@db/registry"),
        ("postgresql+psycopg://u@db/registry", "postgresql+psycopg://u@db/registry"),
        ("sqlite:////tmp/registry.db", "sqlite:////tmp/registry.db"),
    ],
)
def test_postgres_urls_use_psycopg_3(given: str, used: str) -> None:
    assert normalise_database_url(given) == used


def test_sqlite_file_folder_is_created_and_foreign_keys_are_on(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'registry.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert (tmp_path / "nested").is_dir()
    finally:
        engine.dispose()


def test_errors_do_not_carry_statement_parameters(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    try:
        with pytest.raises(Exception) as raised, engine.connect() as connection:
            connection.execute(
                text("SELECT * FROM no_such_table WHERE nik = :nik"), {"nik": "3174051708859001"}
            )
        assert "3174051708859001" not in str(raised.value)
    finally:
        engine.dispose()
