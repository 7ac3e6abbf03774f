"""The webhook over HTTP (Sanic in process): verified, signed, fast to acknowledge, idempotent, private."""

from __future__ import annotations

import asyncio
import json
import logging
import statistics
from pathlib import Path

import pytest

from rasa_project.channels.failure_log import HIDDEN
from rasa_project.channels.inbound import FAILURE_NOTICE, MAX_BODY_BYTES, TOO_LONG_NOTICE
from rasa_project.channels.privacy import conversation_id, message_key
from rasa_project.channels.settings import WhatsAppSettings
from rasa_project.channels.whatsapp import MENU_INTENT, ONLY_TEXT_NOTICE
from tests.harness.whatsapp import payloads
from tests.rasa_project.channels.conftest import (
    USER,
    GraphStub,
    ServeFactory,
    Webhook,
    make_settings,
)


async def test_verification_handshake(webhook: Webhook) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    async with webhook.http.get(webhook.url, params=query) as response:
        assert (response.status, await response.text()) == (200, "1158201444")


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "verify-me", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {},
    ],
)
async def test_verification_refused(webhook: Webhook, query: dict[str, str]) -> None:
    async with webhook.http.get(webhook.url, params=query) as response:
        assert response.status == 403


async def test_a_text_is_answered_under_a_pseudonym(webhook: Webhook, graph: GraphStub) -> None:
    message = payloads.text_message(USER, "vaksin bayar ga?")
    assert await webhook.deliver(message) == 200
    await webhook.settle(1)
    [received] = webhook.assistant.received
    assert received.text == "vaksin bayar ga?"
    assert received.sender_id == conversation_id(USER, "hash-key")
    assert received.message_id == message_key(message["id"], "hash-key")
    assert received.input_channel == "whatsapp"
    assert received.metadata == {"whatsapp_type": "text"}
    assert USER not in repr(vars(received))
    assert graph.delivered == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": USER,
            "type": "text",
            "text": {"preview_url": False, "body": "jawaban untuk vaksin bayar ga?"},
        }
    ]


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "", "garbage"])
async def test_unsigned_or_badly_signed_deliveries_are_refused(
    webhook: Webhook, graph: GraphStub, signature: str | None
) -> None:
    body = payloads.encode(payloads.messages_delivery(payloads.text_message(USER, "halo")))
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[payloads.SIGNATURE_HEADER] = signature
    status, _ = await webhook.post(body, headers)
    assert status == 403
    await asyncio.sleep(0.1)
    assert webhook.assistant.received == [] and graph.requests == []


async def test_a_body_signed_with_another_secret_is_refused(webhook: Webhook) -> None:
    body = payloads.encode(payloads.messages_delivery(payloads.text_message(USER, "halo")))
    status, _ = await webhook.post(body, payloads.signed_headers(body, "not-our-secret"))
    assert status == 403


async def test_malformed_json_is_400_and_the_next_delivery_is_answered(webhook: Webhook) -> None:
    assert (await webhook.post(b'{"object": "whatsapp_business_account", "entry": ['))[0] == 400
    assert (await webhook.post(payloads.encode({"object": "whatsapp_business_account", "entry": {}})))[
        0
    ] == 400
    assert await webhook.deliver(payloads.text_message(USER, "halo")) == 200
    await webhook.settle(1)


async def test_a_delivery_sent_three_times_is_handled_once(webhook: Webhook, graph: GraphStub) -> None:
    body = payloads.encode(payloads.messages_delivery(payloads.text_message(USER, "halo")))
    statuses = [(await webhook.post(body))[0] for _ in range(3)]
    assert statuses == [200, 200, 200]
    await webhook.settle(1)
    await asyncio.sleep(0.2)
    assert len(webhook.assistant.received) == 1
    assert len(graph.delivered) == 1


async def test_a_redelivery_to_a_restarted_instance_is_ignored(
    serve: ServeFactory, settings: WhatsAppSettings
) -> None:
    body = payloads.encode(payloads.messages_delivery(payloads.text_message(USER, "halo")))
    first = await serve(settings)
    await first.post(body)
    await first.settle(1)
    second = await serve(settings)  # same seen-message store, like a restart or a second instance
    assert (await second.post(body))[0] == 200
    await asyncio.sleep(0.2)
    await second.settle(0)
    assert second.assistant.received == []


