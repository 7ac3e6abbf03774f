"""The one-time code: sent to the number on file when a WhatsApp chat comes from another number.

The code is 6 digits from ``secrets``, valid ``code_ttl_seconds`` for ``code_max_attempts`` tries,
and usable only from the conversation that asked for it. Only keyed hashes of it and of the
challenge id are stored; neither is logged or audited. Each wrong code is a failure against the
NIK, the conversation and the number on file (services/registry/lockout.py), and a number gets at
most ``codes_per_number`` codes per lockout window, so nobody can flood a phone with codes.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services.registry.audit import Outcome
from services.registry.hashing import challenge_hash, code_hash, conversation_hash, number_hash
from services.registry.lockout import (
    Lock,
    LockoutPolicy,
    LockScope,
    Subjects,
    current_lock,
    record_failure,
    serialise_attempts,
)
from services.registry.masking import mask_phone
from services.registry.models import CodeChallenge, Recipient
from services.registry.results import (
    Attempt,
    CodeEnded,
    CodeSent,
    CodeUnavailable,
    Found,
    Locked,
    WrongCode,
    describe,
    lockout_policy,
)
from services.registry.settings import RegistrySettings
from services.registry.whatsapp import CodeNotSent, CodeSender

log = logging.getLogger(__name__)

CODE_DIGITS = 6


@dataclass(frozen=True)
class CodeQuery:
    challenge_id: str
    code: str
    conversation_id: str


VerifyResult = Found | WrongCode | CodeEnded | Locked


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def send_code(
    attempt: Attempt, policy: LockoutPolicy, recipient: Recipient, sender: CodeSender | None
) -> Locked | CodeSent | CodeUnavailable:
    """After NIK and birth date matched from another number: a code to the number on file."""
    session, settings, now = attempt.session, attempt.settings, attempt.now
    subjects = Subjects(
        attempt.subjects.nik_hash,
        attempt.subjects.conversation_hash,
        number_hash(attempt.key, recipient.phone),
    )
    serialise_attempts(session, subjects)
    lock = current_lock(session, policy, now, subjects) or _code_quota_lock(session, settings, now, subjects)
    if lock is not None:
        attempt.finish(Outcome.LOCKED)
        return Locked(lock)
    if sender is None:
        log.error("a code was needed but WhatsApp is not configured (WHATSAPP_ACCESS_TOKEN, PHONE_NUMBER_ID)")
        attempt.finish(Outcome.CODE_NOT_SENT)
        return CodeUnavailable()

    # A new code replaces any this conversation still holds for this NIK.
    session.execute(
        update(CodeChallenge)
        .where(
            CodeChallenge.conversation_hash == subjects.conversation_hash,
            CodeChallenge.nik_hash == subjects.nik_hash,
            CodeChallenge.closed_at.is_(None),
        )
        .values(closed_at=now)
    )
    assert subjects.number_hash is not None
    session.execute(
        delete(CodeChallenge).where(
            CodeChallenge.number_hash == subjects.number_hash,
            CodeChallenge.created_at < now - policy.window - timedelta(seconds=settings.code_ttl_seconds),
        )
    )
    challenge_id, code = secrets.token_urlsafe(32), new_code()
    challenge = CodeChallenge(
        challenge_hash=challenge_hash(attempt.key, challenge_id),
        recipient_id=recipient.id,
        nik_hash=subjects.nik_hash,
        conversation_hash=subjects.conversation_hash,
        number_hash=subjects.number_hash,
        code_hash=code_hash(attempt.key, challenge_id, code),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.code_ttl_seconds),
        attempts=0,
    )
    session.add(challenge)
    phone = recipient.phone
    attempt.finish(Outcome.CODE_SENT)  # committed first: no database transaction waits on Meta
    try:
        sender.send_code(phone, code)
    except CodeNotSent as error:
        log.warning("one-time code not sent: %s", error)
        session.delete(challenge)
        attempt.finish(Outcome.CODE_NOT_SENT)
        return CodeUnavailable()
    return CodeSent(challenge_id, mask_phone(phone), settings.code_ttl_seconds)


def _code_quota_lock(
    session: Session, settings: RegistrySettings, now: datetime, subjects: Subjects
) -> Lock | None:
    """Refuse a new code while the number on file had ``codes_per_number`` within the window."""
    window = timedelta(seconds=settings.lockout_window_seconds)
    sent = list(
        session.scalars(
            select(CodeChallenge.created_at)
            .where(CodeChallenge.number_hash == subjects.number_hash, CodeChallenge.created_at > now - window)
            .order_by(CodeChallenge.created_at.desc())
        )
    )
    if len(sent) < settings.codes_per_number:
        return None
    return Lock(LockScope.NUMBER, sent[settings.codes_per_number - 1] + window)


def verify_code(
    session: Session,
    settings: RegistrySettings,
    query: CodeQuery,
    *,
    now: datetime,
    caller: str,
    client_host: str | None,
) -> VerifyResult:
    """The code typed in the conversation that asked for it: the record, or why not."""
    key = settings.audit_hash_key.get_secret_value()
    conversation = conversation_hash(key, query.conversation_id)
    by_id = select(CodeChallenge).where(
        CodeChallenge.challenge_hash == challenge_hash(key, query.challenge_id)
    )
    challenge = session.scalar(by_id)
    subjects = Subjects(
        challenge.nik_hash if challenge is not None else "",
        conversation,
        challenge.number_hash if challenge is not None else None,
    )
    attempt = Attempt(session, settings, now, caller, client_host, subjects)
    if challenge is None or not hmac.compare_digest(challenge.conversation_hash, conversation):
        attempt.subjects = Subjects("", conversation)
        attempt.finish(Outcome.CODE_ENDED)
        return CodeEnded()
    policy = lockout_policy(settings)
    serialise_attempts(session, subjects)
    challenge = session.scalar(
        by_id.execution_options(populate_existing=True)
    )  # as it is now, under the locks
    if challenge is None or challenge.closed_at is not None or challenge.expires_at <= now:
        attempt.finish(Outcome.CODE_ENDED)
        return CodeEnded()
    lock = current_lock(session, policy, now, subjects)
    if lock is not None:
        attempt.finish(Outcome.LOCKED)
        return Locked(lock)

    if hmac.compare_digest(challenge.code_hash, code_hash(key, query.challenge_id, query.code)):
        challenge.closed_at = now
        recipient = session.get(Recipient, challenge.recipient_id)
        if recipient is None:  # deleted from the registry meanwhile
            attempt.finish(Outcome.CODE_ENDED)
            return CodeEnded()
        found = describe(session, settings, recipient, now)
        attempt.finish(Outcome.FOUND)
        return found

    challenge.attempts += 1
    record_failure(session, policy, now, subjects)
    attempts_left = settings.code_max_attempts - challenge.attempts
    if attempts_left <= 0:
        challenge.closed_at = now
    attempt.finish(Outcome.WRONG_CODE)
    return WrongCode(attempts_left) if attempts_left > 0 else CodeEnded(too_many_attempts=True)
