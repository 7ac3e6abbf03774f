"""The second stage, the menu and the handoff, live: the real Rasa server and action server over REST.

The messages below are written like the held-out ones, not taken from them. If a retrained model
understands one of them differently, the assertion on Rasa's intent says so: pick another one.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from services.review.cli import main as review_cli
from tests.harness.assistant_process import AssistantProcess
from tests.integration.support import reply, response_text

# Rasa's NLU is not sure of it (nlu_fallback): alone, it could only show the menu. The semantic
# stage offers the right topic among close ones.
SEMANTIC_ONLY = (
    "Besok saya mau booster di klinik kantor. Tapi dari semalam saya pilek dan agak meriang. "
    "Sebaiknya tetap datang atau diundur dulu?",
    "sedang_sakit",
)
# Rasa is sure (faq/ibu_hamil) but the semantic search prefers other topics: "did you mean", Rasa's first.
IN_DOUBT = ("bumil usia kandungan 5 bulan udah bisa divaksin belum", "ibu_hamil")


def buttons(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [button for message in messages for button in message.get("buttons") or []]


def intents_and_actions(assistant: AssistantProcess, sender: str) -> list[tuple[str, str | None]]:
    with sqlite3.connect(assistant.run_dir / "tracker.db") as database:
        rows = database.execute(
            "SELECT type_name, intent_name, action_name FROM events WHERE sender_id = ? ORDER BY id",
            (sender,),
        ).fetchall()
    return [(kind, intent or action) for kind, intent, action in rows if kind in ("user", "action")]


def topics_offered(messages: list[dict[str, Any]]) -> list[str]:
    return [
        json.loads(button["payload"].removeprefix("/faq_choice"))["topic"]
        for button in buttons(messages)
        if button["payload"].startswith("/faq_choice")
    ]


def test_a_paraphrase_only_the_semantic_stage_gets_right(assistant: AssistantProcess) -> None:
    text, topic = SEMANTIC_ONLY
    offered = assistant.say("it-semantic", text)
    assert ("user", "nlu_fallback") in intents_and_actions(assistant, "it-semantic"), "Rasa alone is not sure"
    assert reply(offered).startswith("Apakah maksud Anda:")
    assert topic in topics_offered(offered)
    assert len(buttons(offered)) <= 3, "WhatsApp's reply buttons"
    if len(topics_offered(offered)) < 3:
        assert buttons(offered)[-1] == {"title": "Menu lainnya", "payload": "/show_menu"}
    number = str(topics_offered(offered).index(topic) + 1)
    assert reply(assistant.say("it-semantic", number)) == response_text(f"utter_faq/{topic}")


def test_a_did_you_mean_picked_by_button(assistant: AssistantProcess) -> None:
    text, topic = IN_DOUBT
    offered = assistant.say("it-dym-button", text)
    assert ("user", "faq") in intents_and_actions(assistant, "it-dym-button")
    assert topics_offered(offered)[0] == topic, "Rasa's answer comes first"
    answer = assistant.say("it-dym-button", buttons(offered)[0]["payload"])
    assert reply(answer) == response_text(f"utter_faq/{topic}")


def test_a_did_you_mean_picked_by_typing_its_number(assistant: AssistantProcess) -> None:
    offered = assistant.say("it-dym-number", IN_DOUBT[0])
    second = topics_offered(offered)[1]
    assert reply(assistant.say("it-dym-number", "2")) == response_text(f"utter_faq/{second}")
    assert reply(assistant.say("it-dym-number", "2")) == response_text("utter_menu_syarat"), (
        "after an answer, a number picks from the main menu"
    )


def test_menu_navigation_by_number_and_by_button(assistant: AssistantProcess) -> None:
    main = assistant.say("it-menu", "menu")
    assert [b["title"] for b in buttons(main)][-2:] == ["Cek jadwal vaksin saya", "Hubungi petugas"]
    syarat = assistant.say("it-menu", "2")
    assert reply(syarat) == response_text("utter_menu_syarat")
    page_two = assistant.say("it-menu", buttons(syarat)[8]["payload"])  # "Topik lainnya"
    assert reply(page_two) == response_text("utter_menu_syarat_2")
    assert reply(assistant.say("it-menu", "1")) == response_text("utter_faq/alergi")
    assert reply(assistant.say("it-menu", "kembali")) == response_text("utter_menu_syarat_2")
    assert reply(assistant.say("it-menu", "kembali")) == response_text("utter_menu_syarat")
    assert reply(assistant.say("it-menu", "kembali")) == response_text("utter_menu")
    assert reply(assistant.say("it-menu", '/faq_choice{"topic":"biaya"}')) == response_text("utter_faq/biaya")


def test_the_schedule_check_starts_from_the_menu_by_number(assistant: AssistantProcess) -> None:
    assistant.say("it-menu-schedule", "menu")
    assert reply(assistant.say("it-menu-schedule", "7")) == response_text("utter_ask_schedule_nik")


def officers_see_waiting(
    assistant: AssistantProcess, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    """What ``python -m services.review waiting`` prints for this stack's tracker store."""
    monkeypatch.setenv("REVIEW_DATABASE_URL", f"sqlite:///{assistant.run_dir / 'officers-review.db'}")
    monkeypatch.setenv("REVIEW_TRACKER_STORE_URL", f"sqlite:///{assistant.run_dir / 'tracker.db'}")
    capsys.readouterr()
    assert review_cli(["waiting"]) == 0
    return capsys.readouterr().out


