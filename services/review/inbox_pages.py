"""The NLU inbox (``/inbox``), the approved list (``/inbox/approved``) and the export (``/inbox/export``).

The inbox shows each message people sent that the training data lacks and no reviewer decided yet,
once however often it was sent (``inbox.group_candidates``), the least confident first. Reviewers
confirm the prediction, correct it to any label of ``training_data.valid_labels`` or discard the
message; an administrator exports the approved ones into ``data/nlu/reviewed.yml``
(``export.export_annotations``), which the next ``make train`` learns from (or its gate refuses).

Groups are identified in forms by their first message's event id, never by their text: a page holds
no unmasked text. Grouping every message is the slow part, so the groups are cached per app and
recomputed only when the indexer added messages or the training data changed; decisions are
applied on top at every request.

Each row shows the model's best guess in words ("Tebakan model: Biaya vaksin (30 %)"), also behind a
fallback, read from the tracker store for the rows shown (``annotations.turn_parse``,
``inbox.best_guess``); "Benar" confirms it in one click, "Pilih topik lain" corrects it. Replies
with personal data are one line ("125 balasan data pribadi (disembunyikan)") and a view of their
own (``?data_pribadi=1``), where they can be discarded at once: the export never trains on them.
Topic titles are the menu's button titles (``transcript.topic_titles``: the domain the live NLG
serves), the one place they are written; intents are in the transcript's words.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import yaml
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core.nlu_yaml import yaml_files
from rasa_project.content import signature as content_signature
from services.review import annotations as store
from services.review.annotations import DecisionStatus, MessagesSignature
from services.review.export import Annotation, ExportResult, export_annotations
from services.review.i18n import language_of, translate
from services.review.inbox import Guess, InboxGroup, best_guess, group_candidates, label_words, percent
from services.review.settings import REPO_ROOT, ReviewSettings
from services.review.state import ReviewState
from services.review.training_data import (
    HELDOUT_DIR,
    NLU_DIR,
    RETRIEVAL_INTENT,
    TOPICS_FILE,
    known_examples,
    normalize,
    valid_labels,
)
from services.review.transcript import topic_titles
from services.review.web import AdminUser, CurrentUser, StateDep, Synced, render, verify_csrf

router = APIRouter()

ACTIONS = ("confirm", "correct", "discard")
MAX_SELECTED = 1000  # groups in one decision (two pages' worth and then some)
EXPORTED_SHOWN = 200
MAX_GUESSES_KEPT = 20_000  # parses never change: guesses are kept per event id, up to this many
PERSONAL_VIEW = "data_pribadi"


@dataclass(frozen=True)
class TrainingData:
    known: dict[str, str]
    labels: list[str]
    names: dict[str, str]  # label -> what the <select> shows
    problem: str | None = None
    titles: dict[str, str] = field(default_factory=dict)  # FAQ topic -> its menu title


@dataclass
class InboxCache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    training_signature: tuple[Any, ...] | None = None
    training: TrainingData | None = None
    groups_signature: tuple[Any, ...] | None = None
    groups: list[InboxGroup] = field(default_factory=list)
    by_key: dict[str, InboxGroup] = field(default_factory=dict)
    guesses: dict[int, Guess | None] = field(default_factory=dict)  # by sample event id


_CACHE_LOCK = threading.Lock()


def inbox_cache(request: Request) -> InboxCache:
    with _CACHE_LOCK:
        cache: InboxCache | None = getattr(request.app.state, "inbox_cache", None)
        if cache is None:
            cache = InboxCache()
            request.app.state.inbox_cache = cache
        return cache


def _files_signature(settings: ReviewSettings) -> tuple[Any, ...]:
    data, domain = settings.data_dir, settings.domain_dir
    files = [*yaml_files(data / NLU_DIR), *yaml_files(data / HELDOUT_DIR), data / TOPICS_FILE]
    files += yaml_files(domain) if domain.is_dir() else [domain]
    signature: list[Any] = []
    for path in files:
        try:
            stat = path.stat()
            signature.append((str(path), stat.st_mtime_ns, stat.st_size))
        except OSError:
            signature.append((str(path), None))
    if settings.content_dir.is_dir():
        signature.append(content_signature(settings.content_dir))
    return tuple(signature)


def _topic_menus(data_dir: Path) -> dict[str, str]:
    """FAQ topic -> the name of its fallback-menu category (data/faq_topics.yml)."""
    document = yaml.safe_load((data_dir / TOPICS_FILE).read_text(encoding="utf-8")) or {}
    categories = document.get("menu_categories") or {}
    menus: dict[str, str] = {}
    for topic, spec in (document.get("topics") or {}).items():
        menu = spec.get("menu") if isinstance(spec, dict) else None
        menus[str(topic)] = str(categories.get(menu, menu or ""))
    return menus


def label_names(labels: list[str], data_dir: Path, titles: dict[str, str] | None = None) -> dict[str, str]:
    """What a label select shows: a topic's title with its menu ("Biaya vaksin — Info umum vaksin"),
    an intent in words ("Minta petugas")."""
    try:
        menus = _topic_menus(data_dir)
    except (OSError, yaml.YAMLError, AttributeError):
        menus = {}
    names = {}
    for label in labels:
        words = label_words(label, titles or {})
        prefix, _, topic = label.partition("/")
        menu = menus.get(topic) if prefix == RETRIEVAL_INTENT and topic else None
        names[label] = f"{words} — {menu}" if menu else words
    return names


def _sorted_labels(labels: list[str], names: dict[str, str]) -> list[str]:
    """FAQ topics first, by the name a reviewer reads, then the other intents."""
    return sorted(labels, key=lambda label: (not label.startswith(RETRIEVAL_INTENT + "/"), names[label]))


def training_data(settings: ReviewSettings, cache: InboxCache) -> TrainingData:
    """Known examples and assignable labels, re-read only when a data or domain file changed."""
    signature = _files_signature(settings)
    with cache.lock:
        if cache.training is not None and cache.training_signature == signature:
            return cache.training
    titles = topic_titles(settings.content_dir)
    try:
        labels = valid_labels(settings.domain_dir, settings.data_dir)
        names = label_names(labels, settings.data_dir, titles)
        loaded = TrainingData(
            known_examples(settings.data_dir), _sorted_labels(labels, names), names, titles=titles
        )
    except (OSError, yaml.YAMLError, AttributeError, TypeError) as error:
        problem = f"Data latih atau domain tidak dapat dibaca ({type(error).__name__}: {error})."
        loaded = TrainingData({}, [], {}, problem, titles)
    with cache.lock:
        cache.training, cache.training_signature = loaded, signature
        cache.guesses.clear()  # a guess is kept only while it is a label a reviewer may assign
    return loaded


def inbox_groups(state: ReviewState, cache: InboxCache, training: TrainingData) -> dict[str, InboxGroup]:
    """Every undecided-or-not group of unknown messages by key (in inbox order), cached."""
    with state.session_factory() as session:
        messages: MessagesSignature = store.messages_signature(session)
    signature = (messages, cache.training_signature)
    with cache.lock:
        if cache.groups_signature == signature:
            return cache.by_key
    with state.session_factory() as session:
        candidates = store.message_candidates(session)
    groups = group_candidates(candidates, training.known)  # no session open: this is the slow part
    by_key = {group.key: group for group in groups}
    with cache.lock:
        cache.groups, cache.by_key, cache.groups_signature = groups, by_key, signature
    return by_key


def group_guess(state: ReviewState, cache: InboxCache, group: InboxGroup, valid: set[str]) -> Guess | None:
    """The best guess behind a group's non-label prediction (``nlu_fallback``…), kept per event id.

    Read from the tracker store only for the rows shown or decided (one small read each): the
    review database keeps the label the gate decided, not the rankings behind it.
    """
    event_id = group.sample_event_id
    with cache.lock:
        if event_id in cache.guesses:
            return cache.guesses[event_id]
    turn = store.turn_parse(state.tracker_engine, group.sample_conversation_id, event_id)
    found = best_guess(turn.parse, turn.bot_events) if turn else None
    guess = found if found is not None and found.label in valid else None
    with cache.lock:
        if len(cache.guesses) >= MAX_GUESSES_KEPT:
            cache.guesses.clear()
        cache.guesses[event_id] = guess
    return guess


@dataclass(frozen=True)
class RowGuess:
    """What a row offers to confirm: the label, its words, its confidence (None: unknown)."""

    label: str
    words: str
    confidence: float | None
    source: str  # "prediction", or a GuessSource value


def row_guess(
    state: ReviewState, cache: InboxCache, group: InboxGroup, training: TrainingData
) -> RowGuess | None:
    """The prediction when it is a label a reviewer may assign, else the best guess behind it."""
    valid = set(training.labels)
    if group.predicted in valid:
        label = str(group.predicted)
        return RowGuess(label, label_words(label, training.titles), group.lowest_confidence, "prediction")
    guess = group_guess(state, cache, group, valid)
    if guess is None:
        return None
    return RowGuess(
        guess.label, label_words(guess.label, training.titles), guess.confidence, guess.source.value
    )


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, _user: CurrentUser, state: StateDep, synced: Synced) -> Response:
    cache = inbox_cache(request)
    training = training_data(state.settings, cache)
    by_key = inbox_groups(state, cache, training)
    with state.session_factory() as session:
        decided = store.decided_keys(session)
        pending = store.count_decisions(session, DecisionStatus.APPROVED)
    undecided = [group for key, group in by_key.items() if key not in decided]
    personal = [group for group in undecided if group.personal_data]
    personal_view = request.query_params.get(PERSONAL_VIEW) == "1"
    groups = personal if personal_view else [group for group in undecided if not group.personal_data]
    size = state.settings.page_size
    pages = max(1, -(-len(groups) // size))
    page = min(_page_number(request.query_params.get("page")), pages)
    shown = groups[(page - 1) * size : page * size]
    return render(
        request,
        "inbox.html",
        {
            "view": "inbox",
            "personal_view": personal_view,
            "groups": shown,
            "guesses": {group.key: row_guess(state, cache, group, training) for group in shown},
            "percent": percent,
            "total": len(groups),
            "personal_groups": len(personal),
            "personal_messages": sum(group.count for group in personal),
            "page": page,
            "pages": pages,
            "page_query": f"{PERSONAL_VIEW}=1&" if personal_view else "",
            "labels": training.labels,
            "label_names": training.names,
            "problem": training.problem,
            "pending": pending,
            "notice": _decision_notice(request.query_params, language_of(request)),
            "sync_error": synced.error if synced else None,
        },
    )


_DONE = {
    "confirm": "{n} pesan dikonfirmasi.",
    "correct": "{n} pesan diberi topik lain.",
    "discard": "{n} pesan dibuang.",
}


def _decision_notice(params: Any, language: str) -> str | None:
    action = params.get("action")
    if action not in ACTIONS:
        return None
    try:
        done, skipped = int(params.get("done", 0)), int(params.get("skipped", 0))
    except ValueError:
        return None
    if done == 0 and skipped == 0:
        return translate("Tidak ada pesan yang dipilih.", language)
    notice = translate(_DONE[action], language, n=done)
    if skipped:
        notice += " " + translate(
            "{n} dilewati (sudah diputuskan atau diekspor, sudah ada di data latih, atau tanpa tebakan"
            " yang bisa dikonfirmasi: pilih topiknya sendiri).",
            language,
            n=skipped,
        )
    return notice


@router.post("/inbox/decide", dependencies=[Depends(verify_csrf)])
def decide(
    request: Request,
    user: CurrentUser,
    state: StateDep,
    action: Annotated[str, Form(max_length=16)] = "",
    group: Annotated[list[int] | None, Form()] = None,
    label: Annotated[str, Form(max_length=255)] = "",
    page: Annotated[int, Form(ge=1, le=1_000_000)] = 1,
    data_pribadi: Annotated[int, Form(ge=0, le=1)] = 0,
) -> RedirectResponse:
    """Confirm (the prediction or, behind a fallback, the best guess), correct or discard groups."""
    language = language_of(request)
    if action not in ACTIONS:
        raise HTTPException(
            status_code=422, detail=translate("Pilih: benar, topik lain, atau buang.", language)
        )
    selected = list(dict.fromkeys(group or []))
    if len(selected) > MAX_SELECTED:
        raise HTTPException(
            status_code=422, detail=translate("Paling banyak {n} pesan sekaligus.", language, n=MAX_SELECTED)
        )
    cache = inbox_cache(request)
    training = training_data(state.settings, cache)
    if training.problem:
        raise HTTPException(status_code=503, detail=training.problem)
    valid = set(training.labels)
    if action == "correct" and label not in valid:
        raise HTTPException(
            status_code=422, detail=translate("Pilih topik dari daftar untuk mengoreksi.", language)
        )
    by_key = inbox_groups(state, cache, training)
    with state.session_factory() as session:
        texts = store.message_texts(session, selected)
    by_label: dict[str | None, list[tuple[str, str]]] = {}
    skipped = 0
    for event_id in selected:
        text = texts.get(event_id)
        key = normalize(text) if text else ""
        found = by_key.get(key)
        if found is None:  # unknown id, a payload, or a message the training data now has
            skipped += 1
            continue
        chosen: str | None = None
        if action == "confirm":
            guess = row_guess(state, cache, found, training)
            if guess is None:
                skipped += 1
                continue
            chosen = guess.label
        elif action == "correct":
            chosen = label
        by_label.setdefault(chosen, []).append((found.key, found.text))
    done = 0
    now = state.clock()
    status = DecisionStatus.DISCARDED if action == "discard" else DecisionStatus.APPROVED
    with state.session_factory() as session:
        for chosen, items in by_label.items():
            recorded = store.decide(session, items, chosen, status, user.username, now)
            done += recorded
            skipped += len(items) - recorded
        session.commit()
    query = {"page": page, "action": action, "done": done, "skipped": skipped}
    if data_pribadi:
        query = {PERSONAL_VIEW: 1, **query}
    return RedirectResponse(f"/inbox?{urlencode(query)}", status_code=303)


def relative_path(path: Path, settings: ReviewSettings) -> str:
    """The export file as a reviewer finds it in the checkout (or next to the data folder)."""
    for base in (REPO_ROOT, settings.data_dir.resolve().parent):
        try:
            return str(path.resolve().relative_to(base))
        except ValueError:
            continue
    return str(path)


def _approved_context(state: ReviewState, training: TrainingData) -> dict[str, Any]:
    with state.session_factory() as session:
        pending = store.decisions(session, DecisionStatus.APPROVED)
        exported = store.decisions(session, DecisionStatus.EXPORTED, limit=EXPORTED_SHOWN)
        exported_total = store.count_decisions(session, DecisionStatus.EXPORTED)
    return {
        "view": "approved",
        "approved": pending,
        "exported": exported,
        "exported_total": exported_total,
        "label_names": training.names,
        "valid": set(training.labels),
        "problem": training.problem,
    }


@router.get("/inbox/approved", response_class=HTMLResponse)
def approved_page(request: Request, _user: CurrentUser, state: StateDep) -> Response:
    training = training_data(state.settings, inbox_cache(request))
    return render(request, "inbox.html", _approved_context(state, training))


@dataclass(frozen=True)
class ExportOutcome:
    result: ExportResult | None
    path: str
    exported: int  # decisions marked exported
    invalid: int  # approved with a label that is no longer valid: kept approved
    error: str | None = None


@router.post("/inbox/export", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
def export(request: Request, _admin: AdminUser, state: StateDep) -> Response:
    """Every approved decision into ``data/nlu/reviewed.yml``; they are exported afterwards."""
    settings = state.settings
    training = training_data(settings, inbox_cache(request))
    if training.problem:
        raise HTTPException(status_code=503, detail=training.problem)
    valid = set(training.labels)
    with state.session_factory() as session:
        approved = store.decisions(session, DecisionStatus.APPROVED)
    ready = [decision for decision in approved if decision.label in valid]
    invalid = len(approved) - len(ready)
    path = relative_path(settings.data_dir / "nlu" / "reviewed.yml", settings)
    outcome: ExportOutcome
    try:
        # no session open while the files are read and written
        result = export_annotations(
            [Annotation(decision.text, str(decision.label)) for decision in ready], settings.data_dir, valid
        )
    except (ValueError, RuntimeError, OSError) as error:
        problem = translate("Tidak ada yang diekspor: {error}", language_of(request), error=error)
        outcome = ExportOutcome(None, path, 0, invalid, problem)
    else:
        with state.session_factory() as session:
            marked = store.mark_exported(session, [decision.id for decision in ready], state.clock())
            session.commit()
        outcome = ExportOutcome(result, relative_path(result.path, settings), marked, invalid)
    context = _approved_context(state, training)
    context["export"] = outcome
    return render(request, "inbox.html", context, status_code=500 if outcome.error else 200)
