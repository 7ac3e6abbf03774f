"""Plays a WhatsApp user against the assistant's webhook, with the fake Graph API as the phone.

Each line you type goes to the webhook as Meta would POST it (signed with the
app secret); the bot's replies are read back from the fake Graph API and
printed with their buttons and lists. Answer a button or list with its number
to "tap" it.

    WHATSAPP_APP_SECRET=... python -m tests.harness.whatsapp.user [--say "vaksin bayar ga?"]

In the chat: ``/image``, ``/audio``, ``/video``, ``/sticker``, ``/document``,
``/location``, ``/contacts``, ``/reaction`` send that kind of message; ``/quit`` ends.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.harness.whatsapp import payloads

DEFAULT_WEBHOOK = "http://127.0.0.1:5005/webhooks/whatsapp/webhook"
DEFAULT_FAKE = "http://127.0.0.1:8089"
DEFAULT_PHONE = "6281234567890"
QUIET_SECONDS = 1.5
WAIT_SECONDS = 60.0


@dataclass
class Choice:
    kind: str  # "button" or "list"
    id: str
    title: str
    description: str = ""


@dataclass
class WhatsAppUser:
    """One simulated phone: sends signed deliveries, reads what the bot sent it."""

    webhook_url: str
    fake_url: str
    phone: str
    app_secret: str
    phone_number_id: str
    choices: list[Choice] = field(default_factory=list)
    _seen: int = 0

    def post(self, message: payloads.Message) -> int:
        body = payloads.encode(payloads.messages_delivery(message, phone_number_id=self.phone_number_id))
        response = httpx.post(
            self.webhook_url, content=body, headers=payloads.signed_headers(body, self.app_secret)
        )
        return response.status_code

    def message_for(self, line: str) -> payloads.Message:
        """What typing ``line`` sends: a tap on a shown option, a non-text kind, or text."""
        if line.isdigit() and 1 <= int(line) <= len(self.choices):
            choice = self.choices[int(line) - 1]
            if choice.kind == "button":
                return payloads.button_reply(self.phone, choice.id, choice.title)
            return payloads.list_reply(self.phone, choice.id, choice.title, choice.description)
        if line.startswith("/") and line[1:] in payloads.NON_TEXT_KINDS:
            return payloads.non_text_message(self.phone, line[1:])
        return payloads.text_message(self.phone, line)

    def replies(self, wait_seconds: float = WAIT_SECONDS) -> list[dict[str, Any]]:
        """New messages to this phone, once the bot has been quiet for a moment."""
        collected: list[dict[str, Any]] = []
        deadline = time.monotonic() + wait_seconds
        last_new = time.monotonic()
        while time.monotonic() < deadline:
            new = httpx.get(
                f"{self.fake_url}/_fake/messages", params={"to": self.phone, "since": self._seen}
            ).json()
            if new:
                collected += new
                self._seen = new[-1]["index"] + 1
                last_new = time.monotonic()
            elif collected and time.monotonic() - last_new > QUIET_SECONDS:
                break
            time.sleep(0.2)
        return [record["message"] for record in collected]

    def skip_old_messages(self) -> None:
        everything = httpx.get(f"{self.fake_url}/_fake/messages").json()
        self._seen = everything[-1]["index"] + 1 if everything else 0

    def render(self, message: dict[str, Any]) -> str:
        """The message as a phone would show it; remembers its options for tapping by number."""
        if message.get("type") == "text":
            return str(message["text"]["body"])
        if message.get("type") != "interactive":
            return f"[{message.get('type')}] {message.get(message.get('type', ''), '')}"
        interactive = message["interactive"]
        lines = [str(interactive["body"]["text"])]
        action = interactive["action"]
        if interactive["type"] == "button":
            self.choices = [
                Choice("button", b["reply"]["id"], b["reply"]["title"]) for b in action["buttons"]
            ]
            lines.append("  " + "   ".join(f"[{n}] {c.title}" for n, c in enumerate(self.choices, start=1)))
        else:
            rows = [row for section in action["sections"] for row in section["rows"]]
            self.choices = [Choice("list", r["id"], r["title"], r.get("description", "")) for r in rows]
            lines.append(f"  ≡ {action['button']}")
            for number, choice in enumerate(self.choices, start=1):
                lines.append(
                    f"    {number}. {choice.title}"
                    + (f" — {choice.description}" if choice.description else "")
                )
        return "\n".join(lines)

    def say(self, line: str) -> list[str]:
        status = self.post(self.message_for(line))
        if status != 200:
            return [f"(webhook answered HTTP {status})"]
        self.choices = []
        return [self.render(message) for message in self.replies()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--webhook", default=DEFAULT_WEBHOOK, help=f"the channel's webhook ({DEFAULT_WEBHOOK})"
    )
    parser.add_argument("--fake", default=DEFAULT_FAKE, help=f"the fake Graph API ({DEFAULT_FAKE})")
    parser.add_argument("--phone", default=DEFAULT_PHONE, help="the user's number (wa_id)")
    parser.add_argument("--say", action="append", help="send this and print the replies (repeatable)")
    arguments = parser.parse_args()
    app_secret = os.environ.get("WHATSAPP_APP_SECRET", "")
    if not app_secret:
        sys.exit(
            "Set WHATSAPP_APP_SECRET to the secret the Rasa server uses (deliveries are signed with it)."
        )
    user = WhatsAppUser(
        arguments.webhook,
        arguments.fake.rstrip("/"),
        arguments.phone,
        app_secret,
        os.environ.get("WHATSAPP_PHONE_NUMBER_ID") or payloads.DEFAULT_PHONE_NUMBER_ID,
    )
    user.skip_old_messages()
    lines = arguments.say or iter(lambda: input("you> ").strip(), "/quit")
    try:
        for line in lines:
            if not line:
                continue
            if arguments.say:
                print(f"you> {line}")
            for reply in user.say(line):
                print("bot> " + reply.replace("\n", "\n     ") + "\n")
    except (EOFError, KeyboardInterrupt):
        print()


if __name__ == "__main__":
    main()
