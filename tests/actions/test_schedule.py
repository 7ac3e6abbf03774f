"""The schedule form's validation and the lookup, on tracker snapshots, against the real registry app."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.dates import format_day_and_date
from actions.identity import forget_identity
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
    read_code,
    sealer_from,
)
from actions.sealing import Sealer
from actions.settings import load_settings
from core.outreach_slots import RECORD_ACCESS_SLOT
from core.sender_identity import conversation_id
from services.registry.demo import (
    DEMO_PERSON,
    DEMO_PERSON_NEXT_APPOINTMENT_DAYS,
    DEMO_WOMAN,
    FULLY_VACCINATED_PERSON,
    DemoPerson,
)
from tests.actions.conftest import load_snapshot
from tests.actions.servers import SERVICE_TOKEN, Reply, closed_port_url, registry_app, scripted_server
from tests.harness.whatsapp.fake_graph_api import FakeGraphApi, FakeGraphApiThread

SENDER = "snapshot-schedule"
BUDI_FORMS = (
    "3174051708859001",
    "3174 0517 0885 9001",
    "17-08-1985",
    "17/8/85",
    "17 Agustus 1985",
    "1985-08-17",
)


FAKE_GRAPH_PORT = 15311
SENDER_HASH_KEY = "actions-test-sender-hash-key-0123456789"
GRAPH_TOKEN = "actions-test-graph-token"
BUDI_PHONE = "6281000000001"  # on file for DEMO_PERSON
BUDI_CHAT = conversation_id(BUDI_PHONE, SENDER_HASH_KEY)


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphApi]:
    fake = FakeGraphApi(access_token=GRAPH_TOKEN)
    running = FakeGraphApiThread(fake, FAKE_GRAPH_PORT).start()
    try:
        yield fake
    finally:
        running.stop()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, graph: FakeGraphApi, seeded_on: date) -> Iterator[str]:
    """The real registry, able to match WhatsApp senders and to send codes to the fake Graph API."""
    database: Path = tmp_path_factory.mktemp("registry") / "registry.db"
    whatsapp = {
        "sender_hash_key": SENDER_HASH_KEY,
        "access_token": GRAPH_TOKEN,
        "phone_number_id": "1234567890",
        "graph_api_url": f"http://127.0.0.1:{FAKE_GRAPH_PORT}/v21.0",
    }
    with registry_app(database, seeded_on, **whatsapp) as url:
        yield url


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, registry: str) -> None:
    monkeypatch.setenv("REGISTRY_URL", registry)
    monkeypatch.setenv("REGISTRY_SERVICE_TOKEN", SERVICE_TOKEN)
    monkeypatch.setenv("REGISTRY_BACKOFF_SECONDS", "0.01")
    monkeypatch.delenv("SCHEDULE_SLOT_KEY", raising=False)


@pytest.fixture
def domain() -> dict[str, Any]:
    return load_snapshot("domain_schedule")


def sealer() -> Sealer:
    return sealer_from(load_settings())


def tracker(
    snapshot: str,
    *,
    text: str | None = None,
    intent: str | None = None,
    sender: str = SENDER,
    slots: dict[str, Any] | None = None,
    channel: str | None = None,
    before_latest: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A snapshot with the latest message (and its user event), its channel and slots replaced as
    needed, and ``before_latest`` events (what the bot said last) put before that message."""
    state = load_snapshot(snapshot)
    state["sender_id"] = sender
    user_event = next(event for event in reversed(state["events"]) if event["event"] == "user")
    if channel is not None:
        user_event["input_channel"] = channel
    if text is not None:
        state["latest_message"]["text"] = user_event["text"] = text
    if intent is not None:
        ranked = {"name": intent, "confidence": 0.9}
        state["latest_message"]["intent"] = user_event["parse_data"]["intent"] = ranked
        state["latest_message"]["intent_ranking"] = [ranked]
    state["slots"].update(slots or {})
    if before_latest:
        at = state["events"].index(user_event)
        state["events"][at:at] = before_latest
    return Tracker.from_dict(state)


def identity_slots(person: DemoPerson, sender: str, birth_date: date | None = None) -> dict[str, str]:
    born = birth_date or person.birth_date
    return {
        NIK_SLOT: sealer().seal(person.nik, sender),
        BIRTH_DATE_SLOT: sealer().seal(born.isoformat(), sender),
    }


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {event["name"]: event["value"] for event in events if event["event"] == "slot"}


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    return [str(message.get("text") or "") for message in dispatcher.messages]


