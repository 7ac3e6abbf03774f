"""The REST channel over HTTP (Sanic in process): Rasa's URL and replies, hostile requests refused.

The assistant behind the channel is a stand-in that answers like Rasa's agent does (through the
output channel), so what is checked is what a client receives from the channel.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.run import create_http_input_channels
from rasa.shared.utils.io import read_yaml_file
from sanic import Sanic

from rasa_project.channels.failure_log import HIDDEN
from rasa_project.channels.inbound import (
    BODY_TOO_LARGE,
    FAILURE_NOTICE,
    MAX_BODY_BYTES,
    MESSAGE_NOT_TEXT,
    METADATA_INVALID,
    NOT_AN_OBJECT,
    NOT_JSON,
    SENDER_INVALID,
    TOO_DEEP,
    TOO_LONG_NOTICE,
    InvalidInput,
)
from rasa_project.channels.rest import (
    PSEUDONYM_PREFIX,
    SENDER_HAS_PERSONAL_DATA,
    ValidatingRestInput,
    stored_sender,
)

PATH = "/webhooks/rest/webhook"
SECRET_TEXT = "NIK saya 3174051708859001 lahir 17 Agustus 1985"
SENDER_HASH_KEY = "kunci-uji-pengirim"


@dataclass
class Assistant:
    """Stands in for Rasa's agent: records what it is given and answers through the output channel."""

    received: list[UserMessage] = field(default_factory=list)
    fail: bool = False

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.fail:
            # What a failing NLU component does: Rasa logs at ERROR, the exception quotes the text.
            logging.getLogger("rasa.engine.graph").error("Error running graph component for %s", message.text)
            raise ValueError(f"cannot tokenize {message.text!r}")
        await message.output_channel.send_response(message.sender_id, {"text": f"jawaban: {message.text}"})


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Rest:
    url: str
    http: aiohttp.ClientSession
    assistant: Assistant
    log: Records

    async def post(self, body: bytes | str, **params: str) -> tuple[int, Any]:
        data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        async with self.http.post(
            self.url, data=data, params=params, headers={"Content-Type": "application/json"}
        ) as response:
            return response.status, await response.json(content_type=None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def rest(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Rest]:
    monkeypatch.setattr(Sanic, "test_mode", True)
    log = Records()
    root = logging.getLogger()
    root.addHandler(log)  # before the server starts, as Rasa's handlers are
    assistant = Assistant()
    app = Sanic(f"rest_test_{uuid.uuid4().hex}")
    channel = ValidatingRestInput.from_credentials({"sender_hash_key": SENDER_HASH_KEY})
    app.blueprint(channel.blueprint(assistant), url_prefix="/webhooks/rest")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    http = aiohttp.ClientSession()
    try:
        yield Rest(f"http://127.0.0.1:{port}{PATH}", http, assistant, log)
    finally:
        await http.close()
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
        root.removeHandler(log)


async def test_a_message_is_answered_in_rasas_rest_format(rest: Rest) -> None:
    status, body = await rest.post('{"sender": "it-a", "message": "vaksin bayar ga?"}')
    assert (status, body) == (200, [{"recipient_id": "it-a", "text": "jawaban: vaksin bayar ga?"}])
    [received] = rest.assistant.received
    assert (received.sender_id, received.input_channel) == ("it-a", "rest")


async def test_health_answers_like_rasas_rest_channel(rest: Rest) -> None:
    async with rest.http.get(rest.url.removesuffix("webhook")) as response:
        assert (response.status, await response.json()) == (200, {"status": "ok"})


async def test_a_lone_surrogate_sender_is_refused_and_the_next_message_is_answered(rest: Rest) -> None:
    status, body = await rest.post('{"sender": "\\ud800", "message": "halo"}')
    assert (status, body) == (400, {"error": SENDER_INVALID})
    assert rest.assistant.received == []
    assert (await rest.post('{"sender": "it-b", "message": "halo"}'))[0] == 200


@pytest.mark.parametrize("sender", ['"a\\u0000b"', '"' + "x" * 129 + '"', '""', "true", "[1]", '"a\\udfffb"'])
async def test_malformed_sender_ids_are_refused(rest: Rest, sender: str) -> None:
    status, body = await rest.post(f'{{"sender": {sender}, "message": "halo"}}')
    assert (status, body) == (400, {"error": SENDER_INVALID})


async def test_surrogates_and_control_characters_never_reach_the_assistant(rest: Rest) -> None:
    status, body = await rest.post('{"sender": "it-c", "message": "vak\\ud800sin\\u0000 bayar\\u001b?"}')
    assert status == 200
    assert body == [{"recipient_id": "it-c", "text": "jawaban: vaksin bayar?"}]
    assert rest.assistant.received[0].text == "vaksin bayar?"


@pytest.mark.parametrize("characters", [4_097, 10_000, 50_000, 200_000])
async def test_text_over_whatsapps_limit_gets_the_notice_and_is_not_read(rest: Rest, characters: int) -> None:
    status, body = await rest.post(f'{{"sender": "it-d", "message": "{"a" * characters}"}}')
    assert (status, body) == (200, [{"recipient_id": "it-d", "text": TOO_LONG_NOTICE}])
    assert rest.assistant.received == []
    status, body = await rest.post('{"sender": "it-d", "message": "halo"}')
    assert body == [{"recipient_id": "it-d", "text": "jawaban: halo"}]


async def test_json_nested_100000_deep_is_400_not_500(rest: Rest) -> None:
    status, body = await rest.post('{"sender": "it-e", "message": "halo", "metadata": ' + "[" * 100_000)
    assert (status, body) == (400, {"error": TOO_DEEP})
    status, body = await rest.post('{"sender": "it-e", "metadata": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert (status, body) == (400, {"error": TOO_DEEP})


async def test_a_huge_body_is_413(rest: Rest) -> None:
    status, body = await rest.post(b'{"sender": "it-f", "message": "' + b"a" * (MAX_BODY_BYTES + 1) + b'"}')
    assert (status, body) == (413, {"error": BODY_TOO_LARGE})
    assert (await rest.post('{"sender": "it-f", "message": "halo"}'))[0] == 200


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", NOT_JSON),
        ("[1, 2]", NOT_AN_OBJECT),
        ('{"sender": "it-g"}', MESSAGE_NOT_TEXT),
        ('{"sender": "it-g", "message": 5}', MESSAGE_NOT_TEXT),
        ('{"sender": "it-g", "message": "a", "metadata": "x"}', METADATA_INVALID),
    ],
)
async def test_other_malformed_requests_are_400_with_a_reason(rest: Rest, body: str, reason: str) -> None:
    assert await rest.post(body) == (400, {"error": reason})


