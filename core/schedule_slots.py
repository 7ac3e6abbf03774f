"""The schedule check's slot names, for both sides of the assistant.

The action server (actions/schedule.py) fills these slots; the Rasa server's tracker store
(rasa_project/tracker_store.py) must know from them which message answered "type the code", to
store that message without the code. The two run in different Pythons and cannot import each other,
so the names live here, once. The domain (rasa_project/domain/schedule.yml) declares the same names.
"""

from __future__ import annotations

import re

FORM = "schedule_form"
NIK_SLOT = "schedule_nik"
BIRTH_DATE_SLOT = "schedule_birth_date"
CHALLENGE_SLOT = "schedule_challenge"  # the registry's handle for a code it sent, sealed
CODE_SLOT = "schedule_code"  # the one-time code the person typed, sealed
REQUESTED_SLOT = "requested_slot"  # Rasa's own slot: what the active form asked for last

# How a sealed slot value looks (actions/sealing.py writes it, version first): the tracker store
# keeps it intact, since it is ciphertext and the form needs it back.
SEALED_PREFIX = "sealed:"
SEALED_VALUE = re.compile(r"sealed:v\d+:[A-Za-z0-9_\-]+={0,2}")
