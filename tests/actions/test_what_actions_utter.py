"""What every action asks Rasa to say, path by path: the response names and the variables each passes.

The action server does not render texts: it sends Rasa a response name and keyword arguments, and
Rasa fills the response's ``{variables}`` from them and from the slots. A keyword the response does
not use, or a variable no path fills, reaches the person as a literal ``{options}``. This file runs
every action path (real actions, tracker snapshots, real HTTP servers for the registry) and keeps
what they send in ``snapshots/uttered.json``; the Rasa-side tests render exactly those messages with
Rasa's own generator and the real domain (tests/rasa_project/test_rendered_responses.py) and through
the WhatsApp channel (tests/rasa_project/channels/test_what_whatsapp_shows.py).

After changing an action or a response name: ``UPDATE_SNAPSHOTS=1`` regenerates the snapshot.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import handoff
from actions.choices import FAQ_RESPONSE_PREFIX, MORE_OPTIONS, faq_payload
from actions.fallback import ActionAnswerFaq, ActionDeclined, ActionOutOfScope, ActionUncertainAnswer
from actions.handoff import ActionRelayOfficerReply, ActionReleaseHandoff, ActionRequestHandoff
from actions.menu import ActionAnswerTopic, ActionChooseOption, ActionShowMenu
from actions.schedule import (
    BIRTH_DATE_SLOT,
    CHALLENGE_SLOT,
    CODE_SLOT,
    NIK_SLOT,
    REQUESTED_SLOT,
    ActionAskScheduleBirthDate,
    ActionAskScheduleNik,
    ActionCancelSchedule,
    ActionLookupSchedule,
    ValidateScheduleForm,
    sealer_from,
)
from actions.semantic.faq_index import Match
from actions.settings import load_settings
from core.handoff import OFFICER_REPLY_INTENT, OFFICER_TEXT_ENTITY
from services.registry.demo import AREAS, DEMO_PERSON
from services.registry.lockout import LockScope
from services.registry.masking import mask_birth_date, mask_name, mask_phone
from services.registry.messages import (
    CODE_ENDED,
    CODE_ENDED_TOO_MANY,
    NOT_FOUND,
    NOT_FOUND_WHATSAPP_ONLY,
    code_sent,
    locked,
    wrong_code,
)
from services.registry.models import AppointmentStatus
from services.registry.schemas import (
    AppointmentOut,
    CodeEndedBody,
    CodeSentBody,
    DoseOut,
    LockedBody,
    LookupFound,
    NotFoundBody,
    OnFileOut,
    WrongCodeBody,
)
from services.registry.settings import RegistrySettings
from tests.actions.conftest import SNAPSHOTS, load_snapshot
from tests.actions.outreach_paths import outreach_paths
from tests.actions.servers import SERVICE_TOKEN, Reply, closed_port_url, scripted_server

UTTERED = SNAPSHOTS / "uttered.json"
ACTIONS = Path(__file__).resolve().parents[2] / "actions"
SENDER = "snapshot-uttered"
# A schedule result with a fixed date: the registry's own response model, so the snapshot never moves.
NEXT_APPOINTMENT_DAY = date(2026, 12, 21)
CHALLENGE_ID = "c" * 43  # the registry's handle for a code it sent: opaque, never shown
BUDI_PHONE = "+6281000000001"  # DEMO_PERSON's number in the demo registry
CODE_MINUTES = RegistrySettings.model_fields["code_ttl_seconds"].default // 60
_RESPONSE_NAME = re.compile(r"[\"'](utter_[a-z0-9_]+(?:/[a-z0-9_]+)?)[\"']")

Messages = list[dict[str, Any]]


class FixedSearch:
    """The semantic search's ranking for the message, fixed: which path runs is the test's choice."""

    def __init__(self, *ranked: tuple[str, float]) -> None:
        self.ranked = [Match(label, score) for label, score in ranked]

    def search(self, text: str) -> list[Match]:
        return list(self.ranked)


@dataclass
class Paths:
    """Runs actions on snapshots and collects what each path sends, by path name."""

    menu_domain: dict[str, Any]
    use_search: Callable[[Any], None]
    recorded: dict[str, dict[str, Any]]

    async def run(
        self, path: str, action: Action, tracker: Tracker, domain: dict[str, Any] | None = None
    ) -> Messages:
        dispatcher = CollectingDispatcher()
        assert path not in self.recorded, f"two paths named {path!r}"
        events = await action.run(dispatcher, tracker, self.menu_domain if domain is None else domain)
        # what the action server sends Rasa: JSON, so the snapshot holds exactly that
        messages: Messages = json.loads(json.dumps(dispatcher.messages))
        self.recorded[path] = {"action": action.name(), "messages": messages}
        asked = _form_asks(events or [])
        if asked:
            self.recorded[path]["asks"] = asked
        return messages


def _form_asks(events: list[dict[str, Any]]) -> str | None:
    """The slot a validation action chose to ask next: Rasa's form then utters that slot's question."""
    asked = [event.get("value") for event in events if event.get("name") == REQUESTED_SLOT]
    return str(asked[-1]) if asked and asked[-1] else None


def tracker(
    name: str,
    *,
    text: str | None = None,
    intent: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    sender: str = SENDER,
    said_before: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A snapshot with its latest message (and that user event) and slots replaced as asked, and what
    the bot said just before that message (``said_before``: the "never twice in a row" paths)."""
    state = copy.deepcopy(load_snapshot(name))
    state["sender_id"] = sender
    latest = state["latest_message"]
    user_event = next(event for event in reversed(state["events"]) if event["event"] == "user")
    parse = user_event.setdefault("parse_data", {})
    if text is not None:
        latest["text"] = user_event["text"] = parse["text"] = text
    if intent is not None:
        latest["intent"] = parse["intent"] = {"name": intent, "confidence": 1.0}
        latest["intent_ranking"] = [latest["intent"]]
    if entities is not None:
        latest["entities"] = parse["entities"] = entities
    state["slots"].update(slots or {})
    if said_before:
        at = state["events"].index(user_event)
        state["events"][at:at] = [*said_before, {"event": "action", "name": "action_listen"}]
    return Tracker.from_dict(state)


