"""Settings of ``python -m training``, from the environment (pydantic-settings is not in the Rasa env).

The trainer runs in the Rasa env, but a version's semantic index is built and evaluated by the
actions env's code (torch, sentence-transformers): ``TANYAVAKSIN_ACTIONS_PYTHON`` (or
``--actions-python``; the Makefile passes ``$(ACTIONS_ENV)/python``) names that interpreter, which
runs them as subprocesses with files and JSON as the boundary. ``RASA_URL`` and ``RASA_API_TOKEN``
(the running server to hot-swap) are read by ``training.hotswap``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from core.user_cache import user_cache_folder
from training.hashing import code_hash

ROOT = Path(__file__).resolve().parents[1]
ACTIONS_PYTHON_ENV = "TANYAVAKSIN_ACTIONS_PYTHON"
# Rasa's own variable (rasa/engine/caching.py); its default is ``.rasa/cache`` in the working folder.
RASA_CACHE_ENV = "RASA_CACHE_DIRECTORY"
CACHES_KEPT = 3


class SettingsError(RuntimeError):
    """A setting the command needs is missing."""


def actions_python(given: str | None = None) -> str:
    """The actions env's interpreter: the argument, else ``$TANYAVAKSIN_ACTIONS_PYTHON``."""
    python = given or os.environ.get(ACTIONS_PYTHON_ENV, "")
    if not python:
        raise SettingsError(
            f"the actions env's Python is not set: pass --actions-python or set {ACTIONS_PYTHON_ENV}"
        )
    return python


def rasa_cache_directory(environment: Mapping[str, str], root: Path = ROOT) -> Path:
    """Rasa's training cache: ``$RASA_CACHE_DIRECTORY`` if set, else one per version of our code in
    the user's cache folder (``$XDG_CACHE_HOME``, else ``~/.cache``), shared by every checkout.

    Why: a new clone (CI, a second worktree) re-featurized every example and retrained every
    component although the data, the config and the code were those trained a minute before in
    another folder (minutes on 2 cores). Rasa fingerprints a component's name, config and inputs,
    not its code, so the folder is keyed by ``code_hash``: a change to our components or the pinned
    packages starts an empty cache instead of reusing outputs of the old code. The least recently
    used of the others are removed beyond ``CACHES_KEPT``.
    """
    if environment.get(RASA_CACHE_ENV):
        return Path(environment[RASA_CACHE_ENV])
    base = user_cache_folder(environment) / "rasa"
    directory = base / code_hash(root)[:16]
    directory.mkdir(parents=True, exist_ok=True)
    directory.touch()  # its modification time: when it was last used
    others = sorted((path for path in base.iterdir() if path.is_dir() and path != directory),
                    key=lambda path: path.stat().st_mtime, reverse=True)  # fmt: skip
    for stale in others[CACHES_KEPT - 1 :]:
        shutil.rmtree(stale, ignore_errors=True)
    return directory


def project_environment() -> dict[str, str]:
    """Subprocesses (Rasa, the actions env) must import the project's packages; Rasa trains with
    the shared cache (``rasa_cache_directory``)."""
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths)),
        "HF_HUB_OFFLINE": "1",
        RASA_CACHE_ENV: str(rasa_cache_directory(os.environ)),
    }


def run_actions(python: str, module: str, arguments: Sequence[str]) -> int:
    """``python -m module arguments`` in the actions env, from the project folder; its exit code."""
    command = [python, "-m", module, *arguments]
    return subprocess.run(command, cwd=ROOT, env=project_environment(), check=False).returncode
