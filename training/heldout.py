"""Reading labelled messages from Rasa NLU YAML files (the reader itself is ``core.nlu_yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from core.model_registry import digest, files_of
from core.nlu_yaml import read_labelled


@dataclass(frozen=True)
class LabelledMessage:
    text: str
    label: str  # "faq/<topic>" or a core intent name


def read_labelled_messages(path: Path) -> list[LabelledMessage]:
    """All intent examples of one YAML file, or of every YAML file under a folder."""
    return [LabelledMessage(text, label) for text, label in read_labelled([path], yaml.safe_load)]


def heldout_hash(heldout: Path) -> str:
    """The split's fingerprint: stored parses are reused only for the split they were made on."""
    return digest(files_of([heldout]))
