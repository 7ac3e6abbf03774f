"""The training data covers every topic in the register the spec asks for."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from training.heldout import LabelledMessage, read_labelled_messages

ROOT = Path(__file__).resolve().parents[2]
TOPICS_FILE = ROOT / "data" / "faq_topics.yml"
SHARED_SPEC = ROOT.parent / "shared" / "spec" / "faq_topics.yml"
MIN_TRAINING_EXAMPLES = 25
MIN_HELDOUT_EXAMPLES = 5


def spec() -> dict:
    return yaml.safe_load(TOPICS_FILE.read_text(encoding="utf-8"))


def expected_labels() -> list[str]:
    document = spec()
    return [f"faq/{topic}" for topic in document["topics"]] + list(document["core_intents"])


def squash(text: str) -> str:
    """What is left of a message once case, punctuation and spacing are ignored."""
    return re.sub(r"[^a-z0-9]+", "", text.lower())


@pytest.fixture(scope="module")
def training() -> list[LabelledMessage]:
    return read_labelled_messages(ROOT / "data" / "nlu")


@pytest.fixture(scope="module")
def heldout() -> list[LabelledMessage]:
    return read_labelled_messages(ROOT / "data" / "heldout")


def test_topic_list_is_the_shared_spec() -> None:
    """data/faq_topics.yml is our copy of the spec; it must not drift from it."""
    if not SHARED_SPEC.exists():  # a clone without the shared folder beside it
        return
    assert TOPICS_FILE.read_text(encoding="utf-8") == SHARED_SPEC.read_text(encoding="utf-8")


def all_labels(training: list[LabelledMessage]) -> set[str]:
    """The spec's labels plus intents the project added (e.g. cancelling a form)."""
    return set(expected_labels()) | {message.label for message in training}


def test_every_label_has_enough_training_examples(training: list[LabelledMessage]) -> None:
    counts = Counter(message.label for message in training)
    short = {label: counts[label] for label in all_labels(training) if counts[label] < MIN_TRAINING_EXAMPLES}
    assert not short, f"fewer than {MIN_TRAINING_EXAMPLES} training examples: {short}"


def test_every_label_has_a_heldout_split(
    training: list[LabelledMessage], heldout: list[LabelledMessage]
) -> None:
    counts = Counter(message.label for message in heldout)
    short = {label: counts[label] for label in all_labels(training) if counts[label] < MIN_HELDOUT_EXAMPLES}
    assert not short, f"fewer than {MIN_HELDOUT_EXAMPLES} held-out examples: {short}"


def test_faq_topics_are_the_spec_topics(
    training: list[LabelledMessage], heldout: list[LabelledMessage]
) -> None:
    """Topic names are fixed: evaluation data refers to them."""
    topics = {message.label for message in training + heldout if message.label.startswith("faq/")}
    assert topics == {label for label in expected_labels() if label.startswith("faq/")}


def test_heldout_labels_are_trained(training: list[LabelledMessage], heldout: list[LabelledMessage]) -> None:
    assert {message.label for message in heldout} <= {message.label for message in training}


def test_training_has_no_near_duplicates(training: list[LabelledMessage]) -> None:
    seen: dict[str, LabelledMessage] = {}
    duplicates = []
    for message in training:
        key = squash(message.text)
        if key in seen:
            duplicates.append((seen[key].text, message.text))
        seen[key] = message
    assert not duplicates, duplicates[:10]


def test_heldout_never_appears_in_training(
    training: list[LabelledMessage], heldout: list[LabelledMessage]
) -> None:
    trained = {squash(message.text) for message in training}
    leaked = [message.text for message in heldout if squash(message.text) in trained]
    assert not leaked, leaked


def test_register_is_informal_as_well_as_formal(training: list[LabelledMessage]) -> None:
    """Chat shorthand, English and relatives show up across the FAQ data."""
    texts = " ".join(message.text.lower() for message in training if message.label.startswith("faq/"))
    words = set(re.findall(r"[a-z]+", texts))
    assert len({"yg", "gak", "ga", "gk", "gmn", "sy", "udh", "udah", "brp", "blm"} & words) >= 8
    assert {"ibu", "anak", "suami"} <= words
    assert len({"vaccine", "the", "is", "can", "booster", "after"} & words) >= 3


# Registers that failed in the wild (issue #10 item 7), each trained and held out.
STILL_INFECTED = re.compile(
    r"jamin|guarantee|masih (?:bisa|mungkin)|still get|tetep|tetap|kena covid|positif|tertular|ketular", re.I
)
TOWNS = re.compile(
    r"\b(?:jakarta|surabaya|bandung|medan|makassar|semarang|palembang|denpasar|bali|jogja|yogyakarta|malang|"
    r"bogor|depok|bekasi|batam|pekanbaru|samarinda|balikpapan|sleman|cibinong)\b",
    re.I,
)
DATES = re.compile(
    r"\b(?:tgl|tanggal|besok|senin|selasa|rabu|kamis|jumat|sabtu|minggu depan|next week|this week|"
    r"januari|februari|maret|april|mei|juni|juli|agustus|september|oktober|november|desember)\b",
    re.I,
)
STORY_MIN_SENTENCES = 3  # context first, then the question
REGISTER_MINIMUMS = {  # (training, held-out)
    "can I still get COVID / is it guaranteed (efektivitas)": (20, 5),
    "a town or a date (lokasi)": (15, 4),
    "a story before the question (any FAQ topic)": (15, 5),
}


def sentences(text: str) -> int:
    return len([part for part in re.split(r"[.?!]+", text) if len(part.split()) >= 3])


def register_counts(messages: list[LabelledMessage]) -> dict[str, int]:
    faq = [message for message in messages if message.label.startswith("faq/")]
    return {
        "can I still get COVID / is it guaranteed (efektivitas)": sum(
            m.label == "faq/efektivitas" and bool(STILL_INFECTED.search(m.text)) for m in faq
        ),
        "a town or a date (lokasi)": sum(
            m.label == "faq/lokasi" and bool(TOWNS.search(m.text) or DATES.search(m.text)) for m in faq
        ),
        "a story before the question (any FAQ topic)": sum(
            sentences(m.text) >= STORY_MIN_SENTENCES for m in faq
        ),
    }


def test_registers_that_fail_in_the_wild_are_trained_and_held_out(
    training: list[LabelledMessage], heldout: list[LabelledMessage]
) -> None:
    trained, held = register_counts(training), register_counts(heldout)
    short = {
        register: (trained[register], held[register])
        for register, (minimum_trained, minimum_held) in REGISTER_MINIMUMS.items()
        if trained[register] < minimum_trained or held[register] < minimum_held
    }
    assert not short, f"(training, held-out) below {REGISTER_MINIMUMS}: {short}"
