"""The tracker store writes no NIK and no birth date, in any form the schedule check accepts."""

from __future__ import annotations

import asyncio
import base64
import random
import re
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from core.months import MONTHS
from core.outreach_slots import KIPI_CONFIRM_RESPONSE, KIPI_SYMPTOMS_SLOT
from core.personal_data import DATE_PLACEHOLDER, NIK_PLACEHOLDER, WITHHELD_PLACEHOLDER, redact_text
from core.schedule_slots import CODE_SLOT, REQUESTED_SLOT
from rasa_project.tracker_store import RedactingSQLTrackerStore, TrackerStoreUnavailable, redact_event

ROOT = Path(__file__).resolve().parents[2]
NIK_FORMS = (
    "3174051708859001",
    "3174 0517 0885 9001",
    "3174-0517-0885-9001",
    "3174.0517.0885.9001",
    "317405 170885 9001",
    "3174\u00a00517\u00a00885\u00a09001",
    "3174/0517/0885/9001",
    "3174, 0517, 0885, 9001",
    "3174\n0517\n0885\n9001",
)
DATE_FORMS = (
    "17-08-1985",
    "17/8/85",
    "17/08/1985",
    "17.08.1985",
    "17 - 08 - 1985",
    "17 08 1985",
    "1985-08-17",
    "17081985",
    "17 Agustus 1985",
    "17 agustus 1985",
    "17 agt 85",
    "17 AGT. 85",
    "17-Agustus-1985",
    "17 ags '85",
    "17 August 1985",
    "Agustus 17, 1985",
    "17agustus1985",
    "17-Agu-1985",
)
SEARCHED = (
    *NIK_FORMS,
    "1985-08-17",
    "17-08-1985",
    "17/8/85",
    "17/08/1985",
    "17 agustus 1985",
    "17 agt 85",
    "17081985",
)
DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [check_schedule, nlu_fallback]
slots:
  schedule_nik:
    type: text
    influence_conversation: false
    mappings:
    - type: custom
  schedule_birth_date:
    type: text
    influence_conversation: false
    mappings:
    - type: custom
