"""Fingerprints of what a model is trained from, so an unchanged model is not retrained.

The data hash covers the training files and the domain; the config hash covers the pipeline
config, the code of the project's own components it names (their whole package folder, since
components import helpers such as ``slang.py``) and the Rasa version. File paths count relative
to the folder given, so a copy of ``data/`` elsewhere hashes the same.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Iterable
from pathlib import Path

import yaml

# the suffixes Rasa reads training data and domains from
DATA_SUFFIXES = (".yml", ".yaml", ".md", ".json")


def files_of(paths: Iterable[Path]) -> list[tuple[str, Path]]:
    """(name for the hash, file) for every data file under the given files or folders."""
    found: list[tuple[str, Path]] = []
    for root in paths:
        if root.is_file():
            found.append((root.name, root))
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in DATA_SUFFIXES and not path.name.startswith("."):
                found.append(((Path(root.name) / path.relative_to(root)).as_posix(), path))
    return found


def digest(named_files: Iterable[tuple[str, Path]], extra: Iterable[str] = ()) -> str:
    hasher = hashlib.sha256()
    for name, path in sorted(named_files, key=lambda item: item[0]):
        content = path.read_bytes()
        hasher.update(f"{name}\0{len(content)}\0".encode())
        hasher.update(content)
    for text in extra:
        hasher.update(f"extra\0{text}\0".encode())
    return hasher.hexdigest()


def data_hash(data: Iterable[Path], domain: Path) -> str:
    """Training files and domain; a file that moves between the data folders counts as a change."""
    data_files = [(f"data/{name}", path) for name, path in files_of(data)]
    domain_files = [(f"domain/{name}", path) for name, path in files_of([domain])]
    if not data_files:
        raise FileNotFoundError(f"no training data files in {', '.join(map(str, data))}")
    return digest(data_files + domain_files)


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


def config_hash(config: Path, project_root: Path) -> str:
    sources = [("config", config), *component_sources(config, project_root)]
    return digest(sources, extra=[f"rasa=={_rasa_version()}"])


def _rasa_version() -> str:
    try:
        return importlib.metadata.version("rasa")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
