"""How the end-to-end evaluation counts a held-out message."""

from __future__ import annotations

from actions.second_stage import RasaAnswers
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
