"""The review database's migrations, on SQLite and PostgreSQL: a new database, and one create_all made."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, Engine, MetaData, func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from services.common.models import NAMING_CONVENTION
from services.review.auth import create_user
from services.review.content_models import ContentRevision
from services.review.database import make_engine, make_session_factory
from services.review.migrate import MIGRATIONS, upgrade_to_head
from services.review.models import Base, ReviewUser, Role, WebSession
from tests.services.common.postgres import temporary_database
from tests.services.review.test_postgres import ADMIN_URL

NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)
LEGACY_ROLES = "role IN ('reviewer', 'admin')"
INDEX_ADDED_LATER = "ix_review_conversations_waiting_recent"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = make_engine(f"sqlite:///{tmp_path / 'review.db'}")
        yield made
        made.dispose()
        return
    with temporary_database(ADMIN_URL, "review_migrate") as url:
        made = make_engine(url)
        yield made
        made.dispose()


def assert_at_head_and_like_the_models(engine: Engine) -> None:
    assert MIGRATIONS.current_revision(engine) == MIGRATIONS.head_revision()
    assert ContentRevision.metadata is Base.metadata
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_a_new_database_is_migrated_to_the_models_and_back(engine: Engine) -> None:
    upgrade_to_head(engine)
    assert_at_head_and_like_the_models(engine)
    upgrade_to_head(engine)  # again: nothing to do
    assert MIGRATIONS.current_revision(engine) == MIGRATIONS.head_revision()
    config = MIGRATIONS.config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade_to_head(engine)
    assert_at_head_and_like_the_models(engine)


def legacy_schema() -> MetaData:
    """The schema as create_all made it before the content workflow: no approver, no revisions table,
    and (to show missing indexes are added) without the waiting index."""
    legacy = MetaData(naming_convention=NAMING_CONVENTION)
    for table in Base.metadata.sorted_tables:
        if table.name != "review_content_revisions":
            table.to_metadata(legacy)
    conversations = legacy.tables["review_conversations"]
    conversations.indexes = {index for index in conversations.indexes if index.name != INDEX_ADDED_LATER}
    users = legacy.tables["review_users"]
    check = next(item for item in users.constraints if isinstance(item, CheckConstraint))
    check.sqltext = text(LEGACY_ROLES)
    return legacy


def test_a_database_create_all_made_is_adopted_keeping_its_rows(engine: Engine) -> None:
    legacy_schema().create_all(engine)
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        user = create_user(session, "adam", "admin-password-1", Role.ADMIN, NOW)
        session.flush()
        session.add(
            WebSession(token_hash="t" * 64, user_id=user.id, csrf_token="c", created_at=NOW, expires_at=NOW)
        )
    with pytest.raises(IntegrityError), factory() as session, session.begin():
        create_user(session, "rita", "approver-password", Role.APPROVER, NOW)  # the old check refuses it

    upgrade_to_head(engine)

    assert_at_head_and_like_the_models(engine)
    assert INDEX_ADDED_LATER in {
        index["name"] for index in inspect(engine).get_indexes("review_conversations")
    }
    with factory() as session, session.begin():
        create_user(session, "rita", "approver-password", Role.APPROVER, NOW)
        assert session.scalars(select(ReviewUser.username).order_by(ReviewUser.id)).all() == ["adam", "rita"]
        # SQLite rebuilt review_users: its sessions were not cascaded away with the old table
        assert session.scalar(select(func.count()).select_from(WebSession)) == 1
        assert session.scalar(select(func.count()).select_from(ContentRevision)) == 0
    with pytest.raises(IntegrityError), factory() as session, session.begin():
        session.add(ReviewUser(username="x", password_hash="h", role="owner", active=True, created_at=NOW))
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:  # foreign keys are back on for the app's connections
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
