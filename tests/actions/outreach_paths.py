"""Every path of the outreach actions (issue #13), for tests/actions/test_what_actions_utter.py.

``outreach_paths`` runs each action on a tracker built for it and lets ``Paths`` record what it
sends, so that the Rasa-side tests render every outreach response with Rasa's own generator (no
``{placeholder}`` reaches a person). The registry is a scripted stand-in here, answering as the
contract says; tests/actions/test_outreach.py, test_correction.py and test_kipi.py run the same
actions against the real registry app.

To plug in: ``await outreach_paths(paths, schedule_environment)`` in the ``uttered`` fixture, then
``UPDATE_SNAPSHOTS=1`` once.
"""

# ruff: noqa: E501  (one path per line: the tables read better than wrapped calls)
from __future__ import annotations

import json
from typing import Any, Protocol

import pytest
from rasa_sdk import Action, Tracker

from actions.correction import (
    ActionAskCorrectionConfirmed,
    ActionAskCorrectionField,
    ActionAskCorrectionValue,
    ActionCancelCorrection,
    ActionShowMyData,
    ActionStartCorrection,
    ActionSubmitCorrection,
    ValidateCorrectionForm,
)
from actions.kipi import (
    ActionAskKipiConfirmed,
    ActionAskKipiOnset,
    ActionAskKipiPlace,
    ActionAskKipiSeverity,
    ActionAskKipiSymptoms,
    ActionCancelKipi,
    ActionStartKipi,
    ActionSubmitKipi,
    ValidateKipiForm,
)
from actions.outreach import ActionNoticeReply, ActionOptIn, ActionOptOut, outreach_sealer
from actions.settings import load_settings
from core.outreach_slots import (
    CORRECTION_CONFIRMED_SLOT,
    CORRECTION_FIELD_SLOT,
    CORRECTION_FORM,
    CORRECTION_VALUE_SLOT,
    KIPI_CONFIRMED_SLOT,
    KIPI_FORM,
    KIPI_ONSET_SLOT,
    KIPI_PLACE_SLOT,
    KIPI_SEVERITY_SLOT,
    KIPI_SYMPTOMS_SLOT,
    RECORD_ACCESS_SLOT,
)
from tests.actions.outreach_support import load_domain, make_tracker
from tests.actions.servers import Reply, closed_port_url, scripted_server

SENDER = "snapshot-uttered"  # the sender of test_what_actions_utter.py's trackers
NOTICE = {
    "kind": "appointment_reminder",
    "campaign_name": "Pengingat",
    "sent_at": "2026-12-06T02:00:00Z",
    "appointment": {
        "date": "2026-12-21",
        "time": "09:00:00",
        "facility_name": "Puskesmas Kebayoran Lama",
        "facility_address": "Jl. Ciledug Raya No. 5",
    },
}
ON_FILE = {
    "name_masked": "B••• S•••••o",
    "phone_masked": "+62 8•••••••0001",
    "birth_date_masked": "••-••-1985",
    "district": "Kebayoran Lama, Jakarta Selatan",
}


class Recorder(Protocol):
    async def run(
        self, path: str, action: Action, tracker: Tracker, domain: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]: ...


def _tap(choice: str) -> Tracker:
    entities = [{"entity": "notice", "value": "N7F3A9C1D"}, {"entity": "choice", "value": choice}]
    return make_tracker(SENDER, f"/notice_reply{{choice {choice}}}", intent="notice_reply", entities=entities)


def _seal(value: str) -> str:
    sealer = outreach_sealer(load_settings())
    assert sealer is not None
    return sealer.seal(value, SENDER)


def _form(slot: str, text: str, form: str, **slots: Any) -> Tracker:
    """The form ``form`` waiting for ``slot``; ``slots`` must hold what it needs (the record access)."""
    return make_tracker(SENDER, text, requested_slot=slot, active_loop=form, slots=slots)


