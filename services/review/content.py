"""The content workflow's domain logic: the FAQ answers on disk, what a phone shows, the checks, publishing.

The answers live in the domain files (``settings.content_dir``, the folder the live NLG serves from:
``rasa_project/nlg.py``); their format is in ``rasa_project/content.py``. Publishing an approved edit
rewrites only that answer's block of its file, checks that the file still parses to exactly the
intended responses, and replaces the file atomically (temp file + rename), so the assistant never
reads half a file and every other answer, comment and formatting stays as it was.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from markupsafe import Markup

from actions.choices import MORE_OPTIONS
from rasa_project.channels.limits import MAX_TEXT
from rasa_project.content import (
    FAQ_RESPONSE_PREFIX,
    STATUS_APPROVED,
    STATUS_DRAFT,
    Content,
    ContentError,
    file_responses,
    load_content,
    parse_domain_text,
)
from services.common.files import write_atomically

# WhatsApp readers skim past ~600 characters (issue #10): the answer before its source line, and
# the whole message with the source line.
BODY_LIMIT = 600
TOTAL_LIMIT = 700
REVIEW_SOON_DAYS = 30
MAX_REVIEW_AHEAD_DAYS = 366  # next_review at most 12 months ahead
MAX_NOTE_LENGTH = 500
# The way on: every FAQ answer goes out with this reply button under it (actions/menu.py utter_answer).
ANSWER_BUTTONS = (str(MORE_OPTIONS["title"]),)

SOURCE_LINE = re.compile(r"^\s*Sumber\s*:", re.MULTILINE)
# Rasa's interpolator (rasa/core/nlg/interpolator.py) fills exactly these.
PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")
TOPIC = re.compile(r"^[a-z0-9_]{1,64}$")

FLAG_PAST = "lewat"
FLAG_SOON = "segera"


def parse_day(value: Any) -> date | None:
    """Metadata dates are ISO strings (``"2027-06-01"``); unquoted YAML dates arrive as ``date``."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def text_digest(text: str) -> str:
    """What an edit was based on: approving it is refused once the answer on disk differs."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Source:
    url: str
    title: str
    date: str
    kind: str


@dataclass(frozen=True)
class Answer:
    """One FAQ answer (the first variation of ``utter_faq/<topic>``) as its file has it now."""

    name: str
    topic: str
    path: Path
    text: str
    metadata: dict[str, Any]

    @property
    def status(self) -> str:
        return str(self.metadata.get("status") or STATUS_DRAFT)

    @property
    def valid_as_of(self) -> date | None:
        return parse_day(self.metadata.get("valid_as_of"))

    @property
    def next_review(self) -> date | None:
        return parse_day(self.metadata.get("next_review"))

    @property
    def approved_by(self) -> str:
        return str(self.metadata.get("approved_by") or "")

    @property
    def approved_at(self) -> str:
        return str(self.metadata.get("approved_at") or "")

    @property
    def sources(self) -> list[Source]:
        found = []
        for item in self.metadata.get("sources") or []:
            if isinstance(item, dict):
                found.append(
                    Source(
                        url=str(item.get("url") or ""),
                        title=str(item.get("title") or ""),
                        date=str(item.get("date") or ""),
                        kind=str(item.get("kind") or ""),
                    )
                )
            else:  # the older format: "url (note)"
                url, _, note = str(item).partition(" ")
                found.append(Source(url=url, title=note.strip("() "), date="", kind=""))
        return found

    @property
    def changelog(self) -> list[dict[str, str]]:
        entries = self.metadata.get("changelog") or []
        return [
            {key: str(value) for key, value in entry.items()} for entry in entries if isinstance(entry, dict)
        ]

    @property
    def digest(self) -> str:
        return text_digest(self.text)


def topic_of(name: str) -> str:
    return name.removeprefix(FAQ_RESPONSE_PREFIX)


def answers(content: Content) -> list[Answer]:
    """Every FAQ answer, by topic."""
    found = []
    for name, variations in content.responses.items():
        if not name.startswith(FAQ_RESPONSE_PREFIX) or not variations:
            continue
        first = variations[0]
        found_metadata = first.get("metadata")
        metadata: dict[str, Any] = dict(found_metadata) if isinstance(found_metadata, dict) else {}
        found.append(
            Answer(name, topic_of(name), content.files[name], str(first.get("text") or ""), metadata)
        )
    return sorted(found, key=lambda answer: answer.topic)


def read_content(directory: Path) -> Content:
    return load_content(directory)


def find_answer(content: Content, topic: str) -> Answer | None:
    if not TOPIC.match(topic):
        return None
    return next((answer for answer in answers(content) if answer.topic == topic), None)


# ------------------------------------------------------------------ what a phone shows


def fill_variables(text: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """The text with ``{name}`` filled as Rasa fills it, and the names nothing fills (they would
    reach the recipient as written)."""
    unknown = [name for name in PLACEHOLDER.findall(text) if name not in values]
    if unknown:
        return text, sorted(set(unknown))
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text), []


def _styled(marker: str, tag: str, text: str) -> str:
    """WhatsApp's rule: a marker pair around non-blank text, not inside a word, on one line."""
    m = re.escape(marker)
    pattern = rf"(?<![0-9A-Za-z{m}]){m}(?=[^\s{m}])([^\n{m}]*?[^\s{m}]|[^\s{m}]){m}(?![0-9A-Za-z{m}])"
    return re.sub(pattern, rf"<{tag}>\1</{tag}>", text)