"""
)


@pytest.mark.parametrize("nik", NIK_FORMS)
def test_an_nik_is_redacted_however_it_is_spaced(nik: str) -> None:
    assert redact_text(f"NIK saya {nik} ya") == f"NIK saya {NIK_PLACEHOLDER} ya"


@pytest.mark.parametrize("birth_date", DATE_FORMS)
def test_a_birth_date_is_redacted_in_every_accepted_form(birth_date: str) -> None:
    assert redact_text(f"lahir {birth_date}.") == f"lahir {DATE_PLACEHOLDER}."


def test_every_month_word_the_form_accepts_is_redacted() -> None:
    """The schedule check reads months from the same table (core/months.py)."""
    for word in MONTHS:
        assert redact_text(f"5 {word} 1990") == DATE_PLACEHOLDER, word
        assert redact_text(f"5 {word.upper()} 90") == DATE_PLACEHOLDER, word


def test_impossible_dates_and_wrong_length_niks_are_redacted_too() -> None:
    """What people typed by mistake is as personal as what they typed right."""
    assert redact_text("31-02-1985") == DATE_PLACEHOLDER
    assert redact_text("3174 0517 0885") == "[NOMOR]"
    assert redact_text("31740517088590011") == NIK_PLACEHOLDER


@pytest.mark.parametrize(
    "text",
    [
        "vaksin bayar ga?",
        "jarak dosis 1 ke 2 berapa lama",
        "booster kedua tahun 2023 masih bisa?",
        "hubungi 119 ext 9",
        "jadwal saya jam 09.00",
        "anak umur 12 tahun boleh vaksin?",
    ],
)
def test_ordinary_questions_are_kept_as_they_are(text: str) -> None:
    assert redact_text(text) == text


def conversation() -> DialogueStateTracker:
    said = "NIK 3174 0517 0885 9001, lahir 17 Agustus 1985"
    parse_data = {
        "text": said,
        "intent": {"name": "check_schedule", "confidence": 0.9},
        "entities": [{"entity": "nik", "value": "3174051708859001", "start": 4, "end": 23}],
    }
    return DialogueStateTracker.from_events(
        "store-test",
        [
            ActionExecuted("action_listen"),
            UserUttered(said, parse_data["intent"], parse_data["entities"], parse_data),
            SlotSet("schedule_nik", "3174051708859001"),  # a plaintext value, should one ever slip in
            SlotSet("schedule_birth_date", "sealed:v1:AbC-_12"),
            BotUttered("Dosis 1: Sinovac, 8 Maret 2021"),
            ActionExecuted("action_listen"),
            UserUttered("17/8/85", {"name": "nlu_fallback", "confidence": 0.3}),
        ],
        slots=DOMAIN.slots,
    )


def raw_database(path: Path) -> str:
    return b"".join(file.read_bytes() for file in path.parent.glob(f"{path.name}*")).decode("latin-1").lower()


async def test_what_is_stored_is_redacted_and_the_live_conversation_is_not(tmp_path: Path) -> None:
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(database))
    tracker = conversation()
    await store.save(tracker)

    assert tracker.latest_message is not None and tracker.latest_message.text == "17/8/85"
    assert tracker.get_slot("schedule_nik") == "3174051708859001"  # the running turn still sees it
    first = next(event for event in tracker.events if isinstance(event, UserUttered))
    assert "3174 0517 0885 9001" in first.parse_data["text"]
    assert first.parse_data["entities"][0]["value"] == "3174051708859001"

    stored = raw_database(database)
    assert not [form for form in SEARCHED if form.lower() in stored]
    assert re.search(r"3174\D{0,3}0517", stored) is None
    assert "sealed:v1:abc-_12" in stored  # sealed values are left for the form
    assert "8 maret 2021" in stored  # bot replies are not touched

    back = await store.retrieve("store-test")
    assert back is not None
    user_texts = [event.text for event in back.events if isinstance(event, UserUttered)]
    assert user_texts == ["NIK [NIK], lahir [TANGGAL]", "[TANGGAL]"]
    assert back.get_slot("schedule_nik") == NIK_PLACEHOLDER


async def test_later_turns_append_only_their_own_redacted_events(tmp_path: Path) -> None:
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(database))
    tracker = conversation()
    await store.save(tracker)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("3174051708859001", {"name": "nlu_fallback", "confidence": 0.3}))
    await store.save(tracker)
    back = await store.retrieve("store-test")
    assert back is not None
    assert len(back.events) == len(tracker.events)
    assert not [form for form in SEARCHED if form.lower() in raw_database(database)]


def counted_statements(store: RedactingSQLTrackerStore) -> list[str]:
    """Every COUNT the store sends its database from now on (SQLAlchemy's own statement hook)."""
    counts: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if "count(" in statement.lower():
            counts.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", seen)
    return counts


async def test_a_read_conversation_is_saved_without_counting_its_events_again(tmp_path: Path) -> None:
    """The events a turn read are known to be stored: a save appends the rest, twice in a turn too."""
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(database))
    await store.save(conversation())  # written by another process: this tracker was never read here
    counts = counted_statements(store)
    tracker = await store.retrieve("store-test")
    assert tracker is not None
    tracker.update(UserUttered("kapan booster?", {"name": "faq", "confidence": 0.9}))
    await store.save(tracker)
    tracker.update(BotUttered("Booster: *enam bulan* setelah dosis terakhir."))
    await store.save(tracker)
    assert counts == []
    back = await store.retrieve("store-test")
    assert back is not None
    assert [event.as_dict() for event in back.events][-2:] == [e.as_dict() for e in list(tracker.events)[-2:]]
    assert len(back.events) == len(tracker.events)


