"""The gate: not worse than the live model, by more than one held-out FAQ message."""

from __future__ import annotations

from training.gate import decide, tolerance_for

LIVE = {"faq_right": 322 / 390, "faq_wrong": 8 / 390}
ONE = tolerance_for(390)


def metrics(right: int, wrong: int, total: int = 390) -> dict[str, float]:
    return {"faq_right": right / total, "faq_wrong": wrong / total}


def test_the_tolerance_is_one_faq_message() -> None:
    assert tolerance_for(390) == 1 / 390
    assert tolerance_for(0) == 0.0


def test_the_first_model_always_passes() -> None:
    decision = decide(metrics(10, 300), None, ONE)
    assert decision.activate
    assert "no live model" in decision.reason


def test_an_equal_or_better_model_passes() -> None:
    assert decide(metrics(322, 8), LIVE, ONE).activate
    assert decide(metrics(330, 5), LIVE, ONE).activate


def test_one_message_either_way_is_noise() -> None:
    assert decide(metrics(321, 9), LIVE, ONE).activate


def test_two_fewer_right_answers_refuse_the_candidate() -> None:
    decision = decide(metrics(320, 8), LIVE, ONE)
    assert not decision.activate
    assert decision.reason == "FAQ helped 82.1 % < live 82.6 % (tolerance 0.3 %)"


def test_two_more_wrong_answers_refuse_even_with_more_right_answers() -> None:
    decision = decide(metrics(340, 10), LIVE, ONE)
    assert not decision.activate
    assert decision.reason == "FAQ wrong 2.6 % > live 2.1 % (tolerance 0.3 %)"


def test_both_reasons_are_given() -> None:
    decision = decide({"faq_right": 0.713, "faq_wrong": 0.05}, LIVE, ONE)
    assert decision.reason.startswith("FAQ helped 71.3 % < live 82.6 %; FAQ wrong 5.0 % > live 2.1 %")


def test_a_question_moved_from_a_direct_answer_to_the_right_did_you_mean_is_still_helped() -> None:
    """The answer check turns borderline answers into "did you mean" with the right topic."""
    live = {"faq_right": 241 / 407, "faq_clarified": 143 / 407, "faq_wrong": 8 / 407}
    candidate = {"faq_right": 238 / 407, "faq_clarified": 147 / 407, "faq_wrong": 6 / 407}
    decision = decide(candidate, live, tolerance_for(407))
    assert decision.activate, decision.reason
    assert "FAQ helped 94.6 % (live 94.3 %)" in decision.reason
    fewer_helped = {"faq_right": 241 / 407, "faq_clarified": 140 / 407, "faq_wrong": 8 / 407}
    assert decide(fewer_helped, live, tolerance_for(407)).reason.startswith("FAQ helped 93.6 % < live 94.3 %")
