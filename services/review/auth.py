"""Reviewer accounts, sign-in sessions and sign-in throttling.

Passwords are argon2id hashes. A session is a random token in a cookie; the database keeps only
its SHA-256, so a leaked copy of the database signs nobody in. Each session carries its own CSRF
token for the forms. Failed sign-ins are counted per username and client address (``retry_after``
says which limits refuse an attempt before its password is checked).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from ipaddress import IPv6Address, ip_network

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.orm import Session

from services.review.models import LoginFailure, ReviewUser, Role, WebSession
from services.review.proxy import MAX_CLIENT_LENGTH, parse_address

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
    """Failures allowed within ``window``: per (username, address), per address, per username."""

    per_account_address: int
    per_address: int
    per_account: int
    window: timedelta


def throttle_key(client: str) -> str:
    """The address failures are counted under: an IPv6 client's /64, since one household or
    server holds a whole /64 and could otherwise take a fresh address for every attempt."""
    address = parse_address(client)
    if isinstance(address, IPv6Address):
        return str(ip_network(f"{address}/64", strict=False))
    return str(address) if address is not None else client[:MAX_CLIENT_LENGTH]


def _nth_newest(session: Session, condition: ColumnElement[bool], since: datetime, n: int) -> datetime | None:
    """When the ``n``-th newest failure matching ``condition`` in the window happened (None: fewer)."""
    return session.scalar(
        select(LoginFailure.occurred_at)
        .where(condition, LoginFailure.occurred_at > since)
        .order_by(LoginFailure.occurred_at.desc())
        .offset(n - 1)
        .limit(1)
    )


def retry_after(
    session: Session, policy: ThrottlePolicy, now: datetime, username: str, client: str
) -> timedelta | None:
    """None when this attempt may have its password checked; else how long until it may.

    Three limits. One address may fail ``per_account_address`` times on a username and
    ``per_address`` times overall. A username that failed ``per_account`` times from all addresses
    together is under a spread-out attack: then an address with any failure on it waits, while an
    address without one (the owner's, usually) still gets its password checked. So no address can
    lock an account for everyone, and a thousand addresses get about a thousand more guesses, not
    five thousand."""
    since = now - policy.window
    name, key = normalise_username(username), throttle_key(client)
    pair = (LoginFailure.username == name) & (LoginFailure.client == key)
    free_at: list[datetime] = []
    for condition, limit in (
        (pair, policy.per_account_address),
        (LoginFailure.client == key, policy.per_address),
    ):
        reached = _nth_newest(session, condition, since, limit)
        if reached is not None:
            free_at.append(reached + policy.window)
    if _nth_newest(session, LoginFailure.username == name, since, policy.per_account) is not None:
        newest = _nth_newest(session, pair, since, 1)
        if newest is not None:
            free_at.append(newest + policy.window)
    return max(free_at) - now if free_at else None


def record_failure(
    session: Session, policy: ThrottlePolicy, now: datetime, username: str, client: str
) -> None:
    name, key = normalise_username(username), throttle_key(client)
    session.execute(
        delete(LoginFailure).where(
            or_(LoginFailure.username == name, LoginFailure.client == key),
            LoginFailure.occurred_at <= now - policy.window,
        )
    )
    session.add(LoginFailure(occurred_at=now, username=name, client=key))


def clear_failures(session: Session, username: str, client: str) -> None:
    """A successful sign-in forgives this address's failures on the username, no one else's:
    the owner signing in elsewhere must not hand an attacker a fresh set of guesses."""
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.username == normalise_username(username),
            LoginFailure.client == throttle_key(client),
        )
    )
