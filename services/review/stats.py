"""Conversations and messages per day, fallback rate, handoffs and top FAQ topics (page: stats_pages.py).

Ministry staff ask "is it getting better?", so besides the days there is a trend: 7-day weeks ending
on the last day shown (``weekly``), the last week against the one before, and the period against
the period of the same length before it (``Change``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, Integer, Interval, case, cast, func, literal_column, select
from sqlalchemy.orm import Session

from services.review.conversations import local_day_start
from services.review.i18n import INDONESIAN, translate
from services.review.models import Outcome, ReviewConversation, ReviewMessage
from services.review.settings import ReviewSettings

DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP_TOPICS = 15
WEEK = 7
MIN_WEEKS = 8  # the trend shows at least two months, whatever the period


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

    @property
    def active_days(self) -> list[DayStats]:
        """Days with a conversation or a message: a table of zeros tells a reader nothing."""
        return [day for day in self.days if day.conversations or day.messages]


@dataclass(frozen=True)
class WeekStats:
    """Seven days, ``first`` to ``last`` inclusive."""

    first: date
    last: date
    conversations: int
    messages: int
    fallbacks: int
    handoffs: int

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.messages if self.messages else 0.0


def weekly(days: list[DayStats]) -> list[WeekStats]:
    """Consecutive days as 7-day weeks ending on the last day, oldest first (a short first week is
    dropped: it would look like a fall)."""
    weeks = []
    for end in range(len(days), WEEK - 1, -WEEK):
        chunk = days[end - WEEK : end]
        weeks.append(
            WeekStats(
                chunk[0].day,
                chunk[-1].day,
                sum(day.conversations for day in chunk),
                sum(day.messages for day in chunk),
                sum(day.fallbacks for day in chunk),
                sum(day.handoffs for day in chunk),
            )
        )
    return weeks[::-1]


def trend_start(first_day: date, last_day: date) -> date:
    """The first day of the trend's weeks: whole weeks covering the period, at least ``MIN_WEEKS``."""
    weeks = max(MIN_WEEKS, -(-((last_day - first_day).days + 1) // WEEK))
    return last_day - timedelta(days=WEEK * weeks - 1)


def previous_period(first_day: date, last_day: date) -> tuple[date, date]:
    """The period of the same length just before ``first_day``..``last_day``."""
    length = (last_day - first_day).days + 1
    return first_day - timedelta(days=length), first_day - timedelta(days=1)


@dataclass(frozen=True)
class Change:
    """A figure now and before; ``percent`` is None when there is nothing to compare with."""

    current: float
    previous: float

    @property
    def percent(self) -> int | None:
        if not self.previous:
            return None
        return round((self.current - self.previous) / self.previous * 100)

    @property
    def points(self) -> float:
        """For rates (0..1): the difference in percentage points."""
        return round((self.current - self.previous) * 100, 1)


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


FIELD_NAMES = {"date_from": "Tanggal awal", "date_to": "Tanggal akhir"}


def stats_range(params: Any, today: date, language: str = INDONESIAN) -> tuple[date, date, list[str]]:
    """The period asked for (local days, inclusive; the last 30 by default), and what was wrong with it."""
    problems = []
    values = {}
    for name, default in (("date_from", today - timedelta(days=DEFAULT_DAYS - 1)), ("date_to", today)):
        raw = (params.get(name) or "").strip()
        try:
            values[name] = date.fromisoformat(raw) if raw else default
        except ValueError:
            field = translate(FIELD_NAMES[name], language)
            problems.append(translate("{field} bukan tanggal (TTTT-BB-HH)", language, field=field))
            values[name] = default
    first, last = values["date_from"], values["date_to"]
    if first > last:
        first, last = last, first
    if (last - first).days >= MAX_DAYS:
        first = last - timedelta(days=MAX_DAYS - 1)
        problems.append(translate("paling banyak {n} hari sekaligus", language, n=MAX_DAYS))
    return first, last, problems
