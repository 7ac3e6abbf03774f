"""Indonesian first, English on request: the review app's one translation mechanism.

Pages are written in Indonesian (ministry staff read them); a reviewer can switch to English with
the header's link (cookie ``lang``). Templates wrap every fixed text in ``_("…")``; Python code
that builds text for a page calls :func:`translate`. English texts live in
``locale/en/<area>.json`` (one file per area of the app, so pages are translated where they are
written), each mapping the Indonesian text to its English text. A text with no English entry
shows in Indonesian, never as a key.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import pass_context

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANG_COOKIE = "lang"
INDONESIAN = "id"
ENGLISH = "en"
LANGUAGES = (INDONESIAN, ENGLISH)


@cache
def catalog(language: str) -> dict[str, str]:
    """Indonesian text -> text in ``language``, merged from every area file (read once)."""
    if language == INDONESIAN:
        return {}
    merged: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / language).glob("*.json")):
        entries = json.loads(path.read_text(encoding="utf-8"))
        for indonesian, translated in entries.items():
            if indonesian in merged and merged[indonesian] != translated:
                raise ValueError(f"{path.name}: {indonesian!r} is translated twice, differently")
            merged[indonesian] = translated
    return merged


def language_of(request: Request | None) -> str:
    """The reviewer's choice from the cookie; Indonesian unless English was chosen."""
    if request is None:
        return INDONESIAN
    chosen = request.cookies.get(LANG_COOKIE, INDONESIAN)
    return chosen if chosen in LANGUAGES else INDONESIAN


def translate(text: str, language: str, /, **values: Any) -> str:
    """``text`` (Indonesian) in ``language``; ``{name}`` placeholders filled after translating."""
    chosen = catalog(language).get(text, text)
    return chosen.format(**values) if values else chosen


@pass_context
def template_translate(context: Any, text: str, /, **values: Any) -> str:
    """``_("…")`` in templates: the language of the request being rendered."""
    return translate(text, language_of(context.get("request")), **values)
