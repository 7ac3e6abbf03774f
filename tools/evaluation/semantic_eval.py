"""How well the semantic FAQ search alone does on the held-out split, and where its thresholds lie.

Runs in the actions environment (sentence-transformers), unlike the rest of tools/evaluation:

    HF_HUB_OFFLINE=1 PYTHONPATH=. .venvs/actions/bin/python -m tools.evaluation.semantic_eval

For every variant (message/example prompt scheme, with and without the e5 ``query: ``/``passage: ``
prefixes; per-label score = mean of the k best example cosines; non-FAQ intents indexed as
negatives or not; centred or raw embeddings) it reports top-1/top-3 topic accuracy over the
held-out FAQ messages and the best outcome of the action's decision (``faq_index.decide``) under
the safety constraints. For the best variant it prints score and margin bands of right vs wrong
top-1, the best thresholds, and the latency of one message on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from actions.semantic.encoder import (
    DEFAULT_EXAMPLE_PROMPT,
    DEFAULT_MESSAGE_PROMPT,
    PASSAGE_PROMPT,
    QUERY_PROMPT,
    Encoder,
    configured_model,
    load_encoder,
)
from actions.semantic.faq_index import (
    DEFAULT_CENTER,
    DEFAULT_TOP_K,
    FAQ_PREFIX,
    SUGGESTED_THRESHOLDS,
    Example,
    FaqIndex,
    Match,
    SemanticFaqSearch,
    Thresholds,
    build_index,
    decide,
    index_info,
    nlu_files,
    read_examples,
)

PROMPT_SCHEMES: dict[str, tuple[str, str]] = {  # name -> (message prompt, example prompt)
    "none": ("", ""),
    "query/passage": (QUERY_PROMPT, PASSAGE_PROMPT),
    "query/query": (QUERY_PROMPT, QUERY_PROMPT),
}
TOP_KS = (1, 2, 3, 5)
OUT_OF_SCOPE = "out_of_scope"
MARGINS = (0.005, 0.01, 0.015, 0.02, 0.025, 0.03)


@dataclass(frozen=True)
class Variant:
    scheme: str
    top_k: int
    negatives: bool
    center: bool

    @property
    def name(self) -> str:
        flags = f"{'+neg' if self.negatives else 'faq-only'} {'centred' if self.center else 'raw'}"
        return f"prompts {self.scheme}, k={self.top_k}, {flags}"


@dataclass
class Run:
    """Ranked labels for every held-out message under one variant."""

    variant: Variant
    gold: list[str]
    ranked: list[list[Match]]

    def accuracy(self, n: int) -> float:
        rows = [i for i, label in enumerate(self.gold) if label.startswith(FAQ_PREFIX)]
        return sum(self.gold[i] in [m.label for m in self.ranked[i][:n]] for i in rows) / len(rows)

    def non_faq_top1_faq(self) -> float:
        """Share of non-FAQ messages (greet, out_of_scope, ...) whose best label is a FAQ topic."""
        rows = [i for i, label in enumerate(self.gold) if not label.startswith(FAQ_PREFIX)]
        return sum(self.ranked[i][0].is_faq for i in rows) / max(len(rows), 1)


@dataclass(frozen=True)
class Outcome:
    """Shares of FAQ messages (faq_*) and of non-FAQ messages under one set of thresholds."""

    faq_right: float  # answered with the right topic
    faq_clarify_right: float  # "did you mean" that offers the right topic
    faq_clarify_wrong: float  # "did you mean" without it
    faq_menu: float
    faq_wrong: float  # answered with a wrong topic
    oos_answered: float  # out_of_scope answered with a FAQ
    oos_clarified: float
    other_answered: float  # other non-FAQ intents answered with a FAQ

    @property
    def helped(self) -> float:
        return self.faq_right + self.faq_clarify_right


# ------------------------------------------------------------------ ranking


def run_variants(
    encoder: Encoder,
    train: list[Example],
    heldout: list[Example],
    files: list[Path],
    model: str,
    schemes: Sequence[str] = tuple(PROMPT_SCHEMES),
) -> tuple[list[Run], dict[str, FaqIndex], dict[str, float]]:
    """Every variant; each text set is encoded once per prompt. Also returns the full (raw, +neg)
    index per scheme and the seconds it took to encode the training examples."""
    gold = [ex.label for ex in heldout]
    runs: list[Run] = []
    indexes: dict[str, FaqIndex] = {}
    seconds: dict[str, float] = {}
    for scheme in schemes:
        message_prompt, example_prompt = PROMPT_SCHEMES[scheme]
        info = index_info(
            encoder.fingerprint, model, files, example_prompt, message_prompt, 1, True, center=False
        )
        started = time.perf_counter()
        indexes[scheme] = build_index(train, encoder, info)
        seconds[scheme] = time.perf_counter() - started
        messages = encoder.encode([ex.text for ex in heldout], message_prompt)
        for negatives in (True, False):
            for center in (False, True):
                index = variant_index(indexes[scheme], negatives, center)
                for k in TOP_KS:
                    ranked = [index.rank(row, k) for row in messages]
                    runs.append(Run(Variant(scheme, k, negatives, center), gold, ranked))
    return runs, indexes, seconds


def variant_index(full: FaqIndex, negatives: bool, center: bool, top_k: int = 1) -> FaqIndex:
    """The same encoded examples, with or without negatives and centring (no re-encoding)."""
    rows = [i for i, label in enumerate(full.labels) if negatives or label.startswith(FAQ_PREFIX)]
    info = replace(full.info, include_negatives=negatives, center=center, top_k=top_k)
    return FaqIndex(
        full.embeddings[rows], [full.labels[i] for i in rows], [full.texts[i] for i in rows], info
    )


# ------------------------------------------------------------------ thresholds


@dataclass
class TopThree:
    """The three best labels of every message, as arrays, for a vectorised threshold search."""

    scores: np.ndarray  # (n, 3)
    faq: np.ndarray  # (n, 3) label is a FAQ topic
    hit: np.ndarray  # (n, 3) label is the gold label
    faq_message: np.ndarray  # (n,)
    oos_message: np.ndarray
    other_message: np.ndarray

    @classmethod
    def of(cls, run: Run) -> TopThree:
        top = [ranked[:3] for ranked in run.ranked]
        gold = run.gold
        return cls(
            np.array([[m.score for m in row] for row in top]),
            np.array([[m.is_faq for m in row] for row in top]),
            np.array([[m.label == g for m in row] for row, g in zip(top, gold)]),
            np.array([g.startswith(FAQ_PREFIX) for g in gold]),
            np.array([g == OUT_OF_SCOPE for g in gold]),
            np.array([not g.startswith(FAQ_PREFIX) and g != OUT_OF_SCOPE for g in gold]),
        )


def threshold_grid(top: TopThree) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Candidate values from the data's own quantiles, so raw and centred scores get equal care."""
    faq_top1 = top.scores[top.faq_message, 0]
    margins = top.scores[:, 0] - top.scores[:, 1]
    spread = top.scores[:, 0] - top.scores[:, 2]
    answer = np.unique(np.round(np.quantile(faq_top1, np.linspace(0.0, 0.98, 50)), 3))
    margin = np.unique(np.round(np.quantile(margins, np.linspace(0.0, 0.9, 19)), 3))
    candidate = np.unique(np.round(np.quantile(faq_top1, np.linspace(0.0, 0.9, 31)), 3))
    window = np.unique(np.round(np.quantile(spread, [0.25, 0.5, 0.75, 0.9, 1.0]), 3))
    return answer, margin, candidate, window


