"""The decision of the second stage, on hand-made rankings."""

from __future__ import annotations

from actions.second_stage import (
    ANSWER,
    CLARIFY,
    MENU,
    THRESHOLDS,
    RasaAnswers,
    StageThresholds,
    candidates,
    decide_uncertain,
    verify_answer,
)
from actions.semantic.faq_index import Match

T = StageThresholds(
    answer_min=0.92,
    margin_min=0.02,
    agree_min=0.89,
    agree_margin=0.01,
    candidate_min=0.87,
    window=0.02,
    negative_lead=0.0,
    verify_window=0.002,
    trust_min=0.95,
)


def ranking(*pairs: tuple[str, float]) -> list[Match]:
    return [Match(label, score) for label, score in pairs]


def rasa(*labels: str, confidence: float = 0.4) -> RasaAnswers:
    return RasaAnswers(tuple(labels), confidence)


def test_one_clear_topic_is_answered() -> None:
    ranked = ranking(("faq/biaya", 0.95), ("faq/lokasi", 0.91), ("out_of_scope", 0.88))
    decision = decide_uncertain(ranked, rasa("faq/lokasi"), T)
    assert (decision.kind, decision.topics) == (ANSWER, ("biaya",))


def test_agreeing_with_rasa_needs_a_lower_bar() -> None:
    ranked = ranking(("faq/biaya", 0.90), ("faq/lokasi", 0.889))
    assert decide_uncertain(ranked, rasa("faq/biaya"), T).kind == ANSWER
    assert decide_uncertain(ranked, rasa("faq/lokasi"), T).kind == CLARIFY


def test_close_topics_are_offered_best_first_at_most_three() -> None:
    ranked = ranking(
        ("faq/biaya", 0.91), ("faq/lokasi", 0.905), ("faq/halal", 0.9), ("faq/dokumen", 0.895), ("greet", 0.8)
    )
    decision = decide_uncertain(ranked, rasa(), T)
    assert decision.kind == CLARIFY
    assert decision.topics == ("biaya", "lokasi", "halal")


def test_rasas_best_answer_joins_the_options_when_close() -> None:
    ranked = ranking(("faq/biaya", 0.91), ("faq/lokasi", 0.905), ("faq/halal", 0.9), ("faq/dokumen", 0.895))
    assert decide_uncertain(ranked, rasa("faq/dokumen"), T).topics == ("biaya", "lokasi", "dokumen")
    far = ranking(("faq/biaya", 0.91), ("faq/lokasi", 0.905), ("faq/dokumen", 0.85))
    assert decide_uncertain(far, rasa("faq/dokumen"), T).topics == ("biaya", "lokasi")


def test_a_non_faq_label_on_top_means_the_menu() -> None:
    ranked = ranking(("out_of_scope", 0.93), ("faq/biaya", 0.929))
    assert decide_uncertain(ranked, rasa("faq/biaya"), T).kind == MENU


def test_weak_scores_mean_the_menu() -> None:
    ranked = ranking(("faq/biaya", 0.85), ("faq/lokasi", 0.84))
    assert decide_uncertain(ranked, rasa(), T).kind == MENU
    assert decide_uncertain([], rasa(), T).kind == MENU


def test_a_confident_answer_stands_when_the_search_agrees_or_rasa_is_very_sure() -> None:
    ranked = ranking(("faq/lokasi", 0.93), ("faq/biaya", 0.92))
    assert verify_answer(ranked, rasa("faq/lokasi"), T).kind == ANSWER
    assert verify_answer(ranked, rasa("faq/biaya", confidence=0.97), T).kind == ANSWER


def test_a_confident_answer_the_search_objects_to_becomes_a_did_you_mean() -> None:
    ranked = ranking(("faq/lokasi", 0.93), ("faq/halal", 0.925), ("faq/biaya", 0.92))
    decision = verify_answer(ranked, rasa("faq/biaya", "faq/lokasi", confidence=0.8), T)
    assert decision.kind == CLARIFY
    assert decision.topics == ("biaya", "lokasi", "halal"), "Rasa's answer first, then the search's"


def test_candidates_never_repeat_a_topic() -> None:
    ranked = ranking(("faq/a", 0.9), ("faq/b", 0.9), ("faq/c", 0.9))
    assert candidates(ranked, rasa("faq/b"), T, first="faq/b") == ("faq/b", "faq/a", "faq/c")


def test_rasa_answers_are_read_from_the_parse_kept_behind_the_fallback() -> None:
    parse = {
        "intent": {"name": "nlu_fallback", "confidence": 0.3},
        "response_selector": {
            "faq": {
                "ranking": [{"intent_response_key": "faq/biaya", "confidence": 0.41}, {"confidence": 0.2}]
            }
        },
    }
    assert RasaAnswers.from_parse(parse) == RasaAnswers(("faq/biaya",), 0.41)
    assert RasaAnswers.from_parse({}).best is None


def test_the_calibrated_thresholds_are_ordered_sensibly() -> None:
    t = THRESHOLDS
    assert t.candidate_min <= t.agree_min <= t.answer_min
    assert 0 <= t.verify_window < t.window