def responses(dispatcher: CollectingDispatcher) -> list[str | None]:
    return [message.get("response") for message in dispatcher.messages]


def assert_found(events: list[dict[str, Any]], dispatcher: CollectingDispatcher) -> None:
    """A record shown: what was typed is forgotten, the registry's record token is held sealed for
    "Cek data saya" (actions/correction.py), and that button is offered last."""
    *forgotten, held = events
    assert forgotten == forget_identity()
    assert held["name"] == RECORD_ACCESS_SLOT and str(held["value"]).startswith("sealed:")
    assert responses(dispatcher)[-1] == "utter_offer_data_check"


def assert_nothing_personal(dispatcher: CollectingDispatcher) -> None:
    """Bot replies are stored with the conversation: none may repeat an NIK or a birth date."""
    said = " ".join(texts(dispatcher))
    for form in (*BUDI_FORMS, "3273015203909003", "1990-03-12", "3578030501729002", "1972-01-05"):
        assert form not in said


async def validate(snapshot: Tracker, domain: dict[str, Any]) -> tuple[dict[str, Any], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await ValidateScheduleForm().run(dispatcher, snapshot, domain)
    assert_nothing_personal(dispatcher)
    return slot_events(events), dispatcher


# --- the NIK ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "3174051708859001",
        "3174 0512 3456 0001".replace("0512 3456 0001", "0517 0885 9001"),  # the spacing
        "NIK saya 3174051708859001",
        "nik: 3174-0517-0885-9001 ya kak",
        "3174.0517.0885.9001",
        "ini NIK ibu saya 3174 0517 0885 9001",
        # every spelling the tracker store redacts as an NIK (issue #11): the same reading of numbers
        "3174/0517/0885/9001",
        "3174, 0517, 0885, 9001",
        "3174\n0517\n0885\n9001",
        "nik 3174 0517 eh 0885 9001",
        "3174\u00a00517\u200b0885_9001",
    ],
)
async def test_an_nik_is_read_however_it_is_spaced_and_kept_only_sealed(text: str, domain: dict) -> None:
    slots, dispatcher = await validate(tracker("tracker_schedule_asks_nik", text=text), domain)
    assert set(slots) == {NIK_SLOT}
    assert DEMO_PERSON.nik not in slots[NIK_SLOT]
    assert sealer().unseal(slots[NIK_SLOT], SENDER) == DEMO_PERSON.nik
    assert dispatcher.messages == []  # the form asks for the birth date next


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("3174 0517 0885", "NIK harus 16 angka, yang Anda kirim 12 angka."),
        ("31740517088590011", "NIK harus 16 angka, yang Anda kirim 17 angka."),
        ("3174 0512 3456 0001", "angka ke-7 sampai ke-12 harus berisi tanggal lahir"),  # month 34
        ("0074051708859001", "kode provinsi"),
        ("3100051708859001", "kode kabupaten/kota"),
        ("3174051708850000", "4 angka terakhir tidak boleh 0000"),
        ("3174051708859001 atau 3174051708859002", "lebih dari satu nomor"),
    ],
)
async def test_a_malformed_nik_is_explained_and_asked_again(text: str, says: str, domain: dict) -> None:
    slots, dispatcher = await validate(tracker("tracker_schedule_asks_nik", text=text), domain)
    assert slots == {NIK_SLOT: None}  # validated as empty: the form asks for the NIK again
    assert len(dispatcher.messages) == 1
    assert says in texts(dispatcher)[0]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("vaksin bayar ga?", "faq"),
        ("jarak dosis 1 ke 2 berapa lama", "faq"),
        ("batal", "cancel"),
        ("menu", "show_menu"),
        ("1", "choose_option"),  # issue #12: a menu number was read as a too-short NIK
    ],
)
async def test_a_question_or_batal_leaves_the_form_to_the_rules(text: str, intent: str, domain: dict) -> None:
    """Nothing extracted and nothing said: the form is rejected and a rule answers."""
    slots, dispatcher = await validate(tracker("tracker_schedule_asks_nik", text=text, intent=intent), domain)
    assert slots == {}
    assert dispatcher.messages == []


