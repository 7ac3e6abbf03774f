"""Data and config fingerprints: equal for equal inputs wherever they are, different otherwise."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from core.model_registry import data_hash
from embedding.onnx_encoder import DEFAULT_FOLDER, ONNX_FILE
from tests.training.conftest import link_graph, replace_graph
from training.hashing import config_hash

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's data, domain, config and components."""
    for name in ("data", "rasa_project"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    link_graph(ROOT, tmp_path)
    return tmp_path


def hash_of(project: Path) -> str:
    data = [project / "data" / "nlu", project / "data" / "rules"]
    return data_hash(data, project / "rasa_project" / "domain")


def test_a_copy_of_the_data_hashes_the_same(project: Path) -> None:
    assert hash_of(project) == hash_of(ROOT)
    assert config_hash(project / "rasa_project" / "config.yml", project) == config_hash(
        ROOT / "rasa_project" / "config.yml", ROOT
    )


def test_a_new_training_file_changes_the_data_hash(project: Path) -> None:
    before = hash_of(project)
    (project / "data" / "nlu" / "reviewed.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: faq/biaya\n  examples: |\n    - bayar gak sih\n', encoding="utf-8"
    )
    assert hash_of(project) != before


def test_domain_changes_and_moved_files_change_the_data_hash(project: Path) -> None:
    before = hash_of(project)
    shutil.move(project / "data" / "rules" / "menu.yml", project / "data" / "nlu" / "menu.yml")
    moved = hash_of(project)
    assert moved != before
    domain_file = sorted((project / "rasa_project" / "domain").glob("*.yml"))[0]
    domain_file.write_text(domain_file.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert hash_of(project) != moved


def test_the_held_out_split_and_hidden_files_do_not_count(project: Path) -> None:
    before = hash_of(project)
    (project / "data" / "heldout" / "core.yml").write_text("nlu: []\n", encoding="utf-8")
    (project / "data" / "nlu" / ".reviewed.yml.swp").write_text("editor state", encoding="utf-8")
    assert hash_of(project) == before


def test_the_config_hash_follows_the_config_and_the_component_code(project: Path) -> None:
    config = project / "rasa_project" / "config.yml"
    before = config_hash(config, project)
    (project / "rasa_project" / "components" / "slang.py").write_text("SLANG_TO_STANDARD = {}\n", "utf-8")
    after_code = config_hash(config, project)
    assert after_code != before
    config.write_text(re.sub(r"epochs: \d+", "epochs: 1", config.read_text(encoding="utf-8")), "utf-8")
    assert config_hash(config, project) != after_code


def test_a_new_e5_graph_changes_the_config_hash(project: Path) -> None:
    """Rasa's e5 featurizer embeds with the provisioned graph: other vectors, another model."""
    config = project / "rasa_project" / "config.yml"
    graph = project / DEFAULT_FOLDER / ONNX_FILE
    graph.unlink(missing_ok=True)
    without = config_hash(config, project)
    replace_graph(graph, b"graph one")
    one = config_hash(config, project)
    replace_graph(graph, b"graph two")  # the same size: the content counts
    assert len({without, one, config_hash(config, project)}) == 3
    replace_graph(graph, b"graph one")
    assert config_hash(config, project) == one


def test_the_config_hash_follows_the_graph_of_the_featurizer_s_own_folder(project: Path) -> None:
    config = project / "rasa_project" / "config.yml"
    text = config.read_text(encoding="utf-8")
    assert "MultilingualE5Featurizer\n" in text
    own_folder = "MultilingualE5Featurizer\n    model_folder: quantized\n"
    config.write_text(text.replace("MultilingualE5Featurizer\n", own_folder), "utf-8")
    replace_graph(project / "quantized" / ONNX_FILE, b"int8 graph")
    before = config_hash(config, project)
    replace_graph(project / "quantized" / ONNX_FILE, b"int8 graph, per channel")
    assert config_hash(config, project) != before


def test_no_training_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "nlu").mkdir()
    with pytest.raises(FileNotFoundError):
        data_hash([tmp_path / "nlu"], ROOT / "rasa_project" / "domain")
