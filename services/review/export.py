"""Reviewed messages into Rasa training data: ``data/nlu/reviewed.yml``.

Reviewers confirm or correct what the assistant understood; the export turns those decisions into
NLU examples the next ``make train`` learns from. It must never teach the model a held-out message
(that would inflate the evaluation), never store what identifies a person (training data is kept
in git for good), never write an example twice (Rasa's validation fails on an example with two
labels) and never leave a half-written file for a training run to read.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from core.months import MONTH_PATTERN
from core.nlu_yaml import example_lines
from core.personal_data import EMAIL_PATTERN, PLACEHOLDER_PATTERN, find_dates, redact_numbers
from services.common.files import write_atomically
from services.review.training_data import (
    heldout_examples,
    normalize,
    training_examples,
)

EXPORT_FILE = "nlu/reviewed.yml"
HEADER = (
    "# Written by the NLU review app (services/review/export.py): reviewed user messages.\n"
    "# Every export merges into this file and rewrites it sorted; hand edits survive as examples.\n"
    "# Messages of data/heldout and messages with personal data are never written here.\n"
)

# --- personal data ---------------------------------------------------------------------------
# NIKs, phone numbers, e-mail addresses and dates are found as everywhere else (core/personal_data.py).
_DAY_AND_MONTH = re.compile(
    rf"(?<!\d)\d{{1,2}}(?:\s*[-/.]\s*|\s+)(?:\d{{1,2}}|(?:{MONTH_PATTERN})\b)", re.IGNORECASE
)
_FULL_YEAR = re.compile(r"(?:19|20)\d{2}")
_TWO_DIGITS = re.compile(r"\d{2}")
_BIRTH_WORD = re.compile(r"\b(?:lahir|kelahiran|ttl|tgl\s*lhr|dob|birth\w*|born)\b", re.IGNORECASE)
# COVID-19 vaccination in Indonesia began in January 2021: a full date before 2020 is no dose date
# someone asks about, but (nearly always) a birth date.
FIRST_VACCINATION_YEAR = 2020


def _year(found_date: str) -> int:
    """The year of a full date: its last 19xx or 20xx, else its last two digits (0 when unreadable)."""
    years = _FULL_YEAR.findall(found_date)
    if years:
        return int(years[-1])
    pairs = _TWO_DIGITS.findall(found_date)
    if not pairs:
        return 0
    two_digit = int(pairs[-1])
    return 2000 + two_digit if two_digit <= date.today().year % 100 else 1900 + two_digit


def has_personal_data(text: str) -> bool:
    """An NIK, a phone number, an e-mail address, a birth date, or a placeholder for one of them.

    A full date counts as a birth date when it is before vaccination began or the message speaks of
    birth ("lahir", "ttl", "dob"); "dosis 1 tgl 3-3-2022" is a question about doses and is kept.
    """
    if EMAIL_PATTERN.search(text) or PLACEHOLDER_PATTERN.search(text) or redact_numbers(text) != text:
        return True
    dates = find_dates(text)
    if any(_year(found) < FIRST_VACCINATION_YEAR for found in dates):
        return True
    if _BIRTH_WORD.search(text):
        return bool(dates) or bool(_DAY_AND_MONTH.search(text))
    return False


# --- writing ------------------------------------------------------------------------------------
# Characters YAML may not hold in a document (YAML 1.1 "printable"), besides the line breaks that
# str.split() already turned into spaces.
_NOT_YAML_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# "]" right before "(", "{" or "[" would make Rasa read entity markup ("[x](entity)").
_ENTITY_OPENING = re.compile(r"\](?=[(\[{])")


@dataclass(frozen=True)
class Annotation:
    """A reviewer's decision: this message means this label."""

    text: str
    label: str  # as from valid_labels(): an intent or "faq/<topic>"


