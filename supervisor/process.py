"""One supervised server: started, watched, restarted with backoff when it dies, stopped on request.

A process that dies is started again, never the whole stack stopped: the registry or the review
app going down must not take the FAQ answers with it, and a crash of Rasa or the action server
(issue #11.1) should cost seconds, not the service. Backoff keeps a process that dies at once
(a bad model, a port in use) from spinning the CPU while its log says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

from supervisor.components import ComponentSpec

log = logging.getLogger("supervisor")

_BODY_LIMIT = 2000  # a health answer larger than this is not a health answer; it is not kept


class State(StrEnum):
    STARTING = "starting"  # running, its health URL has not answered yet since it (re)started
    UP = "up"  # running, and its health URL answers 200
    DOWN = "down"  # running but its health URL stopped answering, or it could not be started
    RESTARTING = "restarting"  # it exited; waiting out the backoff before starting it again
    STOPPED = "stopped"  # the stack is stopping


@dataclass(frozen=True)
class Backoff:
    initial_seconds: float
    max_seconds: float

    def delay(self, failures: int) -> float:
        """Seconds before the next start after ``failures`` quick deaths in a row (1, 2, 4 … capped)."""
        return min(self.initial_seconds * 2 ** max(failures - 1, 0), self.max_seconds)


@dataclass
class HealthResult:
    url: str
    status_code: int | None
    body: Any
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code == 200

    @property
    def degraded(self) -> bool:
        """The component answers but says it works with less (e.g. the action server without its search)."""
        return isinstance(self.body, dict) and self.body.get("status") not in (None, "ok")


class Supervised:
    """Keeps one component running until ``stopping`` is set."""

    def __init__(
        self,
        spec: ComponentSpec,
        backoff: Backoff,
        stable_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spec = spec
        self.backoff = backoff
        self.stable_seconds = stable_seconds
        self.clock = clock
        self.state = State.STARTING
        self.restarts = 0
        self.last_exit_code: int | None = None
        self.health: HealthResult | None = None
        self.first_up = asyncio.Event()  # set once, the first time the health URL answers
        self._process: asyncio.subprocess.Process | None = None
        self._failures = 0

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    async def run(self, stopping: asyncio.Event) -> None:
        """Start the process; each time it ends, wait out the backoff and start it again."""
        while not stopping.is_set():
            started = self.clock()
            self.health = None
            code = await self._start_and_wait()
            if stopping.is_set():
                break
            self.last_exit_code = code
            self._failures = 1 if self.clock() - started >= self.stable_seconds else self._failures + 1
            delay = self.backoff.delay(self._failures)
            self.state = State.RESTARTING
            log.warning(
                "%s exited (code %s) after %.0f s; restarting in %.1f s",
                self.name,
                code,
                self.clock() - started,
                delay,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), delay)
            if stopping.is_set():
                break
            self.restarts += 1
            log.warning("%s restarted (restart %d)", self.name, self.restarts)
        self.state = State.STOPPED

    async def _start_and_wait(self) -> int | None:
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.spec.command,
                stdin=asyncio.subprocess.DEVNULL,
                env={**os.environ, **self.spec.environment} if self.spec.environment else None,
            )
        except OSError as error:
            log.error("%s could not be started: %s", self.name, error)
            self.state = State.DOWN
            return None
        self.state = State.STARTING
        return await self._process.wait()

    async def check_health(self, client: httpx.AsyncClient) -> None:
        """Ask the component's health URL; a running process that stops answering is ``down``."""
        if self.pid is None:
            return
        if self.spec.health_url is None:  # no HTTP server: running is all it can say
            self.health = HealthResult("process", 200, {"status": "ok"}, None)
            self.state = State.UP
            self.first_up.set()
            return
        try:
            answer = await client.get(self.spec.health_url)
        except httpx.HTTPError as error:
            result = HealthResult(self.spec.health_url, None, None, type(error).__name__)
        else:
            result = HealthResult(self.spec.health_url, answer.status_code, _body(answer), None)
        if self.pid is None:  # it died while we asked
            return
        self.health = result
        if result.ok:
            self.state = State.UP
            self.first_up.set()
        elif self.state is State.UP:
            self.state = State.DOWN

    async def stop(self, grace_seconds: float, timeout_seconds: float) -> None:
        """Let it finish what the group's signal asked; terminate it if it has not; kill it after a timeout.

        Ctrl-C and ``kill -- -<group>`` reach every process directly; the grace period keeps a
        second signal from cutting a graceful shutdown short. A signal to the supervisor alone
        reaches the servers through ``terminate``.
        """
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), grace_seconds)
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout_seconds)
        except TimeoutError:
            log.warning("%s did not stop within %.0f s; killing it", self.name, timeout_seconds)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    def report(self) -> dict[str, Any]:
        health = self.health
        return {
            "state": self.state.value,
            "pid": self.pid,
            "restarts": self.restarts,
            "last_exit_code": self.last_exit_code,
            "health": None
            if health is None
            else {
                "url": health.url,
                "status_code": health.status_code,
                "body": health.body,
                "error": health.error,
            },
        }

    @property
    def healthy(self) -> bool:
        return self.state is State.UP and self.health is not None and not self.health.degraded


def _body(answer: httpx.Response) -> Any:
    """The health answer as JSON when it is JSON, else its first line of text (Rasa says hello)."""
    if len(answer.content) > _BODY_LIMIT:
        return None
    try:
        return answer.json()
    except ValueError:
        return answer.text.strip().splitlines()[0] if answer.text.strip() else None
