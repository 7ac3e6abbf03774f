"""The evaluation gate: a candidate version replaces the live one only if it is not worse.

Both are measured end to end (Rasa and the second stage, ``training.evaluation``) on the same
held-out split. What the gate protects is what a recipient gets: the right answer, or the right
topic offered one tap away ("did you mean"; together: *helped*), and no wrong answer. Direct
answers alone are too noisy to judge on: the answer check moves a borderline question between a
direct answer and a "did you mean" with the right topic, and a retraining that fixes reviewed
questions moved 0.7 % of held-out questions that way while helping more of them (issue #15's
trainer loop). The candidate passes when

    helped >= live.helped - tolerance   and   faq_wrong <= live.faq_wrong + tolerance

with ``tolerance`` = one held-out FAQ message (1 / number of held-out FAQ questions, 1/407 ≈ 0.25 %
today). Rationale: a retraining that adds a few reviewed examples moves single borderline messages
either way; one message is the smallest difference the split can show, so "not worse" allows
exactly that much noise and no more. Fewer recipients helped *or* more wrong answers beyond it refuse
the candidate: a wrong health answer is the costly outcome, so trading it for helped questions is
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


def helped(metrics: Mapping[str, float]) -> float:
    """FAQ questions given the right answer, or offered the right topic ("did you mean")."""
    return metrics["faq_right"] + metrics.get("faq_clarified", 0.0)


def decide(candidate: Mapping[str, float], live: Mapping[str, float] | None, tolerance: float) -> Decision:
    """Whether the candidate may replace the live model, with the reason in words."""
    if live is None:
        return Decision(True, "first model: no live model to compare with")
    right, live_right = helped(candidate), helped(live)
    wrong, live_wrong = candidate["faq_wrong"], live["faq_wrong"]
    allowance = f"(tolerance {percent(tolerance)})"
    problems = []
    if right < live_right - tolerance - EPSILON:
        problems.append(f"FAQ helped {percent(right)} < live {percent(live_right)}")
    if wrong > live_wrong + tolerance + EPSILON:
        problems.append(f"FAQ wrong {percent(wrong)} > live {percent(live_wrong)}")
    if problems:
        return Decision(False, "; ".join(problems) + f" {allowance}")
    return Decision(
        True,
        f"not worse than the live model: FAQ helped {percent(right)} (live {percent(live_right)}), "
        f"FAQ wrong {percent(wrong)} (live {percent(live_wrong)}) {allowance}",
    )
