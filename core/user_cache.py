"""The project's folder in the user's cache: ``$XDG_CACHE_HOME/tanyavaksin``, else
``~/.cache/tanyavaksin``.

What one checkout computed and another of the same code and data can reuse lives there, shared by
every checkout of the user (CI's clone, a second worktree): Rasa's training cache (the Rasa env's
trainer) and the vectors of embedded training texts (the actions env's index builds). Both
environments import it, so the place is written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

APP_FOLDER = "tanyavaksin"


def user_cache_folder(environment: Mapping[str, str]) -> Path:
    """The folder (not created here); an empty ``XDG_CACHE_HOME`` counts as unset, as the spec says."""
    return Path(environment.get("XDG_CACHE_HOME") or Path.home() / ".cache") / APP_FOLDER
