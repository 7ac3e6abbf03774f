"""The model registry, ``models/registry.json``: one entry per trained version, read by both envs.

Standard library only: the trainer (Rasa env) writes it, the action server (actions env) reads the
live entry to find the semantic index that belongs to the live Rasa model. The JSON keeps this
schema::

    {"live": "<id or null>", "history": ["<ids previously live, newest last>"],
     "models": [{"id", "file", "index", "trained_at", "data_hash", "config_hash",
                 "metrics": {"faq_right", "faq_clarified", "faq_wrong", "faq_menu"},
                 "status", "reason"}]}

A version is the Rasa model ``file`` (``archive/<id>.tar.gz``) *and* the semantic ``index`` folder
(``archive/<id>.semantic``) built from the same data, whose fingerprint is ``data_hash``
(``data_hash`` below, the one function for it). Both go live, and are rolled back, together: the
registry names them in one entry, and ``live.tar.gz`` links the Rasa model for ``rasa run``.
``metrics`` are end-to-end fractions of the held-out FAQ questions (Rasa + second stage). Entries
written before the index existed have no ``index`` (``""``). A model's status says why it is (not)
serving, and ``reason`` says it in words:

- ``live``: ``models/live.tar.gz`` points at it (``registry["live"]``).
- ``kept``: it was live until a newer model replaced it; it is on the history stack, so
  ``rollback`` can restore it.
- ``refused``: the gate found it worse than the live model; kept on disk, never activated
  unless an admin runs ``activate`` on it.
- ``retired``: it was live and a ``rollback`` took it out of service; off the history stack.

Writes replace the file atomically (temporary file + ``os.replace``), so a reader never sees half
a registry; read-modify-write cycles go through ``update``, which holds an exclusive lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

REGISTRY_FILE = "registry.json"
LOCK_FILE = ".registry.lock"
LIVE_LINK = "live.tar.gz"
ARCHIVE_DIR = "archive"
LEGACY_DIR = "archive/legacy"

LIVE = "live"
KEPT = "kept"
REFUSED = "refused"
RETIRED = "retired"
STATUSES = (LIVE, KEPT, REFUSED, RETIRED)
METRIC_NAMES = ("faq_right", "faq_clarified", "faq_wrong", "faq_menu")
MODEL_KEYS = ("id", "file", "trained_at", "data_hash", "config_hash", "metrics", "status", "reason")
INDEX_SUFFIX = ".semantic"
# the suffixes Rasa reads training data and domains from
DATA_SUFFIXES = (".yml", ".yaml", ".md", ".json")


class RegistryError(Exception):
    """The registry file is unreadable, or an operation makes no sense for its content."""


@dataclass
class ModelEntry:
    id: str
    file: str
    trained_at: str
    data_hash: str
    config_hash: str
    metrics: dict[str, float]
    status: str
    reason: str
    index: str = ""  # the semantic index folder, relative to the models folder

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ModelEntry:
        missing = [key for key in MODEL_KEYS if key not in raw]
        if missing:
            raise RegistryError(f"model entry {raw.get('id', '?')!r} lacks {', '.join(missing)}")
        if raw["status"] not in STATUSES:
            raise RegistryError(f"model {raw['id']!r} has unknown status {raw['status']!r}")
        metrics = {str(name): float(value) for name, value in dict(raw["metrics"]).items()}
        values = {key: str(raw[key]) for key in MODEL_KEYS if key != "metrics"}
        return cls(metrics=metrics, index=str(raw.get("index") or ""), **values)

    def path(self, models_dir: Path) -> Path:
        return models_dir / self.file

    def index_path(self, models_dir: Path) -> Path | None:
        return models_dir / self.index if self.index else None

    def missing(self, models_dir: Path) -> str | None:
        """The first of the version's files that is not on disk, or None."""
        index = self.index_path(models_dir)
        if not self.path(models_dir).is_file():
            return self.file
        return self.index if index is not None and not index.is_dir() else None


