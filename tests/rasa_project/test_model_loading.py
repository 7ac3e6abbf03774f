"""A model loaded without tracing a training step parses exactly as Rasa's own load does."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.utils.tensorflow.models import RasaModel

from rasa_project import model_loading

MESSAGES = ["jadwal vaksin booster", "dimana lokasi vaksin", "habis vaksin demam", "halo", "asdfgh 123"]


def parses(model: Path) -> list[dict[str, Any]]:
    agent = Agent.load(str(model))

    async def parse_all() -> list[dict[str, Any]]:
        return [await agent.parse_message(text) for text in MESSAGES]

    return asyncio.run(parse_all())


@pytest.fixture
def rasa_s_own_load(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Rasa's ``RasaModel.load``, whether or not another test installed the faster one."""
    original = RasaModel.__dict__.get(model_loading._RASA_LOAD, RasaModel.__dict__["load"])
    monkeypatch.setattr(RasaModel, "load", original)
    yield monkeypatch


def test_parses_are_identical_to_rasa_s_own_load(
    tiny_model: Path, rasa_s_own_load: pytest.MonkeyPatch
) -> None:
    expected = parses(tiny_model)
    rasa_s_own_load.setattr(RasaModel, "load", classmethod(model_loading.load_for_prediction))  # as installed
    actual = parses(tiny_model)
    for rasa_s, ours in zip(expected, actual, strict=True):
        assert ours["intent"] == rasa_s["intent"]
        assert ours["intent_ranking"] == rasa_s["intent_ranking"]
        assert ours["response_selector"] == rasa_s["response_selector"]


def test_install_puts_it_in_place_once() -> None:
    model_loading.install()
    installed = RasaModel.__dict__["load"]
    assert installed.__func__ is model_loading.load_for_prediction
    model_loading.install()
    assert RasaModel.__dict__["load"] is installed
    assert RasaModel.__dict__[model_loading._RASA_LOAD].__func__ is not model_loading.load_for_prediction
