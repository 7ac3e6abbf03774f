"""The gate's five metrics come from ``make eval``'s own summary, and are stored with the split."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.training.conftest import write_fake_model
from training.evaluation import (
    Evaluation,
    heldout_hash,
    metrics_of,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)
from training.heldout import LabelledMessage
from training.heldout_parse import summarise
from training.outcomes import FALLBACK, Prediction

ROOT = Path(__file__).resolve().parents[3]


def predicted(gated: str, raw: str) -> Prediction:
    return Prediction(gated=gated, raw=raw, intent_confidence=0.9, answer_confidences=(0.9,))


def test_metrics_are_fractions_of_faq_questions_and_of_all_messages() -> None:
    messages = [
        LabelledMessage("a", "faq/biaya"),
        LabelledMessage("b", "faq/biaya"),
        LabelledMessage("c", "faq/halal"),
        LabelledMessage("d", "faq/halal"),
        LabelledMessage("e", "greet"),
    ]
    predictions = [
        predicted("faq/biaya", "faq/biaya"),  # right
        predicted("faq/halal", "faq/halal"),  # wrong
        predicted(FALLBACK, "faq/halal"),  # fallback, routed right
        predicted("faq/halal", "faq/halal"),  # right
        predicted("greet", "greet"),  # right, not a FAQ question
    ]
    metrics = metrics_of(summarise(messages, predictions))
    assert metrics == pytest.approx(
        {"faq_right": 0.5, "faq_wrong": 0.25, "faq_fallback": 0.25, "all_right": 0.6, "routing": 0.8}
    )


def test_the_stored_evaluation_names_the_split_it_was_made_on(tmp_path: Path) -> None:
    model = tmp_path / "archive" / "20261126T103000Z.tar.gz"
    write_fake_model(model)
    assert read_sidecar(model) is None
    split = heldout_hash(ROOT / "data" / "heldout")
    evaluation = Evaluation({"faq_right": 0.8}, 390, split, {"messages": 530})
    write_sidecar(model, evaluation)
    assert sidecar_path(model).name == "20261126T103000Z.eval.json"
    assert read_sidecar(model) == evaluation
    sidecar_path(model).write_text("{", encoding="utf-8")
    assert read_sidecar(model) is None
