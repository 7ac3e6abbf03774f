"""The Models page: the training gate's registry (``core.model_registry``, the one schema) in words,
and for admins the buttons that retrain, activate and roll back (``training_jobs``).

The page never writes the registry itself: every change is a ``python -m training`` job, the same
commands ``make train`` / ``make rollback`` run, so the gate, the registry's lock and the hot swap
of the running Rasa server stay in one place. A broken registry file is shown as a problem
instead of failing the page. A version is the Rasa model and its semantic index: both must be on
disk to activate it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from core import model_registry as reg
from services.review import model_words as words
from services.review.i18n import language_of, translate
from services.review.training_jobs import (
    EXIT_NOT_STARTED,
    Job,
    JobBusy,
    JobKind,
    Output,
    current_job,
    log_tail,
    read_output,
    start_job,
)
from services.review.web import AdminUser, CurrentUser, StateDep, format_time, render, verify_csrf

router = APIRouter()
REFRESH_SECONDS = 5
LOG_LINES = 20  # shown under a failure; the rest of the log (up to FULL_LOG_LINES) folds out below
FULL_LOG_LINES = 500
MODEL_ID_LIMIT = 200
CONFIRMED = "yes"
UNKNOWN_MODEL = "Model itu tidak ada di registri model."
NOT_STARTED = (
    "Perintahnya tidak dapat dijalankan: periksa REVIEW_RASA_PYTHON ({python}) dan REVIEW_PROJECT_DIR."
)

# ?notice=... after a form: (Indonesian text, css class); texts with {kind}/{when}/{user} describe the job
NOTICES = {
    "started": (
        "{kind} dimulai. Halaman ini memuat ulang sendiri setiap {seconds} detik sampai selesai.",
        "notice",
    ),
    "busy": ("{kind} sedang berjalan sejak {when} (dimulai oleh {user}). Tunggu sampai selesai.", "error"),
    "confirm": (
        "Model ini ditolak gerbang mutu. Centang “Saya tetap ingin mengaktifkannya” untuk mengaktifkannya.",
        "error",
    ),
    "already-live": ("Model itu sudah live.", "notice"),
    "incomplete": ("Berkas model itu tidak lengkap di disk: model itu tidak bisa diaktifkan.", "error"),
    "no-previous": ("Tidak ada versi sebelumnya untuk dikembalikan.", "error"),
}
# what the trainer's last words mean, most specific first (training/trainer.py, training/__main__.py)
FAILURES = (
    (
        "training data validation failed",
        "Data latih tidak lolos pemeriksaan (rasa data validate): tidak ada yang dilatih. "
        "Perbaiki data yang disebut di catatan di bawah.",
    ),
    ("without an utter_", "Ada topik FAQ tanpa jawaban di domain: tidak ada yang dilatih."),
    ("rasa train failed", "Pelatihan model Rasa gagal: tidak ada yang dicatat."),
    ("building the semantic index failed", "Membangun indeks semantik gagal: tidak ada yang dicatat."),
    (": nothing recorded", "Pengujian pada pertanyaan uji gagal: tidak ada yang dicatat."),
    ("nothing to roll back to", "Tidak ada versi sebelumnya untuk dikembalikan."),
    ("cannot roll back", "Versi sebelumnya tidak lengkap di disk: tidak dikembalikan."),
    ("cannot activate", "Berkas model itu tidak lengkap di disk: tidak diaktifkan."),
    ("RegistryError", "Registri model (registry.json) tidak bisa dibaca atau diubah."),
    ("SettingsError", "Pengaturan pelatihan tidak lengkap."),
)


@dataclass(frozen=True)
class ModelRow:
    model: reg.ModelEntry
    live: bool
    status: str
    trained: str
    metrics: list[str]  # one cell per reg.METRIC_NAMES
    reason: str
    missing: str | None
    can_activate: bool
    needs_confirm: bool


@dataclass
class JobView:
    """The last job: its progress while it runs, its outcome in words once it ended."""

    kind: str
    started: str
    started_by: str
    elapsed: str
    running: bool
    progress: str = ""
    headline: str = ""
    passed: bool = True
    lines: list[str] = field(default_factory=list)  # candidate against live, one outcome each
    reason: str = ""
    swap: str = ""
    log: list[str] = field(default_factory=list)
    full_log: list[str] = field(default_factory=list)  # when the log has more lines than ``log``


# ------------------------------------------------------------------ the page


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, user: CurrentUser, state: StateDep) -> HTMLResponse:
    settings, language = state.settings, language_of(request)
    problem, registry = None, reg.Registry()
    try:
        registry = reg.load(settings.models_dir)
    except reg.RegistryError as error:
        problem = translate("registry.json tidak bisa dibaca: {error}", language, error=error)
    job = current_job(settings.models_dir)
    running = job is not None and job.running
    can_act = user.is_admin and not running
    view = _job_view(job, registry, state, language) if job is not None else None
    previous = registry.previous()
    return render(
        request,
        "models.html",
        {
            "registry": registry,
            "rows": _rows(registry, settings.models_dir, language, can_act, state),
            "problem": problem,
            "metric_names": [translate(words.METRIC_WORDS[name], language) for name in reg.METRIC_NAMES],
            "job": view,
            "refresh": REFRESH_SECONDS if running else None,
            "notice": _notice(request.query_params.get("notice", ""), job, state, language),
            "can_act": can_act,
            "previous": previous.id if previous is not None else None,
        },
    )


def _rows(
    registry: reg.Registry, models_dir: Path, language: str, can_act: bool, state: StateDep
) -> list[ModelRow]:
    rows = []
    for model in sorted(registry.models, key=lambda m: m.trained_at, reverse=True):
        live = model.id == registry.live
        missing = model.missing(models_dir)
        rows.append(
            ModelRow(
                model=model,
                live=live,
                status=words.status_words(model.status, language),
                trained=_local_time(model.trained_at, state),
                metrics=[
                    words.percent(model.metrics[name], language) if name in model.metrics else ""
                    for name in reg.METRIC_NAMES
                ],
                reason=words.reason_words(model.reason, language),
                missing=missing,
                can_activate=can_act and not live and missing is None,
                needs_confirm=model.status == reg.REFUSED,
            )
        )
    return rows


def _local_time(value: str, state: StateDep) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return format_time(moment, state.settings.zone) if moment.tzinfo else value


def _notice(key: str, job: Job | None, state: StateDep, language: str) -> tuple[str, str] | None:
    if key not in NOTICES:
        return None
    text, css = NOTICES[key]
    if key in ("started", "busy"):
        if job is None or not job.running:
            return None  # the job has ended meanwhile: its outcome is on the page
        record = job.record
        values = {
            "kind": translate(words.KIND_WORDS[record.kind], language),
            "when": format_time(record.started_at, state.settings.zone),
            "user": record.started_by,
            "seconds": REFRESH_SECONDS,
        }
        return translate(text, language, **values), css
    return translate(text, language), css


# ------------------------------------------------------------------ the last job in words


def _job_view(job: Job, registry: reg.Registry, state: StateDep, language: str) -> JobView:
    record = job.record
    output = read_output(job.log, record)
    view = JobView(
        kind=translate(words.KIND_WORDS[record.kind], language),
        started=format_time(record.started_at, state.settings.zone),
        started_by=record.started_by,
        elapsed=words.duration_words((job.ended_at or state.clock()) - record.started_at, language),
        running=job.running,
    )
    if job.running:
        view.progress = words.phase_words(output.progress, record.live_before, language)
        return view
    secrets = [state.settings.rasa_api_token.get_secret_value()]
    if job.exit_code != 0:
        view.passed = False
        view.headline, view.reason = _failure(job, state, language)
        view.log = log_tail(job.log, LOG_LINES, secrets)
        full = log_tail(job.log, FULL_LOG_LINES, secrets)
        view.full_log = full if len(full) > len(view.log) else []
        return view
    view.swap = _swap_words(output, language, secrets)
    if record.kind is JobKind.ACTIVATE:
        view.headline = translate(
            "{model} sekarang live (diaktifkan manual).", language, model=record.model_id
        )
    elif record.kind is JobKind.ROLLBACK:
        view.headline = translate(
            "Versi sebelumnya dikembalikan: {model} live lagi.", language, model=registry.live or "–"
        )
    else:
        _training_outcome(view, job, output, registry, language, secrets)
    return view


def _training_outcome(
    view: JobView, job: Job, output: Output, registry: reg.Registry, language: str, secrets: list[str]
) -> None:
    """The gate's verdict on the model this training added: passed or refused, why, and the
    held-out outcomes against the live model it was compared with."""
    record = job.record
    added = sorted((m for m in registry.models if m.id not in record.known_ids), key=lambda m: m.trained_at)
    if not added:
        view.swap = ""
        view.headline = _nothing_trained(output, language)
        if not (output.up_to_date or output.not_retrained):
            view.log = log_tail(job.log, LOG_LINES, secrets)
        return
    model = added[-1]
    verdict = output.verdict if output.verdict and output.verdict[1] == model.id else None
    view.passed = verdict[0] == "LIVE" if verdict else model.status != reg.REFUSED
    compared = output.live_compared or record.live_before
    live_metrics = output.figures.get("live") or _recorded_metrics(registry, compared)
    view.lines = words.metric_lines(model.metrics, live_metrics, language)
    view.reason = words.reason_words(verdict[2] if verdict else model.reason, language)
    if not view.passed:
        view.swap = ""
        view.headline = translate(
            "Ditolak gerbang mutu: {model} tidak diaktifkan; {live} tetap live.",
            language,
            model=model.id,
            live=compared or "–",
        )
    elif compared:
        view.headline = translate(
            "Lolos gerbang mutu: {model} sekarang live, menggantikan {live}.",
            language,
            model=model.id,
            live=compared,
        )
    else:
        view.headline = translate(
            "Lolos gerbang mutu: {model} adalah model pertama dan sekarang live.", language, model=model.id
        )


def _recorded_metrics(registry: reg.Registry, model_id: str) -> dict[str, float] | None:
    """The live model's figures as recorded at its own training, when the log has none."""
    try:
        return dict(registry.entry(model_id).metrics) if model_id else None
    except reg.RegistryError:
        return None


