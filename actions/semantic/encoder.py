"""Sentence encoder for the semantic FAQ search.

The model is a setting: a local SentenceTransformer folder (offline, provisioned by
``actions/semantic/provision.py``) or, where a model hub is reachable, a model name.
It is loaded once per process and per setting, because loading takes seconds and a request
must only pay for encoding the user's message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from actions.semantic.embedding_store import EmbeddingStore, store_path
from actions.settings import current_settings
from core.bounded_cache import BoundedCache
from embedding import onnx_encoder
from embedding.onnx_encoder import OnnxSentenceEncoder

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = onnx_encoder.DEFAULT_FOLDER
MODEL_ENV = "TANYAVAKSIN_EMBEDDING_MODEL"
THREADS_ENV = "TANYAVAKSIN_EMBEDDING_THREADS"
# multilingual-e5 is trained with these prefixes, yet on the held-out FAQ split (message vs FAQ
# training examples) no prefix measured best: top-1 71-72 % / top-3 89-90 % against 68-70 % / 86-87 %
# with "query: "/"passage: " and 69-70 % / 85-87 % with "query: " on both sides
# (actions/semantic/end_to_end.py (--calibrate)). The index records the prompts it was built with.
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
DEFAULT_EXAMPLE_PROMPT = ""
DEFAULT_MESSAGE_PROMPT = ""


def configured_model() -> str:
    """The model setting: ``$TANYAVAKSIN_EMBEDDING_MODEL`` or the provisioned folder."""
    return current_settings().embedding_model or DEFAULT_MODEL


def resolve_model(model: str) -> str:
    """An existing folder (relative to the working directory or the project) as an absolute path;
    anything else is returned unchanged and treated as a model name."""
    for candidate in (Path(model), PROJECT_ROOT / model):
        if candidate.is_dir():
            return str(candidate.resolve())
    return model


def model_fingerprint(model: str) -> str:
    """Identity of the model's weights, recorded in the index so a swapped model is noticed.

    A provisioned folder carries the hash of its source file; another folder is identified by its
    config and weight file sizes; a model name stands for itself.
    """
    folder = Path(model)
    if not folder.is_dir():
        return f"name:{model}"
    provenance = folder / "provenance.json"
    if provenance.is_file():
        recorded = json.loads(provenance.read_text(encoding="utf-8"))
        return f"sha256:{recorded.get('source_sha256')}:{recorded.get('converter_version')}"
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in {".json", ".safetensors", ".bin"}:
            digest.update(f"{path.relative_to(folder)}:{path.stat().st_size}".encode())
            if path.suffix == ".json":
                digest.update(path.read_bytes())
    return f"files:{digest.hexdigest()[:16]}"


@dataclass
class Encoder:
    """A sentence encoder with the prompts spelled out at every call.

    Batch work (index builds, evaluations) runs on sentence-transformers. One message at a time, as
    the action server embeds them, runs on ONNX Runtime when the model folder has the exported graph
    (``embedding/onnx_encoder.py``: the same vectors at half the CPU); sentence-transformers, and
    with it torch, is then loaded only if batch work is asked of this process.
    """

    model: SentenceTransformer | None  # None: loaded at the first batch call
    model_ref: str
    fingerprint: str
    cache: BoundedCache[tuple[str, str], np.ndarray] = field(default_factory=BoundedCache)
    onnx: OnnxSentenceEncoder | None = None
    _loading: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def engine(self) -> str:
        """What embeds one message: ``onnxruntime`` or ``sentence-transformers`` (logged at load)."""
        return "onnxruntime" if self.onnx is not None else "sentence-transformers"

    def transformer(self) -> SentenceTransformer:
        with self._loading:
            if self.model is None:
                self.model = load_sentence_transformer(self.model_ref)
            return self.model

    @property
    def dimension(self) -> int:
        if self.onnx is not None:
            return self.onnx.dimension
        return int(self.transformer().get_embedding_dimension() or 0)

    def encode(self, texts: list[str], prompt: str, batch_size: int = 64) -> np.ndarray:
        """L2-normalised float32 embeddings, one row per text, in input order."""
        embeddings = self.transformer().encode(
            [_cleaned(text) for text in texts],
            prompt=prompt,
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(embeddings, dtype=np.float32).reshape(len(texts), -1)

    def encode_batch(self, texts: list[str], prompt: str) -> np.ndarray:
        """``encode`` for batch work (index builds, evaluations): the vectors of texts this model has
        embedded before come from the on-disk store (embedding_store.py), unless it is off."""
        path = store_path(current_settings().embedding_cache)
        if path is None:
            return self.encode(texts, prompt)
        store = EmbeddingStore(path)
        cleaned = [_cleaned(text) for text in texts]
        matrix, _ = store.encode(cleaned, self.fingerprint, prompt, lambda batch: self.encode(batch, prompt))
        return matrix.reshape(len(texts), -1)

    def encode_one(self, text: str, prompt: str) -> np.ndarray:
        """One message, as the action server does per request; a repeated one from the cache."""
        return self.cache.get_or_make((prompt, text), lambda: self._encode_one(text, prompt))

    def _encode_one(self, text: str, prompt: str) -> np.ndarray:
        if self.onnx is not None:
            return self.onnx.encode_one(prompt + _cleaned(text))  # sentence-transformers prepends it too
        return self.encode([text], prompt)[0]


def _cleaned(text: str) -> str:
    """The text as the model sees it (and the store keys it): runs of whitespace as one space."""
    return " ".join(text.split())


def _threads() -> int:
    """One intra-op thread unless ``$TANYAVAKSIN_EMBEDDING_THREADS`` says otherwise (0: the engine's default).

    On this 2-core machine one message takes ~16 ms with 2 threads and ~25 ms with 1 when the
    cores are idle, but with another busy process 2 threads wait on each other: p50 0.9 s against
    32 ms (p95 37 ms) for 1 thread. The action server shares its cores with Rasa.
    """
    return current_settings().embedding_threads


def _set_threads() -> None:
    threads = _threads()
    if threads > 0:
        import torch

        torch.set_num_threads(threads)


def load_sentence_transformer(model_ref: str) -> SentenceTransformer:
    """CPU, float32 (a float16 folder is upcast: fp16 matmuls on CPU are ~4x slower)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # a "Loading weights" bar per start only clutters logs
    _set_threads()
    kwargs: dict[str, Any] = {"dtype": torch.float32}
    transformer = SentenceTransformer(model_ref, device="cpu", model_kwargs=kwargs)
    transformer.eval()
    return transformer


class ModelNotProvisionedError(FileNotFoundError):
    """The default offline model folder is missing."""


def load_encoder(model: str | None = None) -> Encoder:
    """The process-wide encoder for a model setting (default: ``configured_model()``), loaded once."""
    model_ref = resolve_model(model or configured_model())
    if model_ref == DEFAULT_MODEL:  # not found as a folder; it is no model name either
        raise ModelNotProvisionedError(
            f"no embedding model at {DEFAULT_MODEL}: run `python -m actions.semantic.provision` "
            f"(or set {MODEL_ENV} to a model folder or name)"
        )
    return _load_encoder(model_ref)


@lru_cache(maxsize=2)
def _load_encoder(model_ref: str) -> Encoder:
    fingerprint = model_fingerprint(model_ref)
    if onnx_encoder.available(model_ref):
        try:
            onnx = OnnxSentenceEncoder(Path(model_ref), _threads())
        except Exception:  # a damaged graph costs CPU, not the second stage: torch embeds instead
            logger.exception("The ONNX graph in %s does not load: sentence-transformers embeds", model_ref)
        else:
            return Encoder(None, model_ref, fingerprint, onnx=onnx)
    return Encoder(load_sentence_transformer(model_ref), model_ref, fingerprint)