async def test_an_nik_with_slashes_is_read_even_when_the_nlu_took_it_for_a_question(domain: dict) -> None:
    snapshot = tracker("tracker_schedule_asks_nik", text="3174/0517/0885/9001", intent="faq")
    slots, _ = await validate(snapshot, domain)
    assert sealer().unseal(slots[NIK_SLOT], SENDER) == DEMO_PERSON.nik


async def test_an_nik_is_read_whatever_intent_the_nlu_gave_it(domain: dict) -> None:
    snapshot = tracker("tracker_schedule_asks_nik", text="3174 0517 0885 9001", intent="faq")
    slots, _ = await validate(snapshot, domain)
    assert sealer().unseal(slots[NIK_SLOT], SENDER) == DEMO_PERSON.nik


async def test_back_from_a_faq_the_question_is_not_read_as_an_answer(domain: dict) -> None:
    slots, dispatcher = await validate(tracker("tracker_schedule_back_after_faq"), domain)
    assert slots == {}
    assert dispatcher.messages == []


async def test_the_first_message_may_already_carry_the_nik_and_birth_date(domain: dict) -> None:
    text = "cek jadwal vaksin, NIK 3174051708859001 lahir 17-08-1985"
    slots, dispatcher = await validate(tracker("tracker_schedule_started", text=text), domain)
    assert sealer().unseal(slots[NIK_SLOT], SENDER) == DEMO_PERSON.nik
    assert sealer().unseal(slots[BIRTH_DATE_SLOT], SENDER) == "1985-08-17"
    assert dispatcher.messages == []


async def test_a_first_message_without_an_nik_starts_the_form_quietly(domain: dict) -> None:
    slots, dispatcher = await validate(tracker("tracker_schedule_started"), domain)
    assert slots == {}
    assert dispatcher.messages == []


async def test_nik_and_birth_date_in_one_answer_save_a_question(domain: dict) -> None:
    snapshot = tracker("tracker_schedule_asks_nik", text="3174 0517 0885 9001, 17 agt 85")
    slots, _ = await validate(snapshot, domain)
    assert sealer().unseal(slots[BIRTH_DATE_SLOT], SENDER) == "1985-08-17"


@pytest.mark.parametrize("text", ["hmm", "?", "saya lupa NIK nya", "apa itu nik?", "terus gimana dong"])
async def test_a_message_with_no_number_is_left_to_the_short_hint(text: str, domain: dict) -> None:
    """Issue #12: "hmm" got the whole introduction again. Nothing is said here; the form asks again,
    and its short hint says what an NIK is and how to leave (test_the_form_asks_again_in_short...)."""
    slots, dispatcher = await validate(
        tracker("tracker_schedule_asks_nik", text=text, intent="out_of_scope"), domain
    )
    assert slots == {NIK_SLOT: None}, "validated as empty: the form goes on and asks again"
    assert dispatcher.messages == []


@pytest.mark.parametrize("text", ["apa itu nik?", "nik dimana liatnya", "saya lupa NIK nya"])
async def test_a_question_about_the_nik_while_it_is_asked_gets_the_hint_not_a_faq(
    text: str, domain: dict
) -> None:
    """The NLU reads "apa itu nik?" as the FAQ tanpa_nik ("no NIK yet?"); the hint says what it is."""
    slots, dispatcher = await validate(tracker("tracker_schedule_asks_nik", text=text, intent="faq"), domain)
    assert slots == {NIK_SLOT: None}
    assert dispatcher.messages == []


async def test_a_question_about_the_birth_date_while_it_is_asked_gets_the_hint(domain: dict) -> None:
    snapshot = tracker("tracker_schedule_asks_birth_date", text="tanggal lahir siapa ya?", intent="faq")
    slots, dispatcher = await validate(snapshot, domain)
    assert slots == {BIRTH_DATE_SLOT: None}
    assert dispatcher.messages == []


