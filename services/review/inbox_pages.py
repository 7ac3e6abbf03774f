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
from services.review import annotations as store
from services.review.annotations import DecisionStatus, MessagesSignature
from services.review.export import Annotation, ExportResult, export_annotations
from services.review.inbox import InboxGroup, group_candidates
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
from services.review.web import AdminUser, CurrentUser, StateDep, Synced, render, verify_csrf

router = APIRouter()

ACTIONS = ("confirm", "correct", "discard")
MAX_SELECTED = 1000  # groups in one decision (two pages' worth and then some)
EXPORTED_SHOWN = 200


@dataclass(frozen=True)
class TrainingData:
    known: dict[str, str]
    labels: list[str]
    names: dict[str, str]  # label -> what the <select> shows
    problem: str | None = None


@dataclass
class InboxCache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    training_signature: tuple[Any, ...] | None = None
    training: TrainingData | None = None
    groups_signature: tuple[Any, ...] | None = None
    groups: list[InboxGroup] = field(default_factory=list)
    by_key: dict[str, InboxGroup] = field(default_factory=dict)


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


def label_names(labels: list[str], data_dir: Path) -> dict[str, str]:
    """What a label select shows: intents as they are, FAQ labels with their topic's name."""
    try:
        menus = _topic_menus(data_dir)
    except (OSError, yaml.YAMLError, AttributeError):
        menus = {}
    names = {}
    for label in labels:
        prefix, _, topic = label.partition("/")
        if prefix == RETRIEVAL_INTENT and topic:
            menu = menus.get(topic)
            names[label] = f"FAQ: {topic.replace('_', ' ')}" + (f" ({menu})" if menu else "") + f" [{label}]"
        else:
            names[label] = label
    return names


def training_data(settings: ReviewSettings, cache: InboxCache) -> TrainingData:
    """Known examples and assignable labels, re-read only when a data or domain file changed."""
    signature = _files_signature(settings)
    with cache.lock:
        if cache.training is not None and cache.training_signature == signature:
            return cache.training
    try:
        labels = valid_labels(settings.domain_dir, settings.data_dir)
        loaded = TrainingData(
            known_examples(settings.data_dir), labels, label_names(labels, settings.data_dir)
        )
    except (OSError, yaml.YAMLError, AttributeError, TypeError) as error:
        problem = f"The training data or the domain cannot be read ({type(error).__name__}: {error})."
        loaded = TrainingData({}, [], {}, problem)
    with cache.lock:
        cache.training, cache.training_signature = loaded, signature
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
    groups = [group for key, group in by_key.items() if key not in decided]
    size = state.settings.page_size
    pages = max(1, -(-len(groups) // size))
    page = min(_page_number(request.query_params.get("page")), pages)
    shown = groups[(page - 1) * size : page * size]
    valid = set(training.labels)
    return render(
        request,
        "inbox.html",
        {
            "view": "inbox",
            "groups": shown,
            "confirmable": {group.key: group.predicted in valid for group in shown},
            "total": len(groups),
            "page": page,
            "pages": pages,
            "labels": training.labels,
            "label_names": training.names,
            "problem": training.problem,
            "pending": pending,
            "notice": _decision_notice(request.query_params),
            "sync_error": synced.error if synced else None,
        },
    )


def _decision_notice(params: Any) -> str | None:
    action = params.get("action")
    if action not in ACTIONS:
        return None
    try:
        done, skipped = int(params.get("done", 0)), int(params.get("skipped", 0))
    except ValueError:
        return None
    past = {"confirm": "confirmed", "correct": "corrected", "discard": "discarded"}[action]
    if done == 0 and skipped == 0:
        return "Nothing was selected."
    notice = f"{done} message{'' if done == 1 else 's'} {past}."
    if skipped:
        notice += (
            f" {skipped} skipped (already decided or exported, now in the training data, or a prediction"
            " that is no label: correct those instead)."
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
) -> RedirectResponse:
    """Confirm, correct or discard groups (one from a row's form, several from the bulk form)."""
    if action not in ACTIONS:
        raise HTTPException(status_code=422, detail="Choose confirm, correct or discard.")
    selected = list(dict.fromkeys(group or []))
    if len(selected) > MAX_SELECTED:
        raise HTTPException(status_code=422, detail=f"At most {MAX_SELECTED} messages at once.")
    cache = inbox_cache(request)
    training = training_data(state.settings, cache)
    if training.problem:
        raise HTTPException(status_code=503, detail=training.problem)
    valid = set(training.labels)
    if action == "correct" and label not in valid:
        raise HTTPException(status_code=422, detail="Choose a label from the list to correct to.")
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
            if found.predicted not in valid:
                skipped += 1
                continue
            chosen = found.predicted
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
    query = urlencode({"page": page, "action": action, "done": done, "skipped": skipped})
    return RedirectResponse(f"/inbox?{query}", status_code=303)


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
        outcome = ExportOutcome(None, path, 0, invalid, f"Nothing was exported: {error}")
    else:
        with state.session_factory() as session:
            marked = store.mark_exported(session, [decision.id for decision in ready], state.clock())
            session.commit()
        outcome = ExportOutcome(result, relative_path(result.path, settings), marked, invalid)
    context = _approved_context(state, training)
    context["export"] = outcome
    return render(request, "inbox.html", context, status_code=500 if outcome.error else 200)
