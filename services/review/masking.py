"""Personal data masked out of everything the review app keeps and shows.

The tracker store redacts what people write before Rasa keeps it (rasa_project/tracker_store.py),
but older rows and other tracker stores are not guaranteed to be redacted, what the bot echoes is not
redacted there, and reviewers need none of it. The review app therefore redacts again, with the same
rules (core/personal_data.py), where it stores user text (the indexer, the test chat) and in every
page that shows text (the ``mask`` template filter, transcripts).
"""

from __future__ import annotations

from typing import Any

from core.personal_data import redact_message as mask_message
from core.personal_data import redact_text
from core.personal_data import redact_value as mask_value

__all__ = ["mask_message", "mask_personal_data", "mask_value"]


def mask_personal_data(text: Any) -> str:
    """``text`` with personal data replaced by placeholders; ``None`` becomes "" (for templates)."""
    return "" if text is None else redact_text(str(text))
