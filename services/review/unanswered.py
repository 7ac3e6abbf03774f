"""Unanswered questions (``/unanswered``): what people asked that ended in a fallback or a handoff,
clustered by meaning, the largest cluster first. These are the FAQ topics to write next.

Clustering a few thousand messages takes tens of seconds (``clustering.cluster_messages``) and the
sentence model takes seconds to load, so a page never waits for either: the first request for a
set of messages starts a background job, the page says so, and a reload shows the result, which is
kept in memory (per app, keyed by a hash of the message set's event ids). The model is loaded once
per process, on first use. Tests (or another deployment) can put any ``Embedder`` in
``app.state.review_embedder``.

The page refreshes itself (``<meta http-equiv="refresh">``: the CSP allows no script), every 60 s,
every 10 s while a clustering runs. Each cluster opens its messages (``<details>``) and has a page
of its own (``/unanswered/<set>/<n>``): the way from a cluster to a FAQ topic. The FAQ topics are
fixed (data/faq_topics.yml follows the ministry's list; a new topic is added there by the content
owner with the developers, with its answer, data and menu entry), so the page does what the app
can: it adds the cluster's questions as training examples of an existing topic (approved inbox
decisions, exported by an administrator and judged by the next training's gate), links to that
topic's answer in the content workflow (an edit goes to an approver), and gives the questions as
text to send to the content owner when no topic fits.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.review import annotations as store
from services.review.annotations import DecisionStatus
from services.review.clustering import Cluster, Embedder, cluster_messages
from services.review.conversations import local_day_start
from services.review.export import has_personal_data
from services.review.i18n import language_of, translate
from services.review.inbox_pages import RETRIEVAL_INTENT, inbox_cache, training_data
from services.review.settings import ReviewSettings
from services.review.state import ReviewState
from services.review.stats import FIELD_NAMES
from services.review.training_data import normalize
from services.review.web import CurrentUser, StateDep, Synced, render, verify_csrf

logger = logging.getLogger(__name__)
router = APIRouter()

DEFAULT_DAYS = 30
# Average-linkage clustering needs the full distance matrix of the distinct messages: 2,000 take
# about 30 s and 32 MB; the most recent ones are the ones worth writing answers for.
MAX_MESSAGES = 2000
KEPT_RESULTS = 16
RETRY_FAILED_AFTER_SECONDS = 60.0
REFRESH_SECONDS = 60
REFRESH_WHILE_CLUSTERING_SECONDS = 10
MESSAGES_SHOWN = 200  # distinct messages listed when a cluster is opened
DIGEST = re.compile(r"^[0-9a-f]{64}$")
CLUSTER_GONE = (
    "Kelompok ini sudah tidak ada: daftar pertanyaan berubah sejak halaman dibuka. "
    "Buka lagi Pertanyaan belum terjawab."
)


class ModelUnavailable(Exception):
    """The sentence model or the semantic index is missing (or they do not match)."""


# --- the embedder: once per process --------------------------------------------------------------
_EMBEDDERS: dict[Path, Embedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def model_problem(model_dir: Path) -> str | None:
    """Why the project's embedder cannot be loaded, found without loading it (None: it can be tried)."""
    from actions.semantic.faq_index import ARRAYS_FILE, index_dir

    if not (model_dir / "modules.json").is_file():
        return f"Model kalimat tidak ada di {model_dir}: jalankan `make train` (menyiapkan modelnya)."
    if not (index_dir() / ARRAYS_FILE).is_file():
        return f"Indeks semantik tidak ada di {index_dir()}: jalankan `make train` (membangun indeksnya)."
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
        """A copy of the job for this message set (finished, running, or started now), taken under
        the lock: the job finishes in another thread, and a page rendered half before and half after
        said "reloads every 5 s" under finished clusters."""
        with self.lock:
            job = self.jobs.get(digest)
            if job is not None and job.error and time.monotonic() - job.started > RETRY_FAILED_AFTER_SECONDS:
                job = None
            if job is not None:
                self.jobs.move_to_end(digest)
                return replace(job)
            job = ClusterJob(digest, len(texts), time.monotonic())
            self.jobs[digest] = job
            while len(self.jobs) > KEPT_RESULTS:
                self.jobs.popitem(last=False)
            snapshot = replace(job)
        threading.Thread(
            target=self._run, args=(job, list(texts)), name="cluster-unanswered", daemon=True
        ).start()
        return snapshot

    def finished(self, digest: str) -> ClusterJob | None:
        """The finished job of a message set still kept, else None."""
        with self.lock:
            job = self.jobs.get(digest)
        return job if job is not None and job.clusters is not None else None

    def _run(self, job: ClusterJob, texts: list[str]) -> None:
        with self.one_at_a_time:
            began = time.monotonic()
            clusters: list[Cluster] | None = None
            error_text: str | None = None
            try:
                clusters = cluster_messages(texts, self.embedder())
            except ModelUnavailable as error:
                error_text = str(error)
            except Exception as error:  # a page must show it, not lose it in a thread
                logger.exception("clustering %d messages failed", len(texts))
                error_text = f"Pengelompokan gagal: {type(error).__name__}: {error}"
            with self.lock:  # the outcome at once: a copy never sees it half written
                job.clusters, job.error, job.seconds = clusters, error_text, time.monotonic() - began


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


