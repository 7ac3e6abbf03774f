"""Tracker, dispatcher and domain built from JSON snapshots of real conversations, and the embedding
model (converted once per test session: it takes seconds) with a small real FAQ index."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import semantic_search
from actions.schedule import today_in_indonesia
from actions.semantic.encoder import Encoder, load_encoder
from actions.semantic.faq_index import SemanticFaqSearch, build_index, index_info, nlu_files, read_examples
from actions.semantic.provision import provision
from embedding.onnx_encoder import DEFAULT_FOLDER

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Never reach for a model hub from the tests (read when sentence-transformers is first imported).
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SNAPSHOTS = Path(__file__).parent / "snapshots"
ALWAYS_ON_DUTY = "mon-sun 00:00-24:00"

# A small FAQ data set for the real semantic index: three topics of the menu domain, and negatives.
SMALL_NLU = """\
version: "3.1"
nlu:
- intent: faq/biaya
  examples: |
    - berapa biaya vaksin covid
    - vaksin bayar atau gratis
    - apakah vaksinasi dipungut biaya
    - harga sekali suntik vaksin berapa
    - vaksin covid sekarang berbayar ya
    - disuruh bayar waktu vaksin, boleh ga
- intent: faq/halal
  examples: |
    - apakah vaksin covid halal
    - fatwa MUI tentang vaksin
    - vaksin mengandung babi ga
    - vaksinnya sudah ada sertifikat halal belum
    - boleh vaksin menurut agama islam
- intent: faq/lokasi
  examples: |
    - di mana tempat vaksin terdekat
    - lokasi vaksinasi di puskesmas mana saja
    - rumah sakit yang melayani vaksin covid
    - sentra vaksin yang buka hari ini dimana
    - cara cari lokasi vaksin di kota saya
- intent: out_of_scope
  examples: |
    - jual pulsa murah dong
    - harga iphone berapa
    - rekomendasi sepatu lari
    - resep nasi goreng enak
    - ramalan cuaca besok
    - jadwal kereta ke bandung
- intent: greet
  examples: |
    - halo kak
    - selamat pagi admin
    - hai min
"""


def load_snapshot(name: str) -> dict[str, Any]:
    return json.loads((SNAPSHOTS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def tracker_from_snapshot() -> Callable[[str], Tracker]:
    def build(name: str) -> Tracker:
        return Tracker.from_dict(load_snapshot(name))

    return build


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def domain() -> dict[str, Any]:
    return load_snapshot("domain")


@pytest.fixture
def menu_domain() -> dict[str, Any]:
    """The menu, "did you mean" and handoff part of the domain, as Rasa sends it to the action server
    (kept in sync with rasa_project/domain by tests/data/test_menu_content.py)."""
    return load_snapshot("domain_menu")


@pytest.fixture(scope="module")
def seeded_on() -> date:
    """The day a module's demo registry counts its upcoming appointments from: taken once, so a run
    that crosses midnight in Jakarta compares with the seeding day, not the day of the assertion."""
    return today_in_indonesia()


@pytest.fixture(scope="session")
def converted_model() -> Path:
    """The checkout's provisioned model (`make unit` provisions it first; converted here if missing or
    stale): the folder the servers use, not a second conversion of 1 GB into a temporary folder.
    Tests copy it before changing anything."""
    folder = PROJECT_ROOT / DEFAULT_FOLDER
    provision(folder)
    return folder


@pytest.fixture(scope="session")
def encoder(converted_model: Path) -> Encoder:
    return load_encoder(str(converted_model))


@pytest.fixture(scope="session")
def small_search(encoder: Encoder, tmp_path_factory: pytest.TempPathFactory) -> SemanticFaqSearch:
    """The real semantic search over SMALL_NLU, with the default index settings."""
    folder = tmp_path_factory.mktemp("small_nlu")
    (folder / "faq.yml").write_text(SMALL_NLU, encoding="utf-8")
    files = nlu_files(folder)
    info = index_info(encoder.fingerprint, encoder.model_ref, files)
    return SemanticFaqSearch(build_index(read_examples(files), encoder, info), encoder)


@pytest.fixture
def use_search() -> Iterator[Callable[[Any], None]]:
    """Make the actions use this search (or None: unavailable); forgotten after the test."""
    yield semantic_search.use
    semantic_search.reset()


@pytest.fixture(autouse=True)
def officers_always_on_duty(monkeypatch: pytest.MonkeyPatch) -> None:
    """Handing over says "in working hours" at any time the tests run (the hours: test_officer_hours.py)."""
    monkeypatch.setenv("OFFICER_WORKING_HOURS", ALWAYS_ON_DUTY)
