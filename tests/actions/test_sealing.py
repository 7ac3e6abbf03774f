"""Sealed slot values: useless to whoever reads the tracker store, usable by the action server only in
the conversation that produced them and only while they are fresh."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from actions.sealing import PREFIX, Sealer

KEY = b"k" * 32
NIK = "3174051708859001"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token[len(PREFIX) :])


def rebuilt(parts: bytes) -> str:
    return PREFIX + base64.urlsafe_b64encode(parts).decode()


def test_round_trip_within_the_conversation() -> None:
    sealer = Sealer(KEY, ttl_seconds=60)
    token = sealer.seal(NIK, "conv-a")
    assert token.startswith(PREFIX)
    assert NIK not in token
    assert sealer.unseal(token, "conv-a") == NIK


def test_every_seal_looks_different() -> None:
    sealer = Sealer(KEY, ttl_seconds=60)
    assert sealer.seal("1985-08-17", "c") != sealer.seal("1985-08-17", "c")


def test_another_conversation_cannot_open_it() -> None:
    """The #11.3 replay: slots produced under one conversation id, presented under another."""
    token = Sealer(KEY, ttl_seconds=60).seal("1985-08-17", "conv-a")
    for other in ("conv-b", "conv-a ", "Conv-a", "", "conv-a\x00"):
        assert Sealer(KEY, ttl_seconds=60).unseal(token, other) is None


def test_a_wrong_key_cannot_open_it() -> None:
    token = Sealer(KEY, ttl_seconds=60).seal("1985-08-17", "conv-a")
    assert Sealer(b"x" * 32, ttl_seconds=60).unseal(token, "conv-a") is None
    assert Sealer(KEY[:-1], ttl_seconds=60).unseal(token, "conv-a") is None


def test_tampering_anywhere_is_refused() -> None:
    sealer = Sealer(KEY, ttl_seconds=60)
    token = sealer.seal("1985-08-17", "c")
    body = raw(token)
    for index in range(len(body)):
        flipped = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
        assert sealer.unseal(rebuilt(flipped), "c") is None, f"byte {index} flipped still opens"
    assert sealer.unseal(rebuilt(body[:-1]), "c") is None
    assert sealer.unseal(rebuilt(body + b"\x00"), "c") is None


def test_a_later_expiry_cannot_be_written_in() -> None:
    """The expiry is readable but bound to the tag: moving it forward breaks the seal."""
    clock = Clock()
    sealer = Sealer(KEY, ttl_seconds=60, clock=clock)
    body = raw(sealer.seal("1985-08-17", "c"))
    later = (int.from_bytes(body[:8], "big") + 3600).to_bytes(8, "big")
    clock.now += 120
    assert sealer.unseal(rebuilt(later + body[8:]), "c") is None


def test_forged_tokens_and_garbage_are_refused() -> None:
    """A token made with a key of the attacker's choosing, and things that are not tokens at all."""
    sealer = Sealer(KEY, ttl_seconds=60)
    expires = (2_000_000_000).to_bytes(8, "big")
    nonce = b"\x00" * 12
    forged = rebuilt(expires + nonce + AESGCM(b"a" * 32).encrypt(nonce, NIK.encode(), None))
    bad_tokens: tuple[object, ...] = (
        forged,
        PREFIX + "!!!",
        PREFIX,
        PREFIX + "é",
        rebuilt(b"\x00" * 35),
        "sealed:v1:" + raw(sealer.seal(NIK, "c")).hex(),
        "1985-08-17",
        NIK,
        None,
        42,
        ["x"],
        "[NIK]",
    )
    for bad in bad_tokens:
        assert sealer.unseal(bad, "c") is None


def test_expired_values_are_gone() -> None:
    clock = Clock()
    sealer = Sealer(KEY, ttl_seconds=60, clock=clock)
    token = sealer.seal("1985-08-17", "c")
    clock.now += 59
    assert sealer.unseal(token, "c") == "1985-08-17"
    clock.now += 2
    assert sealer.unseal(token, "c") is None


def test_any_conversation_id_and_value_round_trip() -> None:
    """Sender ids come from channels: long ones, non-ASCII ones, even a lone surrogate (issue #11.1)."""
    sealer = Sealer(KEY, ttl_seconds=60)
    for conversation in ("6281234567890", "ü" * 300, "\ud800", "a:b:c"):
        assert sealer.unseal(sealer.seal(NIK, conversation), conversation) == NIK


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        Sealer(b"", ttl_seconds=60)
