"""A version's end-to-end figures: Rasa's parses kept per split, the decisions from the actions env."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.training.conftest import GOOD, write_fake_model
from training import evaluation
from training.evaluation import Evaluation, EvaluationError, end_to_end, heldout_parses
from training.heldout import LabelledMessage, heldout_hash

ROOT = Path(__file__).resolve().parents[2]

# Stands in for the actions env's interpreter: checks it is asked for the end-to-end module on the
# version's parses and index, and writes the report the way actions.semantic.end_to_end does.
FAKE_PYTHON = """#!/bin/sh
[ "$1 $2" = "-m actions.semantic.end_to_end" ] || exit 9
[ -f "$4" ] && [ -d "$6" ] || exit 8
mkdir -p "$8"
printf '%s' '{"metrics": METRICS, "faq_messages": 390}' > "$8/end_to_end.json"
"""


@pytest.fixture
def model(tmp_path: Path) -> Path:
    model = tmp_path / "archive" / "20261126T103000Z.tar.gz"
    write_fake_model(model)
    return model


def fake_parses(calls: list[str]) -> Any:
    async def parse_all(model_path: Path, messages: list[LabelledMessage]) -> list[dict[str, Any]]:
        calls.append(model_path.name)
        return [{"intent": {"name": "faq"}, "intent_ranking": [], "extra": 1} for _ in messages]

    return parse_all


def test_parses_are_kept_for_the_split_they_were_made_on(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(evaluation, "parse_all", fake_parses(calls))
    monkeypatch.setattr(evaluation, "quiet_rasa", lambda: None)
    heldout = tmp_path / "heldout"
    heldout.mkdir()
    (heldout / "faq.yml").write_bytes((ROOT / "data" / "heldout" / "faq_umum.yml").read_bytes())
    stored = heldout_parses(model, heldout, print)
    assert stored.name == "20261126T103000Z.parses.json"
    payload = json.loads(stored.read_text(encoding="utf-8"))
    assert payload["heldout_hash"] == heldout_hash(heldout)
    first = payload["parses"][0]
    assert set(first) == {"text", "label", "parse"} and set(first["parse"]) == {
        "intent",
        "intent_ranking",
        "response_selector",
    }
    assert heldout_parses(model, heldout, print) == stored and calls == [model.name]
    (heldout / "more.yml").write_bytes((ROOT / "data" / "heldout" / "faq_dosis.yml").read_bytes())
    heldout_parses(model, heldout, print)
    assert calls == [model.name, model.name]


def test_the_figures_come_from_the_actions_env_over_files(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evaluation, "heldout_parses", lambda model_file, heldout, echo: model)
    index = tmp_path / "archive" / "20261126T103000Z.semantic"
    index.mkdir()
    python = tmp_path / "python"
    python.write_text(FAKE_PYTHON.replace("METRICS", json.dumps(GOOD)), encoding="utf-8")
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    result = end_to_end(model, index, tmp_path, str(python), print)
    assert result == Evaluation(GOOD, 390)
    assert (tmp_path / "archive" / "20261126T103000Z.e2e" / "end_to_end.json").is_file()
    with pytest.raises(EvaluationError):
        end_to_end(model, tmp_path / "no-index", tmp_path, str(python), print)
