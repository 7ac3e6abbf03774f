"""The second stage: what to do with a message Rasa is not sure about (pure logic, no I/O).

Rasa's NLU gates a weak intent or a weak FAQ answer into ``nlu_fallback``. The action server
then compares the message with the semantic FAQ index (``actions.semantic``) and decides:

- one clear topic → answer it (``utter_faq/<topic>``);
- two or three close topics → "did you mean" with them as options;
- otherwise → the fallback menu.

Rasa's own answer ranking is kept behind the fallback intent, and it is a second opinion: when
the semantic best topic is also Rasa's best answer, a lower bar suffices to answer, and Rasa's best
answer may join the "did you mean" options. A non-FAQ label (out_of_scope, greet, ...) at the top
of the semantic ranking means the menu: a health answer is never guessed.

``verify_answer`` is the same comparison for an answer Rasa *is* sure about: it stands when the
semantic search does not clearly prefer another topic, and becomes a "did you mean" otherwise.

``decide`` is the one place that picks the answer from the parse and the semantic ranking: the
FAQ actions (``actions.fallback``) and the end-to-end evaluation the training gate decides on
(``actions.semantic.end_to_end``) both call it. Thresholds are calibrated end to end on the
held-out split by ``actions/semantic/end_to_end.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from actions.semantic.faq_index import FAQ_PREFIX, Match
from core.parse import FALLBACK_INTENT, answer_ranking

Kind = Literal["answer", "clarify", "menu"]
ANSWER: Kind = "answer"
CLARIFY: Kind = "clarify"
MENU: Kind = "menu"
MAX_OPTIONS = 3


@dataclass(frozen=True)
class Decision:
    kind: Kind
    labels: tuple[str, ...] = ()  # "faq/<topic>", best first
    reason: str = ""

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(label[len(FAQ_PREFIX) :] for label in self.labels)


@dataclass(frozen=True)
class StageThresholds:
    """Cosine-score thresholds of the decision (multilingual-e5 scores lie in ~0.80-0.97)."""

    answer_min: float  # semantic alone answers: best FAQ score at least this ...
    margin_min: float  # ... and this far ahead of the next label
    agree_min: float  # semantic best topic == Rasa's best answer: this score ...
    agree_margin: float  # ... and this lead suffice
    candidate_min: float  # a "did you mean" option scores at least this ...
    window: float  # ... and at most this below the best FAQ score
    negative_lead: float  # a non-FAQ label this far ahead of every FAQ topic means the menu
    verify_window: float  # a confident Rasa answer stands while its score is within this of the best ...
    trust_min: float  # ... or while Rasa's answer confidence is at least this


# Chosen with `python -m actions.semantic.end_to_end --calibrate 0.03` on the held-out split
# (README "When the assistant is not sure" has the figures): the most FAQ questions answered right or
# offered the right topic, with no out-of-scope message answered or offered a topic.
THRESHOLDS = StageThresholds(
    answer_min=0.92,
    margin_min=0.02,
    agree_min=0.89,
    agree_margin=0.015,
    candidate_min=0.87,
    window=0.02,
    negative_lead=0.0,
    verify_window=0.002,
    trust_min=0.9,
)


@dataclass(frozen=True)
class RasaAnswers:
    """Rasa's FAQ answer ranking for the message (ResponseSelector), kept behind a fallback too."""

    labels: tuple[str, ...] = ()  # "faq/<topic>", best first
    confidence: float = 0.0  # of the best

    @property
    def best(self) -> str | None:
        return self.labels[0] if self.labels else None

    @classmethod
    def from_parse(cls, parse: Mapping[str, Any]) -> RasaAnswers:
        ranking = answer_ranking(parse)
        return cls(tuple(answer.label for answer in ranking), ranking[0].confidence) if ranking else cls()


def _faq(ranked: Sequence[Match]) -> list[Match]:
    return [match for match in ranked if match.is_faq]


def _lead(ranked: Sequence[Match], label: str) -> float:
    """How far ``label`` is ahead of the next label (negative when it is not first)."""
    scores = [m.score for m in ranked if m.label != label]
    own = next((m.score for m in ranked if m.label == label), float("-inf"))
    return own - (scores[0] if scores else float("-inf"))