async def test_the_same_problem_is_not_explained_twice_in_a_row(domain: dict) -> None:
    said_before = [{"event": "bot", "text": "NIK harus 16 angka, yang Anda kirim 12 angka."}]
    snapshot = tracker("tracker_schedule_asks_nik", text="3174 0517 0885", before_latest=said_before)
    slots, dispatcher = await validate(snapshot, domain)
    assert slots == {NIK_SLOT: None}
    assert dispatcher.messages == [], "the hint after it changes instead (utter_ask_schedule_nik_stuck)"
    other = tracker("tracker_schedule_asks_nik", text="3174 0517 0885 90", before_latest=said_before)
    _, dispatcher = await validate(other, domain)
    assert texts(dispatcher) == ["NIK harus 16 angka, yang Anda kirim 14 angka."]


# --- the questions ---------------------------------------------------------------------------


def bot(response: str) -> dict[str, Any]:
    """A bot message as the tracker keeps it: Rasa puts the response's name in the metadata."""
    return {"event": "bot", "text": f"<{response}>", "metadata": {"utter_action": response}}


async def ask(
    action: ActionAskScheduleNik | ActionAskScheduleBirthDate, snapshot: Tracker
) -> list[str | None]:
    dispatcher = CollectingDispatcher()
    assert await action.run(dispatcher, snapshot, {}) == []
    return responses(dispatcher)


async def test_the_form_asks_first_with_the_whole_explanation() -> None:
    assert await ask(ActionAskScheduleNik(), tracker("tracker_schedule_started")) == [
        "utter_ask_schedule_nik"
    ]


async def test_the_form_asks_again_in_short_and_never_in_the_same_words_twice() -> None:
    """ "hmm", "hmm", "hmm": a hint, then the ways out, then the hint; never the introduction."""
    asked = {REQUESTED_SLOT: NIK_SLOT}
    first = tracker("tracker_schedule_asks_nik", text="hmm", slots=asked)
    assert await ask(ActionAskScheduleNik(), first) == ["utter_ask_schedule_nik_again"]
    hinted = [bot("utter_ask_schedule_nik_again"), {"event": "action", "name": "action_listen"}]
    second = tracker("tracker_schedule_asks_nik", text="hmm", slots=asked, before_latest=hinted)
    assert await ask(ActionAskScheduleNik(), second) == ["utter_ask_schedule_nik_stuck"]
    stuck = [bot("utter_ask_schedule_nik_stuck"), {"event": "action", "name": "action_listen"}]
    third = tracker("tracker_schedule_asks_nik", text="hmm", slots=asked, before_latest=stuck)
    assert await ask(ActionAskScheduleNik(), third) == ["utter_ask_schedule_nik_again"]


async def test_the_birth_date_is_asked_again_the_same_way() -> None:
    asked = {REQUESTED_SLOT: BIRTH_DATE_SLOT}
    hinted = [bot("utter_ask_schedule_birth_date_again"), {"event": "action", "name": "action_listen"}]
    snapshot = tracker("tracker_schedule_asks_birth_date", text="hmm", slots=asked, before_latest=hinted)
    assert await ask(ActionAskScheduleBirthDate(), snapshot) == ["utter_ask_schedule_birth_date_stuck"]


async def test_after_a_failed_match_the_nik_is_asked_in_short() -> None:
    """Issue #12: after "no match, once more" the whole introduction came again."""
    state = load_snapshot("tracker_schedule_complete")
    state["events"] += [
        {"event": "action", "name": "action_lookup_schedule"},
        bot("utter_schedule_no_match"),
        {"event": "slot", "name": NIK_SLOT, "value": None},
        {"event": "slot", "name": BIRTH_DATE_SLOT, "value": None},
        {"event": "action", "name": "schedule_form"},
        {"event": "active_loop", "name": "schedule_form"},
    ]
    state["slots"].update({NIK_SLOT: None, BIRTH_DATE_SLOT: None, REQUESTED_SLOT: None})
    assert await ask(ActionAskScheduleNik(), Tracker.from_dict(state)) == ["utter_ask_schedule_nik_again"]


