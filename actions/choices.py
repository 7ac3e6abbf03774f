"""Options the assistant offers, as button payloads, and what a typed number picks.

Every option is an intent payload (``/faq_choice{"topic":"biaya"}``, ``/show_menu``, ...): a tap
on a button sends it over REST and WhatsApp alike, and a typed number ("2") picks the payload
offered under that number in the previous bot turn (slot ``offered_options``). The menus live in
the domain (``rasa_project/domain/menu.yml``); so do the topics' short titles, as the titles of the
menus' topic buttons.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

OFFERED_OPTIONS = "offered_options"
MENU_POSITION = "menu_position"
FALLBACK_STREAK = "fallback_streak"
HANDOFF_REQUESTED = "handoff_requested"

FAQ_CHOICE = "faq_choice"
SHOW_MENU = "show_menu"
MAIN = "main"
MAIN_MENU_RESPONSE = "utter_menu"
MENU_RESPONSE_PREFIX = "utter_menu_"
FAQ_RESPONSE_PREFIX = "utter_faq/"
# The way on: after every FAQ answer, and in the free place of a "did you mean", one tap to the main
# menu. One button, the same everywhere; a number typed after an answer picks from the main menu.
MORE_OPTIONS = {"title": "Menu lainnya", "payload": f"/{SHOW_MENU}"}
BACK_WORDS = frozenset({"kembali", "balik", "back", "kembali ke menu"})

_PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z0-9_-]+)(?P<entities>\{.*\})?$", re.DOTALL)
_NUMBER = re.compile(r"\d{1,2}")


@dataclass(frozen=True)
class Choice:
    """An intent payload, parsed."""

    intent: str
    entities: Mapping[str, str] = field(default_factory=dict)


def parse_payload(payload: str) -> Choice | None:
    match = _PAYLOAD.match(payload.strip())
    if not match:
        return None
    entities: dict[str, str] = {}
    if match.group("entities"):
        try:
            raw = json.loads(match.group("entities"))
        except ValueError:
            return None
        if not isinstance(raw, dict):
            return None
        entities = {str(key): str(value) for key, value in raw.items()}
    return Choice(match.group("intent"), entities)


def faq_payload(topic: str) -> str:
    return f"/{FAQ_CHOICE}" + json.dumps({"topic": topic}, separators=(",", ":"))


def faq_response(topic: str) -> str:
    return f"{FAQ_RESPONSE_PREFIX}{topic}"


# ------------------------------------------------------------------ menus in the domain


def response_buttons(domain: Mapping[str, Any], response: str) -> list[dict[str, Any]]:
    """Buttons of a domain response's first variation."""
    variations = (domain.get("responses") or {}).get(response) or [{}]
    return [dict(button) for button in variations[0].get("buttons") or []]


def payloads(buttons: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(button.get("payload") or button.get("title")) for button in buttons]


def topic_titles(domain: Mapping[str, Any]) -> dict[str, str]:
    """The short title of every topic: the title of its button in the menus."""
    titles: dict[str, str] = {}
    for name, variations in (domain.get("responses") or {}).items():
        if not str(name).startswith(MENU_RESPONSE_PREFIX):
            continue
        for button in (variations or [{}])[0].get("buttons") or []:
            choice = parse_payload(str(button.get("payload") or ""))
            if choice and choice.intent == FAQ_CHOICE and "topic" in choice.entities:
                titles[choice.entities["topic"]] = str(button["title"])
    return titles


def menu_response(position: str) -> str:
    """The response of a position: ``main`` → ``utter_menu``, ``syarat`` → ``utter_menu_syarat``,
    ``syarat/2`` → ``utter_menu_syarat_2``."""
    if position == MAIN:
        return MAIN_MENU_RESPONSE
    category, _, page = position.partition("/")
    return MENU_RESPONSE_PREFIX + category + (f"_{page}" if page and page != "1" else "")


def menu_position(category: str | None, page: str | None = None) -> str:
    if not category:
        return MAIN
    return category if not page or page == "1" else f"{category}/{page}"


def parent(position: str) -> str:
    """One level up: a later page → the category's first page → the main menu."""
    category, _, page = position.partition("/")
    if page:
        return category
    return MAIN


def is_back(text: str) -> bool:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split()) in BACK_WORDS


def typed_number(text: str) -> int | None:
    found = _NUMBER.search(text)
    return int(found.group()) if found else None


def numbered(titles: Sequence[str]) -> str:
    return "\n".join(f"{number}. {title}" for number, title in enumerate(titles, start=1))


