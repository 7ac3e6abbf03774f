"""Training, activation and rollback started from the Models page: ``python -m training`` as a job.

Why a subprocess in another environment: the trainer is Rasa's code and runs in the Rasa env
(Python 3.10), this app in the actions env (3.11). The command line the Makefile runs is the one
contract between them, so a training started here is ``make train`` (same gate, same registry, same
hot swap of the running Rasa server through ``RASA_URL`` and ``RASA_API_TOKEN``).

One job at a time, across processes: the starter takes an exclusive ``flock`` on
``<models>/.training/lock`` and hands the open file to the job (``pass_fds``), which holds it until
it exits. "Running" means "the lock is taken": true for every app process on the same models
folder and after an app restart (the supervisor restarts a dead review app; the job goes on), false
as soon as the job ends, however it ends. A killed job cannot leave a stale lock behind, as a pid
file would.

The job folder keeps the last job only: ``job.json`` (what, who, when, the registry before),
``output.log`` (the trainer's and Rasa's output), ``exit_code`` (written by the wrapper shell as the
command ends, so it survives an app restart) and ``gate.md`` (this training's gate report).
What the output says (phase, gate lines, hot swap) is read by :func:`read_output`.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO

from core import model_registry as reg
from services.review.settings import ReviewSettings

JOBS_FOLDER = ".training"
LOCK_FILE = "lock"
RECORD_FILE = "job.json"
LOG_FILE = "output.log"
EXIT_FILE = "exit_code"
REPORT_FILE = "gate.md"
# Runs "$@" (the command) and writes its exit code atomically to $0 (the exit file) before the
# shell exits and lets the lock go: a reader never sees the lock free without the exit code.
WRAPPER = '"$@"; code=$?; printf "%s\\n" "$code" > "$0.tmp" && mv "$0.tmp" "$0"; exit "$code"'
# A page reads this much of the end of the log (a training writes a few hundred KB at most).
LOG_LIMIT = 2_000_000
# A status check takes the lock for a moment; a start retries this long before saying "busy".
START_RETRY_SECONDS = 0.5
EXIT_NOT_STARTED = 127  # what a shell answers for a command it cannot run


class JobKind(StrEnum):
    TRAIN = "train"
    ACTIVATE = "activate"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class JobRecord:
    kind: JobKind
    started_at: datetime
    started_by: str
    model_id: str = ""  # activate: the model made live
    live_before: str = ""  # the live model when the job started ("" for none)
    known_ids: tuple[str, ...] = ()  # the registered models when it started: a training adds one

    def to_json(self) -> str:
        raw = {
            "kind": self.kind.value,
            "started_at": self.started_at.isoformat(),
            "started_by": self.started_by,
            "model_id": self.model_id,
            "live_before": self.live_before,
            "known_ids": list(self.known_ids),
        }
        return json.dumps(raw, ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> JobRecord:
        raw = json.loads(text)
        return cls(
            kind=JobKind(raw["kind"]),
            started_at=datetime.fromisoformat(raw["started_at"]),
            started_by=str(raw["started_by"]),
            model_id=str(raw.get("model_id") or ""),
            live_before=str(raw.get("live_before") or ""),
            known_ids=tuple(str(known) for known in raw.get("known_ids") or ()),
        )


@dataclass(frozen=True)
class Job:
    """The last job as the files show it now."""

    record: JobRecord
    running: bool
    exit_code: int | None  # None while running, and for a job that ended without writing one
    log: str
    ended_at: datetime | None = None  # when the exit code was written


class JobBusy(Exception):
    """Another job holds the lock; ``job`` is what its files say (None if they say nothing yet)."""

    def __init__(self, job: Job | None) -> None:
        super().__init__("a model job is running")
        self.job = job


def jobs_folder(models_dir: Path) -> Path:
    return models_dir / JOBS_FOLDER


# ------------------------------------------------------------------ the lock


def _try_lock(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def is_running(folder: Path) -> bool:
    """Whether a job holds the lock (checked by taking it for a moment)."""
    lock = folder / LOCK_FILE
    if not lock.exists():
        return False
    with open(lock, "a", encoding="utf-8") as handle:  # "a": never truncates, creates nothing new
        if not _try_lock(handle):
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


# ------------------------------------------------------------------ reading the last job


def read_record(folder: Path) -> JobRecord | None:
    try:
        return JobRecord.from_json((folder / RECORD_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a record from another version of this app: as if there were none


def read_exit_code(folder: Path) -> tuple[int | None, datetime | None]:
    """The job's exit code and when it was written; (None, None) without one."""
    path = folder / EXIT_FILE
    try:
        code = int(path.read_text(encoding="utf-8").strip())
        ended = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except (OSError, ValueError):
        return None, None
    return code, ended


