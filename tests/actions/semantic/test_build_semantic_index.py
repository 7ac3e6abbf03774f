"""The index is rebuilt only when the data, the model or the settings change, and records the
version's data hash (the registry's)."""

from __future__ import annotations

from pathlib import Path

from actions.semantic.build import IndexSettings, build, main
from actions.semantic.encoder import Encoder
from actions.semantic.faq_index import FaqIndex
from core.model_registry import data_hash

ROOT = Path(__file__).resolve().parents[3]

SETTINGS: IndexSettings = {
    "example_prompt": "",
    "message_prompt": "",
    "top_k": 2,
    "include_negatives": True,
    "center": True,
}


def test_builds_then_skips_until_the_data_changes(encoder: Encoder, tiny_nlu: Path, tmp_path: Path) -> None:
    out = tmp_path / "semantic"
    model = encoder.model_ref
    assert build([tiny_nlu], None, out, model, SETTINGS) is True
    assert FaqIndex.load(out).info.top_k == 2
    assert build([tiny_nlu], None, out, model, SETTINGS) is False
    assert build([tiny_nlu], None, out, model, {**SETTINGS, "top_k": 3}) is True
    with (tiny_nlu / "faq.yml").open("a", encoding="utf-8") as stream:
        stream.write("    - sapa admin\n")
    assert build([tiny_nlu], None, out, model, {**SETTINGS, "top_k": 3}) is True
    assert "sapa admin" in FaqIndex.load(out).texts


def test_cli_builds_with_the_given_model_and_the_versions_data_hash(
    encoder: Encoder, tiny_nlu: Path, tmp_path: Path
) -> None:
    out = tmp_path / "archive" / "20261126T103000Z.semantic"
    rules, domain = ROOT / "data" / "rules", ROOT / "rasa_project" / "domain"
    args = ["--data", str(tiny_nlu), str(rules), "--domain", str(domain), "--out", str(out)]
    assert main([*args, "--model", encoder.model_ref]) == 0
    assert (out / "faq_index.npz").is_file() and (out / "faq_index.json").is_file()
    # the trainer records the same fingerprint for the Rasa model: one version, one data hash
    assert FaqIndex.load(out).info.data_hash == data_hash([tiny_nlu, rules], domain)
    assert main([*args, "--model", encoder.model_ref]) == 0


def test_cli_fails_clearly_without_data(tmp_path: Path, encoder: Encoder) -> None:
    assert (
        main(
            ["--data", str(tmp_path / "nothing"), "--out", str(tmp_path / "x"), "--model", encoder.model_ref]
        )
        == 2
    )
