"""The fallback menu covers every topic in its category, in words that fit WhatsApp, numbered as
shown; every intent is silenced during a handoff; the action tests' domain snapshot is current."""

from __future__ import annotations

import json
import os
import re
from itertools import permutations
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.shared.core.constants import USER_INTENT_BACK, USER_INTENT_RESTART, USER_INTENT_SESSION_START
from rasa.shared.core.domain import Domain

from rasa_project.channels.limits import (
    MAX_BUTTON_TITLE,
    MAX_REPLY_BUTTONS,
    choice_problems,
    list_button_label,
)

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_PATH = ROOT / "rasa_project" / "domain"
SNAPSHOT = ROOT / "tests" / "actions" / "snapshots" / "domain_menu.json"
EXTRA_MAIN_OPTIONS = [("Cek jadwal vaksin saya", "/check_schedule"), ("Hubungi petugas", "/human_handoff")]
# show_menu and release_handoff end a wait for an officer; officer_reply is the officer's words
# (data/rules/officer.yml relays them)
# Opting out, and a side-effect report (it may need the emergency advice at once), work while waiting too.
NOT_SILENCED = {"show_menu", "release_handoff", "officer_reply", "opt_out", "opt_in", "report_kipi"}
SNAPSHOT_PREFIXES = (
    "utter_menu",
    "utter_did_you_mean",
    "utter_option_unknown",
    "utter_handoff",
    "utter_uncertain_answer",
    "utter_out_of_scope",
)
SNAPSHOT_SLOTS = ("offered_options", "menu_position", "fallback_streak", "handoff_requested")
_TOPIC = re.compile(r'^/faq_choice\{"topic":"(?P<topic>[a-z_]+)"\}$')
_CATEGORY = re.compile(
    r'^/show_menu\{"menu_category":"(?P<category>[a-z]+)"(,"menu_page":"(?P<page>\d)")?\}$'
)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(DOMAIN_PATH))


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "data" / "faq_topics.yml").read_text(encoding="utf-8"))


def buttons(domain: Domain, response: str) -> list[dict[str, Any]]:
    return list(domain.responses[response][0].get("buttons") or [])


def category_pages(domain: Domain, category: str) -> list[str]:
    first = f"utter_menu_{category}"
    return [first, *sorted(name for name in domain.responses if name.startswith(f"{first}_"))]


def test_the_main_menu_is_the_categories_then_schedule_and_officer(
    domain: Domain, spec: dict[str, Any]
) -> None:
    expected = [
        (title, f'/show_menu{{"menu_category":"{key}"}}') for key, title in spec["menu_categories"].items()
    ]
    expected += EXTRA_MAIN_OPTIONS
    for response in ("utter_menu", "utter_uncertain_answer", "utter_out_of_scope"):
        assert [(b["title"], b["payload"]) for b in buttons(domain, response)] == expected, response


def test_each_category_lists_its_topics_once(domain: Domain, spec: dict[str, Any]) -> None:
    listed: dict[str, str] = {}
    for category in spec["menu_categories"]:
        for page in category_pages(domain, category):
            for button in buttons(domain, page):
                match = _TOPIC.match(button["payload"])
                if match:
                    assert match["topic"] not in listed, f"{match['topic']} is listed twice"
                    listed[match["topic"]] = category
    assert listed == {topic: fields["menu"] for topic, fields in spec["topics"].items()}


def test_every_list_leads_back_and_its_pages_link_up(domain: Domain) -> None:
    for name in domain.responses:
        if not name.startswith("utter_menu_"):
            continue
        payloads = [button["payload"] for button in buttons(domain, name)]
        assert payloads[-1] == "/show_menu", f"{name}: the last option is the main menu"
        for payload in payloads:
            match = _CATEGORY.match(payload)
            if match:
                page = f"_{match['page']}" if match["page"] and match["page"] != "1" else ""
                assert f"utter_menu_{match['category']}{page}" in domain.responses, payload


def test_topic_titles_fit_a_reply_button_and_are_unique(domain: Domain) -> None:
    titles = [
        button["title"]
        for name in domain.responses
        if name.startswith("utter_menu_")
        for button in buttons(domain, name)
        if _TOPIC.match(button["payload"])
    ]
    assert len(titles) == len(set(titles))
    assert all(len(title) <= MAX_BUTTON_TITLE for title in titles)


def test_any_did_you_mean_fits_whatsapp(domain: Domain) -> None:
    """1-2 topic titles plus "Menu lainnya", or 3 topic titles: always reply buttons (<= 3)."""
    titles = [
        button["title"]
        for name in domain.responses
        if name.startswith("utter_menu_")
        for button in buttons(domain, name)
        if _TOPIC.match(button["payload"])
    ]
    label = list_button_label(domain.responses["utter_did_you_mean"][0].get("metadata"))
    longest = sorted(titles, key=len, reverse=True)[:4]
    for count in (1, 2, 3):
        for chosen in permutations(longest, count):
            options = [{"title": t, "payload": f"/faq_choice{{{t}}}"} for t in chosen]
            if count < 3:
                options.append({"title": "Menu lainnya", "payload": "/show_menu"})
            assert len(options) <= MAX_REPLY_BUTTONS
            assert choice_problems(options, label) == []


def test_texts_number_the_options_as_the_buttons(domain: Domain) -> None:
    """A typed number must pick the option shown with that number."""
    for name, variations in domain.responses.items():
        options = variations[0].get("buttons") or []
        if not name.startswith(
            ("utter_menu", "utter_uncertain_answer", "utter_out_of_scope", "utter_handoff")
        ):
            continue
        numbered = re.findall(r"^(\d+)\. (.+)$", variations[0]["text"], flags=re.MULTILINE)
        if not options:
            continue
        assert [int(number) for number, _ in numbered] == list(range(1, len(options) + 1)), name
        if name != "utter_handoff_offer":  # its lines explain the buttons in a sentence
            assert [title for _, title in numbered] == [button["title"] for button in options], name


def test_every_intent_is_silent_while_waiting_for_an_officer(domain: Domain) -> None:
    rules = yaml.safe_load((ROOT / "data" / "rules" / "menu.yml").read_text(encoding="utf-8"))["rules"]
    silenced = {
        rule["steps"][0]["intent"]
        for rule in rules
        if rule["steps"][-1] == {"action": "action_handoff_wait"}
        and {"slot_was_set": [{"handoff_requested": True}]} in rule.get("condition", [])
    }
    internal = {USER_INTENT_RESTART, USER_INTENT_BACK, USER_INTENT_SESSION_START}
    assert silenced == set(domain.intents) - internal - NOT_SILENCED


def snapshot_of(domain: Domain) -> dict[str, Any]:
    full = domain.as_dict()
    kept: dict[str, Any] = {}
    for name, variations in full["responses"].items():
        if name.startswith("utter_faq/"):
            kept[name] = [{"text": variations[0]["text"].split("\n")[0][:120]}]
        elif name.startswith(SNAPSHOT_PREFIXES):
            kept[name] = variations
    return {
        "intents": full["intents"],
        "entities": full["entities"],
        "slots": {name: value for name, value in full["slots"].items() if name in SNAPSHOT_SLOTS},
        "responses": kept,
        "actions": [action for action in full["actions"] if action.startswith("action_")],
        "forms": full.get("forms", {}),
    }


def test_the_action_tests_domain_snapshot_is_current(domain: Domain) -> None:
    """Regenerate with UPDATE_SNAPSHOTS=1 when the menu, the handoff or the topics change."""
    current = snapshot_of(domain)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert json.loads(SNAPSHOT.read_text(encoding="utf-8")) == current