def _score(ranked: Sequence[Match], label: str) -> float:
    return next((m.score for m in ranked if m.label == label), float("-inf"))


def candidates(
    ranked: Sequence[Match],
    rasa: RasaAnswers,
    t: StageThresholds,
    first: str | None = None,
    min_score: float | None = None,
) -> tuple[str, ...]:
    """Up to three "did you mean" topics: ``first`` if given, then the semantic topics close to the
    best one, with Rasa's best answer taking the last place when it is close too but not among them."""
    faq = _faq(ranked)
    if not faq:
        return ()
    floor = t.candidate_min if min_score is None else min_score
    best = faq[0].score
    close = [m.label for m in faq if m.score >= floor and m.score >= best - t.window]
    options = [first] if first else []
    options += [label for label in close if label != first]
    rasa_best = rasa.best
    if rasa_best and rasa_best not in options[:MAX_OPTIONS]:
        score = _score(ranked, rasa_best)
        if score >= floor and score >= best - t.window:
            options = [*options[: MAX_OPTIONS - 1], rasa_best]
    return tuple(options[:MAX_OPTIONS])


def decide_uncertain(ranked: Sequence[Match], rasa: RasaAnswers, t: StageThresholds = THRESHOLDS) -> Decision:
    """The decision for a message Rasa gated (``nlu_fallback``)."""
    faq = _faq(ranked)
    if not faq:
        return Decision(MENU, reason="no FAQ topic")
    top = faq[0]
    best_other = next((m.score for m in ranked if not m.is_faq), float("-inf"))
    if best_other - top.score >= t.negative_lead and not ranked[0].is_faq:
        return Decision(MENU, reason=f"closest to {ranked[0].label}")
    lead = _lead(ranked, top.label)
    if top.label == rasa.best and top.score >= t.agree_min and lead >= t.agree_margin:
        return Decision(ANSWER, (top.label,), "semantic best is Rasa's best answer")
    if top.score >= t.answer_min and lead >= t.margin_min:
        return Decision(ANSWER, (top.label,), "clear semantic match")
    options = candidates(ranked, rasa, t)
    if options:
        return Decision(CLARIFY, options, "close candidates")
    return Decision(MENU, reason="no close topic")


def trusted(rasa: RasaAnswers, t: StageThresholds = THRESHOLDS) -> bool:
    """Rasa's answer stands whatever the semantic search says: the check need not run (nor the
    message be embedded for it, ~25 ms of CPU: issue #14)."""
    return rasa.best is not None and rasa.confidence >= t.trust_min


def verify_answer(ranked: Sequence[Match], rasa: RasaAnswers, t: StageThresholds = THRESHOLDS) -> Decision:
    """A confident Rasa answer stands unless the semantic search clearly prefers other topics."""
    label = rasa.best
    if label is None:
        return Decision(MENU, reason="no answer selected")
    faq = _faq(ranked)
    if not faq or trusted(rasa, t) or _score(ranked, label) >= faq[0].score - t.verify_window:
        return Decision(ANSWER, (label,), "semantic search agrees")
    options = candidates(ranked, rasa, t, first=label, min_score=float("-inf"))
    return Decision(CLARIFY, options, "semantic search prefers another topic")


def decide(
    intent: str,
    rasa: RasaAnswers,
    ranked: Sequence[Match] | None,
    check: bool = True,
    t: StageThresholds = THRESHOLDS,
) -> Decision:
    """What a FAQ question gets, from Rasa's gated intent (``faq`` sure, ``nlu_fallback`` not),
    its answers and the semantic ranking (None: the search is unavailable, or not asked).

    Without a ranking a health answer is given only where Rasa is sure; ``check`` off keeps every
    answer Rasa is sure about (``TANYAVAKSIN_ANSWER_CHECK``).
    """
    if intent == FALLBACK_INTENT:
        return decide_uncertain(ranked, rasa, t) if ranked else Decision(MENU, reason="no search")
    if rasa.best is None:
        return Decision(MENU, reason="no answer selected")
    return verify_answer(ranked, rasa, t) if ranked and check else Decision(ANSWER, (rasa.best,))