def _nothing_trained(output: Output, language: str) -> str:
    if output.up_to_date:
        return translate(
            "Tidak ada yang dilatih: data latih dan konfigurasi sama dengan model live {model}.",
            language,
            model=output.up_to_date,
        )
    if output.not_retrained:
        model, status = output.not_retrained
        return translate(
            "Tidak dilatih ulang: {model} sudah dilatih dari data dan konfigurasi yang sama ({status}). "
            "Aktifkan model itu di tabel bila perlu.",
            language,
            model=model,
            status=words.status_words(status, language),
        )
    return translate("Pelatihan selesai tanpa model baru.", language)


def _failure(job: Job, state: StateDep, language: str) -> tuple[str, str]:
    """(headline, what it means) for a job that failed or stopped without an exit code."""
    kind = translate(words.KIND_WORDS[job.record.kind], language)
    if job.exit_code is None:
        headline = translate("{kind} berhenti sebelum selesai (prosesnya dihentikan?).", language, kind=kind)
        return headline, translate("Periksa tabel model sebelum mencoba lagi.", language)
    headline = translate("{kind} gagal (kode keluar {code}).", language, kind=kind, code=job.exit_code)
    for marker, meaning in FAILURES:
        if marker in job.log:
            return headline, translate(meaning, language)
    if job.exit_code == EXIT_NOT_STARTED:
        return headline, translate(NOT_STARTED, language, python=state.settings.rasa_python)
    return headline, translate("Model live tidak berubah.", language)