def parse_period(params: Mapping[str, str], today: date, language: str = "id") -> tuple[Period, list[str]]:
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
            field_name = translate(FIELD_NAMES[name], language)
            problems.append(translate("{field} bukan tanggal (TTTT-BB-HH)", language, field=field_name))
    date_to = values.get("date_to", today)
    date_from = values.get("date_from", date_to - timedelta(days=DEFAULT_DAYS - 1))
    if date_from > date_to:
        problems.append(translate("tanggal awal sesudah tanggal akhir: ditukar", language))
        date_from, date_to = date_to, date_from
    return Period(date_from, date_to), problems


@router.get("/unanswered", response_class=HTMLResponse)
def unanswered_page(request: Request, _user: CurrentUser, state: StateDep, synced: Synced) -> Response:
    settings = state.settings
    today = state.clock().astimezone(settings.zone).date()
    period, problems = parse_period(request.query_params, today, language_of(request))
    start, end = period.bounds(settings)
    with state.session_factory() as session:
        messages = store.unanswered_messages(session, start, end, MAX_MESSAGES)
    context: dict[str, Any] = {
        "view": "list",
        "period": period,
        "problems": problems,
        "total": messages.total,
        "clustered": len(messages.texts),
        "digest": messages.digest,
        "job": None,
        "unavailable": None,
        "refresh": REFRESH_SECONDS,
        "shown": MESSAGES_SHOWN,
        "sync_error": synced.error if synced else None,
    }
    if messages.texts:
        injected = getattr(request.app.state, "review_embedder", None)
        unavailable = None if injected is not None else model_problem(settings.embedding_model_dir)
        if unavailable:
            context["unavailable"] = unavailable
        else:
            job = clusterer(request, settings).job(messages.digest, messages.texts)  # one reading
            context["job"] = job
            if not job.done:
                context["refresh"] = REFRESH_WHILE_CLUSTERING_SECONDS
    return render(request, "unanswered.html", context)


# --- a cluster: its messages, and the way to a FAQ topic ------------------------------------------
def _cluster(request: Request, state: ReviewState, digest: str, number: int) -> Cluster:
    """Cluster ``number`` (1 = the largest) of a clustered message set; 404 in words if gone."""
    job = clusterer(request, state.settings).finished(digest) if DIGEST.match(digest) else None
    if job is None or job.clusters is None or not 1 <= number <= len(job.clusters):
        raise HTTPException(status_code=404, detail=translate(CLUSTER_GONE, language_of(request)))
    return job.clusters[number - 1]


def _faq_topics(labels: Sequence[str]) -> list[str]:
    return [label for label in labels if label.startswith(RETRIEVAL_INTENT + "/")]


@router.get("/unanswered/{digest}/{number}", response_class=HTMLResponse)
def cluster_page(request: Request, digest: str, number: int, _user: CurrentUser, state: StateDep) -> Response:
    cluster = _cluster(request, state, digest, number)
    training = training_data(state.settings, inbox_cache(request))
    params = request.query_params
    added_to = params.get("topik") or ""
    return render(
        request,
        "unanswered.html",
        {
            "view": "cluster",
            "digest": digest,
            "number": number,
            "cluster": cluster,
            "messages": cluster.distinct()[:MESSAGES_SHOWN],
            "shown": MESSAGES_SHOWN,
            "topics": _faq_topics(training.labels),
            "label_names": training.names,
            "problem": training.problem,
            "added": _count(params.get("ditambahkan")),
            "skipped": _count(params.get("dilewati")),
            "added_to": added_to if added_to in training.labels else "",
        },
    )


def _count(value: str | None) -> int | None:
    try:
        return max(0, int(value)) if value is not None else None
    except ValueError:
        return None


@router.post("/unanswered/{digest}/{number}/contoh", dependencies=[Depends(verify_csrf)])
def add_as_examples(
    request: Request,
    digest: str,
    number: int,
    user: CurrentUser,
    state: StateDep,
    label: Annotated[str, Form(max_length=255)] = "",
) -> RedirectResponse:
    """The cluster's questions become approved examples of an existing FAQ topic (inbox decisions).

    Left out: replies with personal data (never training material) and questions the training data
    already has. An administrator exports them (Kotak masuk NLU → Disetujui); the next training's
    gate decides whether the model with them goes live.
    """
    language = language_of(request)
    cluster = _cluster(request, state, digest, number)
    training = training_data(state.settings, inbox_cache(request))
    if training.problem:
        raise HTTPException(status_code=503, detail=training.problem)
    if label not in _faq_topics(training.labels):
        raise HTTPException(status_code=422, detail=translate("Pilih topik FAQ dari daftar.", language))
    items: list[tuple[str, str]] = []
    skipped = 0
    for text, _count_sent in cluster.distinct():
        key = normalize(text)
        if not key or key in training.known or has_personal_data(text):
            skipped += 1
            continue
        items.append((key, text))
    with state.session_factory() as session:
        recorded = store.decide(session, items, label, DecisionStatus.APPROVED, user.username, state.clock())
        session.commit()
    skipped += len(items) - recorded
    query = urlencode({"ditambahkan": recorded, "dilewati": skipped, "topik": label})
    return RedirectResponse(f"/unanswered/{digest}/{number}?{query}", status_code=303)
