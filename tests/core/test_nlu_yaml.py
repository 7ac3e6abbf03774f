"""One reading of Rasa NLU YAML for the semantic index, the held-out evaluation and the review app."""

from __future__ import annotations

import json
from pathlib import Path

from core.nlu_yaml import labelled_examples, plain_text, read_labelled, yaml_files

ROOT = Path(__file__).resolve().parents[2]


def test_entity_markup_is_read_as_the_text_a_person_types() -> None:
    assert plain_text("kapan booster [Sinovac](brand) ya") == "kapan booster Sinovac ya"
    assert plain_text('dosis [dua]{"entity": "n", "value": "2"}') == "dosis dua"


def test_short_and_long_example_forms_and_other_items() -> None:
    document = {
        "nlu": [
            {"intent": "faq/biaya", "examples": "- berapa biaya\n- gratis ga?\nnot an example\n-  \n"},
            {"intent": "greet", "examples": [{"text": "halo"}, {"text": " hai \n"}, {"nope": 1}]},
            {"synonym": "vaksin", "examples": "- vaksinasi\n"},
            "garbage",
        ]
    }
    assert list(labelled_examples(document)) == [
        ("berapa biaya", "faq/biaya"),
        ("gratis ga?", "faq/biaya"),
        ("halo", "greet"),
        ("hai", "greet"),
    ]
    assert list(labelled_examples(["not", "a", "mapping"])) == []


def test_files_and_folders_are_read_in_a_stable_order(tmp_path: Path) -> None:
    (tmp_path / "b.yml").write_text(json.dumps({"nlu": [{"intent": "b", "examples": "- two\n"}]}))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.yaml").write_text(json.dumps({"nlu": [{"intent": "a", "examples": "- one\n"}]}))
    (tmp_path / "notes.txt").write_text("- not yaml")
    assert [p.name for p in yaml_files(tmp_path)] == ["b.yml", "a.yaml"]
    assert read_labelled([tmp_path], json.loads) == [("two", "b"), ("one", "a")]
    assert yaml_files(tmp_path / "missing") == []


def test_the_projects_training_data_has_examples_for_every_faq_file() -> None:
    import yaml

    examples = read_labelled([ROOT / "data" / "nlu"], yaml.safe_load)
    assert len(examples) > 1000
    assert all(text and "](" not in text for text, _ in examples)
