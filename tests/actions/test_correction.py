"""Checking the data on file and requesting a correction, against the real registry app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.correction import (
    ActionAskCorrectionConfirmed,
    ActionAskCorrectionField,
    ActionAskCorrectionValue,
    ActionCancelCorrection,
    ActionShowMyData,
    ActionStartCorrection,
    ActionSubmitCorrection,
    ValidateCorrectionForm,
    offer_data_check,
    read_phone,
    remember_record,
)
from actions.outreach import outreach_sealer
from actions.registry_client import RegistryClient, Schedule
from actions.sealing import Sealer
from actions.settings import load_settings
from core.outreach_slots import (
    CORRECTION_CONFIRMED_SLOT,
    CORRECTION_FIELD_SLOT,
    CORRECTION_FORM,
    CORRECTION_SLOTS,
    CORRECTION_VALUE_SLOT,
    RECORD_ACCESS_SLOT,
)
from services.registry.demo import DEMO_PERSON, DEMO_WOMAN, DemoPerson
from services.registry.masking import mask_name
from tests.actions.outreach_support import Shown, load_domain, make_tracker, real_registry, shown
from tests.actions.servers import SERVICE_TOKEN, closed_port_url

SENDER = "correction-test"
DOMAIN = load_domain()


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


async def checked(person: DemoPerson, sender: str) -> Schedule:
    """The real schedule lookup (REST channel: no code step), as the schedule check does it."""
    result = await RegistryClient.from_settings(load_settings()).lookup(
        person.nik, person.birth_date, sender, "rest"
    )
    assert isinstance(result, Schedule)
    return result


async def access(person: DemoPerson, sender: str) -> dict[str, Any]:
    events = remember_record(await checked(person, sender), sender, sealer())
    return {event["name"]: event["value"] for event in events}


async def run(action: Action, tracker: Tracker) -> tuple[list[Shown], dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    slots = {event["name"]: event["value"] for event in events if event.get("event") == "slot"}
    return shown(dispatcher, DOMAIN), slots, events


async def test_after_the_schedule_the_data_check_is_offered_and_the_record_held_sealed() -> None:
    schedule = await checked(DEMO_PERSON, SENDER)
    dispatcher = CollectingDispatcher()
    events = offer_data_check(dispatcher, schedule, SENDER)
    [offer] = shown(dispatcher, DOMAIN)
    assert offer.buttons == ("Cek data saya",)
    assert offer.payloads == ("/check_my_data",)
    [held] = [event["value"] for event in events if event["name"] == RECORD_ACCESS_SLOT]
    assert held.startswith("sealed:")
    assert schedule.record_token is not None and schedule.record_token not in held
    assert "Budi" not in held and mask_name(DEMO_PERSON.full_name) not in held


async def test_cek_data_saya_shows_the_data_on_file_masked_and_asks_if_it_is_right() -> None:
    slots = await access(DEMO_PERSON, SENDER)
    [message], _, _ = await run(ActionShowMyData(), make_tracker(SENDER, "/check_my_data", slots=slots))
    assert message.text.startswith("*Data Anda di registri vaksinasi* (sebagian disamarkan):")
    assert f"• Nama: {mask_name(DEMO_PERSON.full_name)}" in message.text
    assert "• Nomor HP: +62 8" in message.text and message.text.endswith("Data sudah benar?")
    assert message.buttons == ("Benar", "Ajukan koreksi")
    assert message.payloads == ("/affirm", "/request_correction")
    for secret in ("Budi", "Santoso", DEMO_PERSON.nik, "17-08", "17 Agustus", DEMO_PERSON.phone[3:]):
        assert secret not in message.text


@pytest.mark.parametrize("holder", ["nobody", "another conversation", "forged"])
async def test_without_this_conversations_checked_record_there_is_no_data_and_no_form(holder: str) -> None:
    slots: dict[str, Any] = {}
    if holder == "another conversation":
        slots = await access(DEMO_PERSON, "someone-else")  # copied into this conversation
    elif holder == "forged":
        slots = {RECORD_ACCESS_SLOT: "sealed:v2:" + "A" * 80}
    [message], cleared, _ = await run(ActionShowMyData(), make_tracker(SENDER, "/check_my_data", slots=slots))
    assert message.text.startswith("Untuk melihat atau mengoreksi data, *cek jadwal vaksinasi dulu*")
    assert message.buttons == ("Cek jadwal", "Menu lainnya")
    assert cleared[RECORD_ACCESS_SLOT] is None
    # "Ajukan koreksi" anyway: the form asks nothing, and the submit says to check the schedule first.
    tracker = make_tracker(SENDER, "/request_correction", slots=slots, active_loop=CORRECTION_FORM)
    assert (
        await ValidateCorrectionForm().required_slots(
            list(CORRECTION_SLOTS), CollectingDispatcher(), tracker, DOMAIN
        )
        == []
    )
    [message], cleared, _ = await run(ActionSubmitCorrection(), tracker)
    assert message.text.startswith("Untuk melihat atau mengoreksi data, *cek jadwal vaksinasi dulu*")
    assert cleared[RECORD_ACCESS_SLOT] is None


async def test_ajukan_koreksi_opens_the_form_and_asks_which_field() -> None:
    slots = await access(DEMO_PERSON, SENDER)
    tracker = make_tracker(SENDER, "/request_correction", slots=slots, active_loop=CORRECTION_FORM)
    assert await ValidateCorrectionForm().required_slots(
        list(CORRECTION_SLOTS), CollectingDispatcher(), tracker, DOMAIN
    ) == list(CORRECTION_SLOTS)
    _, cleared, _ = await run(ActionStartCorrection(), tracker)
    assert cleared == dict.fromkeys(CORRECTION_SLOTS)
    [question], _, _ = await run(ActionAskCorrectionField(), make_tracker(SENDER, "/request_correction"))
    assert question.text.startswith("*Data mana yang ingin dikoreksi?*")
    assert question.buttons == ("Nama", "Nomor HP", "Data dosis")
    [again], _, _ = await run(
        ActionAskCorrectionField(), make_tracker(SENDER, "alamat", requested_slot=CORRECTION_FIELD_SLOT)
    )
    assert again.text.startswith("Pilih yang ingin dikoreksi: *Nama*, *Nomor HP*, atau *Data dosis*.")


async def answer(slot: str, text: str, intent: str = "nlu_fallback", field: str | None = None) -> Any:
    tracker = make_tracker(
        SENDER,
        text,
        intent=intent,
        requested_slot=slot,
        active_loop=CORRECTION_FORM,
        slots={**await access(DEMO_PERSON, SENDER), **({CORRECTION_FIELD_SLOT: field} if field else {})},
    )
    return await run(ValidateCorrectionForm(), tracker)


@pytest.mark.parametrize(
    ("text", "field"),
    [("Nama", "name"), ("Nomor HP", "phone"), ("no hp", "phone"), ("3", "dose"), ("Data dosis", "dose")],
)
async def test_the_field_is_read_from_a_tap_a_word_or_a_number(text: str, field: str) -> None:
    _, slots, _ = await answer(
        CORRECTION_FIELD_SLOT, text, intent="choose_option" if text.isdigit() else "faq"
    )
    assert slots[CORRECTION_FIELD_SLOT] == field


async def test_something_else_for_the_field_is_asked_again_and_batal_leaves_it_to_the_rules() -> None:
    _, slots, _ = await answer(CORRECTION_FIELD_SLOT, "alamat rumah")
    assert slots[CORRECTION_FIELD_SLOT] is None
    _, slots, _ = await answer(CORRECTION_FIELD_SLOT, "batal", intent="cancel")
    assert CORRECTION_FIELD_SLOT not in slots


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [
        ("phone", "0812-3456-7890", "+6281234567890"),
        ("phone", "+62 812 3456 789", "+628123456789"),
        ("name", "  Budi   Santosa ", "Budi Santosa"),
        ("name", "Siti Nur'aini-Putri", "Siti Nur'aini-Putri"),
        (
            "dose",
            "dosis 2 tgl 5 april 2021 sinovac, bukan astra",
            "dosis 2 tgl 5 april 2021 sinovac, bukan astra",
        ),
    ],
)
async def test_a_good_value_waits_only_sealed(field: str, text: str, value: str) -> None:
    messages, slots, _ = await answer(CORRECTION_VALUE_SLOT, text, field=field)
    assert messages == []
    held = slots[CORRECTION_VALUE_SLOT]
    assert held.startswith("sealed:") and text.strip() not in held
    assert sealer().unseal(held, SENDER) == value


@pytest.mark.parametrize(
    ("field", "text", "said"),
    [
        ("phone", "12345", "Maaf, *itu bukan nomor HP Indonesia.*"),
        ("phone", "021 555 1234", "Maaf, *itu bukan nomor HP Indonesia.*"),
        ("phone", "0812 3456 7890 atau 0813", "Maaf, *itu bukan nomor HP Indonesia.*"),
        ("name", "B0di", "Maaf, *nama hanya boleh berisi huruf*"),
        ("name", "x" * 500, "Maaf, *nama hanya boleh berisi huruf*"),
        ("name", "Budi <script>", "Maaf, *nama hanya boleh berisi huruf*"),
        ("dose", "😀😀😀", "Maaf, saya belum menemukan tulisan di pesan Anda."),
        ("name", "   ", "Maaf, saya belum menemukan tulisan di pesan Anda."),
    ],
)
async def test_a_bad_value_gets_a_clear_message_and_is_asked_again(field: str, text: str, said: str) -> None:
    messages, slots, _ = await answer(CORRECTION_VALUE_SLOT, text, field=field)
    assert [message.text[: len(said)] for message in messages] == [said]
    assert slots[CORRECTION_VALUE_SLOT] is None


async def test_a_very_long_dose_description_is_cut_with_a_note() -> None:
    messages, slots, _ = await answer(CORRECTION_VALUE_SLOT, "dosis kedua salah tanggal " * 60, field="dose")
    assert [message.text for message in messages] == [
        "Tulisan Anda panjang: *hanya 300 karakter pertama yang kami kirim.*"
    ]
    value = sealer().unseal(slots[CORRECTION_VALUE_SLOT], SENDER)
    assert value is not None and len(value) <= 300


def test_phone_numbers_are_read_as_indonesian_mobiles_only() -> None:
    assert read_phone("081234567890") == "+6281234567890"
    assert read_phone("6281234567890") == "+6281234567890"
    assert read_phone("08001234567") is None  # toll-free
    assert read_phone("٠٨١٢٣٤٥٦٧٨٩٠") is None  # other digits are refused, not guessed


async def test_the_question_for_the_value_follows_the_field() -> None:
    for field, start in (
        ("name", "Tulis *nama lengkap yang benar*"),
        ("phone", "Tulis *nomor HP yang benar*"),
        ("dose", "Tulis *data dosis yang perlu dikoreksi*"),
    ):
        tracker = make_tracker(SENDER, "x", slots={CORRECTION_FIELD_SLOT: field})
        [question], _, _ = await run(ActionAskCorrectionValue(), tracker)
        assert question.text.startswith(start)


async def confirmed_slots(person: DemoPerson, sender: str, field: str, value: str) -> dict[str, Any]:
    return {
        **await access(person, sender),
        CORRECTION_FIELD_SLOT: field,
        CORRECTION_VALUE_SLOT: sealer().seal(value, sender),
        CORRECTION_CONFIRMED_SLOT: "yes",
    }


async def test_the_confirmation_reads_back_what_will_be_sent_then_the_request_is_filed_once() -> None:
    sender = "correction-filed"
    slots = await confirmed_slots(DEMO_WOMAN, sender, "phone", "+6281234567890")
    asking = make_tracker(sender, "0812-3456-7890", slots={**slots, CORRECTION_CONFIRMED_SLOT: None})
    [confirm], _, _ = await run(ActionAskCorrectionConfirmed(), asking)
    assert confirm.text.splitlines()[:2] == [
        "*Periksa lagi sebelum dikirim:*",
        "Nomor HP yang benar: +6281234567890",
    ]
    assert confirm.buttons == ("Kirim", "Batal") and confirm.payloads == ("/affirm", "/cancel")

    _, confirmed, _ = await run(
        ValidateCorrectionForm(),
        make_tracker(
            sender,
            "/affirm",
            intent="affirm",
            requested_slot=CORRECTION_CONFIRMED_SLOT,
            active_loop=CORRECTION_FORM,
            slots={**slots, CORRECTION_CONFIRMED_SLOT: None},
        ),
    )
    assert confirmed[CORRECTION_CONFIRMED_SLOT] == "yes"

    [filed], cleared, _ = await run(ActionSubmitCorrection(), make_tracker(sender, "/affirm", slots=slots))
    first_line, _, rest = filed.text.partition("\n\n")
    assert first_line.startswith("*Permintaan koreksi terkirim.* Nomornya: *")
    reference = first_line.split("*")[-2]
    assert 4 <= len(reference) <= 12
    assert rest.startswith("Petugas akan memeriksanya; hasilnya kami kirim lewat pesan WhatsApp.")
    assert cleared == {
        CORRECTION_FIELD_SLOT: None,
        CORRECTION_VALUE_SLOT: None,
        CORRECTION_CONFIRMED_SLOT: None,
    }

    # The same request again (a replay, or a second tap): the registry files nothing new and names the
    # same request, so the person reads the same number.
    [again], _, _ = await run(ActionSubmitCorrection(), make_tracker(sender, "/affirm", slots=slots))
    assert again.text.startswith(f"*Permintaan koreksi terkirim.* Nomornya: *{reference}*")


async def test_a_record_token_from_another_conversation_is_refused_by_the_registry() -> None:
    """An attacker who got hold of someone's token and seals it for their own chat gets nothing filed."""
    victim_token = (await checked(DEMO_PERSON, "victim-chat")).record_token
    assert victim_token is not None
    attacker = "attacker-chat"
    stolen = json.dumps({"token": victim_token, "on_file": {"name_masked": "x"}})
    slots = {
        RECORD_ACCESS_SLOT: sealer().seal(stolen, attacker),
        CORRECTION_FIELD_SLOT: "name",
        CORRECTION_VALUE_SLOT: sealer().seal("Budi Santosa", attacker),
    }
    [message], cleared, _ = await run(
        ActionSubmitCorrection(), make_tracker(attacker, "/affirm", slots=slots)
    )
    assert message.text.startswith("Maaf, *akses ke data Anda sudah berakhir* (berlaku 30 menit)")
    assert message.buttons == ("Cek jadwal", "Menu lainnya")
    assert cleared[RECORD_ACCESS_SLOT] is None and cleared[CORRECTION_VALUE_SLOT] is None


async def test_registry_down_apologises_and_never_claims_the_request_was_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slots = await confirmed_slots(DEMO_PERSON, SENDER, "name", "Budi Santosa")
    monkeypatch.setenv("REGISTRY_URL", closed_port_url())
    [message], cleared, _ = await run(ActionSubmitCorrection(), make_tracker(SENDER, "/affirm", slots=slots))
    assert message.text.startswith("Maaf, *permintaan koreksi belum terkirim*")
    assert "0811-1050-0567" in message.text
    assert cleared[CORRECTION_VALUE_SLOT] is None


async def test_batal_forgets_what_was_typed() -> None:
    slots = {CORRECTION_FIELD_SLOT: "name", CORRECTION_VALUE_SLOT: sealer().seal("Budi Santosa", SENDER)}
    [message], cleared, _ = await run(
        ActionCancelCorrection(), make_tracker(SENDER, "batal", intent="cancel", slots=slots)
    )
    assert message.text.startswith("Baik, *koreksi dibatalkan* dan yang Anda tulis")
    assert set(cleared.values()) == {None} and CORRECTION_VALUE_SLOT in cleared
