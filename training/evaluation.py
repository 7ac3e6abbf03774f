"""A model's held-out metrics for the gate, measured like ``make eval`` (its functions).

Each evaluation is also written next to the archived model (``archive/<id>.eval.json``) with a
hash of the held-out files, so the live model is only evaluated again when the split changed:
the gate must compare both models on the same messages.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.hashing import digest, files_of
from training.heldout import read_labelled_messages
from training.heldout_parse import parse_all, summarise
from training.outcomes import prediction_from_parse

SIDECAR_SUFFIX = ".eval.json"


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, float]
    faq_messages: int
    heldout_hash: str
    summary: dict[str, Any]


def heldout_hash(heldout: Path) -> str:
    return digest(files_of([heldout]))


def metrics_of(summary: dict[str, Any]) -> dict[str, float]:
    """The registry's five fractions from ``evaluate.summarise``'s summary."""
    return {
        "faq_right": float(summary["faq_answers"]["right"]),
        "faq_wrong": float(summary["faq_answers"]["wrong"]),
        "faq_fallback": float(summary["faq_answers"]["fallback"]),
        "all_right": float(summary["all_messages_gated"]["right"]),
        "routing": float(summary["routing_accuracy_raw"]),
    }


def quiet_rasa() -> None:
    """Without a logging setup Rasa logs every parsed message; the trainer prints what matters,
    and ``predict``'s stdout must stay JSON, so Rasa may only warn, on stderr."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def evaluate_model(model_file: Path, heldout: Path) -> Evaluation:
    messages = read_labelled_messages(heldout)
    if not messages:
        raise FileNotFoundError(f"no labelled held-out messages in {heldout}")
    quiet_rasa()
    parses = asyncio.run(parse_all(model_file, messages))
    summary = summarise(messages, [prediction_from_parse(parse) for parse in parses])
    return Evaluation(
        metrics=metrics_of(summary),
        faq_messages=int(summary["faq_answers"]["count"]),
        heldout_hash=heldout_hash(heldout),
        summary=summary,
    )


def sidecar_path(model_file: Path) -> Path:
    return model_file.with_name(model_file.name.removesuffix(".tar.gz") + SIDECAR_SUFFIX)


def write_sidecar(model_file: Path, evaluation: Evaluation) -> None:
    payload = {
        "heldout_hash": evaluation.heldout_hash,
        "faq_messages": evaluation.faq_messages,
        "metrics": evaluation.metrics,
        "summary": evaluation.summary,
    }
    sidecar_path(model_file).write_text(json.dumps(payload, indent=2, ensure_ascii=False), "utf-8")


def read_sidecar(model_file: Path) -> Evaluation | None:
    try:
        raw = json.loads(sidecar_path(model_file).read_text(encoding="utf-8"))
        return Evaluation(
            metrics={key: float(value) for key, value in raw["metrics"].items()},
            faq_messages=int(raw["faq_messages"]),
            heldout_hash=str(raw["heldout_hash"]),
            summary=dict(raw["summary"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