@dataclass
class Registry:
    live: str | None = None
    history: list[str] = field(default_factory=list)
    models: list[ModelEntry] = field(default_factory=list)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Registry:
        try:
            registry = cls(
                live=raw["live"],
                history=[str(model_id) for model_id in raw["history"]],
                models=[ModelEntry.from_dict(model) for model in raw["models"]],
            )
        except (KeyError, TypeError, ValueError) as error:
            raise RegistryError(f"malformed registry: {error!r}") from error
        known = {model.id for model in registry.models}
        unknown = {registry.live, *registry.history} - known - {None}
        if unknown:
            raise RegistryError(f"registry names models it does not list: {sorted(map(str, unknown))}")
        return registry

    def to_dict(self) -> dict[str, Any]:
        return {"live": self.live, "history": list(self.history), "models": [asdict(m) for m in self.models]}

    def entry(self, model_id: str) -> ModelEntry:
        for model in self.models:
            if model.id == model_id:
                return model
        raise RegistryError(f"no model {model_id!r} in the registry")

    def live_entry(self) -> ModelEntry | None:
        return self.entry(self.live) if self.live else None

    def add(self, model: ModelEntry) -> None:
        if any(existing.id == model.id for existing in self.models):
            raise RegistryError(f"model {model.id!r} is already registered")
        self.models.append(model)

    def same_inputs(self, data_hash: str, config_hash: str) -> list[ModelEntry]:
        """Models trained from exactly this data and config, newest first."""
        matches = [m for m in self.models if (m.data_hash, m.config_hash) == (data_hash, config_hash)]
        return sorted(matches, key=lambda model: model.trained_at, reverse=True)

    def activate(self, model_id: str, reason: str) -> str | None:
        """Makes ``model_id`` live; the model it replaces goes onto the history stack (``kept``).

        Returns the id of the replaced model. The activated model leaves the history stack, so a
        rollback never "restores" the model that is already live.
        """
        model = self.entry(model_id)
        previous = self.live
        if previous == model_id:
            raise RegistryError(f"{model_id} is already live")
        if previous is not None:
            replaced = self.entry(previous)
            replaced.status = KEPT
            replaced.reason = f"replaced by {model_id}"
            self.history.append(previous)
        self.history = [old for old in self.history if old != model_id]
        model.status = LIVE
        model.reason = reason
        self.live = model_id
        return previous

    def previous(self) -> ModelEntry | None:
        """The model a rollback would restore."""
        return self.entry(self.history[-1]) if self.history else None

    def rollback(self) -> tuple[str | None, str]:
        """Makes the previously live model live again; the current one becomes ``retired``.

        Returns (retired id or None, restored id).
        """
        if not self.history:
            raise RegistryError("no previously live model to roll back to")
        restored_id = self.history.pop()
        current = self.live
        if current is not None:
            retired = self.entry(current)
            retired.status = RETIRED
            retired.reason = f"rolled back to {restored_id}"
        restored = self.entry(restored_id)
        restored.status = LIVE
        restored.reason = f"restored by rollback of {current}" if current else "restored by rollback"
        self.live = restored_id
        return current, restored_id


def load(models_dir: Path) -> Registry:
    """The registry of ``models_dir``; an empty one when the file does not exist yet."""
    path = models_dir / REGISTRY_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Registry()
    except (OSError, ValueError) as error:
        raise RegistryError(f"cannot read {path}: {error}") from error
    if not isinstance(raw, dict):
        raise RegistryError(f"{path} does not hold a JSON object")
    return Registry.from_dict(raw)


