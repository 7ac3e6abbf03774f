"""The record_token a lookup answers with, and the masked data on file beside it."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from actions.sealing import Sealer as SlotSealer
from services.registry.demo import DEMO_PERSON
from services.registry.hashing import conversation_hash
from services.registry.models import Recipient
from services.registry.record_token import PREFIX, RecordTokens
from services.registry.settings import RegistrySettings
from tests.services.registry.request_support import CONVERSATION, OTHER_CONVERSATION, record_token
from tests.services.registry.support import AUDIT_HASH_KEY, SERVICE_TOKEN, START, FakeClock


def tokens(clock: FakeClock, key: str = AUDIT_HASH_KEY, minutes: int = 30) -> RecordTokens:
    settings = RegistrySettings(
        service_token=SecretStr(SERVICE_TOKEN), audit_hash_key=SecretStr(key), record_token_minutes=minutes
    )
    return RecordTokens(settings, clock)


def test_a_token_opens_to_its_recipient_in_its_conversation() -> None:
    issuer = tokens(FakeClock(START))
    token = issuer.issue(42, CONVERSATION)
    assert token.startswith(PREFIX)
    assert issuer.open(token, CONVERSATION) == 42
    # Opaque: encrypted, not merely signed, and never the same twice.
    raw = base64.urlsafe_b64decode(token[len(PREFIX) :])
    assert conversation_hash(AUDIT_HASH_KEY, CONVERSATION).encode() not in raw
    assert CONVERSATION.encode() not in raw
    assert issuer.issue(42, CONVERSATION) != token


def test_a_token_does_not_open_in_another_conversation() -> None:
    issuer = tokens(FakeClock(START))
    assert issuer.open(issuer.issue(42, CONVERSATION), OTHER_CONVERSATION) is None


def test_a_token_expires_after_the_configured_minutes() -> None:
    clock = FakeClock(START)
    issuer = tokens(clock, minutes=30)
    token = issuer.issue(42, CONVERSATION)
    clock.advance(minutes=29)
    assert issuer.open(token, CONVERSATION) == 42
    clock.advance(minutes=2)
    assert issuer.open(token, CONVERSATION) is None


@pytest.mark.parametrize("position", [len(PREFIX), len(PREFIX) + 10, -1, -5])
def test_an_edited_token_opens_to_nothing(position: int) -> None:
    issuer = tokens(FakeClock(START))
    token = issuer.issue(42, CONVERSATION)
    index = position % len(token)
    edited = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]
    assert issuer.open(edited, CONVERSATION) is None


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        PREFIX,
        PREFIX + "!!!",
        PREFIX + "\ud800",
        "x" * 5000,
        PREFIX + base64.urlsafe_b64encode(b"0" * 60).decode(),
    ],
)
def test_garbage_opens_to_nothing(token: str | None) -> None:
    assert tokens(FakeClock(START)).open(token, CONVERSATION) is None


def test_a_token_of_another_key_or_another_use_opens_to_nothing() -> None:
    clock = FakeClock(START)
    assert (
        tokens(clock).open(
            tokens(clock, key="another-audit-key-0123456789").issue(42, CONVERSATION), CONVERSATION
        )
        is None
    )
    slot_token = SlotSealer(AUDIT_HASH_KEY.encode(), 600, clock=lambda: clock().timestamp()).seal(
        "42", CONVERSATION
    )
    forged = PREFIX + slot_token.split(":", 2)[-1]  # the same AEAD and key material, another purpose
    assert tokens(clock).open(forged, CONVERSATION) is None


@pytest.mark.usefixtures("demo_registry")
def test_the_lookup_answers_with_a_record_token_and_masked_data_on_file(
    client: TestClient, settings: RegistrySettings, clock: FakeClock, session_factory: sessionmaker[Session]
) -> None:
    body = {
        "nik": DEMO_PERSON.nik,
        "birth_date": DEMO_PERSON.birth_date.isoformat(),
        "conversation_id": CONVERSATION,
        "channel": "rest",
    }
    response = client.post("/v1/lookup", json=body, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})
    assert response.status_code == 200
    answer = response.json()
    assert answer["on_file"] == {
        "name_masked": "B••• S•••••o",
        "phone_masked": "+62 8••••••0001",
        "birth_date_masked": "••-••-1985",
        "district": "Kebayoran Lama, Jakarta Selatan",
    }
    for personal in ("Budi", "Santoso", DEMO_PERSON.phone, "81000000001", "17-08", "08-17", DEMO_PERSON.nik):
        assert personal not in response.text
    with session_factory() as session:
        budi = session.scalar(select(Recipient.id).where(Recipient.nik == DEMO_PERSON.nik))
    assert RecordTokens(settings, clock).open(answer["record_token"], CONVERSATION) == budi
    assert RecordTokens(settings, clock).open(answer["record_token"], OTHER_CONVERSATION) is None


@pytest.mark.usefixtures("demo_registry")
def test_each_lookup_gets_a_fresh_token(client: TestClient) -> None:
    assert record_token(client) != record_token(client)
