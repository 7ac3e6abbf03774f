"""Reviewer accounts, sign-in sessions and sign-in throttling.

Passwords are argon2id hashes. A session is a random token in a cookie; the database keeps only
its SHA-256, so a leaked copy of the database signs nobody in. Each session carries its own CSRF
token for the forms. Failed sign-ins are counted per username and per client address; past
``login_max_failures`` within the window, attempts are refused before the password is checked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from services.review.models import LoginFailure, ReviewUser, Role, WebSession

MIN_PASSWORD_LENGTH = 10
MAX_USERNAME_LENGTH = 64
SESSION_COOKIE = "review_session"
LOGIN_CSRF_COOKIE = "review_login_csrf"

_hasher = PasswordHasher()  # argon2id with argon2-cffi's current recommended parameters


class PasswordTooShort(ValueError):
    pass


class UserExists(ValueError):
    pass


@dataclass(frozen=True)
class SignedIn:
    """The current request's user and session (what the page dependencies hand around)."""

    user: ReviewUser
    token_hash: str
    csrf_token: str
    chat_sender_id: str | None


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so both cases cost the same time."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalise_username(username: str) -> str:
    return username.strip().lower()[:MAX_USERNAME_LENGTH]


def create_user(session: Session, username: str, password: str, role: Role, now: datetime) -> ReviewUser:
    name = normalise_username(username)
    if not name:
        raise ValueError("a username is required")
    if session.scalar(select(ReviewUser.id).where(ReviewUser.username == name)) is not None:
        raise UserExists(f"user {name!r} exists already")
    user = ReviewUser(username=name, password_hash=hash_password(password), role=role.value, created_at=now)
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> bool:
    user = session.scalar(select(ReviewUser).where(ReviewUser.username == normalise_username(username)))
    if user is None:
        return False
    user.password_hash = hash_password(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))  # sign out everywhere
    return True


def authenticate(session: Session, username: str, password: str) -> ReviewUser | None:
    user = session.scalar(
        select(ReviewUser).where(ReviewUser.username == normalise_username(username), ReviewUser.active)
    )
    if user is None:
        password_matches(_dummy_hash(), password)
        return None
    if not password_matches(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: ReviewUser, now: datetime, lifetime: timedelta) -> str:
    """A new session for ``user``; returns the cookie token (never stored)."""
    token = secrets.token_urlsafe(32)
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    session.add(
        WebSession(
            token_hash=token_digest(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def find_session(session: Session, token: str | None, now: datetime) -> SignedIn | None:
    if not token:
        return None
    row = session.execute(
        select(WebSession, ReviewUser)
        .join(ReviewUser, ReviewUser.id == WebSession.user_id)
        .where(WebSession.token_hash == token_digest(token), WebSession.expires_at > now, ReviewUser.active)
    ).first()
    if row is None:
        return None
    web_session, user = row
    return SignedIn(user, web_session.token_hash, web_session.csrf_token, web_session.chat_sender_id)


def end_session(session: Session, token_hash: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == token_hash))


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int
    window: timedelta


def throttled(session: Session, policy: ThrottlePolicy, now: datetime, username: str, client: str) -> bool:
    """Whether this username or this client has used up its failures in the window."""
    since = now - policy.window
    name = normalise_username(username)
    for condition in (LoginFailure.username == name, LoginFailure.client == client):
        count = session.scalar(
            select(func.count()).select_from(LoginFailure).where(condition, LoginFailure.occurred_at > since)
        )
        if (count or 0) >= policy.max_failures:
            return True
    return False


def record_failure(
    session: Session, policy: ThrottlePolicy, now: datetime, username: str, client: str
) -> None:
    name = normalise_username(username)
    session.execute(
        delete(LoginFailure).where(
            or_(LoginFailure.username == name, LoginFailure.client == client),
            LoginFailure.occurred_at <= now - policy.window,
        )
    )
    session.add(LoginFailure(occurred_at=now, username=name, client=client[:64]))


def clear_failures(session: Session, username: str) -> None:
    """A successful sign-in forgives the username's failures (not the address's)."""
    session.execute(delete(LoginFailure).where(LoginFailure.username == normalise_username(username)))