async def test_a_new_conversation_is_created_and_saved_without_a_count(tmp_path: Path) -> None:
    """Rasa reads a conversation, finds nothing and saves a new tracker: nothing to count."""
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(database))
    counts = counted_statements(store)
    tracker = await store.get_or_create_tracker("new-sender")
    tracker.update(UserUttered("halo", {"name": "greet", "confidence": 0.99}))
    await store.save(tracker)
    assert counts == []
    back = await store.retrieve("new-sender")
    assert back is not None
    assert [event.as_dict() for event in back.events] == [event.as_dict() for event in tracker.events]


async def test_a_conversation_written_elsewhere_after_an_empty_read_is_counted(tmp_path: Path) -> None:
    """An empty read is forgotten by the next read: a tracker this process did not read is counted."""
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(database))
    elsewhere = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(database))
    assert await store.retrieve("store-test") is None
    await elsewhere.save(conversation())  # another process starts the conversation
    assert await store.retrieve("store-test") is not None
    tracker = conversation()  # a tracker not read here, e.g. replaced through the HTTP API
    tracker.update(UserUttered("kapan booster?", {"name": "faq", "confidence": 0.9}))
    await store.save(tracker)
    back = await store.retrieve("store-test")
    assert back is not None
    assert len(back.events) == len(tracker.events)  # appended once, nothing stored twice


async def test_a_new_session_started_in_a_turn_is_stored_once_and_in_order(tmp_path: Path) -> None:
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(database))
    await store.save(conversation())
    tracker = await store.retrieve("store-test")
    assert tracker is not None
    before = len(tracker.events)
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
    await store.save(tracker)  # as Rasa saves after a session start, then again at the turn's end
    tracker.update(UserUttered("halo", {"name": "greet", "confidence": 0.99}))
    await store.save(tracker)
    full = await store.retrieve_full_tracker("store-test")
    assert full is not None
    kinds = [type(event).__name__ for event in tracker.events]
    assert [type(event).__name__ for event in full.events] == kinds
    session = await store.retrieve("store-test")  # the current session only: from its start on
    assert session is not None and len(session.events) == len(tracker.events) - before - 1


ISSUE_11_MESSAGES = (  # what was stored as typed before (issue #11, item 5)
    "nik saya 3174/0517/0885/9001",
    "3174, 0517, 0885, 9001",
    "3174\n0517\n0885\n9001",
    "lahir Agustus 17, 1985",
    "lahir 17agustus1985",
    "3174",  # and on WhatsApp a group at a time, each line a message
    "0517",
    "0885",
    "9001",
)


# Digits as typed stand alone; inside a longer number they are an event's timestamp (1796642889.1219857
# held "1985" in one run).
TYPED_ALONE = r"(?<!\d){}(?!\d)"


async def test_no_spelling_of_an_nik_or_a_birth_date_reaches_the_database(tmp_path: Path) -> None:
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(database))
    events = [ActionExecuted("action_listen")]
    for said in ISSUE_11_MESSAGES:
        parse_data = {"text": said, "intent": {"name": "nlu_fallback", "confidence": 0.3}, "entities": []}
        events += [UserUttered(said, parse_data["intent"], [], parse_data), ActionExecuted("action_listen")]
    await store.save(DialogueStateTracker.from_events("spellings", events, slots=DOMAIN.slots))

    stored = raw_database(database)
    assert not re.search(r"3174\D{0,3}0517|0885\D{0,3}9001|agustus\D{0,3}17|17\D{0,3}agustus", stored)
    assert not re.search(TYPED_ALONE.format("1985"), stored)
    back = await store.retrieve("spellings")
    assert back is not None
    assert [event.text for event in back.events if isinstance(event, UserUttered)] == [
        "nik saya [NIK]",
        "[NIK]",
        "[NIK]",
        "lahir [TANGGAL]",
        "lahir [TANGGAL]",
        "[NOMOR]",
        "[NOMOR]",
        "[NOMOR]",
        "[NOMOR]",
    ]


