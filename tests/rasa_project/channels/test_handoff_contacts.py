"""A recipient's number is kept sealed while an officer may answer, and only that long.

Every backend the channel can use (SQLite and PostgreSQL tables, Redis, memory), with a clock the
test moves: keep, refresh, look up, forget, expire; what the store holds is never the number.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.handoff import REPLY_WINDOW_SECONDS
from rasa_project.channels.handoff_contacts import (
    REDIS_KEY_PREFIX,
    TABLE_NAME,
    ContactBackend,
    HandoffContacts,
    MemoryContacts,
    RedisContacts,
    SqlContacts,
    contact_sealer,
    open_contacts,
)

PHONE = "6281234567890"
KEY = "hash-key-for-tests"
POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/15"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


BackendFactory = Callable[[Clock], ContactBackend]


@pytest.fixture(params=["sqlite", "postgresql", "redis", "memory"])
async def make_contacts(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[Clock], HandoffContacts]]:
    made: list[HandoffContacts] = []

    def make(clock: Clock) -> HandoffContacts:
        backend: ContactBackend
        if request.param == "sqlite":
            backend = SqlContacts(
                sa.create_engine(f"sqlite:///{tmp_path / 'tracker.db'}"), clock, owns_engine=True
            )
        elif request.param == "postgresql":
            backend = SqlContacts(sa.create_engine(POSTGRES_URL), clock, owns_engine=True)
        elif request.param == "redis":
            backend = RedisContacts(REDIS_URL, clock)
        else:
            backend = MemoryContacts(clock)
        contacts = HandoffContacts(backend, contact_sealer(KEY, clock), clock)
        made.append(contacts)
        return contacts

    yield make
    for contacts in made:
        await contacts.close()


def conversation() -> str:
    return f"wa_{uuid.uuid4().hex}"


async def test_kept_while_open_and_forgotten_on_close(
    make_contacts: Callable[[Clock], HandoffContacts],
) -> None:
    clock = Clock()
    contacts = make_contacts(clock)
    chat, other = conversation(), conversation()
    assert await contacts.phone_for(chat) is None
    await contacts.keep(chat, PHONE)
    assert await contacts.phone_for(chat) == PHONE
    assert await contacts.phone_for(other) is None
    await contacts.forget(chat)
    assert await contacts.phone_for(chat) is None
    assert not await contacts.refresh(chat, PHONE)  # a closed handoff is not reopened by a message


async def test_gone_24_hours_after_the_last_message_unless_the_person_writes(
    make_contacts: Callable[[Clock], HandoffContacts],
) -> None:
    clock = Clock()
    contacts = make_contacts(clock)
    chat = conversation()
    await contacts.keep(chat, PHONE)
    clock.now += REPLY_WINDOW_SECONDS - 60
    assert await contacts.refresh(chat, PHONE)  # the person wrote: a new window
    clock.now += REPLY_WINDOW_SECONDS - 60
    assert await contacts.phone_for(chat) == PHONE
    clock.now += 120
    assert await contacts.phone_for(chat) is None
    assert not await contacts.refresh(chat, PHONE)


async def test_the_table_holds_no_number_and_a_row_copied_to_another_conversation_opens_to_nothing(
    tmp_path: Path,
) -> None:
    clock = Clock()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    contacts = HandoffContacts(SqlContacts(engine, clock), contact_sealer(KEY, clock), clock)
    victim, attacker = conversation(), conversation()
    await contacts.keep(victim, PHONE)
    with engine.begin() as connection:
        [(token,)] = connection.execute(sa.text(f"SELECT token FROM {TABLE_NAME}")).all()
        assert PHONE not in token and PHONE[-8:] not in token
        connection.execute(
            sa.text(f"INSERT INTO {TABLE_NAME} VALUES (:c, :t, :e)"),
            {"c": attacker, "t": token, "e": clock.now + 3600},
        )
    assert await contacts.phone_for(attacker) is None
    other_key = HandoffContacts(SqlContacts(engine, clock), contact_sealer("another-key", clock), clock)
    assert await other_key.phone_for(victim) is None
    engine.dispose()


async def test_redis_key_expires_by_itself() -> None:
    clock = Clock()
    backend = RedisContacts(REDIS_URL, clock)
    contacts = HandoffContacts(backend, contact_sealer(KEY, clock), clock)
    chat = conversation()
    try:
        await contacts.keep(chat, PHONE)
        ttl = await backend._redis.ttl(REDIS_KEY_PREFIX + chat)
        assert REPLY_WINDOW_SECONDS - 5 <= ttl <= REPLY_WINDOW_SECONDS
        assert PHONE.encode() not in await backend._redis.get(REDIS_KEY_PREFIX + chat)
    finally:
        await backend._redis.delete(REDIS_KEY_PREFIX + chat)
        await contacts.close()


async def test_open_contacts_uses_the_seen_store_setting(tmp_path: Path) -> None:
    sql = open_contacts(f"sqlite:///{tmp_path / 'seen.db'}", KEY, None)
    redis = open_contacts(REDIS_URL, KEY, None)
    memory = open_contacts("", KEY, None)
    try:
        assert isinstance(sql._backend, SqlContacts)
        assert isinstance(redis._backend, RedisContacts)
        assert isinstance(memory._backend, MemoryContacts)
    finally:
        for contacts in (sql, redis, memory):
            await contacts.close()