def save(models_dir: Path, registry: Registry) -> None:
    """Writes the registry atomically: readers see the old file or the new one, never a mix."""
    models_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(registry.to_dict(), indent=2, ensure_ascii=False) + "\n"
    handle, temporary = tempfile.mkstemp(dir=models_dir, prefix=".registry.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from the web app's user
        os.replace(temporary, models_dir / REGISTRY_FILE)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def update(models_dir: Path) -> Iterator[Registry]:
    """Load, change and save under an exclusive lock, so two trainers never lose each other's
    entries; nothing is saved when the block raises."""
    models_dir.mkdir(parents=True, exist_ok=True)
    with open(models_dir / LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            registry = load(models_dir)
            yield registry
            save(models_dir, registry)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def archive_file(model_id: str) -> str:
    """Where a model lives, relative to the models folder."""
    return str(PurePosixPath(ARCHIVE_DIR) / f"{model_id}.tar.gz")


def index_folder(model_id: str) -> str:
    """Where a model's semantic index lives, relative to the models folder."""
    return str(PurePosixPath(ARCHIVE_DIR) / f"{model_id}{INDEX_SUFFIX}")


def live_index(models_dir: Path) -> Path | None:
    """The live version's semantic index folder (None: no live model, or one without an index)."""
    live = load(models_dir).live_entry()
    return live.index_path(models_dir) if live is not None else None


def live_path(models_dir: Path) -> Path:
    return models_dir / LIVE_LINK


def live_target(models_dir: Path) -> Path | None:
    """The archive file ``live.tar.gz`` points at, or None without a (working) link."""
    link = live_path(models_dir)
    if not link.is_symlink():
        return None
    target = link.resolve()
    return target if target.is_file() else None


def move_stray_models(models_dir: Path) -> list[Path]:
    """Moves model files trained before the registry out of the folder's top level.

    Rasa picks the *newest* ``*.tar.gz`` directly in the folder; a plain file there could be newer
    than the live model's archive file and would silently win over it.
    """
    moved = []
    for path in sorted(models_dir.glob("*.tar.gz")):
        if path.name == LIVE_LINK and path.is_symlink():
            continue
        target = models_dir / LEGACY_DIR / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        moved.append(target)
    return moved


def point_live(models_dir: Path, model: ModelEntry) -> Path:
    """Points ``live.tar.gz`` at the model's archive file with a relative symlink, atomically
    (link under a temporary name, then ``os.replace``): Rasa never finds the folder without one."""
    target = model.path(models_dir)
    if not target.is_file():
        raise RegistryError(f"model file {target} of {model.id} is missing")
    link = live_path(models_dir)
    temporary = models_dir / f".{LIVE_LINK}.{os.getpid()}.tmp"
    temporary.unlink(missing_ok=True)
    os.symlink(os.path.relpath(target, models_dir), temporary)
    os.replace(temporary, link)
    return link


# ------------------------------------------------------------------ the data fingerprint


def files_of(paths: Iterable[Path]) -> list[tuple[str, Path]]:
    """(name for the hash, file) for every data file under the given files or folders; names are
    relative to the folder given, so a copy of ``data/`` elsewhere hashes the same."""
    found: list[tuple[str, Path]] = []
    for root in paths:
        if root.is_file():
            found.append((root.name, root))
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in DATA_SUFFIXES and not path.name.startswith("."):
                found.append(((Path(root.name) / path.relative_to(root)).as_posix(), path))
    return found


def digest(named_files: Iterable[tuple[str, Path]], extra: Iterable[str] = ()) -> str:
    hasher = hashlib.sha256()
    for name, path in sorted(named_files, key=lambda item: item[0]):
        content = path.read_bytes()
        hasher.update(f"{name}\0{len(content)}\0".encode())
        hasher.update(content)
    for text in extra:
        hasher.update(f"extra\0{text}\0".encode())
    return hasher.hexdigest()


def data_hash(data: Iterable[Path], domain: Path | None = None) -> str:
    """Training files and domain, the fingerprint of a version's Rasa model *and* its index; a file
    that moves between the data folders counts as a change."""
    data_files = [(f"data/{name}", path) for name, path in files_of(data)]
    domain_files = [(f"domain/{name}", path) for name, path in files_of([domain] if domain else [])]
    if not data_files:
        raise FileNotFoundError(f"no training data files in {', '.join(map(str, data))}")
    return digest(data_files + domain_files)
