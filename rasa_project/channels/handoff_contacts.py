"""The phone numbers of conversations an officer may still answer, sealed, and only for that long.

The channel otherwise keeps no phone number: conversations are keyed by a hash (``privacy``), so
nothing could reach a recipient unprompted. An officer's reply needs the number after the message
that asked for the officer has been answered, so while a handoff is open the number is stored here:

- **sealed** (core/sealing.py, AES-256-GCM with the conversation id as associated data and a key
  derived from the sender hash key for this purpose): the store, its backups and logs hold nothing
  readable, and a row copied to another conversation opens to nothing;
- **only while the handoff is open**: stored when the bot says the conversation went to an officer,
  refreshed by each message the person sends meanwhile (each one reopens Meta's 24-hour window),
  deleted when the conversation goes back to the bot, and expired 24 hours after the person's last
  message, when WhatsApp would refuse a reply anyway (expired rows are purged, and never opened).

Same backends as the seen-message store (``idempotency``): a table in the tracker database by
default, any SQLAlchemy URL, or Redis (the key expires by itself).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.handoff import REPLY_WINDOW_SECONDS
from core.sealing import Sealer
from rasa_project.channels.expiring_table import ExpiringTable
from rasa_project.channels.idempotency import sql_engine_of

logger = logging.getLogger(__name__)

TABLE_NAME = "whatsapp_handoff_contacts"
REDIS_KEY_PREFIX = "tanyavaksin:whatsapp:handoff:"
TOKEN_PREFIX = "wa-contact-v1:"
_PURPOSE = b"tanyavaksin/whatsapp-handoff-contact/aes-256-gcm"
PURGE_EVERY_SECONDS = 600.0

Clock = Callable[[], float]


def contact_sealer(sender_hash_key: str, clock: Clock = time.time) -> Sealer:
    """Seals a number to its conversation for the reply window."""
    return Sealer(
        sender_hash_key.encode(), REPLY_WINDOW_SECONDS, prefix=TOKEN_PREFIX, purpose=_PURPOSE, clock=clock
    )


class ContactBackend(Protocol):
    """Where sealed tokens wait; it never sees a number."""

    async def put(self, conversation: str, token: str, expires_at: float) -> None: ...
    async def touch(self, conversation: str, token: str, expires_at: float) -> bool: ...
    async def get(self, conversation: str) -> str | None: ...
    async def delete(self, conversation: str) -> None: ...
    async def close(self) -> None: ...


class HandoffContacts:
    """Keep, refresh, look up and forget one conversation's number (sealed in the backend)."""

    def __init__(self, backend: ContactBackend, sealer: Sealer, clock: Clock = time.time) -> None:
        self._backend = backend
        self._sealer = sealer
        self._clock = clock

    async def keep(self, conversation: str, phone: str) -> None:
        """The handoff opened: store the number until 24 hours after this message."""
        await self._backend.put(conversation, self._sealer.seal(phone, conversation), self._expiry())

    async def refresh(self, conversation: str, phone: str) -> bool:
        """The person wrote again: if a handoff is open, its window starts again. True if one was open.

        A read first: most conversations have no handoff, and a row past its window (Redis keeps a
        key until its own TTL) must not come back to life.
        """
        if await self.phone_for(conversation) is None:
            return False
        return await self._backend.touch(conversation, self._sealer.seal(phone, conversation), self._expiry())

    async def phone_for(self, conversation: str) -> str | None:
        """The number, while the handoff is open and the window lasts; else None."""
        token = await self._backend.get(conversation)
        return None if token is None else self._sealer.unseal(token, conversation)

    async def forget(self, conversation: str) -> None:
        """The conversation went back to the bot: the number is deleted."""
        await self._backend.delete(conversation)

    async def close(self) -> None:
        await self._backend.close()

    def _expiry(self) -> float:
        return self._clock() + self._sealer.ttl_seconds


