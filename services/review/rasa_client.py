"""Talking to the running assistant: an officer's reply, releasing a handoff, the reviewers' test chat.

Officer replies and releases go through Rasa's HTTP API (``trigger_intent``, authorised by
``RASA_API_TOKEN``), so the assistant's own action speaks to the recipient on their channel
(``output_channel=latest``) and the tracker records it. A reply is never posted to the REST
webhook: anyone can post there, so a reply that way could be injected by anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from core.handoff import OFFICER_REPLY_INTENT, OFFICER_TEXT_ENTITY, RELEASE_INTENT

RELEASE_PAYLOAD = f"/{RELEASE_INTENT}"  # over the REST channel, when there is no API token
REST_WEBHOOK = "/webhooks/rest/webhook"


class RasaUnavailable(Exception):
    """Rasa did not answer, or answered with an error; the message is safe to show.

    ``status`` is Rasa's HTTP status, or None when it could not be reached at all.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ApiTokenMissing(Exception):
    """An officer's reply needs Rasa's API token (``RASA_API_TOKEN``), and none is set."""


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
        raise RasaUnavailable(
            f"Rasa at {client.base_url} answered HTTP {response.status_code}.", response.status_code
        )
    return response


def release_handoff(client: httpx.Client, conversation_id: str, token: str) -> str:
    """Hand a conversation back to the bot; returns how.

    With an API token, Rasa's HTTP API triggers ``release_handoff`` and the bot's "back with the
    bot" message goes to the recipient's own channel (``output_channel=latest``). Without one, the
    payload goes over the REST channel, as if the recipient had sent it.
    """
    if token:
        _trigger_intent(client, conversation_id, token, {"name": RELEASE_INTENT})
        return "trigger_intent"
    _post(client, REST_WEBHOOK, json={"sender": conversation_id, "message": RELEASE_PAYLOAD})
    return "rest"


def send_message(client: httpx.Client, sender_id: str, message: str) -> list[BotMessage]:
    """One message over the REST channel; the bot's answers."""
    response = _post(client, REST_WEBHOOK, json={"sender": sender_id, "message": message})
    return _bot_messages(_json(response))


def send_officer_reply(client: httpx.Client, conversation_id: str, text: str, token: str) -> list[BotMessage]:
    """An officer's reply, relayed by the assistant to the recipient; what Rasa says it sent.

    The assistant's ``officer_reply`` action sends ``text`` under a fixed first line (its domain
    decides the line). On REST conversations the result holds what the recipient would get; on
    WhatsApp the channel has sent it itself and the list may be empty.
    """
    if not token:
        raise ApiTokenMissing("RASA_API_TOKEN is not set: officer replies go only through Rasa's HTTP API.")
    body = {"name": OFFICER_REPLY_INTENT, "entities": {OFFICER_TEXT_ENTITY: text}}
    answer = _json(_trigger_intent(client, conversation_id, token, body))
    return _bot_messages(answer.get("messages") if isinstance(answer, dict) else None)


def _trigger_intent(
    client: httpx.Client, conversation_id: str, token: str, body: dict[str, Any]
) -> httpx.Response:
    return _post(
        client,
        f"/conversations/{quote(conversation_id, safe='')}/trigger_intent",
        params={"token": token, "output_channel": "latest"},
        json=body,
    )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as error:
        raise RasaUnavailable("Rasa's answer was not JSON.", response.status_code) from error


def _bot_messages(answers: Any) -> list[BotMessage]:
    """Rasa's bot messages (REST webhook answers, or ``messages`` of a trigger_intent answer)."""
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
