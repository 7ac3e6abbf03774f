"""An officer answers a handed-over conversation through Rasa's HTTP API, as the officer console does.

On the session's shared assistant: a WhatsApp recipient asks for an officer, the reply triggered
as ``officer_reply`` reaches the simulated phone under the officer line, the hand-back reaches it
too, the sealed number is deleted, and the bot answers again. The same over REST, where the reply
comes back in Rasa's answer. A reply to a conversation that is not waiting goes nowhere.
(The officer console in a browser: tests/integration/test_officer_console.py.)
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from core.handoff import OFFICER_REPLY_INTENT, OFFICER_TEXT_ENTITY, RELEASE_INTENT
from rasa_project.channels.handoff_contacts import TABLE_NAME
from rasa_project.channels.privacy import conversation_id
from tests.harness.assistant_process import AssistantProcess
from tests.harness.whatsapp import payloads
from tests.harness.whatsapp.fake_graph_api import FakeGraphApiThread
from tests.integration.support import WHATSAPP_SECRETS, filled, response_text
from tests.integration.test_whatsapp_channel import WhatsAppRig, bodies

OFFICER_LINE = "*Petugas TanyaVaksin:*"
REPLY = (
    "Selamat siang. Untuk jadwal dosis berikutnya, silakan cek SATUSEHAT Mobile atau tanya puskesmas Anda."
)


@pytest.fixture(scope="module")
def rig(assistant: AssistantProcess, graph_api: FakeGraphApiThread) -> WhatsAppRig:
    return WhatsAppRig(assistant, graph_api)


def trigger(assistant: AssistantProcess, conversation: str, name: str, **entities: str) -> dict[str, Any]:
    response = httpx.post(
        f"http://127.0.0.1:{assistant.rasa_port}/conversations/{quote(conversation, safe='')}/trigger_intent",
        params={"token": assistant.secret("RASA_API_TOKEN"), "output_channel": "latest"},
        json={"name": name, "entities": entities},
        timeout=60,
    )
    response.raise_for_status()
    return dict(response.json())


def stored_contacts(rig: WhatsAppRig, conversation: str) -> list[str]:
    with sqlite3.connect(rig.run_dir / "tracker.db") as database:
        rows = database.execute(f"SELECT token FROM {TABLE_NAME} WHERE conversation_id = ?", (conversation,))
        return [str(token) for (token,) in rows]


def test_an_officer_reply_reaches_the_phone_and_closing_forgets_the_number(rig: WhatsAppRig) -> None:
    phone = rig.new_phone()
    conversation = conversation_id(phone, WHATSAPP_SECRETS["WHATSAPP_SENDER_HASH_KEY"])
    rig.deliver(payloads.text_message(phone, "saya mau bicara dengan petugas"))
    [handed_over] = bodies(rig.settled_replies(phone, 1))
    assert handed_over.startswith("Baik, percakapan ini sudah kami teruskan ke petugas.")
    assert "{" not in handed_over and filled("{kontak_darurat}") in handed_over
    [token] = stored_contacts(rig, conversation)
    assert phone not in token and phone[-6:] not in token

    rig.deliver(payloads.text_message(phone, "halo? masih ada orang?"))  # the bot stays silent
    assert len(rig.settled_replies(phone, 1)) == 1

    trigger(rig.assistant, conversation, OFFICER_REPLY_INTENT, **{OFFICER_TEXT_ENTITY: REPLY})
    assert bodies(rig.replies(phone, 2))[1] == f"{OFFICER_LINE}\n{REPLY}"

    trigger(rig.assistant, conversation, RELEASE_INTENT)
    assert bodies(rig.replies(phone, 3))[2] == response_text("utter_handoff_released")
    assert stored_contacts(rig, conversation) == []

    trigger(rig.assistant, conversation, OFFICER_REPLY_INTENT, **{OFFICER_TEXT_ENTITY: "masih di sana?"})
    assert len(rig.settled_replies(phone, 3)) == 3  # closed: nothing more reaches the phone

    rig.deliver(payloads.text_message(phone, "vaksin bayar ga?"))
    assert bodies(rig.replies(phone, 4))[3] == response_text("utter_faq/biaya")


def test_over_rest_the_reply_comes_back_in_rasas_answer(assistant: AssistantProcess) -> None:
    sender = f"rest-officer-{uuid.uuid4().hex[:8]}"
    handed_over = "\n\n".join(message["text"] for message in assistant.say(sender, "/human_handoff"))
    assert handed_over.startswith("Baik, percakapan ini sudah kami teruskan ke petugas.")
    answer = trigger(assistant, sender, OFFICER_REPLY_INTENT, **{OFFICER_TEXT_ENTITY: REPLY})
    assert [message.get("text") for message in answer["messages"]] == [f"{OFFICER_LINE}\n{REPLY}"]


def test_a_reply_to_a_conversation_not_waiting_says_nothing(assistant: AssistantProcess) -> None:
    sender = f"rest-not-waiting-{uuid.uuid4().hex[:8]}"
    assistant.say(sender, "vaksin bayar ga?")
    answer = trigger(assistant, sender, OFFICER_REPLY_INTENT, **{OFFICER_TEXT_ENTITY: "halo"})
    assert [message.get("text") for message in answer["messages"]] == []
