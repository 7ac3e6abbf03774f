"""The WhatsApp channel of the real Rasa server, driven with Meta's payload shapes.

On the session's shared assistant (tests/integration/conftest.py), its channel pointed at the
fake Graph API (tests/harness/whatsapp/fake_graph_api.py) served from this process; what the bot
"sent to the phone" is read back from the fake. The restart is the disposable assistant's.
"""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import statistics
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest

from actions.dates import format_day_and_date
from rasa_project.channels.privacy import conversation_id
from services.registry.demo import DEMO_PERSON, DEMO_PERSON_NEXT_APPOINTMENT_DAYS
from tests.harness.assistant_process import AssistantProcess
from tests.harness.whatsapp import payloads
from tests.harness.whatsapp.fake_graph_api import FakeGraphApiThread
from tests.integration.support import WHATSAPP_SECRETS, response_buttons, response_text

APP_SECRET = WHATSAPP_SECRETS["WHATSAPP_APP_SECRET"]
ANSWER_SECONDS = 60.0
QUIET_SECONDS = 3.0  # how long "nothing more arrives" is watched for
_phones = (f"62811{n:07d}" for n in itertools.count(1000))


class WhatsAppRig:
    """A running assistant, the fake Graph API, and one simulated phone per test."""

    def __init__(self, assistant: AssistantProcess, fake: FakeGraphApiThread) -> None:
        self.assistant = assistant
        self.run_dir = assistant.run_dir
        self.fake = fake
        self.phones_used: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.assistant.rasa_port}/webhooks/whatsapp/webhook"

    def new_phone(self) -> str:
        phone = next(_phones)
        self.phones_used.append(phone)
        return phone

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        signed = payloads.signed_headers(body, APP_SECRET) if headers is None else headers
        return httpx.post(self.url, content=body, headers=signed, timeout=30)

    def deliver(self, *messages: payloads.Message) -> httpx.Response:
        return self.post(payloads.encode(payloads.messages_delivery(*messages)))

    def replies(self, phone: str, count: int) -> list[dict[str, Any]]:
        """The first ``count`` messages sent to ``phone``; fails if they do not come."""
        deadline = time.monotonic() + ANSWER_SECONDS
        while time.monotonic() < deadline:
            sent = [record["message"] for record in self.fake.fake.sent(to=phone)]
            if len(sent) >= count:
                return sent
            time.sleep(0.1)
        raise AssertionError(f"{count} replies expected, got {self.fake.fake.sent(to=phone)}")

    def settled_replies(self, phone: str, count: int) -> list[dict[str, Any]]:
        """All messages sent to ``phone`` once ``count`` arrived and nothing more came for a while."""
        self.replies(phone, count)
        time.sleep(QUIET_SECONDS)
        return [record["message"] for record in self.fake.fake.sent(to=phone)]

    def tracker_rows(self, phone: str) -> int:
        pseudonym = conversation_id(phone, WHATSAPP_SECRETS["WHATSAPP_SENDER_HASH_KEY"])
        with sqlite3.connect(self.run_dir / "tracker.db") as database:
            [(count,)] = database.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (pseudonym,))
        return int(count)


def bodies(messages: list[dict[str, Any]]) -> list[str]:
    return [
        message["text"]["body"] if message["type"] == "text" else message["interactive"]["body"]["text"]
        for message in messages
    ]


@pytest.fixture(scope="module")
def rig(assistant: AssistantProcess, graph_api: FakeGraphApiThread) -> WhatsAppRig:
    return WhatsAppRig(assistant, graph_api)


def restart_rasa(assistant: AssistantProcess) -> None:
    """Rasa stopped (SIGTERM, as a deployment restarts it); the supervisor starts it again."""
    pid = assistant.member_pids()["rasa server"]
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while assistant.member_pids().get("rasa server") in (pid, None):
        assert time.monotonic() < deadline, "Rasa was not started again"
        time.sleep(0.2)
    assistant.wait_until_up()


