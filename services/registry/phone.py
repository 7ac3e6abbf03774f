"""Phone numbers are stored in E.164 so that the registry and messaging agree on one form."""

from __future__ import annotations

import re

# "+" then a country code that does not start with 0, 8 to 15 digits in all.
_E164 = re.compile(r"\+[1-9]\d{7,14}")


def is_e164(phone: str) -> bool:
    return _E164.fullmatch(phone) is not None
