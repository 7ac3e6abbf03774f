"""Index of the FAQ training examples, for the semantic second stage.

Built with the Rasa model when the assistant is trained (``actions/semantic/build.py``, one
version: ``core.model_registry``), saved as a small ``.npz`` + JSON pair in the version's folder,
and loaded by the action server, so that a request only encodes the user's message. Non-FAQ
intents (greet, out_of_scope, ...) are indexed too, as
negatives: a message closest to them is evidence that it is not a FAQ question at all.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import yaml

from actions.semantic.encoder import (
    DEFAULT_EXAMPLE_PROMPT,
    DEFAULT_MESSAGE_PROMPT,
    PROJECT_ROOT,
    Encoder,
    load_encoder,
)
from actions.settings import current_settings
from core.model_registry import data_hash, live_index
from core.nlu_yaml import read_labelled, yaml_files

FAQ_PREFIX = "faq/"
FORMAT_VERSION = 1
LEGACY_INDEX_DIR = "semantic"  # in the models folder: where the index lived before versions held it
INDEX_ENV = "TANYAVAKSIN_SEMANTIC_INDEX"
MODELS_ENV = "TANYAVAKSIN_MODELS"
ARRAYS_FILE = "faq_index.npz"
META_FILE = "faq_index.json"
# Per-label score: mean of the k best example cosines. k=1 is the plain nearest neighbour; a larger
# k resists one odd training example. On the held-out split k=5 kept out-of-scope messages from
# being answered with the fewest wrong answers (k=2..5 rank about equally: top-1 71-72 %).
DEFAULT_TOP_K = 5
# Centring subtracts the mean example embedding before the cosine, spreading e5's narrow score band
# (~0.85-0.95). It raised top-1 slightly (73.8 % vs 71-72 %) but made the thresholds for the
# three outcomes less stable on the held-out split, so it is an option, off by default.
DEFAULT_CENTER = False


class IndexMismatchError(RuntimeError):
    """The index was built with another model or format than the one loaded now."""


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # the intent: "faq/<topic>" or a core intent such as "out_of_scope"


class Match(NamedTuple):
    """One ranked label; ``utter_{label}`` is its response when ``is_faq``."""

    label: str
    score: float

    @property
    def is_faq(self) -> bool:
        return self.label.startswith(FAQ_PREFIX)

    @property
    def topic(self) -> str | None:
        return self.label[len(FAQ_PREFIX) :] if self.is_faq else None


@dataclass(frozen=True)
class IndexInfo:
    """How the index was built; ``build_key`` changes whenever a rebuild is needed."""

    model: str
    model_fingerprint: str
    example_prompt: str
    message_prompt: str
    top_k: int
    include_negatives: bool
    center: bool
    data_hash: str  # core.model_registry.data_hash: the version's fingerprint
    format_version: int = FORMAT_VERSION

    @property
    def build_key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


# ------------------------------------------------------------------ training data


def nlu_files(*sources: Path) -> list[Path]:
    """The YAML files of data folders or files; none for one that does not exist."""
    return [file for source in sources for file in yaml_files(source)]


def read_examples(files: Iterable[Path]) -> list[Example]:
    """All intent examples of Rasa NLU YAML files, in file order."""
    return [Example(text, label) for text, label in read_labelled(files, yaml.safe_load)]


# ------------------------------------------------------------------ index


@dataclass
class FaqIndex:
    """Example embeddings grouped by label (contiguous rows), plus how they were made."""

    embeddings: np.ndarray  # (examples, dim) float32, L2-normalised model output, sorted by label
    labels: list[str]  # label of each row
    texts: list[str]  # text of each row
    info: IndexInfo

    def __post_init__(self) -> None:
        if self.labels != sorted(self.labels) or len(self.labels) != len(self.embeddings):
            raise ValueError("index rows must be grouped by label, one label per row")
        names, starts, counts = np.unique(np.array(self.labels), return_index=True, return_counts=True)
        self.label_names: list[str] = [str(name) for name in names]
        self._counts = counts
        # (labels, most examples) row indices; the padding points at an extra -inf cosine
        self._gather = np.full((len(names), counts.max()), len(self.labels), dtype=np.int64)
        for row, (start, count) in enumerate(zip(starts, counts)):
            self._gather[row, :count] = np.arange(start, start + count)
        dim = self.embeddings.shape[1]
        self._mean = self.embeddings.mean(axis=0) if self.info.center else np.zeros(dim, dtype=np.float32)
        self._matrix = _unit_rows(self.embeddings - self._mean)

    def prepare(self, message_embedding: np.ndarray) -> np.ndarray:
        """The message vector in the index's space (centred and renormalised when the index is)."""
        return _unit_rows(message_embedding.astype(np.float32)[None, :] - self._mean)[0]

    @property
    def faq_labels(self) -> list[str]:
        return [name for name in self.label_names if name.startswith(FAQ_PREFIX)]

    def rank(self, message_embedding: np.ndarray, top_k: int | None = None) -> list[Match]:
        """Every label, best first, scored by the mean of its ``top_k`` best example cosines."""
        # einsum, not BLAS: a threaded BLAS matrix-vector product stalls for ms when cores are busy
        cosines = np.append(np.einsum("ij,j->i", self._matrix, self.prepare(message_embedding)), -np.inf)
        best_first = -np.sort(-cosines[self._gather], axis=1)
        k = np.minimum(top_k or self.info.top_k, self._counts)
        scores = np.cumsum(best_first, axis=1)[np.arange(len(k)), k - 1] / k
        order = np.argsort(-scores, kind="stable")
        return [Match(self.label_names[i], round(float(scores[i]), 6)) for i in order]

    def save(self, folder: Path) -> None:
        """``faq_index.npz`` (embeddings) and ``faq_index.json`` (info, labels, texts), atomically."""
        folder.mkdir(parents=True, exist_ok=True)
        arrays_tmp = folder / f".{ARRAYS_FILE}.tmp.npz"
        np.savez_compressed(arrays_tmp, embeddings=self.embeddings.astype(np.float32))
        meta = {"info": asdict(self.info), "labels": self.labels, "texts": self.texts}
        meta_tmp = folder / f".{META_FILE}.tmp"
        meta_tmp.write_text(json.dumps(meta, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(arrays_tmp, folder / ARRAYS_FILE)
        os.replace(meta_tmp, folder / META_FILE)

    @classmethod
    def load(cls, folder: Path) -> FaqIndex:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        info = IndexInfo(**meta["info"])
        if info.format_version != FORMAT_VERSION:
            raise IndexMismatchError(
                f"{folder}: index format {info.format_version}, expected {FORMAT_VERSION}"
            )
        with np.load(folder / ARRAYS_FILE) as arrays:
            embeddings = arrays["embeddings"].astype(np.float32)
        if len(embeddings) != len(meta["labels"]):
            raise IndexMismatchError(
                f"{folder}: {len(embeddings)} embeddings for {len(meta['labels'])} labels"
            )
        return cls(embeddings, list(meta["labels"]), list(meta["texts"]), info)


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


def build_index(
    examples: Sequence[Example],
    encoder: Encoder,
    info: IndexInfo,
) -> FaqIndex:
    """Encode the examples (FAQ only, or FAQ plus negatives as ``info`` says) into an index."""
    kept = [ex for ex in examples if info.include_negatives or ex.label.startswith(FAQ_PREFIX)]
    kept = sorted(dict.fromkeys(kept), key=lambda ex: ex.label)  # drop duplicates, group by label
    if not kept:
        raise ValueError("no training examples to index")
    embeddings = encoder.encode_batch([ex.text for ex in kept], info.example_prompt)
    return FaqIndex(embeddings, [ex.label for ex in kept], [ex.text for ex in kept], info)


def index_info(
    fingerprint: str,
    model: str,
    data: Sequence[Path],
    example_prompt: str = DEFAULT_EXAMPLE_PROMPT,
    message_prompt: str = DEFAULT_MESSAGE_PROMPT,
    top_k: int = DEFAULT_TOP_K,
    include_negatives: bool = True,
    center: bool = DEFAULT_CENTER,
    domain: Path | None = None,
) -> IndexInfo:
    return IndexInfo(
        model=model,
        model_fingerprint=fingerprint,
        example_prompt=example_prompt,
        message_prompt=message_prompt,
        top_k=top_k,
        include_negatives=include_negatives,
        center=center,
        data_hash=data_hash(data, domain),
    )


# ------------------------------------------------------------------ search


class SemanticFaqSearch:
    """An index and the encoder it was built with; ``search`` encodes only the message."""

    def __init__(self, index: FaqIndex, encoder: Encoder) -> None:
        if index.info.model_fingerprint != encoder.fingerprint:
            raise IndexMismatchError(
                f"the FAQ index was built with model {index.info.model!r} "
                f"({index.info.model_fingerprint}), but {encoder.model_ref!r} ({encoder.fingerprint}) "
                "is loaded: rebuild it with `python -m actions.semantic.build`"
            )
        if index.embeddings.shape[1] != encoder.dimension:
            raise IndexMismatchError("index and model embedding sizes differ")
        self.index = index
        self.encoder = encoder

    def search(self, text: str, limit: int | None = None) -> list[Match]:
        """Labels ranked by similarity to ``text`` (FAQ topics and, if indexed, negatives)."""
        if not text.strip():
            return []
        embedding = self.encoder.encode_one(text, self.index.info.message_prompt)
        return self.index.rank(embedding)[:limit]


def project_path(path: str | Path) -> Path:
    """Relative to the working directory when it exists there, else to the project."""
    path = Path(path)
    return path if path.is_absolute() or path.exists() else PROJECT_ROOT / path


def models_dir() -> Path:
    """The models folder setting: ``$TANYAVAKSIN_MODELS`` or ``models``."""
    return project_path(current_settings().models)


def fixed_index() -> bool:
    """``$TANYAVAKSIN_SEMANTIC_INDEX`` pins one folder; otherwise the live version's index is used."""
    return bool(current_settings().semantic_index)


def index_dir(folder: str | Path | None = None) -> Path:
    """The index folder: the argument, ``$TANYAVAKSIN_SEMANTIC_INDEX``, or the live version's index
    named in the models folder's registry (``models/semantic`` for a version without one)."""
    chosen = folder or current_settings().semantic_index
    if chosen:
        return project_path(chosen)
    return live_index(models_dir()) or models_dir() / LEGACY_INDEX_DIR


@lru_cache(maxsize=2)
def load_search(folder: str | None = None, model: str | None = None) -> SemanticFaqSearch:
    """The process-wide search, loaded once: the index, and the model it names unless overridden."""
    index = FaqIndex.load(index_dir(folder))
    return SemanticFaqSearch(
        index, load_encoder(model or current_settings().embedding_model or index.info.model)
    )


def describe(matches: Sequence[Match]) -> list[dict[str, Any]]:
    """JSON-friendly form for logs and slots."""
    return [{"label": m.label, "score": m.score} for m in matches]
