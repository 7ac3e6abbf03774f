"""The menu vocabulary: typed option numbers and menu words.

MenuShortcuts (Rasa) answers these deterministically whatever the classifier says, and the
review app's inbox leaves them out because there is nothing for the classifier to learn from
them, so both read them from here. Standard library only (both Pythons).
"""

from __future__ import annotations

import re

# "2", "2.", "(2)", "no 2", "nomor 2", "pilih 2", "pilihan no. 2", "opsi 2", "yang 2", "#2"
_OPTION = re.compile(
    r"^\s*(?:(?:no|nmr|nomor|nomer|pilih|pilihan|opsi|option|angka|yang|yg)\b\.?\s*)*"
    r"[#(]?\s*(?P<number>\d{1,2})\s*[.)]?\s*$",
    re.IGNORECASE,
)
MENU_WORDS = frozenset({"menu", "menu utama", "main menu", "kembali", "balik", "back", "kembali ke menu"})


def option_number(text: str) -> int | None:
    """The option a message that is only a number (1-99) picks, else None."""
    match = _OPTION.match(text)
    return int(match.group("number")) if match else None


def is_menu_word(text: str) -> bool:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split()) in MENU_WORDS
