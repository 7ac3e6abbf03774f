"""No ``{placeholder}`` ever reaches a person: every response, through every path that sends it, filled
the way the Rasa server fills it.

The paths are the action paths recorded by tests/actions/test_what_actions_utter.py (response names
and the keyword arguments each passes, in tests/actions/snapshots/uttered.json) and the responses
Rasa utters itself (rules, stories, form questions). They are rendered with the domain files, the
generator ``endpoints.yml`` configures and ``RemoteAction._utter_responses``, over the REST channel
and WhatsApp, in a new conversation whose slots hold their initial values (the contacts).
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain

from tests.rasa_project.rendering import (
    FAQ_PREFIX,
    PLACEHOLDER,
    NamedChannel,
    Recorded,
    asked_after,
    deployed_nlg,
    fresh_tracker,
    load_domain,
    load_uttered,
    people_get,
    placeholders,
    rasa_uttered_responses,
    render,
)

# The REST channel's output is Rasa's CollectingOutputChannel ("collector"); WhatsApp has its own.
CHANNELS = ("collector", "whatsapp")
# An answer and the way on after it, read on a phone: issue #10 (WhatsApp readers skim past ~600).
MAX_ANSWER_WITH_WAY_ON = 700


@pytest.fixture(scope="module")
def domain() -> Domain:
    return load_domain()


@pytest.fixture(scope="module")
def nlg(domain: Domain) -> NaturalLanguageGenerator:
    return deployed_nlg(domain)


@pytest.fixture(scope="module")
def uttered() -> Recorded:
    return load_uttered()


def variables(domain: Domain, response: str) -> set[str]:
    """The ``{variables}`` of every variation of a response (text, button titles and descriptions)."""
    found: set[str] = set()
    for variation in domain.responses.get(response, []):
        texts = [str(variation.get("text") or "")]
        texts += [
            str(button.get(key) or "")
            for button in variation.get("buttons") or []
            for key in ("title", "description")
        ]
        found |= {match[1:-1] for text in texts for match in PLACEHOLDER.findall(text)}
    return found


def slots_with_a_value(domain: Domain) -> set[str]:
    return {slot.name for slot in domain.slots if slot.initial_value not in (None, "")}


def sent_by_actions(domain: Domain, uttered: Recorded) -> dict[str, list[dict[str, Any]]]:
    """Messages by response name: what the actions sent, and the form questions Rasa asks after them."""
    by_response: dict[str, list[dict[str, Any]]] = {}
    for path in uttered.values():
        for message in people_get(domain, path):
            if message.get("response"):
                by_response.setdefault(message["response"], []).append(message)
    return by_response


def test_every_response_is_sent_by_some_path(domain: Domain, uttered: Recorded) -> None:
    """A response no path sends is either dead content or a path these tests do not render."""
    sent = set(sent_by_actions(domain, uttered)) | rasa_uttered_responses(domain)
    assert set(domain.responses) - sent == set()


def test_every_response_an_action_sends_exists(domain: Domain, uttered: Recorded) -> None:
    """Rasa drops a message whose response is missing: the person would get nothing."""
    assert set(sent_by_actions(domain, uttered)) - set(domain.responses) == set()


def test_every_variable_is_a_slot_with_a_value_or_passed_by_every_path(
    domain: Domain, uttered: Recorded
) -> None:
    """``{kontak_...}`` comes from a slot's initial value; ``{options}`` from the action that sends it."""
    by_response = sent_by_actions(domain, uttered)
    filled_by_slots = slots_with_a_value(domain)
    problems = []
    for response in domain.responses:
        for variable in sorted(variables(domain, response) - filled_by_slots):
            senders = by_response.get(response, [])
            if not senders or any(not message.get(variable) for message in senders):
                problems.append(f"{response}: {{{variable}}} is no slot with a value and not always passed")
    assert problems == []


