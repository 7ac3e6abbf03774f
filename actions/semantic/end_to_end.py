"""End to end on the held-out split: what a recipient gets, with and without the semantic stage.

Runs in the actions environment, after the Rasa environment has written every held-out parse
(``training.heldout_parse`` to ``reports/eval/parses.json``; the trainer next to each version):

    HF_HUB_OFFLINE=1 PYTHONPATH=. .venvs/actions/bin/python -m actions.semantic.end_to_end [--index DIR]

``--index`` is the version's index (default: the live one). ``end_to_end.json`` holds the shares
per setup and, under ``metrics``, the deployed setup's figures of the FAQ questions that the
training gate decides on (``core.model_registry.METRIC_NAMES``).

Each message ends in one outcome, the way the assistant treats it:

- ``faq`` and ``nlu_fallback``: ``actions.second_stage.decide``, the code the FAQ actions run;
- ``out_of_scope`` and ``show_menu``: the menu; any other intent: that intent's own response.

Outcomes: right answer / "did you mean" offering the right topic / offering only others / menu /
wrong answer / other response. ``--calibrate`` searches the thresholds of ``actions.second_stage``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from actions.second_stage import ANSWER, CLARIFY, THRESHOLDS, Decision, RasaAnswers, StageThresholds, decide
from actions.semantic.faq_index import FAQ_PREFIX, Match, SemanticFaqSearch, index_dir, load_search
from core.parse import FALLBACK_INTENT, RETRIEVAL_INTENT, intent_name

OUT_OF_SCOPE = "out_of_scope"
MENU_INTENTS = {OUT_OF_SCOPE, "show_menu"}

RIGHT, CLARIFY_RIGHT, CLARIFY_OTHER, MENU, WRONG, OTHER = (
    "right answer",
    "did you mean, right topic offered",
    "did you mean, right topic not offered",
    "menu",
    "wrong answer",
    "other response",
)
OUTCOMES = (RIGHT, CLARIFY_RIGHT, CLARIFY_OTHER, MENU, WRONG, OTHER)
GROUPS = ("FAQ questions", "out-of-scope messages", "other non-FAQ messages")


@dataclass(frozen=True)
class Case:
    """One held-out message: its label, Rasa's parse, and the semantic ranking of its text."""

    text: str
    label: str
    intent: str  # Rasa's gated intent
    rasa: RasaAnswers  # Rasa's FAQ answers, best first
    ranked: tuple[Match, ...]  # semantic ranking, best first

    @property
    def group(self) -> str:
        if self.label.startswith(FAQ_PREFIX):
            return GROUPS[0]
        return GROUPS[1] if self.label == OUT_OF_SCOPE else GROUPS[2]


@dataclass(frozen=True)
class Setup:
    semantic: bool  # the second stage on nlu_fallback
    verify: bool  # the semantic check of Rasa's confident FAQ answers
    thresholds: StageThresholds = THRESHOLDS

    @property
    def name(self) -> str:
        if not self.semantic:
            return "Rasa only (fallback menu)"
        return "Rasa + semantic stage" + (" + answer check" if self.verify else "")


def read_cases(parses_file: Path, search: SemanticFaqSearch) -> list[Case]:
    entries = json.loads(parses_file.read_text(encoding="utf-8"))["parses"]
    texts = [str(entry["text"]) for entry in entries]
    embeddings = search.encoder.encode_batch(texts, search.index.info.message_prompt)
    return [
        Case(
            text=entry["text"],
            label=entry["label"],
            intent=intent_name(entry["parse"]),
            rasa=RasaAnswers.from_parse(entry["parse"]),
            ranked=tuple(search.index.rank(embedding)),
        )
        for entry, embedding in zip(entries, embeddings)
    ]


def assistant_decision(case: Case, setup: Setup) -> Decision | str:
    """What the assistant does: a FAQ decision, or the name of another intent's response."""
    if case.intent in (FALLBACK_INTENT, RETRIEVAL_INTENT):
        ranked = case.ranked if setup.semantic else None
        return decide(case.intent, case.rasa, ranked, setup.verify, setup.thresholds)
    if case.intent in MENU_INTENTS:
        return Decision("menu", reason=case.intent)
    return case.intent


