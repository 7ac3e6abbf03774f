"""A small Graph API stand-in (aiohttp, in process), channel settings pointing at it, and the webhook
served over HTTP (Sanic in process) with an assistant stand-in."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from rasa_project.channels.settings import WhatsAppSettings
from rasa_project.channels.whatsapp import WhatsAppInput
from tests.harness.whatsapp import payloads
from tests.harness.whatsapp.payloads import DEFAULT_PHONE_NUMBER_ID


class GraphStub:
    """Records every POST to /<version>/<id>/messages; answers queued statuses first, then 200."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str] = []
        self.statuses: list[int] = []
        self.answered: list[int] = []
        self.error_code = 131000
        self.server: TestServer | None = None

    @property
    def delivered(self) -> list[dict[str, Any]]:
        return [body for body, status in zip(self.requests, self.answered) if status == 200]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.authorizations.append(request.headers.get("Authorization", ""))
        status = self.statuses.pop(0) if self.statuses else 200
        self.answered.append(status)
        if status == 200:
            return web.json_response({"messaging_product": "whatsapp", "messages": [{"id": "wamid.X"}]})
        error = {"message": "failed", "type": "OAuthException", "code": self.error_code}
        return web.json_response({"error": error}, status=status)

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/v21.0"))


@pytest.fixture
async def graph() -> AsyncIterator[GraphStub]:
    stub = GraphStub()
    app = web.Application()
    app.router.add_post("/{version}/{phone_number_id}/messages", stub.handle)
    stub.server = TestServer(app)
    await stub.server.start_server()
    try:
        yield stub
    finally:
        await stub.server.close()


def make_settings(graph_url: str, seen_store_url: str = "", **overrides: Any) -> WhatsAppSettings:
    values: dict[str, Any] = {
        "verify_token": "verify-me",
        "app_secret": "app-secret",
        "access_token": "access-token",
        "phone_number_id": DEFAULT_PHONE_NUMBER_ID,
        "sender_hash_key": "hash-key",
        "graph_api_url": graph_url,
        "seen_store_url": seen_store_url,
        "send_first_backoff_seconds": 0.01,
        "send_max_backoff_seconds": 0.05,
        **overrides,
    }
    return WhatsAppSettings.from_credentials(values)


@pytest.fixture
def settings(graph: GraphStub, tmp_path: Path) -> WhatsAppSettings:
    return make_settings(graph.base_url, f"sqlite:///{tmp_path / 'seen.db'}")


USER = "6281234567890"
PATH = "/webhooks/whatsapp/webhook"


@dataclass
class Assistant:
    """Stands in for Rasa's agent: records what it is given and answers through the output channel."""

    received: list[UserMessage] = field(default_factory=list)
    delay: float = 0.0
    fail: bool = False
    reply: dict[str, Any] | None = None  # what to answer instead of echoing (metadata included)

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        await asyncio.sleep(self.delay)
        if self.fail:
            # What a failing NLU component does: Rasa logs at ERROR, the exception quotes the text.
            logging.getLogger("rasa.engine.graph").error("Error running graph component for %s", message.text)
            raise ValueError(f"cannot tokenize {message.text!r}")
        answer = dict(self.reply) if self.reply else {"text": f"jawaban untuk {message.text}"}
        await message.output_channel.send_response(message.sender_id, answer)


@dataclass
class Webhook:
    url: str
    http: aiohttp.ClientSession
    assistant: Assistant
    channel: WhatsAppInput
    secret: str

    async def post(self, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, float]:
        started = time.perf_counter()
        signed = payloads.signed_headers(body, self.secret) if headers is None else headers
        async with self.http.post(self.url, data=body, headers=signed) as response:
            await response.read()
            return response.status, time.perf_counter() - started

    async def deliver(self, *messages: payloads.Message) -> int:
        status, _ = await self.post(payloads.encode(payloads.messages_delivery(*messages)))
        return status

    async def settle(self, expected: int, timeout: float = 5.0) -> None:
        """Waits until the assistant got ``expected`` messages and the background work is done."""
        deadline = time.monotonic() + timeout
        while len(self.assistant.received) < expected or self.channel._tasks:
            assert time.monotonic() < deadline, f"got {len(self.assistant.received)} of {expected}"
            await asyncio.sleep(0.01)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


ServeFactory = Callable[[WhatsAppSettings], Awaitable[Webhook]]


@pytest.fixture
async def serve(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ServeFactory]:
    # Test mode lets several Sanic apps start in one process (as sanic-testing does).
    monkeypatch.setattr(Sanic, "test_mode", True)
    started: list[tuple[Any, aiohttp.ClientSession]] = []

    async def start(settings: WhatsAppSettings) -> Webhook:
        channel = WhatsAppInput(settings)
        assistant = Assistant()
        app = Sanic(f"whatsapp_test_{uuid.uuid4().hex}")
        app.blueprint(channel.blueprint(assistant), url_prefix="/webhooks/whatsapp")
        port = free_port()
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
        assert server is not None
        await server.startup()
        await server.before_start()
        await server.after_start()
        http = aiohttp.ClientSession()
        started.append((server, http))
        return Webhook(f"http://127.0.0.1:{port}{PATH}", http, assistant, channel, settings.app_secret)

    yield start
    for server, http in started:
        await http.close()
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


@pytest.fixture
async def webhook(serve: ServeFactory, settings: WhatsAppSettings) -> Webhook:
    return await serve(settings)
