"""Known examples and reviewer labels come from the project's own files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from services.review.training_data import (
    INTERNAL_INTENTS,
    known_examples,
    normalize,
    valid_labels,
)

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "data"
DOMAIN = ROOT / "rasa_project" / "domain"


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Berapa biaya vaksin?", "berapa biaya vaksin"),
        ("  halo   MIN!!  ", "halo min"),
        ("terima kasih 🙏", "Terima kasih"),
        ("«vaksin gratis?»", "vaksin gratis"),
        ("ｖａｋｓｉｎ", "vaksin"),  # full-width letters
        ("STRASSE", "straße"),  # casefold, not lower
        ("jarak\tdosis\n1 ke 2", "jarak dosis 1 ke 2"),
    ],
)
def test_normalize_makes_the_same_message_equal(left: str, right: str) -> None:
    assert normalize(left) == normalize(right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("dosis 1.5", "dosis 15"),  # punctuation inside a message is kept
        ("vaksin ke-2", "vaksin ke 2"),
        ("booster", "booster kedua"),
    ],
)
def test_normalize_keeps_different_messages_apart(left: str, right: str) -> None:
    assert normalize(left) != normalize(right)


@pytest.mark.parametrize("text", ["", "   ", "?!", "🙏🙏", "..."])
def test_normalize_of_nothing_is_empty(text: str) -> None:
    assert normalize(text) == ""


@pytest.mark.parametrize("text", ["  Halo, MIN!! ", "ｖａｋｓｉｎ ke-2 ??", "ß ﬁ İstanbul", "[NIK] saya"])
def test_normalize_is_idempotent(text: str) -> None:
    assert normalize(normalize(text)) == normalize(text)


def direct_read(folder: Path) -> dict[str, set[str]]:
    """Every example under a folder, read with PyYAML only (no code under test but normalize)."""
    labels: dict[str, set[str]] = {}
    for path in sorted(folder.glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            for line in item["examples"].splitlines():
                assert line.startswith("- "), line
                labels.setdefault(normalize(line[2:]), set()).add(item["intent"])
    return labels


def test_known_examples_are_all_of_the_real_training_and_heldout_data() -> None:
    expected = direct_read(DATA / "nlu")
    for key, labels in direct_read(DATA / "heldout").items():
        expected.setdefault(key, set()).update(labels)

    expected.pop("", None)  # "???" (out_of_scope): nothing left to compare once normalized
    known = known_examples(DATA)

    assert len(known) == len(expected) > 2500
    assert set(known) == set(expected)
    assert all(known[key] in labels for key, labels in expected.items())
    assert "faq/jadwal_dosis" in known.values()
    assert "greet" in known.values()


def test_known_examples_include_heldout_messages() -> None:
    heldout = direct_read(DATA / "heldout")
    known = known_examples(DATA)
    assert heldout
    assert all(key in known for key in heldout)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_known_examples_of_a_small_tree(tmp_path: Path) -> None:
    write(
        tmp_path / "nlu" / "a.yml",
        'version: "3.1"\n'
        "nlu:\n"
        "- intent: faq/biaya\n"
        "  examples: |\n"
        "    - Vaksin bayar ga?\n"
        "    - apakah [Sinovac](brand) gratis\n"
        "- synonym: sinovac\n"
        "  examples: |\n"
        "    - coronavac\n"
        "- intent: greet\n"
        "  examples:\n"
        "  - text: halo kak\n"
        "    metadata: {source: chat}\n",
    )
    write(
        tmp_path / "nlu" / "sub" / "b.yaml",
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - vaksin bayar ga\n    - pagi\n',
    )
    write(
        tmp_path / "heldout" / "h.yml",
        'version: "3.1"\nnlu:\n- intent: goodbye\n  examples: |\n    - dadah\n',
    )
    write(tmp_path / "rules" / "r.yml", 'version: "3.1"\nrules: []\n')

    assert known_examples(tmp_path) == {
        "vaksin bayar ga": "faq/biaya",  # the first file wins over a conflicting later one
        "apakah sinovac gratis": "faq/biaya",  # entity markup is not part of the message
        "halo kak": "greet",
        "pagi": "greet",
        "dadah": "goodbye",
    }


def test_known_examples_of_an_empty_tree(tmp_path: Path) -> None:
    assert known_examples(tmp_path) == {}


def test_valid_labels_of_the_real_domain() -> None:
    topics = yaml.safe_load((DATA / "faq_topics.yml").read_text(encoding="utf-8"))
    labels = valid_labels(DOMAIN, DATA)

    faq = [label for label in labels if label.startswith("faq/")]
    intents = labels[: len(labels) - len(faq)]
    assert faq == sorted(f"faq/{topic}" for topic in topics["topics"])
    assert labels[len(intents) :] == faq  # faq last
    assert intents == sorted(intents)
    assert set(topics["core_intents"]) <= set(intents)
    assert "cancel" in intents  # the schedule check's "batal": typed, so learnable
    assert not INTERNAL_INTENTS & set(labels)
    assert "faq" not in labels
    assert len(labels) == len(set(labels))


def test_every_text_label_has_training_examples() -> None:
    """A label a reviewer may assign is one the model already learns from text."""
    trained = set(direct_labels(DATA / "nlu"))
    assert set(valid_labels(DOMAIN, DATA)) <= trained


def direct_labels(folder: Path) -> list[str]:
    return [
        item["intent"]
        for path in sorted(folder.glob("*.yml"))
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
    ]


def test_valid_labels_of_a_small_domain(tmp_path: Path) -> None:
    write(
        tmp_path / "domain" / "a.yml",
        'version: "3.1"\nintents:\n  - greet\n  - faq\n  - nlu_fallback\n'
        "  - out_of_scope:\n      use_entities: []\n",
    )
    write(tmp_path / "domain" / "b.yml", 'version: "3.1"\nintents:\n  - faq_choice\n  - cancel\n  - greet\n')
    write(tmp_path / "domain" / "c.yml", 'version: "3.1"\nresponses: {}\n')
    write(tmp_path / "data" / "faq_topics.yml", "topics:\n  wajib: {menu: umum}\n  biaya: {menu: umum}\n")

    assert valid_labels(tmp_path / "domain", tmp_path / "data") == [
        "cancel",
        "greet",
        "out_of_scope",
        "faq/biaya",
        "faq/wajib",
    ]
