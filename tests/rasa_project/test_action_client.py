"""Rasa's action calls share kept-alive connections (``rasa_project/action_client.py``).

The action server is a local aiohttp server that answers as rasa-sdk does and records the client
port of each call: one port for many calls is one connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from rasa_project import action_client, domain_digest

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
slots:
  streak:
    type: float
    mappings: [{type: custom}]
"""
)


class ActionServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.client_ports: list[int] = []
        self.runner: web.AppRunner | None = None

    async def webhook(self, request: web.Request) -> web.Response:
        self.client_ports.append(request.transport.get_extra_info("peername")[1])  # type: ignore[union-attr]
        await request.json()
        return web.json_response(
            {"events": [{"event": "slot", "name": "streak", "value": 1.0}], "responses": [{"text": "Halo!"}]}
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhook", self.webhook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


@pytest.fixture
async def server(unused_tcp_port: int) -> AsyncIterator[ActionServer]:
    action_client.install()
    domain_digest.install()
    running = ActionServer(unused_tcp_port)
    await running.start()
    try:
        yield running
    finally:
        await action_client.close()
        await running.stop()


async def call(endpoint: EndpointConfig) -> list[Any]:
    tracker = DialogueStateTracker.from_events("someone", [UserUttered("halo")], DOMAIN.slots)
    channel = CollectingOutputChannel()
    events = await RemoteAction("action_hello", endpoint).run(
        channel, TemplatedNaturalLanguageGenerator(DOMAIN.responses), tracker, DOMAIN
    )
    assert [event.text for event in events if hasattr(event, "text")] == ["Halo!"]
    return events


async def test_calls_share_one_connection(server: ActionServer) -> None:
    endpoint = EndpointConfig(f"http://127.0.0.1:{server.port}/webhook", token="rahasia")
    for _ in range(5):
        assert SlotSet("streak", 1.0) in await call(endpoint)
    assert len(server.client_ports) == 5
    assert len(set(server.client_ports)) == 1


async def test_concurrent_calls_each_get_a_connection_and_their_own_answer(server: ActionServer) -> None:
    endpoint = EndpointConfig(f"http://127.0.0.1:{server.port}/webhook")
    results = await asyncio.gather(*(call(endpoint) for _ in range(8)))
    assert all(SlotSet("streak", 1.0) in events for events in results)
    assert 1 < len(set(server.client_ports)) <= 8


async def test_an_idle_connection_is_dropped_before_the_server_would(server: ActionServer) -> None:
    endpoint = EndpointConfig(f"http://127.0.0.1:{server.port}/webhook")
    await call(endpoint)
    await asyncio.sleep(action_client.KEEPALIVE_SECONDS + 1.5)
    await call(endpoint)
    assert len(set(server.client_ports)) == 2


async def test_a_restarted_action_server_is_reached_again(server: ActionServer) -> None:
    endpoint = EndpointConfig(f"http://127.0.0.1:{server.port}/webhook")
    await call(endpoint)
    await server.stop()  # the server's end of the kept connection closes; a restart takes a moment
    await asyncio.sleep(0.2)
    await server.start()
    assert SlotSet("streak", 1.0) in await call(endpoint)


async def test_closing_leaves_no_open_session(server: ActionServer) -> None:
    endpoint = EndpointConfig(f"http://127.0.0.1:{server.port}/webhook")
    await call(endpoint)
    await action_client.close()
    assert action_client._sessions == []
    assert SlotSet("streak", 1.0) in await call(endpoint)  # a later call opens a new one
