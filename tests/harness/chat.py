"""Chat with a running assistant from the terminal, through its REST channel.

``rasa shell`` would start a second server; this talks to the one ``make run``
started, so what you see is what a REST or WhatsApp user gets.
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

import httpx


def render(bot_message: dict[str, Any]) -> str:
    lines = [f"bot> {bot_message.get('text', '')}"]
    for number, button in enumerate(bot_message.get("buttons") or [], start=1):
        lines.append(f"      [{number}] {button.get('title')}  ({button.get('payload')})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://localhost:5005/webhooks/rest/webhook")
    parser.add_argument("--sender", default=f"shell-{uuid.uuid4().hex[:8]}")
    args = parser.parse_args()
    print("Type a message (Ctrl-D to quit).")
    with httpx.Client(timeout=30) as client:
        while True:
            try:
                text = input("you> ").strip()
            except EOFError:
                print()
                return
            if not text:
                continue
            try:
                response = client.post(args.url, json={"sender": args.sender, "message": text})
                response.raise_for_status()
            except httpx.HTTPError as error:
                print(f"(the assistant is not reachable at {args.url}: {error}; is `make run` up?)")
                continue
            for bot_message in response.json():
                print(render(bot_message))


if __name__ == "__main__":
    main()
