"""The assistant's content on disk: what the live NLG serves and what the review app edits.

The domain files (``rasa_project/domain``, or ``TANYAVAKSIN_CONTENT_DIR``) are the single source of
the texts people read. Two processes read them: the Rasa server (``rasa_project/nlg.py``, Python 3.10)
and the review app's content workflow (``services/review/content*.py``, Python 3.11), which also
writes approved answers back. The file format is written down here once, so both agree. Standard
library and PyYAML only (both environments have them); nothing happens at import.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONTENT_DIR_ENV = "TANYAVAKSIN_CONTENT_DIR"
DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent / "domain"
DOMAIN_FILE_SUFFIXES = (".yml", ".yaml")

FAQ_RESPONSE_PREFIX = "utter_faq/"
# Contacts are slots with an ``initial_value`` (contacts.yml), used in texts as ``{kontak_...}``.
CONTACT_SLOT_PREFIX = "kontak_"

STATUS_DRAFT = "draft"
STATUS_APPROVED = "approved"

Responses = dict[str, list[dict[str, Any]]]
# (path, st_mtime_ns, st_size, st_ino) per file: a rename onto a file changes the inode at least.
Signature = tuple[tuple[str, int, int, int], ...]

try:  # the C loader parses the answers in a few milliseconds instead of tens
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader


class ContentError(Exception):
    """A domain file cannot be read or is not a Rasa domain; the message names the file, not its text."""


def content_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``TANYAVAKSIN_CONTENT_DIR`` if set (tests run the stack on a copy), else the repo's domain folder."""
    value = (os.environ if environ is None else environ).get(CONTENT_DIR_ENV, "").strip()
    return Path(value) if value else DEFAULT_CONTENT_DIR


def domain_files(directory: Path) -> list[Path]:
    """Every YAML file of the domain folder, sorted (Rasa reads a folder recursively too)."""
    return sorted(
        path for path in directory.rglob("*") if path.suffix in DOMAIN_FILE_SUFFIXES and path.is_file()
    )


def signature(directory: Path) -> Signature:
    """A cheap fingerprint of the folder (one ``stat`` per file): it changes when any file is replaced."""
    entries = []
    for path in domain_files(directory):
        try:
            stat = path.stat()
        except OSError:  # removed between the listing and the stat: the next call sees the new state
            continue
        entries.append((str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino))
    return tuple(entries)


def parse_domain_text(text: str, name: str) -> dict[str, Any]:
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as error:
        raise ContentError(f"{name} is not valid YAML ({type(error).__name__})") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ContentError(f"{name} is not a mapping")
    return data


def read_domain_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ContentError(f"{path.name} cannot be read ({type(error).__name__})") from error
    return parse_domain_text(text, path.name)


def file_responses(data: Mapping[str, Any], name: str) -> Responses:
    """The ``responses`` of one parsed domain file, checked to have Rasa's shape."""
    responses = data.get("responses") or {}
    if not isinstance(responses, dict):
        raise ContentError(f"{name}: responses is not a mapping")
    checked: Responses = {}
    for response, variations in responses.items():
        if not isinstance(variations, list) or not all(isinstance(v, dict) for v in variations):
            raise ContentError(f"{name}: {response} is not a list of variations")
        checked[str(response)] = variations
    return checked


def file_contacts(data: Mapping[str, Any]) -> dict[str, str]:
    """``kontak_*`` slots with their ``initial_value``: the canonical contact block."""
    slots = data.get("slots") or {}
    if not isinstance(slots, dict):
        return {}
    return {
        str(name): str(slot["initial_value"])
        for name, slot in slots.items()
        if str(name).startswith(CONTACT_SLOT_PREFIX)
        and isinstance(slot, dict)
        and slot.get("initial_value") is not None
    }


@dataclass(frozen=True)
class Content:
    """Every response and contact of the domain folder, and which file each response lives in."""

    responses: Responses = field(default_factory=dict)
    contacts: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)


def load_content(directory: Path) -> Content:
    """Reads the whole folder; raises :class:`ContentError` if any file is unreadable or malformed."""
    if not directory.is_dir():
        raise ContentError(f"{directory} is not a folder")
    responses: Responses = {}
    contacts: dict[str, str] = {}
    files: dict[str, Path] = {}
    for path in domain_files(directory):
        data = read_domain_file(path)
        for name, variations in file_responses(data, path.name).items():
            responses[name] = variations
            files[name] = path
        contacts.update(file_contacts(data))
    return Content(responses, contacts, files)


def variation_status(variation: Mapping[str, Any]) -> str | None:
    metadata = variation.get("metadata")
    if isinstance(metadata, dict) and metadata.get("status") is not None:
        return str(metadata["status"])
    return None


def servable(responses: Responses) -> Responses:
    """The answers under review that may reach people: variations with ``status: approved``.

    Texts without a status (menus, greetings, the schedule check) stay as the model has them: their
    buttons and wording go with the actions and the training data, so they change with a new model.
    A response with no approved variation is not overridden (a draft never reaches people).
    """
    served: Responses = {}
    for name, variations in responses.items():
        kept = [variation for variation in variations if variation_status(variation) == STATUS_APPROVED]
        if kept:
            served[name] = kept
    return served