def search_thresholds(run: Run, max_wrong: float) -> list[tuple[Thresholds, Outcome]]:
    """Every grid point with FAQ wrong answers <= max_wrong and no out_of_scope message answered or
    clarified, best first: most FAQ messages helped, then most answered outright, then strictest.

    Mirrors ``faq_index.decide`` with matrix products over (answer, margin) x (candidate, window).
    """
    top = TopThree.of(run)
    s, f = top.scores, top.faq
    answer, margin, candidate, window = threshold_grid(top)
    am = [(a, m) for a in answer for m in margin]
    cw = [(c, w) for c in candidate for w in window]
    answers = np.array([f[:, 0] & (s[:, 0] >= a) & (s[:, 0] - s[:, 1] >= m) for a, m in am])
    options = np.array([f & (s >= c) & (s >= s[:, :1] - w) for c, w in cw])  # (cw, n, 3)
    offered = (options.any(axis=2) & f[:, 0]).astype(float)
    offered_right = ((options & top.hit).any(axis=2) & f[:, 0]).astype(float)
    not_answered = (~answers).astype(float)
    n_faq, n_oos, n_other = (
        max(int(x.sum()), 1) for x in (top.faq_message, top.oos_message, top.other_message)
    )
    right = (answers & top.hit[:, 0] & top.faq_message).sum(1) / n_faq
    wrong = (answers & ~top.hit[:, 0] & top.faq_message).sum(1) / n_faq
    clar_right = (not_answered * top.faq_message) @ offered_right.T / n_faq
    clar_any = (not_answered * top.faq_message) @ offered.T / n_faq
    oos_answered = (answers & top.oos_message).sum(1) / n_oos
    oos_clarified = (not_answered * top.oos_message) @ offered.T / n_oos
    other_answered = (answers & top.other_message).sum(1) / n_other
    results: list[tuple[Thresholds, Outcome]] = []
    for i, j in zip(
        *np.nonzero((wrong <= max_wrong)[:, None] & (oos_answered == 0)[:, None] & (oos_clarified == 0))
    ):
        (a, m), (c, w) = am[i], cw[j]
        shares = (
            right[i],
            clar_right[i, j],
            clar_any[i, j] - clar_right[i, j],
            1 - right[i] - wrong[i] - clar_any[i, j],
            wrong[i],
            oos_answered[i],
            oos_clarified[i, j],
            other_answered[i],
        )
        outcome = Outcome(*(round(float(x), 6) for x in shares))
        results.append((Thresholds(float(a), float(m), float(c), float(w)), outcome))
    results.sort(
        key=lambda r: (-round(r[1].helped, 6), -round(r[1].faq_right, 6), -r[0].answer_min, -r[0].margin_min)
    )
    return results


