"""What a template button of an outreach notice sends back: the one definition for both sides.

The registry's outreach worker (services/registry/outreach/templates.py) puts
``/notice_reply{"notice":"<reference>","choice":"jadwal"}`` in each quick-reply button; when the
recipient taps it, WhatsApp returns it as their message and Rasa reads it as the intent
``notice_reply`` with two entities. The action server (actions/outreach.py) checks the reference with
the registry before trusting it: anyone can type the same text. Standard library only (both Pythons).
"""

from __future__ import annotations

import json
import re
from typing import Final

NOTICE_REPLY_INTENT: Final = "notice_reply"
NOTICE_ENTITY: Final = "notice"
CHOICE_ENTITY: Final = "choice"
# What a button asks for: see the record (the schedule check), change the appointment, stop messages.
CHOICE_SCHEDULE: Final = "jadwal"
CHOICE_CHANGE: Final = "ubah"
CHOICE_STOP: Final = "berhenti"
CHOICES: Final = (CHOICE_SCHEDULE, CHOICE_CHANGE, CHOICE_STOP)
# A notice reference as the registry makes them: short and opaque; anything else is never looked up.
REFERENCE: Final = re.compile(r"[A-Za-z0-9_-]{4,12}")


def payload(reference: str, choice: str) -> str:
    """The quick-reply payload: an intent with entities, as Rasa reads a typed ``/intent{...}``."""
    entities = json.dumps({NOTICE_ENTITY: reference, CHOICE_ENTITY: choice}, separators=(",", ":"))
    return f"/{NOTICE_REPLY_INTENT}{entities}"
