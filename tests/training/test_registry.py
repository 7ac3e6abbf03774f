"""The registry file, its history stack and the live link Rasa follows."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from rasa.model import get_latest_model, get_local_model

from core import model_registry as reg
from tests.training.conftest import GOOD, AddModel, make_entry, write_fake_model


def test_a_missing_registry_is_empty(models_dir: Path) -> None:
    registry = reg.load(models_dir)
    assert (registry.live, registry.history, registry.models) == (None, [], [])


def test_the_file_keeps_exactly_the_schema_the_web_app_reads(models_dir: Path, add_model: AddModel) -> None:
    add_model("A")
    with reg.update(models_dir) as registry:
        registry.activate("A", "first model")
    raw = json.loads((models_dir / "registry.json").read_text(encoding="utf-8"))
    assert set(raw) == {"live", "history", "models"}
    assert raw["live"] == "A" and raw["history"] == []
    (model,) = raw["models"]
    assert list(model) == [*reg.MODEL_KEYS, "index"]
    assert (model["file"], model["index"]) == ("archive/A.tar.gz", "archive/A.semantic")
    assert model["metrics"] == GOOD
    assert (model["status"], model["reason"]) == ("live", "first model")
    assert reg.load(models_dir).to_dict() == raw


def test_an_entry_from_before_versions_held_an_index_still_loads(
    models_dir: Path, add_model: AddModel
) -> None:
    add_model("A")
    raw = json.loads((models_dir / "registry.json").read_text(encoding="utf-8"))
    del raw["models"][0]["index"]
    raw["models"][0]["metrics"] = {"faq_right": 0.8, "routing": 0.9}  # Rasa-only figures of old
    (models_dir / "registry.json").write_text(json.dumps(raw), encoding="utf-8")
    model = reg.load(models_dir).entry("A")
    assert (model.index, model.index_path(models_dir), model.metrics["faq_right"]) == ("", None, 0.8)
    assert model.missing(models_dir) is None  # the Rasa model is all such a version has


def test_saving_leaves_no_temporary_files(models_dir: Path, add_model: AddModel) -> None:
    add_model("A")
    add_model("B")
    assert sorted(p.name for p in models_dir.iterdir()) == [".registry.lock", "archive", "registry.json"]
    assert [m.id for m in reg.load(models_dir).models] == ["A", "B"]
    assert (models_dir / "registry.json").stat().st_mode & 0o777 == 0o644


def test_a_failed_update_changes_nothing(models_dir: Path, add_model: AddModel) -> None:
    add_model("A")
    before = (models_dir / "registry.json").read_text(encoding="utf-8")
    with pytest.raises(reg.RegistryError), reg.update(models_dir) as registry:
        registry.activate("A", "x")
        registry.activate("missing", "x")
    assert (models_dir / "registry.json").read_text(encoding="utf-8") == before


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"live": null, "history": []}',
        '{"live": "X", "history": [], "models": []}',
        '{"live": null, "history": [], "models": [{"id": "A"}]}',
    ],
)
def test_a_broken_registry_is_reported_not_overwritten(models_dir: Path, content: str) -> None:
    models_dir.mkdir()
    (models_dir / "registry.json").write_text(content, encoding="utf-8")
    with pytest.raises(reg.RegistryError):
        reg.load(models_dir)


def three_models() -> reg.Registry:
    return reg.Registry(models=[make_entry(i, f"2026-11-26T1{n}:00:00+00:00") for n, i in enumerate("ABC")])


def test_activation_pushes_the_replaced_model_onto_the_history() -> None:
    registry = three_models()
    assert registry.activate("A", "first") is None
    assert registry.activate("B", "better") == "A"
    assert registry.activate("C", "better") == "B"
    assert (registry.live, registry.history) == ("C", ["A", "B"])
    assert [m.status for m in registry.models] == ["kept", "kept", "live"]
    assert registry.entry("B").reason == "replaced by C"
    with pytest.raises(reg.RegistryError, match="already live"):
        registry.activate("C", "again")


def test_rollback_walks_the_history_back_and_retires_what_it_replaces() -> None:
    registry = three_models()
    for model_id in "ABC":
        registry.activate(model_id, "gate")
    assert registry.rollback() == ("C", "B")
    assert (registry.live, registry.history) == ("B", ["A"])
    assert registry.entry("C").status == "retired"
    assert registry.entry("B").reason == "restored by rollback of C"
    assert registry.rollback() == ("B", "A")
    assert (registry.live, registry.history) == ("A", [])
    with pytest.raises(reg.RegistryError, match="no previously live model"):
        registry.rollback()


def test_activating_a_model_from_the_history_takes_it_off_the_stack() -> None:
    registry = three_models()
    for model_id in "ABC":
        registry.activate(model_id, "gate")
    registry.activate("A", "activated by hand")
    assert (registry.live, registry.history) == ("A", ["B", "C"])
    registry.rollback()
    assert registry.live == "C"


def test_same_inputs_finds_models_of_this_data_and_config_newest_first() -> None:
    old, new = make_entry("A", "2026-11-26T10:00:00+00:00"), make_entry("B", "2026-11-26T11:00:00+00:00")
    other = make_entry("C", "2026-11-26T12:00:00+00:00")
    other.data_hash = "e" * 64
    registry = reg.Registry(models=[old, new, other])
    assert [m.id for m in registry.same_inputs("d" * 64, "c" * 64)] == ["B", "A"]
    assert registry.same_inputs("x", "c" * 64) == []


def test_the_live_link_is_relative_and_rasa_picks_it_from_the_folder(
    models_dir: Path, add_model: AddModel
) -> None:
    first, second = add_model("A"), add_model("B")
    # the older archive file is the newer one on disk: Rasa must still take what the link says
    os.utime(first.path(models_dir), (time.time() + 60, time.time() + 60))
    link = reg.point_live(models_dir, second)
    assert link.is_symlink() and os.readlink(link) == "archive/B.tar.gz"
    assert reg.live_target(models_dir) == second.path(models_dir).resolve()
    assert Path(get_latest_model(str(models_dir)) or "").resolve() == second.path(models_dir).resolve()
    assert Path(get_local_model(str(models_dir))).resolve() == second.path(models_dir).resolve()
    reg.point_live(models_dir, first)
    assert os.readlink(link) == "archive/A.tar.gz"
    assert sorted(p.name for p in models_dir.iterdir() if not p.name.startswith(".")) == [
        "archive",
        "live.tar.gz",
        "registry.json",
    ]


def test_the_link_survives_moving_the_whole_models_folder(models_dir: Path, add_model: AddModel) -> None:
    reg.point_live(models_dir, add_model("A"))
    moved = models_dir.rename(models_dir.parent / "elsewhere")
    assert reg.live_target(moved) == (moved / "archive" / "A.tar.gz").resolve()


def test_linking_a_missing_file_fails_and_keeps_the_old_link(models_dir: Path, add_model: AddModel) -> None:
    reg.point_live(models_dir, add_model("A"))
    gone = add_model("B")
    gone.path(models_dir).unlink()
    with pytest.raises(reg.RegistryError, match="missing"):
        reg.point_live(models_dir, gone)
    assert os.readlink(reg.live_path(models_dir)) == "archive/A.tar.gz"


def test_models_from_before_the_registry_move_out_of_sight(models_dir: Path, add_model: AddModel) -> None:
    reg.point_live(models_dir, add_model("A"))
    write_fake_model(models_dir / "20261126-102100-old.tar.gz")
    moved = reg.move_stray_models(models_dir)
    assert moved == [models_dir / "archive" / "legacy" / "20261126-102100-old.tar.gz"]
    assert moved[0].is_file()
    assert sorted(p.name for p in models_dir.glob("*.tar.gz")) == ["live.tar.gz"]
    assert reg.live_target(models_dir) is not None