async def test_a_client_cannot_claim_another_channel(rest: Rest) -> None:
    await rest.post('{"sender": "it-h", "message": "halo", "input_channel": "whatsapp"}')
    assert rest.assistant.received[0].input_channel == "rest"


async def test_metadata_is_passed_on_cleaned(rest: Rest) -> None:
    await rest.post('{"sender": "it-i", "message": "halo", "metadata": {"from": "x\\ud800y"}}')
    assert rest.assistant.received[0].metadata == {"from": "xy"}


async def test_streamed_replies_still_work(rest: Rest) -> None:
    async with rest.http.post(
        rest.url, params={"stream": "true"}, json={"sender": "it-j", "message": "halo"}
    ) as response:
        assert response.status == 200
        assert "jawaban: halo" in await response.text()


async def test_a_failure_gets_an_apology_and_is_logged_without_the_message_text(rest: Rest) -> None:
    rest.assistant.fail = True
    status, body = await rest.post(f'{{"sender": "it-k", "message": "{SECRET_TEXT}"}}')
    assert (status, body) == (200, [{"recipient_id": "it-k", "text": FAILURE_NOTICE}])
    await asyncio.sleep(0.05)
    logged = "\n".join(rest.log.lines)
    assert "REST message could not be handled" in logged and "ValueError" in logged
    assert "Error running graph component for " + HIDDEN in logged
    assert SECRET_TEXT not in logged and "3174051708859001" not in logged
    rest.assistant.fail = False
    assert (await rest.post('{"sender": "it-k", "message": "halo"}'))[1][0]["text"] == "jawaban: halo"


def test_credentials_open_the_validating_rest_channel_at_rasas_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """A typo in credentials.yml would leave Rasa's unchecked REST channel, or none, in place."""
    credentials = Path(__file__).resolve().parents[3] / "rasa_project" / "credentials.yml"
    for name in re.findall(r"\$\{(\w+)\}", credentials.read_text(encoding="utf-8")):
        monkeypatch.setenv(name, "")
    channels = create_http_input_channels(None, str(credentials))
    assert [type(channel) for channel in channels if channel.name() == "rest"] == [ValidatingRestInput]
    assert "rest" not in [channel for channel in read_yaml_file(str(credentials))]


@pytest.mark.parametrize(
    "sender", ["3174051708859001", "3174 0517 0885 9001", "+62 812-3456-7890", "ibu-17agustus1985", "a@b.id"]
)
async def test_a_sender_id_with_personal_data_is_kept_only_as_a_pseudonym(rest: Rest, sender: str) -> None:
    """The tracker store and the review app keep conversation ids for good: no NIK or number in them."""
    for _ in range(2):
        status, body = await rest.post(f'{{"sender": "{sender}", "message": "halo"}}')
        assert status == 200
    first, second = rest.assistant.received
    assert first.sender_id == second.sender_id  # the same conversation both times
    assert first.sender_id.startswith(PSEUDONYM_PREFIX)
    digits = "".join(character for character in sender if character.isdigit())
    assert (digits or sender) not in first.sender_id
    assert body[0]["recipient_id"] == first.sender_id


def test_without_a_key_a_sender_id_with_personal_data_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        stored_sender("3174051708859001", "")
    assert (refused.value.status, refused.value.reason) == (400, SENDER_HAS_PERSONAL_DATA)
    assert stored_sender("it-a", "") == "it-a"
