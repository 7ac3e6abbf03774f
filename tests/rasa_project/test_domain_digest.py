"""Rasa sends the domain once per action server, then only its digest, and again when asked (449).

The action server here is a local stand-in that keeps the domain the way rasa-sdk 3.21 does
(``ActionExecutor.update_and_return_domain``): a call without a domain and with a digest it does
not hold gets 449. The real action server answers through this in every conversation test.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from rasa_project import domain_digest

DOMAIN_YAML = """
version: "3.1"
intents: [greet]
slots:
  streak:
    type: float
    mappings: [{type: custom}]
responses:
  utter_greet:
  - text: "Halo!"
"""


class SdkLikeActionServer:
    """Keeps the last domain and digest sent, as rasa-sdk does; can be told to fail instead."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.domain: dict[str, Any] | None = None
        self.digest: str | None = None
        self.fail_with: int | None = None

    async def webhook(self, request: web.Request) -> web.Response:
        call = await request.json()
        self.calls.append(call)
        if self.fail_with is not None:
            body = {"action_name": call["next_action"], "error": "nope"}
            return web.json_response(body, status=self.fail_with)
        if call.get("domain") is None and not (self.digest and self.digest == call.get("domain_digest")):
            return web.json_response({"error": "Missing domain context", "action_name": "x"}, status=449)
        if call.get("domain"):
            self.domain, self.digest = call["domain"], call.get("domain_digest")
        assert self.domain is not None
        greeting = self.domain["responses"]["utter_greet"][0]["text"]
        return web.json_response(
            {"events": [{"event": "slot", "name": "streak", "value": 1.0}], "responses": [{"text": greeting}]}
        )

    def forget(self) -> None:
        """As a restarted process (or another instance behind nginx) would."""
        self.domain = self.digest = None


@pytest.fixture
async def action_server(unused_tcp_port: int) -> AsyncIterator[tuple[SdkLikeActionServer, EndpointConfig]]:
    server = SdkLikeActionServer()
    app = web.Application()
    app.router.add_post("/webhook", server.webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", unused_tcp_port)
    await site.start()
    domain_digest.install()
    try:
        yield server, EndpointConfig(f"http://127.0.0.1:{unused_tcp_port}/webhook")
    finally:
        await runner.cleanup()


async def run_action(endpoint: EndpointConfig, domain: Domain) -> tuple[list[Any], list[dict[str, Any]]]:
    tracker = DialogueStateTracker.from_events("someone", [UserUttered("halo")], domain.slots)
    channel = CollectingOutputChannel()
    events = await RemoteAction("action_hello", endpoint).run(
        channel, TemplatedNaturalLanguageGenerator(domain.responses), tracker, domain
    )
    return events, channel.messages


def with_domain(call: dict[str, Any]) -> bool:
    return "domain" in call


async def test_the_domain_goes_once_then_only_its_digest(action_server: Any) -> None:
    server, endpoint = action_server
    domain = Domain.from_yaml(DOMAIN_YAML)
    first_events, _ = await run_action(endpoint, domain)
    second_events, _ = await run_action(endpoint, domain)
    assert [with_domain(call) for call in server.calls] == [False, True, False]
    assert {call["domain_digest"] for call in server.calls} == {domain.fingerprint()}
    assert server.calls[1]["domain"] == domain.as_dict()
    domain_size = len(json.dumps(domain.as_dict()))
    assert len(json.dumps(server.calls[2])) < len(json.dumps(server.calls[1])) - domain_size / 2
    for events in (first_events, second_events):
        assert SlotSet("streak", 1.0) in events
        assert [event.text for event in events if hasattr(event, "text")] == ["Halo!"]


async def test_a_server_that_forgot_it_and_a_new_domain_get_it_again(action_server: Any) -> None:
    server, endpoint = action_server
    domain = Domain.from_yaml(DOMAIN_YAML)
    await run_action(endpoint, domain)
    server.forget()
    await run_action(endpoint, domain)
    changed = Domain.from_yaml(DOMAIN_YAML.replace("Halo!", "Halo, apa kabar?"))
    events, _ = await run_action(endpoint, changed)
    assert [with_domain(call) for call in server.calls] == [False, True, False, True, False, True]
    assert server.calls[-1]["domain_digest"] == changed.fingerprint() != domain.fingerprint()
    assert [event.text for event in events if hasattr(event, "text")] == ["Halo, apa kabar?"]


@pytest.mark.parametrize("status", [500, 404])
async def test_other_failures_are_not_retried(action_server: Any, status: int) -> None:
    server, endpoint = action_server
    server.fail_with = status
    with pytest.raises(RasaException, match="Failed to execute custom action"):
        await run_action(endpoint, Domain.from_yaml(DOMAIN_YAML))
    assert len(server.calls) == 1


async def test_a_rejection_stays_a_rejection(action_server: Any) -> None:
    server, endpoint = action_server
    server.fail_with = 400
    with pytest.raises(ActionExecutionRejection):
        await run_action(endpoint, Domain.from_yaml(DOMAIN_YAML))
    assert len(server.calls) == 1