async def outreach_paths(paths: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    domain = load_domain()
    held = {RECORD_ACCESS_SLOT: _seal(json.dumps({"token": "t" * 40, "on_file": ON_FILE}))}
    correction = {**held, CORRECTION_FIELD_SLOT: "phone", CORRECTION_VALUE_SLOT: _seal("+6281234567890")}
    report = {
        KIPI_SYMPTOMS_SLOT: _seal("demam dan nyeri lengan"),
        KIPI_ONSET_SLOT: _seal("tadi malam"),
        KIPI_SEVERITY_SLOT: _seal("sedang"),
        KIPI_PLACE_SLOT: _seal("Puskesmas Tebet"),
    }
    filed = {"reference": "KOR-7F3A9C1D", "message": "ok"}
    scripted = [
        ("outreach notice jadwal", ActionNoticeReply(), _tap("jadwal"), Reply(200, NOTICE)),
        ("outreach notice ubah", ActionNoticeReply(), _tap("ubah"), Reply(200, NOTICE)),
        ("outreach notice ubah, no appointment", ActionNoticeReply(), _tap("ubah"), Reply(200, {**NOTICE, "appointment": None})),
        ("outreach notice unknown", ActionNoticeReply(), _tap("jadwal"), Reply(404, {"error": "not_found"})),
        ("outreach opt-out", ActionOptOut(), make_tracker(SENDER, "STOP", intent="opt_out"), Reply(200, {"opted_out": True, "message": "ok"})),
        ("outreach opt-in", ActionOptIn(), make_tracker(SENDER, "MULAI", intent="opt_in"), Reply(200, {"opted_out": False, "message": "ok"})),
        ("correction filed", ActionSubmitCorrection(), make_tracker(SENDER, "/affirm", slots=correction), Reply(201, filed)),
        ("correction pending", ActionSubmitCorrection(), make_tracker(SENDER, "/affirm", slots=correction), Reply(409, {"error": "correction_pending", "message": "x", "reference": "KOR-7F3A9C1D"})),
        ("correction pending, no reference", ActionSubmitCorrection(), make_tracker(SENDER, "/affirm", slots=correction), Reply(409, {"error": "correction_pending", "message": "x"})),
        ("correction record token refused", ActionSubmitCorrection(), make_tracker(SENDER, "/affirm", slots=correction), Reply(401, {"error": "record_session_ended", "message": "x"})),
        ("kipi filed", ActionSubmitKipi(), make_tracker(SENDER, "/affirm", slots=report), Reply(201, {"reference": "KIPI-1A2B3C", "message": "ok"})),
    ]  # fmt: skip
    for path, action, tracker, reply in scripted:
        with scripted_server([reply]) as registry:
            monkeypatch.setenv("REGISTRY_URL", registry.url)
            await paths.run(path, action, tracker, domain)
    monkeypatch.setenv("REGISTRY_URL", closed_port_url())
    down = [
        ("outreach notice, registry down", ActionNoticeReply(), _tap("jadwal")),
        ("outreach opt-out, registry down", ActionOptOut(), make_tracker(SENDER, "STOP", intent="opt_out")),
        ("outreach opt-in, registry down", ActionOptIn(), make_tracker(SENDER, "MULAI", intent="opt_in")),
        (
            "correction, registry down",
            ActionSubmitCorrection(),
            make_tracker(SENDER, "/affirm", slots=correction),
        ),
        ("kipi, registry down", ActionSubmitKipi(), make_tracker(SENDER, "/affirm", slots=report)),
    ]
    for path, action, tracker in down:
        await paths.run(path, action, tracker, domain)

    c, k = CORRECTION_FORM, KIPI_FORM
    local = [
        ("data on file", ActionShowMyData(), make_tracker(SENDER, "/check_my_data", slots=held)),
        ("data on file, no record checked", ActionShowMyData(), make_tracker(SENDER, "/check_my_data")),
        ("correction start", ActionStartCorrection(), make_tracker(SENDER, "/request_correction", slots=held)),
        ("correction ask field", ActionAskCorrectionField(), make_tracker(SENDER, "x")),
        ("correction ask field again", ActionAskCorrectionField(), _form(CORRECTION_FIELD_SLOT, "x", c, **held)),
        *[
            (f"correction ask value {field}", ActionAskCorrectionValue(), make_tracker(SENDER, "x", slots={CORRECTION_FIELD_SLOT: field}))
            for field in ("name", "phone", "dose")
        ],
        ("correction bad name", ValidateCorrectionForm(), _form(CORRECTION_VALUE_SLOT, "B0di", c, **held, correction_field="name")),
        ("correction bad phone", ValidateCorrectionForm(), _form(CORRECTION_VALUE_SLOT, "12345", c, **held, correction_field="phone")),
        ("correction empty", ValidateCorrectionForm(), _form(CORRECTION_VALUE_SLOT, "😀", c, **held, correction_field="dose")),
        ("correction cut", ValidateCorrectionForm(), _form(CORRECTION_VALUE_SLOT, "salah " * 100, c, **held, correction_field="dose")),
        ("correction confirm", ActionAskCorrectionConfirmed(), make_tracker(SENDER, "x", slots=correction)),
        ("correction confirm again", ActionAskCorrectionConfirmed(), _form(CORRECTION_CONFIRMED_SLOT, "x", c, **correction)),
        ("correction cancelled", ActionCancelCorrection(), make_tracker(SENDER, "batal", intent="cancel", slots=correction)),
        ("kipi start, severe", ActionStartKipi(), make_tracker(SENDER, "anak saya kejang mau lapor", intent="report_kipi")),
        ("kipi start", ActionStartKipi(), make_tracker(SENDER, "mau lapor efek samping", intent="report_kipi")),
        ("kipi cut", ValidateKipiForm(), _form(KIPI_ONSET_SLOT, "dua hari setelah vaksin dosis kedua di puskesmas", k)),
        ("kipi confirm", ActionAskKipiConfirmed(), make_tracker(SENDER, "x", slots=report)),
        ("kipi confirm again", ActionAskKipiConfirmed(), _form(KIPI_CONFIRMED_SLOT, "x", k, **report)),
        ("kipi cancelled", ActionCancelKipi(), make_tracker(SENDER, "batal", intent="cancel", slots=report)),
    ]  # fmt: skip
    for action_class, slot in (
        (ActionAskKipiSymptoms, KIPI_SYMPTOMS_SLOT),
        (ActionAskKipiOnset, KIPI_ONSET_SLOT),
        (ActionAskKipiSeverity, KIPI_SEVERITY_SLOT),
        (ActionAskKipiPlace, KIPI_PLACE_SLOT),
    ):
        local.append((f"kipi ask {slot}", action_class(), make_tracker(SENDER, "x")))
        local.append((f"kipi ask {slot} again", action_class(), _form(slot, "x", k)))
    for path, action, tracker in local:
        await paths.run(path, action, tracker, domain)
