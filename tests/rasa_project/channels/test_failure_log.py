"""Failures are logged without what the person wrote, whichever logger writes them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from rasa_project.channels.failure_log import (
    HIDDEN,
    MessageTextFilter,
    failure_summary,
    install_message_text_filter,
    message_in_hand,
)

TEXT = "NIK saya 3174051708859001, lahir 17 Agustus 1985 — tolong cek"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    root = logging.getLogger()
    root.addHandler(handler)
    install_message_text_filter()
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def test_rasas_structlog_failure_event_loses_the_text(lines: Lines) -> None:
    """Rasa's REST channel logs ``rest.message.received.failure`` as JSON with the text in it."""
    rendered = json.dumps({"text": TEXT, "event": "rest.message.received.failure", "level": "error"})
    with message_in_hand(TEXT):
        logging.getLogger("rasa.core.channels.rest").error(rendered)
    [line] = lines.lines
    assert "rest.message.received.failure" in line and HIDDEN in line
    assert "3174051708859001" not in line


def test_tracebacks_lose_the_text_too(lines: Lines) -> None:
    with message_in_hand(TEXT):
        try:
            raise ValueError(f"cannot tokenize {TEXT!r}")
        except ValueError:
            logging.getLogger("rasa.engine.graph").exception("Error running graph component")
    logged = "\n".join(lines.lines)
    assert "ValueError" in logged and HIDDEN in logged and TEXT not in logged


def test_outside_a_message_and_below_warning_nothing_is_changed(
    lines: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    logger = logging.getLogger("rasa.test_failure_log")
    monkeypatch.setattr(logger, "level", logging.DEBUG)
    logger.warning("about %s", TEXT)
    with message_in_hand(TEXT):
        logger.info("debugging %s", TEXT)
    assert lines.lines == [f"WARNING {logger.name} about {TEXT}", f"INFO {logger.name} debugging {TEXT}"]


def test_short_texts_are_not_hidden_everywhere(lines: Lines) -> None:
    with message_in_hand("ya"):
        logging.getLogger("rasa").error("a day in the life")
    assert lines.lines == ["ERROR rasa a day in the life"]


def test_the_filter_is_installed_once_and_not_at_import() -> None:
    handler = logging.StreamHandler()
    logging.getLogger().addHandler(handler)
    try:
        assert not any(isinstance(f, MessageTextFilter) for f in handler.filters)
        install_message_text_filter()
        install_message_text_filter()
        assert sum(isinstance(f, MessageTextFilter) for f in handler.filters) == 1
    finally:
        logging.getLogger().removeHandler(handler)


def test_a_failure_summary_names_types_and_places_but_not_messages() -> None:
    try:
        try:
            raise KeyError(TEXT)
        except KeyError as inner:
            raise RuntimeError(f"wrapped {TEXT}") from inner
    except RuntimeError as error:
        summary = failure_summary(error)
    assert "builtins.RuntimeError" in summary and "caused by builtins.KeyError" in summary
    assert "test_failure_log.py" in summary
    assert "3174051708859001" not in summary


def test_a_long_text_shortened_by_the_logger_is_hidden_too(lines: Lines) -> None:
    """structlog's tracebacks show a long value as its first 80 characters and a count."""
    text = "NIK 3174051708859001 " * 200
    with message_in_hand(text):
        logging.getLogger("rasa.core.channels.rest").error("locals: text=%r+%d", text[:80], len(text) - 80)
    [line] = lines.lines
    assert HIDDEN in line and "3174051708859001" not in line
