from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services.registry.lockout import Lock, LockoutPolicy, LockScope, Subjects, current_lock, record_failure
from services.registry.models import VerificationFailure
from tests.services.registry.support import START

POLICY = LockoutPolicy(max_failures=5, window=timedelta(hours=1), duration=timedelta(hours=1))
NIK_A, NIK_B = "a" * 64, "b" * 64
CONVERSATION_A, CONVERSATION_B = "c" * 64, "d" * 64


def fail(session: Session, minutes: float, nik: str = NIK_A, conversation: str = CONVERSATION_A) -> None:
    record_failure(session, POLICY, START + timedelta(minutes=minutes), Subjects(nik, conversation))
    session.flush()


def lock_at(
    session: Session, minutes: float, nik: str = NIK_A, conversation: str = CONVERSATION_B
) -> Lock | None:
    return current_lock(session, POLICY, START + timedelta(minutes=minutes), Subjects(nik, conversation))


def test_four_failures_do_not_lock(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        for minute in range(4):
            fail(session, minute)
        assert lock_at(session, 5) is None


def test_five_failures_within_the_window_lock_from_the_fifth(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        for minute in (0, 10, 20, 30, 40):
            fail(session, minute)
        lock = lock_at(session, 41)
        assert lock is not None
        assert lock.scope is LockScope.NIK
        assert lock.until == START + timedelta(minutes=100)
        assert lock.seconds_left(START + timedelta(minutes=41)) == 59 * 60
        assert lock_at(session, 99) is not None
        assert lock_at(session, 100) is None


def test_five_failures_spread_wider_than_the_window_do_not_lock(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        for minute in (0, 15, 30, 45, 60):
            fail(session, minute)
        assert lock_at(session, 61) is None


def test_the_conversation_is_locked_on_its_own(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        for minute in range(5):
            fail(session, minute, nik=f"{minute}" * 64, conversation=CONVERSATION_A)
        lock = current_lock(session, POLICY, START + timedelta(minutes=6), Subjects(NIK_B, CONVERSATION_A))
        assert lock is not None and lock.scope is LockScope.CONVERSATION
        assert (
            current_lock(session, POLICY, START + timedelta(minutes=6), Subjects(NIK_B, CONVERSATION_B))
            is None
        )


def test_old_failures_are_forgotten(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        fail(session, 0)
        fail(session, 60 * 3)
        count = session.scalar(select(func.count()).select_from(VerificationFailure))
        assert count == 1


def test_the_number_on_file_is_locked_by_wrong_codes_whatever_the_nik_or_chat(
    session_factory: sessionmaker[Session],
) -> None:
    """Five wrong codes for one number, from five chats about five NIKs: the number is locked."""
    number = "e" * 64
    with session_factory() as session:
        for minute in range(5):
            record_failure(
                session,
                POLICY,
                START + timedelta(minutes=minute),
                Subjects(f"{minute}" * 64, f"{minute + 5}" * 64, number),
            )
        session.flush()
        later = START + timedelta(minutes=6)
        lock = current_lock(session, POLICY, later, Subjects(NIK_B, CONVERSATION_B, number))
        assert lock is not None and lock.scope is LockScope.NUMBER
        # Without a code in play the number is not asked about: a birth date check is not refused by it.
        assert current_lock(session, POLICY, later, Subjects(NIK_B, CONVERSATION_B)) is None
