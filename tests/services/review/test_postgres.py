"""The indexer, the list and the stats on the real PostgreSQL (tracker store and review database).

PostgreSQL comes from REVIEW_TEST_POSTGRES_URL (default: the local server, database ``test``);
the tests work in a database of their own, created here and dropped at the end. When the server
cannot be reached they fail: they are never skipped.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from services.review.conversations import ConversationFilters, list_conversations, waiting_for_officer
from services.review.database import make_engine, make_session_factory, make_tracker_engine
from services.review.indexer import sync
from services.review.migrate import upgrade_to_head
from services.review.models import ReviewConversation, ReviewMessage
from services.review.settings import ReviewSettings
from services.review.stats import compute_stats
from tests.harness.synthetic import tracker_engine_for_writing, write_conversations
from tests.services.common.postgres import temporary_database
from tests.services.review.support import write_snapshots

ADMIN_URL = os.environ.get("REVIEW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with temporary_database(ADMIN_URL, "review_test") as url:
        yield url


def test_postgres_end_to_end(database_url: str) -> None:
    write_snapshots(database_url)  # the tracker store's events table, in the same database
    writer = tracker_engine_for_writing(database_url)
    write_conversations(writer, 200, seed=11, days=5)
    writer.dispose()

    review = make_engine(database_url)
    tracker = make_tracker_engine(database_url)
    try:
        upgrade_to_head(review)
        factory = make_session_factory(review)
        # Two indexers at once (two app instances): the advisory lock makes them take turns.
        results = []
        threads = [
            threading.Thread(target=lambda: results.append(sync(tracker, factory, batch_size=97)))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(result.events for result in results) == max(result.last_event_id for result in results)
        with factory() as session:
            assert session.scalar(select(func.count()).select_from(ReviewConversation)) == 205
            waiting = session.get(ReviewConversation, "wa_8b2e44f01c9a")
            assert waiting is not None and waiting.waiting_for_officer and waiting.has_fallback
            assert (session.scalar(select(func.count()).select_from(ReviewMessage)) or 0) > 205

            settings = ReviewSettings(database_url=database_url, tracker_store_url=database_url)
            page = list_conversations(
                session, ConversationFilters(label="faq/booster"), settings.zone, page_size=5
            )
            assert (
                "web-7d1f" in {row.conversation.conversation_id for row in page.rows}
                or page.older is not None
            )
            filtered = list_conversations(
                session, ConversationFilters(waiting=True, channel="rest"), settings.zone
            )
            assert all(r.conversation.waiting_for_officer for r in filtered.rows)
            waiting_ids = [entry.conversation_id for entry in waiting_for_officer(session)]
            assert "wa_8b2e44f01c9a" in waiting_ids and len(waiting_ids) == len(set(waiting_ids))

            stats = compute_stats(session, settings, date(2026, 1, 1), date(2026, 1, 2))
            assert [(d.conversations, d.messages, d.fallbacks, d.handoffs) for d in stats.days] == [
                (3, 8, 2, 2),
                (2, 5, 2, 1),
            ]
        with pytest.raises(SQLAlchemyError), tracker.begin() as connection:
            connection.execute(text("DELETE FROM events"))  # read-only transactions
    finally:
        tracker.dispose()
        review.dispose()
