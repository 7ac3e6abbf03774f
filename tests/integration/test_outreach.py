"""Reaching out, end to end: a campaign's template reaches the phone, its buttons open the right flow,
"Berhenti" stops the next campaign; a recipient checks their data and asks for a correction; a
side-effect (KIPI) report with a danger sign gets the emergency advice first.

On the session's shared assistant (``make run``'s stack, WhatsApp pointed at the fake Graph API): the
review app's actions go through the registry's staff API (the same calls the pages make, tested in a
browser in tests/browser/test_outreach_pages.py), the outreach worker the supervisor runs sends the
templates, and what the phone reads is read back from the fake. The registry's answers are checked
through the staff API as an officer would see them; the tracker database and the stack's log are
searched for what the recipient typed.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from typing import Any

import httpx
import pytest

from services.registry.demo import AREAS, DEMO_PERSON, DEMO_PERSON_NEXT_APPOINTMENT_DAYS
from tests.harness.assistant_process import AssistantProcess
from tests.harness.whatsapp import payloads
from tests.harness.whatsapp.fake_graph_api import FakeGraphApiThread
from tests.integration.support import WHATSAPP_SECRETS, response_text, turn_replies

PHONE_ON_FILE = DEMO_PERSON.phone.removeprefix("+")
BIRTH_DATE = DEMO_PERSON.birth_date.strftime("%d-%m-%Y")
ANSWER_SECONDS = 90.0
STAFF_USER = "petugas.uji"


class Phones:
    """Signed deliveries to the stack's WhatsApp webhook; what each phone got, from the fake."""

    def __init__(self, assistant: AssistantProcess, graph_api: FakeGraphApiThread) -> None:
        self.assistant = assistant
        self.fake = graph_api.fake

    def deliver(self, message: payloads.Message) -> list[dict[str, Any]]:
        """Deliver ``message`` and return the messages its sender got back once they stop coming."""
        phone = str(message["from"])
        before = len(self.fake.sent(to=phone))
        body = payloads.encode(payloads.messages_delivery(message))
        url = f"http://127.0.0.1:{self.assistant.rasa_port}/webhooks/whatsapp/webhook"
        headers = payloads.signed_headers(body, WHATSAPP_SECRETS["WHATSAPP_APP_SECRET"])
        assert httpx.post(url, content=body, headers=headers, timeout=30).status_code == 200
        return [record["message"] for record in turn_replies(self.fake, phone, before, ANSWER_SECONDS)]

    def say(self, phone: str, text: str) -> str:
        return read(self.deliver(payloads.text_message(phone, text)))

    def tap(self, phone: str, button: dict[str, str]) -> list[dict[str, Any]]:
        """Tap a reply button of an interactive message the bot sent."""
        return self.deliver(payloads.button_reply(phone, button["id"], button["title"]))

    def templates(self, phone: str, name: str) -> list[dict[str, Any]]:
        return [
            record["message"]["template"]
            for record in self.fake.sent(to=phone)
            if record["message"]["type"] == "template" and record["message"]["template"]["name"] == name
        ]


def read(messages: list[dict[str, Any]]) -> str:
    """The texts the person reads, joined."""
    texts = []
    for message in messages:
        if message["type"] == "text":
            texts.append(message["text"]["body"])
        elif message["type"] == "interactive":
            texts.append(message["interactive"]["body"]["text"])
        else:
            texts.append(f"[{message['type']}]")
    return "\n\n".join(texts)


