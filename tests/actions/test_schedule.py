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
from actions.schedule import (
    BIRTH_DATE_SLOT,
    NIK_SLOT,
    ActionCancelSchedule,
    ActionLookupSchedule,
    ValidateScheduleForm,
    forget_identity,
    sealer_from,
    today_in_indonesia,
)
from actions.sealing import Sealer
from actions.settings import load_settings
from services.registry.demo import DEMO_PERSON, DEMO_WOMAN, FULLY_VACCINATED_PERSON, DemoPerson
from tests.actions.conftest import load_snapshot
from tests.actions.servers import SERVICE_TOKEN, Reply, closed_port_url, registry_app, scripted_server

SENDER = "snapshot-schedule"
BUDI_FORMS = (
    "3174051708859001",
    "3174 0517 0885 9001",
    "17-08-1985",
    "17/8/85",
    "17 Agustus 1985",
    "1985-08-17",
)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database: Path = tmp_path_factory.mktemp("registry") / "registry.db"
    with registry_app(database, today_in_indonesia()) as url:
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
) -> Tracker:
    """A snapshot with the latest message (and its user event) and slots replaced as needed."""
    state = load_snapshot(snapshot)
    state["sender_id"] = sender
    user_event = next(event for event in reversed(state["events"]) if event["event"] == "user")
    if text is not None:
        state["latest_message"]["text"] = user_event["text"] = text
    if intent is not None:
        ranked = {"name": intent, "confidence": 0.9}
        state["latest_message"]["intent"] = user_event["parse_data"]["intent"] = ranked
        state["latest_message"]["intent_ranking"] = [ranked]
    state["slots"].update(slots or {})
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
        ("saya lupa NIK nya", "Saya tidak menemukan NIK di pesan Anda"),
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
    ],
)
async def test_a_question_or_batal_leaves_the_form_to_the_rules(text: str, intent: str, domain: dict) -> None:
    """Nothing extracted and nothing said: the form is rejected and a rule answers."""
    slots, dispatcher = await validate(tracker("tracker_schedule_asks_nik", text=text, intent=intent), domain)
    assert slots == {}
    assert dispatcher.messages == []


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
        ("lupa kak", "tidak menemukan tanggal lahir"),
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
    person: DemoPerson, sender: str, birth_date: date | None = None
) -> tuple[list, CollectingDispatcher]:
    snapshot = tracker(
        "tracker_schedule_complete", sender=sender, slots=identity_slots(person, sender, birth_date)
    )
    dispatcher = CollectingDispatcher()
    events = await ActionLookupSchedule().run(dispatcher, snapshot, {})
    assert_nothing_personal(dispatcher)
    return events, dispatcher


async def test_a_match_answers_with_doses_and_the_next_appointment_and_forgets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    events, dispatcher = await look_up(DEMO_PERSON, "lookup-budi")
    assert events == forget_identity()
    [answer] = texts(dispatcher)
    appointment_day = today_in_indonesia() + timedelta(days=14)
    assert "B*** S*****o" in answer
    assert "• Dosis 1: Sinovac, 8 Maret 2021, Puskesmas Kecamatan Kebayoran Lama" in answer
    assert "• Dosis 2: Sinovac, 5 April 2021" in answer
    assert "*Jadwal berikutnya: dosis 3*" in answer
    assert f"{format_day_and_date(appointment_day)} pukul 09.00" in answer
    assert "Jl. Ciledug Raya No. 17, Cipulir, Kebayoran Lama, Jakarta Selatan 12230" in answer
    for form in BUDI_FORMS:
        assert form not in caplog.text


async def test_no_upcoming_appointment_says_so_and_how_to_register() -> None:
    events, dispatcher = await look_up(FULLY_VACCINATED_PERSON, "lookup-agus")
    assert events == forget_identity()
    assert "• Dosis 4: Moderna" in texts(dispatcher)[0]
    assert "Jadwal berikutnya" not in texts(dispatcher)[0]
    assert responses(dispatcher) == [None, "utter_schedule_no_appointment", "utter_faq/cara_daftar"]


async def test_a_wrong_birth_date_offers_another_try_and_forgets() -> None:
    events, dispatcher = await look_up(DEMO_PERSON, "lookup-wrong", birth_date=date(1985, 8, 18))
    assert responses(dispatcher) == ["utter_schedule_no_match"]
    assert events == [*forget_identity(), FollowupAction("schedule_form")]


async def test_an_nik_locked_after_five_failures_refuses_the_right_birth_date_too() -> None:
    """Five wrong birth dates from five chats lock the NIK itself, not just a conversation."""
    for attempt in range(5):
        _, dispatcher = await look_up(DEMO_WOMAN, f"lock-{attempt}", birth_date=date(1990, 3, 13))
        assert responses(dispatcher) == ["utter_schedule_no_match"]
    events, dispatcher = await look_up(DEMO_WOMAN, "lock-right")
    assert events == forget_identity()
    [message] = texts(dispatcher)
    assert "Terlalu banyak percobaan" in message and "119 ext. 9" in message


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
    assert events == [SlotSet(NIK_SLOT, None), SlotSet(BIRTH_DATE_SLOT, None)]
