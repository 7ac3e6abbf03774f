"""Deliveries of every shape Meta sends are read; anything else is refused as a whole."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rasa_project.channels.payload import Delivery, MalformedDelivery, parse_delivery
from tests.harness.whatsapp import payloads

USER = "6281234567890"


def parsed(document: dict[str, Any]) -> Delivery:
    return parse_delivery(payloads.encode(document))


def test_text() -> None:
    message = payloads.text_message(USER, "vaksin bayar ga?")
    [incoming] = parsed(payloads.messages_delivery(message)).messages
    assert incoming.text == "vaksin bayar ga?"
    assert incoming.kind == "text"
    assert incoming.sender == USER
    assert incoming.message_id == message["id"]
    assert incoming.phone_number_id == payloads.DEFAULT_PHONE_NUMBER_ID


def test_reply_button_and_list_row_give_their_id() -> None:
    delivery = parsed(
        payloads.messages_delivery(
            payloads.button_reply(USER, "/affirm", "Ya"),
            payloads.list_reply(USER, "/faq", "Biaya vaksin", "Gratis atau bayar?"),
        )
    )
    assert [m.text for m in delivery.messages] == ["/affirm", "/faq"]
    assert [m.kind for m in delivery.messages] == ["interactive", "interactive"]


def test_template_quick_reply_gives_its_payload_or_text() -> None:
    with_payload = payloads.template_button(USER, "MENU", "Lihat menu")
    without_payload = payloads.template_button(USER, "", "menu")
    delivery = parsed(payloads.messages_delivery(with_payload, without_payload))
    assert [m.text for m in delivery.messages] == ["MENU", "menu"]


@pytest.mark.parametrize("kind", payloads.NON_TEXT_KINDS)
def test_non_text_messages_carry_no_text(kind: str) -> None:
    [incoming] = parsed(payloads.messages_delivery(payloads.non_text_message(USER, kind))).messages
    assert incoming.kind == kind
    assert incoming.text is None


def test_unknown_types_carry_no_text() -> None:
    message = {**payloads.text_message(USER, "x"), "type": "unsupported", "errors": [{"code": 131051}]}
    del message["text"]
    [incoming] = parsed(payloads.messages_delivery(message)).messages
    assert incoming.text is None


def test_taking_a_reaction_back_is_ignored() -> None:
    message = payloads.non_text_message(USER, "reaction")
    message["reaction"] = {"message_id": payloads.new_message_id()}
    delivery = parsed(payloads.messages_delivery(message))
    assert delivery.messages == []
    assert delivery.ignored_reactions == 1


def test_statuses_are_counted_and_ignored() -> None:
    delivery = parsed(payloads.delivery(payloads.change(statuses=[payloads.status_update(USER, "read")])))
    assert delivery.messages == []
    assert delivery.ignored_statuses == 1


def test_several_messages_changes_and_entries_keep_their_order() -> None:
    first, second, third = (payloads.text_message(USER, text) for text in ("satu", "dua", "tiga"))
    document = payloads.delivery(
        payloads.change([first, second]),
        payloads.change(statuses=[payloads.status_update(USER)]),
        payloads.change([third]),
        entries=2,
    )
    assert len(document["entry"]) == 2
    delivery = parsed(document)
    assert [m.text for m in delivery.messages] == ["satu", "dua", "tiga"]
    assert delivery.ignored_statuses == 1


def test_other_fields_are_ignored() -> None:
    document = payloads.delivery({"field": "message_template_status_update", "value": {"event": "APPROVED"}})
    assert parsed(document).messages == []


def test_errors_reported_by_meta_are_kept_for_the_log() -> None:
    change = payloads.change()
    change["value"]["errors"] = [{"code": 131000, "title": "Something went wrong"}]
    assert parsed(payloads.delivery(change)).errors == [{"code": 131000, "title": "Something went wrong"}]


def test_the_phone_number_stays_out_of_the_repr() -> None:
    [incoming] = parsed(payloads.messages_delivery(payloads.text_message(USER, "halo"))).messages
    assert USER not in repr(incoming)


def _broken(path: str, value: Any) -> bytes:
    document = payloads.messages_delivery(payloads.text_message(USER, "halo"))
    target: Any = document
    *parents, last = path.split(".")
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return payloads.encode(document)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b"\xff\xfe",
        b"[]",
        json.dumps({"object": "page", "entry": []}).encode(),
        json.dumps({"object": "whatsapp_business_account"}).encode(),
        _broken("entry", {}),
        _broken("entry.0.changes", "x"),
        _broken("entry.0.changes.0.value", []),
        _broken("entry.0.changes.0.value.messages", {}),
        _broken("entry.0.changes.0.value.messages.0.from", KeyError),
        _broken("entry.0.changes.0.value.messages.0.id", 12),
        _broken("entry.0.changes.0.value.messages.0.type", KeyError),
        _broken("entry.0.changes.0.value.messages.0.text", "halo"),
        _broken("entry.0.changes.0.value.metadata", KeyError),
        _broken("entry.0.changes.0.value.statuses", "delivered"),
    ],
)
def test_malformed_deliveries_are_refused(body: bytes) -> None:
    with pytest.raises(MalformedDelivery):
        parse_delivery(body)


def test_an_interactive_reply_without_its_id_is_refused() -> None:
    message = payloads.button_reply(USER, "/affirm", "Ya")
    del message["interactive"]["button_reply"]["id"]
    with pytest.raises(MalformedDelivery):
        parse_delivery(payloads.encode(payloads.messages_delivery(message)))