def outcome(run: Run, t: Thresholds) -> Outcome:
    """The decision's outcome, message by message (the reference for the vectorised search)."""
    counts = dict.fromkeys(("right", "clar_right", "clar_wrong", "menu", "wrong", "oos_ans", "oos_clar"), 0)
    counts["other_ans"] = 0
    totals = {"faq": 0, "oos": 0, "other": 0}
    for gold, ranked in zip(run.gold, run.ranked):
        kind, matches = decide(ranked, t)
        labels = [m.label for m in matches]
        if gold.startswith(FAQ_PREFIX):
            totals["faq"] += 1
            if kind == "answer":
                counts["right" if labels == [gold] else "wrong"] += 1
            else:
                counts["menu" if kind == "menu" else "clar_right" if gold in labels else "clar_wrong"] += 1
        elif gold == OUT_OF_SCOPE:
            totals["oos"] += 1
            counts["oos_ans"] += kind == "answer"
            counts["oos_clar"] += kind == "clarify"
        else:
            totals["other"] += 1
            counts["other_ans"] += kind == "answer"
    f, o, r = (max(totals[key], 1) for key in ("faq", "oos", "other"))
    shares = (
        counts["right"] / f,
        counts["clar_right"] / f,
        counts["clar_wrong"] / f,
        counts["menu"] / f,
        counts["wrong"] / f,
        counts["oos_ans"] / o,
        counts["oos_clar"] / o,
        counts["other_ans"] / r,
    )
    return Outcome(*(round(x, 6) for x in shares))


def default_run(runs: list[Run]) -> Run | None:
    """The run with the settings ``build_semantic_index`` uses by default."""
    wanted = ((DEFAULT_MESSAGE_PROMPT, DEFAULT_EXAMPLE_PROMPT), DEFAULT_TOP_K, True, DEFAULT_CENTER)
    for run in runs:
        v = run.variant
        if (PROMPT_SCHEMES[v.scheme], v.top_k, v.negatives, v.center) == wanted:
            return run
    return None


# ------------------------------------------------------------------ bands and latency


def band(values: Sequence[float]) -> str:
    """n, min / p10 / median / p90 / max."""
    if not values:
        return "n=0"
    p10, p50, p90 = np.percentile(values, [10, 50, 90])
    return f"n={len(values):<3}  {min(values):.3f} / {p10:.3f} / {p50:.3f} / {p90:.3f} / {max(values):.3f}"


