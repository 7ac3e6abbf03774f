"""Every FAQ topic has a reviewable answer that fits a WhatsApp message.

Length, contacts, facts and the review record are checked on the rendered text in
test_answer_content.py; this file checks the domain's shape.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "rasa_project" / "domain"


def responses() -> dict[str, list[dict]]:
    merged: dict[str, list[dict]] = {}
    for file in sorted(DOMAIN.glob("*.yml")):
        merged.update((yaml.safe_load(file.read_text(encoding="utf-8")) or {}).get("responses", {}))
    return merged


def topics() -> list[str]:
    spec = yaml.safe_load((ROOT / "data" / "faq_topics.yml").read_text(encoding="utf-8"))
    return list(spec["topics"])


@pytest.mark.parametrize("topic", topics())
def test_topic_has_an_answer_with_source_and_date(topic: str) -> None:
    variations = responses().get(f"utter_faq/{topic}")
    assert variations, f"no utter_faq/{topic} in rasa_project/domain"
    for variation in variations:
        text = variation["text"]
        assert "Sumber" in text, f"{topic}: the answer does not point to its source"
        metadata = variation.get("metadata") or {}
        assert metadata.get("sources"), f"{topic}: no sources kept with the answer"
        dt.date.fromisoformat(str(metadata["valid_as_of"]))


def test_no_answer_without_a_topic() -> None:
    answered = {name.removeprefix("utter_faq/") for name in responses() if name.startswith("utter_faq/")}
    assert answered == set(topics())


def test_every_message_fits_whatsapp() -> None:
    too_long = {
        name: len(v["text"]) for name, vs in responses().items() for v in vs if len(v.get("text", "")) > 4096
    }
    assert not too_long
