"""Talking to the running assistant: releasing a handoff, and the reviewers' test chat."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

RELEASE_INTENT = "release_handoff"
RELEASE_PAYLOAD = f"/{RELEASE_INTENT}"  # over the REST channel, when there is no API token
REST_WEBHOOK = "/webhooks/rest/webhook"


class RasaUnavailable(Exception):
    """Rasa did not answer, or answered with an error; the message is safe to show."""


@dataclass(frozen=True)
class BotMessage:
    text: str | None
    buttons: list[dict[str, str]] = field(default_factory=list)


def _post(client: httpx.Client, path: str, **kwargs: Any) -> httpx.Response:
    try:
        response = client.post(path, **kwargs)
    except httpx.HTTPError as error:
        raise RasaUnavailable(
            f"Rasa at {client.base_url} cannot be reached ({type(error).__name__})."
        ) from error
    if response.status_code >= 400:
        raise RasaUnavailable(f"Rasa at {client.base_url} answered HTTP {response.status_code}.")
    return response


def release_handoff(client: httpx.Client, conversation_id: str, token: str) -> str:
    """Hand a conversation back to the bot; returns how.

    With an API token, Rasa's HTTP API triggers ``release_handoff`` and the bot's "back with the
    bot" message goes to the recipient's own channel (``output_channel=latest``). Without one, the
    payload goes over the REST channel, as if the recipient had sent it.
    """
    if token:
        _post(
            client,
            f"/conversations/{quote(conversation_id, safe='')}/trigger_intent",
            params={"token": token, "output_channel": "latest"},
            json={"name": RELEASE_INTENT},
        )
        return "trigger_intent"
    _post(client, REST_WEBHOOK, json={"sender": conversation_id, "message": RELEASE_PAYLOAD})
    return "rest"


def send_message(client: httpx.Client, sender_id: str, message: str) -> list[BotMessage]:
    """One message over the REST channel; the bot's answers."""
    response = _post(client, REST_WEBHOOK, json={"sender": sender_id, "message": message})
    try:
        answers = response.json()
    except ValueError as error:
        raise RasaUnavailable("Rasa's answer was not JSON.") from error
    messages = []
    for answer in answers if isinstance(answers, list) else []:
        if not isinstance(answer, dict):
            continue
        buttons = [
            {"title": str(button.get("title", "")), "payload": str(button.get("payload", ""))}
            for button in answer.get("buttons") or []
            if isinstance(button, dict)
        ]
        text = answer.get("text")
        if text is None and answer.get("image"):
            text = f"[image] {answer['image']}"
        messages.append(BotMessage(text=text, buttons=buttons))
    return messages