def score_bands(run: Run) -> dict[str, str]:
    """Top-1 score and margin of right vs wrong FAQ top-1, and the best FAQ score of non-FAQ messages."""
    groups: dict[str, list[float]] = {
        name: []
        for name in (
            "top-1 score, right top-1",
            "top-1 score, wrong top-1",
            "margin top1-top2, right",
            "margin top1-top2, wrong",
            "best FAQ score, out_of_scope",
            "best FAQ score, other non-FAQ",
        )
    }
    for gold, ranked in zip(run.gold, run.ranked):
        if gold.startswith(FAQ_PREFIX):
            verdict = "right" if ranked[0].label == gold else "wrong"
            groups[f"top-1 score, {verdict} top-1"].append(ranked[0].score)
            groups[f"margin top1-top2, {verdict}"].append(ranked[0].score - ranked[1].score)
        else:
            best_faq = next((m.score for m in ranked if m.is_faq), float("nan"))
            groups[
                "best FAQ score, out_of_scope" if gold == OUT_OF_SCOPE else "best FAQ score, other non-FAQ"
            ].append(best_faq)
    return {name: band(values) for name, values in groups.items()}


def latency_ms(search: SemanticFaqSearch, texts: Sequence[str], repeats: int) -> dict[str, float]:
    """p50/p95 of one message, sequentially: encoding alone, and encoding + ranking."""
    for text in texts[:5]:
        search.search(text)  # warm-up
    encode, total = [], []
    for text in list(texts) * repeats:
        start = time.perf_counter()
        embedding = search.encoder.encode_one(text, search.index.info.message_prompt)
        middle = time.perf_counter()
        search.index.rank(embedding)
        encode.append((middle - start) * 1000)
        total.append((time.perf_counter() - start) * 1000)
    return {
        "encode_p50": float(np.percentile(encode, 50)),
        "encode_p95": float(np.percentile(encode, 95)),
        "search_p50": float(np.percentile(total, 50)),
        "search_p95": float(np.percentile(total, 95)),
        "runs": len(total),
    }


# ------------------------------------------------------------------ report


def summarise(runs: list[Run], max_wrong: float) -> list[dict[str, Any]]:
    rows = []
    for run in runs:
        feasible = search_thresholds(run, max_wrong)
        best = feasible[0][1] if feasible else None
        rows.append(
            {
                **asdict(run.variant),
                "top1": run.accuracy(1),
                "top3": run.accuracy(3),
                "non_faq_top1_faq": run.non_faq_top1_faq(),
                "helped": best.helped if best else 0.0,
                "answered_right": best.faq_right if best else 0.0,
                "wrong": best.faq_wrong if best else 0.0,
            }
        )
    return rows


def print_summary(rows: list[dict[str, Any]], max_wrong: float) -> None:
    print("\nHeld-out FAQ messages: topic accuracy of the ranking, and the best decision outcome")
    print(
        f"(decision = faq_index.decide; constraints: FAQ wrong <= {max_wrong:.1%}, "
        "out_of_scope never answered/clarified)"
    )
    print(
        f"{'prompts msg/example':<20}{'k':>2} {'index':<9}{'space':<8}{'top-1':>7}{'top-3':>7}"
        f"{'nonFAQ->FAQ':>12}{'helped':>8}{'answered':>9}{'wrong':>7}"
    )
    for r in rows:
        print(
            f"{r['scheme']:<20}{r['top_k']:>2} {'+neg' if r['negatives'] else 'faq-only':<9}"
            f"{'centred' if r['center'] else 'raw':<8}{r['top1']:>7.1%}{r['top3']:>7.1%}"
            f"{r['non_faq_top1_faq']:>12.1%}"
            f"{r['helped']:>8.1%}{r['answered_right']:>9.1%}{r['wrong']:>7.1%}"
        )


def print_thresholds(feasible: list[tuple[Thresholds, Outcome]], limit: int) -> None:
    for t, o in feasible[:limit]:
        print(
            f"  answer>={t.answer_min:.3f} margin>={t.margin_min:.3f} cand>={t.candidate_min:.3f} "
            f"window {t.window:.3f} | right {o.faq_right:5.1%} clarify+right {o.faq_clarify_right:5.1%} "
            f"clarify-wrong {o.faq_clarify_wrong:5.1%} menu {o.faq_menu:5.1%} WRONG {o.faq_wrong:4.1%} "
            f"| oos answered {o.oos_answered:3.0%} clarified {o.oos_clarified:3.0%} "
            f"| other non-FAQ answered {o.other_answered:4.1%}"
        )


