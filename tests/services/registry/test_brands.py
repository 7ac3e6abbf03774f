from __future__ import annotations

import pytest

from services.registry.brands import VACCINE_BRANDS, canonical_brand


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Sinovac", "Sinovac"),
        ("sinovac", "Sinovac"),
        ("CoronaVac", "Sinovac"),
        ("  comirnaty ", "Pfizer"),
        ("Pfizer-BioNTech", "Pfizer"),
        ("astrazeneca", "AstraZeneca"),
        ("Johnson  &  Johnson", "Janssen"),
        ("IndoVac", "IndoVac"),
    ],
)
def test_known_names(written: str, canonical: str) -> None:
    assert canonical_brand(written) == canonical


@pytest.mark.parametrize("written", ["", "Vaksin X", "Sinovak", "covid"])
def test_unknown_names(written: str) -> None:
    assert canonical_brand(written) is None


def test_every_canonical_name_is_its_own_canonical_form() -> None:
    for name in VACCINE_BRANDS:
        assert canonical_brand(name) == name
