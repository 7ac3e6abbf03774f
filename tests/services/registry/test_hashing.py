from __future__ import annotations

from services.registry.hashing import conversation_hash, nik_hash

NIK = "3174051708859001"


def test_keyed_hash_depends_on_the_key() -> None:
    assert nik_hash("key-one-0123456789", NIK) != nik_hash("key-two-0123456789", NIK)
    assert nik_hash("key-one-0123456789", NIK) == nik_hash("key-one-0123456789", NIK)


def test_hash_is_hex_sha256_and_hides_the_nik() -> None:
    digest = nik_hash("key-one-0123456789", NIK)
    assert len(digest) == 64
    assert NIK not in digest


def test_nik_and_conversation_hashes_of_the_same_text_differ() -> None:
    assert nik_hash("key-one-0123456789", NIK) != conversation_hash("key-one-0123456789", NIK)
