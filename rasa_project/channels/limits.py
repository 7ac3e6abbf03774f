"""WhatsApp Cloud API size limits, and the check our content must pass.

WhatsApp rejects a whole interactive message when one title is a character too
long, so the user gets nothing. We never truncate at run time: a title that
does not fit is a bug in our content, found by the domain test that runs
``choice_problems`` over every response.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_REPLY_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_LIST_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_ROW_ID = 200
MAX_LIST_BUTTON_LABEL = 20

DEFAULT_LIST_BUTTON_LABEL = "Lihat pilihan"
LIST_BUTTON_METADATA_KEY = "whatsapp_list_button"


def choice_title(choice: Mapping[str, Any]) -> str:
    return str(choice.get("title") or "")


def choice_payload(choice: Mapping[str, Any]) -> str:
    """What the assistant receives when the user picks the choice (the title if no payload)."""
    return str(choice.get("payload") or choice.get("title") or "")


def choice_description(choice: Mapping[str, Any]) -> str:
    return str(choice.get("description") or "")


def _too_long(what: str, value: str, limit: int) -> list[str]:
    if len(value) > limit:
        return [f"{what} {value!r} has {len(value)} characters, WhatsApp allows {limit}"]
    return []


def _reply_button_problems(choices: Sequence[Mapping[str, Any]]) -> list[str]:
    problems: list[str] = []
    for choice in choices:
        problems += _too_long("button title", choice_title(choice), MAX_BUTTON_TITLE)
        problems += _too_long("button payload", choice_payload(choice), MAX_BUTTON_ID)
    return problems


def _list_problems(choices: Sequence[Mapping[str, Any]], list_button_label: str) -> list[str]:
    problems = _too_long("list button label", list_button_label, MAX_LIST_BUTTON_LABEL)
    if not list_button_label.strip():
        problems.append("list button label is empty")
    for choice in choices:
        problems += _too_long("list row title", choice_title(choice), MAX_ROW_TITLE)
        problems += _too_long("list row description", choice_description(choice), MAX_ROW_DESCRIPTION)
        problems += _too_long("list row payload", choice_payload(choice), MAX_ROW_ID)
    return problems


def _duplicates(what: str, values: Sequence[str]) -> list[str]:
    repeated = sorted({value for value in values if values.count(value) > 1})
    return [f"{what} {value!r} appears more than once" for value in repeated]


def choice_problems(
    choices: Sequence[Mapping[str, Any]], list_button_label: str = DEFAULT_LIST_BUTTON_LABEL
) -> list[str]:
    """Why these choices cannot be shown the way WhatsApp will be asked to show them; empty if fine.

    Up to 3 choices become reply buttons, 4 to 10 a list, more a numbered text
    (which has no per-choice limits).
    """
    if len(choices) > MAX_LIST_ROWS:
        return []
    problems = [f"choice {index + 1} has no title" for index, c in enumerate(choices) if not choice_title(c)]
    problems += [
        f"choice {index + 1} has no payload" for index, c in enumerate(choices) if not choice_payload(c)
    ]
    problems += _duplicates("choice title", [choice_title(choice) for choice in choices])
    problems += _duplicates("choice payload", [choice_payload(choice) for choice in choices])
    if len(choices) <= MAX_REPLY_BUTTONS:
        return problems + _reply_button_problems(choices)
    return problems + _list_problems(choices, list_button_label)


def list_button_label(response_metadata: object) -> str:
    """The label of the list's open button: ``metadata.whatsapp_list_button`` of the response, or ours."""
    if isinstance(response_metadata, Mapping):
        label = response_metadata.get(LIST_BUTTON_METADATA_KEY)
        if isinstance(label, str) and label.strip():
            return label
    return DEFAULT_LIST_BUTTON_LABEL
