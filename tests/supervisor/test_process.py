"""One supervised process: real children, killed for real, restarted with backoff."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from supervisor.components import ComponentSpec
from supervisor.process import Backoff, State, Supervised

DUMMY = str(Path(__file__).with_name("dummy_server.py"))
PORT = 15210


def dummy(name: str, port: int, status: str = "ok") -> ComponentSpec:
    return ComponentSpec(name, (sys.executable, DUMMY, str(port), status), f"http://127.0.0.1:{port}/health")


async def until(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


@asynccontextmanager
async def running(component: Supervised) -> AsyncIterator[asyncio.Event]:
    """The component supervised, and health-checked every 50 ms, until the block ends."""
    stopping = asyncio.Event()
    runner = asyncio.create_task(component.run(stopping))

    async def watch() -> None:
        async with httpx.AsyncClient(timeout=1) as client:
            while True:
                await component.check_health(client)
                await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    try:
        yield stopping
    finally:
        watcher.cancel()
        stopping.set()
        await component.stop(grace_seconds=0.1, timeout_seconds=5)
        await asyncio.wait_for(runner, 10)


def test_backoff_doubles_and_is_capped() -> None:
    backoff = Backoff(initial_seconds=1, max_seconds=8)
    assert [backoff.delay(failures) for failures in range(1, 7)] == [1, 2, 4, 8, 8, 8]


async def test_a_killed_process_comes_back_after_a_growing_delay(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="supervisor")
    component = Supervised(dummy("registry", PORT), Backoff(0.5, 1.0), stable_seconds=60)
    async with running(component):
        await until(lambda: component.state is State.UP)
        assert component.report()["health"]["body"] == {"status": "ok"}

        pauses = []
        for restarts in (1, 2, 3):
            first = component.pid
            assert first is not None
            os.kill(first, signal.SIGKILL)
            died = time.monotonic()
            await until(lambda: component.state is State.RESTARTING)
            assert component.report()["state"] == "restarting"
            assert component.report()["last_exit_code"] == -signal.SIGKILL
            await until(lambda: component.state is State.UP)
            pauses.append(time.monotonic() - died)
            assert component.restarts == restarts
            assert component.pid not in (None, first)
        # 0.5 s, then 1 s, then 1 s again: doubled, and capped.
        assert 0.5 <= pauses[0] < 0.95
        assert 1.0 <= pauses[1] < 1.6
        assert 1.0 <= pauses[2] < 1.6
    messages = [record.getMessage() for record in caplog.records]
    assert any(message.startswith("registry exited (code -9)") for message in messages)
    assert "registry restarted (restart 3)" in messages
    assert component.state is State.STOPPED


async def test_a_process_that_cannot_start_is_retried_and_never_up() -> None:
    component = Supervised(dummy("rasa server", PORT + 1, "crash"), Backoff(0.05, 0.2), stable_seconds=60)
    async with running(component):
        await until(lambda: component.restarts >= 3)
        assert component.state in (State.RESTARTING, State.STARTING)
        assert component.last_exit_code == 3
        assert not component.first_up.is_set()


async def test_a_missing_program_is_reported_and_retried() -> None:
    spec = ComponentSpec("review app", ("/nonexistent/python",), "http://127.0.0.1:9/")
    component = Supervised(spec, Backoff(0.05, 0.1), stable_seconds=60)
    async with running(component):
        await until(lambda: component.restarts >= 2)
        assert component.pid is None


async def test_a_process_that_stops_answering_is_down() -> None:
    component = Supervised(dummy("action server", PORT + 2), Backoff(0.5, 1), stable_seconds=60)
    async with running(component):
        await until(lambda: component.state is State.UP)
        pid = component.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # alive, but it no longer answers
        try:
            await until(lambda: component.state is State.DOWN)
            assert component.report()["health"]["error"] == "ReadTimeout"
            assert component.restarts == 0
        finally:
            os.kill(pid, signal.SIGCONT)
        await until(lambda: component.state is State.UP)


async def test_stop_kills_a_process_that_ignores_sigterm() -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    spec = ComponentSpec("stubborn", (sys.executable, "-c", code), "http://127.0.0.1:9/")
    component = Supervised(spec, Backoff(1, 1), stable_seconds=60)
    stopping = asyncio.Event()
    runner = asyncio.create_task(component.run(stopping))
    await until(lambda: component.pid is not None)
    await asyncio.sleep(0.5)  # the SIGTERM handler is installed
    pid = component.pid
    assert pid is not None
    stopping.set()
    started = time.monotonic()
    await component.stop(grace_seconds=0.1, timeout_seconds=1)
    await asyncio.wait_for(runner, 5)
    assert 1 <= time.monotonic() - started < 5
    assert component.pid is None and component.state is State.STOPPED
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
