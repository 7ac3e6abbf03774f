"""``make ablation``: which NLU pipeline, measured on the held-out split.

Trains NLU-only models for Rasa's default ``rasa init`` pipeline, our pipeline,
our pipeline with the spaCy component swapped for WhitespaceTokenizer, and ours
without the answer ensemble; evaluates each like ``make eval``; prints one table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import yaml

from training.heldout_parse import evaluate

ROOT = Path(__file__).resolve().parents[1]
OUR_CONFIG = ROOT / "rasa_project" / "config.yml"
SPACY_TOKENIZER = "rasa_project.components.indonesian_tokenizer.IndonesianSpacyTokenizer"
ANSWER_ENSEMBLE = "rasa_project.components.answer_ensemble.AnswerEnsembleClassifier"


def variant_of_ours(target: Path, component: str, replacement: dict[str, str] | None) -> Path:
    """Our config with one component swapped for ``replacement`` (or dropped when None)."""
    config = yaml.safe_load(OUR_CONFIG.read_text(encoding="utf-8"))
    pipeline = []
    for step in config["pipeline"]:
        if step["name"] != component:
            pipeline.append(step)
        elif replacement is not None:
            pipeline.append(replacement)
    config["pipeline"] = pipeline
    target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return target


def train_nlu(config: Path, out: Path, name: str) -> tuple[Path, float]:
    started = time.monotonic()
    subprocess.run(
        [
            str(Path(sys.executable).parent / "rasa"),
            "train",
            "nlu",
            "--config",
            str(config),
            "--nlu",
            str(ROOT / "data" / "nlu"),
            "--domain",
            str(ROOT / "rasa_project" / "domain"),
            "--out",
            str(out),
            "--fixed-model-name",
            name,
        ],
        check=True,
        cwd=ROOT,
    )
    return out / f"{name}.tar.gz", time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--heldout", type=Path, default=Path("data/heldout"))
    parser.add_argument("--out", type=Path, default=Path("reports/ablation"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    variants = {
        "rasa init default": ROOT / "training" / "configs" / "rasa_init_default.yml",
        "TanyaVaksin": OUR_CONFIG,
        "TanyaVaksin without spaCy component": variant_of_ours(
            args.out / "config_without_spacy.yml", SPACY_TOKENIZER, {"name": "WhitespaceTokenizer"}
        ),
        "TanyaVaksin without answer ensemble": variant_of_ours(
            args.out / "config_without_ensemble.yml", ANSWER_ENSEMBLE, None
        ),
    }
    rows = []
    for index, (label, config) in enumerate(variants.items()):
        model, seconds = train_nlu(config, args.out / "models", f"variant{index}")
        summary = evaluate(model, args.heldout, args.out / f"variant{index}")
        faq = summary["faq_answers"]
        rows.append(
            {
                "pipeline": label,
                "faq_right": faq["right"],
                "faq_wrong": faq["wrong"],
                "faq_fallback": faq["fallback"],
                "all_right_gated": summary["all_messages_gated"]["right"],
                "routing_raw": summary["routing_accuracy_raw"],
                "train_seconds": round(seconds),
            }
        )
    (args.out / "ablation.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    header = (
        "| pipeline | FAQ right | FAQ wrong | FAQ fallback | all right (gated) | routing (raw) | train s |"
    )
    lines = [header, "|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(
            f"| {row['pipeline']} | {row['faq_right']:.1%} | {row['faq_wrong']:.1%} | "
            f"{row['faq_fallback']:.1%} | {row['all_right_gated']:.1%} | {row['routing_raw']:.1%} | "
            f"{row['train_seconds']} |"
        )
    table = "\n".join(lines)
    (args.out / "ablation.md").write_text(table + "\n", encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
