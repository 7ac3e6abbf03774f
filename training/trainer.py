"""The commands behind ``python -m training``: train with the gate, roll back, activate,
list and predict. Runs in the Rasa env; Rasa itself is called as a subprocess (like ``make``
did) so training logs stream and Rasa's cache (``.rasa/cache`` under the working directory)
keeps working.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from training import registry as reg
from training.evaluation import (
    Evaluation,
    evaluate_model,
    heldout_hash,
    quiet_rasa,
    read_sidecar,
    write_sidecar,
)
from training.gate import Decision, decide, percent, tolerance_for
from training.hashing import config_hash, data_hash
from training.heldout import LabelledMessage, read_labelled_messages
from training.heldout_parse import parse_all
from training.hotswap import hot_swap
from training.outcomes import is_faq, prediction_from_parse

ROOT = Path(__file__).resolve().parents[1]
EXIT_REFUSED_STRICT = 3
HAND_REASON = "activated by hand"

Echo = Callable[[str], None]


@dataclass(frozen=True)
class TrainOptions:
    config: Path
    domain: Path
    data: list[Path]
    heldout: Path
    models: Path
    force: bool = False
    strict: bool = False


def rasa_command() -> list[str]:
    """The ``rasa`` CLI of the interpreter running this (the Rasa env)."""
    return [str(Path(sys.executable).parent / "rasa")]


def rasa_environment() -> dict[str, str]:
    """Rasa must import the project's components (``rasa_project.components...``)."""
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


def run_rasa(arguments: Sequence[str]) -> int:
    return subprocess.run([*rasa_command(), *arguments], env=rasa_environment(), check=False).returncode


def validate(options: TrainOptions) -> int:
    return run_rasa(
        [
            "data", "validate", "--fail-on-warnings",
            "--config", str(options.config),
            "--domain", str(options.domain),
            "--data", *map(str, options.data),
        ]
    )  # fmt: skip


def missing_answers(data: Sequence[Path], domain: Path) -> list[str]:
    """FAQ topics of the training data without an ``utter_faq/<topic>`` answer in the domain.

    ``rasa data validate`` lets them through (a retrieval intent's sub-key is no domain intent),
    yet the assistant would pick the topic and have nothing to say: e.g. a typo in a reviewed
    example's topic.
    """
    topics = {m.label for path in data for m in read_labelled_messages(path) if is_faq(m.label)}
    domain_files = sorted(domain.rglob("*.yml")) if domain.is_dir() else [domain]
    responses: set[str] = set()
    for file in domain_files:
        responses.update((yaml.safe_load(file.read_text(encoding="utf-8")) or {}).get("responses") or {})
    return sorted(topic for topic in topics if f"utter_{topic}" not in responses)


def new_model_id(models: Path, registry: reg.Registry, now: datetime | None = None) -> str:
    """A UTC timestamp, made unique against the archive and the registry."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    taken = {model.id for model in registry.models}
    model_id, n = stamp, 1
    while model_id in taken or (models / reg.archive_file(model_id)).exists():
        n += 1
        model_id = f"{stamp}-{n}"
    return model_id


def train_model(options: TrainOptions, model_id: str) -> int:
    """``rasa train`` straight into the archive, under the model's id."""
    return run_rasa(
        [
            "train",
            "--config", str(options.config),
            "--domain", str(options.domain),
            "--data", *map(str, options.data),
            "--out", str(options.models / reg.ARCHIVE_DIR),
            "--fixed-model-name", model_id,
            "--skip-validation",  # validate() just ran the same checks, stricter
        ]
    )  # fmt: skip


def evaluation_of(model_file: Path, heldout: Path, echo: Echo) -> Evaluation:
    """The stored evaluation when it was made on this held-out split, else a new one."""
    stored = read_sidecar(model_file)
    if stored is not None and stored.heldout_hash == heldout_hash(heldout):
        return stored
    echo(f"evaluating {model_file.name} on {heldout}")
    evaluation = evaluate_model(model_file, heldout)
    write_sidecar(model_file, evaluation)
    return evaluation


def describe_metrics(metrics: dict[str, float]) -> str:
    return (
        f"FAQ right {percent(metrics['faq_right'])}, wrong {percent(metrics['faq_wrong'])}, "
        f"fallback {percent(metrics['faq_fallback'])}; all messages right {percent(metrics['all_right'])}; "
        f"routing {percent(metrics['routing'])}"
    )


