"""Export the provisioned e5 encoder as one ONNX graph, which both servers embed with.

Under load (``make load``, issue #14) three quarters of an action server's CPU went to embedding
uncertain messages with sentence-transformers on torch: ~23 ms of CPU for a short message on one
thread, mostly torch's eager dispatch around small matrix products. The same graph run by ONNX
Runtime takes ~12 ms and gives the same vector (cosine 1.0 to 1e-6,
``tests/actions/semantic/test_onnx_engine.py``), so the second stage's thresholds, calibrated on
sentence-transformers' vectors, hold unchanged.

``export`` writes ``model.onnx`` into a provisioned model folder (``provision.py`` calls it; it needs
torch and the ``onnx`` package, both in the actions environment): the BERT encoder, then e5's mean
pooling over the attention mask and L2 normalisation, as the folder's ``1_Pooling`` and
``2_Normalize`` modules do. ``embedding/onnx_encoder.py`` runs it with the folder's own
``tokenizer.json`` and ``max_seq_length``: the action server one message at a time (its batch work,
index builds and evaluations, stays on sentence-transformers) and Rasa's e5 featurizer.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from embedding.onnx_encoder import ONNX_FILE

OPSET = 17


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
