"""Failures are logged without what the person wrote.

People type their NIK and birth date into the chat, and logs are kept and read by more people
than the tracker store. When handling a message fails, Rasa logs the whole message text at ERROR
(its REST channel's ``rest.message.received.failure``), and exception messages from components can
quote it too. Two defences:

- the channels log their own failures with ``failure_summary``: exception types and the code
  locations of the traceback, never exception messages;
- ``MessageTextFilter``, installed on the log handlers when the server starts (not at import),
  removes the text of the message being handled (``message_in_hand``) from every WARNING or
  higher record, and from its traceback, whichever logger wrote it.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HIDDEN = "[teks pesan disembunyikan]"
# Shorter texts ("ya", "2") carry nothing personal, and hiding them would garble every log line.
MIN_HIDDEN_CHARACTERS = 4
# A shortened long text is recognised by this many of its first characters.
PREFIX_CHARACTERS = 32
# Loggers whose handlers get the filter: the root (where Rasa's and Sanic's records end up) and
# the ones that may have handlers of their own.
FILTERED_LOGGERS = ("", "rasa", "sanic.root", "sanic.error")

_text_in_hand: ContextVar[str | None] = ContextVar("tanyavaksin_text_in_hand", default=None)


@contextmanager
def message_in_hand(text: str) -> Iterator[None]:
    """Marks ``text`` as the message being handled (in this task and what it awaits)."""
    token = _text_in_hand.set(text)
    try:
        yield
    finally:
        _text_in_hand.reset(token)


def _written_forms(text: str) -> list[str]:
    """The ways a log line can spell the text: as is, JSON-escaped (structlog), repr-escaped."""
    forms = {text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1], repr(text)[1:-1]}
    return sorted((form for form in forms if len(form) >= MIN_HIDDEN_CHARACTERS), key=len, reverse=True)


def _common_prefix_length(first: str, second: str) -> int:
    """How many leading characters the two share (a binary search: slice comparisons run in C)."""
    low, high = 0, min(len(first), len(second))
    while low < high:
        middle = (low + high + 1) // 2
        if first[:middle] == second[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _hide_form(line: str, form: str) -> str:
    """Hides ``form`` and, for long texts, any start of it of ``PREFIX_CHARACTERS`` or more.

    Loggers shorten long values (structlog's tracebacks show the first 80 characters and a count),
    so a shortened text must go too: where the text's first characters appear, the line is hidden
    for as long as it goes on like the text.
    """
    if len(form) <= PREFIX_CHARACTERS:
        return line.replace(form, HIDDEN)
    start = form[:PREFIX_CHARACTERS]
    pieces: list[str] = []
    position = 0
    while (found := line.find(start, position)) >= 0:
        matched = _common_prefix_length(line[found : found + len(form)], form)
        pieces += [line[position:found], HIDDEN]
        position = found + matched
    pieces.append(line[position:])
    return "".join(pieces)


def hide_text(line: str, text: str | None) -> str:
    """``line`` with every spelling of ``text`` (or of its first characters) replaced by ``HIDDEN``."""
    if not text or len(text) < MIN_HIDDEN_CHARACTERS:
        return line
    for form in _written_forms(text):
        line = _hide_form(line, form)
    return line


class MessageTextFilter(logging.Filter):
    """Takes the text of the message in hand out of warning and error records; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = _text_in_hand.get()
        if record.levelno < logging.WARNING or not text or len(text) < MIN_HIDDEN_CHARACTERS:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the handler's to report, not the filter's
            return True
        hidden = hide_text(message, text)
        if hidden != message:
            record.msg, record.args = hidden, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = hide_text(record.exc_text, text)
        return True


def install_message_text_filter() -> None:
    """Adds the filter to the handlers that exist now (call it when the server starts); idempotent."""
    for name in FILTERED_LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(existing, MessageTextFilter) for existing in handler.filters):
                handler.addFilter(MessageTextFilter())


def failure_summary(error: BaseException) -> str:
    """Exception types and where they were raised, without their messages (which may quote text)."""
    parts = []
    current: BaseException | None = error
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)
        where = "".join(traceback.format_list(frames[-3:])).rstrip()
        parts.append(f"{type(current).__module__}.{type(current).__qualname__}\n{where}".rstrip())
        current = current.__cause__ or current.__context__
    return "\ncaused by ".join(parts)
