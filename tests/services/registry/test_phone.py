from __future__ import annotations

import pytest

from services.registry.phone import is_e164


@pytest.mark.parametrize("phone", ["+6281234567890", "+62215551234", "+14155550100"])
def test_e164(phone: str) -> None:
    assert is_e164(phone)


@pytest.mark.parametrize(
    "phone",
    ["081234567890", "6281234567890", "+62 812 3456 7890", "+0812345678", "+62812", "+6281234567890123"],
)
def test_not_e164(phone: str) -> None:
    assert not is_e164(phone)
