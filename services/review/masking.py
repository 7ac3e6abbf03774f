"""Personal data masked out of everything the review pages show.

The tracker store already redacts long numbers and full dates before Rasa writes them
(rasa_project/tracker_store.py), but older rows, other tracker stores and what the bot echoes are
not guaranteed to be redacted, and reviewers need none of it. Masked here: e-mail addresses, NIKs
(16 digits, also in groups), Indonesian phone numbers (+62 / 62 / 08...), dates (numeric, and with
Indonesian or English month names: "17 agustus 1985", "17 agt 85"), and any other run of 10 or more
digits. Placeholders match the tracker store's where they overlap.
"""

from __future__ import annotations

import re
from typing import Any

EMAIL = "[EMAIL]"
NIK = "[NIK]"
PHONE = "[TELEPON]"
DATE = "[TANGGAL]"
NUMBER = "[NOMOR]"

# Month words people write (actions/dates.py MONTHS; the masking tests check the two agree).
MONTH_WORDS = (
    "januari", "jan", "january", "februari", "pebruari", "feb", "peb", "febr", "february",
    "maret", "mar", "march", "april", "apr", "mei", "may", "juni", "jun", "june", "juli", "jul", "july",
    "agustus", "agu", "agt", "ags", "agst", "agus", "aug", "august", "september", "sep", "sept",
    "oktober", "okt", "oct", "october", "november", "nopember", "nov", "nop",
    "desember", "des", "dec", "december",
)  # fmt: skip

_SEP = r"[ \u00a0.\-]"
_MONTH = "|".join(sorted((re.escape(word) for word in MONTH_WORDS), key=len, reverse=True))
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", re.UNICODE)
_NIK = re.compile(rf"(?<![\d+])\d(?:{_SEP}{{0,2}}\d){{15}}(?!{_SEP}?\d)")
_PHONE = re.compile(
    rf"(?<![\w+(])\(?(?:\+\s?62|62|0)(?:{_SEP}|\(|\)){{0,2}}\d(?:(?:{_SEP}|\(|\)){{0,2}}\d){{6,13}}(?!\d)"
)
_DATES = re.compile(
    "|".join(
        (
            rf"(?<!\d)\d{{1,2}}(?:\s*[-/.]\s*|\s+)?(?:{_MONTH})\b\.?(?:\s*[-/.,]\s*|\s+)'?\d{{2,4}}(?!\d)",
            rf"\b(?:{_MONTH})\.?\s+\d{{1,2}},?\s+\d{{4}}(?!\d)",  # August 17, 1985
            r"(?<!\d)\d{4}\s*([-/.])\s*\d{1,2}\s*\1\s*\d{1,2}(?!\d)",  # 1985-08-17
            r"(?<!\d)\d{1,2}\s*([-/.])\s*\d{1,2}\s*\2\s*\d{2,4}(?!\d)",  # 17-08-1985, 17/8/85
            r"(?<!\d)\d{1,2}\s+\d{1,2}\s+\d{4}(?!\d)",  # 17 08 1985
            r"(?<!\d)(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])(?:19|20)\d{2}(?!\d)",  # 17081985
        )
    ),
    re.IGNORECASE,
)
_LONG_NUMBER = re.compile(rf"\d(?:{_SEP}{{0,2}}\d){{9,}}")
_PHONE_DIGITS = range(9, 16)


def _phone(match: re.Match[str]) -> str:
    digits = sum(character.isdigit() for character in match.group())
    text = match.group()
    mobile = text.lstrip("(+ ").startswith(("62", "08")) or re.match(r"\(?0\D{0,2}8", text)
    return PHONE if digits in _PHONE_DIGITS and mobile else text


def mask_personal_data(text: Any) -> str:
    """``text`` with personal data replaced by placeholders; ``None`` becomes ""."""
    if text is None:
        return ""
    masked = _EMAIL.sub(EMAIL, str(text))
    masked = _NIK.sub(NIK, masked)
    masked = _PHONE.sub(_phone, masked)
    masked = _DATES.sub(DATE, masked)
    return _LONG_NUMBER.sub(NUMBER, masked)


def mask_value(value: Any) -> Any:
    """Strings masked wherever they sit in a slot value or event data (lists, dicts)."""
    if isinstance(value, str):
        return mask_personal_data(value)
    if isinstance(value, list):
        return [mask_value(item) for item in value]
    if isinstance(value, dict):
        return {key: mask_value(item) for key, item in value.items()}
    return value
