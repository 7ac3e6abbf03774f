"""How many messages one Rasa process works on at once; the others wait their turn, in arrival order.

Rasa handles every message of a process on one event loop. Each await inside a turn (the lock
store, the tracker store, each custom action over HTTP) lets every other message in the process run
a slice of its CPU work first, so with eight messages in one process each turn takes about eight
turns' time, and a turn with more awaits (a schedule check: two action calls and the registry; a
WhatsApp message: the seen-message store and the Graph API) waits its slices more often. Under load
the latency then depends on how many hops a turn has, not on when it arrived: in ``make load`` at
concurrency 16 (7 Dec 2026) a FAQ question waited p50 349 ms and a schedule step 571 ms, an overall
p95 of 832 ms at a mean of 440 ms.

Admitting a few messages at a time (``RASA_MESSAGES_AT_ONCE``) serves them first come, first
served: a message waits at the door while earlier ones finish, then runs with little competition.
More than one keeps the CPU busy while a turn waits for the action server or the databases. The
mean latency is the same (the CPU work is), the spread is smaller. Messages of one conversation
still go one after another by Rasa's lock store, inside the gate; a message waiting at the door
holds no lock, so the gate cannot deadlock with the lock.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from functools import wraps
from typing import Any

MESSAGES_AT_ONCE_ENV = "RASA_MESSAGES_AT_ONCE"
DEFAULT_MESSAGES_AT_ONCE = 2
# The longest a message waits at the door (see Admission); at concurrency 64 on 2 cores the wait was
# about 1.3 s, at 16 about 0.3 s.
MAX_WAIT_SECONDS = 2.0


def messages_at_once(environ: Mapping[str, str] | None = None) -> int:
    """The process's limit from the environment; 0 or less means no limit. A bad value is an error."""
    raw = (os.environ if environ is None else environ).get(MESSAGES_AT_ONCE_ENV, "").strip()
    if not raw:
        return DEFAULT_MESSAGES_AT_ONCE
    try:
        return int(raw)
    except ValueError as error:
        raise ValueError(f"{MESSAGES_AT_ONCE_ENV} must be a whole number, not {raw!r}") from error


class Admission:
    """A first-come-first-served gate of ``limit`` places (``limit`` ≤ 0: always open).

    A message waits at most ``max_wait`` seconds at the door, then goes in anyway, over the limit:
    turns that hold their places while they wait on something slow (a registry timing out, an action
    server restarting) must not stop everyone else. Under ordinary load the wait is far shorter.

    Not ``asyncio.Semaphore``: on Python 3.10 (Rasa's) a newcomer can take a place just released
    before the waiter woken for it runs, and the waiter queues again at the back.
    """

    def __init__(self, limit: int, max_wait: float = MAX_WAIT_SECONDS) -> None:
        self.limit = limit
        self.max_wait = max_wait
        self._inside = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    @property
    def inside(self) -> int:
        return self._inside

    @property
    def waiting(self) -> int:
        return sum(1 for future in self._waiting if not future.done())

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self.limit <= 0:
            yield
            return
        if self._inside < self.limit and not self._waiting:
            self._inside += 1
        else:
            await self._wait_for_a_place()
        try:
            yield
        finally:
            self._leave()

    async def _wait_for_a_place(self) -> None:
        place: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(place)
        try:
            await asyncio.wait({place}, timeout=self.max_wait)
        except asyncio.CancelledError:
            if place.done() and not place.cancelled():
                self._leave()  # handed a place just as it was cancelled: pass it on
            else:
                self._give_up(place)
            raise
        if not place.done():  # waited long enough: in, over the limit
            self._give_up(place)
            self._inside += 1

    def _give_up(self, place: asyncio.Future[None]) -> None:
        place.cancel()
        if place in self._waiting:
            self._waiting.remove(place)

    def _leave(self) -> None:
        """Hands the place to the first one waiting (the count stays), or frees it; one let in over
        the limit frees its place."""
        if self._inside <= self.limit:
            while self._waiting:
                place = self._waiting.popleft()
                if not place.done():
                    place.set_result(None)
                    return
        self._inside -= 1


_process_gate: Admission | None = None


def process_admission() -> Admission:
    """The one gate of this process, shared by every channel (created on first use)."""
    global _process_gate
    if _process_gate is None:
        _process_gate = Admission(messages_at_once())
    return _process_gate


def admitted(
    on_new_message: Callable[..., Awaitable[Any]], gate: Admission | None = None
) -> Callable[..., Coroutine[Any, Any, Any]]:
    """``on_new_message`` behind the process's gate (or ``gate``).

    The gate is taken now, when a channel builds its routes at the server's start: a bad
    ``RASA_MESSAGES_AT_ONCE`` stops the start with its reason instead of failing every message.
    """
    chosen = gate or process_admission()

    @wraps(on_new_message)
    async def through_the_gate(*args: Any, **kwargs: Any) -> Any:
        async with chosen.turn():
            return await on_new_message(*args, **kwargs)

    return through_the_gate
