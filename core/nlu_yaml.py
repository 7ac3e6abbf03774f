"""Rasa NLU YAML read one way everywhere: the semantic index, the held-out evaluation and the
review app must agree on what an example is, or a message counts as "known" in one place and
"new" in another.

Standard library only (both Pythons): callers parse the YAML themselves and pass the document,
or pass their loader (``yaml.safe_load``) to :func:`read_labelled`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

# Rasa's entity markup in an example ("[Sinovac](brand)", "[x]{...}"): the text is only the part
# in brackets (rasa.shared.nlu.training_data.entities_parser.ENTITY_REGEX).
ENTITY_MARKUP = re.compile(
    r"\[(?P<entity_text>[^\]]+?)\](\((?P<entity>[^:)]+?)(?:\:(?P<value>[^)]+))?\)|\{(?P<entity_dict>[^}]+?)\}"
    r"|\[(?P<list_entity_dicts>.*?)\])"
)
YAML_SUFFIXES = frozenset({".yml", ".yaml"})


def plain_text(example: str) -> str:
    """An example as the message a person would type: entity markup reduced to its text."""
    return ENTITY_MARKUP.sub(lambda match: match.group("entity_text"), example).strip()


def example_lines(block: Any) -> Iterator[str]:
    """The example texts of one ``examples:`` value, read the way Rasa reads it."""
    if isinstance(block, str):
        for line in block.splitlines():
            if line.startswith("-"):  # Rasa skips (with a warning) any other line
                yield line[1:].strip("\n\r ")
    elif isinstance(block, list):  # the long form: a list of {text: ..., metadata: ...}
        for item in block:
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                yield item["text"].strip("\n\r ")


def labelled_examples(document: Any) -> Iterator[tuple[str, str]]:
    """(text, intent) for every intent example of one parsed NLU document, in file order."""
    if not isinstance(document, dict):
        return
    for item in document.get("nlu") or []:
        if not isinstance(item, dict) or "intent" not in item:
            continue  # synonyms, regexes, lookup tables
        label = str(item["intent"])
        for example in example_lines(item.get("examples")):
            text = plain_text(example)
            if text:
                yield text, label


def yaml_files(path: Path) -> list[Path]:
    """Every YAML file under a folder, or the one file given; none when it does not exist."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    return sorted(file for file in path.rglob("*") if file.suffix in YAML_SUFFIXES and file.is_file())


def read_labelled(paths: Iterable[Path], load: Callable[[str], Any]) -> list[tuple[str, str]]:
    """(text, intent) of every example in the YAML files of ``paths`` (files or folders)."""
    return [
        example
        for path in paths
        for file in yaml_files(path)
        for example in labelled_examples(load(file.read_text(encoding="utf-8")))
    ]
