"""Every response and button in the domain fits WhatsApp's limits: content bugs fail here, not on a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain

from rasa_project.channels.limits import MAX_TEXT, choice_problems, list_button_label
from rasa_project.channels.messages import split_text
from rasa_project.channels.whatsapp import MENU_INTENT

DOMAIN = Path(__file__).resolve().parents[3] / "rasa_project" / "domain"


def whatsapp_variations(domain: Domain) -> list[tuple[str, dict[str, Any]]]:
    """Every variation a WhatsApp user can get: channel-less ones and ``channel: whatsapp`` ones."""
    return [
        (name, variation)
        for name, variations in domain.responses.items()
        for variation in variations
        if variation.get("channel") in (None, "whatsapp")
    ]


def problems_of(domain: Domain) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, variation in whatsapp_variations(domain):
        label = list_button_label(variation.get("metadata"))
        for key in ("buttons", "quick_replies"):
            problems = choice_problems(variation.get(key) or [], label)
            if problems:
                found.setdefault(name, []).extend(f"{key}: {problem}" for problem in problems)
    return found


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(DOMAIN))


def test_every_button_and_list_in_the_domain_fits_whatsapp(domain: Domain) -> None:
    assert whatsapp_variations(domain), "no responses found: is the domain path right?"
    assert problems_of(domain) == {}


def test_every_text_splits_into_whatsapp_messages_without_loss(domain: Domain) -> None:
    for name, variation in whatsapp_variations(domain):
        text = str(variation.get("text") or "")
        parts = split_text(text)
        assert all(len(part) <= MAX_TEXT for part in parts), name
        assert "".join("".join(parts).split()) == "".join(text.split()), name


def test_the_menu_intent_for_non_text_messages_exists(domain: Domain) -> None:
    assert MENU_INTENT in domain.intents


def test_the_check_catches_a_button_that_does_not_fit() -> None:
    """The domain test above would pass trivially if loading lost the buttons: prove it sees them."""
    broken = Domain.from_yaml(
        """
version: "3.1"
responses:
  utter_did_you_mean:
  - text: Maksud Anda?
    buttons:
    - title: Efek samping setelah vaksin
      payload: /faq
    - title: Biaya
      payload: /faq
  utter_topics:
  - text: Pilih topik
    metadata:
      whatsapp_list_button: Tekan di sini untuk memilih topik
    buttons:
    - {title: Satu, payload: /a, description: Topik satu}
    - {title: Dua, payload: /b}
    - {title: Tiga, payload: /c}
    - {title: Empat, payload: /d}
"""
    )
    problems = problems_of(broken)
    assert set(problems) == {"utter_did_you_mean", "utter_topics"}
    assert any("button title 'Efek samping setelah vaksin'" in p for p in problems["utter_did_you_mean"])
    assert any("payload '/faq' appears more than once" in p for p in problems["utter_did_you_mean"])
    assert any("list button label" in p for p in problems["utter_topics"])
