"""A model loaded without tracing a training step parses exactly as Rasa's own load does."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.model_training import train_nlu
from rasa.utils.tensorflow.models import RasaModel

from rasa_project import model_loading

TOPICS = {
    "jadwal": ["kapan jadwal vaksin saya", "jadwal suntik booster kapan", "jam berapa vaksinnya buka"],
    "lokasi": ["vaksin dimana ya", "lokasi puskesmas terdekat", "tempat vaksin di kota saya"],
    "efek": ["demam setelah vaksin normal ga", "lengan pegal habis suntik", "efek samping vaksin apa aja"],
}
MESSAGES = ["jadwal vaksin booster", "dimana lokasi vaksin", "habis vaksin demam", "halo", "asdfgh 123"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DIET and a ResponseSelector (both RasaModel subclasses) trained for one epoch on a toy set."""
    folder = tmp_path_factory.mktemp("tiny")
    faq = "\n".join(
        f"- intent: faq/{topic}\n  examples: |\n" + "".join(f"    - {text}\n" for text in texts)
        for topic, texts in TOPICS.items()
    )
    (folder / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - halo\n    - selamat pagi\n'
        "    - hai kak\n" + faq,
        encoding="utf-8",
    )
    responses = "".join(f"  utter_faq/{topic}:\n  - text: jawaban {topic}\n" for topic in TOPICS)
    (folder / "domain.yml").write_text(
        f'version: "3.1"\nintents:\n- greet\n- faq\nresponses:\n{responses}', encoding="utf-8"
    )
    (folder / "config.yml").write_text(
        textwrap.dedent(
            """\
            recipe: default.v1
            language: id
            assistant_id: model-loading-test
            pipeline:
              - name: WhitespaceTokenizer
              - name: CountVectorsFeaturizer
                analyzer: char_wb
                min_ngram: 2
                max_ngram: 3
              - name: DIETClassifier
                epochs: 2
                entity_recognition: false
                number_of_transformer_layers: 1
                transformer_size: 32
                random_seed: 1
              - name: ResponseSelector
                retrieval_intent: faq
                epochs: 2
                random_seed: 1
            policies: []
            """
        ),
        encoding="utf-8",
    )
    config, nlu, domain = (str(folder / name) for name in ("config.yml", "nlu.yml", "domain.yml"))
    trained = train_nlu(config, nlu, str(folder / "out"), domain=domain)
    assert trained, "the toy model did not train"
    return Path(trained)


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
