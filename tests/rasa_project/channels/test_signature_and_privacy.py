"""Only Meta's signed deliveries count, and phone numbers never become conversation ids."""

from __future__ import annotations

import pytest

from rasa_project.channels.privacy import conversation_id, message_key, normalise_phone
from rasa_project.channels.signature import signature_is_valid
from tests.harness.whatsapp.payloads import signature

BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def test_meta_signature_is_accepted() -> None:
    assert signature_is_valid(BODY, signature(BODY, "app-secret"), "app-secret")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        signature(BODY, "another-secret"),
        signature(BODY + b" ", "app-secret"),
        signature(BODY, "app-secret").replace("sha256=", "sha1="),
        signature(BODY, "app-secret")[:-1],
        signature(BODY, "app-secret").upper(),
        "sha256=ü",
    ],
)
def test_missing_or_wrong_signatures_are_refused(header: str | None) -> None:
    assert not signature_is_valid(BODY, header, "app-secret")


def test_no_signature_is_valid_without_an_app_secret() -> None:
    assert not signature_is_valid(BODY, signature(BODY, ""), "")


def test_conversation_id_is_stable_and_keyed() -> None:
    first = conversation_id("6281234567890", "key-a")
    assert first == conversation_id("+62 812-3456-7890", "key-a")
    assert first != conversation_id("6281234567890", "key-b")
    assert first != conversation_id("6281234567891", "key-a")
    assert first.startswith("wa_")


def test_conversation_id_does_not_contain_the_number() -> None:
    phone = "6281234567890"
    pseudonym = conversation_id(phone, "key")
    assert phone not in pseudonym
    assert phone[-6:] not in pseudonym


def test_message_keys_differ_from_conversation_ids() -> None:
    assert message_key("6281234567890", "key") not in conversation_id("6281234567890", "key")


def test_an_empty_hash_key_is_refused() -> None:
    with pytest.raises(ValueError, match="WHATSAPP_SENDER_HASH_KEY"):
        conversation_id("6281234567890", "")


def test_normalise_phone_keeps_digits() -> None:
    assert normalise_phone("+62 (812) 3456-7890") == "6281234567890"
