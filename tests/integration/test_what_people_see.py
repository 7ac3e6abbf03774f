"""What a person receives over REST from the real stack: exact texts and buttons, every variable filled,
and the way on after every answer.

On the session's shared assistant (tests/integration/conftest.py). The expected texts are the
domain's, with the contact variables filled (tests/integration/support.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness.assistant_process import AssistantProcess
from tests.integration.support import response_buttons, response_text
from tests.integration.test_second_stage import IN_DOUBT

DOMAIN = Path(__file__).resolve().parents[2] / "rasa_project" / "domain"
WAY_ON = {"title": "Menu lainnya", "payload": "/show_menu"}
PLACEHOLDER = re.compile(r"\{[^{}\n]+\}")
DID_YOU_MEAN_END = "\n\nPilih salah satu atau ketik nomornya. Topik lain: ketik *menu*."


def domain_files() -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text(encoding="utf-8")) or {} for path in sorted(DOMAIN.glob("*.yml"))]


def shown(messages: list[dict[str, Any]]) -> list[str]:
    """Every text a person reads in these messages: texts, button titles, list descriptions."""
    texts = [str(message.get("text") or "") for message in messages]
    for message in messages:
        for button in message.get("buttons") or []:
            texts += [str(button.get("title") or ""), str(button.get("description") or "")]
    return texts


def assert_no_placeholder(messages: list[dict[str, Any]]) -> None:
    for text in shown(messages):
        assert not PLACEHOLDER.search(text), text


def topic_titles() -> dict[str, str]:
    """Each topic's button title in the menus: a "did you mean" uses the same."""
    titles: dict[str, str] = {}
    for content in domain_files():
        for name, variations in (content.get("responses") or {}).items():
            if name.startswith("utter_menu_"):
                for button in variations[0].get("buttons") or []:
                    found = re.fullmatch(r'/faq_choice\{"topic":"(\w+)"\}', str(button["payload"]))
                    if found:
                        titles[found[1]] = str(button["title"])
    return titles


def test_a_did_you_mean_shows_its_options_numbered_and_as_buttons(assistant: AssistantProcess) -> None:
    [message] = assistant.say("see-dym", IN_DOUBT[0])
    buttons = message["buttons"]
    titles = [button["title"] for button in buttons]
    numbered = "\n".join(f"{number}. {title}" for number, title in enumerate(titles, start=1))
    assert message["text"] == f"Apakah maksud Anda:\n{numbered}{DID_YOU_MEAN_END}"
    assert 2 <= len(buttons) <= 3
    known = {f'/faq_choice{{"topic":"{topic}"}}': title for topic, title in topic_titles().items()}
    known[WAY_ON["payload"]] = WAY_ON["title"]
    assert all(known.get(button["payload"]) == button["title"] for button in buttons)
    assert_no_placeholder([message])


def test_a_number_picks_that_option_and_the_answer_carries_the_way_on(assistant: AssistantProcess) -> None:
    [offered] = assistant.say("see-number", IN_DOUBT[0])
    first = offered["buttons"][0]["payload"]
    topic = re.fullmatch(r'/faq_choice\{"topic":"(\w+)"\}', first)
    assert topic, first
    [answer] = assistant.say("see-number", "1")
    assert answer["text"] == response_text(f"utter_faq/{topic[1]}")
    assert answer["buttons"] == [WAY_ON]
    [menu] = assistant.say("see-number", "menu")
    assert menu["text"] == response_text("utter_menu")


def test_the_menu_is_the_categories_numbered_and_as_buttons(assistant: AssistantProcess) -> None:
    [menu] = assistant.say("see-menu", "menu")
    assert menu["text"] == response_text("utter_menu")
    assert menu["buttons"] == response_buttons("utter_menu")
    assert_no_placeholder([menu])


def test_a_faq_answer_is_the_current_text_then_the_way_on(assistant: AssistantProcess) -> None:
    [answer] = assistant.say("see-answer", "vaksin bayar ga?")
    assert answer["text"] == response_text("utter_faq/biaya")
    assert answer["buttons"] == [WAY_ON]
    assert len(answer["text"]) + len(WAY_ON["title"]) <= 700
    assert_no_placeholder([answer])
    [menu] = assistant.say("see-answer", WAY_ON["payload"])
    assert menu["buttons"] == response_buttons("utter_menu"), "the way on leads to the menu"


@pytest.mark.parametrize(
    "messages",
    [
        ["halo min"],
        ["siapa kamu, bot atau orang?"],
        ["resep rendang padang yang enak", "harga tiket konser berapa"],
        ["/nlu_fallback", "/nlu_fallback"],
        ["saya mau bicara dengan petugas"],
        ["cek jadwal vaksin saya", "batal"],
    ],
)
def test_no_reply_carries_a_placeholder(assistant: AssistantProcess, messages: list[str]) -> None:
    sender = "see-" + re.sub(r"\W+", "-", messages[0])[:30]
    for text in messages:
        replies = assistant.say(sender, text)
        assert replies, f"no reply to {text!r}"
        assert_no_placeholder(replies)