def test_sealed_values_reach_the_form_intact() -> None:
    """Ciphertext holds digit runs and month-like letters by chance; redacting it would break the form."""
    generator = random.Random(11)  # among these 10,000 tokens, 5 would be taken for dates
    for _ in range(10_000):
        token = "sealed:v2:" + base64.urlsafe_b64encode(generator.randbytes(80)).decode()
        stored = redact_event(SlotSet("schedule_nik", token))
        assert isinstance(stored, SlotSet) and stored.value == token


async def test_metadata_and_entities_are_redacted_too(tmp_path: Path) -> None:
    """A REST client may send any metadata, and Rasa stores it with the message."""
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(database))
    said = "cek jadwal"
    parse_data = {
        "text": said,
        "intent": {"name": "check_schedule", "confidence": 0.9},
        "entities": [{"entity": "nik", "value": "3174/0517/0885/9001", "text": "3174/0517/0885/9001"}],
    }
    message = UserUttered(
        said,
        parse_data["intent"],
        parse_data["entities"],
        parse_data,
        metadata={"nik": "3174 0517 0885 9001", "notes": ["lahir Agustus 17, 1985"]},
    )
    tracker = DialogueStateTracker.from_events(
        "metadata", [ActionExecuted("action_listen"), message], slots=DOMAIN.slots
    )
    await store.save(tracker)
    stored = raw_database(database)
    assert not re.search(TYPED_ALONE.format("3174"), stored)
    assert not re.search(TYPED_ALONE.format("1985"), stored)
    assert "check_schedule" in stored


def test_endpoints_yml_configures_the_redacting_store(
    tmp_path: Path, every_variable: pytest.MonkeyPatch
) -> None:
    """A typo in the class path would make Rasa fall back to an in-memory store without failing."""
    config = read_endpoint_config(str(ROOT / "rasa_project" / "endpoints.yml"), "tracker_store")
    store = TrackerStore.create(config, DOMAIN)
    assert isinstance(store, RedactingSQLTrackerStore)
    assert (tmp_path / "tracker.db").exists()


LONE_SURROGATE_SENDER = "\ud800"
PRIVATE_TEXT = "NIK saya 3174051708859001 lahir 17 Agustus 1985"


async def test_a_sender_id_the_database_cannot_encode_is_an_error_not_an_exit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Rasa's own store took the UnicodeEncodeError for a missing schema and exited (issue #11)."""
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    with pytest.raises(TrackerStoreUnavailable):
        await store.retrieve(LONE_SURROGATE_SENDER)
    tracker = DialogueStateTracker.from_events(
        LONE_SURROGATE_SENDER,
        [ActionExecuted("action_listen"), UserUttered(PRIVATE_TEXT, {"name": "nlu_fallback"})],
        slots=DOMAIN.slots,
    )
    with pytest.raises(TrackerStoreUnavailable):
        await store.save(tracker)
    with pytest.raises(TrackerStoreUnavailable):
        await store.retrieve_full_tracker(LONE_SURROGATE_SENDER)
    await store.save(conversation())  # the store goes on working for everyone else
    assert await store.retrieve("store-test") is not None
    failures = [record for record in caplog.records if record.name == "rasa_project.tracker_store"]
    assert failures and all("UnicodeEncodeError" in record.getMessage() for record in failures)


