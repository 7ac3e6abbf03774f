"""An officer's reply reaches the recipient's phone only while the handoff is open.

The webhook runs over HTTP (Sanic in process) with the Graph API stand-in; the assistant stand-in
answers like the real actions do: the handing-over message carries ``handoff: open``, the hand-back
``handoff: closed`` (actions/handoff.py). The officer's reply goes out through the channel's output
for messages without an incoming one, which is what Rasa uses for ``trigger_intent`` with
``output_channel=latest``.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from core.handoff import HANDOFF_CLOSED, HANDOFF_METADATA_KEY, HANDOFF_OPEN
from rasa_project.channels.handoff_contacts import TABLE_NAME
from rasa_project.channels.privacy import conversation_id
from tests.harness.whatsapp import payloads
from tests.rasa_project.channels.conftest import USER, GraphStub, Webhook

OPENED = {"text": "Baik, percakapan ini sudah kami teruskan ke petugas.", HANDOFF_METADATA_KEY: HANDOFF_OPEN}
CLOSED = {"text": "Baik, Anda kembali dilayani bot TanyaVaksin.", HANDOFF_METADATA_KEY: HANDOFF_CLOSED}


def bodies(graph: GraphStub) -> list[str]:
    return [request["text"]["body"] for request in graph.delivered if request["to"] == USER]


async def officer_says(webhook: Webhook, text: str) -> None:
    output = webhook.channel.get_output_channel()
    assert output is not None
    await output.send_response(conversation_id(USER, "hash-key"), {"text": text})


async def test_the_reply_reaches_the_phone_while_open_and_not_after_close(
    webhook: Webhook, graph: GraphStub, tmp_path: Path
) -> None:
    webhook.assistant.reply = OPENED
    await webhook.deliver(payloads.text_message(USER, "minta petugas"))
    await webhook.settle(1)
    await officer_says(webhook, "*Petugas TanyaVaksin:*\nSelamat siang, ada yang bisa kami bantu?")
    assert bodies(graph)[-1] == "*Petugas TanyaVaksin:*\nSelamat siang, ada yang bisa kami bantu?"

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'seen.db'}")
    with engine.connect() as connection:
        stored = connection.execute(sa.text(f"SELECT conversation_id, token FROM {TABLE_NAME}")).all()
    assert [row.conversation_id for row in stored] == [conversation_id(USER, "hash-key")]
    assert USER not in stored[0].token

    webhook.assistant.reply = CLOSED
    await webhook.deliver(payloads.text_message(USER, "menu"))
    await webhook.settle(2)
    assert bodies(graph)[-1] == CLOSED["text"]
    with engine.connect() as connection:
        assert connection.execute(sa.text(f"SELECT count(*) FROM {TABLE_NAME}")).scalar() == 0
    engine.dispose()

    sent = len(graph.requests)
    await officer_says(webhook, "masih di sana?")
    assert len(graph.requests) == sent  # nothing went out: no open handoff holds the number


async def test_a_reply_to_a_conversation_that_never_asked_goes_nowhere(
    webhook: Webhook, graph: GraphStub
) -> None:
    await webhook.deliver(payloads.text_message(USER, "vaksin bayar ga?"))
    await webhook.settle(1)
    sent = len(graph.requests)
    output = webhook.channel.get_output_channel()
    assert output is not None
    await output.send_response(conversation_id("6289999999999", "hash-key"), {"text": "halo"})
    await output.send_response(conversation_id(USER, "hash-key"), {"text": "halo"})
    assert len(graph.requests) == sent
