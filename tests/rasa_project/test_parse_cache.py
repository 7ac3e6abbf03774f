"""A text repeated word for word gets the parse it got before, never a text with personal data."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor

from rasa_project import parse_cache


@pytest.fixture(scope="module")
def agent(tiny_model: Path) -> Agent:
    parse_cache.install()
    return Agent.load(str(tiny_model))


def parse(
    agent: Agent, text: str, sender: str = "someone", metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    message = UserMessage(text, sender_id=sender, metadata=metadata, message_id=f"id-{sender}-{text}")
    assert agent.processor is not None
    return asyncio.run(agent.processor.parse_message(message))


def graph_parse(agent: Agent, text: str) -> dict[str, Any]:
    """What the NLU graph itself says, the cache bypassed."""
    assert agent.processor is not None
    original = MessageProcessor.__dict__["_parse_message_with_graph"].__wrapped__
    message = UserMessage(text, sender_id="graph", message_id="graph")
    return original(agent.processor, message, None)


def cache_of(agent: Agent) -> Any:
    assert agent.processor is not None
    return parse_cache.parses_of(agent.processor)


def test_a_repeat_is_served_from_the_cache_with_the_same_answer(agent: Agent) -> None:
    first = parse(agent, "jadwal vaksin booster", "ani", {"channel": "a"})
    hits = cache_of(agent).hits
    again = parse(agent, "jadwal vaksin booster", "budi", {"channel": "b"})
    assert cache_of(agent).hits == hits + 1
    for key in ("intent", "intent_ranking", "response_selector", "entities", "text"):
        assert again[key] == first[key]
    graph = graph_parse(agent, "jadwal vaksin booster")
    assert {key: again["intent"][key] for key in ("name", "confidence")} == graph["intent"]
    assert again["response_selector"] == graph["response_selector"]
    assert again["intent_ranking"] == graph["intent_ranking"]
    # the message's own parts are its own, not the first sender's
    assert again.get("metadata") in (None, {"channel": "b"})
    assert again.get("message_id") in (None, "id-budi-jadwal vaksin booster")


def test_what_rasa_does_to_a_parse_afterwards_does_not_change_the_kept_one(agent: Agent) -> None:
    first = parse(agent, "dimana lokasi vaksin")
    first["intent"]["name"] = "changed by a later step"
    first["intent_ranking"].clear()
    again = parse(agent, "dimana lokasi vaksin")
    assert again["intent"]["name"] == "faq"
    assert again["intent_ranking"]


@pytest.mark.parametrize(
    "text",
    ["nik saya 3174051708859001", "lahir 17 agustus 1985", "3174", "email ani@contoh.id"],
)
def test_a_text_with_personal_data_is_never_kept(agent: Agent, text: str) -> None:
    parse(agent, text)
    parse(agent, text)
    assert cache_of(agent).get(text) is None


def test_a_new_model_starts_with_an_empty_cache(tiny_model: Path, agent: Agent) -> None:
    parse(agent, "halo")
    assert cache_of(agent).get("halo") is not None
    swapped = Agent.load(str(tiny_model))
    assert swapped.processor is not None
    assert parse_cache.parses_of(swapped.processor).get("halo") is None


def test_only_plain_texts_are_cacheable() -> None:
    assert parse_cache.cacheable("menu")
    assert not parse_cache.cacheable("")
    assert not parse_cache.cacheable("/greet")
    assert not parse_cache.cacheable(None)
    assert not parse_cache.cacheable("0812 3456 7890")
