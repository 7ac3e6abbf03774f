"""``make eval``: how the newest model answers the held-out split.

Prints Rasa's FAQ right / wrong / fallback rates, routing accuracy over all messages, per-label
precision and recall and the worst confusions; writes ``report.md``, ``metrics.json``,
``parses.json`` (for ``actions.semantic.end_to_end``: what recipients get, and the calibration of
the thresholds) and ``confusion_matrix.png`` to the output folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from training.heldout import LabelledMessage, heldout_hash, read_labelled_messages
from training.outcomes import (
    Prediction,
    is_faq,
    prediction_from_parse,
    rates,
)

PARSE_KEYS = ("intent", "intent_ranking", "response_selector")


async def parse_all(model_path: Path, messages: list[LabelledMessage]) -> list[dict[str, Any]]:
    """Every message as ``Agent.parse_message`` parses it, in one run of the model's NLU graph.

    Message by message, each parse is a graph run of its own (plus Rasa's debug logging): the 572
    held-out messages took 140 s of CPU that way against 24 s in one run, with identical intents,
    rankings and answer selections (2 cores, 7 Dec 2026; the one-run figure needs the e5
    featurizer to embed a list in one call). The components take lists, so the parses are the
    same; the code below is ``MessageProcessor.parse_message`` for a list.
    """
    # heavy imports: only when a model is evaluated
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT

    from rasa_project import model_loading

    model_loading.install()  # as the Rasa server loads it: without tracing a training step
    agent = Agent.load(str(model_path))
    processor = agent.processor
    if processor is None or not messages:
        return [await agent.parse_message(message.text) for message in messages]
    target = processor.model_metadata.nlu_target
    inputs = {
        PLACEHOLDER_MESSAGE: [UserMessage(message.text) for message in messages],
        PLACEHOLDER_TRACKER: DialogueStateTracker.from_events("heldout", []),
    }
    parses = []
    for parsed in processor.graph_runner.run(inputs=inputs, targets=[target])[target]:
        parse = {TEXT: "", INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, ENTITIES: []}
        parse.update(parsed.as_dict(only_output_properties=True))
        processor._update_full_retrieval_intent(parse)
        parses.append(parse)
    return parses


def parse_records(messages: list[LabelledMessage], parses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parses as ``actions.semantic.end_to_end`` reads them: text, label, Rasa's parse."""
    return [
        {"text": m.text, "label": m.label, "parse": {k: parse.get(k) for k in PARSE_KEYS}}
        for m, parse in zip(messages, parses)
    ]


def latest_model(path: Path) -> Path:
    if path.is_file():
        return path
    models = sorted(path.glob("*.tar.gz"), key=lambda model: model.stat().st_mtime)
    if not models:
        raise SystemExit(f"No model in {path}: run `make train` first.")
    return models[-1]


def precision_recall(labels: list[str], predicted: list[str]) -> dict[str, dict[str, float]]:
    table = {}
    for label in sorted(set(labels)):
        hits = sum(1 for gold, guess in zip(labels, predicted) if gold == guess == label)
        guessed = sum(1 for guess in predicted if guess == label)
        support = sum(1 for gold in labels if gold == label)
        table[label] = {
            "precision": hits / guessed if guessed else 0.0,
            "recall": hits / support if support else 0.0,
            "support": support,
        }
    return table


def summarise(messages: list[LabelledMessage], predictions: list[Prediction]) -> dict[str, Any]:
    labels = [message.label for message in messages]
    gated = [prediction.gated for prediction in predictions]
    raw = [prediction.raw for prediction in predictions]
    faq = [i for i, label in enumerate(labels) if is_faq(label)]
    confusions = Counter((gold, guess) for gold, guess in zip(labels, raw) if gold != guess).most_common(15)
    return {
        "messages": len(labels),
        "faq_answers": asdict(rates([labels[i] for i in faq], [gated[i] for i in faq])),
        "all_messages_gated": asdict(rates(labels, gated)),
        "routing_accuracy_raw": sum(g == r for g, r in zip(labels, raw)) / max(len(labels), 1),
        "per_label": precision_recall(labels, gated),
        "worst_confusions_raw": [
            {"label": gold, "predicted": guess, "count": n} for (gold, guess), n in confusions
        ],
    }


def plot_confusion(labels: list[str], predicted: list[str], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = sorted(set(labels) | set(predicted))
    index = {name: i for i, name in enumerate(names)}
    matrix = np.zeros((len(names), len(names)), dtype=int)
    for gold, guess in zip(labels, predicted):
        matrix[index[gold], index[guess]] += 1
    figure, axes = plt.subplots(figsize=(16, 14))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    axes.set_yticks(range(len(names)), names, fontsize=7)
    axes.set_xlabel("predicted (gated)")
    axes.set_ylabel("label")
    for (row, column), value in np.ndenumerate(matrix):
        if value:
            axes.text(column, row, str(value), ha="center", va="center", fontsize=6)
    figure.tight_layout()
    figure.savefig(target, dpi=110)
    plt.close(figure)


def format_summary(summary: dict[str, Any]) -> str:
    faq = summary["faq_answers"]
    every = summary["all_messages_gated"]
    lines = [
        f"held-out messages: {summary['messages']} (FAQ questions: {faq['count']})",
        f"FAQ questions   right answer {faq['right']:.1%}   wrong answer {faq['wrong']:.1%}"
        f"   fallback {faq['fallback']:.1%}",
        f"all messages    right {every['right']:.1%}   wrong {every['wrong']:.1%}"
        f"   fallback {every['fallback']:.1%}",
        f"routing accuracy without the fallback gates: {summary['routing_accuracy_raw']:.1%}",
        "",
        "weakest labels (gated):  label  precision  recall  support",
    ]
    per_label = sorted(summary["per_label"].items(), key=lambda item: item[1]["recall"])
    for label, scores in per_label[:12]:
        lines.append(f"  {label:32s} {scores['precision']:.2f}  {scores['recall']:.2f}  {scores['support']}")
    lines.append("")
    lines.append("worst confusions (raw routing):  label -> predicted  count")
    for confusion in summary["worst_confusions_raw"]:
        lines.append(f"  {confusion['label']} -> {confusion['predicted']}  {confusion['count']}")
    return "\n".join(lines)


def evaluate(model: Path, heldout: Path, out: Path) -> dict[str, Any]:
    messages = read_labelled_messages(heldout)
    model_path = latest_model(model)
    parses = asyncio.run(parse_all(model_path, messages))
    predictions = [prediction_from_parse(parse) for parse in parses]
    summary = summarise(messages, predictions)
    summary["model"] = model_path.name
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    errors = [
        {"text": m.text, "label": m.label, "gated": p.gated, "raw": p.raw}
        for m, p in zip(messages, predictions)
        if p.gated != m.label
    ]
    (out / "errors.json").write_text(json.dumps(errors, indent=2, ensure_ascii=False), "utf-8")
    # every parse, for evaluations downstream of NLU (e.g. the action server's second stage)
    parsed = {"heldout_hash": heldout_hash(heldout), "parses": parse_records(messages, parses)}
    (out / "parses.json").write_text(json.dumps(parsed, ensure_ascii=False), "utf-8")
    plot_confusion([m.label for m in messages], [p.gated for p in predictions], out / "confusion_matrix.png")
    text = format_summary(summary)
    (out / "report.md").write_text(
        f"# Held-out evaluation of {model_path.name}\n\n```\n{text}\n```\n\n"
        "![confusion matrix](confusion_matrix.png)\n",
        encoding="utf-8",
    )
    print(text)
    print(f"\nreport: {out / 'report.md'}")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=Path("models"))
    parser.add_argument("--heldout", type=Path, default=Path("data/heldout"))
    parser.add_argument("--out", type=Path, default=Path("reports/eval"))
    args = parser.parse_args()
    evaluate(args.model, args.heldout, args.out)


if __name__ == "__main__":
    main()
