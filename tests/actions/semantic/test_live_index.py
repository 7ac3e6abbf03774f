"""The action server searches the live version's index: activation, a refusal and a rollback in
the registry reach a running process without a restart (real search code, real index files, the
real embedding model)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from actions import semantic_search
from actions.semantic.build import IndexSettings, build
from actions.semantic.encoder import Encoder
from actions.semantic.faq_index import INDEX_ENV, MODELS_ENV
from core import model_registry as reg
from tests.actions.conftest import SMALL_NLU

SETTINGS: IndexSettings = {
    "example_prompt": "",
    "message_prompt": "",
    "top_k": 5,
    "include_negatives": True,
    "center": False,
}
LOCATION = "di mana lokasi vaksinasi terdekat"


def version(models: Path, model_id: str, nlu: str, encoder: Encoder) -> reg.ModelEntry:
    """A version's index built from its own data, registered (its Rasa model plays no part here)."""
    data = models.parent / f"data-{model_id}"
    data.mkdir()
    (data / "nlu.yml").write_text(nlu, encoding="utf-8")
    assert build([data], None, models / reg.index_folder(model_id), encoder.model_ref, SETTINGS, echo=print)
    entry = reg.ModelEntry(
        id=model_id,
        file=reg.archive_file(model_id),
        index=reg.index_folder(model_id),
        trained_at=f"2026-11-26T1{len(reg.load(models).models)}:00:00+00:00",
        data_hash=reg.data_hash([data]),
        config_hash="c" * 64,
        metrics={},
        status=reg.REFUSED,
        reason="test",
    )
    with reg.update(models) as registry:
        registry.add(entry)
    return entry


def without_topic(nlu: str, topic: str) -> str:
    """The NLU text without one intent's block."""
    head, _, rest = nlu.partition(f"- intent: {topic}\n")
    return head + rest[rest.index("- intent:") :]


def labels() -> list[str]:
    ranked = asyncio.run(semantic_search.rank(LOCATION))
    assert ranked is not None
    return [match.label for match in ranked]


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "models"
    monkeypatch.setenv(MODELS_ENV, str(folder))
    monkeypatch.delenv(INDEX_ENV, raising=False)
    semantic_search.reset()
    yield folder
    semantic_search.reset()


def test_the_search_follows_the_live_version(models: Path, encoder: Encoder) -> None:
    old = version(models, "A", without_topic(SMALL_NLU, "faq/lokasi"), encoder)
    new = version(models, "B", SMALL_NLU, encoder)
    with reg.update(models) as registry:
        registry.activate(old.id, "first model")
    assert "faq/lokasi" not in labels()
    loaded = semantic_search.get_search()

    # a refused candidate is recorded in the registry: the file changes, the live index does not
    version(models, "C", SMALL_NLU, encoder)
    assert semantic_search.get_search() is loaded

    with reg.update(models) as registry:
        registry.activate(new.id, "not worse")
    assert labels()[0] == "faq/lokasi"
    assert semantic_search.status() == "loaded"

    with reg.update(models) as registry:
        registry.rollback()
    assert "faq/lokasi" not in labels()


def test_a_new_index_that_cannot_load_leaves_the_previous_one_serving(models: Path, encoder: Encoder) -> None:
    old = version(models, "A", SMALL_NLU, encoder)
    broken = version(models, "B", SMALL_NLU, encoder)
    (models / broken.index / "faq_index.json").write_text("{", encoding="utf-8")
    with reg.update(models) as registry:
        registry.activate(old.id, "first model")
    assert labels()[0] == "faq/lokasi"
    with reg.update(models) as registry:
        registry.activate(broken.id, "by hand")
    assert labels()[0] == "faq/lokasi"
    assert semantic_search.status() == "loaded"


def test_without_a_live_version_the_search_is_unavailable(models: Path) -> None:
    assert semantic_search.get_search() is None
    assert semantic_search.status() == "unavailable"
