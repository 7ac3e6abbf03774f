from __future__ import annotations

import pytest

from services.registry.masking import mask_name


@pytest.mark.parametrize(
    ("full_name", "masked"),
    [
        ("Budi Santoso", "B*** S*****o"),
        ("Siti Nurhaliza Rahayu", "S*** N******** R****u"),
        ("Budi", "B**i"),
        ("  Budi   Santoso ", "B*** S*****o"),
        ("Andi Al", "A*** A*"),  # a two-letter last word keeps only its first letter
        ("I Made Wijaya", "I M*** W****a"),
        ("", ""),
    ],
)
def test_mask_name(full_name: str, masked: str) -> None:
    assert mask_name(full_name) == masked


def test_masking_keeps_no_middle_letters() -> None:
    assert set(mask_name("Rahmawati Kurniasih")[1:-1]) <= {"*", " ", "K"}
