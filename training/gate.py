"""The evaluation gate: a candidate version replaces the live one only if it is not worse.

Both are measured end to end (Rasa and the second stage, ``training.evaluation``) on the same
held-out split, by the share of FAQ questions given the right answer and a wrong one; "did you
mean" with the right topic is reported beside them. The candidate passes when

    faq_right >= live.faq_right - tolerance   and   faq_wrong <= live.faq_wrong + tolerance

with ``tolerance`` = one held-out FAQ message (1 / number of held-out FAQ questions, 1/390 ≈ 0.26 %
today). Rationale: a retraining that adds a few reviewed examples moves single borderline messages
either way; one message is the smallest difference the split can show, so "not worse" allows
exactly that much noise and no more. Fewer right answers *or* more wrong answers beyond it refuse
the candidate: a wrong health answer is the costly outcome, so trading it for right answers is
not automatic (an admin can still ``activate`` a refused model by hand).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# float noise: 0.826 - 1/390 computed two ways must not refuse an equal model
EPSILON = 1e-9


@dataclass(frozen=True)
class Decision:
    activate: bool
    reason: str


def tolerance_for(faq_messages: int) -> float:
    """One held-out FAQ message, as a fraction."""
    return 1.0 / faq_messages if faq_messages > 0 else 0.0


def percent(value: float) -> str:
    return f"{value * 100:.1f} %"


def decide(candidate: Mapping[str, float], live: Mapping[str, float] | None, tolerance: float) -> Decision:
    """Whether the candidate may replace the live model, with the reason in words."""
    if live is None:
        return Decision(True, "first model: no live model to compare with")
    right, live_right = candidate["faq_right"], live["faq_right"]
    wrong, live_wrong = candidate["faq_wrong"], live["faq_wrong"]
    allowance = f"(tolerance {percent(tolerance)})"
    problems = []
    if right < live_right - tolerance - EPSILON:
        problems.append(f"FAQ right {percent(right)} < live {percent(live_right)}")
    if wrong > live_wrong + tolerance + EPSILON:
        problems.append(f"FAQ wrong {percent(wrong)} > live {percent(live_wrong)}")
    if problems:
        return Decision(False, "; ".join(problems) + f" {allowance}")
    return Decision(
        True,
        f"not worse than the live model: FAQ right {percent(right)} (live {percent(live_right)}), "
        f"FAQ wrong {percent(wrong)} (live {percent(live_wrong)}) {allowance}",
    )
