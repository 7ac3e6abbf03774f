"""The menu vocabulary: typed option numbers, menu words, and the words that stop or restart messages.

MenuShortcuts (Rasa) answers these deterministically whatever the classifier says, and the
review app's inbox leaves them out because there is nothing for the classifier to learn from
them, so both read them from here. Standard library only (both Pythons).

Opt-out and opt-in words must never depend on a classifier's guess: Meta's policy wants a
"STOP" honoured at once, and a recipient who typed "berhenti" and still gets reminders has been
ignored. They are matched whole (the message is only the word), so "kapan harus berhenti minum
obat" stays a question.
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
OPT_OUT_WORDS = frozenset(
    {
        "berhenti",
        "stop",
        "unsubscribe",
        "jangan kirim lagi",
        "jangan kirim pesan lagi",
        "berhenti langganan",
        "berhenti berlangganan",
        "stop langganan",
        "stop kirim",
        "stop pesan",
        "berhenti kirim pesan",
    }
)
OPT_IN_WORDS = frozenset({"mulai", "start", "langganan lagi", "berlangganan lagi", "mulai lagi", "subscribe"})


def option_number(text: str) -> int | None:
    """The option a message that is only a number (1-99) picks, else None."""
    match = _OPTION.match(text)
    return int(match.group("number")) if match else None


def normalised(text: str) -> str:
    """Lower case, punctuation as spaces, single spaces: "STOP!" and " stop " read as "stop"."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def is_menu_word(text: str) -> bool:
    return normalised(text) in MENU_WORDS


def is_opt_out(text: str) -> bool:
    """The whole message asks to stop the notices ("Berhenti", "STOP", "jangan kirim lagi")."""
    return normalised(text) in OPT_OUT_WORDS


def is_opt_in(text: str) -> bool:
    """The whole message asks for the notices again ("MULAI", "start", "langganan lagi")."""
    return normalised(text) in OPT_IN_WORDS
