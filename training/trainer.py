"""The commands behind ``python -m training``: train with the gate, roll back, activate,
list and predict. Runs in the Rasa env; Rasa itself is called as a subprocess (like ``make``
did) so training logs stream and Rasa's cache (``.rasa/cache`` under the working directory)
keeps working. A version is the Rasa model and the semantic index built from the same data
(``core.model_registry``); the index is built and the version evaluated end to end by the actions
env (``training.settings``), and the two go live, or stay out, together.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from core import model_registry as reg
from training.evaluation import Evaluation, EvaluationError, end_to_end, quiet_rasa
from training.gate import Decision, decide, percent, tolerance_for
from training.hashing import config_hash
from training.heldout import LabelledMessage, read_labelled_messages
from training.heldout_parse import parse_all
from training.hotswap import hot_swap
from training.outcomes import is_faq, prediction_from_parse
from training.settings import ROOT, project_environment, run_actions

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
    actions_python: str = ""  # the actions env's interpreter (training.settings)
    report: Path = Path("reports/gate.md")


def rasa_command() -> list[str]:
    """The ``rasa`` CLI of the interpreter running this (the Rasa env)."""
    return [str(Path(sys.executable).parent / "rasa")]


def run_rasa(arguments: Sequence[str]) -> int:
    return subprocess.run([*rasa_command(), *arguments], env=project_environment(), check=False).returncode


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


def provision_embedding_model(options: TrainOptions) -> int:
    """The e5 model and its ONNX graph in ``models/embedding``, in the actions env (a no-op once
    done): Rasa's e5 featurizer embeds with the graph, and the hashes below count it."""
    return run_actions(options.actions_python, "actions.semantic.provision", [])


def build_index(options: TrainOptions, index: Path) -> int:
    """The version's semantic index from the same data, in the actions env (``train`` has provisioned
    the embedding model before anything else)."""
    data = ["--data", *map(str, options.data), "--domain", str(options.domain)]
    return run_actions(options.actions_python, "actions.semantic.build", [*data, "--out", str(index)])


def seed_index(models: Path, registry: reg.Registry, data_hash: str, index: Path) -> reg.ModelEntry | None:
    """Starts the new version's index from the index of a version trained from the same data (a
    config-only change), so the build only confirms it is up to date instead of encoding every
    example again (~30 s of CPU). The build still compares the embedding model and index settings
    (``actions.semantic.build``) and rebuilds when they differ, so a copy is never served stale."""
    for model in registry.models:
        source = model.index_path(models)
        if model.data_hash == data_hash and source is not None and source.is_dir():
            shutil.copytree(source, index, dirs_exist_ok=True)
            return model
    return None