def test_verification_handshake(rig: WhatsAppRig) -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": WHATSAPP_SECRETS["WHATSAPP_VERIFY_TOKEN"],
        "hub.challenge": "8472",
    }
    answer = httpx.get(rig.url, params=query)
    assert (answer.status_code, answer.text) == (200, "8472")
    wrong = httpx.get(rig.url, params={**query, "hub.verify_token": "guess"})
    assert wrong.status_code == 403
    assert "8472" not in wrong.text


def test_a_faq_question_is_answered(rig: WhatsAppRig) -> None:
    phone = rig.new_phone()
    assert rig.deliver(payloads.text_message(phone, "vaksin bayar ga?")).status_code == 200
    [reply] = rig.replies(phone, 1)
    assert reply["type"] == "interactive", "the answer, with the way on as a reply button under it"
    assert reply["messaging_product"] == "whatsapp"
    assert reply["interactive"]["body"]["text"] == response_text("utter_faq/biaya")
    assert reply["interactive"]["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": "/show_menu", "title": "Menu lainnya"}}
    ]


@pytest.mark.parametrize("signature", ["missing", "wrong secret", "tampered body"])
def test_bad_and_missing_signatures_are_refused_and_not_processed(rig: WhatsAppRig, signature: str) -> None:
    phone = rig.new_phone()
    body = payloads.encode(payloads.messages_delivery(payloads.text_message(phone, "halo")))
    headers = {"Content-Type": "application/json"}
    if signature == "wrong secret":
        headers = payloads.signed_headers(body, "not-the-app-secret")
    if signature == "tampered body":
        headers = payloads.signed_headers(body, APP_SECRET)
        body = body.replace(b"halo", b"hola")
    assert rig.post(body, headers).status_code == 403
    time.sleep(QUIET_SECONDS)
    assert rig.fake.fake.sent(to=phone) == []
    assert rig.tracker_rows(phone) == 0


def test_button_and_list_replies_reach_the_assistant_as_their_id(rig: WhatsAppRig) -> None:
    phone = rig.new_phone()
    rig.deliver(payloads.button_reply(phone, "/greet", "Halo"))
    rig.replies(phone, 1)
    rig.deliver(payloads.list_reply(phone, "/bot_challenge", "Anda bot?", "Tanya siapa yang menjawab"))
    rig.replies(phone, 2)
    rig.deliver(payloads.template_button(phone, "/thank", "Terima kasih"))
    assert bodies(rig.settled_replies(phone, 3)) == [
        response_text("utter_greet"),
        response_text("utter_bot_challenge"),
        response_text("utter_thank"),
    ]


def test_statuses_are_acknowledged_and_ignored(rig: WhatsAppRig) -> None:
    phone = rig.new_phone()
    statuses = [payloads.status_update(phone, state) for state in ("sent", "delivered", "read")]
    assert rig.post(payloads.encode(payloads.delivery(payloads.change(statuses=statuses)))).status_code == 200
    time.sleep(QUIET_SECONDS)
    assert rig.fake.fake.sent(to=phone) == []
    assert rig.tracker_rows(phone) == 0


@pytest.mark.parametrize("kind", ["image", "audio", "location", "sticker"])
def test_media_gets_the_text_only_notice_and_the_menu(rig: WhatsAppRig, kind: str) -> None:
    phone = rig.new_phone()
    rig.deliver(payloads.non_text_message(phone, kind))
    notice, menu = bodies(rig.settled_replies(phone, 2))
    assert "hanya bisa membaca pesan teks" in notice and "*menu*" in notice
    assert menu == response_text("utter_menu")


def test_several_messages_and_entries_in_one_delivery(rig: WhatsAppRig) -> None:
    phone, other = rig.new_phone(), rig.new_phone()
    document = payloads.delivery(
        payloads.change(
            [payloads.text_message(phone, "halo"), payloads.text_message(other, "vaksin halal?")]
        ),
        payloads.change(statuses=[payloads.status_update(phone)]),
        payloads.change([payloads.text_message(phone, "vaksin bayar ga?")]),
        entries=2,
    )
    assert rig.post(payloads.encode(document)).status_code == 200
    assert bodies(rig.settled_replies(phone, 2)) == [
        response_text("utter_greet"),
        response_text("utter_faq/biaya"),
    ]
    assert bodies(rig.replies(other, 1)) == [response_text("utter_faq/halal")]