async def test_the_acknowledgement_does_not_wait_for_the_answer(webhook: Webhook) -> None:
    webhook.assistant.delay = 1.0
    latencies = []
    for index in range(10):
        status, latency = await webhook.post(
            payloads.encode(payloads.messages_delivery(payloads.text_message(USER, f"pertanyaan {index}")))
        )
        assert status == 200
        latencies.append(latency)
    assert statistics.median(latencies) < 0.25
    assert max(latencies) < 0.9  # far below the 1 s each answer takes
    await webhook.settle(10)


async def test_interactive_replies_and_template_buttons_reach_the_assistant_as_their_id(
    webhook: Webhook,
) -> None:
    await webhook.deliver(
        payloads.button_reply(USER, "/affirm", "Ya"),
        payloads.list_reply(USER, "/faq_biaya", "Biaya", "Gratis atau bayar?"),
        payloads.template_button(USER, "MENU", "Lihat menu"),
    )
    await webhook.settle(3)
    assert [m.text for m in webhook.assistant.received] == ["/affirm", "/faq_biaya", "MENU"]


@pytest.mark.parametrize("kind", payloads.NON_TEXT_KINDS)
async def test_non_text_gets_the_notice_then_the_menu(webhook: Webhook, graph: GraphStub, kind: str) -> None:
    await webhook.deliver(payloads.non_text_message(USER, kind))
    await webhook.settle(1)
    assert graph.delivered[0]["text"]["body"] == ONLY_TEXT_NOTICE
    [received] = webhook.assistant.received
    assert received.text == f"/{MENU_INTENT}"
    assert received.metadata == {"whatsapp_type": kind}


async def test_statuses_are_acknowledged_and_ignored(webhook: Webhook, graph: GraphStub) -> None:
    body = payloads.encode(
        payloads.delivery(payloads.change(statuses=[payloads.status_update(USER, "read")]))
    )
    assert (await webhook.post(body))[0] == 200
    await asyncio.sleep(0.1)
    assert webhook.assistant.received == [] and graph.requests == []


async def test_several_messages_and_entries_are_handled_in_order(webhook: Webhook) -> None:
    other = "6289876543210"
    document = payloads.delivery(
        payloads.change([payloads.text_message(USER, "satu"), payloads.text_message(other, "dua")]),
        payloads.change([payloads.text_message(USER, "tiga")]),
        entries=2,
    )
    assert (await webhook.post(payloads.encode(document)))[0] == 200
    await webhook.settle(3)
    received = webhook.assistant.received
    assert [m.text for m in received] == ["satu", "dua", "tiga"]
    assert received[0].sender_id == received[2].sender_id != received[1].sender_id


async def test_messages_to_another_business_number_are_ignored(webhook: Webhook) -> None:
    message = payloads.text_message(USER, "halo")
    body = payloads.encode(payloads.messages_delivery(message, phone_number_id="999"))
    assert (await webhook.post(body))[0] == 200
    await asyncio.sleep(0.1)
    assert webhook.assistant.received == []


async def test_an_unconfigured_channel_refuses_everything(serve: ServeFactory, graph: GraphStub) -> None:
    webhook = await serve(make_settings(graph.base_url, app_secret="", verify_token=""))
    body = payloads.encode(payloads.messages_delivery(payloads.text_message(USER, "halo")))
    assert (await webhook.post(body, payloads.signed_headers(body, "")))[0] == 403
    query = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    async with webhook.http.get(webhook.url, params=query) as response:
        assert response.status == 403


async def test_a_broken_seen_store_does_not_silence_the_assistant(
    serve: ServeFactory, graph: GraphStub, tmp_path: Path
) -> None:
    webhook = await serve(make_settings(graph.base_url, f"sqlite:///{tmp_path}/missing-dir/x.db"))
    assert await webhook.deliver(payloads.text_message(USER, "halo")) == 200
    await webhook.settle(1)