_TERMINAL_CODES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # Rasa colours its warnings


def read_log(folder: Path, limit: int = LOG_LIMIT) -> str:
    """The end of the job's output as text: progress bars' carriage returns become line ends,
    terminal colour codes go."""
    try:
        with (folder / LOG_FILE).open("rb") as log:
            size = log.seek(0, os.SEEK_END)
            log.seek(max(0, size - limit))
            data = log.read()
    except FileNotFoundError:
        return ""
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    return _TERMINAL_CODES.sub("", text)


def current_job(models_dir: Path) -> Job | None:
    folder = jobs_folder(models_dir)
    record = read_record(folder)
    if record is None:
        return None
    running = is_running(folder)
    exit_code, ended_at = (None, None) if running else read_exit_code(folder)
    return Job(record, running, exit_code, read_log(folder), ended_at)


# ------------------------------------------------------------------ starting a job


def command_for(settings: ReviewSettings, record: JobRecord, folder: Path) -> list[str]:
    """The ``python -m training`` command line (the Makefile's ``train`` / ``rollback`` targets),
    with absolute paths: the job runs in the project folder, not in this app's working directory."""
    python = [str(settings.rasa_python.absolute()), "-m", "training"]
    models = ["--models", str(settings.models_dir.absolute())]
    if record.kind is JobKind.ACTIVATE:
        return [*python, "activate", *models, "--", record.model_id]
    if record.kind is JobKind.ROLLBACK:
        return [*python, "rollback", *models]
    data = settings.data_dir.absolute()
    return [
        *python, "train", *models,
        "--config", str(settings.training_config.absolute()),
        "--domain", str(settings.domain_dir.absolute()),
        "--data", str(data / "nlu"), str(data / "rules"),
        "--heldout", str(data / "heldout"),
        "--actions-python", str(settings.actions_python.absolute()),
        "--report", str((folder / REPORT_FILE).absolute()),
    ]  # fmt: skip


