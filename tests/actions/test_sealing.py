"""Sealed slot values: useless to whoever reads the tracker store, usable by the action server."""

from __future__ import annotations

from actions.sealing import PREFIX, Sealer

KEY = b"k" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_round_trip_within_the_conversation() -> None:
    sealer = Sealer(KEY, ttl_seconds=60)
    token = sealer.seal("3174051708859001", "conv-a")
    assert token.startswith(PREFIX)
    assert "3174051708859001" not in token
    assert sealer.unseal(token, "conv-a") == "3174051708859001"


def test_every_seal_looks_different() -> None:
    sealer = Sealer(KEY, ttl_seconds=60)
    assert sealer.seal("1985-08-17", "c") != sealer.seal("1985-08-17", "c")


def test_another_conversation_or_key_cannot_open_it() -> None:
    token = Sealer(KEY, ttl_seconds=60).seal("1985-08-17", "conv-a")
    assert Sealer(KEY, ttl_seconds=60).unseal(token, "conv-b") is None
    assert Sealer(b"x" * 32, ttl_seconds=60).unseal(token, "conv-a") is None


def test_tampering_and_garbage_are_refused() -> None:
    sealer = Sealer(KEY, ttl_seconds=60)
    token = sealer.seal("1985-08-17", "c")
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for bad in (flipped, PREFIX + "!!!", PREFIX, "1985-08-17", None, 42, "[NIK]"):
        assert sealer.unseal(bad, "c") is None


def test_expired_values_are_gone() -> None:
    clock = Clock()
    sealer = Sealer(KEY, ttl_seconds=60, clock=clock)
    token = sealer.seal("1985-08-17", "c")
    clock.now += 59
    assert sealer.unseal(token, "c") == "1985-08-17"
    clock.now += 2
    assert sealer.unseal(token, "c") is None