async def test_choices_go_out_as_buttons_then_as_a_list(webhook: Webhook, graph: GraphStub) -> None:
    output = webhook.channel.webhook
    assert output.configured
    from rasa_project.channels.output import WhatsAppOutput

    channel = WhatsAppOutput(webhook.channel.webhook.client, USER, "wa_x")
    buttons = [{"title": f"Pilihan {n}", "payload": f"/p{n}"} for n in range(1, 6)]
    await channel.send_response("wa_x", {"text": "Maksud Anda?", "buttons": buttons[:2]})
    await channel.send_response(
        "wa_x", {"text": "Pilih topik", "buttons": buttons, "metadata": {"whatsapp_list_button": "Topik"}}
    )
    kinds = [(m["interactive"]["type"], m["to"]) for m in graph.delivered]
    assert kinds == [("button", USER), ("list", USER)]
    assert graph.delivered[1]["interactive"]["action"]["button"] == "Topik"


async def test_signed_json_nested_100000_deep_is_400_and_the_next_delivery_is_answered(
    webhook: Webhook,
) -> None:
    body = b'{"object": "whatsapp_business_account", "entry": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert (await webhook.post(body))[0] == 400
    assert await webhook.deliver(payloads.text_message(USER, "halo")) == 200
    await webhook.settle(1)


async def test_a_huge_body_is_413_before_its_signature_is_checked(webhook: Webhook) -> None:
    text = "a" * (MAX_BODY_BYTES + 1)
    body = payloads.encode(payloads.messages_delivery(payloads.text_message(USER, text)))
    assert (await webhook.post(body))[0] == 413
    assert webhook.assistant.received == []


@pytest.mark.parametrize("characters", [4_097, 10_000, 200_000])
async def test_text_over_the_limit_gets_the_notice_and_the_conversation_goes_on(
    webhook: Webhook, graph: GraphStub, characters: int
) -> None:
    assert await webhook.deliver(payloads.text_message(USER, "a" * characters)) == 200
    await webhook.settle(0)
    await asyncio.sleep(0.1)
    assert webhook.assistant.received == []
    assert [message["text"]["body"] for message in graph.delivered] == [TOO_LONG_NOTICE]
    assert await webhook.deliver(payloads.text_message(USER, "halo")) == 200
    await webhook.settle(1)
    assert graph.delivered[-1]["text"]["body"] == "jawaban untuk halo"


def escaped(*messages: payloads.Message) -> bytes:
    """A delivery as JSON with \\u escapes: the only way a lone surrogate can travel in a body."""
    return json.dumps(payloads.messages_delivery(*messages), separators=(",", ":")).encode()


async def test_surrogates_and_control_characters_are_taken_out_of_texts(webhook: Webhook) -> None:
    body = escaped(
        payloads.text_message(USER, "vak\ud800sin\x00 bayar\x1b?"),
        payloads.button_reply(USER, "/affirm\udfff", "Ya"),
    )
    assert (await webhook.post(body))[0] == 200
    await webhook.settle(2)
    assert [m.text for m in webhook.assistant.received] == ["vaksin bayar?", "/affirm"]


@pytest.mark.parametrize("sender", ["\ud800", "62812\x00", "6" * 200, ""])
async def test_a_malformed_sender_refuses_the_delivery(webhook: Webhook, sender: str) -> None:
    assert (await webhook.post(escaped(payloads.text_message(sender, "halo"))))[0] == 400
    await asyncio.sleep(0.1)
    assert webhook.assistant.received == []


async def test_a_failure_gets_an_apology_and_is_logged_without_the_message_text(
    webhook: Webhook, graph: GraphStub
) -> None:
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(logging.Formatter().format(record))  # type: ignore[method-assign]
    for existing in logging.getLogger().handlers:  # the filter the server installed on Rasa's handlers
        handler.filters.extend(existing.filters)
    logging.getLogger().addHandler(handler)
    secret = "NIK saya 3174051708859001 lahir 17 Agustus 1985"
    webhook.assistant.fail = True
    try:
        assert await webhook.deliver(payloads.text_message(USER, secret)) == 200
        await webhook.settle(1)
    finally:
        logging.getLogger().removeHandler(handler)
    assert [message["text"]["body"] for message in graph.delivered] == [FAILURE_NOTICE]
    logged = "\n".join(records)
    assert "could not be handled" in logged and "ValueError" in logged
    assert "Error running graph component for " + HIDDEN in logged
    assert secret not in logged and "3174051708859001" not in logged
