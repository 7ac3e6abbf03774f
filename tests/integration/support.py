"""What the integration tests compare replies with: the domain's own texts."""

from __future__ import annotations

from typing import Any

import yaml

from tools.assistant_process import ROOT


def first_variation(name: str) -> dict[str, Any]:
    """The first variation of a domain response, as the assistant should send it."""
    for file in (ROOT / "rasa_project" / "domain").glob("*.yml"):
        responses = (yaml.safe_load(file.read_text(encoding="utf-8")) or {}).get("responses", {})
        if name in responses:
            return dict(responses[name][0])
    raise KeyError(name)


def response_text(name: str) -> str:
    return str(first_variation(name)["text"])


def response_buttons(name: str) -> list[dict[str, str]]:
    return [dict(button) for button in first_variation(name).get("buttons") or []]


def reply(messages: list[dict[str, Any]]) -> str:
    """What the user reads: Rasa's REST channel sends each paragraph as its own message."""
    return "\n\n".join(message.get("text", "") for message in messages)
