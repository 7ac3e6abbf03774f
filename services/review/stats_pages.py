"""The statistics page (``/stats``): stats.py's figures for a date range, as charts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.review.charts import bar_chart, horizontal_bars
from services.review.stats import compute_stats, stats_range
from services.review.web import CurrentUser, DbSession, StateDep, Synced, render

router = APIRouter()


@router.get("/stats", response_class=HTMLResponse)
def stats_page(
    request: Request, _user: CurrentUser, state: StateDep, synced: Synced, db: DbSession
) -> HTMLResponse:
    today = state.clock().astimezone(state.settings.zone).date()
    first, last, problems = stats_range(request.query_params, today)
    stats = compute_stats(db, state.settings, first, last)
    charts = {
        "conversations": bar_chart(
            [(d.day.strftime("%d/%m"), d.conversations) for d in stats.days], title="Conversations per day"
        ),
        "messages": bar_chart(
            [(d.day.strftime("%d/%m"), d.messages) for d in stats.days], title="User messages per day"
        ),
        "fallback_rate": bar_chart(
            [(d.day.strftime("%d/%m"), d.fallback_rate) for d in stats.days],
            title="Fallback rate per day",
            percent=True,
            color="#c46a1b",
        ),
        "handoffs": bar_chart(
            [(d.day.strftime("%d/%m"), d.handoffs) for d in stats.days],
            title="Handoffs per day",
            color="#b03a3a",
        ),
        "topics": horizontal_bars(stats.top_topics, title="Top FAQ topics"),
    }
    return render(
        request,
        "stats.html",
        {
            "stats": stats,
            "charts": charts,
            "problems": problems,
            "sync_error": synced.error if synced else None,
        },
    )
