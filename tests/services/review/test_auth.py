"""Signing in and out, sessions, cookies, throttling."""

from __future__ import annotations

import hashlib
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.review.auth import (
    SESSION_COOKIE,
    PasswordTooShort,
    authenticate,
    create_user,
    hash_password,
    password_matches,
)
from services.review.database import make_engine, make_session_factory
from services.review.models import Base, ReviewUser, Role, WebSession
from services.review.settings import ReviewSettings
from tests.services.review.conftest import AppFactory
from tests.services.review.support import ADMIN, REVIEWER, FakeClock, csrf_token, login_csrf, sign_in


def session_rows(settings: ReviewSettings) -> list[WebSession]:
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            return list(session.scalars(select(WebSession)))
    finally:
        engine.dispose()


def test_passwords_are_argon2id_and_checked() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert password_matches(stored, "correct horse battery")
    assert not password_matches(stored, "correct horse battery!")
    assert not password_matches("not a hash", "anything")
    with pytest.raises(PasswordTooShort):
        hash_password("123456789")


def test_usernames_are_case_insensitive(tmp_path, clock: FakeClock) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'users.db'}")
    Base.metadata.create_all(engine)
    try:
        with make_session_factory(engine)() as session, session.begin():
            create_user(session, " Rita ", "long enough password", Role.REVIEWER, clock())
            assert authenticate(session, "RITA", "long enough password") is not None
            assert authenticate(session, "rita", "wrong password!") is None
            assert authenticate(session, "nobody", "long enough password") is None
    finally:
        engine.dispose()


def test_sign_in_sets_a_safe_session_cookie(client: TestClient, settings: ReviewSettings) -> None:
    response = sign_in(client, *REVIEWER, next_path="/stats")
    assert response.status_code == 303
    assert response.headers["location"] == "/stats"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"{SESSION_COOKIE}="))
    lowered = cookie.lower()
    assert "httponly" in lowered
    assert "samesite=lax" in lowered
    assert "secure" not in lowered.replace("samesite", "")  # plain http on localhost by default
    token = cookie.split(";", 1)[0].split("=", 1)[1]
    rows = session_rows(settings)
    assert [row.token_hash for row in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in {row.token_hash for row in rows}
    assert client.get("/conversations").status_code == 200


def test_secure_cookies_when_configured(make_client: AppFactory) -> None:
    client = make_client(secure_cookies=True, base_url="https://testserver")
    response = sign_in(client, *REVIEWER)
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"{SESSION_COOKIE}="))
    assert "; secure" in cookie.lower()


def test_wrong_password_is_rejected(client: TestClient, settings: ReviewSettings) -> None:
    response = sign_in(client, REVIEWER[0], "not the password")
    assert response.status_code == 401
    assert "Wrong username or password" in response.text
    assert SESSION_COOKIE not in response.cookies
    assert session_rows(settings) == []
    assert client.get("/conversations", follow_redirects=False).status_code == 303


def test_unknown_user_looks_the_same(client: TestClient) -> None:
    response = sign_in(client, "nobody", "not the password")
    assert response.status_code == 401
    assert "Wrong username or password" in response.text


def test_sign_in_needs_the_form_token(client: TestClient) -> None:
    login_csrf(client)  # the cookie is set, but the form field is missing
    response = client.post(
        "/login", data={"username": REVIEWER[0], "password": REVIEWER[1]}, follow_redirects=False
    )
    assert response.status_code == 403
    fresh = TestClient(client.app)
    response = fresh.post(
        "/login",
        data={"username": REVIEWER[0], "password": REVIEWER[1], "login_csrf": "guessed"},
        follow_redirects=False,
    )
    assert response.status_code == 403


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_no_open_redirect_after_sign_in(client: TestClient, target: str) -> None:
    response = sign_in(client, *REVIEWER, next_path=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/conversations"


def test_failed_sign_ins_are_throttled_per_username(client: TestClient, clock: FakeClock) -> None:
    for _ in range(5):
        assert sign_in(client, REVIEWER[0], "wrong password!").status_code == 401
    refused = sign_in(client, *REVIEWER)  # even the right password
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.text
    clock.advance(minutes=14)
    assert sign_in(client, *REVIEWER).status_code == 429
    clock.advance(minutes=1, seconds=1)  # the oldest failures left the 15-minute window
    assert sign_in(client, *REVIEWER).status_code == 303


def test_failed_sign_ins_are_throttled_per_client(client: TestClient) -> None:
    for number in range(5):
        assert sign_in(client, f"guess{number}", "wrong password!").status_code == 401
    assert sign_in(client, *ADMIN).status_code == 429  # same address, another username


def test_success_forgives_the_usernames_failures(client: TestClient) -> None:
    for _ in range(3):
        sign_in(client, REVIEWER[0], "wrong password!")
    assert sign_in(client, *REVIEWER).status_code == 303
    for _ in range(1):
        sign_in(client, REVIEWER[0], "wrong password!")
    # 3 + 1 failures from this client, but the username's count restarted: still allowed
    assert sign_in(client, *REVIEWER).status_code == 303


def test_failure_delay_is_applied(make_client: AppFactory) -> None:
    client = make_client(login_failure_delay_seconds=0.3)
    started = time.monotonic()
    assert sign_in(client, REVIEWER[0], "wrong password!").status_code == 401
    assert time.monotonic() - started >= 0.3


def test_sign_out_ends_the_session(reviewer: TestClient, settings: ReviewSettings) -> None:
    token = reviewer.cookies.get(SESSION_COOKIE)
    assert token
    response = reviewer.post("/logout", data={"csrf_token": csrf_token(reviewer)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert session_rows(settings) == []
    # The old cookie, replayed, no longer works.
    replay = TestClient(reviewer.app, cookies={SESSION_COOKIE: token})
    assert replay.get("/conversations", follow_redirects=False).status_code == 303


def test_sessions_expire(reviewer: TestClient, clock: FakeClock, settings: ReviewSettings) -> None:
    assert reviewer.get("/conversations").status_code == 200
    clock.advance(seconds=settings.session_lifetime_seconds + 1)
    response = reviewer.get("/conversations", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_a_forged_cookie_is_not_a_session(client: TestClient) -> None:
    forged = TestClient(client.app, cookies={SESSION_COOKIE: "x" * 43})
    assert forged.get("/api/conversations").status_code == 401


def test_disabled_users_are_signed_out(reviewer: TestClient, settings: ReviewSettings) -> None:
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            user = session.scalar(select(ReviewUser).where(ReviewUser.username == REVIEWER[0]))
            assert user is not None
            user.active = False
    finally:
        engine.dispose()
    assert reviewer.get("/conversations", follow_redirects=False).status_code == 303