def buttons(messages: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """The reply buttons (or list rows) offered, by title."""
    found: dict[str, dict[str, str]] = {}
    for message in messages:
        if message["type"] != "interactive":
            continue
        action = message["interactive"]["action"]
        for button in action.get("buttons", []):
            found[button["reply"]["title"]] = button["reply"]
        for section in action.get("sections", []):
            for row in section["rows"]:
                found[row["title"]] = {"id": row["id"], "title": row["title"]}
    return found


def quick_replies(template: dict[str, Any]) -> dict[str, str]:
    """A template's quick-reply payloads by choice (``jadwal``, ``ubah``, ``berhenti``)."""
    found = {}
    for component in template["components"]:
        if component["type"] == "button" and component["sub_type"] == "quick_reply":
            payload = component["parameters"][0]["payload"]
            found[json.loads(payload[payload.index("{") :])["choice"]] = payload
    return found


class Staff:
    """The registry's staff API, as the review app calls it."""

    def __init__(self, assistant: AssistantProcess) -> None:
        self.client = httpx.Client(
            base_url=assistant.registry_url,
            headers={
                "Authorization": f"Bearer {assistant.secret('REGISTRY_STAFF_TOKEN')}",
                "X-Staff-User": STAFF_USER,
            },
            timeout=30,
        )

    def campaign(self, kind: str, template: str, days: int | None = None) -> int:
        body: dict[str, Any] = {"kind": kind, "template": template}
        if days is not None:
            body["days"] = days
        created = self.client.post("/v1/staff/campaigns", json=body)
        assert created.status_code in (200, 201), created.text
        campaign_id = int(created.json()["id"])
        started = self.client.post(f"/v1/staff/campaigns/{campaign_id}/start")
        assert started.status_code == 200, started.text
        return campaign_id

    def finished(self, campaign_id: int) -> dict[str, Any]:
        """The campaign once the worker has nothing left to send for it."""
        deadline = time.monotonic() + ANSWER_SECONDS
        while time.monotonic() < deadline:
            shown = self.client.get(f"/v1/staff/campaigns/{campaign_id}").json()
            if shown["counts"]["pending"] == 0 and shown["counts"]["due"] > 0:
                return dict(shown)
            time.sleep(1.0)
        raise AssertionError(f"campaign {campaign_id} did not finish: {shown}")

    def items(self, path: str) -> list[dict[str, Any]]:
        answer = self.client.get(path)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        listed = body if isinstance(body, list) else next(v for v in body.values() if isinstance(v, list))
        return list(listed)


@pytest.fixture(scope="module")
def phones(assistant: AssistantProcess, graph_api: FakeGraphApiThread) -> Phones:
    return Phones(assistant, graph_api)


@pytest.fixture(scope="module")
def staff(assistant: AssistantProcess) -> Staff:
    return Staff(assistant)


def stored(assistant: AssistantProcess) -> str:
    """Everything the tracker database keeps, as text, and the stack's log."""
    with sqlite3.connect(assistant.run_dir / "tracker.db") as database:
        rows = database.execute("SELECT data FROM events").fetchall()
    return "\n".join(str(row[0]) for row in rows) + (assistant.run_dir / "assistant.log").read_text(
        errors="replace"
    )


def test_a_reminder_reaches_the_phone_its_buttons_open_the_flows_and_berhenti_stops_the_next(
    phones: Phones, staff: Staff
) -> None:
    phones.assistant.seed_demo_registry()  # the appointment ahead counts from today, not from the start
    ahead = DEMO_PERSON_NEXT_APPOINTMENT_DAYS
    reminders = staff.campaign("appointment_reminder", "pengingat_jadwal", days=ahead)
    report = staff.finished(reminders)
    assert report["counts"]["sent"] >= 1 and report["counts"]["failed"] == {}
    [reminder] = phones.templates(PHONE_ON_FILE, "pengingat_jadwal")
    assert reminder["language"] == {"code": "id"}
    jakarta = AREAS[0]
    assert jakarta.facility in json.dumps(reminder["components"])
    choices = quick_replies(reminder)
    assert set(choices) == {"jadwal", "ubah", "berhenti"}

    # "Lihat jadwal" opens the schedule check: the identity check is not skipped.
    seen = phones.deliver(payloads.template_button(PHONE_ON_FILE, choices["jadwal"], "Lihat jadwal"))
    assert read(seen) == response_text("utter_ask_schedule_nik")
    assert phones.say(PHONE_ON_FILE, "batal").startswith("Baik")

    # "Ubah jadwal": where the appointment is changed, with the notice's own facility.
    change = phones.deliver(payloads.template_button(PHONE_ON_FILE, choices["ubah"], "Ubah jadwal"))
    assert "Jadwal diubah langsung di fasilitas kesehatan" in read(change)
    assert jakarta.facility in read(change) and "{" not in read(change)
    assert set(buttons(change)) == {"Minta petugas", "Menu lainnya"}

    # The same payload typed or forwarded from another phone: nothing about the notice.
    stranger = f"62810{int(time.time() * 1000) % 10**8:08d}"
    copied = phones.deliver(payloads.text_message(stranger, choices["ubah"]))
    assert read(copied) == response_text("utter_notice_unknown")
    assert jakarta.facility not in read(copied)

    # "Berhenti": stopped at once; the next campaign skips this number and reaches the others.
    stop = phones.deliver(payloads.template_button(PHONE_ON_FILE, choices["berhenti"], "Berhenti"))
    assert read(stop) == response_text("utter_opted_out")
    certificates = staff.campaign("certificate_ready", "sertifikat_siap")
    report = staff.finished(certificates)
    assert report["counts"]["skipped"].get("opted_out", 0) >= 1
    assert report["counts"]["sent"] >= 1
    assert phones.templates(PHONE_ON_FILE, "sertifikat_siap") == []
    assert any(
        record["message"].get("template", {}).get("name") == "sertifikat_siap"
        for record in phones.fake.sent()
    )

    # Starting the reminders again sends nobody a second reminder.
    again = staff.client.post(f"/v1/staff/campaigns/{reminders}/start")
    assert again.status_code in (200, 409)
    assert len(phones.templates(PHONE_ON_FILE, "pengingat_jadwal")) == 1

    # "MULAI" takes the notices back.
    assert phones.say(PHONE_ON_FILE, "MULAI") == response_text("utter_opted_in")


def test_the_recipient_checks_their_data_and_asks_for_a_correction_an_officer_then_sees(
    assistant: AssistantProcess, phones: Phones, staff: Staff
) -> None:
    phones.say(PHONE_ON_FILE, "cek jadwal vaksin saya")
    phones.say(PHONE_ON_FILE, DEMO_PERSON.nik)
    found = phones.deliver(payloads.text_message(PHONE_ON_FILE, BIRTH_DATE))
    assert "Data vaksinasi" in read(found)
    on_file = phones.tap(PHONE_ON_FILE, buttons(found)["Cek data saya"])
    shown = read(on_file)
    assert "Data Anda di registri vaksinasi" in shown
    assert DEMO_PERSON.full_name not in shown and DEMO_PERSON.nik not in shown
    assert "{" not in shown

    asked = phones.tap(PHONE_ON_FILE, buttons(on_file)["Ajukan koreksi"])
    assert set(buttons(asked)) == {"Nama", "Nomor HP", "Data dosis"}
    phones.tap(PHONE_ON_FILE, buttons(asked)["Nama"])
    refused = phones.say(PHONE_ON_FILE, "B0di 123")  # bad input: asked again, nothing filed
    assert refused == response_text("utter_correction_bad_name")
    new_name = "Budi Santosa Wirawan"
    confirm = phones.deliver(payloads.text_message(PHONE_ON_FILE, new_name))
    assert new_name in read(confirm)
    filed = read(phones.tap(PHONE_ON_FILE, buttons(confirm)["Kirim"]))
    reference = re.search(r"\*(KOR-[0-9A-F]+)\*", filed)
    assert reference is not None, filed

    pending = staff.items("/v1/staff/corrections?status=pending")
    [request] = [item for item in pending if item["reference"] == reference[1]]
    assert request["requested_value"] == new_name
    assert new_name not in stored(assistant)  # the tracker and the log keep only "[DIRAHASIAKAN]"


def test_data_check_from_another_phone_offers_nothing_without_the_check(phones: Phones) -> None:
    """Someone else's phone that taps or types the data-check payload is sent to the identity check."""
    stranger = f"62810{int(time.time() * 1000) % 10**8:08d}"
    answer = phones.deliver(payloads.text_message(stranger, "/check_my_data"))
    assert read(answer) == response_text("utter_data_check_needs_lookup")


def test_a_kipi_report_with_a_danger_sign_gets_the_emergency_advice_first(
    assistant: AssistantProcess, phones: Phones, staff: Staff
) -> None:
    phone = f"62811{int(time.time() * 1000) % 10**8:08d}"
    first = phones.deliver(
        payloads.text_message(phone, "mau lapor efek samping, anak saya kejang habis vaksin")
    )
    texts = [read([message]) for message in first]
    assert texts[0].startswith("*Segera ke IGD terdekat atau hubungi")
    assert "{" not in read(first)
    assert phones.say(phone, "😀😀") == response_text("utter_ask_kipi_symptoms_again")  # no words: a hint
    place = "Puskesmas Cibodas Tangerang"
    phones.say(phone, "kejang dan demam tinggi")
    phones.say(phone, "tadi malam")
    severity = phones.deliver(payloads.text_message(phone, "sedang"))
    assert "Di mana vaksinasinya" in read(severity)
    confirm = phones.deliver(payloads.text_message(phone, place))
    assert place in read(confirm)
    filed = read(phones.tap(phone, buttons(confirm)["Kirim"]))
    reference = re.search(r"\*(KIPI-[0-9A-F]+)\*", filed)
    assert reference is not None, filed

    reports = staff.items("/v1/staff/kipi")
    [report] = [item for item in reports if item["reference"] == reference[1]]
    assert report["place"] == place and report["onset"] == "tadi malam"
    assert place not in stored(assistant)


def test_a_kipi_report_can_be_cancelled_and_nothing_is_filed(phones: Phones, staff: Staff) -> None:
    phone = f"62812{int(time.time() * 1000) % 10**8:08d}"
    before = len(staff.items("/v1/staff/kipi"))
    phones.say(phone, "saya mau lapor KIPI")
    phones.say(phone, "pegal di lengan")
    assert "dibatalkan" in phones.say(phone, "batal")
    assert len(staff.items("/v1/staff/kipi")) == before