def test_a_delivery_sent_three_times_is_answered_once_also_after_a_restart(
    disposable: AssistantProcess, graph_api: FakeGraphApiThread
) -> None:
    """The handled message ids are in the tracker database, not in the Rasa process that restarts."""
    disposable.wait_until_up()  # a server killed by an earlier test is back
    rig = WhatsAppRig(disposable, graph_api)
    phone = rig.new_phone()
    body = payloads.encode(payloads.messages_delivery(payloads.text_message(phone, "vaksin bayar ga?")))
    assert [rig.post(body).status_code for _ in range(3)] == [200, 200, 200]
    assert len(rig.settled_replies(phone, 1)) == 1

    restart_rasa(disposable)
    assert [rig.post(body).status_code for _ in range(3)] == [200, 200, 200]
    rig.deliver(payloads.text_message(phone, "halo"))  # a new message is still answered
    replies = rig.settled_replies(phone, 2)
    assert bodies(replies) == [response_text("utter_faq/biaya"), response_text("utter_greet")]


def test_malformed_json_is_400_and_the_next_request_is_answered(rig: WhatsAppRig) -> None:
    broken = b'{"object":"whatsapp_business_account","entry":[{"changes":['
    assert rig.post(broken).status_code == 400
    wrong_shape = payloads.encode({"object": "whatsapp_business_account", "entry": [{"changes": "x"}]})
    assert rig.post(wrong_shape).status_code == 400
    phone = rig.new_phone()
    assert rig.deliver(payloads.text_message(phone, "halo")).status_code == 200
    assert bodies(rig.replies(phone, 1)) == [response_text("utter_greet")]


def test_a_429_from_the_graph_api_is_retried(rig: WhatsAppRig) -> None:
    phone = rig.new_phone()
    rig.fake.fake.fail_next(429, 503)
    rig.deliver(payloads.text_message(phone, "vaksin bayar ga?"))
    assert bodies(rig.settled_replies(phone, 1)) == [response_text("utter_faq/biaya")]
    tries = [
        attempt["status"] for attempt in rig.fake.fake.attempts() if attempt["message"].get("to") == phone
    ]
    assert tries == [429, 503, 200]


def test_the_webhook_acknowledges_fast(rig: WhatsAppRig) -> None:
    phone = rig.new_phone()
    latencies = []
    for index in range(20):
        body = payloads.encode(
            payloads.messages_delivery(payloads.text_message(phone, f"vaksin halal? {index}"))
        )
        started = time.perf_counter()
        assert rig.post(body).status_code == 200
        latencies.append(time.perf_counter() - started)
    median = statistics.median(latencies)
    print(f"webhook ack latency: median {median * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms")
    assert median <= 0.25
    rig.replies(phone, 20)


def list_rows(message: dict[str, Any]) -> list[dict[str, str]]:
    assert message["type"] == "interactive" and message["interactive"]["type"] == "list", message
    return [row for section in message["interactive"]["action"]["sections"] for row in section["rows"]]


def reply_buttons(message: dict[str, Any]) -> list[dict[str, str]]:
    assert message["type"] == "interactive" and message["interactive"]["type"] == "button", message
    return [button["reply"] for button in message["interactive"]["action"]["buttons"]]


