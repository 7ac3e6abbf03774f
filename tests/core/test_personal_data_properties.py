"""Generated spellings of NIKs, birth dates and phone numbers never survive redaction.

Actions environment only (hypothesis); the example tests in test_personal_data.py run in both. Also
measures false positives on the project's own text: no NLU training or held-out example, and no
sample question of the topic spec, is changed by redaction.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.months import MONTHS
from core.nlu_yaml import yaml_files
from core.personal_data import (
    DATE_PLACEHOLDER,
    NIK_PLACEHOLDER,
    PHONE_PLACEHOLDER,
    redact_message,
    redact_text,
)
from services.review.training_data import read_examples

ROOT = Path(__file__).resolve().parents[2]

# What people put between the groups of a number or the parts of a date.
SEPARATORS = (
    " ", "  ", ".", "-", "/", "\\", ",", ", ", " - ", " / ", ". ", "\n", "\r\n", " \n ", "\n\n", "\t",
    "\u00a0", "\u200b", "_", ";", ":", " . ", "|",
)  # fmt: skip
# Surrounding words: letters and punctuation, no digits (so any digit left over is a leak), and no
# O, l or I, which next to a digit are read as one.
SURROUNDING = st.text(alphabet="abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ ?!,.()\u00e9", max_size=30)
MONTH_WORDS = {number: [word for word, n in MONTHS.items() if n == number] for number in range(1, 13)}


def in_a_sentence(draw: st.DrawFn, value: str) -> str:
    before, after = draw(SURROUNDING), draw(SURROUNDING)
    return f"{before} {value} {after}"


def any_case(draw: st.DrawFn, word: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    return "".join(c.upper() if flip else c.lower() for c, flip in zip(word, flips))


@st.composite
def niks(draw: st.DrawFn) -> str:
    """16 digits in random groups with random separators, sometimes a word between two groups."""
    digits = draw(st.text(alphabet="0123456789", min_size=16, max_size=16))
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=15), max_size=15)))
    groups = [digits[start:end] for start, end in zip([0, *cuts], [*cuts, 16])]
    parts = [groups[0]]
    for group in groups[1:]:
        parts += [draw(st.sampled_from(SEPARATORS)), group]
    return in_a_sentence(draw, "".join(parts))


@st.composite
def niks_with_a_word_inside(draw: st.DrawFn) -> str:
    """A well-formed NIK with a word between two of its groups ("3174 0517 eh 0885 9001").

    Not when a part is dialled like a whole mobile number (08..., 628...): that is read as a phone
    number next to another number (core/personal_data.py).
    """
    day = draw(st.integers(min_value=1, max_value=28)) + draw(st.sampled_from([0, 40]))
    region = f"{draw(st.integers(11, 94))}{draw(st.integers(1, 99)):02d}{draw(st.integers(1, 99)):02d}"
    born = f"{day:02d}{draw(st.integers(1, 12)):02d}{draw(st.integers(0, 99)):02d}"
    digits = f"{region}{born}{draw(st.integers(1, 9999)):04d}"
    cut = draw(st.integers(min_value=2, max_value=14))
    assume(not any(part.startswith(("08", "628")) for part in (digits[:cut], digits[cut:])))
    word = draw(st.sampled_from(["eh", "maaf", "yg", "ini", "lalu", "terus"]))
    return in_a_sentence(draw, f"{digits[:cut]} {word} {digits[cut:]}")


def _year(draw: st.DrawFn, born: date, separator: str) -> str:
    two_digits = separator.strip() in "-/.\\_" and separator.strip() != "" and draw(st.booleans())
    return f"{born.year % 100:02d}" if two_digits else str(born.year)


@st.composite
def dates(draw: st.DrawFn) -> str:
    """A date in one of the spellings people use, with random separators, case and zero padding."""
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 12, 31)))
    day = draw(st.sampled_from([str(born.day), f"{born.day:02d}"]))
    month = draw(st.sampled_from([str(born.month), f"{born.month:02d}"]))
    word = any_case(draw, draw(st.sampled_from(MONTH_WORDS[born.month])))
    word += draw(st.sampled_from(["", "."])) if len(word) <= 4 else ""
    separator = draw(st.sampled_from(SEPARATORS))
    glue = draw(st.sampled_from(["", " ", "-", "/", ".", "\n"]))
    year = _year(draw, born, separator)
    spelling = draw(
        st.sampled_from(
            [
                f"{day}{separator}{month}{separator}{year}",  # 17-08-1985, 17/8/85
                f"{born.year}{separator}{month}{separator}{day}",  # 1985-08-17
                f"{born.day:02d}{born.month:02d}{born.year}",  # 17081985
                f"{born.day:02d}{born.month:02d}{born.year % 100:02d}",  # 170885
                f"{born.year}{born.month:02d}{born.day:02d}",  # 19850817
                f"{day}{glue}{word}{glue}{born.year}",  # 17 Agustus 1985, 17agustus1985
                f"{day}{glue}{word} '{born.year % 100:02d}",  # 17 agt '85
                f"{word} {day}, {born.year}",  # Agustus 17, 1985
                f"{word}{glue}{day}{separator}{born.year}",
                f"tgl {day} bln {month} thn {born.year}",
            ]
        )
    )
    return in_a_sentence(draw, spelling)


@st.composite
def phones(draw: st.DrawFn) -> str:
    """An Indonesian mobile number, 08... or +62 8..., in random groups."""
    rest = draw(st.text(alphabet="0123456789", min_size=7, max_size=10))
    start = draw(st.sampled_from(["08", "+62 8", "+628", "62 8", "(08"]))
    digits = f"{draw(st.integers(1, 9))}{rest}"
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=len(digits) - 1), max_size=3)))
    groups = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)])]
    separator = draw(st.sampled_from([" ", "-", ".", ""]))
    number = start + separator.join(groups)
    if start == "(08":
        number = f"(08{groups[0]}) " + " ".join(groups[1:])
    return in_a_sentence(draw, number)


def no_digit_left(text: str) -> bool:
    return not any(character.isdigit() for character in text)


@settings(max_examples=400, deadline=None)  # correctness; speed is timed below
@given(niks())
def test_no_nik_survives(text: str) -> None:
    redacted = redact_text(text)
    assert no_digit_left(redacted), redacted
    assert NIK_PLACEHOLDER in redacted


@settings(max_examples=300, deadline=None)  # correctness; speed is timed below
@given(st.text(alphabet="0123456789", min_size=16, max_size=16), st.data())
def test_an_nik_sent_a_group_per_message_leaves_no_digit(digits: str, data: st.DataObject) -> None:
    """WhatsApp users send one group a message: "3174", "0517", ... (or a date: "17-08", "1985")."""
    cuts = sorted(data.draw(st.sets(st.integers(min_value=3, max_value=13), max_size=4)))
    cuts = [cut for index, cut in enumerate(cuts) if index == 0 or cut - cuts[index - 1] >= 3]
    for start, end in zip([0, *cuts], [*cuts, 16]):
        message = digits[start:end] + data.draw(st.sampled_from(["", "\n", " ", "."]))
        assert no_digit_left(redact_message(message)), message


@settings(max_examples=200, deadline=None)  # correctness; speed is timed below
@given(niks_with_a_word_inside())
def test_an_nik_with_a_word_inside_is_still_an_nik(text: str) -> None:
    redacted = redact_text(text)
    assert no_digit_left(redacted), redacted


@settings(max_examples=600, deadline=None)  # correctness; speed is timed below
@given(dates())
def test_no_date_survives(text: str) -> None:
    redacted = redact_text(text)
    assert no_digit_left(redacted), redacted
    assert DATE_PLACEHOLDER in redacted or NIK_PLACEHOLDER in redacted or "[NOMOR]" in redacted


@settings(max_examples=300, deadline=None)  # correctness; speed is timed below
@given(phones())
def test_no_phone_number_survives(text: str) -> None:
    redacted = redact_text(text)
    assert no_digit_left(redacted), redacted
    assert PHONE_PLACEHOLDER in redacted


@given(
    st.sampled_from(["dosis", "umur", "booster ke", "jarak", "anak", "kelas", "jam"]),
    st.integers(min_value=0, max_value=120),
    st.sampled_from(["tahun", "bulan", "hari", "minggu", "kali", ""]),
)
def test_ordinary_numbers_survive(word: str, number: int, unit: str) -> None:
    text = f"{word} {number} {unit}".strip()
    assert redact_text(text) == text


SLOW_REDACTION_SECONDS = 0.5  # a regex that backtracks takes seconds on 2,000 characters, every time


def fastest_of_three(text: str) -> float:
    """The best of three timings: a stall of the shared machine (GC, another process) is not the regex."""
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        redact_text(text)
        timings.append(time.perf_counter() - started)
    return min(timings)


@settings(max_examples=200, deadline=None)  # timed below, robust to one stalled call
@given(st.text(max_size=2000))
def test_any_text_is_redacted_quickly_and_never_gains_digits(text: str) -> None:
    redacted = redact_text(text)
    assert sum(c.isdigit() for c in redacted) <= sum(c.isdigit() for c in text)
    assert fastest_of_three(text) < SLOW_REDACTION_SECONDS


def test_no_example_of_the_training_data_or_the_topic_spec_changes() -> None:
    """False positives measured on what people really ask (data/nlu, data/heldout)."""
    examples = [
        text
        for folder in (ROOT / "data" / "nlu", ROOT / "data" / "heldout")
        for path in yaml_files(folder)
        for text, _ in read_examples(path)
    ]
    assert len(examples) > 1000
    assert sum(any(c.isdigit() for c in text) for text in examples) > 100  # the check has numbers to keep
    assert [text for text in examples if redact_text(text) != text] == []
