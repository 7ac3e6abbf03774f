"""Turning the assistant's responses into Graph API message objects (without the recipient).

Pure functions, so the shapes WhatsApp receives are unit-tested without a network.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from rasa_project.channels.limits import (
    MAX_INTERACTIVE_BODY,
    MAX_LIST_ROWS,
    MAX_REPLY_BUTTONS,
    MAX_TEXT,
    choice_description,
    choice_payload,
    choice_problems,
    choice_title,
)

logger = logging.getLogger(__name__)

GraphMessage = dict[str, Any]

# Coarsest first: paragraphs, then lines, then words; a cut mid-word only for one 4096-char "word".
_SEPARATORS = ("\n\n", "\n", " ")
EMPTY_BODY = "Silakan pilih:"
NUMBERED_FOOTER = "Tulis pilihan Anda."


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Parts of at most ``limit`` characters, cut at paragraph boundaries where possible."""
    text = text.strip()
    if not text:
        return []
    return [part.strip() for part in _split(text, limit, 0) if part.strip()]


def _split(text: str, limit: int, level: int) -> list[str]:
    if len(text) <= limit:
        return [text]
    if level == len(_SEPARATORS):
        return [text[start : start + limit] for start in range(0, len(text), limit)]
    separator = _SEPARATORS[level]
    parts: list[str] = []
    current = ""
    for piece in text.split(separator):
        for part in _split(piece, limit, level + 1):
            candidate = f"{current}{separator}{part}" if current else part
            if len(candidate) <= limit:
                current = candidate
            else:
                parts.append(current)
                current = part
    parts.append(current)
    return parts


def text_message(body: str) -> GraphMessage:
    return {"type": "text", "text": {"preview_url": False, "body": body}}


def text_messages(text: str) -> list[GraphMessage]:
    return [text_message(part) for part in split_text(text)]


def reply_buttons_message(body: str, choices: Sequence[Mapping[str, Any]]) -> GraphMessage:
    buttons = [
        {"type": "reply", "reply": {"id": choice_payload(choice), "title": choice_title(choice)}}
        for choice in choices
    ]
    return {
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}},
    }


def _row(choice: Mapping[str, Any]) -> dict[str, str]:
    row = {"id": choice_payload(choice), "title": choice_title(choice)}
    if choice_description(choice):
        row["description"] = choice_description(choice)
    return row


def list_message(body: str, choices: Sequence[Mapping[str, Any]], button_label: str) -> GraphMessage:
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {"button": button_label, "sections": [{"rows": [_row(c) for c in choices]}]},
        },
    }


def numbered_text(text: str, choices: Sequence[Mapping[str, Any]]) -> str:
    """The choices as a numbered list under the text: for more options than a list holds."""
    lines = []
    for number, choice in enumerate(choices, start=1):
        description = choice_description(choice)
        lines.append(f"{number}. {choice_title(choice)}" + (f" — {description}" if description else ""))
    return "\n\n".join(part for part in (text.strip(), "\n".join(lines), NUMBERED_FOOTER) if part)


def _leading_texts_and_body(text: str) -> tuple[list[GraphMessage], str]:
    """Interactive bodies hold 1024 characters: earlier paragraphs go out first as plain text."""
    parts = split_text(text, MAX_INTERACTIVE_BODY)
    if not parts:
        return [], EMPTY_BODY
    return text_messages("\n\n".join(parts[:-1])), parts[-1]


def choice_messages(text: str, choices: Sequence[Mapping[str, Any]], button_label: str) -> list[GraphMessage]:
    """≤ 3 choices: reply buttons; 4–10: a list; more, or content that breaks a limit: numbered text."""
    if not choices:
        return text_messages(text)
    problems = choice_problems(choices, button_label)
    if problems:
        logger.error("WhatsApp choices break the limits, sent as numbered text instead: %s", problems)
    if problems or len(choices) > MAX_LIST_ROWS:
        return text_messages(numbered_text(text, choices))
    leading, body = _leading_texts_and_body(text)
    if len(choices) <= MAX_REPLY_BUTTONS:
        return [*leading, reply_buttons_message(body, choices)]
    return [*leading, list_message(body, choices, button_label)]


def image_message(url: str, caption: str = "") -> GraphMessage:
    image: dict[str, str] = {"link": url}
    if caption:
        image["caption"] = caption
    return {"type": "image", "image": image}


def describe(message: Mapping[str, Any]) -> str:
    """A short, number-free summary of an outgoing message, for the log of what was lost."""
    kind = str(message.get("type", "?"))
    if kind == "text":
        return f"text: {str(message.get('text', {}).get('body', ''))[:80]!r}"
    if kind == "interactive":
        interactive = message.get("interactive", {})
        body = str(interactive.get("body", {}).get("text", ""))
        return f"interactive {interactive.get('type')}: {body[:80]!r}"
    return kind