def activate_on_disk(models: Path, registry: reg.Registry, model_id: str, reason: str, echo: Echo) -> None:
    """Registry change and ``live.tar.gz`` link together (inside ``reg.update``)."""
    for moved in reg.move_stray_models(models):
        echo(f"moved {moved.name}, trained before the registry, to {moved.parent} so Rasa cannot pick it")
    registry.activate(model_id, reason)
    reg.point_live(models, registry.entry(model_id))


def report_swap(models: Path, model: reg.ModelEntry, echo: Echo) -> None:
    echo(hot_swap(model.path(models)).message)


def relink_if_needed(models: Path, registry: reg.Registry, echo: Echo) -> None:
    """``make clean`` deletes ``models/*.tar.gz``, the link included: bring it back."""
    live = registry.live_entry()
    if live is None or reg.live_target(models) == live.path(models).resolve():
        return
    with reg.update(models) as current:
        if current.live == live.id:
            reg.move_stray_models(models)
            reg.point_live(models, current.entry(live.id))
            echo(f"{reg.LIVE_LINK} pointed at {live.file} again")


def train(options: TrainOptions, echo: Echo = print) -> int:
    """Validate, train, evaluate, gate, record, activate (the rule: ``training/gate.py``).

    Exit codes: 0 live, refused or nothing to do; 1 invalid data or failed training; 3 refused
    with ``--strict``.
    """
    models = options.models
    if validate(options) != 0:
        echo("training data validation failed (rasa data validate --fail-on-warnings): not training")
        return 1
    unanswered = missing_answers(options.data, options.domain)
    if unanswered:
        topics = ", ".join(unanswered)
        echo(f"FAQ topics without an utter_<topic> answer in the domain: {topics}; not training")
        return 1
    hashes = (data_hash(options.data, options.domain), config_hash(options.config, ROOT))
    registry = reg.load(models)
    same = [model for model in registry.same_inputs(*hashes) if model.path(models).is_file()]
    if same and not options.force:
        previous = next((model for model in same if model.id == registry.live), same[0])
        if previous.id == registry.live:
            relink_if_needed(models, registry, echo)
            echo(f"up to date: live model {previous.id} is from this data and config (--force retrains)")
            return 0
        echo(
            f"not retraining: {previous.id} was trained from this data and config and is {previous.status}"
            f" ({previous.reason}); live stays {registry.live}. `activate {previous.id}` makes it live,"
            " --force retrains"
        )
        return EXIT_REFUSED_STRICT if options.strict and previous.status == reg.REFUSED else 0

    started = datetime.now(timezone.utc)
    model_id = new_model_id(models, registry, started)
    (models / reg.ARCHIVE_DIR).mkdir(parents=True, exist_ok=True)
    code = train_model(options, model_id)
    model_file = models / reg.archive_file(model_id)
    if code != 0 or not model_file.is_file():
        echo(f"rasa train failed (exit code {code}): nothing recorded")
        return code or 1

    candidate = evaluation_of(model_file, options.heldout, echo)
    echo(f"candidate {model_id}: {describe_metrics(candidate.metrics)}")
    live_before = registry.live_entry()
    live_metrics = live_metrics_for(models, live_before, options.heldout, echo)
    decision = decide(candidate.metrics, live_metrics, tolerance_for(candidate.faq_messages))

    entry = reg.ModelEntry(
        id=model_id,
        file=reg.archive_file(model_id),
        trained_at=started.isoformat(timespec="seconds"),
        data_hash=hashes[0],
        config_hash=hashes[1],
        metrics=candidate.metrics,
        status=reg.REFUSED,
        reason=decision.reason,
    )
    with reg.update(models) as current:
        current.add(entry)
        if live_before is not None and live_metrics is not None and current.live == live_before.id:
            current.entry(live_before.id).metrics = dict(live_metrics)  # now measured on this split
        if decision.activate and current.live != (live_before.id if live_before else None):
            decision = Decision(False, "the live model changed while this one trained: compare again")
            current.entry(model_id).reason = decision.reason
        if decision.activate:
            activate_on_disk(models, current, model_id, decision.reason, echo)
        activated = current.entry(model_id)

    if not decision.activate:
        live_name = live_before.id if live_before else "none"
        echo(f"REFUSED {model_id}: {decision.reason}. Live stays {live_name}; model kept in {entry.file}.")
        return EXIT_REFUSED_STRICT if options.strict else 0
    echo(f"LIVE {model_id}: {decision.reason}")
    report_swap(models, activated, echo)
    return 0


