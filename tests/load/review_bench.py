"""How fast the review app's conversation list answers with 100,000 conversations.

    PYTHONPATH=. .venvs/actions/bin/python -m tests.load.review_bench [--conversations 100000] [--requests 30]

Builds a temporary SQLite tracker store of synthetic Rasa-shaped conversations
(tests/harness/synthetic.py: ~9 events each, with fallbacks, handoffs and two channels), indexes
it, tags and marks some conversations as reviewed, then serves the app with uvicorn on
127.0.0.1:--port and times the HTML list page (and the JSON one) over real HTTP with several
filters: p50 and p95 per filter. Everything lives in a temporary directory, removed at the end.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import insert, select, update

from services.review.app import create_app
from services.review.auth import create_user
from services.review.database import make_engine, make_session_factory, make_tracker_engine
from services.review.indexer import refresh_planner_statistics, sync
from services.review.models import Base, ConversationTag, ReviewConversation, Role
from services.review.settings import ReviewSettings
from tests.harness.synthetic import tracker_engine_for_writing, write_conversations

USER = ("bench", "bench-password-123")
TAGS = ("salah jawab", "perlu topik baru", "bagus")
TARGET_P95_MS = 300.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _settings(directory: Path) -> ReviewSettings:
    return ReviewSettings(
        database_url=f"sqlite:///{directory / 'review.db'}",
        tracker_store_url=f"sqlite:///{directory / 'tracker.db'}",
        models_dir=directory,
        login_failure_delay_seconds=0,
    )


@contextmanager
def _workdir(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="review-bench-") as directory:
        yield Path(directory)


def prepare(directory: Path, count: int, now: datetime) -> ReviewSettings:
    settings = _settings(directory)
    started = time.perf_counter()
    writer = tracker_engine_for_writing(settings.tracker_store_url)
    events = write_conversations(writer, count, seed=1, days=60, now=now)
    writer.dispose()
    print(
        f"tracker store: {count:,} conversations, {events:,} events in {time.perf_counter() - started:.1f} s"
    )

    review = make_engine(settings.database_url)
    tracker = make_tracker_engine(settings.tracker_store_url)
    try:
        Base.metadata.create_all(review)
        factory = make_session_factory(review)
        started = time.perf_counter()
        result = sync(tracker, factory)
        refresh_planner_statistics(factory)  # what the app's indexer does after a large sync
        print(f"indexed {result.events:,} events in {time.perf_counter() - started:.1f} s")
        rng = random.Random(2)
        with factory() as session, session.begin():
            ids = list(session.scalars(select(ReviewConversation.conversation_id)))
            tagged = rng.sample(ids, len(ids) // 20)
            session.execute(
                insert(ConversationTag),
                [
                    {
                        "conversation_id": cid,
                        "tag": rng.choice(TAGS),
                        "created_by": USER[0],
                        "created_at": now,
                    }
                    for cid in tagged
                ],
            )
            reviewed = rng.sample(ids, len(ids) // 10)
            session.execute(
                update(ReviewConversation),
                [
                    {"conversation_id": cid, "reviewed": True, "reviewed_by": USER[0], "reviewed_at": now}
                    for cid in reviewed
                ],
            )
            create_user(session, USER[0], USER[1], Role.ADMIN, now)
    finally:
        tracker.dispose()
        review.dispose()
    return settings


@contextmanager
def serving(settings: ReviewSettings, port: int) -> Iterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if server.started:
            break
        time.sleep(0.1)
    else:
        raise RuntimeError("the review app did not start")
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def sign_in(client: httpx.Client) -> None:
    page = client.get("/login")
    token = page.text.split('name="login_csrf" value="', 1)[1].split('"', 1)[0]
    response = client.post("/login", data={"username": USER[0], "password": USER[1], "login_csrf": token})
    if response.status_code != 303 or "review_session" not in client.cookies:
        raise RuntimeError("sign-in failed")


def timed(client: httpx.Client, path: str, params: dict[str, str], requests: int) -> tuple[list[float], Any]:
    times = []
    body: Any = None
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path, params=params)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        body = response
    return times, body


def run(count: int, requests: int, port: int, keep: Path | None = None) -> int:
    now = datetime.now(UTC)
    local_today = now.astimezone(ReviewSettings().zone).date()
    filters: list[tuple[str, dict[str, str]]] = [
        ("no filter (first page)", {}),
        ("fallback=yes", {"fallback": "yes"}),
        ("channel=rest", {"channel": "rest"}),
        ("lowest confidence < 0.3", {"below": "0.3"}),
        ("label=faq/halal", {"label": "faq/halal"}),
        ("label=human_handoff", {"label": "human_handoff"}),
        ("tag=perlu topik baru", {"tag": "perlu topik baru"}),
        ("reviewed=no", {"reviewed": "no"}),
        ("waiting for officer", {"waiting": "yes"}),
        ("last 7 days", {"date_from": str(local_today - timedelta(days=6)), "date_to": str(local_today)}),
        ("whatsapp+fallback+conf<0.25", {"channel": "whatsapp", "fallback": "yes", "below": "0.25"}),
        ("label=faq/booster+not reviewed", {"label": "faq/booster", "reviewed": "no"}),
        # The text search (services/review/search.py): a common word, two words, a rare one, with filters.
        ("search: vaksin", {"q": "vaksin"}),
        ("search: booster kedua", {"q": "booster kedua"}),
        ("search: layangan (rare)", {"q": "layangan"}),
        ("search: p (one letter: whole word)", {"q": "p"}),
        ("search: lahir + fallback=yes", {"q": "lahir", "fallback": "yes"}),
    ]
    with _workdir(keep) as directory:
        if (directory / "review.db").exists():
            settings = _settings(directory)
            print(f"reusing the databases in {directory}")
        else:
            settings = prepare(directory, count, now)
        with serving(settings, port) as base, httpx.Client(base_url=base, timeout=60) as client:
            sign_in(client)
            rows = []
            for name, params in filters:
                html, _ = timed(client, "/conversations", params, requests)
                api, body = timed(client, "/api/conversations", params, requests)
                total = body.json()["total"]
                rows.append((name, total, html, api))
            # 20 pages deep with the keyset cursor
            cursor = ""
            for _ in range(20):
                page = client.get("/api/conversations", params={"after": cursor} if cursor else {}).json()
                cursor = str(page["older"])
            html, _ = timed(client, "/conversations", {"after": cursor}, requests)
            api, body = timed(client, "/api/conversations", {"after": cursor}, requests)
            rows.append(("page 21 (keyset cursor)", body.json()["total"], html, api))

    print()
    print(f"{count:,} conversations, {requests} requests per row, real HTTP (uvicorn, 1 worker), times in ms")
    header = f"{'filter':<32} {'matches':>8} {'HTML p50':>9} {'HTML p95':>9} {'JSON p50':>9} {'JSON p95':>9}"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name, total, html, api in rows:
        p95 = max(percentile(html, 0.95), percentile(api, 0.95))
        worst = max(worst, p95)
        print(
            f"{name:<32} {total:>8,} {statistics.median(html):>9.1f} {percentile(html, 0.95):>9.1f} "
            f"{statistics.median(api):>9.1f} {percentile(api, 0.95):>9.1f}"
        )
    verdict = "OK" if worst < TARGET_P95_MS else "TOO SLOW"
    print(f"\nworst p95 {worst:.1f} ms (target < {TARGET_P95_MS:.0f} ms): {verdict}")
    return 0 if worst < TARGET_P95_MS else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per filter and format")
    parser.add_argument("--port", type=int, default=16150, help="port for the app (16100-16199 are free)")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep the databases here, and reuse them if they exist (default: a temp dir)",
    )
    args = parser.parse_args(argv)
    return run(args.conversations, args.requests, args.port, args.workdir)


if __name__ == "__main__":
    raise SystemExit(main())
