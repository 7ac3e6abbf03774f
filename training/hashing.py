"""Fingerprints of what a model is trained from, so an unchanged model is not retrained.

The data hash (``core.model_registry.data_hash``, shared with the semantic index) covers the
training files and the domain; the config hash covers the pipeline
config, the code of the project's own components it names (their whole package folder, since
components import helpers such as ``slang.py``), the Rasa version and the e5 graph the featurizer
embeds with (``embedding/``). File paths count relative to the folder given, so a copy of ``data/``
elsewhere hashes the same.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import yaml

from core.model_registry import digest
from embedding.onnx_encoder import DEFAULT_FOLDER, graph_identity


def component_sources(config: Path, project_root: Path) -> list[tuple[str, Path]]:
    """The Python files of the project packages that hold the config's own components."""
    sources: list[tuple[str, Path]] = []
    folders = set()
    settings = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    steps = [*(settings.get("pipeline") or []), *(settings.get("policies") or [])]
    for name in (str(step.get("name", "")) for step in steps if isinstance(step, dict)):
        if "." not in name:
            continue  # a built-in Rasa component
        module_file = project_root.joinpath(*name.split(".")[:-1]).with_suffix(".py")
        if module_file.is_file():
            folders.add(module_file.parent)
    for folder in sorted(folders):
        for path in sorted(folder.glob("*.py")):
            sources.append((path.relative_to(project_root).as_posix(), path))
    return sources


# What Rasa's own cache fingerprints (component name, config, inputs) cannot see: the code of the
# project's components and of what they import, and the packages they run on. (The e5 graph it sees:
# the featurizer's ``fingerprint_addon``.)
CODE_FOLDERS = ("rasa_project", "core", "embedding")
CODE_FILES = ("requirements/rasa.lock",)


def code_hash(project_root: Path) -> str:
    """The project's Rasa-side code and pinned packages, relative paths: the same in every checkout."""
    sources = [
        (path.relative_to(project_root).as_posix(), path)
        for folder in CODE_FOLDERS
        for path in sorted((project_root / folder).rglob("*.py"))
    ]
    sources += [(name, project_root / name) for name in CODE_FILES if (project_root / name).is_file()]
    return digest(sources, extra=[f"rasa=={_rasa_version()}"])


def config_hash(config: Path, project_root: Path) -> str:
    sources = [("config", config), *component_sources(config, project_root)]
    return digest(sources, extra=[f"rasa=={_rasa_version()}", embedding_graph(config, project_root)])


E5_FEATURIZER = "MultilingualE5Featurizer"


def embedding_graph(config: Path, project_root: Path) -> str:
    """The identity of the e5 graph the config's featurizer embeds with (its ``model_folder``, else
    the provisioned one): a new graph gives other vectors, so another model, under the same config."""
    settings = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    steps = [step for step in settings.get("pipeline") or [] if isinstance(step, dict)]
    folders = [
        Path(str(step.get("model_folder") or DEFAULT_FOLDER))
        for step in steps
        if str(step.get("name", "")).endswith(E5_FEATURIZER)
    ]
    return ";".join(f"e5-graph={graph_identity(project_root / folder)}" for folder in folders)


def _rasa_version() -> str:
    try:
        return importlib.metadata.version("rasa")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
