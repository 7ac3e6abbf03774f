"""The statistics page (``/stats``): stats.py's figures for a date range, in words and charts.

Written for ministry staff: FAQ topics by their menu titles (the one source, read with the inbox's
training data), no table of empty days, and the trend said in words ("naik 12 % dari minggu lalu")
next to weekly charts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from services.review.charts import NO_DATA, bar_chart
from services.review.i18n import ENGLISH, language_of, translate
from services.review.inbox import label_words
from services.review.inbox_pages import inbox_cache, training_data
from services.review.stats import (
    Change,
    WeekStats,
    compute_stats,
    previous_period,
    stats_range,
    trend_start,
    weekly,
)
from services.review.web import CurrentUser, DbSession, StateDep, Synced, render

router = APIRouter()

WEEK_BASIS = "week"
PERIOD_BASIS = "period"
# (direction, basis) -> the words; {n} is the change, in % or in percentage points for rates.
CHANGE_WORDS = {
    ("up", WEEK_BASIS): "naik {n} % dari minggu lalu",
    ("down", WEEK_BASIS): "turun {n} % dari minggu lalu",
    ("same", WEEK_BASIS): "sama dengan minggu lalu",
    ("new", WEEK_BASIS): "minggu lalu belum ada",
    ("up", PERIOD_BASIS): "naik {n} % dari periode sebelumnya",
    ("down", PERIOD_BASIS): "turun {n} % dari periode sebelumnya",
    ("same", PERIOD_BASIS): "sama dengan periode sebelumnya",
    ("new", PERIOD_BASIS): "periode sebelumnya belum ada",
}
RATE_WORDS = {
    ("up", WEEK_BASIS): "naik {n} poin persen dari minggu lalu",
    ("down", WEEK_BASIS): "turun {n} poin persen dari minggu lalu",
    ("same", WEEK_BASIS): "sama dengan minggu lalu",
    ("new", WEEK_BASIS): "minggu lalu belum ada pesan",
    ("up", PERIOD_BASIS): "naik {n} poin persen dari periode sebelumnya",
    ("down", PERIOD_BASIS): "turun {n} poin persen dari periode sebelumnya",
    ("same", PERIOD_BASIS): "sama dengan periode sebelumnya",
    ("new", PERIOD_BASIS): "periode sebelumnya belum ada pesan",
}


def decimal(value: float, language: str, digits: int = 1) -> str:
    """``30.8`` as the reader writes it: "30,8" in Indonesian, "30.8" in English."""
    text = f"{value:.{digits}f}"
    return text if language == ENGLISH else text.replace(".", ",")


def change_words(change: Change, basis: str, language: str) -> str:
    """A count's change in words: "naik 12 % dari minggu lalu"."""
    percent = change.percent
    if percent is None:
        key = ("same", basis) if not change.current else ("new", basis)
        return translate(CHANGE_WORDS[key], language)
    direction = "up" if percent > 0 else "down" if percent < 0 else "same"
    return translate(CHANGE_WORDS[(direction, basis)], language, n=abs(percent))


def rate_change_words(change: Change, had_messages: bool, basis: str, language: str) -> str:
    """A rate's change in percentage points: "turun 3,1 poin persen dari minggu lalu"."""
    if not had_messages:
        return translate(RATE_WORDS[("new", basis)], language)
    points = change.points
    direction = "up" if points > 0 else "down" if points < 0 else "same"
    return translate(RATE_WORDS[(direction, basis)], language, n=decimal(abs(points), language))


def percent_text(rate: float, language: str) -> str:
    """``0.308`` -> "30,8 %"."""
    return decimal(rate * 100, language) + " %"


def _rate(fallbacks: int, messages: int) -> float:
    return fallbacks / messages if messages else 0.0


@dataclass(frozen=True)
class TrendLine:
    """One figure of the trend: its value now and the change in words, for the week and the period."""

    name: str
    week_value: str
    week_words: str
    period_value: str
    period_words: str


def _week_label(week: WeekStats) -> str:
    return f"{week.first:%d/%m}–{week.last:%d/%m}"


