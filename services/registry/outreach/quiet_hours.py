"""Quiet hours in the recipient's own time zone: WIB, WITA or WIT, from the NIK's province code.

The zone map is kept here rather than in core/regions.py: only outreach needs it, and the province
list there stays a list of names. It follows Indonesia's three zones (Keppres 41/1987): western
Sumatra, Java and West/Central Kalimantan are WIB (UTC+7); Bali, Nusa Tenggara, South/East/North
Kalimantan and Sulawesi are WITA (UTC+8); Maluku and Papua are WIT (UTC+9). A province code not in
the map (none today) counts as WIB, the zone most recipients live in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.regions import PROVINCES

ZONES: dict[str, ZoneInfo] = {
    "WIB": ZoneInfo("Asia/Jakarta"),
    "WITA": ZoneInfo("Asia/Makassar"),
    "WIT": ZoneInfo("Asia/Jayapura"),
}
_WITA = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
_WIT = {"81", "82", "91", "92", "93", "94", "95", "96"}
PROVINCE_ZONES: dict[str, str] = {
    code: "WITA" if code in _WITA else "WIT" if code in _WIT else "WIB" for code in PROVINCES
}
DEFAULT_ZONE = "WIB"


def zone_of_nik(nik: str) -> str:
    """WIB / WITA / WIT for the province in the NIK's first two digits."""
    return PROVINCE_ZONES.get(nik[:2], DEFAULT_ZONE)


@dataclass(frozen=True)
class QuietHours:
    """``start``-``end`` local time, possibly across midnight (21:00-07:00); start == end: never quiet."""

    start: time
    end: time

    def is_quiet(self, zone: str, now: datetime) -> bool:
        if self.start == self.end:
            return False
        local = now.astimezone(ZONES[zone]).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_at(self, zone: str, now: datetime) -> datetime:
        """When the quiet hours around ``now`` end in ``zone`` (UTC); ``now`` when it is not quiet."""
        if not self.is_quiet(zone, now):
            return now
        local = now.astimezone(ZONES[zone])
        end = datetime.combine(local.date(), self.end, tzinfo=ZONES[zone])
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(UTC)

    def awake_zones(self, now: datetime) -> list[str]:
        """The zones where sending is allowed at ``now``."""
        return [zone for zone in ZONES if not self.is_quiet(zone, now)]
