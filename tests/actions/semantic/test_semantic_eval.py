"""The vectorised threshold search agrees with the decision rule the action uses."""

from __future__ import annotations

import random

from actions.semantic.faq_index import Match
from tools.evaluation.semantic_eval import Run, Variant, outcome, search_thresholds

LABELS = ["faq/a", "faq/b", "faq/c", "faq/d", "out_of_scope", "greet"]


def synthetic_run(seed: int = 7, messages: int = 120) -> Run:
    rng = random.Random(seed)
    gold, ranked = [], []
    for _ in range(messages):
        gold.append(rng.choice(LABELS))
        scores = sorted((rng.uniform(0.8, 0.97) for _ in LABELS), reverse=True)
        ranked.append(
            [Match(label, round(s, 3)) for label, s in zip(rng.sample(LABELS, len(LABELS)), scores)]
        )
    return Run(Variant("none", 1, True, False), gold, ranked)


def test_threshold_search_matches_the_decision_rule() -> None:
    run = synthetic_run()
    feasible = search_thresholds(run, max_wrong=0.05)
    assert feasible, "some thresholds (e.g. never answer) are always feasible"
    for thresholds, expected in feasible[:: max(1, len(feasible) // 40)]:
        assert outcome(run, thresholds) == expected
        assert expected.faq_wrong <= 0.05 and expected.oos_answered == 0 and expected.oos_clarified == 0


def test_results_are_best_first() -> None:
    helped = [o.helped for _, o in search_thresholds(synthetic_run(seed=3), max_wrong=0.05)]
    assert helped == sorted(helped, reverse=True)
