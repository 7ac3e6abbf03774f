"""Masked names let a person recognise their own record without the API revealing anyone's name."""

from __future__ import annotations

MASK = "*"


def mask_name(full_name: str) -> str:
    """ "Budi Santoso" -> "B*** S*****o": first letters, stars, and the last letter of the last word."""
    words = full_name.split()
    if not words:
        return ""
    masked = [_mask_word(word, keep_last=False) for word in words[:-1]]
    masked.append(_mask_word(words[-1], keep_last=True))
    return " ".join(masked)


def _mask_word(word: str, keep_last: bool) -> str:
    if keep_last and len(word) > 2:
        return word[0] + MASK * (len(word) - 2) + word[-1]
    return word[0] + MASK * (len(word) - 1)
