"""A small Graph API stand-in (aiohttp, in process) and channel settings pointing at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from rasa_project.channels.settings import WhatsAppSettings
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
