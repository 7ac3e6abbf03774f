"""Rasa's training cache: shared by checkouts of the same code, never reused across code changes."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from training.hashing import CODE_FILES, CODE_FOLDERS
from training.settings import CACHES_KEPT, RASA_CACHE_ENV, project_environment, rasa_cache_directory

ROOT = Path(__file__).resolve().parents[2]


def checkout(target: Path) -> Path:
    """The files the cache is keyed by, copied to another folder (a clone elsewhere)."""
    for name in CODE_FOLDERS:
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in CODE_FILES:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, target / name)
    return target


def test_two_checkouts_of_the_same_code_share_one_cache(tmp_path: Path) -> None:
    environment = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    here = rasa_cache_directory(environment, ROOT)
    elsewhere = rasa_cache_directory(environment, checkout(tmp_path / "clone"))
    assert here == elsewhere
    assert here.is_dir() and here.is_relative_to(tmp_path / "cache" / "tanyavaksin" / "rasa")


@pytest.mark.parametrize(
    "changed", ["rasa_project/components/e5_featurizer.py", "core/menu_words.py", "requirements/rasa.lock"]
)
def test_a_change_to_the_components_code_or_packages_starts_another_cache(
    tmp_path: Path, changed: str
) -> None:
    environment = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    clone = checkout(tmp_path / "clone")
    before = rasa_cache_directory(environment, clone)
    with (clone / changed).open("a", encoding="utf-8") as file:
        file.write("\n# changed\n")
    assert rasa_cache_directory(environment, clone) != before


def test_rasa_cache_directory_set_by_the_environment_wins(tmp_path: Path) -> None:
    assert rasa_cache_directory({RASA_CACHE_ENV: str(tmp_path / "mine")}) == tmp_path / "mine"


def test_only_the_most_recently_used_caches_are_kept(tmp_path: Path) -> None:
    environment = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    base = tmp_path / "cache" / "tanyavaksin" / "rasa"
    base.mkdir(parents=True)
    for age, name in enumerate(["newest-other", "older", "oldest"], start=1):
        (base / name).mkdir()
        (base / name / "cache.db").write_bytes(b"")
        stamp = time.time() - 3600 * age
        os.utime(base / name, (stamp, stamp))
    current = rasa_cache_directory(environment, ROOT)
    kept = sorted(path.name for path in base.iterdir())
    assert len(kept) == CACHES_KEPT
    assert sorted([current.name, "newest-other", "older"]) == kept


def test_rasa_trains_with_the_shared_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RASA_CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert Path(project_environment()[RASA_CACHE_ENV]) == rasa_cache_directory(os.environ)