def live_metrics_for(
    models: Path, live: reg.ModelEntry | None, heldout: Path, echo: Echo
) -> dict[str, float] | None:
    """The live model's metrics on *this* held-out split (re-evaluated when it changed)."""
    if live is None:
        return None
    if not live.path(models).is_file():
        echo(f"live model file {live.file} is missing: comparing with its recorded metrics")
        return dict(live.metrics)
    return evaluation_of(live.path(models), heldout, echo).metrics


def rollback(models: Path, echo: Echo = print) -> int:
    registry = reg.load(models)
    previous = registry.previous()
    if previous is None:
        before = f"before {registry.live}" if registry.live else "yet"
        echo(f"nothing to roll back to: no model was live {before} in {models}")
        return 1
    if not previous.path(models).is_file():
        echo(f"cannot roll back: the previous model's file {previous.file} is missing")
        return 1
    with reg.update(models) as current:
        restored = current.previous()
        if restored is None or restored.id != previous.id:
            echo("the registry changed meanwhile: run rollback again")
            return 1
        for moved in reg.move_stray_models(models):
            echo(f"moved {moved.name}, trained before the registry, to {moved.parent}")
        retired, restored_id = current.rollback()
        reg.point_live(models, current.entry(restored_id))
        model = current.entry(restored_id)
    echo(f"LIVE {restored_id} again (rolled back from {retired or 'none'}; that model is now retired)")
    report_swap(models, model, echo)
    return 0


def activate(models: Path, model_id: str, echo: Echo = print) -> int:
    registry = reg.load(models)
    try:
        model = registry.entry(model_id)
    except reg.RegistryError as error:
        echo(str(error))
        return 1
    if registry.live == model_id:
        echo(f"{model_id} is already live")
        return 0
    if not model.path(models).is_file():
        echo(f"cannot activate {model_id}: its file {model.file} is missing")
        return 1
    with reg.update(models) as current:
        replaced = current.live
        activate_on_disk(models, current, model_id, HAND_REASON, echo)
        model = current.entry(model_id)
    echo(f"LIVE {model_id} ({HAND_REASON}; replaced {replaced or 'none'}, which `rollback` restores)")
    report_swap(models, model, echo)
    return 0


def table(registry: reg.Registry) -> str:
    """The models, oldest first, with metrics in percent; ``*`` marks the live one."""
    header = ("", "id", "status", "trained_at", "FAQ right", "wrong", "fallback", "all right", "routing")
    rows: list[tuple[str, ...]] = [(*header, "reason")]
    for model in sorted(registry.models, key=lambda m: m.trained_at):
        marker = "*" if model.id == registry.live else ""
        metrics = [percent(model.metrics[name]) for name in reg.METRIC_NAMES]
        rows.append((marker, model.id, model.status, model.trained_at, *metrics, model.reason))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1] for row in rows]
    order = " <- ".join(reversed(registry.history)) or "empty"
    lines.append(f"live: {registry.live or 'none'}; rollback restores, newest first: {order}")
    return "\n".join(line.rstrip() for line in lines)


def list_models(models: Path, echo: Echo = print) -> int:
    registry = reg.load(models)
    if not registry.models:
        echo(f"no models registered in {models} (run `make train`)")
        return 0
    echo(table(registry))
    return 0


def predict(models: Path, texts: Sequence[str], echo: Echo = print) -> int:
    """One JSON line per text: how the live model routes it (gated label, FAQ topic, confidences)."""
    live = reg.live_target(models)
    if live is None:
        echo(f"no live model in {models} (run `make train`)")
        return 1
    quiet_rasa()
    parses = asyncio.run(parse_all(live, [LabelledMessage(text, label="") for text in texts]))
    for text, parse in zip(texts, parses):
        prediction = prediction_from_parse(parse)
        result: dict[str, Any] = {
            "text": text,
            "model": live.name.removesuffix(".tar.gz"),
            "intent": parse["intent"]["name"],
            "confidence": float(parse["intent"].get("confidence") or 0.0),
            "label": prediction.gated,
            "faq_topic": prediction.gated if is_faq(prediction.gated) else None,
            "raw": prediction.raw,
            "answer_confidence": prediction.answer_confidences[0] if prediction.answer_confidences else None,
        }
        echo(json.dumps(result, ensure_ascii=False))
    return 0