def job_environment(settings: ReviewSettings) -> dict[str, str]:
    """This process's environment without the app's own settings (the admin password among them),
    plus what the trainer reads: the project on the path, unbuffered output (the page follows the
    log as it grows) and the Rasa server to hot-swap."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("REVIEW_")}
    environment.update(
        PYTHONPATH=str(settings.project_dir.absolute()),
        PYTHONUNBUFFERED="1",
        # The supervisor's list of every Rasa process when there are several (training/hotswap.py);
        # else the one address the app talks to.
        RASA_URL=environment.get("RASA_URL") or settings.rasa_url,
        RASA_API_TOKEN=settings.rasa_api_token.get_secret_value(),
    )
    return environment


def _take_lock(handle: IO[str]) -> bool:
    deadline = time.monotonic() + START_RETRY_SECONDS
    while not _try_lock(handle):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _registry_before(models_dir: Path) -> tuple[str, tuple[str, ...]]:
    """The live model and the registered ids now; an unreadable registry counts as empty (the job
    then fails on it and says so)."""
    try:
        registry = reg.load(models_dir)
    except reg.RegistryError:
        return "", ()
    return registry.live or "", tuple(model.id for model in registry.models)


def start_job(
    settings: ReviewSettings, kind: JobKind, started_by: str, now: datetime, model_id: str = ""
) -> JobRecord:
    """Starts the job in the background and returns at once; raises :class:`JobBusy` while another
    job holds the lock."""
    folder = jobs_folder(settings.models_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_FILE, "a", encoding="utf-8") as handle:
        if not _take_lock(handle):
            raise JobBusy(current_job(settings.models_dir))
        live, known = _registry_before(settings.models_dir)
        record = JobRecord(kind, now, started_by, model_id, live, known)
        for stale in (EXIT_FILE, REPORT_FILE):
            (folder / stale).unlink(missing_ok=True)
        _write_atomically(folder / RECORD_FILE, record.to_json())
        _spawn(settings, record, folder, handle)
    # closing our copy of the lock file leaves the lock with the job's copy
    return record


def _spawn(settings: ReviewSettings, record: JobRecord, folder: Path, lock: IO[str]) -> None:
    command = ["/bin/sh", "-c", WRAPPER, str(folder / EXIT_FILE), *command_for(settings, record, folder)]
    with open(folder / LOG_FILE, "wb") as log:
        try:
            process = subprocess.Popen(
                command,
                cwd=settings.project_dir,
                env=job_environment(settings),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(lock.fileno(),),
            )
        except OSError as error:  # e.g. the project folder does not exist
            log.write(f"{type(error).__name__}: {error}\n".encode())
            _write_atomically(folder / EXIT_FILE, f"{EXIT_NOT_STARTED}\n")
            return
    # reaps the shell when it ends, so no zombie stays behind in this process
    threading.Thread(target=process.wait, name="model-job-reaper", daemon=True).start()


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


# ------------------------------------------------------------------ what the output says

_COMPONENT = re.compile(r"Starting to train component '(\w+)'")
_EPOCH = re.compile(r"Epochs:\s*\d+%\|[^|\n]*\|\s*(\d+)/(\d+)")
_RASA_TRAINED = re.compile(r"Your Rasa model is trained and saved")
_PARSING = re.compile(r"^parsing \S+ with (\S+?)\.tar\.gz", re.MULTILINE)
_EVALUATED = re.compile(r"^End to end on the held-out split \(share of each group\)", re.MULTILINE)
_GATE = re.compile(r"^End to end on the held-out split \(\d+ FAQ questions\)", re.MULTILINE)
_VERDICT = re.compile(r"^(LIVE|REFUSED) (\S+?): (.*)$", re.MULTILINE)
_REFUSED_TAIL = re.compile(r"\. Live stays .*$")  # what follows the reason on a REFUSED line
_SWAP = re.compile(r"^running server .*$", re.MULTILINE)
_SERVES = re.compile(r"^running server at \S+ now serves (\S+)$")
_FIGURES = re.compile(
    r'^\s+(candidate|live) (\S+): right answer ([\d.]+ %|-), "did you mean" with the right topic '
    r"([\d.]+ %|-), wrong answer ([\d.]+ %|-), menu or other topics ([\d.]+ %|-)\s*$",
    re.MULTILINE,
)
_UP_TO_DATE = re.compile(r"^up to date: live model (\S+) is from this data and config", re.MULTILINE)
_NOT_RETRAINED = re.compile(
    r"^not retraining: (\S+) was trained from this data and config and is (\w+)", re.MULTILINE
)


class Phase(StrEnum):
    STARTING = "starting"
    VALIDATING = "validating"
    TRAINING_RASA = "training_rasa"
    INDEXING = "indexing"
    TESTING_CANDIDATE = "testing_candidate"
    TESTING_LIVE = "testing_live"
    DECIDING = "deciding"
    SWAPPING = "swapping"


@dataclass(frozen=True)
class Progress:
    phase: Phase
    component: str = ""
    epoch: tuple[int, int] | None = None  # (done, total) of the component's epochs


@dataclass(frozen=True)
class Output:
    """What a job's output says, in the trainer's own fixed wording (training/trainer.py)."""

    progress: Progress
    verdict: tuple[str, str, str] | None = None  # ("LIVE" | "REFUSED", model id, reason)
    figures: dict[str, dict[str, float]] = field(default_factory=dict)  # "candidate"/"live" -> metrics
    live_compared: str = ""  # the live model the gate measured beside the candidate
    swap: str = ""  # the trainer's hot-swap line ("running server ...")
    served: str = ""  # the model file the running server serves after the swap, if it does
    up_to_date: str = ""  # nothing trained: the live model is from this data and config
    not_retrained: tuple[str, str] | None = None  # nothing trained: (model id, its status)


def _last(pattern: re.Pattern[str], text: str, start: int = 0) -> re.Match[str] | None:
    matches = list(pattern.finditer(text, start))
    return matches[-1] if matches else None


def _progress(text: str, record: JobRecord) -> Progress:
    """The latest phase the output shows (each marker's last position; the latest wins)."""
    if record.kind is not JobKind.TRAIN:
        return Progress(Phase.SWAPPING)
    if not text.strip():
        return Progress(Phase.STARTING)
    candidates: list[tuple[int, Progress]] = [(0, Progress(Phase.VALIDATING))]
    component = _last(_COMPONENT, text)
    if component:
        epoch = _last(_EPOCH, text, component.end())
        done = (int(epoch.group(1)), int(epoch.group(2))) if epoch else None
        candidates.append((component.end(), Progress(Phase.TRAINING_RASA, component.group(1), done)))
    for pattern, phase in ((_RASA_TRAINED, Phase.INDEXING), (_GATE, Phase.DECIDING)):
        found = _last(pattern, text)
        if found:
            candidates.append((found.end(), Progress(phase)))
    parsing = _last(_PARSING, text)
    if parsing:
        live = record.live_before and parsing.group(1) == record.live_before
        candidates.append((parsing.end(), Progress(Phase.TESTING_LIVE if live else Phase.TESTING_CANDIDATE)))
    evaluated = list(_EVALUATED.finditer(text))
    if evaluated and record.live_before:  # the candidate is evaluated first, then the live model
        candidates.append((evaluated[0].end(), Progress(Phase.TESTING_LIVE)))
    verdict = _last(_VERDICT, text)
    if verdict and verdict.group(1) == "LIVE":
        candidates.append((verdict.end(), Progress(Phase.SWAPPING)))
    return max(candidates, key=lambda item: item[0])[1]


def _share(text: str) -> float | None:
    return None if text == "-" else float(text.removesuffix(" %")) / 100


def read_output(text: str, record: JobRecord) -> Output:
    figures: dict[str, dict[str, float]] = {}
    live_compared = ""
    for found in _FIGURES.finditer(text):
        values = zip(reg.METRIC_NAMES, map(_share, found.groups()[2:]))
        figures[found.group(1)] = {name: value for name, value in values if value is not None}
        if found.group(1) == "live":
            live_compared = found.group(2)
    verdict = _last(_VERDICT, text)
    swap = _last(_SWAP, text)
    serves = _SERVES.match(swap.group(0)) if swap else None
    up_to_date = _last(_UP_TO_DATE, text)
    not_retrained = _last(_NOT_RETRAINED, text)
    return Output(
        progress=_progress(text, record),
        verdict=(verdict.group(1), verdict.group(2), _REFUSED_TAIL.sub("", verdict.group(3)).strip())
        if verdict
        else None,
        figures=figures,
        live_compared=live_compared,
        swap=swap.group(0).strip() if swap else "",
        served=serves.group(1) if serves else "",
        up_to_date=up_to_date.group(1) if up_to_date else "",
        not_retrained=(not_retrained.group(1), not_retrained.group(2)) if not_retrained else None,
    )


# ------------------------------------------------------------------ showing the log

HIDDEN = "[disembunyikan]"
_SECRET_ASSIGNMENT = re.compile(r"(?i)\b([\w-]*(?:token|secret|password|passwd|key))\b(\s*[=:]\s*)\S+")


def redact(text: str, secrets: Iterable[str]) -> str:
    """The log as a page may show it: known secret values and anything written as
    ``<...token|secret|password|key>=value`` hidden."""
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, HIDDEN)
    return _SECRET_ASSIGNMENT.sub(lambda found: f"{found.group(1)}{found.group(2)}{HIDDEN}", text)


def log_tail(text: str, lines: int, secrets: Iterable[str]) -> list[str]:
    """The last non-empty lines (a progress bar leaves many partial ones), secrets hidden."""
    shown = [line.rstrip() for line in text.split("\n") if line.strip()]
    return redact("\n".join(shown[-lines:]), secrets).split("\n") if shown else []
