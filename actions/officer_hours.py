"""When officers work, and what a recipient is told about it.

The promise the bot makes when it hands a conversation over must be true: inside working hours an
officer answers soon; outside them the recipient is told the day and hour officers start again. The
hours are a setting (``OFFICER_WORKING_HOURS``, ``OFFICER_TIMEZONE``: actions/settings.py), written
like ``mon-fri 08:00-16:00``, ``mon-sat 07:30-15:00`` or, around the clock, ``mon-sun 00:00-24:00``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.months import MONTH_NAMES

_DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
# Indonesia's three zones, as people name them.
_ZONE_NAMES = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}
_SPEC = re.compile(
    r"^\s*(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)


# "…-24:00" means until midnight (a line staffed around the clock is "mon-sun 00:00-24:00").
_END_OF_DAY = clock_time.max


class WorkingHoursError(ValueError):
    """The setting cannot be read; the message says how to write it."""


@dataclass(frozen=True)
class WorkingHours:
    days: tuple[int, ...]  # Monday = 0
    start: clock_time
    end: clock_time
    zone: ZoneInfo

    @classmethod
    def parse(cls, spec: str, zone_name: str) -> WorkingHours:
        match = _SPEC.match(spec.lower())
        if not match:
            raise WorkingHoursError(f"{spec!r}: write it like 'mon-fri 08:00-16:00'")
        try:
            first = _DAY_CODES.index(match["first"])
            last = _DAY_CODES.index(match["last"] or match["first"])
            start = clock_time.fromisoformat(match["start"].zfill(5))
            end = _END_OF_DAY if match["end"] == "24:00" else clock_time.fromisoformat(match["end"].zfill(5))
            zone = ZoneInfo(zone_name)
        except (ValueError, ZoneInfoNotFoundError) as error:
            raise WorkingHoursError(f"{spec!r} / {zone_name!r}: {error}") from None
        if end <= start:
            raise WorkingHoursError(f"{spec!r}: the end must be after the start")
        days = tuple(range(first, last + 1)) if first <= last else (*range(first, 7), *range(0, last + 1))
        return cls(days, start, end, zone)

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        now = local.time()
        return (
            local.weekday() in self.days and self.start <= now and (now < self.end or self.end == _END_OF_DAY)
        )

    def next_opening(self, moment: datetime) -> datetime:
        """The next start of working hours after ``moment`` (today's, if it is still ahead)."""
        local = moment.astimezone(self.zone)
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            opening = datetime.combine(day, self.start, tzinfo=self.zone)
            if day.weekday() in self.days and opening > local:
                return opening
        raise AssertionError("working hours have at least one day a week")  # parse() guarantees it

    def describe(self) -> str:
        """``Senin–Jumat, 08.00–16.00 WIB``."""
        first, last = DAY_NAMES[self.days[0]], DAY_NAMES[self.days[-1]]
        days = first if first == last else f"{first}–{last}"
        return f"{days}, {_hour(self.start)}–{_hour(self.end)} {self.zone_label()}"

    def zone_label(self) -> str:
        return _ZONE_NAMES.get(str(self.zone.key), str(self.zone.key))

    def describe_moment(self, moment: datetime) -> str:
        """``Senin, 7 Desember pukul 08.00 WIB``."""
        local = moment.astimezone(self.zone)
        return (
            f"{DAY_NAMES[local.weekday()]}, {local.day} {MONTH_NAMES[local.month - 1]} "
            f"pukul {_hour(local.time())} {self.zone_label()}"
        )


def _hour(value: clock_time) -> str:
    return "24.00" if value == _END_OF_DAY else f"{value.hour:02d}.{value.minute:02d}"