@pytest.mark.parametrize("channel", CHANNELS)
async def test_no_action_path_leaves_a_placeholder(
    channel: str, domain: Domain, nlg: NaturalLanguageGenerator, uttered: Recorded
) -> None:
    problems = []
    for path, recorded in uttered.items():
        messages = people_get(domain, recorded)
        bots = await render(messages, nlg, fresh_tracker(domain), NamedChannel(channel))
        if len(bots) != len(messages):
            problems.append(f"{path}: {len(messages)} messages sent, {len(bots)} rendered")
        for bot in bots:
            if placeholders(bot) or "None" in str(bot.text):
                problems.append(f"{path}: {placeholders(bot) or 'None'} in {str(bot.text)[:80]!r}")
    assert problems == []


@pytest.mark.parametrize("channel", CHANNELS)
async def test_no_response_rasa_utters_itself_leaves_a_placeholder(
    channel: str, domain: Domain, nlg: NaturalLanguageGenerator
) -> None:
    problems = []
    for response in sorted(rasa_uttered_responses(domain)):
        [bot] = await render([{"response": response}], nlg, fresh_tracker(domain), NamedChannel(channel))
        if placeholders(bot) or "None" in str(bot.text):
            problems.append(f"{response}: {placeholders(bot) or 'None'}")
    assert problems == []


async def test_the_code_step_says_what_to_type_and_never_the_code_or_the_number(
    domain: Domain, nlg: NaturalLanguageGenerator, uttered: Recorded
) -> None:
    """After "code sent" the form asks for the code (a slot the action adds, not the domain's form)."""
    [question] = asked_after(domain, uttered["schedule code step, the form asks for the code"])
    assert question == {"response": "utter_ask_schedule_code"}
    sent, asked = [
        bot
        for path in ("schedule code sent", "schedule code step, the form asks for the code")
        for bot in await render(
            people_get(domain, uttered[path]), nlg, fresh_tracker(domain), NamedChannel("whatsapp")
        )
    ]
    assert "+62 8••••••0001" in str(sent.text) and "6281000000001" not in str(sent.text)
    assert str(asked.text).startswith("Ketik *kode verifikasi* 6 angka itu di sini")
    [not_a_code, again] = await render(
        people_get(domain, uttered["schedule code step, not a code"]),
        nlg,
        fresh_tracker(domain),
        NamedChannel("whatsapp"),
    )
    assert "Kodenya 6 angka" in str(not_a_code.text) and again.text == asked.text


async def test_a_lock_says_how_long_in_words(
    domain: Domain, nlg: NaturalLanguageGenerator, uttered: Recorded
) -> None:
    waits = {}
    for path in ("schedule locked", "schedule locked, no words", "schedule code step, locked"):
        [bot] = await render(uttered[path]["messages"], nlg, fresh_tracker(domain), NamedChannel("whatsapp"))
        waits[path] = str(bot.text).split("Silakan coba lagi dalam ")[1].split(".")[0]
    assert waits == {
        "schedule locked": "15 menit",
        "schedule locked, no words": "beberapa saat",
        "schedule code step, locked": "1 jam",
    }


async def test_a_did_you_mean_shows_its_numbered_options(
    domain: Domain, nlg: NaturalLanguageGenerator, uttered: Recorded
) -> None:
    recorded = uttered["uncertain, did you mean two topics"]["messages"]
    [bot] = await render(recorded, nlg, fresh_tracker(domain), NamedChannel("collector"))
    assert bot.text == (
        "Apakah maksud Anda:\n1. Biaya vaksin\n2. Lokasi vaksinasi\n3. Menu lainnya\n\n"
        "Pilih salah satu atau ketik nomornya. Topik lain: ketik *menu*."
    )
    assert [button["title"] for button in bot.data["buttons"]] == [
        "Biaya vaksin",
        "Lokasi vaksinasi",
        "Menu lainnya",
    ]


