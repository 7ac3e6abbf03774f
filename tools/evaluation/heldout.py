"""Reading labelled messages from Rasa NLU YAML files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class LabelledMessage:
    text: str
    label: str  # "faq/<topic>" or a core intent name


def parse_examples(block: str) -> list[str]:
    return [line.strip()[2:].strip() for line in block.splitlines() if line.strip().startswith("- ")]


def read_labelled_messages(path: Path) -> list[LabelledMessage]:
    """All intent examples of one YAML file, or of every YAML file under a folder."""
    files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
    messages: list[LabelledMessage] = []
    for file in files:
        document = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for item in document.get("nlu", []):
            if "intent" not in item:
                continue
            messages.extend(
                LabelledMessage(text, item["intent"]) for text in parse_examples(item["examples"])
            )
    return messages
