"""The action server's per-message embedding on ONNX Runtime: the same vectors at half the CPU.

Under load (``make load``, issue #14) three quarters of an action server's CPU went to embedding
uncertain messages with sentence-transformers on torch: ~23 ms of CPU for a short message on one
thread, mostly torch's eager dispatch around small matrix products. The same graph run by ONNX
Runtime takes ~12 ms and gives the same vector (cosine 1.0 to 1e-6,
``tests/actions/semantic/test_onnx_engine.py``), so the second stage's thresholds, calibrated on
sentence-transformers' vectors, hold unchanged.

``export`` writes ``model.onnx`` into a provisioned model folder (``provision.py`` calls it; it needs
torch and the ``onnx`` package, both in the actions environment): the BERT encoder, then e5's mean
pooling over the attention mask and L2 normalisation, as the folder's ``1_Pooling`` and
``2_Normalize`` modules do. ``OnnxSentenceEncoder`` runs it with the folder's own ``tokenizer.json``
and ``max_seq_length``. Batch work (index builds, evaluations) stays on sentence-transformers.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

ONNX_FILE = "model.onnx"
OPSET = 17
DEFAULT_MAX_TOKENS = 512  # e5's position limit, when the folder does not say


def export(folder: Path, target: Path | None = None) -> Path:
    """Write the folder's sentence encoder as one ONNX graph (token ids and mask in, unit vectors out)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    target = target or folder / ONNX_FILE
    model = SentenceTransformer(str(folder), device="cpu", model_kwargs={"dtype": torch.float32})
    bert = model[0].auto_model
    assert isinstance(bert, torch.nn.Module)
    bert.eval()

    class MeanPooledUnitVectors(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert: Any = bert  # registered as a submodule; typed loosely, as torch types attributes

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    sample = model.tokenizer(["contoh kalimat", "halo"], padding=True, return_tensors="pt")
    partial = target.with_name(f".{target.name}.partial")
    # The tracer warns that BERT's mask checks become constants: they are (the mask always spans the
    # tokens), and test_onnx_engine.py compares the graph's vectors with sentence-transformers'.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            MeanPooledUnitVectors().eval(),
            (sample["input_ids"], sample["attention_mask"]),
            str(partial),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,  # the TorchScript exporter: no onnxscript needed, and a plain BERT traces fine
        )
    partial.chmod(0o644)
    partial.replace(target)
    return target


def _max_tokens(folder: Path) -> int:
    try:
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(config.get("max_seq_length") or DEFAULT_MAX_TOKENS)
    except (OSError, ValueError):
        return DEFAULT_MAX_TOKENS


class OnnxSentenceEncoder:
    """One text at a time, as a request needs it; thread-safe (ONNX Runtime sessions are)."""

    def __init__(self, folder: Path, threads: int = 1) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # 0: ONNX Runtime's default (one per core)
        options.inter_op_num_threads = 1
        # Threads that spin while waiting steal the CPU Rasa needs on the same cores (README "Speed
        # and scale": two spinning OpenMP threads made one embedding 4x slower under load).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session: onnxruntime.InferenceSession = onnxruntime.InferenceSession(
            str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer: Tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(_max_tokens(folder))
        config: dict[str, Any] = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.dimension = int(config["hidden_size"])

    def encode_one(self, text: str) -> np.ndarray:
        """The unit vector of ``text`` (prompt included by the caller), float32."""
        encoding = self.tokenizer.encode(text)
        feed = {
            "input_ids": np.asarray([encoding.ids], dtype=np.int64),
            "attention_mask": np.asarray([encoding.attention_mask], dtype=np.int64),
        }
        embedding = self.session.run(None, feed)[0]
        return np.asarray(embedding[0], dtype=np.float32)


def available(folder: str | Path) -> bool:
    """The folder has an exported graph and ONNX Runtime is installed."""
    if not (Path(folder) / ONNX_FILE).is_file():
        return False
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True
