"""The tracker store writes no NIK and no birth date, in any form the schedule check accepts."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from rasa_project.tracker_store import (
    DATE_PLACEHOLDER,
    MONTH_WORDS,
    NIK_PLACEHOLDER,
    RedactingSQLTrackerStore,
    redact_text,
)

ROOT = Path(__file__).resolve().parents[2]
NIK_FORMS = (
    "3174051708859001",
    "3174 0517 0885 9001",
    "3174-0517-0885-9001",
    "3174.0517.0885.9001",
    "317405 170885 9001",
    "3174\u00a00517\u00a00885\u00a09001",
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


def accepted_month_words() -> dict[str, int]:
    """MONTHS of actions/dates.py, loaded by path: the actions package needs the other environment."""
    spec = importlib.util.spec_from_file_location("schedule_dates", ROOT / "actions" / "dates.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return dict(module.MONTHS)


@pytest.mark.parametrize("nik", NIK_FORMS)
def test_an_nik_is_redacted_however_it_is_spaced(nik: str) -> None:
    assert redact_text(f"NIK saya {nik} ya") == f"NIK saya {NIK_PLACEHOLDER} ya"


@pytest.mark.parametrize("birth_date", DATE_FORMS)
def test_a_birth_date_is_redacted_in_every_accepted_form(birth_date: str) -> None:
    assert redact_text(f"lahir {birth_date}.") == f"lahir {DATE_PLACEHOLDER}."


def test_every_month_word_the_form_accepts_is_redacted() -> None:
    words = accepted_month_words()
    assert set(words) == set(MONTH_WORDS)
    for word in words:
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


def test_endpoints_yml_configures_the_redacting_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A typo in the class path would make Rasa fall back to an in-memory store without failing."""
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("TRACKER_DB_DIALECT", "sqlite")
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "tracker.db"))
    config = read_endpoint_config(str(ROOT / "rasa_project" / "endpoints.yml"), "tracker_store")
    store = TrackerStore.create(config, DOMAIN)
    assert isinstance(store, RedactingSQLTrackerStore)
    assert (tmp_path / "tracker.db").exists()
