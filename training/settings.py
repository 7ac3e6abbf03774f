"""Settings of ``python -m training``, from the environment (pydantic-settings is not in the Rasa env).

The trainer runs in the Rasa env, but a version's semantic index is built and evaluated by the
actions env's code (torch, sentence-transformers): ``TANYAVAKSIN_ACTIONS_PYTHON`` (or
``--actions-python``; the Makefile passes ``$(ACTIONS_ENV)/python``) names that interpreter, which
runs them as subprocesses with files and JSON as the boundary. ``RASA_URL`` and ``RASA_API_TOKEN``
(the running server to hot-swap) are read by ``training.hotswap``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ACTIONS_PYTHON_ENV = "TANYAVAKSIN_ACTIONS_PYTHON"


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


def project_environment() -> dict[str, str]:
    """Subprocesses (Rasa, the actions env) must import the project's packages."""
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths)), "HF_HUB_OFFLINE": "1"}


def run_actions(python: str, module: str, arguments: Sequence[str]) -> int:
    """``python -m module arguments`` in the actions env, from the project folder; its exit code."""
    command = [python, "-m", module, *arguments]
    return subprocess.run(command, cwd=ROOT, env=project_environment(), check=False).returncode
