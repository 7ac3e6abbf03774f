"""The semantic FAQ search of this action server process: the live version's, searched off the event loop.

The index and the model load in a background thread as soon as the action server starts
(``python -m actions.server``, or ``python -m rasa_sdk --actions actions``), so the first uncertain
message does not wait for it. The index is the live version's (``core.model_registry``): every
search stats ``models/registry.json`` (one ``stat``, microseconds) and, when the file changed, reads
which index is live and loads it when it is another one, so activation, the gate and rollback
reach this process without a restart or an endpoint to secure (Rasa is swapped over its API). A
new index that fails to load leaves the previous one serving. ``$TANYAVAKSIN_SEMANTIC_INDEX`` pins
one folder instead.
A search runs in a worker thread (``asyncio.to_thread``): encoding a message blocks for ~20-30 ms.
When the index or the model is missing, the search is unavailable and the actions fall back to the
menu; the reason is logged once.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from typing import Any

from actions.semantic.faq_index import (
    Match,
    SemanticFaqSearch,
    fixed_index,
    index_dir,
    load_search,
    models_dir,
)
from core.model_registry import REGISTRY_FILE

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_state: dict[str, Any] = {}  # search, stamp (of the registry file), folder, pinned
ACTION_SERVER_MODULE = "rasa_sdk.__main__"


def registry_stamp() -> tuple[int, int, int] | None:
    """What changes whenever the registry is rewritten (it is replaced atomically)."""
    if fixed_index():
        return None
    try:
        stat = (models_dir() / REGISTRY_FILE).stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def get_search() -> SemanticFaqSearch | None:
    """The live version's search (None when it cannot be loaded); blocks while it loads."""
    with _lock:
        if _state.get("pinned"):
            return _state["search"]
        stamp = registry_stamp()
        if "search" in _state and _state["stamp"] == stamp:
            return _state["search"]
        folder = index_dir()
        if "search" not in _state or _state["folder"] != folder:
            try:
                _state["search"] = load_search(str(folder))
                logger.info(
                    "Semantic FAQ search loaded from %s (messages embedded by %s)",
                    folder,
                    _state["search"].encoder.engine,
                )
            except Exception:  # a missing index or model must not take the answers down
                logger.exception(
                    "Semantic FAQ index %s unavailable: the previous one, or the menu, serves", folder
                )
                _state.setdefault("search", None)
        _state.update(stamp=stamp, folder=folder)
        return _state["search"]


def _search(text: str) -> list[Match] | None:
    search = get_search()
    return search.search(text) if search else None


async def rank(text: str) -> list[Match] | None:
    """Every label ranked by similarity to ``text``, or None when the search is unavailable."""
    if not text.strip():
        return None
    return await asyncio.to_thread(_search, text)


def reset() -> None:
    """Forget the loaded search (tests)."""
    with _lock:
        _state.clear()


def use(search: SemanticFaqSearch | None) -> None:
    """Use this search instead of loading the configured one (tests)."""
    with _lock:
        _state.clear()
        _state.update(search=search, pinned=True)


def preload() -> None:
    """Start loading in the background (the action server calls this as it starts)."""
    threading.Thread(target=get_search, name="semantic-search-preload", daemon=True).start()


def status() -> str:
    """``loaded``, ``unavailable`` (the load failed) or ``not loaded``; never waits for a load.

    The action server's /health reports it: without the search uncertain messages get the menu.
    """
    if "search" not in _state:
        return "not loaded"
    return "loaded" if _state["search"] is not None else "unavailable"


def preload_when_serving() -> None:
    """Start loading in the background when this process is the action server."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name == ACTION_SERVER_MODULE:
        preload()
