"""The semantic FAQ search of this action server process: loaded once, searched off the event loop.

The index and the model load in a background thread as soon as the action server starts
(``python -m actions.server``, or ``python -m rasa_sdk --actions actions``), so the first uncertain
message does not wait for it.
A search runs in a worker thread (``asyncio.to_thread``): encoding a message blocks for ~20-30 ms.
When the index or the model is missing, the search is unavailable and the actions fall back to the
menu; the reason is logged once.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading

from actions.semantic.faq_index import Match, SemanticFaqSearch, load_search

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_state: dict[str, SemanticFaqSearch | None] = {}
ACTION_SERVER_MODULE = "rasa_sdk.__main__"


def get_search() -> SemanticFaqSearch | None:
    """The process-wide search (None when it cannot be loaded); blocks while it loads."""
    with _lock:
        if "search" not in _state:
            try:
                _state["search"] = load_search()
                logger.info("Semantic FAQ search loaded")
            except Exception:  # a missing index or model must not take the answers down
                logger.exception("Semantic FAQ search unavailable: uncertain messages get the menu")
                _state["search"] = None
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
        _state["search"] = search


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
