"""How the end-to-end evaluation counts a held-out message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from actions.second_stage import RasaAnswers
from actions.semantic.build import IndexSettings, build
from actions.semantic.encoder import Encoder
from actions.semantic.end_to_end import (
    CLARIFY_OTHER,
    CLARIFY_RIGHT,
    MENU,
    OTHER,
    RIGHT,
    WRONG,
    Case,
    Setup,
    assistant_decision,
    calibrate,
    main,
    outcome,
    tally,
)
from actions.semantic.faq_index import Match

CLEAR = (Match("faq/biaya", 0.96), Match("faq/lokasi", 0.90), Match("out_of_scope", 0.85))
CLOSE = (Match("faq/lokasi", 0.905), Match("faq/biaya", 0.90), Match("out_of_scope", 0.85))
OOS = (Match("out_of_scope", 0.93), Match("faq/biaya", 0.88))


def case(label: str, intent: str, ranked: tuple[Match, ...], rasa: tuple[str, ...] = ("faq/biaya",)) -> Case:
    return Case("teks", label, intent, RasaAnswers(rasa, 0.5), ranked)


def test_each_outcome() -> None:
    with_stage, without = Setup(True, True), Setup(False, False)
    gated_clear = case("faq/biaya", "nlu_fallback", CLEAR)
    assert outcome(gated_clear, assistant_decision(gated_clear, without)) == MENU
    assert outcome(gated_clear, assistant_decision(gated_clear, with_stage)) == RIGHT
    close = case("faq/biaya", "nlu_fallback", CLOSE)
    assert outcome(close, assistant_decision(close, with_stage)) == CLARIFY_RIGHT
    other = case("faq/halal", "nlu_fallback", CLOSE)
    assert outcome(other, assistant_decision(other, with_stage)) == CLARIFY_OTHER
    wrong = case("faq/halal", "faq", CLEAR)
    assert outcome(wrong, assistant_decision(wrong, without)) == WRONG
    oos = case("out_of_scope", "nlu_fallback", OOS)
    assert outcome(oos, assistant_decision(oos, with_stage)) == MENU
    greet_as_thanks = case("greet", "thank", OOS)
    assert outcome(greet_as_thanks, assistant_decision(greet_as_thanks, with_stage)) == OTHER


def test_the_answer_check_turns_an_objected_answer_into_a_did_you_mean() -> None:
    objected = case("faq/lokasi", "faq", CLOSE)
    assert outcome(objected, assistant_decision(objected, Setup(True, False))) == WRONG
    assert outcome(objected, assistant_decision(objected, Setup(True, True))) == CLARIFY_RIGHT


def test_tally_and_calibration_respect_the_out_of_scope_rule() -> None:
    cases = [case("faq/biaya", "nlu_fallback", CLEAR), case("out_of_scope", "nlu_fallback", OOS)]
    counts = tally(cases, Setup(True, True))
    assert counts["FAQ questions"][RIGHT] == 1 and counts["out-of-scope messages"][MENU] == 1
    found = calibrate(cases, max_wrong=0.0, verify=False, limit=3)
    assert found and all(c.out_of_scope[MENU] == 1 for c in found)


def parse(intent: str, answers: tuple[str, ...], confidence: float) -> dict[str, Any]:
    ranking = [{"intent_response_key": label, "confidence": confidence} for label in answers]
    return {
        "intent": {"name": intent},
        "intent_ranking": [],
        "response_selector": {"faq": {"ranking": ranking}},
    }


def test_the_cli_measures_a_version_with_its_own_index(
    encoder: Encoder, tiny_nlu: Path, tmp_path: Path
) -> None:
    """What the trainer runs in this env: the version's parses and index in, the gate's figures out."""
    index = tmp_path / "archive" / "V.semantic"
    settings: IndexSettings = {
        "example_prompt": "",
        "message_prompt": "",
        "top_k": 5,
        "include_negatives": True,
        "center": False,
    }
    assert build([tiny_nlu], None, index, encoder.model_ref, settings, echo=print)
    entries = [
        ("apakah vaksin covid halal", "faq/halal", parse("faq", ("faq/halal", "faq/biaya"), 0.95)),
        (
            "vaksin gratis kan",
            "faq/biaya",
            parse("faq", ("faq/halal", "faq/biaya"), 0.95),
        ),  # Rasa's sure, wrong
        ("jual pulsa murah dong", "out_of_scope", parse("out_of_scope", (), 0.0)),
    ]
    parses = tmp_path / "archive" / "V.parses.json"
    records = [{"text": text, "label": label, "parse": p} for text, label, p in entries]
    parses.write_text(json.dumps({"heldout_hash": "h", "parses": records}), encoding="utf-8")
    out = tmp_path / "archive" / "V.e2e"
    assert main(["--parses", str(parses), "--index", str(index), "--out", str(out)]) == 0
    report = json.loads((out / "end_to_end.json").read_text(encoding="utf-8"))
    assert report["faq_messages"] == 2
    assert report["metrics"] == {"faq_right": 0.5, "faq_clarified": 0.0, "faq_wrong": 0.5, "faq_menu": 0.0}