def whatsapp_html(text: str) -> Markup:
    """The text as WhatsApp formats it: *bold*, _italic_, ~strike~, ```monospace```; the rest escaped
    (line breaks are kept by the bubble's ``white-space: pre-wrap``)."""
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"```(.+?)```", r"<code>\1</code>", escaped, flags=re.DOTALL)
    for marker, tag in (("*", "strong"), ("_", "em"), ("~", "del")):
        escaped = _styled(marker, tag, escaped)
    return Markup(escaped)


@dataclass(frozen=True)
class Rendered:
    """An answer as the recipient gets it, with its length and what is wrong with it."""

    text: str
    html: Markup
    length: int
    body_length: int
    unknown: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    buttons: tuple[str, ...] = ANSWER_BUTTONS

    @property
    def too_long(self) -> bool:
        return self.length > TOTAL_LIMIT


def render_answer(text: str, contacts: dict[str, str]) -> Rendered:
    filled, unknown = fill_variables(text, contacts)
    source = SOURCE_LINE.search(filled)
    body_length = len(filled[: source.start()].rstrip()) if source else len(filled)
    warnings = []
    if unknown:
        warnings.append(
            "Variabel tidak dikenal (akan terlihat apa adanya oleh penerima): "
            + ", ".join(f"{{{name}}}" for name in unknown)
        )
    if body_length > BODY_LIMIT:
        warnings.append(f"Jawaban sebelum baris sumber {body_length} karakter: lebih dari {BODY_LIMIT}.")
    if len(filled) > TOTAL_LIMIT:
        warnings.append(f"Seluruh pesan {len(filled)} karakter: lebih dari batas {TOTAL_LIMIT}.")
    return Rendered(filled, whatsapp_html(filled), len(filled), body_length, unknown, warnings)


# ------------------------------------------------------------------ checks and review dates


def review_flag(next_review: date | None, today: date) -> str | None:
    """``lewat`` when the review date has passed (or is missing), ``segera`` within 30 days."""
    if next_review is None or next_review < today:
        return FLAG_PAST
    if next_review <= today + timedelta(days=REVIEW_SOON_DAYS):
        return FLAG_SOON
    return None


def normalise_text(text: str) -> str:
    """Line endings of any browser, no trailing spaces (WhatsApp does not show them)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


@dataclass(frozen=True)
class Edit:
    text: str
    valid_as_of: date | None
    next_review: date | None
    note: str


def edit_problems(edit: Edit, contacts: dict[str, str], today: date) -> list[str]:
    """Why an edit cannot be sent for approval (empty: it can)."""
    problems = []
    rendered = render_answer(edit.text, contacts)
    if not edit.text.strip():
        problems.append("Teks jawaban tidak boleh kosong.")
    if rendered.unknown:
        problems.append(rendered.warnings[0])
    if rendered.length > TOTAL_LIMIT:
        problems.append(f"Seluruh pesan {rendered.length} karakter; batasnya {TOTAL_LIMIT}.")
    if len(edit.text) > MAX_TEXT:
        problems.append(f"Teks lebih dari {MAX_TEXT} karakter, batas WhatsApp.")
    if edit.valid_as_of is None:
        problems.append("Isi tanggal 'berlaku sejak' (valid_as_of) dengan format TTTT-BB-HH.")
    elif edit.valid_as_of > today:
        problems.append("Tanggal 'berlaku sejak' tidak boleh di masa depan.")
    if edit.next_review is None:
        problems.append("Isi tanggal 'tinjau ulang' (next_review) dengan format TTTT-BB-HH.")
    elif not today < edit.next_review <= today + timedelta(days=MAX_REVIEW_AHEAD_DAYS):
        problems.append("Tanggal 'tinjau ulang' harus setelah hari ini dan paling lama 12 bulan lagi.")
    if not edit.note.strip():
        problems.append("Tuliskan apa yang diubah dan mengapa (catatan perubahan).")
    elif len(edit.note) > MAX_NOTE_LENGTH:
        problems.append(f"Catatan perubahan paling banyak {MAX_NOTE_LENGTH} karakter.")
    return problems


# ------------------------------------------------------------------ publishing


class AnswerChanged(Exception):
    """The answer on disk is no longer the one the edit was based on."""


class _Literal(str):
    """A text written as a YAML literal block (``|-``), the way the domain files hold answers."""


class _Flow(dict[str, Any]):
    """A small mapping written on one line (a source, a changelog entry)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Literal, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style="|")
)
_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)