def outcome(case: Case, decision: Decision | str) -> str:
    if isinstance(decision, str):  # another intent's own response
        return RIGHT if decision == case.label else OTHER
    if decision.kind == ANSWER:
        return RIGHT if decision.labels == (case.label,) else WRONG
    if decision.kind == CLARIFY:
        return CLARIFY_RIGHT if case.label in decision.labels else CLARIFY_OTHER
    return RIGHT if case.label == "show_menu" else MENU


def tally(cases: Iterable[Case], setup: Setup) -> dict[str, dict[str, int]]:
    """Outcome counts per message group."""
    counts: dict[str, Counter[str]] = {group: Counter() for group in GROUPS}
    for case in cases:
        counts[case.group][outcome(case, assistant_decision(case, setup))] += 1
    return {group: {name: counter[name] for name in OUTCOMES} for group, counter in counts.items()}


def shares(counts: dict[str, int]) -> dict[str, float]:
    total = max(sum(counts.values()), 1)
    return {name: count / total for name, count in counts.items()}


def helped(counts: dict[str, int]) -> float:
    """FAQ questions answered right or offered the right topic."""
    return (counts[RIGHT] + counts[CLARIFY_RIGHT]) / max(sum(counts.values()), 1)


# ------------------------------------------------------------------ calibration


GRID: dict[str, tuple[float, ...]] = {
    "answer_min": (0.9, 0.91, 0.92, 0.93, 0.94, 1.0),
    "margin_min": (0.01, 0.015, 0.02, 0.03),
    "agree_min": (0.88, 0.89, 0.9, 0.91, 1.0),
    "agree_margin": (0.0, 0.005, 0.01, 0.015),
    "candidate_min": (0.86, 0.87, 0.88, 0.89),
    "window": (0.01, 0.015, 0.02, 0.03),
    "negative_lead": (0.0, 0.005, 0.01),
}
VERIFY: dict[str, tuple[float, ...]] = {
    "verify_window": (0.0, 0.002, 0.005, 0.0075, 0.01, 0.015, 1.0),
    "trust_min": (0.9, 0.95, 0.98, 1.01),
}


@dataclass(frozen=True)
class Candidate:
    thresholds: StageThresholds
    faq: dict[str, int]
    out_of_scope: dict[str, int]
    other: dict[str, int]

    def key(self) -> tuple[float, ...]:
        """Most FAQ questions helped, then most answered outright, then fewest non-FAQ messages
        given a FAQ answer or a "did you mean"."""
        misled = self.other[WRONG] + self.other[CLARIFY_OTHER]
        return (-round(helped(self.faq), 4), -self.faq[RIGHT], misled)


def calibrate(
    cases: Sequence[Case], max_wrong: float, verify: bool = True, limit: int = 10
) -> list[Candidate]:
    """Every grid point with FAQ wrong answers <= max_wrong and no out-of-scope message answered
    or offered a topic *by the second stage*, best first."""
    gated = [c for c in cases if c.intent == FALLBACK_INTENT]
    confident = [c for c in cases if c.intent != FALLBACK_INTENT]
    faq_total = sum(c.group == GROUPS[0] for c in cases)
    names = list(GRID)
    second_stage: list[tuple[dict[str, float], dict[str, dict[str, int]]]] = []
    for values in itertools.product(*(GRID[name] for name in names)):
        chosen = dict(zip(names, values))
        counts = tally(gated, Setup(True, verify, replace(THRESHOLDS, **chosen)))
        if not counts[GROUPS[1]][WRONG] and not counts[GROUPS[1]][CLARIFY_OTHER]:
            second_stage.append((chosen, counts))
    results: list[Candidate] = []
    checks = itertools.product(*VERIFY.values()) if verify else [(1.0, 1.01)]
    for verify_window, trust_min in checks:
        base = replace(THRESHOLDS, verify_window=verify_window, trust_min=trust_min)
        fixed = tally(confident, Setup(True, verify, base))
        for chosen, counts in second_stage:
            merged = {group: _add(fixed[group], counts[group]) for group in GROUPS}
            if merged[GROUPS[0]][WRONG] <= max_wrong * faq_total:
                t = replace(base, **chosen)
                results.append(Candidate(t, merged[GROUPS[0]], merged[GROUPS[1]], merged[GROUPS[2]]))
    results.sort(key=Candidate.key)
    return results[:limit]


