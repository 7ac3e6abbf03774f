"""Locking out guessing: too many failed checks for one NIK, one conversation or one number, and it stops.

Failures live in the database, so every registry instance counts the same ones. A subject is
locked when, at some failure, ``max_failures`` had happened within ``window``; the lock then lasts
``duration`` from that failure. Refused attempts are not failures, so waiting always ends a lock.

The subjects are the NIK (whoever asks), the conversation (on WhatsApp, the sender's number) and
the number on file, which only a wrong one-time code counts against: a new chat cannot get round
a lock, and a wrong birth date never reveals which NIKs share a phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import ColumnElement, delete, select, text
from sqlalchemy.orm import Session

from services.registry.models import VerificationFailure


class LockScope(str, Enum):
    NIK = "nik"
    CONVERSATION = "conversation"
    NUMBER = "number"


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int
    window: timedelta
    duration: timedelta


@dataclass(frozen=True)
class Lock:
    scope: LockScope
    until: datetime

    def seconds_left(self, now: datetime) -> int:
        return max(1, int((self.until - now).total_seconds() + 0.999))


@dataclass(frozen=True)
class Subjects:
    """Keyed hashes of who is being checked and who asks; ``number_hash`` only once a code is in play."""

    nik_hash: str
    conversation_hash: str
    number_hash: str | None = None


def serialise_attempts(session: Session, subjects: Subjects) -> None:
    """On PostgreSQL, make concurrent attempts on the same NIK, conversation or number take turns.

    Without this, parallel requests could all read "4 failures" and all get a guess in. The locks
    are released at commit and are always taken in the order NIK, conversation, number, so two
    requests cannot deadlock. On SQLite (the single-instance default) every transaction already
    begins IMMEDIATE, one at a time.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    keyed = ((1, subjects.nik_hash), (2, subjects.conversation_hash), (3, subjects.number_hash))
    for kind, digest in keyed:
        if digest is None:
            continue
        session.execute(
            text("SELECT pg_advisory_xact_lock(CAST(:kind AS integer), CAST(:key AS integer))"),
            {"kind": kind, "key": int(digest[:8], 16) - 2**31},
        )


def current_lock(session: Session, policy: LockoutPolicy, now: datetime, subjects: Subjects) -> Lock | None:
    """The lock that refuses this attempt, or None. The NIK lock is reported first."""
    checks = [
        (LockScope.NIK, VerificationFailure.nik_hash == subjects.nik_hash),
        (LockScope.CONVERSATION, VerificationFailure.conversation_hash == subjects.conversation_hash),
    ]
    if subjects.number_hash is not None:
        checks.append((LockScope.NUMBER, VerificationFailure.number_hash == subjects.number_hash))
    for scope, subject in checks:
        until = _locked_until(session, policy, now, subject)
        if until is not None:
            return Lock(scope, until)
    return None


def record_failure(session: Session, policy: LockoutPolicy, now: datetime, subjects: Subjects) -> None:
    """Count a failed check, and forget this subject's failures that can no longer lock anything."""
    forget_before = now - policy.window - policy.duration
    mine = (VerificationFailure.nik_hash == subjects.nik_hash) | (
        VerificationFailure.conversation_hash == subjects.conversation_hash
    )
    session.execute(delete(VerificationFailure).where(mine, VerificationFailure.occurred_at < forget_before))
    session.add(
        VerificationFailure(
            occurred_at=now,
            nik_hash=subjects.nik_hash,
            conversation_hash=subjects.conversation_hash,
            number_hash=subjects.number_hash,
        )
    )


def _locked_until(
    session: Session, policy: LockoutPolicy, now: datetime, subject: ColumnElement[bool]
) -> datetime | None:
    since = now - policy.window - policy.duration
    times = list(
        session.scalars(
            select(VerificationFailure.occurred_at)
            .where(subject, VerificationFailure.occurred_at > since)
            .order_by(VerificationFailure.occurred_at)
        )
    )
    until = None
    first = 0
    for last, at in enumerate(times):
        while times[first] <= at - policy.window:
            first += 1
        if last - first + 1 >= policy.max_failures:
            until = at + policy.duration
    return until if until is not None and until > now else None