# --- the birth date --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["17-08-1985", "17/8/85", "17 Agustus 1985", "17 agt 85", "lahir 1985-08-17"]
)
async def test_a_birth_date_is_read_in_every_common_form(text: str, domain: dict) -> None:
    snapshot = tracker("tracker_schedule_asks_birth_date", text=text, slots={NIK_SLOT: "sealed:v1:x"})
    slots, dispatcher = await validate(snapshot, domain)
    assert set(slots) == {BIRTH_DATE_SLOT}
    assert sealer().unseal(slots[BIRTH_DATE_SLOT], SENDER) == "1985-08-17"
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("31-02-1985", "tidak ada di bulan tersebut"),
        ("17-13-1985", "bulan harus angka 1 sampai 12"),
        ("17-08-2090", "belum lewat"),
        ("17 Agustus", "Tahun lahirnya belum ada"),
    ],
)
async def test_an_impossible_birth_date_is_explained_and_asked_again(
    text: str, says: str, domain: dict
) -> None:
    snapshot = tracker("tracker_schedule_asks_birth_date", text=text, slots={NIK_SLOT: "sealed:v1:x"})
    slots, dispatcher = await validate(snapshot, domain)
    assert slots == {BIRTH_DATE_SLOT: None}
    assert says in texts(dispatcher)[0]


async def test_a_faq_while_the_birth_date_is_asked_goes_to_the_rules(domain: dict) -> None:
    snapshot = tracker("tracker_schedule_asks_birth_date", text="apakah vaksin halal?", intent="faq")
    slots, dispatcher = await validate(snapshot, domain)
    assert slots == {}
    assert dispatcher.messages == []


# --- the lookup ------------------------------------------------------------------------------


async def look_up(
    person: DemoPerson, sender: str, birth_date: date | None = None, channel: str | None = None
) -> tuple[list, CollectingDispatcher]:
    snapshot = tracker(
        "tracker_schedule_complete",
        sender=sender,
        slots=identity_slots(person, sender, birth_date),
        channel=channel,
    )
    dispatcher = CollectingDispatcher()
    events = await ActionLookupSchedule().run(dispatcher, snapshot, {})
    assert_nothing_personal(dispatcher)
    return events, dispatcher


async def test_a_match_answers_with_doses_and_the_next_appointment_and_forgets(
    caplog: pytest.LogCaptureFixture, seeded_on: date
) -> None:
    caplog.set_level(logging.DEBUG)
    events, dispatcher = await look_up(DEMO_PERSON, "lookup-budi")
    assert_found(events, dispatcher)
    answer = texts(dispatcher)[0]
    appointment_day = seeded_on + timedelta(days=DEMO_PERSON_NEXT_APPOINTMENT_DAYS)
    assert "B••• S•••••o" in answer
    assert "• Dosis 1: Sinovac, 8 Maret 2021, Puskesmas Kecamatan Kebayoran Lama" in answer
    assert "• Dosis 2: Sinovac, 5 April 2021" in answer
    assert "*Jadwal berikutnya: dosis 3*" in answer
    assert f"{format_day_and_date(appointment_day)} pukul 09.00" in answer
    assert "Jl. Ciledug Raya No. 17, Cipulir, Kebayoran Lama, Jakarta Selatan 12230" in answer
    for form in BUDI_FORMS:
        assert form not in caplog.text


async def test_no_upcoming_appointment_says_so_and_how_to_register() -> None:
    events, dispatcher = await look_up(FULLY_VACCINATED_PERSON, "lookup-agus")
    assert_found(events, dispatcher)
    assert "• Dosis 4: Moderna" in texts(dispatcher)[0]
    assert "Jadwal berikutnya" not in texts(dispatcher)[0]
    assert responses(dispatcher) == [
        None,
        "utter_schedule_no_appointment",
        "utter_faq/cara_daftar",
        "utter_offer_data_check",
    ]


async def test_a_wrong_birth_date_offers_another_try_and_forgets() -> None:
    sender = conversation_id("6281100000042", SENDER_HASH_KEY)
    events, dispatcher = await look_up(DEMO_PERSON, sender, birth_date=date(1985, 8, 18), channel="whatsapp")
    assert responses(dispatcher) == ["utter_schedule_no_match"]
    assert events == [*forget_identity(), FollowupAction("schedule_form")]


async def test_over_rest_a_no_match_also_says_rest_is_for_the_demo_data() -> None:
    events, dispatcher = await look_up(DEMO_PERSON, "lookup-wrong", birth_date=date(1985, 8, 18))
    assert responses(dispatcher) == ["utter_schedule_no_match_test_channel"]
    assert events == [*forget_identity(), FollowupAction("schedule_form")]


