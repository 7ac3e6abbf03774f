"""Side-effect (KIPI) reports by chat, against the real registry app: danger signs first, then the form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.correction import remember_record
from actions.kipi import (
    ActionAskKipiConfirmed,
    ActionAskKipiSeverity,
    ActionAskKipiSymptoms,
    ActionCancelKipi,
    ActionStartKipi,
    ActionSubmitKipi,
    ValidateKipiForm,
)
from actions.outreach import outreach_sealer
from actions.registry_client import RegistryClient, Schedule
from actions.sealing import Sealer
from actions.settings import load_settings
from core.outreach_slots import (
    KIPI_CONFIRMED_SLOT,
    KIPI_FORM,
    KIPI_ONSET_SLOT,
    KIPI_PLACE_SLOT,
    KIPI_SEVERITY_SLOT,
    KIPI_SLOTS,
    KIPI_SYMPTOMS_SLOT,
)
from services.registry.demo import DEMO_PERSON
from tests.actions.outreach_support import Shown, load_domain, make_tracker, real_registry, shown
from tests.actions.servers import SERVICE_TOKEN, closed_port_url

SENDER = "kipi-test"
DOMAIN = load_domain()
EMERGENCY = "*Segera ke IGD terdekat atau hubungi 119.* Gejala yang Anda sebut bisa menjadi tanda bahaya"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database: Path = tmp_path_factory.mktemp("registry") / "registry.db"
    with real_registry(database) as url:
        yield url


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, registry: str) -> None:
    monkeypatch.setenv("REGISTRY_URL", registry)
    monkeypatch.setenv("REGISTRY_SERVICE_TOKEN", SERVICE_TOKEN)
    monkeypatch.setenv("REGISTRY_BACKOFF_SECONDS", "0.01")
    monkeypatch.delenv("SCHEDULE_SLOT_KEY", raising=False)


def sealer() -> Sealer:
    found = outreach_sealer(load_settings())
    assert found is not None
    return found


async def run(action: Action, tracker: Tracker) -> tuple[list[Shown], dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    slots = {event["name"]: event["value"] for event in events if event.get("event") == "slot"}
    return shown(dispatcher, DOMAIN), slots, events


async def answer(slot: str, text: str, intent: str = "nlu_fallback") -> tuple[list[Shown], dict[str, Any]]:
    tracker = make_tracker(SENDER, text, intent=intent, requested_slot=slot, active_loop=KIPI_FORM)
    messages, slots, _ = await run(ValidateKipiForm(), tracker)
    return messages, slots


async def test_a_severe_first_message_gets_the_emergency_advice_before_any_question() -> None:
    tracker = make_tracker(SENDER, "anak saya kejang setelah vaksin mau lapor", intent="report_kipi")
    messages, _, events = await run(ActionStartKipi(), tracker)
    assert [message.text[: len(EMERGENCY)] for message in messages] == [EMERGENCY]
    assert "Jika sudah aman dan ingin melanjutkan laporan" in messages[0].text
    assert all(event["event"] == "slot" and event["value"] is None for event in events)


async def test_a_mild_report_starts_with_a_short_introduction_then_the_symptoms_question() -> None:
    tracker = make_tracker(SENDER, "mau lapor efek samping", intent="report_kipi")
    [intro], _, _ = await run(ActionStartKipi(), tracker)
    assert intro.text.startswith("Saya bantu catat *laporan efek samping (KIPI)*: 4 pertanyaan singkat")
    assert "119" not in intro.text
    [question], _, _ = await run(ActionAskKipiSymptoms(), make_tracker(SENDER, "mau lapor efek samping"))
    assert question.text.startswith("*Gejala apa yang dialami?*")


async def test_danger_signs_in_a_later_answer_bring_the_advice_at_once() -> None:
    messages, slots = await answer(KIPI_SYMPTOMS_SLOT, "demam tinggi terus sesak napas")
    assert [message.text[: len(EMERGENCY)] for message in messages] == [EMERGENCY]
    assert sealer().unseal(slots[KIPI_SYMPTOMS_SLOT], SENDER) == "demam tinggi terus sesak napas"


async def test_symptoms_wait_only_sealed_and_mild_ones_bring_no_warning() -> None:
    messages, slots = await answer(KIPI_SYMPTOMS_SLOT, "  demam ringan\n dan pegal di lengan ")
    assert messages == []
    held = slots[KIPI_SYMPTOMS_SLOT]
    assert held.startswith("sealed:") and "demam" not in held
    assert sealer().unseal(held, SENDER) == "demam ringan dan pegal di lengan"
    assert sealer().unseal(held, "someone-else") is None


@pytest.mark.parametrize("text", ["😭😭😭", "   ", "?!", "\u200b"])
async def test_an_empty_or_emoji_only_answer_is_asked_again_with_a_hint(text: str) -> None:
    messages, slots = await answer(KIPI_SYMPTOMS_SLOT, text)
    assert messages == [] and slots[KIPI_SYMPTOMS_SLOT] is None
    [hint], _, _ = await run(
        ActionAskKipiSymptoms(), make_tracker(SENDER, text, requested_slot=KIPI_SYMPTOMS_SLOT)
    )
    assert hint.text.startswith("Tulis *gejalanya dengan kata-kata*")


async def test_a_very_long_answer_is_cut_with_a_note() -> None:
    messages, slots = await answer(KIPI_ONSET_SLOT, "dua hari setelah vaksin dosis kedua di puskesmas")
    assert [message.text for message in messages] == [
        "Tulisan Anda panjang: *hanya 40 karakter pertama yang kami catat.*"
    ]
    onset = sealer().unseal(slots[KIPI_ONSET_SLOT], SENDER)
    assert onset is not None and len(onset) <= 40 and onset.startswith("dua hari setelah vaksin")
    _, slots = await answer(KIPI_SYMPTOMS_SLOT, "pusing " * 2000)
    symptoms = sealer().unseal(slots[KIPI_SYMPTOMS_SLOT], SENDER)
    assert symptoms is not None and len(symptoms) <= 500


async def test_severity_buttons_and_berat_brings_the_advice_again() -> None:
    [question], _, _ = await run(ActionAskKipiSeverity(), make_tracker(SENDER, "tadi malam"))
    assert question.text.startswith("*Seberapa berat gejalanya?*")
    assert question.buttons == ("Ringan", "Sedang", "Berat")
    messages, slots = await answer(KIPI_SEVERITY_SLOT, "Ringan")
    assert messages == [] and sealer().unseal(slots[KIPI_SEVERITY_SLOT], SENDER) == "ringan"
    messages, slots = await answer(KIPI_SEVERITY_SLOT, "Berat")
    assert [message.text[: len(EMERGENCY)] for message in messages] == [EMERGENCY]
    assert sealer().unseal(slots[KIPI_SEVERITY_SLOT], SENDER) == "berat"
    messages, slots = await answer(KIPI_SEVERITY_SLOT, "entahlah")
    assert messages == [] and slots[KIPI_SEVERITY_SLOT] is None


async def test_batal_and_menu_are_left_to_the_rules() -> None:
    _, slots = await answer(KIPI_SYMPTOMS_SLOT, "batal", intent="cancel")
    assert KIPI_SYMPTOMS_SLOT not in slots
    _, slots = await answer(KIPI_PLACE_SLOT, "menu", intent="show_menu")
    assert KIPI_PLACE_SLOT not in slots


def report_slots(sender: str, severity: str = "sedang") -> dict[str, Any]:
    seal = sealer()
    return {
        KIPI_SYMPTOMS_SLOT: seal.seal("demam dan nyeri lengan", sender),
        KIPI_ONSET_SLOT: seal.seal("tadi malam", sender),
        KIPI_SEVERITY_SLOT: seal.seal(severity, sender),
        KIPI_PLACE_SLOT: seal.seal("Puskesmas Tebet, Jakarta", sender),
        KIPI_CONFIRMED_SLOT: "yes",
    }


async def test_the_report_is_read_back_then_filed_anonymously_with_a_reference_and_the_contacts() -> None:
    sender = "kipi-anonymous"
    slots = report_slots(sender)
    [summary], _, _ = await run(
        ActionAskKipiConfirmed(),
        make_tracker(sender, "Puskesmas Tebet", slots={**slots, KIPI_CONFIRMED_SLOT: None}),
    )
    assert summary.text.splitlines()[:5] == [
        "*Periksa laporan Anda:*",
        "• Gejala: demam dan nyeri lengan",
        "• Mulai: tadi malam",
        "• Tingkat: Sedang",
        "• Tempat vaksinasi: Puskesmas Tebet, Jakarta",
    ]
    assert summary.buttons == ("Kirim", "Batal")
    [filed], cleared, _ = await run(
        ActionSubmitKipi(), make_tracker(sender, "/affirm", intent="affirm", slots=slots)
    )
    assert filed.text.startswith("*Laporan efek samping terkirim.* Nomornya: *")
    assert "IGD terdekat atau 119" in filed.text and "Halo Kemenkes 1500-567" in filed.text
    assert cleared == dict.fromkeys(KIPI_SLOTS)


async def test_after_the_schedule_check_the_report_is_tied_to_the_record() -> None:
    sender = "kipi-linked"
    found = await RegistryClient.from_settings(load_settings()).lookup(
        DEMO_PERSON.nik, DEMO_PERSON.birth_date, sender, "rest"
    )
    assert isinstance(found, Schedule)
    held = {event["name"]: event["value"] for event in remember_record(found, sender, sealer())}
    [filed], _, _ = await run(
        ActionSubmitKipi(), make_tracker(sender, "/affirm", slots={**report_slots(sender), **held})
    )
    assert filed.text.startswith("*Laporan efek samping terkirim.*")


async def test_answers_from_another_conversation_file_nothing() -> None:
    [message], cleared, _ = await run(
        ActionSubmitKipi(), make_tracker(SENDER, "/affirm", slots=report_slots("someone-else"))
    )
    assert message.text.startswith("Maaf, *laporan belum terkirim*")
    assert cleared == dict.fromkeys(KIPI_SLOTS)


async def test_registry_down_apologises_and_points_to_the_facility_and_119(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REGISTRY_URL", closed_port_url())
    [message], cleared, _ = await run(
        ActionSubmitKipi(), make_tracker(SENDER, "/affirm", slots=report_slots(SENDER))
    )
    assert message.text.startswith(
        "Maaf, *laporan belum terkirim* karena layanan sedang tidak dapat dihubungi."
    )
    assert "IGD terdekat atau 119" in message.text
    assert cleared == dict.fromkeys(KIPI_SLOTS)


async def test_batal_forgets_the_report() -> None:
    [message], cleared, _ = await run(
        ActionCancelKipi(), make_tracker(SENDER, "batal", intent="cancel", slots=report_slots(SENDER))
    )
    assert message.text.startswith("Baik, *laporan dibatalkan* dan yang Anda tulis")
    assert cleared == dict.fromkeys(KIPI_SLOTS)
