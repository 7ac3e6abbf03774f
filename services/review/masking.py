"""Personal data masked out of what the recipient typed; what the bot and officers said is not.

The tracker store redacts what people write before Rasa keeps it (rasa_project/tracker_store.py),
but older rows and other tracker stores are not guaranteed to be redacted, and reviewers need none
of it. The review app therefore masks again, with the one set of rules (core/personal_data.py):
where it stores user text (the indexer, the test chat), and where it shows user text and slot
values (the ``mask`` template filter, transcripts).

The bot's own texts are never masked: they are the ministry's content, which reviewers check
word by word ("Sejak 1 Januari 2024", "Halo Kemenkes 1500-567"), and masking them would hide the
very dates and numbers a reviewer must see. Officers' replies are shown as written for the same
reason. Only what a person typed (and what was filled from it) can carry their NIK or birth date.
"""

from __future__ import annotations

from typing import Any

from core.personal_data import redact_message as mask_message
from core.personal_data import redact_text
from core.personal_data import redact_value as mask_value

__all__ = ["mask_message", "mask_personal_data", "mask_value"]


def mask_personal_data(text: Any) -> str:
    """What a person typed, with personal data replaced by placeholders; ``None`` becomes "".

    The ``mask`` template filter: for user text and ids only, never for the bot's answers.
    """
    return "" if text is None else redact_text(str(text))