@dataclass(frozen=True)
class ExportResult:
    path: Path  # the export file (it does not exist while nothing was ever added)
    added: int  # examples written by this export
    duplicates: int  # already a training example (any data/nlu file) or twice in this export
    held_out: int  # messages of the held-out evaluation split, never trained on
    personal_data: int  # messages with an NIK, phone number, e-mail or birth date, not written


def example_text(text: str) -> str:
    """The text as one safe line of an ``examples: |`` block: one line, printable, no entity markup.

    Inside a literal block YAML takes quotes, colons, "#", "{" and a leading "-" as they are, and Rasa
    reads everything after the item's "- " up to the line end (stripping spaces).
    """
    single_line = " ".join(text.split())
    return _ENTITY_OPENING.sub("] ", _NOT_YAML_PRINTABLE.sub("", single_line)).strip()


def render(examples: dict[str, list[str]]) -> str:
    """The export file: labels sorted, each label's examples sorted, one block per label."""
    lines = [HEADER.rstrip("\n"), 'version: "3.1"', "nlu:"]
    for label in sorted(examples):
        texts = sorted(set(examples[label]), key=lambda text: (normalize(text), text))
        if not texts:
            continue
        lines += [f"- intent: {label}", "  examples: |"]
        lines += [f"    - {text}" for text in texts]
    return "\n".join(lines) + "\n"


def _check_round_trip(content: str, examples: dict[str, list[str]]) -> None:
    """Refuse to write a file that would not read back as exactly these examples."""
    document = yaml.safe_load(content)
    read: dict[str, set[str]] = {}
    for item in document.get("nlu") or []:
        read.setdefault(item["intent"], set()).update(example_lines(item["examples"]))
    expected = {label: set(texts) for label, texts in examples.items() if texts}
    if read != expected:
        raise RuntimeError("the export would not read back as written; nothing was written")


def _existing(path: Path) -> dict[str, list[str]]:
    """The export file's examples by label, as written (entity markup kept)."""
    examples: dict[str, list[str]] = {}
    if not path.is_file():
        return examples
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for item in document.get("nlu") or []:
        if isinstance(item, dict) and "intent" in item:
            texts = [text for text in example_lines(item.get("examples")) if text]
            examples.setdefault(str(item["intent"]), []).extend(texts)
    return examples


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One export at a time per folder (two reviewers exporting at once must not lose one's work).

    ``flock`` on the folder itself: no lock file in the training data, released if the process dies.
    """
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def export_annotations(
    annotations: Iterable[Annotation], data_dir: Path, valid: Collection[str]
) -> ExportResult:
    """Merge reviewed messages into ``data_dir/EXPORT_FILE``; what was skipped is counted.

    Raises ValueError (and writes nothing) for a label not in ``valid`` or an empty text. A message
    is skipped when it has personal data, is held out, or its ``normalize``d text already is an
    example of any ``data_dir/nlu`` file (whatever its label there) or came earlier in this export.
    The file is rewritten only when something was added.
    """
    batch = list(annotations)
    for annotation in batch:
        if annotation.label not in valid:
            raise ValueError(f"not a label a reviewer may assign: {annotation.label!r}")
        if not normalize(example_text(annotation.text)):
            raise ValueError(f"nothing to learn from an empty message: {annotation.text!r}")
    path = (data_dir / EXPORT_FILE).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.parent):
        taken = set(training_examples(data_dir))
        held_out_keys = set(heldout_examples(data_dir))
        examples = _existing(path)
        added = duplicates = held_out = personal_data = 0
        for annotation in batch:
            text = example_text(annotation.text)
            key = normalize(text)
            if has_personal_data(annotation.text):
                personal_data += 1
            elif key in held_out_keys:
                held_out += 1
            elif key in taken:
                duplicates += 1
            else:
                taken.add(key)
                examples.setdefault(annotation.label, []).append(text)
                added += 1
        if added:
            content = render(examples)
            _check_round_trip(content, examples)
            write_atomically(path, content)
    return ExportResult(path, added, duplicates, held_out, personal_data)