async def test_an_nik_locked_after_five_failures_refuses_the_right_birth_date_too() -> None:
    """Five wrong birth dates from five chats lock the NIK itself, not just a conversation."""
    for attempt in range(5):
        _, dispatcher = await look_up(DEMO_WOMAN, f"lock-{attempt}", birth_date=date(1990, 3, 13))
        assert responses(dispatcher) == ["utter_schedule_no_match_test_channel"]  # over REST
    events, dispatcher = await look_up(DEMO_WOMAN, "lock-right")
    assert events == forget_identity()
    [message] = dispatcher.messages
    assert message["response"] == "utter_schedule_locked"
    assert message["lock_wait"] in {"1 jam", "59 menit", "60 menit"}  # the registry's lock, in words


async def test_a_registry_that_is_down_gets_an_apology_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_URL", closed_port_url())
    events, dispatcher = await look_up(DEMO_PERSON, "lookup-down")
    assert responses(dispatcher) == ["utter_schedule_unavailable"]
    assert events == forget_identity()


async def test_a_registry_that_is_too_slow_gets_the_same_apology(monkeypatch: pytest.MonkeyPatch) -> None:
    with scripted_server([Reply(200, {}, delay_seconds=2.0)]) as slow:
        monkeypatch.setenv("REGISTRY_URL", slow.url)
        monkeypatch.setenv("REGISTRY_READ_TIMEOUT_SECONDS", "0.2")
        events, dispatcher = await look_up(DEMO_PERSON, "lookup-slow")
    assert responses(dispatcher) == ["utter_schedule_unavailable"]
    assert events == forget_identity()