async def test_every_answer_ends_with_the_way_on_within_700_characters(
    domain: Domain, nlg: NaturalLanguageGenerator, uttered: Recorded
) -> None:
    """The way on is added by the action (one button, the same everywhere): the answer's text stays whole."""
    answers = [
        (path, message)
        for path, recorded in uttered.items()
        for message in recorded["messages"]
        if str(message.get("response") or "").startswith(FAQ_PREFIX)
    ]
    assert {message["response"] for _, message in answers} == {
        name for name in domain.responses if name.startswith(FAQ_PREFIX)
    }
    too_long, without_way_on = [], []
    for path, message in answers:
        [bot] = await render([message], nlg, fresh_tracker(domain), NamedChannel("whatsapp"))
        titles = [str(button["title"]) for button in bot.data.get("buttons") or []]
        if titles != ["Menu lainnya"] or bot.data["buttons"][0]["payload"] != "/show_menu":
            without_way_on.append(path)
        length = len(str(bot.text)) + sum(len(title) for title in titles)
        if length > MAX_ANSWER_WITH_WAY_ON:
            too_long.append(f"{message['response']}: {length}")
    assert without_way_on == []
    assert sorted(set(too_long)) == []


async def test_the_check_sees_a_variable_nobody_fills() -> None:
    """The checks above would pass trivially if rendering hid placeholders: prove they see one."""
    broken = Domain.from_yaml(
        """
version: "3.1"
slots:
  kontak_ada:
    type: text
    initial_value: "1500-567"
    mappings: [{type: custom}]
  kontak_kosong:
    type: text
    mappings: [{type: custom}]
responses:
  utter_did_you_mean:
  - text: "Apakah maksud Anda:\\n{options}"
  utter_contact:
  - text: "Halo Kemenkes {kontak_ada}, lainnya {kontak_kosong}"
"""
    )
    nlg = NaturalLanguageGenerator.create(None, broken)
    tracker = fresh_tracker(broken)
    [wrong_keyword] = await render(
        [{"response": "utter_did_you_mean", "choices": "1. Biaya"}], nlg, tracker, NamedChannel("collector")
    )
    [right_keyword] = await render(
        [{"response": "utter_did_you_mean", "options": "1. Biaya"}], nlg, tracker, NamedChannel("collector")
    )
    [contact] = await render([{"response": "utter_contact"}], nlg, tracker, NamedChannel("collector"))
    assert placeholders(wrong_keyword) == ["{options}"]
    assert placeholders(right_keyword) == []
    assert contact.text == "Halo Kemenkes 1500-567, lainnya None"
    assert variables(broken, "utter_contact") - slots_with_a_value(broken) == {"kontak_kosong"}


async def test_a_form_question_asked_again_is_a_short_hint_with_the_way_out(
    domain: Domain, nlg: NaturalLanguageGenerator, uttered: Recorded
) -> None:
    """Issue #12: after "hmm" or a wrong number the check gave the whole introduction again."""
    shown = {}
    for path in (
        "schedule asks for the NIK",
        "schedule asks for the NIK again",
        "schedule asks for the birth date",
        "schedule asks for the birth date again",
    ):
        [bot] = await render(uttered[path]["messages"], nlg, fresh_tracker(domain), NamedChannel("whatsapp"))
        shown[path] = str(bot.text)
    assert shown["schedule asks for the NIK"].startswith("Saya bisa cek jadwal vaksinasi Anda")
    assert shown["schedule asks for the birth date"].startswith("Sekarang kirim *tanggal lahir*")
    for first, again in (("NIK", "NIK again"), ("birth date", "birth date again")):
        hint = shown[f"schedule asks for the {again}"]
        assert hint != shown[f"schedule asks for the {first}"]
        assert len(hint) < 130, hint
        assert "*menu*" in hint and "*batal*" in hint
    assert "Saya bisa cek" not in shown["schedule asks for the NIK again"]
