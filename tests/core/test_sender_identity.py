"""The keyed sender id: the channel and the registry must compute the same one (stdlib only, both envs)."""

from __future__ import annotations

import pytest

from core.sender_identity import conversation_id, is_sender_of, message_key, normalise_phone

KEY = "test-sender-hash-key"


def test_every_spelling_of_a_number_is_one_sender() -> None:
    ids = {conversation_id(phone, KEY) for phone in ("+62 810-0000-0001", "6281000000001", "+6281000000001")}
    assert len(ids) == 1
    [sender] = ids
    assert sender.startswith("wa_") and len(sender) == 3 + 32
    assert "81000000001" not in sender


def test_the_sender_of_a_number_is_recognised_and_no_other() -> None:
    sender = conversation_id("+6281000000001", KEY)
    assert is_sender_of("6281000000001", sender, KEY)
    assert not is_sender_of("6281000000002", sender, KEY)
    assert not is_sender_of("6281000000001", conversation_id("+6281000000001", "another-key"), KEY)
    assert not is_sender_of("6281000000001", "wa_\ud800", KEY)  # a hostile id is a mismatch, not a crash


def test_message_keys_and_sender_ids_never_collide() -> None:
    assert message_key("6281000000001", KEY) != conversation_id("6281000000001", KEY)[3:]
    assert normalise_phone("+62 (810) 0000-0001") == "6281000000001"


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="WHATSAPP_SENDER_HASH_KEY"):
        conversation_id("6281000000001", "")
