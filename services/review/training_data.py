"""What the training data already says: known examples, the labels a reviewer may assign.

The review app shows only messages the assistant has not been taught (or evaluated on) yet, and
offers only labels a Rasa model can learn from text. Both come from the project's own files, so a
new topic in ``data/faq_topics.yml`` or a new intent in the domain needs no change here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path

import yaml

from core.handoff import OFFICER_REPLY_INTENT, RELEASE_INTENT
from core.nlu_yaml import labelled_examples, yaml_files
from core.notice_payload import NOTICE_REPLY_INTENT

NLU_DIR = "nlu"
HELDOUT_DIR = "heldout"
TOPICS_FILE = "faq_topics.yml"
RETRIEVAL_INTENT = "faq"
# Domain intents no reviewer label can stand for: Rasa's own fallback, and intents that arrive as a
# button payload or from a deterministic component (rasa_project/domain/menu.yml), never from words.
# "faq" itself is replaced by its topics, "faq/<topic>".
INTERNAL_INTENTS = frozenset(
    {"nlu_fallback", "choose_option", "faq_choice", RELEASE_INTENT, OFFICER_REPLY_INTENT, NOTICE_REPLY_INTENT}
)


def normalize(text: str) -> str:
    """The form in which two messages count as the same one.

    Case, width variants (NFKC), spacing and punctuation, emoji or symbols at either end do not
    change what a message asks; punctuation inside it is kept ("1.5" is not "15"). Idempotent.
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    collapsed = " ".join(folded.split())
    start, end = 0, len(collapsed)
    while start < end and not collapsed[start].isalnum():
        start += 1
    while end > start and not collapsed[end - 1].isalnum():
        end -= 1
    return collapsed[start:end]


def read_examples(path: Path) -> Iterator[tuple[str, str]]:
    """(text, label) for every intent example of one Rasa YAML file, in file order."""
    yield from labelled_examples(yaml.safe_load(path.read_text(encoding="utf-8")))


def _known(folders: list[Path]) -> dict[str, str]:
    known: dict[str, str] = {}
    for folder in folders:
        for path in yaml_files(folder):
            for text, label in read_examples(path):
                key = normalize(text)
                if key:
                    known.setdefault(key, label)  # the first file (training before held-out) wins
    return known


def training_examples(data_dir: Path) -> dict[str, str]:
    """Normalized text -> label of the training examples (``data_dir/nlu``, the review export included)."""
    return _known([data_dir / NLU_DIR])


def heldout_examples(data_dir: Path) -> dict[str, str]:
    """Normalized text -> label of the held-out evaluation messages (``data_dir/heldout``)."""
    return _known([data_dir / HELDOUT_DIR])


def known_examples(data_dir: Path) -> dict[str, str]:
    """Normalized text -> label of every training example and every held-out message.

    Held-out messages are here too: they are the evaluation, so they must never be reviewed into
    training data. Where a text has two labels, the training data's (read first) is kept.
    """
    return _known([data_dir / NLU_DIR, data_dir / HELDOUT_DIR])


def domain_intents(domain_dir: Path) -> list[str]:
    """The intents of a domain (one file or a folder of files), in file order, without repeats."""
    files = yaml_files(domain_dir) if domain_dir.is_dir() else [domain_dir]
    intents: dict[str, None] = {}
    for path in files:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = (document.get("intents") if isinstance(document, dict) else None) or []
        for entry in entries:
            # an intent is a name or {name: {use_entities: ...}}
            names = list(entry) if isinstance(entry, dict) else [entry]
            intents.update((str(name), None) for name in names)
    return list(intents)


def faq_topics(data_dir: Path) -> list[str]:
    """The FAQ topic names of ``data_dir/faq_topics.yml``, in file order."""
    document = yaml.safe_load((data_dir / TOPICS_FILE).read_text(encoding="utf-8")) or {}
    return [str(topic) for topic in document.get("topics") or {}]


def valid_labels(domain_dir: Path, data_dir: Path) -> list[str]:
    """Every label a reviewer may assign: text intents sorted, then ``faq/<topic>`` sorted.

    A domain intent is offered unless it is internal (``INTERNAL_INTENTS``) or is the retrieval
    intent itself: a reviewer picks one of its topics, as the training data labels them.
    """
    intents = sorted(
        intent
        for intent in domain_intents(domain_dir)
        if intent not in INTERNAL_INTENTS and intent != RETRIEVAL_INTENT
    )
    topics = sorted(f"{RETRIEVAL_INTENT}/{topic}" for topic in faq_topics(data_dir))
    return intents + topics
