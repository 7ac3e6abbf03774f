"""Rendering what the actions sent the way the Rasa server does: for the tests of what people receive.

Nothing is reimplemented: the domain is loaded from ``rasa_project/domain``, the response generator is
the one ``rasa_project/endpoints.yml`` configures (created by Rasa's own factory), and the actions'
messages go through ``RemoteAction._utter_responses``, the code that turns an action server's reply
into bot messages (it fills the response and adds the action's buttons).
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import OutputChannel
from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_DIR = ROOT / "rasa_project" / "domain"
ENDPOINTS = ROOT / "rasa_project" / "endpoints.yml"
UTTERED = ROOT / "tests" / "actions" / "snapshots" / "uttered.json"
RULE_FILES = sorted((ROOT / "data").glob("rules/*.yml")) + sorted((ROOT / "data").glob("stories/*.yml"))
FAQ_PREFIX = "utter_faq/"

# What Rasa's interpolator treats as a variable: "{name}" without braces or a newline inside.
PLACEHOLDER = re.compile(r"\{[^{}\n]+\}")
_ENV_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

Recorded = dict[str, dict[str, Any]]


def load_domain() -> Domain:
    return Domain.load(str(DOMAIN_DIR))


def load_uttered() -> Recorded:
    """Every action path and what it sent (kept current by tests/actions/test_what_actions_utter.py)."""
    recorded: Recorded = json.loads(UTTERED.read_text(encoding="utf-8"))
    return recorded


@contextmanager
def _endpoint_variables() -> Iterator[None]:
    """Rasa expands every ``${VAR}`` of endpoints.yml when it reads one section: give unset ones a value."""
    names = set(_ENV_VARIABLE.findall(ENDPOINTS.read_text(encoding="utf-8")))
    missing = {name for name in names if name not in os.environ}
    os.environ.update({name: "unused-by-this-test" for name in missing})
    try:
        yield
    finally:
        for name in missing:
            os.environ.pop(name, None)


def deployed_nlg(domain: Domain) -> NaturalLanguageGenerator:
    """The response generator the Rasa server builds from endpoints.yml, over the repo's domain files."""
    with _endpoint_variables():
        endpoint = read_endpoint_config(str(ENDPOINTS), "nlg")
    return NaturalLanguageGenerator.create(endpoint, domain)


def fresh_tracker(domain: Domain, sender: str = "rendering") -> DialogueStateTracker:
    """A new conversation: every slot at its ``initial_value`` (contacts among them)."""
    return DialogueStateTracker.from_events(sender, [], slots=domain.slots)


class NamedChannel(OutputChannel):
    """Only its name matters to rendering: it picks channel-specific variations (``channel: whatsapp``)."""

    def __init__(self, channel: str) -> None:
        self._channel = channel

    def name(self) -> str:  # Rasa declares a classmethod; here each instance names its channel
        return self._channel


async def render(
    messages: Sequence[Mapping[str, Any]],
    nlg: NaturalLanguageGenerator,
    tracker: DialogueStateTracker,
    output_channel: OutputChannel,
) -> list[BotUttered]:
    """What Rasa makes of an action server's ``responses``: one bot message per message it can render."""
    responses = [dict(copy.deepcopy(message)) for message in messages]
    return await RemoteAction._utter_responses(responses, output_channel, nlg, tracker)


def texts_people_read(bot: BotUttered) -> list[str]:
    """The text, button titles and list-row descriptions of a bot message (payloads are machine-read)."""
    buttons = bot.data.get("buttons") or []
    shown = [str(button.get(key) or "") for button in buttons for key in ("title", "description")]
    return [str(bot.text or ""), *shown]


def placeholders(bot: BotUttered) -> list[str]:
    return [found for text in texts_people_read(bot) for found in PLACEHOLDER.findall(text)]


def form_question(domain: Domain, form: str, slot: str) -> str | None:
    """The response a form utters to ask for ``slot``, found the way Rasa's FormAction looks for it."""
    for name in (f"utter_ask_{form}_{slot}", f"utter_ask_{slot}"):
        if name in domain.responses:
            return name
    return None


def asked_after(domain: Domain, recorded: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The question Rasa's form utters after a validation action picked the slot to ask (``asks``)."""
    slot = recorded.get("asks")
    if not slot:
        return []
    questions = {form_question(domain, form, str(slot)) for form in domain.forms}
    questions.discard(None)
    assert len(questions) == 1, f"no single question for the slot {slot!r}: {sorted(map(str, questions))}"
    return [{"response": questions.pop()}]


def people_get(domain: Domain, recorded: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One recorded action path's messages, then the form's question if the action picked one."""
    return [*recorded["messages"], *asked_after(domain, recorded)]


def rasa_uttered_responses(domain: Domain) -> set[str]:
    """Responses Rasa utters itself: ``utter_*`` steps of rules and stories, and the forms' questions.

    Questions for slots a validation action adds (``required_slots``) come with the recorded paths
    that ask them (``asked_after``).
    """
    names: set[str] = set()
    for path in RULE_FILES:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for flow in (content.get("rules") or []) + (content.get("stories") or []):
            for step in flow.get("steps") or []:
                action = step.get("action") if isinstance(step, dict) else None
                if isinstance(action, str) and action.startswith("utter_"):
                    names.add(action)
    for form, definition in domain.forms.items():
        for slot in definition.get("required_slots") or []:
            question = form_question(domain, form, slot)
            if question is not None:
                names.add(question)
    return names
