"""Template button replies and opt-out / opt-in.

Opt-out and opt-in run against the real registry app. ``/v1/notices/resolve`` is served by a scripted
stand-in speaking the contract (tests/actions/servers.py ``scripted_server``) until the registry has
the route: it answers 200 only for the reference it was given for this conversation, 404 otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.outreach import ActionNoticeReply, ActionOptIn, ActionOptOut
from core.outreach_slots import NOTICE_KIND_SLOT
from core.schedule_slots import FORM as SCHEDULE_FORM
from tests.actions.outreach_support import Shown, load_domain, make_tracker, real_registry, shown
from tests.actions.servers import SERVICE_TOKEN, Reply, closed_port_url, scripted_server

SENDER = "outreach-test"
DOMAIN = load_domain()
REFERENCE = "N7F3A9C1D"
NOTICE = {
    "kind": "appointment_reminder",
    "campaign_name": "Pengingat Desember",
    "sent_at": "2026-12-06T02:00:00Z",
    "appointment": {
        "date": "2026-12-21",
        "time": "09:00:00",
        "facility_name": "Puskesmas Kebayoran Lama",
        "facility_address": "Jl. Ciledug Raya No. 5, Jakarta Selatan",
    },
}
NOT_FOUND = {"error": "not_found", "message": "Pesan tidak dikenal."}
UNKNOWN = "Maaf, *pesan ini tidak bisa kami kenali.*"


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


async def run(action: Action, tracker: Tracker) -> tuple[list[Shown], dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    slots = {event["name"]: event["value"] for event in events if event.get("event") == "slot"}
    return shown(dispatcher, DOMAIN), slots, events


def tap(choice: str, reference: str = REFERENCE, sender: str = SENDER) -> Tracker:
    """A tap on a template button: the payload as the channel delivers it, parsed by Rasa."""
    entities = [{"entity": "notice", "value": reference}, {"entity": "choice", "value": choice}]
    payload = "/notice_reply" + json.dumps({"notice": reference, "choice": choice}, separators=(",", ":"))
    return make_tracker(sender, payload, intent="notice_reply", entities=entities, channel="whatsapp")


async def test_lihat_jadwal_opens_the_schedule_check_once_the_notice_is_ours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with scripted_server([Reply(200, NOTICE)]) as resolver:
        monkeypatch.setenv("REGISTRY_URL", resolver.url)
        messages, slots, events = await run(ActionNoticeReply(), tap("jadwal"))
    assert messages == []
    assert slots == {NOTICE_KIND_SLOT: "appointment_reminder"}
    assert [event["name"] for event in events if event["event"] == "followup"] == [SCHEDULE_FORM]
    [request] = resolver.requests
    assert request["path"] == "/v1/notices/resolve"
    assert request["body"] == {"conversation_id": SENDER, "reference": REFERENCE}
    assert request["authorization"] == f"Bearer {SERVICE_TOKEN}"


async def test_ubah_jadwal_says_honestly_where_the_appointment_is_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with scripted_server([Reply(200, NOTICE)]) as resolver:
        monkeypatch.setenv("REGISTRY_URL", resolver.url)
        [message], _, events = await run(ActionNoticeReply(), tap("ubah"))
    assert message.text == (
        "*Jadwal diubah langsung di fasilitas kesehatan*, tidak lewat chat ini.\n\n"
        "Jadwal Anda: Senin, 21 Desember 2026 pukul 09.00 di *Puskesmas Kebayoran Lama*, "
        "Jl. Ciledug Raya No. 5, Jakarta Selatan. Hubungi atau datangi fasilitas itu untuk memilih waktu "
        "lain, atau minta bantuan petugas di sini."
    )
    assert message.buttons == ("Minta petugas", "Menu lainnya")
    assert message.payloads == ("/human_handoff", "/show_menu")
    assert not any(event["event"] == "followup" for event in events)


async def test_ubah_for_a_notice_without_an_appointment_points_to_the_puskesmas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    due = {**NOTICE, "kind": "dose_due", "appointment": None}
    with scripted_server([Reply(200, due)]) as resolver:
        monkeypatch.setenv("REGISTRY_URL", resolver.url)
        [message], slots, _ = await run(ActionNoticeReply(), tap("ubah"))
    assert message.text.startswith("*Jadwal diubah langsung di puskesmas* tempat Anda biasa vaksin")
    assert slots == {NOTICE_KIND_SLOT: "dose_due"}


async def test_someone_elses_or_an_unknown_notice_gets_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    with scripted_server([Reply(404, NOT_FOUND)]) as resolver:
        monkeypatch.setenv("REGISTRY_URL", resolver.url)
        for choice in ("jadwal", "ubah", "berhenti"):
            [message], slots, events = await run(ActionNoticeReply(), tap(choice, sender="another-chat"))
            assert message.text.startswith(UNKNOWN)
            assert message.buttons == ("Menu lainnya",)
            assert slots == {NOTICE_KIND_SLOT: None}
            assert not any(event["event"] == "followup" for event in events)
            for detail in ("Puskesmas", "Kebayoran", "Desember", "2026"):
                assert detail not in message.text
    assert {request["body"]["conversation_id"] for request in resolver.requests} == {"another-chat"}


@pytest.mark.parametrize(
    ("reference", "choice"),
    [
        ("", "jadwal"),
        ("N7F3A9C1D", "hapus"),
        ("../../v1/staff", "jadwal"),
        ("x" * 5000, "ubah"),
        ("N7F3 A9C1D", "jadwal"),
        ("ＮＮＮＮＮ", "jadwal"),
    ],
)
async def test_a_forged_payload_is_not_even_looked_up(
    monkeypatch: pytest.MonkeyPatch, reference: str, choice: str
) -> None:
    with scripted_server([Reply(200, NOTICE)]) as resolver:
        monkeypatch.setenv("REGISTRY_URL", resolver.url)
        [message], _, events = await run(ActionNoticeReply(), tap(choice, reference=reference))
    assert message.text.startswith(UNKNOWN)
    assert resolver.requests == []
    assert not any(event["event"] == "followup" for event in events)


async def test_the_registry_down_on_a_tap_is_an_apology(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_URL", closed_port_url())
    [message], slots, _ = await run(ActionNoticeReply(), tap("jadwal"))
    assert message.text.startswith("Maaf, *layanan sedang tidak dapat dihubungi*")
    assert slots == {}


async def test_berhenti_stops_the_notices_and_mulai_restarts_them() -> None:
    [stopped], _, _ = await run(
        ActionOptOut(), make_tracker(SENDER, "STOP", intent="opt_out", channel="whatsapp")
    )
    assert stopped.text == (
        "*Baik, Anda tidak akan menerima pengingat vaksinasi lagi* di nomor ini.\n\n"
        "Anda tetap bisa bertanya kapan saja. Untuk menerima pengingat lagi, ketik *MULAI*."
    )
    [again], _, _ = await run(ActionOptOut(), make_tracker(SENDER, "berhenti", intent="opt_out"))
    assert again.text == stopped.text  # a replay is harmless: still opted out
    [started], _, _ = await run(ActionOptIn(), make_tracker(SENDER, "MULAI", intent="opt_in"))
    assert started.text == (
        "*Baik, pengingat vaksinasi aktif lagi* untuk nomor ini.\n\n"
        "Untuk berhenti kapan saja, ketik *BERHENTI*."
    )


async def test_the_berhenti_button_of_a_notice_opts_out(
    monkeypatch: pytest.MonkeyPatch, registry: str
) -> None:
    """The stand-in answers the resolve, then the opt-out (recorded with source "button")."""
    with scripted_server([Reply(200, NOTICE), Reply(200, {"opted_out": True, "message": "ok"})]) as resolver:
        monkeypatch.setenv("REGISTRY_URL", resolver.url)
        [message], slots, _ = await run(ActionNoticeReply(), tap("berhenti"))
    assert message.text.startswith("*Baik, Anda tidak akan menerima pengingat vaksinasi lagi*")
    assert slots == {NOTICE_KIND_SLOT: "appointment_reminder"}
    assert [request["path"] for request in resolver.requests] == ["/v1/notices/resolve", "/v1/opt-out"]
    assert resolver.requests[1]["body"] == {"conversation_id": SENDER, "source": "button"}


async def test_registry_down_never_claims_the_opt_out_was_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_URL", closed_port_url())
    [message], _, _ = await run(ActionOptOut(), make_tracker(SENDER, "STOP", intent="opt_out"))
    assert message.text == (
        "Maaf, *permintaan berhenti belum tercatat* karena layanan sedang tidak dapat dihubungi. "
        "Silakan ketik *BERHENTI* lagi beberapa saat lagi."
    )
    [message], _, _ = await run(ActionOptIn(), make_tracker(SENDER, "MULAI", intent="opt_in"))
    assert message.text.startswith("Maaf, *permintaan Anda belum tercatat*")


async def test_a_registry_that_answers_the_opposite_state_is_not_believed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with scripted_server([Reply(200, {"opted_out": False, "message": "?"})]) as registry:
        monkeypatch.setenv("REGISTRY_URL", registry.url)
        [message], _, _ = await run(ActionOptOut(), make_tracker(SENDER, "STOP", intent="opt_out"))
    assert message.text.startswith("Maaf, *permintaan berhenti belum tercatat*")
