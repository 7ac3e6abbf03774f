"""Masked names let a person recognise their own record without the API revealing anyone's name."""

from __future__ import annotations

from datetime import date

# Not "*": the assistant shows the name inside WhatsApp's *bold* markers ("*Data vaksinasi B••• S•••••o*"),
# and a star in the name would end the bold early and show the rest with stray stars. "•" has no
# meaning in WhatsApp's formatting (* _ ~ `) and reads as a hidden letter.
MASK = "•"


def mask_name(full_name: str) -> str:
    """ "Budi Santoso" -> "B••• S•••••o": first letters, dots, and the last letter of the last word."""
    words = full_name.split()
    if not words:
        return ""
    masked = [_mask_word(word, keep_last=False) for word in words[:-1]]
    masked.append(_mask_word(words[-1], keep_last=True))
    return " ".join(masked)


def _mask_word(word: str, keep_last: bool) -> str:
    if keep_last and len(word) > 2:
        return _shown(word[0]) + MASK * (len(word) - 2) + _shown(word[-1])
    return _shown(word[0]) + MASK * (len(word) - 1)


def _shown(letter: str) -> str:
    """A kept letter, unless it is punctuation: a "*" or "_" from the registry must not format the text."""
    return letter if letter.isalnum() else MASK


PHONE_DIGITS_SHOWN = 4
INDONESIA = "62"


def mask_phone(phone: str) -> str:
    """ "+6281000000001" -> "+62 8•••••••0001": enough to recognise one's own number, not to learn one."""
    digits = "".join(character for character in phone if character.isdigit())
    country, local = (INDONESIA, digits[2:]) if digits.startswith(INDONESIA) else ("", digits)
    if len(local) <= PHONE_DIGITS_SHOWN + 1:
        return MASK * len(local)
    masked = local[0] + MASK * (len(local) - PHONE_DIGITS_SHOWN - 1) + local[-PHONE_DIGITS_SHOWN:]
    return f"+{country} {masked}" if country else masked


def mask_birth_date(birth_date: date) -> str:
    """ "1985-08-17" -> "••-••-1985": the year lets a person recognise the record; day and month stay hidden.

    The birth date is half of what proves who someone is (with the NIK), so it is never shown whole.
    """
    return f"{MASK * 2}-{MASK * 2}-{birth_date.year:04d}"
