"""Names the assistant, the WhatsApp channel and the review app share for an officer's handoff.

Written once here: the review app triggers these intents over Rasa's HTTP API, the actions answer
them, and the channel reads the metadata the actions attach to their messages.
"""

from __future__ import annotations

# The officer console triggers this intent with the reply as entity: the action relays it.
OFFICER_REPLY_INTENT = "officer_reply"
OFFICER_TEXT_ENTITY = "officer_text"
# An officer (or the recipient's "menu") hands the conversation back to the bot.
RELEASE_INTENT = "release_handoff"
# WhatsApp text limit is 4,096; an officer's reply is kept well below with the prefix line added.
OFFICER_REPLY_MAX_CHARACTERS = 1000

# Rasa's text for an intent triggered through its HTTP API (rasa.shared.constants.EXTERNAL_MESSAGE_PREFIX):
# the officer console's replies and hand-backs. Nobody typed these: they are not recipients' messages.
EXTERNAL_MESSAGE_PREFIX = "EXTERNAL: "

# Key of a bot message's metadata that tells the channel a handoff opened or closed, so it keeps
# the phone number (sealed) exactly as long as an officer may need to answer.
HANDOFF_METADATA_KEY = "handoff"
HANDOFF_OPEN = "open"
HANDOFF_CLOSED = "closed"

# Meta's customer-service window: a business may send free-form messages only within 24 hours of
# the person's last message. After that nothing an officer writes can reach them.
REPLY_WINDOW_SECONDS = 24 * 3600
