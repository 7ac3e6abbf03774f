"""Unanswered questions (``/unanswered``): what people asked that ended in a fallback or a handoff,
clustered by meaning, the largest cluster first. These are the FAQ topics to write next.

Clustering a few thousand messages takes tens of seconds (``clustering.cluster_messages``) and the
sentence model takes seconds to load, so a page never waits for either: the first request for a
set of messages starts a background job, the page says so, and a reload shows the result, which is
kept in memory (per app, keyed by a hash of the message set's event ids). The model is loaded once
per process, on first use. Tests (or another deployment) can put any ``Embedder`` in
``app.state.review_embedder``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.review import annotations as store
from services.review.clustering import Cluster, Embedder, cluster_messages
from services.review.conversations import local_day_start
from services.review.settings import ReviewSettings
from services.review.web import CurrentUser, StateDep, Synced, render

logger = logging.getLogger(__name__)
router = APIRouter()

DEFAULT_DAYS = 30
# Average-linkage clustering needs the full distance matrix of the distinct messages: 2,000 take
# about 30 s and 32 MB; the most recent ones are the ones worth writing answers for.
MAX_MESSAGES = 2000
KEPT_RESULTS = 16
RETRY_FAILED_AFTER_SECONDS = 60.0


class ModelUnavailable(Exception):
    """The sentence model or the semantic index is missing (or they do not match)."""


# --- the embedder: once per process --------------------------------------------------------------
_EMBEDDERS: dict[Path, Embedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def model_problem(model_dir: Path) -> str | None:
    """Why the project's embedder cannot be loaded, found without loading it (None: it can be tried)."""
    from actions.semantic.faq_index import ARRAYS_FILE, index_dir

    if not (model_dir / "modules.json").is_file():
        return f"No sentence model in {model_dir}: run `make train` (it provisions the model)."
    if not (index_dir() / ARRAYS_FILE).is_file():
        return f"No semantic index in {index_dir()}: run `make train` (it builds the index)."
    return None


def project_embedder(model_dir: Path) -> Embedder:
    """The project's embedder, loaded on first use and kept for the process."""
    with _EMBEDDERS_LOCK:
        found = _EMBEDDERS.get(model_dir)
        if found is None:
            from actions.semantic.faq_index import IndexMismatchError
            from services.review.clustering import load_embedder

            try:
                found = load_embedder(model_dir)
            except (FileNotFoundError, IndexMismatchError) as error:
                raise ModelUnavailable(str(error)) from error
            _EMBEDDERS[model_dir] = found
        return found


# --- jobs ----------------------------------------------------------------------------------------
@dataclass
class ClusterJob:
    digest: str
    messages: int
    started: float  # time.monotonic()
    clusters: list[Cluster] | None = None
    error: str | None = None
    seconds: float | None = None

    @property
    def done(self) -> bool:
        return self.clusters is not None or self.error is not None


@dataclass
class Clusterer:
    """Clustering jobs, one at a time, in daemon threads; results kept for the latest message sets."""

    embedder: Callable[[], Embedder]
    jobs: OrderedDict[str, ClusterJob] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    one_at_a_time: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(1))

    def job(self, digest: str, texts: Sequence[str]) -> ClusterJob:
        """The job for this message set: finished, running, or started now."""
        with self.lock:
            job = self.jobs.get(digest)
            if job is not None and job.error and time.monotonic() - job.started > RETRY_FAILED_AFTER_SECONDS:
                job = None
            if job is not None:
                self.jobs.move_to_end(digest)
                return job
            job = ClusterJob(digest, len(texts), time.monotonic())
            self.jobs[digest] = job
            while len(self.jobs) > KEPT_RESULTS:
                self.jobs.popitem(last=False)
        threading.Thread(
            target=self._run, args=(job, list(texts)), name="cluster-unanswered", daemon=True
        ).start()
        return job

    def _run(self, job: ClusterJob, texts: list[str]) -> None:
        with self.one_at_a_time:
            began = time.monotonic()
            try:
                clusters = cluster_messages(texts, self.embedder())
            except ModelUnavailable as error:
                job.error = str(error)
            except Exception as error:  # a page must show it, not lose it in a thread
                logger.exception("clustering %d messages failed", len(texts))
                job.error = f"Clustering failed: {type(error).__name__}: {error}"
            else:
                job.clusters = clusters
            job.seconds = time.monotonic() - began


_CLUSTERER_LOCK = threading.Lock()


def clusterer(request: Request, settings: ReviewSettings) -> Clusterer:
    """The app's clusterer; its embedder is ``app.state.review_embedder`` or the project's."""
    app_state = request.app.state
    with _CLUSTERER_LOCK:
        found: Clusterer | None = getattr(app_state, "unanswered_clusterer", None)
        if found is None:

            def embedder() -> Embedder:
                injected: Embedder | None = getattr(app_state, "review_embedder", None)
                return injected if injected is not None else project_embedder(settings.embedding_model_dir)

            found = Clusterer(embedder)
            app_state.unanswered_clusterer = found
        return found


# --- the page ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    date_from: date
    date_to: date  # inclusive

    def bounds(self, settings: ReviewSettings) -> tuple[datetime, datetime]:
        zone = settings.zone
        return local_day_start(self.date_from, zone), local_day_start(self.date_to + timedelta(days=1), zone)


def parse_period(params: Mapping[str, str], today: date) -> tuple[Period, list[str]]:
    """``date_from``/``date_to`` (local days, inclusive); the last 30 days by default."""
    problems: list[str] = []
    values: dict[str, date] = {}
    for name in ("date_from", "date_to"):
        raw = (params.get(name) or "").strip()
        if not raw:
            continue
        try:
            values[name] = date.fromisoformat(raw)
        except ValueError:
            problems.append(f"{name.replace('_', ' ')} is not a date (YYYY-MM-DD)")
    date_to = values.get("date_to", today)
    date_from = values.get("date_from", date_to - timedelta(days=DEFAULT_DAYS - 1))
    if date_from > date_to:
        problems.append("the start date is after the end date: swapped")
        date_from, date_to = date_to, date_from
    return Period(date_from, date_to), problems


@router.get("/unanswered", response_class=HTMLResponse)
def unanswered_page(request: Request, _user: CurrentUser, state: StateDep, synced: Synced) -> Response:
    settings = state.settings
    today = state.clock().astimezone(settings.zone).date()
    period, problems = parse_period(request.query_params, today)
    start, end = period.bounds(settings)
    with state.session_factory() as session:
        messages = store.unanswered_messages(session, start, end, MAX_MESSAGES)
    context: dict[str, Any] = {
        "period": period,
        "problems": problems,
        "total": messages.total,
        "clustered": len(messages.texts),
        "job": None,
        "unavailable": None,
        "sync_error": synced.error if synced else None,
    }
    if messages.texts:
        injected = getattr(request.app.state, "review_embedder", None)
        unavailable = None if injected is not None else model_problem(settings.embedding_model_dir)
        if unavailable:
            context["unavailable"] = unavailable
        else:
            context["job"] = clusterer(request, settings).job(messages.digest, messages.texts)
    return render(request, "unanswered.html", context)