async def test_a_wrong_service_token_gets_the_same_apology(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_SERVICE_TOKEN", "a-token-the-registry-does-not-know")
    events, dispatcher = await look_up(DEMO_PERSON, "lookup-token")
    assert responses(dispatcher) == ["utter_schedule_unavailable"]
    assert events == forget_identity()


async def test_no_settings_gets_the_apology(monkeypatch: pytest.MonkeyPatch) -> None:
    snapshot = tracker("tracker_schedule_complete", slots=identity_slots(DEMO_PERSON, SENDER))
    monkeypatch.delenv("REGISTRY_SERVICE_TOKEN")
    dispatcher = CollectingDispatcher()
    events = await ActionLookupSchedule().run(dispatcher, snapshot, {})
    assert responses(dispatcher) == ["utter_schedule_unavailable"]
    assert events == forget_identity()


async def test_answers_sealed_for_another_chat_are_asked_again() -> None:
    snapshot = tracker("tracker_schedule_complete", slots=identity_slots(DEMO_PERSON, "someone-else"))
    dispatcher = CollectingDispatcher()
    events = await ActionLookupSchedule().run(dispatcher, snapshot, {})
    assert responses(dispatcher) == ["utter_schedule_expired"]
    assert events == [*forget_identity(), FollowupAction("schedule_form")]


async def test_batal_forgets_what_was_typed() -> None:
    snapshot = tracker(
        "tracker_schedule_asks_birth_date", text="batal", intent="cancel", slots={NIK_SLOT: "sealed:v1:x"}
    )
    dispatcher = CollectingDispatcher()
    events = await ActionCancelSchedule().run(dispatcher, snapshot, {})
    assert responses(dispatcher) == ["utter_schedule_cancelled"]
    assert events == [
        SlotSet(NIK_SLOT, None),
        SlotSet(BIRTH_DATE_SLOT, None),
        SlotSet(CHALLENGE_SLOT, None),
        SlotSet(CODE_SLOT, None),
    ]


async def test_batal_with_no_check_running_says_so_and_a_second_one_is_no_repeat() -> None:
    """ "gak jadi" out of the blue (or batal twice) claimed to have cancelled a check and deleted data."""
    idle = tracker("tracker_nlu_fallback", text="gak jadi", intent="cancel")
    dispatcher = CollectingDispatcher()
    events = await ActionCancelSchedule().run(dispatcher, idle, load_snapshot("domain_menu"))
    assert responses(dispatcher) == ["utter_schedule_nothing_to_cancel"]
    assert events == forget_identity()
    said = [bot("utter_schedule_nothing_to_cancel"), {"event": "action", "name": "action_listen"}]
    again = tracker("tracker_nlu_fallback", text="gak jadi", intent="cancel", before_latest=said)
    dispatcher = CollectingDispatcher()
    events = await ActionCancelSchedule().run(dispatcher, again, load_snapshot("domain_menu"))
    assert responses(dispatcher) == ["utter_uncertain_answer"], "stuck: the menu, an uncertain turn"
    assert slot_events(events)["fallback_streak"] == 1.0


async def test_batal_right_after_the_rule_stopped_the_form_cancels_it() -> None:
    stopped = [{"event": "action", "name": "action_deactivate_loop"}, {"event": "active_loop", "name": None}]
    state = load_snapshot("tracker_schedule_asks_nik")
    state["events"] += stopped
    state["latest_message"]["intent"] = {"name": "cancel", "confidence": 0.9}
    dispatcher = CollectingDispatcher()
    await ActionCancelSchedule().run(dispatcher, Tracker.from_dict(state), {})
    assert responses(dispatcher) == ["utter_schedule_cancelled"]


async def test_batal_at_the_code_step_forgets_the_code_too() -> None:
    snapshot = tracker(
        "tracker_schedule_asks_birth_date",
        text="batal",
        intent="cancel",
        slots={CHALLENGE_SLOT: "sealed:v1:x", "requested_slot": CODE_SLOT},
    )
    dispatcher = CollectingDispatcher()
    events = await ActionCancelSchedule().run(dispatcher, snapshot, {})
    assert responses(dispatcher) == ["utter_schedule_cancelled"]
    assert slot_events(events) == {
        NIK_SLOT: None,
        BIRTH_DATE_SLOT: None,
        CHALLENGE_SLOT: None,
        CODE_SLOT: None,
    }


# --- the second factor on WhatsApp -----------------------------------------------------------


def last_code(graph: FakeGraphApi) -> str:
    """The code the phone on file got, as the template's body shows it."""
    message = graph.sent(to=BUDI_PHONE)[-1]["message"]
    assert message["type"] == "template"
    return str(message["template"]["components"][0]["parameters"][0]["text"])


def code_step(sender: str, text: str, intent: str | None = None, challenge: str | None = None) -> Tracker:
    """The form waiting for the code, and the person's answer."""
    return tracker(
        "tracker_schedule_asks_birth_date",
        text=text,
        intent=intent,
        sender=sender,
        channel="whatsapp",
        slots={"requested_slot": CODE_SLOT, CHALLENGE_SLOT: challenge or sealer().seal("c" * 43, sender)},
    )


async def send_code(sender: str) -> tuple[list, CollectingDispatcher]:
    return await look_up(DEMO_PERSON, sender, channel="whatsapp")


async def test_from_the_number_on_file_the_record_comes_at_once(graph: FakeGraphApi) -> None:
    before = len(graph.sent())
    events, dispatcher = await look_up(DEMO_PERSON, BUDI_CHAT, channel="whatsapp")
    assert "B••• S•••••o" in texts(dispatcher)[0]
    assert_found(events, dispatcher)
    assert len(graph.sent()) == before


async def test_from_another_number_a_code_goes_to_the_number_on_file_and_the_form_asks_for_it(
    graph: FakeGraphApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sender = conversation_id("6281100000001", SENDER_HASH_KEY)
    events, dispatcher = await send_code(sender)
    [said] = texts(dispatcher)
    assert "kode verifikasi 6 angka sudah dikirim lewat WhatsApp" in said
    assert "+62 8••••••0001" in said
    slots = slot_events(events)
    assert slots[NIK_SLOT] is None and slots[BIRTH_DATE_SLOT] is None
    challenge = sealer().unseal(slots[CHALLENGE_SLOT], sender)
    assert challenge is not None and challenge not in said
    assert events[-1] == FollowupAction("schedule_form")
    code = last_code(graph)
    assert code not in said and code not in caplog.text

    # The form now asks only for the code; the person types it.
    validated, asked = await validate(
        code_step(sender, f"ini kodenya {code[:3]} {code[3:]}"), load_snapshot("domain_schedule")
    )
    assert sealer().unseal(validated[CODE_SLOT], sender) == code
    assert validated["requested_slot"] is None  # the form is done: the lookup runs
    assert asked.messages == []

    lookup = tracker(
        "tracker_schedule_complete",
        sender=sender,
        channel="whatsapp",
        slots={CHALLENGE_SLOT: slots[CHALLENGE_SLOT], CODE_SLOT: validated[CODE_SLOT]},
    )
    dispatcher = CollectingDispatcher()
    events = await ActionLookupSchedule().run(dispatcher, lookup, {})
    assert "B••• S•••••o" in texts(dispatcher)[0]
    assert "*Jadwal berikutnya: dosis 3*" in texts(dispatcher)[0]
    assert_found(events, dispatcher)
    assert code not in caplog.text


async def test_a_wrong_code_asks_again_with_the_attempts_left(graph: FakeGraphApi) -> None:
    sender = conversation_id("6281100000002", SENDER_HASH_KEY)
    events, _ = await send_code(sender)
    challenge = slot_events(events)[CHALLENGE_SLOT]
    wrong = f"{(int(last_code(graph)) + 1) % 10**6:06d}"
    snapshot = tracker(
        "tracker_schedule_complete",
        sender=sender,
        channel="whatsapp",
        slots={CHALLENGE_SLOT: challenge, CODE_SLOT: sealer().seal(wrong, sender)},
    )
    dispatcher = CollectingDispatcher()
    events = await ActionLookupSchedule().run(dispatcher, snapshot, {})
    assert texts(dispatcher) == ["Kode verifikasi salah. Sisa percobaan: 4."]
    assert events == [SlotSet(CODE_SLOT, None), FollowupAction("schedule_form")]  # the challenge stays


async def test_a_code_from_an_expired_step_starts_the_check_again() -> None:
    sender = conversation_id("6281100000003", SENDER_HASH_KEY)
    snapshot = tracker(
        "tracker_schedule_complete",
        sender=sender,
        channel="whatsapp",
        slots={CHALLENGE_SLOT: "sealed:v1:expired", CODE_SLOT: sealer().seal("123456", sender)},
    )
    dispatcher = CollectingDispatcher()
    events = await ActionLookupSchedule().run(dispatcher, snapshot, {})
    assert responses(dispatcher) == ["utter_schedule_expired"]
    assert events == [*forget_identity(), FollowupAction("schedule_form")]


async def test_a_code_the_registry_does_not_know_starts_the_check_again() -> None:
    sender = conversation_id("6281100000004", SENDER_HASH_KEY)
    snapshot = tracker(
        "tracker_schedule_complete",
        sender=sender,
        channel="whatsapp",
        slots={CHALLENGE_SLOT: sealer().seal("x" * 43, sender), CODE_SLOT: sealer().seal("123456", sender)},
    )
    dispatcher = CollectingDispatcher()
    events = await ActionLookupSchedule().run(dispatcher, snapshot, {})
    assert texts(dispatcher) == ["Kode verifikasi sudah tidak berlaku. Silakan mulai lagi dari awal."]
    assert events == [*forget_identity(), FollowupAction("schedule_form")]


@pytest.mark.parametrize(
    ("text", "intent"),
    [("hah maksudnya gimana", "out_of_scope"), ("kodenya 12345", None), ("123456 atau 654321", None)],
)
async def test_an_unclear_reply_at_the_code_step_asks_for_the_code_again(
    text: str, intent: str | None, domain: dict
) -> None:
    slots, dispatcher = await validate(code_step("code-unclear", text, intent), domain)
    assert slots == {CODE_SLOT: None, "requested_slot": CODE_SLOT}  # the code, not the NIK
    assert responses(dispatcher) == ["utter_schedule_not_a_code"]


async def test_a_question_at_the_code_step_goes_to_the_rules(domain: dict) -> None:
    slots, dispatcher = await validate(code_step("code-faq", "vaksin bayar ga?", "faq"), domain)
    assert CODE_SLOT not in slots and NIK_SLOT not in slots
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("text", "code"),
    [("123456", "123456"), ("123 456", "123456"), ("kode: 123-456 kak", "123456"), ("0012345", None),
     ("3174051708859001", None), ("12 34 56", None), ("", None)],
)  # fmt: skip
def test_read_code(text: str, code: str | None) -> None:
    assert read_code(text) == code


async def test_a_menu_number_while_the_birth_date_is_asked_leaves_the_form_to_the_rules(domain: dict) -> None:
    snapshot = tracker("tracker_schedule_asks_birth_date", text="3", intent="choose_option")
    slots, dispatcher = await validate(snapshot, domain)
    assert slots == {}
    assert dispatcher.messages == []
