"""What one app instance holds: settings, both databases, the indexer, Rasa's HTTP client, a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.review.indexer import Indexer
from services.review.settings import ReviewSettings

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ReviewState:
    settings: ReviewSettings
    engine: Engine
    session_factory: sessionmaker[Session]
    tracker_engine: Engine
    indexer: Indexer
    rasa: httpx.Client  # base_url is settings.rasa_url; tests may give it another transport
    clock: Clock