def test_the_fallback_menu_is_a_list_and_its_rows_and_numbers_work(rig: WhatsAppRig) -> None:
    phone = rig.new_phone()
    rig.deliver(payloads.text_message(phone, "resep rendang padang yang enak"))
    [menu] = rig.settled_replies(phone, 1)
    rows = list_rows(menu)
    # The menu for an unclear question, or the one for a question outside vaccination: same buttons
    fallback_menus = {response_text(name): name for name in ("utter_uncertain_answer", "utter_out_of_scope")}
    shown = fallback_menus[menu["interactive"]["body"]["text"]]
    assert [(row["id"], row["title"]) for row in rows] == [
        (button["payload"], button["title"]) for button in response_buttons(shown)
    ]
    assert len(rows) == 8 and menu["interactive"]["action"]["button"] == "Pilih topik"

    rig.deliver(payloads.list_reply(phone, rows[1]["id"], rows[1]["title"]))  # Syarat & kelompok khusus
    category = rig.replies(phone, 2)[1]
    assert [row["id"] for row in list_rows(category)] == [
        button["payload"] for button in response_buttons("utter_menu_syarat")
    ]
    rig.deliver(payloads.text_message(phone, "3"))  # typed, as the list's text numbers them
    assert bodies(rig.settled_replies(phone, 3))[2] == response_text("utter_faq/ibu_hamil")


def test_a_did_you_mean_is_reply_buttons_and_a_tap_answers(rig: WhatsAppRig) -> None:
    phone = rig.new_phone()
    rig.deliver(payloads.text_message(phone, "bumil usia kandungan 5 bulan udah bisa divaksin belum"))
    [offer] = rig.settled_replies(phone, 1)
    buttons = reply_buttons(offer)
    assert offer["interactive"]["body"]["text"].startswith("Apakah maksud Anda:")
    assert 2 <= len(buttons) <= 3 and all(len(button["title"]) <= 20 for button in buttons)
    assert buttons[0]["id"] == '/faq_choice{"topic":"ibu_hamil"}', "Rasa's answer comes first"
    rig.deliver(payloads.button_reply(phone, buttons[0]["id"], buttons[0]["title"]))
    assert bodies(rig.settled_replies(phone, 2))[1] == response_text("utter_faq/ibu_hamil")


def test_a_schedule_lookup_over_whatsapp(rig: WhatsAppRig) -> None:
    """From the number on file: no one-time code (test_schedule_lookup.py has the code step)."""
    phone = DEMO_PERSON.phone.removeprefix("+")
    rig.phones_used.append(phone)
    earlier = len(rig.fake.fake.sent(to=phone))  # the fake is the session's: test_schedule_lookup.py's too
    seeded_on = rig.assistant.seed_demo_registry()
    for count, text in enumerate(("cek jadwal vaksin saya dong", DEMO_PERSON.nik, "17-08-1985"), start=1):
        rig.deliver(payloads.text_message(phone, text))
        rig.replies(phone, earlier + count)
    texts = bodies(rig.settled_replies(phone, earlier + 3)[earlier:])
    asked = [response_text("utter_ask_schedule_nik"), response_text("utter_ask_schedule_birth_date")]
    assert texts[:2] == asked
    answer = "\n\n".join(texts[2:])
    appointment = seeded_on + timedelta(days=DEMO_PERSON_NEXT_APPOINTMENT_DAYS)
    assert "B••• S•••••o" in answer
    assert f"{format_day_and_date(appointment)} pukul 09.00" in answer
    stored = (rig.run_dir / "tracker.db").read_bytes()
    assert DEMO_PERSON.nik.encode() not in stored and b"17-08-1985" not in stored


def test_no_phone_number_is_stored_in_plaintext(rig: WhatsAppRig) -> None:
    phone = rig.new_phone()
    rig.deliver(payloads.text_message(phone, "vaksin halal?"))
    rig.replies(phone, 1)
    deadline = time.monotonic() + 10  # Rasa stores the turn just after the reply went out
    while rig.tracker_rows(phone) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rig.tracker_rows(phone) > 0
    stored = (rig.run_dir / "tracker.db").read_bytes()
    logged = rig.assistant.log_file.read_bytes()
    assert rig.phones_used
    for used in rig.phones_used:
        assert used.encode() not in stored, f"{used} is in the tracker database"
        assert used.encode() not in logged, f"{used} is in the assistant log"