def _weekly_chart(weeks: list[WeekStats], values: list[float], title: str, **options: Any) -> Markup:
    """A week's first day on the axis (the whole week would overlap), the whole week in its tooltip."""
    return bar_chart(
        [(f"{week.first:%d/%m}", value) for week, value in zip(weeks, values, strict=True)],
        title=title,
        tips=[_week_label(week) for week in weeks],
        **options,
    )


def trend_lines(
    weeks: list[WeekStats], period: tuple[int, int, int], before: tuple[int, int, int], language: str
) -> list[TrendLine]:
    """Messages, fallback rate and handoffs: this week vs last week, this period vs the one before.

    ``period`` and ``before`` are (messages, fallbacks, handoffs).
    """
    this, last = weeks[-1], weeks[-2]
    period_rate, before_rate = _rate(period[1], period[0]), _rate(before[1], before[0])

    def shown(value: float) -> str:
        return percent_text(value, language)

    return [
        TrendLine(
            translate("Pesan masuk", language),
            str(this.messages),
            change_words(Change(this.messages, last.messages), WEEK_BASIS, language),
            str(period[0]),
            change_words(Change(period[0], before[0]), PERIOD_BASIS, language),
        ),
        TrendLine(
            translate("Tingkat tidak yakin (fallback)", language),
            shown(this.fallback_rate),
            rate_change_words(
                Change(this.fallback_rate, last.fallback_rate), bool(last.messages), WEEK_BASIS, language
            ),
            shown(period_rate),
            rate_change_words(Change(period_rate, before_rate), bool(before[0]), PERIOD_BASIS, language),
        ),
        TrendLine(
            translate("Diteruskan ke petugas", language),
            str(this.handoffs),
            change_words(Change(this.handoffs, last.handoffs), WEEK_BASIS, language),
            str(period[2]),
            change_words(Change(period[2], before[2]), PERIOD_BASIS, language),
        ),
    ]


@router.get("/stats", response_class=HTMLResponse)
def stats_page(
    request: Request, _user: CurrentUser, state: StateDep, synced: Synced, db: DbSession
) -> HTMLResponse:
    language = language_of(request)
    settings = state.settings
    today = state.clock().astimezone(settings.zone).date()
    first, last, problems = stats_range(request.query_params, today, language)
    stats = compute_stats(db, settings, first, last)
    before_first, before_last = previous_period(first, last)
    before = compute_stats(db, settings, before_first, before_last)
    weeks = weekly(compute_stats(db, settings, trend_start(first, last), last).days)
    titles = training_data(settings, inbox_cache(request)).titles
    empty = translate(NO_DATA, language)

    def day(value: date) -> str:
        return value.strftime("%d/%m")

    charts = {
        "week_messages": _weekly_chart(
            weeks, [w.messages for w in weeks], translate("Pesan masuk per minggu", language), empty=empty
        ),
        "week_fallback_rate": _weekly_chart(
            weeks,
            [w.fallback_rate for w in weeks],
            translate("Tingkat tidak yakin per minggu", language),
            percent=True,
            value_text=lambda rate: percent_text(rate, language),
            color="#c46a1b",
            empty=empty,
        ),
        "week_handoffs": _weekly_chart(
            weeks,
            [w.handoffs for w in weeks],
            translate("Diteruskan ke petugas per minggu", language),
            color="#b03a3a",
            empty=empty,
        ),
        "conversations": bar_chart(
            [(day(d.day), d.conversations) for d in stats.days],
            title=translate("Percakapan baru per hari", language),
            empty=empty,
        ),
        "messages": bar_chart(
            [(day(d.day), d.messages) for d in stats.days],
            title=translate("Pesan masuk per hari", language),
            empty=empty,
        ),
    }
    return render(
        request,
        "stats.html",
        {
            "stats": stats,
            "charts": charts,
            "trend": trend_lines(
                weeks,
                (stats.messages, stats.fallbacks, stats.handoffs),
                (before.messages, before.fallbacks, before.handoffs),
                language,
            ),
            "this_week": weeks[-1],
            "before": (before_first, before_last),
            "topics": [(label_words(label, titles), count) for label, count in stats.top_topics],
            "fallback_rate": percent_text(stats.fallback_rate, language),
            "rate": lambda value: percent_text(value, language),
            "problems": problems,
            "sync_error": synced.error if synced else None,
        },
    )