async def test_a_store_failure_is_logged_without_what_the_person_wrote(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLAlchemy's error messages quote the statement's parameters: the event with the text."""
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(database))
    said = "pertanyaan rahasia tentang jadwal ibu saya di puskesmas"
    tracker = DialogueStateTracker.from_events(
        "store-failure", [ActionExecuted("action_listen"), UserUttered(said)], slots=DOMAIN.slots
    )
    with sqlite3.connect(database) as connection:
        connection.execute("DROP TABLE events")
        connection.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT NOT NULL)")
    with pytest.raises(TrackerStoreUnavailable) as raised:
        await store.save(tracker)
    logged = caplog.text + str(raised.value) + repr(raised.value.__cause__)
    assert "OperationalError" in logged
    assert said not in logged


CODE_DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [check_schedule, nlu_fallback]
slots:
  schedule_code:
    type: text
    influence_conversation: false
    mappings:
    - type: custom
forms:
  schedule_form:
    required_slots: [schedule_code]
"""
)
CODE = "482913"
CODE_ANSWERS = (  # how people answer "type the code", the code in each
    "kodenya 482 913",
    "482913",
    "ini 482-913 ya kak",
    "48 29 13",  # the form does not take this spelling; it is still the code
    "empat delapan dua sembilan satu tiga",
)


def code_step_events(answers: tuple[str, ...]) -> list[Event]:
    """The form asks for the code; each answer is read (a wrong one asked again); then the form ends."""
    events: list[Event] = []
    for said in answers:
        parse_data = {
            "text": said,
            "intent": {"name": "nlu_fallback", "confidence": 0.3},
            "entities": [{"entity": "number", "value": said, "start": 0, "end": len(said)}],
        }
        events += [
            SlotSet(REQUESTED_SLOT, CODE_SLOT),
            BotUttered("Ketik kode verifikasi (6 angka)."),
            ActionExecuted("action_listen"),
            UserUttered(said, parse_data["intent"], parse_data["entities"], parse_data, metadata={"t": said}),
            ActionExecuted("schedule_form"),
            SlotSet(CODE_SLOT, "sealed:v1:AbC-_12"),
        ]
    return [*events, SlotSet(REQUESTED_SLOT, None), ActionExecuted("action_listen")]


async def test_a_one_time_code_typed_at_the_code_step_is_never_stored(tmp_path: Path) -> None:
    """However it is typed, with words around it or not; the rest of the message is kept."""
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(domain=CODE_DOMAIN, dialect="sqlite", db=str(database))
    tracker = DialogueStateTracker.from_events(
        "code-step", code_step_events(CODE_ANSWERS), slots=CODE_DOMAIN.slots
    )
    await store.save(tracker)

    stored = raw_database(database)
    assert re.search(r"48\D{0,3}29\D{0,3}13", stored) is None
    assert "delapan" not in stored and "sembilan" not in stored
    assert "sealed:v1:abc-_12" in stored  # the form's sealed copy is kept for the lookup
    back = await store.retrieve("code-step")
    assert back is not None
    messages = [event for event in back.events if isinstance(event, UserUttered)]
    assert [message.text for message in messages] == [
        "kodenya [KODE]",
        "[KODE]",
        "ini [KODE] ya kak",
        "[KODE]",
        "[KODE]",
    ]
    for message in messages:
        assert message.parse_data["text"] == message.text
        assert [entity["value"] for entity in message.entities] == [message.text]
        assert message.metadata == {"t": message.text}
    live = [event.text for event in tracker.events if isinstance(event, UserUttered)]
    assert live == list(CODE_ANSWERS)  # the running turn still reads the code


async def test_only_the_answer_to_the_code_question_is_read_as_a_code(tmp_path: Path) -> None:
    """A later message with six digits is no code: kept, as any message (an NIK or date would still go)."""
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(domain=CODE_DOMAIN, dialect="sqlite", db=str(database))
    tracker = DialogueStateTracker.from_events(
        "after-code", code_step_events(("kodenya 482 913",)), slots=CODE_DOMAIN.slots
    )
    await store.save(tracker)
    tracker.update(UserUttered("antrian nomor 482 913, lahir 17 Agustus 1985"))
    await store.save(tracker)
    back = await store.retrieve("after-code")
    assert back is not None
    assert [event.text for event in back.events if isinstance(event, UserUttered)] == [
        "kodenya [KODE]",
        "antrian nomor 482 913, lahir [TANGGAL]",
    ]