def _add(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {name: a[name] + b[name] for name in OUTCOMES}


# ------------------------------------------------------------------ report


def format_table(results: dict[str, dict[str, dict[str, int]]]) -> str:
    short = ("right", "DYM right", "DYM other", "menu", "WRONG", "other")
    lines = []
    for group in GROUPS:
        n = sum(next(iter(results.values()))[group].values())
        lines.append(f"{group} (n={n})")
        lines.append(f"  {'':38}" + "".join(f"{name:>11}" for name in short))
        for setup_name, counts in results.items():
            row = shares(counts[group])
            lines.append(f"  {setup_name:38}" + "".join(f"{row[name]:>11.1%}" for name in OUTCOMES))
    return "\n".join(lines)


def format_candidates(found: Sequence[Candidate]) -> str:
    lines = []
    for c in found:
        t = c.thresholds
        faq = shares(c.faq)
        lines.append(
            f"  answer {t.answer_min:.3f}/{t.margin_min:.3f} agree {t.agree_min:.3f}/{t.agree_margin:.3f} "
            f"cand {t.candidate_min:.3f} win {t.window:.3f} neg {t.negative_lead:.3f} "
            f"verify {t.verify_window:.3f}/{t.trust_min:.2f} | "
            f"FAQ helped {helped(c.faq):.1%} (right {faq[RIGHT]:.1%}) "
            f"wrong {faq[WRONG]:.1%} menu {faq[MENU]:.1%} | out-of-scope menu "
            f"{shares(c.out_of_scope)[MENU]:.1%}"
        )
    return "\n".join(lines)


SETUPS = (Setup(False, False), Setup(True, False), Setup(True, True))
DEPLOYED = SETUPS[-1]  # what the action server does by default


def gate_metrics(faq: dict[str, int]) -> dict[str, float]:
    """The FAQ questions' shares the training gate decides on: right answer, "did you mean" with
    the right topic, wrong answer (another topic's answer or another intent's response), and the
    rest (menu, or "did you mean" without the right topic)."""
    n = max(sum(faq.values()), 1)
    return {
        "faq_right": faq[RIGHT] / n,
        "faq_clarified": faq[CLARIFY_RIGHT] / n,
        "faq_wrong": (faq[WRONG] + faq[OTHER]) / n,
        "faq_menu": (faq[MENU] + faq[CLARIFY_OTHER]) / n,
    }


def run(
    parses: Path, out: Path | None, calibrate_wrong: float | None, index: Path | None = None
) -> dict[str, Any]:
    if not parses.is_file():
        raise SystemExit(f"{parses} not found: run `make eval` (training.heldout_parse) first")
    cases = read_cases(parses, load_search(str(index_dir(index))))
    results = {setup.name: tally(cases, setup) for setup in SETUPS}
    text = "End to end on the held-out split (share of each group)\n" + format_table(results)
    text += f"\n\nthresholds in use: {THRESHOLDS}"
    faq = results[DEPLOYED.name][GROUPS[0]]
    report: dict[str, Any] = {
        "thresholds": asdict(THRESHOLDS),
        "results": results,
        "metrics": gate_metrics(faq),
        "faq_messages": sum(faq.values()),
    }
    if calibrate_wrong is not None:
        for verify in (False, True):
            found = calibrate(cases, calibrate_wrong, verify)
            title = "with the answer check" if verify else "fallback only"
            text += f"\n\nbest thresholds ({title}, FAQ wrong <= {calibrate_wrong:.1%}):\n"
            text += format_candidates(found) or "  none"
            report[f"calibration_{'verify' if verify else 'fallback_only'}"] = [
                {**asdict(c.thresholds), "faq": c.faq, "out_of_scope": c.out_of_scope, "other": c.other}
                for c in found
            ]
    print(text)
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / "end_to_end.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        (out / "end_to_end.md").write_text(f"# End to end\n\n```\n{text}\n```\n", encoding="utf-8")
        print(f"\nreport: {out / 'end_to_end.md'}", file=sys.stderr)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--parses", type=Path, default=Path("reports/eval/parses.json"))
    parser.add_argument("--out", type=Path, default=Path("reports/eval"))
    parser.add_argument(
        "--index", type=Path, default=None, help="the version's index (default: the live one)"
    )
    parser.add_argument(
        "--calibrate", type=float, default=None, metavar="MAX_WRONG", help="search thresholds too"
    )
    args = parser.parse_args(argv)
    run(args.parses, args.out, args.calibrate, args.index)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
