"""What the integration tests compare replies with: the domain's own texts."""

from __future__ import annotations

import re
import time
from typing import Any

import yaml

from actions.officer_hours import WorkingHours
from tests.harness.assistant_process import ROOT
from tests.harness.whatsapp import payloads
from tests.harness.whatsapp.fake_graph_api import FakeGraphApi
from tests.harness.whatsapp.user import QUIET_SECONDS


def first_variation(name: str) -> dict[str, Any]:
    """The first variation of a domain response, as the assistant should send it."""
    for file in (ROOT / "rasa_project" / "domain").glob("*.yml"):
        responses = (yaml.safe_load(file.read_text(encoding="utf-8")) or {}).get("responses", {})
        if name in responses:
            return dict(responses[name][0])
    raise KeyError(name)


def contact_values() -> dict[str, str]:
    """The contact block (rasa_project/domain/contacts.yml): slots whose initial value Rasa fills in."""
    slots = yaml.safe_load((ROOT / "rasa_project" / "domain" / "contacts.yml").read_text(encoding="utf-8"))
    return {str(name): str(slot["initial_value"]) for name, slot in (slots.get("slots") or {}).items()}


# The integration stacks' officers are on duty around the clock (conftest), so handing over always
# promises the working hours, whenever the tests run; the after-hours text: tests/actions.
ON_DUTY_AROUND_THE_CLOCK = "mon-sun 00:00-24:00"


def filled(text: str) -> str:
    """A domain text as the person reads it: ``{kontak_...}`` replaced by the contact block's values,
    ``{jam_kerja}`` by the stacks' working hours."""
    values = {
        **contact_values(),
        "jam_kerja": WorkingHours.parse(ON_DUTY_AROUND_THE_CLOCK, "Asia/Jakarta").describe(),
    }
    return re.sub(r"\{(kontak_\w+|jam_kerja)\}", lambda found: values.get(found[1], found[0]), text)


def response_text(name: str) -> str:
    return filled(str(first_variation(name)["text"]))


def response_buttons(name: str) -> list[dict[str, str]]:
    return [
        {key: filled(str(value)) for key, value in button.items()}
        for button in first_variation(name).get("buttons") or []
    ]


def reply(messages: list[dict[str, Any]]) -> str:
    """What the user reads: Rasa's REST channel sends each paragraph as its own message."""
    return "\n\n".join(message.get("text", "") for message in messages)


# The WhatsApp settings of both session assistants (tests/integration/conftest.py): throw-away secrets.
WHATSAPP_SECRETS = {
    "WHATSAPP_VERIFY_TOKEN": "it-verify-token",
    "WHATSAPP_APP_SECRET": "it-app-secret",
    "WHATSAPP_ACCESS_TOKEN": "it-access-token",
    "WHATSAPP_SENDER_HASH_KEY": "it-sender-hash-key",
    "WHATSAPP_PHONE_NUMBER_ID": payloads.DEFAULT_PHONE_NUMBER_ID,
}


def turn_replies(fake: FakeGraphApi, phone: str, before: int, seconds: float) -> list[dict[str, Any]]:
    """The records the fake Graph API got for ``phone`` after its first ``before`` ones: once one has
    come, and nothing more for ``QUIET_SECONDS`` (the channel sends a turn's messages one after the
    other as soon as the turn is handled). Fails when nothing comes within ``seconds``."""
    deadline = time.monotonic() + seconds
    count, last_new = before, time.monotonic()
    while time.monotonic() < deadline:
        now = len(fake.sent(to=phone))
        if now != count:
            count, last_new = now, time.monotonic()
        elif count > before and time.monotonic() - last_new >= QUIET_SECONDS:
            return fake.sent(to=phone)[before:]
        time.sleep(0.1)
    raise AssertionError(f"no reply to {phone} within {seconds} s")