def train_and_index(options: TrainOptions, model_id: str, index: Path) -> tuple[int, int]:
    """``rasa train`` and the index build at the same time; their exit codes.

    The index depends on the data only, and ``rasa train`` leaves much of a 2-core machine idle
    (a whole training used 1.2 cores on average: 667 s of CPU in 535 s), so building alongside
    takes the index's ~40 s off the wall time of a training (7 Dec 2026).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="index") as pool:
        indexing = pool.submit(build_index, options, index)
        trained = train_model(options, model_id)
        return trained, indexing.result()


def minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60:02d} s"


def evaluate_version(model_file: Path, index: Path, options: TrainOptions, echo: Echo) -> Evaluation:
    return end_to_end(model_file, index, options.heldout, options.actions_python, echo)


def share(metrics: dict[str, float], name: str) -> str:
    return percent(metrics[name]) if name in metrics else "-"


def describe_metrics(metrics: dict[str, float]) -> str:
    """The end-to-end outcome of the held-out FAQ questions, in words."""
    return (
        f'right answer {share(metrics, "faq_right")}, "did you mean" with the right topic '
        f"{share(metrics, 'faq_clarified')}, wrong answer {share(metrics, 'faq_wrong')}, "
        f"menu or other topics {share(metrics, 'faq_menu')}"
    )


def gate_report(
    candidate_id: str,
    candidate: Evaluation,
    live: reg.ModelEntry | None,
    live_metrics: dict[str, float] | None,
) -> list[str]:
    """What the gate compared, in words: the lines printed and written to the report file."""
    lines = [
        f"End to end on the held-out split ({candidate.faq_messages} FAQ questions): what recipients get "
        "from Rasa and the second stage",
        f"  candidate {candidate_id}: {describe_metrics(candidate.metrics)}",
    ]
    if live is not None and live_metrics is not None:
        return [*lines, f"  live {live.id}: {describe_metrics(live_metrics)}"]
    return [*lines, "  live: none"]


def write_report(target: Path, lines: list[str]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    target.write_text(f"# Gate\n\n```\n{text}\n```\n", encoding="utf-8")


def index_live_if_missing(options: TrainOptions, live: reg.ModelEntry, echo: Echo) -> int:
    """A live model registered before versions held their index gets one, from the same data (the
    data hash says so), so the action server finds it in the registry."""
    if live.index:
        return 0
    echo(f"live model {live.id} has no semantic index of its own: building it from the same data")
    folder = reg.index_folder(live.id)
    if build_index(options, options.models / folder) != 0:
        echo("building the semantic index failed: the live model stays without one")
        return 1
    with reg.update(options.models) as current:
        current.entry(live.id).index = folder
    return 0


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
    """Provision the embedding model, validate, train, evaluate, gate, record, activate (the rule:
    ``training/gate.py``).

    Exit codes: 0 live, refused or nothing to do; 1 invalid data or failed training; 3 refused
    with ``--strict``.
    """
    models = options.models
    if provision_embedding_model(options) != 0:
        echo("provisioning the embedding model failed (python -m actions.semantic.provision): not training")
        return 1
    if validate(options) != 0:
        echo("training data validation failed (rasa data validate --fail-on-warnings): not training")
        return 1
    unanswered = missing_answers(options.data, options.domain)
    if unanswered:
        topics = ", ".join(unanswered)
        echo(f"FAQ topics without an utter_<topic> answer in the domain: {topics}; not training")
        return 1
    hashes = (reg.data_hash(options.data, options.domain), config_hash(options.config, ROOT))
    registry = reg.load(models)
    same = [model for model in registry.same_inputs(*hashes) if model.path(models).is_file()]
    if same and not options.force:
        previous = next((model for model in same if model.id == registry.live), same[0])
        if previous.id == registry.live:
            relink_if_needed(models, registry, echo)
            echo(f"up to date: live model {previous.id} is from this data and config (--force retrains)")
            return index_live_if_missing(options, previous, echo)
        echo(
            f"not retraining: {previous.id} was trained from this data and config and is {previous.status}"
            f" ({previous.reason}); live stays {registry.live}. `activate {previous.id}` makes it live,"
            " --force retrains"
        )
        return EXIT_REFUSED_STRICT if options.strict and previous.status == reg.REFUSED else 0

    started = datetime.now(timezone.utc)
    model_id = new_model_id(models, registry, started)
    (models / reg.ARCHIVE_DIR).mkdir(parents=True, exist_ok=True)
    model_file = models / reg.archive_file(model_id)
    index = models / reg.index_folder(model_id)
    seeded = seed_index(models, registry, hashes[0], index)
    if seeded is not None:
        echo(f"semantic index: {seeded.id} was built from the same data; starting from its index")
    clock = time.monotonic()
    code, index_code = train_and_index(options, model_id, index)
    echo(f"rasa train and the semantic index (alongside): {minutes(time.monotonic() - clock)}")
    if code != 0 or not model_file.is_file():
        echo(f"rasa train failed (exit code {code}): nothing recorded")
        return code or 1
    if index_code != 0:
        echo("building the semantic index failed: nothing recorded")
        return 1
    live_before = registry.live_entry()
    clock = time.monotonic()
    try:
        candidate = evaluate_version(model_file, index, options, echo)
        live_metrics = live_metrics_for(models, live_before, index, options, echo)
    except EvaluationError as error:
        echo(f"{error}: nothing recorded")
        return 1
    echo(f"held-out evaluation: {minutes(time.monotonic() - clock)}")
    decision = decide(candidate.metrics, live_metrics, tolerance_for(candidate.faq_messages))

    entry = reg.ModelEntry(
        id=model_id,
        file=reg.archive_file(model_id),
        index=reg.index_folder(model_id),
        trained_at=started.isoformat(timespec="seconds"),
        data_hash=hashes[0],
        config_hash=hashes[1],
        metrics=candidate.metrics,
        status=reg.REFUSED,
        reason=decision.reason,
    )
    with reg.update(models) as current:
        current.add(entry)  # a refused version changes nothing else: the live entry stays as it is
        if decision.activate and current.live != (live_before.id if live_before else None):
            decision = Decision(False, "the live model changed while this one trained: compare again")
            current.entry(model_id).reason = decision.reason
        if decision.activate:
            activate_on_disk(models, current, model_id, decision.reason, echo)
        activated = current.entry(model_id)

    live_name = live_before.id if live_before else "none"
    verdict = (
        f"LIVE {model_id}: {decision.reason}"
        if decision.activate
        else f"REFUSED {model_id}: {decision.reason}. Live stays {live_name}; version kept in {entry.file}."
    )
    report = [*gate_report(model_id, candidate, live_before, live_metrics), verdict]
    for line in report:
        echo(line)
    write_report(options.report, report)
    if not decision.activate:
        return EXIT_REFUSED_STRICT if options.strict else 0
    report_swap(models, activated, echo)
    return 0


def live_metrics_for(
    models: Path, live: reg.ModelEntry | None, candidate_index: Path, options: TrainOptions, echo: Echo
) -> dict[str, float] | None:
    """The live version's end-to-end figures on *this* held-out split, with today's decision code.

    A live model registered before versions held their index is measured with the candidate's.
    """
    if live is None:
        return None
    missing = live.missing(models)
    if missing is not None:
        echo(f"the live model's {missing} is missing: comparing with its recorded metrics")
        return dict(live.metrics)
    index = live.index_path(models) or candidate_index
    return evaluate_version(live.path(models), index, options, echo).metrics


def rollback(models: Path, echo: Echo = print) -> int:
    registry = reg.load(models)
    previous = registry.previous()
    if previous is None:
        before = f"before {registry.live}" if registry.live else "yet"
        echo(f"nothing to roll back to: no model was live {before} in {models}")
        return 1
    missing = previous.missing(models)
    if missing is not None:
        echo(f"cannot roll back: the previous model's {missing} is missing")
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
    missing = model.missing(models)
    if missing is not None:
        echo(f"cannot activate {model_id}: its {missing} is missing")
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
    header = ("", "id", "status", "trained_at", "FAQ right", "did you mean", "wrong", "menu")
    rows: list[tuple[str, ...]] = [(*header, "reason")]
    for model in sorted(registry.models, key=lambda m: m.trained_at):
        marker = "*" if model.id == registry.live else ""
        metrics = [share(model.metrics, name) for name in reg.METRIC_NAMES]
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
