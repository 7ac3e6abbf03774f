"""Runs the whole assistant: every component supervised, the health endpoint, the "is up" message."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

import httpx

from supervisor.components import RASA_SERVER, REVIEW_APP, ComponentSpec, assistant_components
from supervisor.environment import SECRETS_FILE
from supervisor.health import HealthServer, health_server
from supervisor.process import Backoff, State, Supervised
from supervisor.settings import SupervisorSettings

log = logging.getLogger("supervisor")

# After Ctrl-C every process got the signal itself; this long to act on it before being told again.
_STOP_GRACE_SECONDS = 2.0
_REVIEW_GRACE_SECONDS = 10.0


def supervised(specs: Sequence[ComponentSpec], settings: SupervisorSettings) -> list[Supervised]:
    backoff = Backoff(settings.supervisor_backoff_initial_seconds, settings.supervisor_backoff_max_seconds)
    return [Supervised(spec, backoff, settings.supervisor_stable_seconds) for spec in specs]


async def watch_health(components: Sequence[Supervised], interval: float, timeout: float) -> None:
    """Every ``interval`` while all is up; every second while something starts, so "is up" is prompt."""
    async with httpx.AsyncClient(timeout=timeout) as client:
        while True:
            await asyncio.gather(*(component.check_health(client) for component in components))
            all_up = all(component.state is State.UP for component in components)
            await asyncio.sleep(interval if all_up else min(interval, 1.0))


async def announce(components: Sequence[Supervised], settings: SupervisorSettings) -> None:
    """The lines ``make run`` has always printed once Rasa answers, and where the health report is."""
    by_name = {component.name: component for component in components}
    await by_name[RASA_SERVER].first_up.wait()
    rest_url = f"http://localhost:{settings.rasa_port}/webhooks/rest/webhook"
    print(f"TanyaVaksin is up: POST {rest_url} (Ctrl-C stops it)", flush=True)
    review = by_name[REVIEW_APP]
    # It normally starts long before Rasa; a moment more, so a health round in progress is not misread.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(review.first_up.wait(), _REVIEW_GRACE_SECONDS)
    if review.state is State.UP:
        secrets_file = settings.run_dir / SECRETS_FILE
        print(
            f"Review app: http://localhost:{settings.review_port} "
            f"(admin; password: REVIEW_ADMIN_PASSWORD in {secrets_file})",
            flush=True,
        )
    else:
        print(
            f"The review app is not up on :{settings.review_port} (see the messages above); "
            "the assistant runs without it.",
            file=sys.stderr,
            flush=True,
        )
    print(f"Health: http://127.0.0.1:{settings.supervisor_port}/health", flush=True)


async def serve_health(server: HealthServer, port: int) -> None:
    """The health endpoint; if it cannot listen, the assistant runs on without it."""
    try:
        await server.serve()
    except SystemExit:  # uvicorn exits when the port is taken
        log.error("health endpoint not available on port %d; the assistant runs without it", port)


async def run_stack(settings: SupervisorSettings, specs: Sequence[ComponentSpec] | None = None) -> None:
    """Until Ctrl-C or SIGTERM; ``specs`` replace the assistant's components (tests)."""
    components = supervised(assistant_components(settings) if specs is None else specs, settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stopping.set)

    runners = [asyncio.create_task(component.run(stopping)) for component in components]
    interval = settings.supervisor_health_interval_seconds
    helpers = [
        asyncio.create_task(watch_health(components, interval, settings.supervisor_health_timeout_seconds)),
        asyncio.create_task(announce(components, settings)),
    ]
    health = health_server(components, settings.supervisor_host, settings.supervisor_port)
    serving_health = asyncio.create_task(serve_health(health, settings.supervisor_port))

    await stopping.wait()
    log.info("stopping every process")
    timeout = settings.supervisor_stop_timeout_seconds
    await asyncio.gather(*(component.stop(_STOP_GRACE_SECONDS, timeout) for component in components))
    await asyncio.gather(*runners)
    for helper in helpers:
        helper.cancel()
    await asyncio.gather(*helpers, return_exceptions=True)
    health.should_exit = True
    await serving_health
    print("TanyaVaksin stopped.", flush=True)
