"""What one app instance holds: settings, both databases, the indexer, Rasa's HTTP client, a clock."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.common.clock import Clock as Clock
from services.common.clock import utc_now as utc_now
from services.review.indexer import Indexer
from services.review.settings import ReviewSettings


@dataclass(frozen=True)
class ReviewState:
    settings: ReviewSettings
    engine: Engine
    session_factory: sessionmaker[Session]
    tracker_engine: Engine
    indexer: Indexer
    rasa: httpx.Client  # base_url is settings.rasa_url; tests may give it another transport
    clock: Clock
