"""Per-day statistics and their SVG charts, from the snapshot conversations."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from services.review.charts import bar_chart, horizontal_bars
from services.review.database import make_engine, make_session_factory
from services.review.stats import compute_stats, stats_range
from tests.services.review.support import page_text

DAY1, DAY2 = date(2026, 1, 1), date(2026, 1, 2)


def test_counts_per_local_day(reviewer: TestClient, settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            stats = compute_stats(session, settings, date(2025, 12, 31), DAY2)
    finally:
        engine.dispose()
    by_day = {day.day: day for day in stats.days}
    assert list(by_day) == [date(2025, 12, 31), DAY1, DAY2]
    assert (by_day[date(2025, 12, 31)].conversations, by_day[date(2025, 12, 31)].messages) == (0, 0)
    first, second = by_day[DAY1], by_day[DAY2]
    assert (first.conversations, first.messages, first.fallbacks, first.handoffs) == (3, 8, 2, 2)
    assert (second.conversations, second.messages, second.fallbacks, second.handoffs) == (2, 5, 2, 1)
    assert first.fallback_rate == 2 / 8
    assert stats.top_topics == [("faq/booster", 2), ("faq/halal", 1)]
    assert (stats.messages, stats.fallbacks, stats.handoffs) == (13, 4, 3)


def test_days_follow_the_time_zone(reviewer: TestClient, settings) -> None:
    """08:00 WIB on 2 January is still 1 January at UTC-10."""
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            honolulu = settings.model_copy(update={"timezone": "Pacific/Honolulu"})
            stats = compute_stats(session, honolulu, date(2025, 12, 31), DAY2)
    finally:
        engine.dispose()
    by_day = {day.day: day.conversations for day in stats.days}
    assert by_day == {date(2025, 12, 31): 3, DAY1: 2, DAY2: 0}


def test_stats_page(reviewer: TestClient) -> None:
    page = reviewer.get("/stats", params={"date_from": "2026-01-01", "date_to": "2026-01-02"})
    assert page.status_code == 200
    text = page_text(page.text)
    assert "5 conversations started" in text
    assert "13 user messages" in text
    assert "fallback rate 30.8%" in text
    assert "3 handoffs" in text
    assert page.text.count("<svg") == 5
    assert "01/01: 3" in page.text  # a bar's tooltip
    assert "faq/booster: 2" in page.text


def test_default_and_odd_ranges() -> None:
    today = date(2026, 1, 3)
    assert stats_range({}, today)[:2] == (date(2025, 12, 5), today)
    first, last, problems = stats_range({"date_from": "2026-01-03", "date_to": "2026-01-01"}, today)
    assert (first, last, problems) == (date(2026, 1, 1), date(2026, 1, 3), [])
    assert stats_range({"date_from": "nope"}, today)[2]
    first, last, problems = stats_range({"date_from": "2020-01-01"}, today)
    assert (last - first).days == 365 and problems


def test_bar_chart_scales_and_escapes() -> None:
    svg = str(bar_chart([("<a>", 10), ("b", 5)], title="t & u", height=134))  # plot height 88
    assert "&lt;a&gt;" in svg and "<a>" not in svg
    assert 'height="88.0"' in svg and 'height="44.0"' in svg
    assert "no data" in str(bar_chart([], title="empty"))
    assert "no data" in str(horizontal_bars([], title="empty"))
    assert "50.0%" in str(bar_chart([("x", 0.5)], title="rate", percent=True))
