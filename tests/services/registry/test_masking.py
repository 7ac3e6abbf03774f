"""Masked names: recognisable to their owner, and safe inside WhatsApp's formatting markers."""

from __future__ import annotations

import re

import pytest

from services.registry.masking import MASK, mask_name, mask_phone

# WhatsApp's formatting markers: bold, italic, strikethrough, monospace.
WHATSAPP_MARKERS = frozenset("*_~`")


@pytest.mark.parametrize(
    ("full_name", "masked"),
    [
        ("Budi Santoso", "B••• S•••••o"),
        ("Siti Nurhaliza Rahayu", "S••• N•••••••• R••••u"),
        ("Budi", "B••i"),
        ("  Budi   Santoso ", "B••• S•••••o"),
        ("Andi Al", "A••• A•"),  # a two-letter last word keeps only its first letter
        ("I Made Wijaya", "I M••• W••••a"),
        ("", ""),
    ],
)
def test_mask_name(full_name: str, masked: str) -> None:
    assert mask_name(full_name) == masked


def test_masking_keeps_no_middle_letters() -> None:
    assert set(mask_name("Rahmawati Kurniasih")[1:-1]) <= {MASK, " ", "K"}


@pytest.mark.parametrize("full_name", ["Budi Santoso", "Siti Nurhaliza Rahayu", "I Made Wijaya", "Andi Al"])
def test_a_masked_name_keeps_a_whatsapp_bold_header_whole(full_name: str) -> None:
    """The schedule answer starts "*Data vaksinasi <name>*": one bold span, no stray markers."""
    masked = mask_name(full_name)
    assert not set(masked) & WHATSAPP_MARKERS
    header = f"*Data vaksinasi {masked}*"
    # WhatsApp bolds from a "*" to the next "*": the whole header is one span only if there are two
    assert [m.group(1) for m in re.finditer(r"\*([^*]+)\*", header)] == [f"Data vaksinasi {masked}"]


def test_formatting_characters_in_a_registry_name_are_never_shown() -> None:
    """Hostile or mistyped registry data: only letters and digits are ever kept."""
    masked = mask_name("*Budi_ ~Santoso`")
    assert masked == "•••••• •••••••••"
    assert not set(masked) & WHATSAPP_MARKERS


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+6281000000001", "+62 8••••••0001"),
        ("+628123456789", "+62 8•••••6789"),
        ("+4915112345678", "4••••••••5678"),
    ],
)
def test_mask_phone_shows_only_the_last_four_digits(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked
    assert not set(mask_phone(phone)) & WHATSAPP_MARKERS