def approved_metadata(
    old: dict[str, Any], edit: Edit, author: str, approver: str, today: date
) -> dict[str, Any]:
    """The answer's metadata after approval; keys it does not manage stay as they were."""
    metadata = dict(old)
    metadata["status"] = STATUS_APPROVED
    metadata["valid_as_of"] = edit.valid_as_of.isoformat() if edit.valid_as_of else ""
    metadata["next_review"] = edit.next_review.isoformat() if edit.next_review else ""
    metadata["approved_by"] = approver
    metadata["approved_at"] = today.isoformat()
    entry = {"at": today.isoformat(), "by": author, "change": f"{edit.note.strip()} (disetujui {approver})"}
    metadata["changelog"] = [*(old.get("changelog") or []), entry]
    return metadata


def _for_yaml(variation: dict[str, Any]) -> dict[str, Any]:
    written: dict[str, Any] = {}
    for key, value in variation.items():
        if key == "text":
            written[key] = _Literal(value)
        elif key == "metadata" and isinstance(value, dict):
            metadata = dict(value)
            for listed in ("sources", "changelog"):
                if isinstance(metadata.get(listed), list):
                    metadata[listed] = [_Flow(i) if isinstance(i, dict) else i for i in metadata[listed]]
            written[key] = metadata
        else:
            written[key] = value
    return written


def response_block(name: str, variations: list[dict[str, Any]], indent: str) -> str:
    dumped = yaml.dump(
        {name: [_for_yaml(variation) for variation in variations]},
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=110,
        default_flow_style=False,
    )
    return "".join(f"{indent}{line}" if line.strip() else line for line in dumped.splitlines(keepends=True))


def _block_span(lines: list[str], name: str) -> tuple[int, int, str]:
    """Where ``name:``'s block is: its first line, the line after it, its indentation."""
    key = re.compile(rf"^(?P<indent>[ ]*)(?P<q>['\"]?){re.escape(name)}(?P=q)[ ]*:[ ]*(#.*)?$")
    for start, line in enumerate(lines):
        match = key.match(line.rstrip("\n"))
        if not match:
            continue
        indent = match.group("indent")
        end = start + 1
        while end < len(lines):
            current = lines[end].rstrip("\n")
            stripped = current.lstrip(" ")
            depth = len(current) - len(stripped)
            if stripped and (depth < len(indent) or (depth == len(indent) and not stripped.startswith("-"))):
                break
            end += 1
        # blank lines and comments just before the next key belong to it
        while end > start + 1:
            previous = lines[end - 1].rstrip("\n")
            stripped = previous.lstrip(" ")
            if stripped and not (stripped.startswith("#") and len(previous) - len(stripped) <= len(indent)):
                break
            end -= 1
        return start, end, indent
    raise ContentError(f"{name} is not in its file")


def replace_response(text: str, file_name: str, name: str, variations: list[dict[str, Any]]) -> str:
    """The file's text with only ``name``'s block replaced; refused unless it parses back to exactly
    the old responses with that one changed."""
    before = parse_domain_text(text, file_name)
    lines = text.splitlines(keepends=True)
    start, end, indent = _block_span(lines, name)
    block = response_block(name, variations, indent)
    updated = "".join(lines[:start]) + block + "".join(lines[end:])
    after = parse_domain_text(updated, file_name)
    expected_responses = {**file_responses(before, file_name), name: variations}
    unchanged_rest = {k: v for k, v in after.items() if k != "responses"} == {
        k: v for k, v in before.items() if k != "responses"
    }
    if file_responses(after, file_name) != _plain(expected_responses) or not unchanged_rest:
        raise ContentError(f"{file_name}: the rewritten file would not hold exactly the approved answer")
    return updated


def _plain(value: Any) -> Any:
    """What YAML gives back for ``value`` (our dict subclasses become plain dicts)."""
    return yaml.safe_load(yaml.safe_dump(value, allow_unicode=True))


_publishing = threading.Lock()


def publish(
    directory: Path, topic: str, edit: Edit, base_digest: str, author: str, approver: str, today: date
) -> Answer:
    """Writes an approved edit to its domain file; the live NLG serves it from the next message on."""
    with _publishing:
        content = read_content(directory)
        answer = find_answer(content, topic)
        if answer is None:
            raise ContentError(f"utter_faq/{topic} is not in {directory}")
        if answer.digest != base_digest:
            raise AnswerChanged(answer.name)
        original = content.responses[answer.name]
        first = dict(original[0])
        first["text"] = edit.text
        first["metadata"] = approved_metadata(answer.metadata, edit, author, approver, today)
        variations = [first, *original[1:]]
        old_text = answer.path.read_text(encoding="utf-8")
        write_atomically(answer.path, replace_response(old_text, answer.path.name, answer.name, variations))
        published = find_answer(read_content(directory), topic)
        assert published is not None
        return published
