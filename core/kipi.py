"""Side effects after vaccination (KIPI) reported by chat: the danger signs, the severities, the lengths.

A report starts with whatever the person wrote; if any reader of it could be in danger, the
emergency advice (119 or the nearest IGD) comes first, before a single question
(/work/shared/spec/faq_current.md, *kipi_berat*). The danger signs are read here, once, for the
action server (actions/kipi.py) and anyone else who needs them; the limits match the registry's
columns (``kipi_reports``). Standard library only (both Pythons).

The signs follow the facts brief: difficulty breathing or wheezing, swelling of face or throat,
rash all over, fast weak pulse, fainting, chest pain, seizure, and a very high fever. A sign
right after a negation ("tidak sesak", "gak kejang") does not count, except where the negation is
the sign itself ("tidak sadar"). Missing a sign costs more than a needless warning, so the words
are generous: slang, common typos and English.
"""

from __future__ import annotations

import re
from typing import Final

SEVERITIES: Final = ("ringan", "sedang", "berat")
SEVERE: Final = "berat"
SYMPTOMS_MAX: Final = 500
ONSET_MAX: Final = 40
PLACE_MAX: Final = 200
HIGH_FEVER_CELSIUS: Final = 40.0

_BREATH = r"(?:napas|nafas|nafs|nfas|bernapas|bernafas|napasnya|nafasnya)"
_FACE = r"(?:wajah|muka|bibir|lidah|tenggorokan|tenggorok|kelopak mata|mata)(?:nya)?"
_ALL_OVER = r"(?:seluruh|semua|sekujur)\s+(?:tubuh|badan|bdn|kulit)|(?:sebadan|sebadanan)"
_SIGNS: Final = {
    "kejang": r"kejang\w*|step|seizures?|convulsions?",
    "sesak napas": (
        rf"sesa[kc]\w*(?:\s+{_BREATH})?"
        rf"|(?:susah|sulit|sukar|gak bisa|ga bisa|tidak bisa|tdk bisa)\s+{_BREATH}"
        r"|mengi|ngik[\s-]*ngik|(?:short(?:ness)? of breath|can'?t breathe|difficulty breathing)"
    ),
    "pingsan": r"pingsan|fainted|fainting|passed out",
    "tidak sadar": (
        r"(?:tidak|tdk|gak|ga|nggak|enggak|g)\s+sadar(?:kan diri)?|hilang kesadaran|kesadaran\s+menurun"
        r"|unconscious"
    ),
    "bengkak wajah atau bibir": (
        rf"(?:bengkak|bngkak|bengkok|membengkak|swollen|swelling)\s+(?:di\s+|pada\s+)?{_FACE}"
        rf"|{_FACE}\s+(?:\w+\s+)?(?:bengkak|bngkak|membengkak|swollen)"
    ),
    "biduran seluruh tubuh": (
        rf"(?:biduran|bidur|kaligata|ruam|bentol\w*|gatal\w*|merah\w*|hives|rash)\s+(?:di\s+)?(?:{_ALL_OVER})"
    ),
    "nyeri dada": r"(?:nyeri|sakit|sesek|berat)\s+(?:di\s+)?dada|chest pain",
    "denyut nadi cepat dan lemah": r"(?:nadi|denyut)\s+(?:\w+\s+)?(?:cepat|lemah)",
    "bibir atau kulit kebiruan": r"(?:bibir|kulit|kuku)\s+(?:\w+\s+)?(?:biru|kebiruan)",
}
_NEGATION = re.compile(r"(?:tidak|tdk|gak|ga|nggak|enggak|engga|ngga|bukan|tanpa|no|not|belum|blm)\s+$")
_COMPILED: Final = {name: re.compile(rf"(?<!\w)(?:{pattern})(?!\w)") for name, pattern in _SIGNS.items()}
# "demam 40", "panas 40,5 derajat", "suhu 41 C", "fever 40.2": a number of 40 or more near a fever word.
_FEVER = re.compile(
    r"(?<!\w)(?:demam|panas|suhu|suhunya|suhu badan|fever|temp)\D{0,15}?(?<!\d)(\d{2}(?:[.,]\d)?)(?!\d)"
)
_DEGREES = re.compile(r"(?<![\d.,])(\d{2}(?:[.,]\d)?)\s*(?:°\s*c?|derajat|drjt|celcius|celsius|c)(?!\w)")
_SPACES = re.compile(r"\s+")


def _plain(text: str) -> str:
    return _SPACES.sub(" ", text.lower())


def danger_signs(text: str) -> tuple[str, ...]:
    """The danger signs the text names (their plain names, in a fixed order), or () when none."""
    plain = _plain(text)
    found = [
        name
        for name, pattern in _COMPILED.items()
        if any(
            name == "tidak sadar" or not _negated(plain, match.start()) for match in pattern.finditer(plain)
        )
    ]
    if any(
        float(match.group(1).replace(",", ".")) >= HIGH_FEVER_CELSIUS and not _negated(plain, match.start())
        for match in (*_FEVER.finditer(plain), *_DEGREES.finditer(plain))
    ):
        found.append("demam 40 °C atau lebih")
    return tuple(found)


def is_severe(text: str) -> bool:
    """Whether the text names any danger sign: the emergency advice comes before anything else."""
    return bool(danger_signs(text))


def _negated(text: str, start: int) -> bool:
    return _NEGATION.search(text[max(0, start - 12) : start]) is not None


def severity_of(text: str) -> str | None:
    """``ringan``, ``sedang`` or ``berat`` from a tap or a typed answer ("Berat", "2", "parah"), else None."""
    plain = " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())
    if plain in SEVERITIES:
        return plain
    numbered = {"1": "ringan", "2": "sedang", "3": "berat"}
    if plain in numbered:
        return numbered[plain]
    words = set(plain.split())
    if words & {"parah", "berat", "gawat", "severe", "serius", "darurat"}:
        return SEVERE
    if words & {"sedang", "lumayan", "moderate", "menengah"}:
        return "sedang"
    if words & {"ringan", "enteng", "mild", "biasa", "sedikit", "dikit"}:
        return "ringan"
    return None