class MemoryContacts:
    """Only for a tracker store without SQL: one process, forgotten on restart."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._rows: dict[str, tuple[str, float]] = {}
        self._clock = clock

    async def put(self, conversation: str, token: str, expires_at: float) -> None:
        now = self._clock()
        self._rows = {key: row for key, row in self._rows.items() if row[1] > now}
        self._rows[conversation] = (token, expires_at)

    async def touch(self, conversation: str, token: str, expires_at: float) -> bool:
        if await self.get(conversation) is None:
            return False
        self._rows[conversation] = (token, expires_at)
        return True

    async def get(self, conversation: str) -> str | None:
        row = self._rows.get(conversation)
        return row[0] if row and row[1] > self._clock() else None

    async def delete(self, conversation: str) -> None:
        self._rows.pop(conversation, None)

    async def close(self) -> None:
        self._rows.clear()


class SqlContacts:
    """A table (conversation_id, token, expires_at); blocking calls run in a worker thread."""

    def __init__(self, engine: Engine, clock: Clock = time.time, owns_engine: bool = False) -> None:
        self._engine = engine
        self._clock = clock
        self._owns_engine = owns_engine
        self._table = sa.Table(
            TABLE_NAME,
            sa.MetaData(),
            sa.Column("conversation_id", sa.String(255), primary_key=True),
            sa.Column("token", sa.Text, nullable=False),
            sa.Column("expires_at", sa.Float, nullable=False, index=True),
        )
        self._rows = ExpiringTable(engine, self._table, PURGE_EVERY_SECONDS, clock)

    def _put(self, conversation: str, token: str, expires_at: float) -> None:
        table = self._table
        with self._engine.begin() as connection:
            connection.execute(table.delete().where(table.c.conversation_id == conversation))
            connection.execute(
                table.insert().values(conversation_id=conversation, token=token, expires_at=expires_at)
            )
        self._rows.purge_if_due()

    def _touch(self, conversation: str, token: str, expires_at: float) -> bool:
        table = self._table
        with self._engine.begin() as connection:
            updated = connection.execute(
                table.update()
                .where(table.c.conversation_id == conversation, table.c.expires_at > self._clock())
                .values(token=token, expires_at=expires_at)
            )
        return bool(updated.rowcount == 1)

    def _get(self, conversation: str) -> str | None:
        table = self._table
        with self._engine.connect() as connection:
            row = connection.execute(
                sa.select(table.c.token).where(
                    table.c.conversation_id == conversation, table.c.expires_at > self._clock()
                )
            ).first()
        return None if row is None else str(row.token)

    def _delete(self, conversation: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(self._table.delete().where(self._table.c.conversation_id == conversation))

    async def put(self, conversation: str, token: str, expires_at: float) -> None:
        await asyncio.to_thread(self._put, conversation, token, expires_at)

    async def touch(self, conversation: str, token: str, expires_at: float) -> bool:
        return await asyncio.to_thread(self._touch, conversation, token, expires_at)

    async def get(self, conversation: str) -> str | None:
        return await asyncio.to_thread(self._get, conversation)

    async def delete(self, conversation: str) -> None:
        await asyncio.to_thread(self._delete, conversation)

    async def close(self) -> None:
        if self._owns_engine:
            self._engine.dispose()


class RedisContacts:
    """``SET key token EX ttl``; ``XX`` for a refresh, so a closed handoff is never reopened by it."""

    def __init__(self, url: str, clock: Clock = time.time) -> None:
        import redis.asyncio as redis_asyncio

        self._redis: Any = redis_asyncio.from_url(url)
        self._clock = clock

    def _ttl(self, expires_at: float) -> int:
        return max(1, int(expires_at - self._clock()))

    async def put(self, conversation: str, token: str, expires_at: float) -> None:
        await self._redis.set(REDIS_KEY_PREFIX + conversation, token, ex=self._ttl(expires_at))

    async def touch(self, conversation: str, token: str, expires_at: float) -> bool:
        key = REDIS_KEY_PREFIX + conversation
        return bool(await self._redis.set(key, token, ex=self._ttl(expires_at), xx=True))

    async def get(self, conversation: str) -> str | None:
        value = await self._redis.get(REDIS_KEY_PREFIX + conversation)
        return None if value is None else value.decode() if isinstance(value, bytes) else str(value)

    async def delete(self, conversation: str) -> None:
        await self._redis.delete(REDIS_KEY_PREFIX + conversation)

    async def close(self) -> None:
        await self._redis.close()


def open_contacts(url: str, sender_hash_key: str, tracker_store: object | None) -> HandoffContacts:
    """The store named by ``url`` (the seen-message store's setting); empty: the tracker database."""
    backend: ContactBackend
    if url.startswith(("redis://", "rediss://", "unix://")):
        backend = RedisContacts(url)
    elif url:
        backend = SqlContacts(sa.create_engine(url), owns_engine=True)
    elif (engine := sql_engine_of(tracker_store)) is not None:
        backend = SqlContacts(engine)
    else:
        logger.warning(
            "The tracker store is not SQL and no seen_store_url is set: numbers of conversations waiting for "
            "an officer are kept in this process only; an officer's reply through another instance fails."
        )
        backend = MemoryContacts()
    return HandoffContacts(backend, contact_sealer(sender_hash_key))
