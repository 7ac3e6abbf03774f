"""The NLU parse of a text repeated word for word is reused, not computed again.

Recipients repeat themselves: "menu", "1", "2", "halo", "makasih", and common questions typed the
same way. Rasa runs the whole NLU graph for each (tokenizer, count vectors, the e5 embedding, DIET,
the ResponseSelector, the answer ensemble, the gates): about half of the Rasa process's CPU per
message under ``make load`` (py-spy, 7 Dec 2026). The graph's output depends on the text alone:
no component of ``config.yml`` (Rasa's and ours in ``rasa_project/components``) reads the message's
metadata or the conversation; a unit test parses the same text from two senders with different
metadata on a small model and compares with the graph's own parse.

So each Rasa process keeps the parses of its last ``SIZE`` distinct texts as JSON (about 5 KB each
with the live model's rankings: 20 MB at most), per loaded model (a hot swap brings a new processor
and an empty cache), and hands out a fresh copy: the message's own ``message_id`` and
``metadata`` are put back where a parse has them, and Rasa's later steps (the full retrieval intent, the
unseen-feature check) run on it as before. A text in which ``core.personal_data`` finds something to
hide (an NIK, a date, a phone number) is never kept: it is parsed every time and forgotten.

``install()`` runs with the live NLG (``rasa_project/nlg.py``), like the other Rasa-side changes.
"""

from __future__ import annotations

import json
import logging
from functools import wraps
from typing import Any, TypeGuard

from rasa.core.processor import MessageProcessor

from core.bounded_cache import BoundedCache
from core.personal_data import redact_message

logger = logging.getLogger(__name__)

SIZE = 4096
# Keys of the parse that come from the message, not from the text.
MESSAGE_KEYS = ("message_id", "metadata")
_INSTALLED = "_tanyavaksin_parse_cache"
_CACHE_ATTRIBUTE = "_tanyavaksin_parses"


def cacheable(text: object) -> TypeGuard[str]:
    """A non-empty text without personal data; payloads ("/intent") are cheap and left alone."""
    return isinstance(text, str) and bool(text) and not text.startswith("/") and redact_message(text) == text


def parses_of(processor: MessageProcessor) -> BoundedCache[str, str]:
    """The processor's own cache (a new model, a new processor: a new cache)."""
    cache: BoundedCache[str, str] | None = getattr(processor, _CACHE_ATTRIBUTE, None)
    if cache is None:
        cache = BoundedCache(SIZE)
        setattr(processor, _CACHE_ATTRIBUTE, cache)
    return cache


def _for_message(serialised: str, message: Any) -> dict[str, Any]:
    parse: dict[str, Any] = json.loads(serialised)
    for key in MESSAGE_KEYS:
        if key in parse:
            parse[key] = getattr(message, key, None)
    return parse


def install() -> None:
    if getattr(MessageProcessor, _INSTALLED, False):
        return
    parse_with_graph = MessageProcessor._parse_message_with_graph

    @wraps(parse_with_graph)
    def parse_with_cache(
        self: MessageProcessor, message: Any, tracker: Any, only_output_properties: bool = True
    ) -> dict[str, Any]:
        text = getattr(message, "text", None)
        if not only_output_properties or not cacheable(text):
            return parse_with_graph(self, message, tracker, only_output_properties)
        cache = parses_of(self)
        kept = cache.get(text)
        if kept is not None:
            return _for_message(kept, message)
        parse = parse_with_graph(self, message, tracker, only_output_properties)
        try:
            serialised = json.dumps(parse)
        except (TypeError, ValueError):  # something not JSON in the parse: not kept
            logger.debug("A parse that is not plain JSON was not cached")
            return parse
        cache.put(text, serialised)
        return parse  # the message's own; the kept string is independent of it

    MessageProcessor._parse_message_with_graph = parse_with_cache
    setattr(MessageProcessor, _INSTALLED, True)
