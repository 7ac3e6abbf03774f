"""A version's end-to-end figures on the held-out split, for the gate: what recipients get.

One half per environment. Here (Rasa env) the version's Rasa model parses every held-out message;
the parses are kept next to the model (``archive/<id>.parses.json``, with a hash of the split), so
a model is parsed again only when the split changed. The actions env's
``actions.semantic.end_to_end`` then decides every message with the version's own semantic index
and the action server's decision code (``actions.second_stage.decide``) and writes the outcome
shares as JSON (``archive/<id>.e2e/end_to_end.json``). That second half runs every time, for the
live model too, so both are judged by the decision code that will serve them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from training.heldout import heldout_hash, read_labelled_messages
from training.heldout_parse import parse_all, parse_records
from training.settings import run_actions

PARSES_SUFFIX = ".parses.json"
END_TO_END_SUFFIX = ".e2e"
END_TO_END_MODULE = "actions.semantic.end_to_end"


class EvaluationError(RuntimeError):
    """The end-to-end evaluation in the actions env failed."""


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, float]  # core.model_registry.METRIC_NAMES
    faq_messages: int


def quiet_rasa() -> None:
    """Without a logging setup Rasa logs every parsed message; the trainer prints what matters,
    and ``predict``'s stdout must stay JSON, so Rasa may only warn, on stderr."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def sibling(model_file: Path, suffix: str) -> Path:
    return model_file.with_name(model_file.name.removesuffix(".tar.gz") + suffix)


def heldout_parses(model_file: Path, heldout: Path, echo: Callable[[str], None]) -> Path:
    """The file of the model's parses of the split, parsed now unless stored for this split."""
    target, split = sibling(model_file, PARSES_SUFFIX), heldout_hash(heldout)
    try:
        if json.loads(target.read_text(encoding="utf-8"))["heldout_hash"] == split:
            return target
    except (OSError, ValueError, KeyError, TypeError):
        pass
    messages = read_labelled_messages(heldout)
    if not messages:
        raise FileNotFoundError(f"no labelled held-out messages in {heldout}")
    echo(f"parsing {heldout} with {model_file.name}")
    quiet_rasa()
    parses = asyncio.run(parse_all(model_file, messages))
    payload = {"heldout_hash": split, "parses": parse_records(messages, parses)}
    target.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return target


def end_to_end(
    model_file: Path, index: Path, heldout: Path, python: str, echo: Callable[[str], None]
) -> Evaluation:
    """The version's end-to-end figures: Rasa's parses here, the decisions in the actions env."""
    parses = heldout_parses(model_file, heldout, echo)
    out = sibling(model_file, END_TO_END_SUFFIX)
    arguments = ["--parses", str(parses), "--index", str(index), "--out", str(out)]
    if run_actions(python, END_TO_END_MODULE, arguments) != 0:
        raise EvaluationError(f"{END_TO_END_MODULE} failed for {model_file.name} with {index}")
    report = json.loads((out / "end_to_end.json").read_text(encoding="utf-8"))
    return Evaluation({k: float(v) for k, v in report["metrics"].items()}, int(report["faq_messages"]))
