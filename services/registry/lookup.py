"""Looking a person up by NIK + birth date without letting anyone learn who is in the registry.

An unknown NIK and a wrong birth date take the same path: the NIK is hashed, the recipient query
runs, a birth date is compared in constant time (a fixed dummy one when there is no recipient),
and a failure is recorded. Both then get the same answer.

NIK and birth date are one secret (the NIK's digits 7-12 are the birth date), so a match is not
enough on its own:
- On WhatsApp the conversation id is a keyed hash of the sender's number (core/sender_identity.py).
  When it is the number on file's, the record is given; otherwise a one-time code goes to the
  number on file (services/registry/challenges.py) and the record waits for it.
- REST is a test channel: it reaches only the demo registry unless ``allow_rest_lookups`` is set.
  Any other NIK gets the "not found" answer of a wrong birth date, with a hint to use WhatsApp.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.sender_identity import is_sender_of
from services.registry.audit import Outcome
from services.registry.challenges import send_code
from services.registry.demo import demo_niks
from services.registry.hashing import conversation_hash, nik_hash
from services.registry.lockout import Subjects, current_lock, record_failure, serialise_attempts
from services.registry.models import Recipient
from services.registry.results import (
    Attempt,
    CodeSent,
    CodeUnavailable,
    Found,
    Locked,
    NotFound,
    describe,
    lockout_policy,
)
from services.registry.settings import RegistrySettings
from services.registry.whatsapp import CodeSender

__all__ = [
    "Channel",
    "Found",
    "Locked",
    "LookupQuery",
    "LookupResult",
    "NotFound",
    "lockout_policy",
    "look_up",
]

_DUMMY_BIRTH_DATE = date(1970, 1, 1)


class Channel(str, Enum):
    """Where the conversation runs. Only WhatsApp has a number to check; anything else is a test channel."""

    WHATSAPP = "whatsapp"
    REST = "rest"


@dataclass(frozen=True)
class LookupQuery:
    nik: str
    birth_date: date
    conversation_id: str
    channel: str = Channel.REST.value


LookupResult = Found | NotFound | Locked | CodeSent | CodeUnavailable


def look_up(
    session: Session,
    settings: RegistrySettings,
    query: LookupQuery,
    *,
    now: datetime,
    caller: str,
    client_host: str | None,
    code_sender: CodeSender | None = None,
) -> LookupResult:
    """Check the lock, verify, record the outcome and commit; one transaction per attempt.

    ``code_sender`` (services/registry/whatsapp.py CodeSender) sends codes; None means it cannot.
    """
    key = settings.audit_hash_key.get_secret_value()
    attempt = Attempt(
        session,
        settings,
        now,
        caller,
        client_host,
        Subjects(nik_hash(key, query.nik), conversation_hash(key, query.conversation_id)),
    )
    policy = lockout_policy(settings)

    serialise_attempts(session, attempt.subjects)
    lock = current_lock(session, policy, now, attempt.subjects)
    if lock is not None:
        attempt.finish(Outcome.LOCKED)
        return Locked(lock)

    recipient = session.scalar(select(Recipient).where(Recipient.nik == query.nik))
    expected = recipient.birth_date if recipient is not None else _DUMMY_BIRTH_DATE
    birth_date_matches = hmac.compare_digest(expected.isoformat(), query.birth_date.isoformat())
    on_whatsapp = query.channel == Channel.WHATSAPP.value
    test_channel_only = not on_whatsapp and not settings.allow_rest_lookups
    reachable = not test_channel_only or query.nik in demo_niks()
    if recipient is None or not birth_date_matches or not reachable:
        record_failure(session, policy, now, attempt.subjects)
        attempt.finish(Outcome.NOT_FOUND)
        return NotFound(whatsapp_only=test_channel_only)

    if on_whatsapp and not _from_number_on_file(settings, recipient.phone, query.conversation_id):
        return send_code(attempt, policy, recipient, code_sender)
    found = describe(session, settings, recipient, now)
    attempt.finish(Outcome.FOUND)
    return found


def _from_number_on_file(settings: RegistrySettings, phone: str, conversation_id: str) -> bool:
    """The keyed hash of the number on file against the sender id, in constant time."""
    key = settings.sender_hash_key.get_secret_value() if settings.sender_hash_key is not None else ""
    return bool(key) and is_sender_of(phone, conversation_id, key)