def _swap_words(output: Output, language: str, secrets: list[str]) -> str:
    if output.served:
        return translate("Server Rasa yang berjalan sekarang memakai {file}.", language, file=output.served)
    if output.swap:
        detail = log_tail(output.swap, 1, secrets)[0]
        return translate(
            "Server Rasa yang berjalan belum diperbarui; ia memakai model live saat dimulai lagi ({detail}).",
            language,
            detail=detail,
        )
    return ""


# ------------------------------------------------------------------ the admin's buttons


def _start(state: StateDep, user: AdminUser, kind: JobKind, model_id: str = "") -> RedirectResponse:
    try:
        start_job(state.settings, kind, user.username, state.clock(), model_id)
    except JobBusy:
        return _back("busy")
    return _back("started")


def _back(notice: str) -> RedirectResponse:
    return RedirectResponse(f"/models?notice={notice}", status_code=303)


def _registry_or_404(state: StateDep, request: Request) -> reg.Registry:
    try:
        return reg.load(state.settings.models_dir)
    except reg.RegistryError as error:
        message = translate("registry.json tidak bisa dibaca: {error}", language_of(request), error=error)
        raise HTTPException(status_code=404, detail=message) from error


@router.post("/models/train", dependencies=[Depends(verify_csrf)])
def train(admin: AdminUser, state: StateDep) -> RedirectResponse:
    return _start(state, admin, JobKind.TRAIN)


@router.post("/models/activate", dependencies=[Depends(verify_csrf)])
def activate(
    request: Request,
    admin: AdminUser,
    state: StateDep,
    model_id: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Makes a registered, complete, not-live version live; a refused one only when confirmed."""
    registry = _registry_or_404(state, request)
    known = {model.id: model for model in registry.models}
    model = known.get(model_id) if len(model_id) <= MODEL_ID_LIMIT else None
    if model is None:
        raise HTTPException(status_code=404, detail=translate(UNKNOWN_MODEL, language_of(request)))
    if model.id == registry.live:
        return _back("already-live")
    if model.missing(state.settings.models_dir) is not None:
        return _back("incomplete")
    if model.status == reg.REFUSED and confirm != CONFIRMED:
        return _back("confirm")
    return _start(state, admin, JobKind.ACTIVATE, model.id)


@router.post("/models/rollback", dependencies=[Depends(verify_csrf)])
def rollback(request: Request, admin: AdminUser, state: StateDep) -> RedirectResponse:
    """Makes the previously live version live again (the trainer checks its files)."""
    if _registry_or_404(state, request).previous() is None:
        return _back("no-previous")
    return _start(state, admin, JobKind.ROLLBACK)