def test_two_uncertain_turns_offer_an_officer_and_menu_ends_the_wait(
    assistant: AssistantProcess, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sender = "it-handoff"
    assert reply(assistant.say(sender, "/nlu_fallback")) == response_text("utter_uncertain_answer")
    offer = assistant.say(sender, "/nlu_fallback")
    assert reply(offer) == response_text("utter_handoff_offer")
    assert reply(assistant.say(sender, "1")) == response_text("utter_handoff_requested")
    assert assistant.say(sender, "vaksin bayar ga?") == [], "the bot is silent while an officer has it"
    assert f"{sender}\twaiting since" in officers_see_waiting(assistant, monkeypatch, capsys)
    assert "1 message(s) since" in officers_see_waiting(assistant, monkeypatch, capsys).split(sender)[1]
    back = assistant.say(sender, "menu")
    assert reply(back) == response_text("utter_handoff_released") + "\n\n" + response_text("utter_menu")
    assert reply(assistant.say(sender, "vaksin bayar ga?")) == response_text("utter_faq/biaya")


def test_an_officer_releases_a_conversation(assistant: AssistantProcess) -> None:
    sender = "it-release"
    assert reply(assistant.say(sender, "saya mau bicara dengan petugas")) == response_text(
        "utter_handoff_requested"
    )
    assert assistant.say(sender, "halo?") == []
    assistant.say(sender, "/release_handoff")
    assert reply(assistant.say(sender, "halo min")) == response_text("utter_greet")


def test_inside_the_schedule_check_menu_words_and_numbers_do_what_they_say(
    assistant: AssistantProcess,
) -> None:
    """Issue #12: "hmm" and "1" brought the whole introduction back; "1" was read as an NIK."""
    sender = "it-schedule-exits"
    assert reply(assistant.say(sender, "/check_schedule")) == response_text("utter_ask_schedule_nik")
    hinted = [message.get("text") for message in assistant.say(sender, "hmm")]
    assert hinted[-1] == response_text("utter_ask_schedule_nik_again"), hinted
    assert response_text("utter_ask_schedule_nik") not in hinted
    assert reply(assistant.say(sender, "menu")) == response_text("utter_menu")
    assert reply(assistant.say(sender, "2")) == response_text("utter_menu_syarat"), "the check has ended"
    assert reply(assistant.say(sender, "/check_schedule")) == response_text("utter_ask_schedule_nik")
    assert reply(assistant.say(sender, "1")) == response_text("utter_menu_umum"), "a menu number, not an NIK"
    assert reply(assistant.say(sender, "vaksin bayar ga?")) == response_text("utter_faq/biaya")
