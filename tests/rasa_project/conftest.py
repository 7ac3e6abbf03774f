"""Fixtures of the Rasa project's tests."""

from __future__ import annotations

import re
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rasa.model_training import train_nlu

from rasa_project import action_client

ENDPOINTS = Path(__file__).resolve().parents[2] / "rasa_project" / "endpoints.yml"
# What the supervisor fills every ${VAR} with when nothing is set (supervisor/environment.py).
DEFAULTS = {"LOCK_STORE_TYPE": "in_memory", "LOCK_STORE_HOST": "127.0.0.1", "LOCK_STORE_PORT": "6379",
            "LOCK_STORE_DB": "1", "TRACKER_DB_DIALECT": "sqlite"}  # fmt: skip


@pytest.fixture(autouse=True)
async def no_kept_action_connections() -> AsyncIterator[None]:
    """A test that ran custom actions closes its kept-alive connections, as the server does when it stops."""
    yield
    await action_client.close()


@pytest.fixture
def every_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """Rasa refuses an endpoints file with an unset ${VAR}: each gets its default or empty."""
    for name in re.findall(r"\$\{(\w+)\}", ENDPOINTS.read_text(encoding="utf-8")):
        monkeypatch.setenv(name, DEFAULTS.get(name, ""))
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "tracker.db"))
    return monkeypatch


TOPICS = {
    "jadwal": ["kapan jadwal vaksin saya", "jadwal suntik booster kapan", "jam berapa vaksinnya buka"],
    "lokasi": ["vaksin dimana ya", "lokasi puskesmas terdekat", "tempat vaksin di kota saya"],
    "efek": ["demam setelah vaksin normal ga", "lengan pegal habis suntik", "efek samping vaksin apa aja"],
}


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DIET and a ResponseSelector (both RasaModel subclasses) trained for two epochs on a toy set:
    a real model to load and parse with, in seconds."""
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
