"""Text from outside made safe to store and show: the one cleaning rule of the project.

A lone UTF-16 surrogate cannot be encoded as UTF-8 (it once made the SQL tracker store raise and
Rasa exit) and control characters have no business in a chat message. The channels clean what
recipients send with it (rasa_project/channels/inbound.py), the officer console what officers send
(services/review/officer.py). Runs in both environments.
"""

from __future__ import annotations

import re
import unicodedata

# Characters no text keeps: C0/C1 controls except \t and \n, DEL, and UTF-16 surrogates.
UNWANTED_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


# Bidirectional marks, embeddings, overrides and isolates: they change how a text reads, not what it
# says ("\u202e" shows "1500-567" as "765-0051"). What staff send or the registry keeps goes without them.
DIRECTION_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """Text without lone surrogates and control characters (line breaks and tabs stay), in NFC."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", UNWANTED_IN_TEXT.sub("", text))


def without_direction_controls(text: str) -> str:
    """``clean_text`` and no direction controls: for text that must read as it was meant."""
    return DIRECTION_CONTROLS.sub("", clean_text(text))