def pick(runs: list[Run], rows: list[dict[str, Any]]) -> Run:
    """Most FAQ messages helped under the constraints; then top-1, then top-3."""
    best = max(
        range(len(runs)), key=lambda i: (round(rows[i]["helped"], 4), rows[i]["top1"], rows[i]["top3"])
    )
    return runs[best]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--train", type=Path, default=Path("data/nlu"))
    parser.add_argument("--heldout", type=Path, default=Path("data/heldout"))
    parser.add_argument("--model", default=None, help="model folder or name (default: the configured model)")
    parser.add_argument(
        "--max-wrong", type=float, default=0.01, help="FAQ wrong-answer budget for thresholds"
    )
    parser.add_argument(
        "--schemes", nargs="+", choices=tuple(PROMPT_SCHEMES), default=list(PROMPT_SCHEMES), help="prompts"
    )
    parser.add_argument("--latency-runs", type=int, default=200)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    model = args.model or configured_model()
    started = time.perf_counter()
    encoder = load_encoder(model)
    print(
        f"model {encoder.model_ref} [{encoder.fingerprint}] loaded in {time.perf_counter() - started:.1f} s"
    )
    files = nlu_files(args.train)
    train, heldout = read_examples(files), read_examples(nlu_files(args.heldout))
    faq_heldout = [ex.text for ex in heldout if ex.label.startswith(FAQ_PREFIX)]
    print(f"training examples {len(train)}; held-out messages {len(heldout)} ({len(faq_heldout)} FAQ)")

    runs, indexes, encode_seconds = run_variants(encoder, train, heldout, files, model, args.schemes)
    rows = summarise(runs, args.max_wrong)
    print_summary(rows, args.max_wrong)

    best = pick(runs, rows)
    print(f"\nBest variant: {best.variant.name}")
    bands = score_bands(best)
    print("Score bands (n, min / p10 / median / p90 / max):")
    for name, value in bands.items():
        print(f"  {name:<32} {value}")
    feasible = search_thresholds(best, args.max_wrong)
    print("Best thresholds:")
    print_thresholds(feasible, 6)
    if feasible:
        print("Trading direct answers for clarifications (best thresholds, other margins):")
        print_thresholds(
            [(t, outcome(best, t)) for t in (replace(feasible[0][0], margin_min=m) for m in MARGINS)], 9
        )
    default = default_run(runs)
    if default:
        print(
            "Suggested thresholds (faq_index.SUGGESTED_THRESHOLDS) with the default index settings, "
            f"{default.variant.name}:"
        )
        print_thresholds([(SUGGESTED_THRESHOLDS, outcome(default, SUGGESTED_THRESHOLDS))], 1)

    v = (default or best).variant  # latency of what build_semantic_index builds by default
    index = variant_index(indexes[v.scheme], v.negatives, v.center, v.top_k)
    search = SemanticFaqSearch(index, encoder)
    print(f"\nIndex build: encoding {len(train)} examples took {encode_seconds[v.scheme]:.1f} s")
    latency = {}
    for threads in (2, 1):
        latency[threads] = measure_with_threads(search, faq_heldout, args.latency_runs, threads)
    if args.json:
        payload = {
            "variants": rows,
            "best_variant": asdict(v),
            "score_bands": bands,
            "thresholds": [{**asdict(t), **asdict(o)} for t, o in feasible[:20]],
            "latency_ms": latency,
            "index_encode_seconds": encode_seconds,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


def measure_with_threads(
    search: SemanticFaqSearch, texts: list[str], runs: int, threads: int
) -> dict[str, float]:
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        load_before = os.getloadavg()[0]
        result = latency_ms(search, texts[:runs], max(1, runs // max(len(texts), 1)))
    finally:
        torch.set_num_threads(previous)
    print(
        f"Latency of one message, torch threads {threads} "
        f"({result['runs']} runs, load avg {load_before:.1f}): "
        f"encode p50 {result['encode_p50']:.1f} ms, p95 {result['encode_p95']:.1f} ms; "
        f"encode+rank p50 {result['search_p50']:.1f} ms, p95 {result['search_p95']:.1f} ms"
    )
    return {**result, "load_avg": load_before}


if __name__ == "__main__":
    raise SystemExit(main())
