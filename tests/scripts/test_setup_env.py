"""scripts/setup_env.sh: an environment per set of requirements in the user's cache folder, linked from
.venvs/NAME, so a new clone of the same requirements links instead of installing everything again; changed
requirements get their own, and a half-made one is never linked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def checkout(folder: Path, lock: str) -> Path:
    """What the script reads, as a clone has it: itself, core/user_cache.py and requirements/demo.*."""
    (folder / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "setup_env.sh", folder / "scripts" / "setup_env.sh")
    (folder / "core").mkdir()
    shutil.copy2(ROOT / "core" / "user_cache.py", folder / "core" / "user_cache.py")
    (folder / "requirements").mkdir()
    (folder / "requirements" / "demo.in").write_text("# nothing to install\n", encoding="utf-8")
    (folder / "requirements" / "demo.lock").write_text(lock, encoding="utf-8")
    return folder


def setup(folder: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    return subprocess.run(
        [str(folder / "scripts" / "setup_env.sh"), "demo", PYTHON],
        env=environment, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_a_second_clone_links_the_environment_the_first_installed(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first, second = (checkout(tmp_path / name, "# lock one\n") for name in ("first", "second"))
    made = setup(first, cache)
    assert made.returncode == 0, made.stderr
    assert "Creating" in made.stdout and "Installing" in made.stdout
    link = first / ".venvs" / "demo"
    shared = link.resolve()
    assert link.is_symlink() and shared.is_relative_to(cache / "tanyavaksin" / "venvs")
    assert subprocess.run([str(link / "bin" / "python"), "-c", "pass"], check=False).returncode == 0

    linked = setup(second, cache)
    assert linked.returncode == 0, linked.stderr
    assert "Installing" not in linked.stdout and f"-> {shared}" in linked.stdout
    assert (second / ".venvs" / "demo").resolve() == shared
    again = setup(second, cache)  # up to date: nothing to say
    assert (again.returncode, again.stdout) == (0, "")


def test_changed_requirements_get_their_own_and_a_half_made_one_is_made_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    clone = checkout(tmp_path / "clone", "# lock one\n")
    assert setup(clone, cache).returncode == 0
    one = (clone / ".venvs" / "demo").resolve()
    (clone / "requirements" / "demo.lock").write_text("# lock two\n", encoding="utf-8")
    assert setup(clone, cache).returncode == 0
    two = (clone / ".venvs" / "demo").resolve()
    assert two != one and one.is_dir(), "the other requirements' environment is kept for its clones"

    (two / ".requirements.sha256").unlink()  # interrupted before the stamp: never linked as it is
    (two / "leftover").write_text("half-made", encoding="utf-8")
    remade = setup(clone, cache)
    assert remade.returncode == 0 and "Installing" in remade.stdout
    assert (clone / ".venvs" / "demo").resolve() == two and not (two / "leftover").exists()


def test_a_folder_environment_of_before_is_replaced_by_the_link(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    clone = checkout(tmp_path / "clone", "# lock one\n")
    old = clone / ".venvs" / "demo"
    (old / "bin").mkdir(parents=True)
    (old / ".requirements.sha256").write_text("the hash of other requirements\n", encoding="utf-8")
    assert setup(clone, cache).returncode == 0
    assert old.is_symlink() and (old / ".requirements.sha256").is_file()