def said(response: str, buttons: list[dict[str, Any]] | None = None, **variables: str) -> dict[str, Any]:
    """A bot message as the tracker keeps it (the response's name and variables in its metadata)."""
    metadata = {"utter_action": response, **variables}
    return {"event": "bot", "text": f"<{response}>", "data": {"buttons": buttons}, "metadata": metadata}


def entity(name: str, value: str) -> dict[str, Any]:
    return {"entity": name, "value": value}


def topics(domain: dict[str, Any]) -> list[str]:
    return [
        name[len(FAQ_RESPONSE_PREFIX) :]
        for name in domain["responses"]
        if name.startswith(FAQ_RESPONSE_PREFIX)
    ]


def menu_positions(domain: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(category, page) of every list in the domain: ``utter_menu_syarat_2`` → ("syarat", "2")."""
    positions: list[tuple[str, str | None]] = []
    for name in domain["responses"]:
        if name.startswith("utter_menu_"):
            category, _, page = name[len("utter_menu_") :].partition("_")
            positions.append((category, page or None))
    return positions


# ------------------------------------------------------------------ the paths


async def menu_paths(paths: Paths) -> None:
    typed = tracker("tracker_menu_category_button", text="menu", intent="show_menu", entities=[])
    await paths.run("menu typed", ActionShowMenu(), typed)
    for category, page in menu_positions(paths.menu_domain):
        found = [entity("menu_category", category)] + ([entity("menu_page", page)] if page else [])
        shown = tracker("tracker_menu_category_button", entities=found)
        await paths.run(f"menu list {category}/{page or 1}", ActionShowMenu(), shown)
    await paths.run("kembali from a list", ActionShowMenu(), tracker("tracker_back_from_a_list"))
    main = paths.menu_domain["responses"]["utter_menu"][0]["buttons"]
    twice = tracker(
        "tracker_menu_category_button",
        text="menu",
        intent="show_menu",
        entities=[],
        said_before=[said("utter_menu", main)],
    )
    await paths.run("menu typed right after the menu", ActionShowMenu(), twice)
    await paths.run(
        "menu ends the wait for an officer",
        ActionShowMenu(),
        tracker("tracker_menu_while_waiting_for_officer"),
    )


async def answer_paths(paths: Paths) -> None:
    for topic in topics(paths.menu_domain):
        picked = tracker(
            "tracker_menu_category_button", intent="faq_choice", entities=[entity("topic", topic)]
        )
        await paths.run(f"topic button {topic}", ActionAnswerTopic(), picked)
    await paths.run(
        "number after did you mean", ActionChooseOption(), tracker("tracker_number_after_did_you_mean")
    )
    for number in ("1", "8", "9"):
        after_answer = tracker("tracker_faq_confident", text=number, intent="choose_option", entities=[])
        await paths.run(f"number {number} after an answer", ActionChooseOption(), after_answer)
    await paths.run(
        "number not offered",
        ActionChooseOption(),
        tracker("tracker_number_after_did_you_mean", text="7", entities=[entity("option_number", "7")]),
    )


async def second_stage_paths(paths: Paths) -> None:
    uncertain = "tracker_nlu_fallback"
    paths.use_search(FixedSearch(("faq/biaya", 0.99), ("faq/lokasi", 0.5)))
    await paths.run("uncertain, one clear topic", ActionUncertainAnswer(), tracker(uncertain))
    paths.use_search(FixedSearch(("faq/biaya", 0.905), ("faq/lokasi", 0.9), ("out_of_scope", 0.85)))
    await paths.run("uncertain, did you mean two topics", ActionUncertainAnswer(), tracker(uncertain))
    paths.use_search(FixedSearch(("faq/biaya", 0.905), ("faq/lokasi", 0.9), ("faq/halal", 0.9)))
    await paths.run("uncertain, did you mean three topics", ActionUncertainAnswer(), tracker(uncertain))
    paths.use_search(FixedSearch(("out_of_scope", 0.95), ("faq/biaya", 0.8)))
    await paths.run("uncertain, nothing close", ActionUncertainAnswer(), tracker(uncertain))
    await paths.run(
        "uncertain, second in a row", ActionUncertainAnswer(), tracker("tracker_fallback_second_in_a_row")
    )
    paths.use_search(FixedSearch(("faq/biaya", 0.95), ("faq/halal", 0.90)))
    await paths.run("faq, the search agrees", ActionAnswerFaq(), tracker("tracker_faq_confident"))
    paths.use_search(FixedSearch(("faq/halal", 0.95), ("faq/lokasi", 0.94), ("faq/biaya", 0.90)))
    await paths.run("faq, the search doubts it", ActionAnswerFaq(), tracker("tracker_faq_answer_in_doubt"))
    paths.use_search(None)
    await paths.run("faq, no search", ActionAnswerFaq(), tracker("tracker_faq_confident"))
    await uncertain_turn_paths(paths)


async def uncertain_turn_paths(paths: Paths) -> None:
    """The officer after the second uncertain turn in a row, and never the same message twice in a row."""
    main = paths.menu_domain["responses"]["utter_menu"][0]["buttons"]
    after_menu = [said("utter_menu", main)]
    second = "tracker_fallback_second_in_a_row"
    paths.use_search(FixedSearch(("faq/biaya", 0.905), ("faq/lokasi", 0.9), ("out_of_scope", 0.85)))
    await paths.run(
        "uncertain, did you mean at the second in a row", ActionUncertainAnswer(), tracker(second)
    )
    paths.use_search(FixedSearch(("out_of_scope", 0.95), ("faq/biaya", 0.8)))
    offered = tracker(second, said_before=[said("utter_handoff_offer")])
    await paths.run("uncertain, right after the officer offer", ActionUncertainAnswer(), offered)
    right_after_menu = tracker("tracker_nlu_fallback", said_before=after_menu)
    await paths.run("uncertain, right after the menu", ActionUncertainAnswer(), right_after_menu)
    out_of_scope = tracker("tracker_nlu_fallback", text="jual pulsa murah", intent="out_of_scope")
    await paths.run("out of scope", ActionOutOfScope(), out_of_scope)
    out_of_scope = tracker(
        "tracker_nlu_fallback", text="jual pulsa murah", intent="out_of_scope", said_before=after_menu
    )
    await paths.run("out of scope, right after the menu", ActionOutOfScope(), out_of_scope)
    paths.use_search(FixedSearch(("faq/biaya", 0.95), ("faq/halal", 0.90)))
    again = tracker("tracker_faq_confident", said_before=[said("utter_faq/biaya", [MORE_OPTIONS])])
    await paths.run("faq, the same answer right after it", ActionAnswerFaq(), again)
    did_you_mean = said("utter_did_you_mean", options="1. Biaya vaksin\n2. Kehalalan vaksin\n3. Menu lainnya")
    declined = tracker(
        "tracker_number_after_did_you_mean",
        text="bukan",
        intent="deny",
        entities=[],
        said_before=[did_you_mean],
    )
    await paths.run("no to a did you mean", ActionDeclined(), declined)
    no = tracker("tracker_faq_confident", text="nggak", intent="deny", said_before=[said("utter_faq/biaya")])
    await paths.run("no after an answer", ActionDeclined(), no)


async def handoff_paths(paths: Paths) -> None:
    await paths.run("officer asked for", ActionRequestHandoff(), tracker("tracker_faq_confident"))
    waiting = tracker(
        "tracker_menu_while_waiting_for_officer", text="/release_handoff", intent="release_handoff"
    )
    await paths.run("officer hands back", ActionReleaseHandoff(), waiting)
    with (
        pytest.MonkeyPatch.context() as patch
    ):  # Saturday night in Jakarta, office hours (default: always on)
        patch.setenv("OFFICER_WORKING_HOURS", "mon-fri 08:00-16:00")
        patch.setattr(handoff, "utc_now", lambda: datetime(2026, 12, 5, 14, 0, tzinfo=UTC))
        after_hours = tracker("tracker_faq_confident")
        await paths.run("officer asked for after hours", ActionRequestHandoff(), after_hours)
    reply = tracker(
        "tracker_menu_while_waiting_for_officer",
        text=f"EXTERNAL: {OFFICER_REPLY_INTENT}",
        intent=OFFICER_REPLY_INTENT,
        entities=[{"entity": OFFICER_TEXT_ENTITY, "value": "Selamat siang, Bu. Ada yang bisa kami bantu?"}],
    )
    await paths.run("officer replies", ActionRelayOfficerReply(), reply)


def found_body(next_appointment: bool) -> dict[str, Any]:
    """What the registry answers for Budi (its own response model), with a fixed appointment day."""
    jakarta = AREAS[0]
    doses = [
        DoseOut(
            dose_number=1,
            vaccine_brand="Sinovac",
            date=date(2021, 3, 8),
            facility=jakarta.facility,
            batch="A",
        ),
        DoseOut(
            dose_number=2,
            vaccine_brand="Sinovac",
            date=date(2021, 4, 5),
            facility=jakarta.facility,
            batch="B",
        ),
    ]
    upcoming = AppointmentOut(
        dose_number=3,
        date=NEXT_APPOINTMENT_DAY,
        time=time(9, 0),
        facility_name=jakarta.facility,
        facility_address=jakarta.address,
        status=AppointmentStatus.SCHEDULED,
    )
    found = LookupFound(
        name_masked=mask_name(DEMO_PERSON.full_name),
        doses=doses,
        next_appointment=upcoming if next_appointment else None,
        record_token="record-token-from-the-registry",
        on_file=OnFileOut(
            name_masked=mask_name(DEMO_PERSON.full_name),
            phone_masked=mask_phone(DEMO_PERSON.phone),
            birth_date_masked=mask_birth_date(DEMO_PERSON.birth_date),
            district=jakarta.district,
        ),
    )
    return found.model_dump(mode="json")


def identity(sender: str = SENDER) -> dict[str, Any]:
    sealer = sealer_from(load_settings())
    return {
        NIK_SLOT: sealer.seal(DEMO_PERSON.nik, sender),
        BIRTH_DATE_SLOT: sealer.seal(DEMO_PERSON.birth_date.isoformat(), sender),
    }


def locked_body(seconds: int) -> dict[str, Any]:
    """The registry's 429, built by its own schema and words."""
    body = LockedBody(
        error="locked",
        message=locked(seconds),
        scope=LockScope.NIK,
        retry_after_seconds=seconds,
        locked_until=datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
    )
    return body.model_dump(mode="json")


def code_sent_body() -> dict[str, Any]:
    """The registry's 202: a code went to Budi's number on file (masked as the registry masks it)."""
    phone = mask_phone(BUDI_PHONE)
    body = CodeSentBody(
        status="code_sent",
        message=code_sent(phone, CODE_MINUTES),
        challenge_id=CHALLENGE_ID,
        phone_masked=phone,
        expires_in_seconds=CODE_MINUTES * 60,
    )
    return body.model_dump(mode="json")


def code_step(text: str, slots: dict[str, Any] | None = None) -> Tracker:
    """The form waiting for the one-time code over WhatsApp, and the person's answer ``text``."""
    waiting = {REQUESTED_SLOT: CODE_SLOT, CHALLENGE_SLOT: seal(CHALLENGE_ID)}
    return tracker("tracker_schedule_asks_birth_date", text=text, slots={**waiting, **(slots or {})})


def after_code_sent() -> Tracker:
    """Right after the lookup said "code sent": the form opens again and picks its next question."""
    state = copy.deepcopy(load_snapshot("tracker_schedule_complete"))
    state["sender_id"] = SENDER
    state["events"] += [
        {"event": "action", "name": "action_lookup_schedule"},
        {"event": "bot", "text": code_sent_body()["message"]},
        {"event": "slot", "name": CHALLENGE_SLOT, "value": seal(CHALLENGE_ID)},
    ]
    state["slots"].update({NIK_SLOT: None, BIRTH_DATE_SLOT: None, CHALLENGE_SLOT: seal(CHALLENGE_ID)})
    return Tracker.from_dict(state)


def seal(value: str, sender: str = SENDER) -> str:
    return sealer_from(load_settings()).seal(value, sender)


async def schedule_paths(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    domain = load_snapshot("domain_schedule")
    not_found = NotFoundBody(error="not_found", message=NOT_FOUND, whatsapp_only=False)
    rest_not_found = NotFoundBody(error="not_found", message=NOT_FOUND_WHATSAPP_ONLY, whatsapp_only=True)
    lookups = [
        ("schedule found", Reply(200, found_body(next_appointment=True))),
        ("schedule found, nothing booked", Reply(200, found_body(next_appointment=False))),
        ("schedule no match", Reply(404, not_found.model_dump())),
        ("schedule no match, test channel", Reply(404, rest_not_found.model_dump())),
        ("schedule locked", Reply(429, locked_body(900))),
        ("schedule locked, no words", Reply(429, {})),
        ("schedule code sent", Reply(202, code_sent_body())),
    ]
    for path, reply in lookups:
        with scripted_server([reply]) as registry:
            monkeypatch.setenv("REGISTRY_URL", registry.url)
            complete = tracker("tracker_schedule_complete", slots=identity())
            await paths.run(path, ActionLookupSchedule(), complete, domain)
    await paths.run(
        "schedule code step, the form asks for the code", ValidateScheduleForm(), after_code_sent(), domain
    )
    await paths.run(
        "schedule code step, not a code", ValidateScheduleForm(), code_step("kodenya mana ya"), domain
    )
    wrong = WrongCodeBody(error="wrong_code", message=wrong_code(4), attempts_left=4)
    ended = CodeEndedBody(error="code_ended", message=CODE_ENDED, too_many_attempts=False)
    too_many = CodeEndedBody(error="code_ended", message=CODE_ENDED_TOO_MANY, too_many_attempts=True)
    code_checks = [
        ("schedule code step, found", Reply(200, found_body(next_appointment=True))),
        ("schedule code step, wrong code", Reply(400, wrong.model_dump())),
        ("schedule code step, code ended", Reply(410, ended.model_dump())),
        ("schedule code step, too many wrong codes", Reply(410, too_many.model_dump())),
        ("schedule code step, locked", Reply(429, locked_body(3600))),
    ]
    for path, reply in code_checks:
        with scripted_server([reply]) as registry:
            monkeypatch.setenv("REGISTRY_URL", registry.url)
            typed = {CHALLENGE_SLOT: seal(CHALLENGE_ID), CODE_SLOT: seal("123456")}
            await paths.run(
                path, ActionLookupSchedule(), tracker("tracker_schedule_complete", slots=typed), domain
            )
    monkeypatch.setenv("REGISTRY_URL", closed_port_url())
    await paths.run(
        "schedule registry down",
        ActionLookupSchedule(),
        tracker("tracker_schedule_complete", slots=identity()),
        domain,
    )
    other_chat = tracker("tracker_schedule_complete", slots=identity("someone-else"))
    await paths.run("schedule answers expired", ActionLookupSchedule(), other_chat, domain)
    await paths.run(
        "schedule batal",
        ActionCancelSchedule(),
        tracker("tracker_schedule_asks_birth_date", text="batal", intent="cancel"),
        domain,
    )
    await paths.run(
        "schedule batal with no check running",
        ActionCancelSchedule(),
        tracker("tracker_faq_confident", text="gak jadi", intent="cancel"),
        domain,
    )
    asks = [
        ("schedule asks for the NIK", ActionAskScheduleNik(), "tracker_schedule_started"),
        ("schedule asks for the NIK again", ActionAskScheduleNik(), "tracker_schedule_asks_nik"),
        ("schedule asks for the birth date", ActionAskScheduleBirthDate(), "tracker_schedule_asks_nik"),
        (
            "schedule asks for the birth date again",
            ActionAskScheduleBirthDate(),
            "tracker_schedule_asks_birth_date",
        ),
    ]
    for path, ask, snapshot in asks:
        await paths.run(path, ask, tracker(snapshot), domain)
    for path, ask, snapshot, hint in (
        (
            "schedule asks for the NIK right after the hint",
            ActionAskScheduleNik(),
            "tracker_schedule_asks_nik",
            "nik",
        ),
        (
            "schedule asks for the birth date right after the hint",
            ActionAskScheduleBirthDate(),
            "tracker_schedule_asks_birth_date",
            "birth_date",
        ),
    ):
        hinted = tracker(snapshot, text="hmm", said_before=[said(f"utter_ask_schedule_{hint}_again")])
        await paths.run(path, ask, hinted, domain)
    await paths.run(
        "schedule NIK too short",
        ValidateScheduleForm(),
        tracker("tracker_schedule_asks_nik", text="3174 0517 0885"),
        domain,
    )
    await paths.run(
        "schedule birth date impossible",
        ValidateScheduleForm(),
        tracker("tracker_schedule_asks_birth_date", text="31-02-1990"),
        domain,
    )


@pytest.fixture
def schedule_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("REGISTRY_SERVICE_TOKEN", SERVICE_TOKEN)
    monkeypatch.setenv("REGISTRY_RETRIES", "0")
    monkeypatch.setenv("REGISTRY_BACKOFF_SECONDS", "0.01")
    monkeypatch.delenv("SCHEDULE_SLOT_KEY", raising=False)
    yield monkeypatch


@pytest.fixture
async def uttered(
    menu_domain: dict[str, Any],
    use_search: Callable[[Any], None],
    schedule_environment: pytest.MonkeyPatch,
) -> dict[str, dict[str, Any]]:
    paths = Paths(menu_domain, use_search, {})
    await menu_paths(paths)
    await answer_paths(paths)
    await second_stage_paths(paths)
    await handoff_paths(paths)
    await schedule_paths(paths, schedule_environment)
    await outreach_paths(paths, schedule_environment)
    return paths.recorded


# ------------------------------------------------------------------ the tests


def test_the_snapshot_of_what_actions_utter_is_current(uttered: dict[str, dict[str, Any]]) -> None:
    """Regenerate with UPDATE_SNAPSHOTS=1 when an action or a response name changes."""
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        UTTERED.write_text(json.dumps(uttered, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert json.loads(UTTERED.read_text(encoding="utf-8")) == uttered


def test_every_response_an_action_names_is_sent_by_a_recorded_path(
    uttered: dict[str, dict[str, Any]],
) -> None:
    """A response named in the actions' code but sent by no path here would go unrendered by the tests."""
    named = {
        match
        for source in sorted(ACTIONS.rglob("*.py"))
        for match in _RESPONSE_NAME.findall(source.read_text(encoding="utf-8"))
        if not match.endswith("_")  # a prefix ("utter_menu_"), not a response
        and match != "utter_action"  # Rasa's metadata key naming the response a bot message came from
    }
    sent = {message.get("response") for path in uttered.values() for message in path["messages"]}
    assert named, "no response names found in actions/: is the pattern right?"
    assert named - sent == set()


def test_every_faq_answer_carries_the_way_on_and_nothing_else(uttered: dict[str, dict[str, Any]]) -> None:
    answers = [
        message
        for path in uttered.values()
        for message in path["messages"]
        if str(message.get("response") or "").startswith(FAQ_RESPONSE_PREFIX)
    ]
    assert len(answers) > len(topics(load_snapshot("domain_menu")))
    for message in answers:
        assert message["buttons"] == [MORE_OPTIONS], message["response"]
        assert message["text"] is None, "a text would replace the answer Rasa renders"


def test_a_did_you_mean_passes_the_options_its_response_shows(uttered: dict[str, dict[str, Any]]) -> None:
    message = uttered["uncertain, did you mean two topics"]["messages"][0]
    assert message["response"] == "utter_did_you_mean"
    assert message["options"] == "1. Biaya vaksin\n2. Lokasi vaksinasi\n3. Menu lainnya"
    assert "{options}" in load_snapshot("domain_menu")["responses"]["utter_did_you_mean"][0]["text"]
    assert "choices" not in message


def test_the_paths_cover_every_action_that_speaks(uttered: dict[str, dict[str, Any]]) -> None:
    speaking = {path["action"] for path in uttered.values() if path["messages"]}
    assert speaking >= {
        "action_show_menu",
        "action_answer_topic",
        "action_choose_option",
        "action_uncertain_answer",
        "action_answer_faq",
        "action_request_handoff",
        "action_release_handoff",
        "action_lookup_schedule",
        "action_cancel_schedule",
        "validate_schedule_form",
    }


def test_a_topic_payload_answers_that_topic(uttered: dict[str, dict[str, Any]]) -> None:
    """The recorded topic paths are real answers, not the menu a wrong payload would give."""
    for topic in topics(load_snapshot("domain_menu")):
        [message] = uttered[f"topic button {topic}"]["messages"]
        assert message["response"] == f"utter_faq/{topic}", faq_payload(topic)