async def test_a_code_typed_in_the_turn_after_the_question_was_stored_is_still_read_as_a_code(
    tmp_path: Path,
) -> None:
    """Only a turn's new events are redacted; what the form asked is read from the stored ones too."""
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(domain=CODE_DOMAIN, dialect="sqlite", db=str(database))
    asked, answer = code_step_events(("482913",))[:3], "kodenya 482 913"
    tracker = DialogueStateTracker.from_events("code-later", asked, slots=CODE_DOMAIN.slots)
    await store.save(tracker)  # the question, stored in its own turn
    tracker.update(UserUttered(answer))
    await store.save(tracker)
    assert re.search(r"482\D{0,3}913", raw_database(database)) is None
    back = await store.retrieve("code-later")
    assert back is not None
    assert [event.text for event in back.events if isinstance(event, UserUttered)] == ["kodenya [KODE]"]


async def test_a_conversation_waiting_for_the_database_does_not_hold_up_the_others(tmp_path: Path) -> None:
    """The database is called off the event loop: while one save waits for a locked database, the
    process goes on (here: the coroutine that unlocks it gets to run, so the save succeeds)."""
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(database))
    await store.save(DialogueStateTracker.from_events("other", [UserUttered("halo")], slots=DOMAIN.slots))
    locker = sqlite3.connect(database)
    locker.execute("BEGIN EXCLUSIVE")
    ticks = 0

    async def other_conversations() -> None:
        nonlocal ticks
        while ticks < 5:
            await asyncio.sleep(0.02)
            ticks += 1
        locker.rollback()  # only reached if the loop was free while the save waited

    save = asyncio.create_task(store.save(conversation()))
    await asyncio.wait_for(asyncio.gather(save, other_conversations()), timeout=30)
    locker.close()
    assert ticks == 5
    back = await store.retrieve("store-test")
    assert back is not None and len(back.events) == len(conversation().events)


PRIVATE_DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [report_kipi, nlu_fallback]
responses:
  utter_kipi_confirm:
  - text: "Gejala: {symptoms}"
  utter_kipi_thanks:
  - text: "Terima kasih, laporan sudah kami terima."
"""
)


async def test_answers_to_correction_and_kipi_questions_are_withheld_whole(tmp_path: Path) -> None:
    """Symptoms, a new name or number: the registry keeps them, the transcript only says they were withheld.

    The bot's read-back of those answers is withheld too; other messages stay readable.
    """
    database = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(domain=PRIVATE_DOMAIN, dialect="sqlite", db=str(database))
    said = "demam tinggi dan ruam merah di lengan"
    events: list[Event] = [
        UserUttered("mau lapor efek samping", {"name": "report_kipi", "confidence": 0.9}),
        SlotSet(REQUESTED_SLOT, KIPI_SYMPTOMS_SLOT),
        BotUttered("Gejala apa yang dirasakan?"),
        ActionExecuted("action_listen"),
        UserUttered(said, {"name": "nlu_fallback", "confidence": 0.3}, metadata={"t": said}),
        BotUttered(f"Gejala: {said}", metadata={"utter_action": KIPI_CONFIRM_RESPONSE}),
        SlotSet(REQUESTED_SLOT, None),
        BotUttered(
            "Terima kasih, laporan sudah kami terima.", metadata={"utter_action": "utter_kipi_thanks"}
        ),
    ]
    await store.save(DialogueStateTracker.from_events("kipi", events, slots=PRIVATE_DOMAIN.slots))

    assert "ruam" not in raw_database(database)
    back = await store.retrieve("kipi")
    assert back is not None
    assert [e.text for e in back.events if isinstance(e, UserUttered)] == [
        "mau lapor efek samping",
        WITHHELD_PLACEHOLDER,
    ]
    assert [e.text for e in back.events if isinstance(e, BotUttered)] == [
        "Gejala apa yang dirasakan?",
        WITHHELD_PLACEHOLDER,
        "Terima kasih, laporan sudah kami terima.",
    ]
