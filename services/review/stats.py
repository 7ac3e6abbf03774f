"""Conversations and messages per day, fallback rate, handoffs and top FAQ topics (page: stats_pages.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, Integer, Interval, case, cast, func, literal_column, select
from sqlalchemy.orm import Session

from services.review.conversations import local_day_start
from services.review.models import Outcome, ReviewConversation, ReviewMessage
from services.review.settings import ReviewSettings

DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP_TOPICS = 15


@dataclass(frozen=True)
class DayStats:
    day: date
    conversations: int
    messages: int
    fallbacks: int
    handoffs: int

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.messages if self.messages else 0.0


@dataclass(frozen=True)
class Stats:
    first_day: date
    last_day: date
    days: list[DayStats]
    top_topics: list[tuple[str, int]]

    @property
    def conversations(self) -> int:
        return sum(day.conversations for day in self.days)

    @property
    def messages(self) -> int:
        return sum(day.messages for day in self.days)

    @property
    def fallbacks(self) -> int:
        return sum(day.fallbacks for day in self.days)

    @property
    def handoffs(self) -> int:
        return sum(day.handoffs for day in self.days)

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.messages if self.messages else 0.0


def local_day(column: Any, offset: timedelta, dialect: str) -> Any:
    """The local calendar day of a stored naive-UTC instant, in SQL, for a fixed UTC offset."""
    seconds = int(offset.total_seconds())
    if dialect == "sqlite":
        return func.date(column, f"{seconds:+d} seconds")
    shifted = column + literal_column(f"INTERVAL '{seconds} seconds'", type_=Interval)
    return cast(shifted, Date)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def compute_stats(session: Session, settings: ReviewSettings, first_day: date, last_day: date) -> Stats:
    zone = settings.zone
    start = local_day_start(first_day, zone)
    end = local_day_start(last_day + timedelta(days=1), zone)
    offset = settings.utc_offset(start)
    dialect = session.get_bind().dialect.name

    conversation_day = local_day(ReviewConversation.started_at, offset, dialect).label("day")
    per_day_conversations = {
        _as_date(day): count
        for day, count in session.execute(
            select(conversation_day, func.count())
            .where(ReviewConversation.started_at >= start, ReviewConversation.started_at < end)
            .group_by(conversation_day)
        )
    }
    message_day = local_day(ReviewMessage.timestamp, offset, dialect).label("day")
    per_day_messages: dict[date, tuple[int, int, int]] = {}
    for day, count, fallbacks, handoffs in session.execute(
        select(
            message_day,
            func.count(),
            func.sum(cast(case((ReviewMessage.outcome == Outcome.FALLBACK.value, 1), else_=0), Integer)),
            func.sum(cast(case((ReviewMessage.outcome == Outcome.HANDOFF.value, 1), else_=0), Integer)),
        )
        .where(ReviewMessage.timestamp >= start, ReviewMessage.timestamp < end)
        .group_by(message_day)
    ):
        per_day_messages[_as_date(day)] = (int(count), int(fallbacks or 0), int(handoffs or 0))
    days = []
    day = first_day
    while day <= last_day:
        messages, fallbacks, handoffs = per_day_messages.get(day, (0, 0, 0))
        days.append(DayStats(day, int(per_day_conversations.get(day, 0)), messages, fallbacks, handoffs))
        day += timedelta(days=1)
    topic_count = func.count().label("n")
    top = [
        (str(topic), int(count))
        for topic, count in session.execute(
            select(ReviewMessage.topic, topic_count)
            .where(
                ReviewMessage.topic.is_not(None),
                ReviewMessage.timestamp >= start,
                ReviewMessage.timestamp < end,
            )
            .group_by(ReviewMessage.topic)
            .order_by(topic_count.desc(), ReviewMessage.topic)
            .limit(TOP_TOPICS)
        )
    ]
    return Stats(first_day, last_day, days, top)


def stats_range(params: Any, today: date) -> tuple[date, date, list[str]]:
    problems = []
    values = {}
    for name, default in (("date_from", today - timedelta(days=DEFAULT_DAYS - 1)), ("date_to", today)):
        raw = (params.get(name) or "").strip()
        try:
            values[name] = date.fromisoformat(raw) if raw else default
        except ValueError:
            problems.append(f"{name.replace('_', ' ')}: not a date (YYYY-MM-DD)")
            values[name] = default
    first, last = values["date_from"], values["date_to"]
    if first > last:
        first, last = last, first
    if (last - first).days >= MAX_DAYS:
        first = last - timedelta(days=MAX_DAYS - 1)
        problems.append(f"at most {MAX_DAYS} days at once")
    return first, last, problems
