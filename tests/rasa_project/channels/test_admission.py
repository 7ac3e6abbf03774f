"""The gate lets a few messages in at once, in the order they came, and loses no place."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rasa_project.channels import admission
from rasa_project.channels.admission import (
    DEFAULT_MESSAGES_AT_ONCE,
    MESSAGES_AT_ONCE_ENV,
    Admission,
    admitted,
    messages_at_once,
)


class Handler:
    """An ``on_new_message`` that holds each message until the test lets it go."""

    def __init__(self) -> None:
        self.inside: list[str] = []
        self.started: list[str] = []
        self.most_inside = 0
        self.release: dict[str, asyncio.Event] = {}

    async def __call__(self, text: str) -> str:
        self.started.append(text)
        self.inside.append(text)
        self.most_inside = max(self.most_inside, len(self.inside))
        await self.release.setdefault(text, asyncio.Event()).wait()
        self.inside.remove(text)
        return f"answer to {text}"

    def let_go(self, text: str) -> None:
        self.release.setdefault(text, asyncio.Event()).set()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_no_more_than_the_limit_are_handled_at_once_and_they_start_in_arrival_order() -> None:
    handler = Handler()
    gated = admitted(handler, Admission(2))
    texts = [f"m{number}" for number in range(6)]
    tasks = []
    for text in texts:
        tasks.append(asyncio.create_task(gated(text)))
        await settle()
    assert handler.started == ["m0", "m1"]
    for text in texts:
        handler.let_go(text)
        await settle()
        assert len(handler.inside) <= 2
    assert [await task for task in tasks] == [f"answer to {text}" for text in texts]
    assert handler.started == texts
    assert handler.most_inside == 2


async def test_a_newcomer_does_not_take_the_place_of_one_already_waiting() -> None:
    gate = Admission(1)
    order: list[str] = []

    async def visit(name: str, hold: asyncio.Event | None = None) -> None:
        async with gate.turn():
            order.append(name)
            if hold is not None:
                await hold.wait()

    hold = asyncio.Event()
    first = asyncio.create_task(visit("first", hold))
    await settle()
    waiting = asyncio.create_task(visit("waiting"))
    await settle()
    hold.set()  # the place is handed to "waiting" ...
    newcomer = asyncio.create_task(visit("newcomer"))  # ... before this one asks for it
    await asyncio.gather(first, waiting, newcomer)
    assert order == ["first", "waiting", "newcomer"]
    assert gate.inside == 0


async def queue_of(*names: str) -> tuple[Handler, Admission, list[asyncio.Task[Any]]]:
    """A gate of one place: the first name inside, the others waiting in that order."""
    handler = Handler()
    gate = Admission(1)
    gated = admitted(handler, gate)
    tasks = [asyncio.create_task(gated(names[0]))]
    await settle()
    tasks += [asyncio.create_task(gated(name)) for name in names[1:]]
    await settle()
    return handler, gate, tasks


async def test_a_waiter_cancelled_gives_up_its_place_in_the_queue_and_none_is_lost() -> None:
    handler, gate, (first, cancelled, last) = await queue_of("first", "cancelled", "last")
    cancelled.cancel()
    await settle()
    handler.let_go("first")
    handler.let_go("last")
    assert await first == "answer to first"
    assert await last == "answer to last"
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert handler.started == ["first", "last"]
    assert gate.inside == 0 and gate.waiting == 0


async def test_a_place_handed_over_as_the_waiter_is_cancelled_is_passed_on() -> None:
    handler, gate, (first, unlucky, after) = await queue_of("first", "unlucky", "after")
    handler.let_go("first")
    await first  # the place is now handed to "unlucky", which has not run yet
    unlucky.cancel()
    handler.let_go("after")
    assert await after == "answer to after"
    with pytest.raises(asyncio.CancelledError):
        await unlucky
    assert gate.inside == 0


async def test_an_error_in_a_message_frees_its_place() -> None:
    gate = Admission(1)

    async def failing(_: Any) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await admitted(failing, gate)("x")
    assert gate.inside == 0
    async with gate.turn():
        assert gate.inside == 1


async def test_zero_means_no_limit() -> None:
    handler = Handler()
    gated = admitted(handler, Admission(0))
    tasks = [asyncio.create_task(gated(f"m{number}")) for number in range(10)]
    await settle()
    assert handler.most_inside == 10
    for number in range(10):
        handler.let_go(f"m{number}")
    await asyncio.gather(*tasks)


def test_the_limit_comes_from_the_environment() -> None:
    assert messages_at_once({}) == DEFAULT_MESSAGES_AT_ONCE
    assert messages_at_once({MESSAGES_AT_ONCE_ENV: " 3 "}) == 3
    assert messages_at_once({MESSAGES_AT_ONCE_ENV: "0"}) == 0
    with pytest.raises(ValueError, match=MESSAGES_AT_ONCE_ENV):
        messages_at_once({MESSAGES_AT_ONCE_ENV: "dua"})


async def test_a_message_waits_at_most_max_wait_then_goes_in_over_the_limit() -> None:
    """Places held by turns stuck on something slow do not stop everyone else."""
    handler = Handler()
    gate = Admission(1, max_wait=0.05)
    gated = admitted(handler, gate)
    stuck = asyncio.create_task(gated("stuck on a slow registry"))
    await settle()
    patient = asyncio.create_task(gated("patient"))
    await asyncio.sleep(0.2)
    assert handler.inside == ["stuck on a slow registry", "patient"]
    assert gate.inside == 2 and gate.waiting == 0
    handler.let_go("patient")
    await patient
    handler.let_go("stuck on a slow registry")
    await stuck
    assert gate.inside == 0
    async with gate.turn():  # back to one at a time
        assert gate.inside == 1


def test_a_bad_setting_stops_the_start_not_each_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admission, "_process_gate", None)
    monkeypatch.setenv(MESSAGES_AT_ONCE_ENV, "dua")
    with pytest.raises(ValueError, match=MESSAGES_AT_ONCE_ENV):
        admitted(Handler())  # as a channel's blueprint does when the server starts
    monkeypatch.setenv(MESSAGES_AT_ONCE_ENV, "3")
    admitted(Handler())
    assert admission.process_admission().limit == 3
