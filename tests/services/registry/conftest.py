"""Registry fixtures: every database test runs against SQLite and against the real PostgreSQL.

PostgreSQL comes from REGISTRY_TEST_POSTGRES_URL (default: the local server, database ``test``);
each test session works in a database of its own, created here and dropped at the end. When the
server cannot be reached the PostgreSQL tests fail: they are never skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.registry.app import create_app
from services.registry.database import make_engine, make_session_factory
from services.registry.demo import seed_demo
from services.registry.migrate import upgrade_to_head
from services.registry.models import Base
from services.registry.settings import RegistrySettings
from tests.services.common.postgres import temporary_database
from tests.services.registry.support import AUDIT_HASH_KEY, SERVICE_TOKEN, START, TODAY, FakeClock

POSTGRES_ADMIN_URL = os.environ.get(
    "REGISTRY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'registry.db'}"
        return
    with temporary_database(POSTGRES_ADMIN_URL, "registry_test") as url:
        yield url


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    """The session's database, emptied for this test."""
    with migrated_engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    return migrated_engine


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def settings(database_url: str) -> RegistrySettings:
    return RegistrySettings(
        database_url=database_url,
        service_token=SecretStr(SERVICE_TOKEN),
        audit_hash_key=SecretStr(AUDIT_HASH_KEY),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def client(engine: Engine, settings: RegistrySettings, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock)) as test_client:
        yield test_client


@pytest.fixture
def demo_registry(session_factory: sessionmaker[Session]) -> None:
    seed_demo(session_factory, TODAY)
