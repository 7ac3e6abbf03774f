"""Statistics for ministry staff: topic titles, no rows of zeros, the trend in words, SVG charts."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from services.review.charts import bar_chart, horizontal_bars
from services.review.database import make_engine, make_session_factory
from services.review.stats import (
    Change,
    DayStats,
    compute_stats,
    previous_period,
    stats_range,
    trend_start,
    weekly,
)
from services.review.stats_pages import change_words, rate_change_words
from tests.services.review.support import write_events
from tests.services.review.test_inbox_pages import conversation, user_event, visible

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
    text = visible(page.text)
    assert "Percakapan baru 5" in text
    assert "Pesan masuk 13" in text
    assert "Tidak yakin (fallback) 30,8 %" in text
    assert "Diteruskan ke petugas 3" in text
    assert "01/01: 3" in page.text  # a bar's tooltip
    # topics by their menu titles, never a raw label
    topics = re.search(r'<table id="top-topics">(.*?)</table>', page.text, re.DOTALL)
    assert (
        topics
        and "Booster pertama 2" in visible(topics.group(1))
        and "Kehalalan vaksin 1" in visible(topics.group(1))
    )
    assert "faq/" not in page.text
    # only days with something in them
    days = re.search(r'<table id="per-day">(.*?)</table>', page.text, re.DOTALL)
    assert days and len(re.findall(r"<tr>", days.group(1))) == 3  # the header and two days


def test_no_rows_of_zeros(reviewer: TestClient) -> None:
    page = reviewer.get("/stats", params={"date_from": "2025-11-01", "date_to": "2025-11-30"})
    text = visible(page.text)
    assert 'id="per-day"' not in page.text and "Tidak ada data pada periode ini." in text
    assert "Tidak ada data: belum ada pertanyaan FAQ pada periode ini." in text
    assert "tidak ada data" in page.text  # the empty charts say so too


def test_the_trend_in_words(reviewer: TestClient, tracker_url: str) -> None:
    """The snapshots' week (13 messages, 4 not sure, 3 handed over) against a busier week after it."""
    week_later = 1767340800.0 + 7 * 86400  # 2026-01-09 08:00 UTC
    turns = [
        (user_event(0, f"pertanyaan nomor {n}", "faq", 0.9, "faq/biaya", 0.9), "utter_faq/biaya")
        for n in range(20)
    ]
    turns += [(user_event(0, "hmm", "nlu_fallback", 0.1), "utter_uncertain_answer")]
    write_events(tracker_url, "wa_trend", conversation(week_later, turns))
    page = reviewer.get("/stats", params={"date_from": "2026-01-03", "date_to": "2026-01-09"})
    text = visible(page.text)
    # this week 21 messages, last week (27 Dec - 2 Jan) 13: +62 %
    assert "Pesan masuk: minggu ini 21, naik 62 % dari minggu lalu" in text
    # not sure: 1/21 = 4,8 % against 4/13 = 30,8 %
    assert "Tingkat tidak yakin (fallback): minggu ini 4,8 %, turun 26,0 poin persen dari minggu lalu" in text
    assert "Diteruskan ke petugas: minggu ini 0, turun 100 % dari minggu lalu" in text
    # the period (here the same 7 days) against the 7 days before it
    assert "periode ini 21, naik 62 % dari periode sebelumnya" in text
    assert page.text.count("<svg") == 5  # 3 weekly trend charts, 2 daily
    reviewer.cookies.set("lang", "en")
    english = visible(
        reviewer.get("/stats", params={"date_from": "2026-01-03", "date_to": "2026-01-09"}).text
    )
    assert "Incoming messages: this week 21, up 62 % from last week" in english
    assert "down 26.0 percentage points from last week" in english


@pytest.mark.parametrize(
    ("now", "before", "words"),
    [
        (112, 100, "naik 12 % dari minggu lalu"),
        (88, 100, "turun 12 % dari minggu lalu"),
        (100, 100, "sama dengan minggu lalu"),
        (5, 0, "minggu lalu belum ada"),
        (0, 0, "sama dengan minggu lalu"),
    ],
)
def test_change_words(now: int, before: int, words: str) -> None:
    assert change_words(Change(now, before), "week", "id") == words


def test_rate_change_words() -> None:
    assert (
        rate_change_words(Change(0.25, 0.2), True, "period", "id")
        == "naik 5,0 poin persen dari periode sebelumnya"
    )
    assert rate_change_words(Change(0.2, 0.0), False, "week", "en") == "no messages last week"


def test_weeks_end_on_the_last_day() -> None:
    first = date(2026, 1, 1)
    days = [DayStats(first + timedelta(days=n), 1, n, 0, 0) for n in range(17)]  # 1 to 17 January
    weeks = weekly(days)
    assert [(w.first, w.last) for w in weeks] == [
        (date(2026, 1, 4), date(2026, 1, 10)),
        (date(2026, 1, 11), date(2026, 1, 17)),
    ]
    assert weeks[-1].messages == sum(range(10, 17))
    assert trend_start(date(2026, 1, 10), date(2026, 1, 17)) == date(2026, 1, 17) - timedelta(days=55)
    assert previous_period(date(2026, 1, 10), date(2026, 1, 17)) == (date(2026, 1, 2), date(2026, 1, 9))


def test_default_and_odd_ranges() -> None:
    today = date(2026, 1, 3)
    assert stats_range({}, today)[:2] == (date(2025, 12, 5), today)
    first, last, problems = stats_range({"date_from": "2026-01-03", "date_to": "2026-01-01"}, today)
    assert (first, last, problems) == (date(2026, 1, 1), date(2026, 1, 3), [])
    assert stats_range({"date_from": "nope"}, today)[2] == ["Tanggal awal bukan tanggal (TTTT-BB-HH)"]
    assert stats_range({"date_to": "31/12"}, today, "en")[2] == ["End date is not a date (YYYY-MM-DD)"]
    first, last, problems = stats_range({"date_from": "2020-01-01"}, today)
    assert (last - first).days == 365 and problems == ["paling banyak 366 hari sekaligus"]


def test_bar_chart_scales_and_escapes() -> None:
    svg = str(bar_chart([("<a>", 10), ("b", 5)], title="t & u", height=134))  # plot height 88
    assert "&lt;a&gt;" in svg and "<a>" not in svg
    assert 'height="88.0"' in svg and 'height="44.0"' in svg
    assert "tidak ada data" in str(bar_chart([], title="empty"))
    assert "tidak ada data" in str(bar_chart([("01/01", 0), ("02/01", 0)], title="zeros"))
    assert "no data" in str(horizontal_bars([], title="empty", empty="no data"))
    assert "50.0%" in str(bar_chart([("x", 0.5)], title="rate", percent=True))
    assert 'style="max-width:100%;height:auto"' in svg  # a phone shows the whole chart