# ------------------------------------------------------------------ the conversation so far


def previous_turn(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Events between the user message before the latest one and the latest one (the last bot turn)."""
    users = [index for index, event in enumerate(events) if event.get("event") == "user"]
    if len(users) < 2:
        return []
    return list(events[users[-2] + 1 : users[-1]])


def slot_set_in(events: Sequence[Mapping[str, Any]], slot: str) -> tuple[bool, Any]:
    """Whether ``slot`` was set in these events, and its last value."""
    found, value = False, None
    for event in events:
        if event.get("event") == "slot" and event.get("name") == slot:
            found, value = True, event.get("value")
    return found, value


def offered_last_turn(events: Sequence[Mapping[str, Any]]) -> list[str] | None:
    """The options the last bot turn offered, or None when it offered none.

    Actions that show options remember them in ``offered_options``; a response with buttons uttered
    by a rule does not, so its buttons count too: on WhatsApp more than ten of them arrive as
    numbered text, and the number typed back must pick the same option.
    """
    turn = previous_turn(events)
    found, value = slot_set_in(turn, OFFERED_OPTIONS)
    if found and isinstance(value, list) and value:
        return [str(option) for option in value]
    shown = buttons_shown_in(turn)
    return payloads(shown) if shown else None


def buttons_shown_in(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The buttons of the last bot message in these events that had any."""
    for event in reversed(events):
        data = event.get("data") if event.get("event") == "bot" else None
        buttons = data.get("buttons") if isinstance(data, Mapping) else None
        if isinstance(buttons, list) and buttons:
            return [button for button in buttons if isinstance(button, Mapping)]
    return []


def previous_streak(events: Sequence[Mapping[str, Any]]) -> int:
    """Uncertain turns in a row up to the last bot turn (0 when that turn was not uncertain)."""
    found, value = slot_set_in(previous_turn(events), FALLBACK_STREAK)
    return int(value or 0) if found else 0


def shown_position_last_turn(events: Sequence[Mapping[str, Any]]) -> str | None:
    found, value = slot_set_in(previous_turn(events), MENU_POSITION)
    return str(value) if found and value else None


# ------------------------------------------------------------------ never the same message twice in a row

# A list this long is a menu: shown again right after itself (under another text: the main menu, the
# fallback menu and the out-of-scope reply share the same eight options), it is the same message.
_MENU_LENGTH = 3


@dataclass(frozen=True)
class Said:
    """A message the bot sent, as the tracker keeps it: the response Rasa rendered it from (Rasa adds
    ``utter_action`` and the action's variables to the message's metadata), the text, the buttons."""

    response: str | None
    text: str
    options: tuple[str, ...]
    variables: Mapping[str, Any]


def said(event: Mapping[str, Any]) -> Said:
    metadata = event.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    data = event.get("data")
    buttons = data.get("buttons") if isinstance(data, Mapping) else None
    shown = [button for button in buttons if isinstance(button, Mapping)] if isinstance(buttons, list) else []
    response = metadata.get("utter_action")
    return Said(
        str(response) if response else None, str(event.get("text") or ""), tuple(payloads(shown)), metadata
    )


def said_lately(events: Sequence[Mapping[str, Any]]) -> list[Said]:
    """What the bot said in its last turn and so far in this one: what its next message must not repeat."""
    users = [index for index, event in enumerate(events) if event.get("event") == "user"]
    start = users[-2] + 1 if len(users) >= 2 else 0
    return [said(event) for event in events[start:] if event.get("event") == "bot"]


def repeats(
    events: Sequence[Mapping[str, Any]],
    response: str,
    variables: Mapping[str, Any] | None = None,
    options: Sequence[str] = (),
) -> bool:
    """Whether sending ``response`` (with these variables, or a menu of these options) now would say
    again what the bot has just said: the one test behind "no message twice in a row".

    The action server only names a response (Rasa renders it), so the test compares what the tracker
    keeps of the bot's messages: the response name and variables, and a menu's options whatever
    text introduced them.
    """
    wanted = dict(variables or {})
    for message in said_lately(events):
        if message.response == response and all(message.variables.get(k) == v for k, v in wanted.items()):
            return True
        if len(options) >= _MENU_LENGTH and message.options == tuple(options):
            return True
    return False


def latest_user_metadata(events: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    for event in reversed(events):
        if event.get("event") == "user":
            metadata = event.get("metadata")
            return metadata if isinstance(metadata, Mapping) else {}
    return {}
