"""A tiny hand-made FAQ set (the converted model is provisioned once per session: ../conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

TINY_NLU = """\
version: "3.1"
nlu:
- intent: faq/biaya
  examples: |
    - berapa biaya vaksin covid
    - vaksin bayar atau gratis
    - apakah vaksinasi dipungut biaya
    - harga sekali suntik vaksin berapa
- intent: faq/halal
  examples: |
    - apakah vaksin covid halal
    - fatwa [MUI](organisation) tentang vaksin
    - vaksin mengandung babi ga
- intent: faq/lokasi
  examples: |
    - di mana tempat vaksin terdekat
    - lokasi vaksinasi di puskesmas mana saja
    - rumah sakit yang melayani vaksin covid
- intent: out_of_scope
  examples: |
    - jual pulsa murah dong
    - harga iphone berapa
    - rekomendasi sepatu lari
- intent: greet
  examples: |
    - halo kak
    - selamat pagi admin
"""


@pytest.fixture
def tiny_nlu(tmp_path: Path) -> Path:
    folder = tmp_path / "nlu"
    folder.mkdir()
    (folder / "faq.yml").write_text(TINY_NLU, encoding="utf-8")
    return folder


@pytest.fixture(autouse=True, scope="session")
def private_embedding_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Index builds here keep their vectors in a store of this session, not in the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        store = tmp_path_factory.mktemp("embeddings") / "store.sqlite3"
        patch.setenv("TANYAVAKSIN_EMBEDDING_CACHE", str(store))
        yield
