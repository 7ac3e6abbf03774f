"""Shared by the outreach action tests: the real domain, trackers, and what the person reads.

The domain is read from rasa_project/domain (every file merged, as Rasa merges them), so a renamed
response or a missing button fails here. ``shown`` fills a response the way Rasa's templated NLG
does for these responses: the action's keyword arguments, then the slots' initial values (the
contact block); tests/rasa_project/test_outreach_rendering.py checks with Rasa's own generator that
every outreach response renders without a ``{placeholder}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from tests.actions.servers import registry_app

DOMAIN_DIR = Path(__file__).resolve().parents[2] / "rasa_project" / "domain"
# What rasa-sdk puts in every message; any other key is a variable the action passed for the response.
_MESSAGE_KEYS = frozenset(
    {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}
)
_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def load_domain() -> dict[str, Any]:
    """The domain as Rasa sends it to the action server (responses, forms, slots), all files merged."""
    merged: dict[str, Any] = {"responses": {}, "forms": {}, "slots": {}}
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key in merged:
            merged[key].update(content.get(key) or {})
    return merged


@dataclass(frozen=True)
class Shown:
    """One bot message as the person reads it: the text and the titles of its buttons."""

    text: str
    buttons: tuple[str, ...]
    payloads: tuple[str, ...]


def shown(dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> list[Shown]:
    """Every message the action sent, filled as Rasa fills it; a variable left unfilled fails the test."""
    initial = {
        name: slot.get("initial_value")
        for name, slot in domain["slots"].items()
        if slot.get("initial_value") is not None
    }
    messages: list[Shown] = []
    for message in dispatcher.messages:
        name = message.get("response")
        if name:
            variation = domain["responses"][name][0]
            passed = {key: str(value) for key, value in message.items() if key not in _MESSAGE_KEYS}
            values = {**initial, **passed}
            text = _fill(str(variation.get("text") or ""), values, name)
            buttons = [*(variation.get("buttons") or []), *(message.get("buttons") or [])]
        else:
            text, buttons = str(message.get("text") or ""), list(message.get("buttons") or [])
        messages.append(
            Shown(
                text,
                tuple(str(button["title"]) for button in buttons),
                tuple(str(button["payload"]) for button in buttons),
            )
        )
    return messages


def _fill(text: str, values: dict[str, Any], name: str) -> str:
    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        assert key in values, f"{name}: {{{key}}} would reach the person unfilled"
        return str(values[key])

    return _VARIABLE.sub(replace, text)


def make_tracker(
    sender: str,
    text: str = "",
    *,
    intent: str = "nlu_fallback",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    requested_slot: str | None = None,
    active_loop: str | None = None,
    channel: str = "rest",
    before: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A conversation whose latest event is the person's message ``text`` (or a button payload)."""
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "intent_ranking": [{"name": intent, "confidence": 1.0}],
        "entities": entities or [],
    }
    user = {"event": "user", "text": text, "parse_data": parse, "input_channel": channel}
    events = [*(before or []), {"event": "action", "name": "action_listen"}, user]
    state = {
        "sender_id": sender,
        "slots": {**(slots or {}), "requested_slot": requested_slot},
        "latest_message": parse,
        "events": events,
        "active_loop": {"name": active_loop} if active_loop else {},
        "latest_action_name": "action_listen",
    }
    return Tracker.from_dict(state)


@contextmanager
def real_registry(database: Path, **overrides: Any) -> Iterator[str]:
    """The real registry app with the demo people (tests/actions/servers.py), for today."""
    from actions.schedule import today_in_indonesia

    with registry_app(database, today_in_indonesia(), **overrides) as url:
        yield url
