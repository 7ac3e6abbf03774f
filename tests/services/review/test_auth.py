"""Signing in and out, sessions, cookies, throttling."""

from __future__ import annotations

import hashlib
import math
import socket
import time
from pathlib import Path

import httpx
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
from services.review.migrate import upgrade_to_head
from services.review.models import ReviewUser, Role, WebSession
from services.review.settings import ReviewSettings
from tests.harness.review_process import create_user as create_user_process
from tests.harness.review_process import review_env, running_review_app
from tests.services.review.conftest import AppFactory
from tests.services.review.support import (
    ADMIN,
    REVIEWER,
    FakeClock,
    csrf_token,
    login_csrf,
    page_text,
    sign_in,
    write_snapshots,
)

Response = httpx.Response
pytestmark = pytest.mark.real_password_hashing  # signing in is what these tests are about


def session_rows(settings: ReviewSettings) -> list[WebSession]:
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            return list(session.scalars(select(WebSession)))
    finally:
        engine.dispose()


def test_passwords_are_argon2id_and_checked() -> None:
    stored = hash_password("correct horse battery")
    # argon2-cffi's recommended parameters (RFC 9106's second choice): 64 MiB, 3 passes, 4 lanes
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert password_matches(stored, "correct horse battery")
    assert not password_matches(stored, "correct horse battery!")
    assert not password_matches("not a hash", "anything")
    with pytest.raises(PasswordTooShort):
        hash_password("123456789")


def test_usernames_are_case_insensitive(tmp_path, clock: FakeClock) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'users.db'}")
    upgrade_to_head(engine)
    try:
        with make_session_factory(engine)() as session, session.begin():
            create_user(session, " Rita ", "long enough password", Role.REVIEWER, clock())
            assert authenticate(session, "RITA", "long enough password") is not None
            assert authenticate(session, "rita", "wrong password!") is None
            assert authenticate(session, "nobody", "long enough password") is None
    finally:
        engine.dispose()


def session_cookie(response: Response) -> str:
    return next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"{SESSION_COOKIE}="))


def is_secure(cookie: str) -> bool:
    return "secure" in [part.strip().lower() for part in cookie.split(";")]


def from_address(client: TestClient, address: str, base_url: str = "http://testserver") -> TestClient:
    """Another browser on the same app, connecting from ``address`` (the TCP peer)."""
    return TestClient(client.app, base_url=base_url, client=(address, 50000))


def test_sign_in_sets_a_safe_session_cookie(client: TestClient, settings: ReviewSettings) -> None:
    response = sign_in(client, *REVIEWER, next_path="/stats")
    assert response.status_code == 303
    assert response.headers["location"] == "/stats"
    cookie = session_cookie(response)
    lowered = cookie.lower()
    assert "httponly" in lowered
    assert "samesite=lax" in lowered
    assert not is_secure(cookie)  # the test settings say secure_cookies=false
    token = cookie.split(";", 1)[0].split("=", 1)[1]
    rows = session_rows(settings)
    assert [row.token_hash for row in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in {row.token_hash for row in rows}
    assert client.get("/conversations").status_code == 200


def test_cookies_are_secure_by_default(make_client: AppFactory) -> None:
    app = make_client(secure_cookies=ReviewSettings.model_fields["secure_cookies"].default)
    for browser in (
        from_address(app, "203.0.113.9", "https://review.example.id"),
        from_address(app, "203.0.113.9", "http://review.example.id"),  # plain http from elsewhere too
        from_address(app, "127.0.0.1", "https://localhost:8078"),
    ):
        form = browser.get("/login")
        assert is_secure(form.headers["set-cookie"]), form.headers["set-cookie"]
        if browser.base_url.scheme == "https":  # the client only sends Secure cookies over https
            signed_in = sign_in(browser, *REVIEWER)
            assert signed_in.status_code == 303
            assert is_secure(session_cookie(signed_in))
            assert browser.get("/conversations").status_code == 200


@pytest.mark.parametrize(
    ("address", "base_url", "headers"),
    [
        ("127.0.0.1", "http://localhost:8078", {"X-Forwarded-For": "203.0.113.9"}),  # a proxy on this host
        ("127.0.0.1", "http://localhost:8078", {"Forwarded": "for=203.0.113.9;proto=https"}),
        ("127.0.0.1", "http://localhost:8078", {"X-Forwarded-Proto": "https"}),
        ("127.0.0.1", "http://review.example.id", {}),  # a proxy on this host passing the Host on
        ("10.1.2.3", "http://localhost:8078", {}),
    ],
)
def test_anything_but_a_local_browser_gets_secure_cookies(
    make_client: AppFactory, address: str, base_url: str, headers: dict[str, str]
) -> None:
    browser = from_address(make_client(secure_cookies="auto"), address, base_url)
    assert is_secure(browser.get("/login", headers=headers).headers["set-cookie"])


def test_make_run_on_http_localhost_still_signs_in(make_client: AppFactory) -> None:
    """``make run`` serves http://localhost:8078: a Secure cookie would never come back there."""
    app = make_client(secure_cookies="auto")
    for address, base_url in [
        ("127.0.0.1", "http://localhost:8078"),
        ("127.0.0.1", "http://127.0.0.1:8078"),
        ("::1", "http://[::1]:8078"),
    ]:
        browser = from_address(app, address, base_url)
        response = sign_in(browser, *REVIEWER)
        assert response.status_code == 303, (address, base_url)
        assert not is_secure(session_cookie(response))
        assert browser.get("/conversations").status_code == 200


def test_cookie_setting_can_force_either_way(make_client: AppFactory) -> None:
    forced_on = from_address(make_client(secure_cookies=True), "127.0.0.1", "http://localhost:8078")
    assert is_secure(forced_on.get("/login").headers["set-cookie"])
    forced_off = from_address(make_client(secure_cookies=False), "203.0.113.9", "https://review.example.id")
    assert not is_secure(sign_in_page_cookie(forced_off))
    response = sign_in(forced_off, *REVIEWER)
    assert response.status_code == 303 and not is_secure(session_cookie(response))


def sign_in_page_cookie(browser: TestClient) -> str:
    return str(browser.get("/login").headers["set-cookie"])


def test_wrong_password_is_rejected(client: TestClient, settings: ReviewSettings) -> None:
    response = sign_in(client, REVIEWER[0], "not the password")
    assert response.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in response.text
    assert SESSION_COOKIE not in response.cookies
    assert session_rows(settings) == []
    assert client.get("/conversations", follow_redirects=False).status_code == 303


def test_unknown_user_looks_the_same(client: TestClient) -> None:
    response = sign_in(client, "nobody", "not the password")
    assert response.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in response.text


def test_sign_in_needs_the_form_token(client: TestClient) -> None:
    login_csrf(client)  # the cookie is set, but the form field is missing
    response = client.post(
        "/login", data={"username": REVIEWER[0], "password": REVIEWER[1]}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "Formulir masuk sudah kedaluwarsa. Silakan masuk lagi." in response.text
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


TOO_MANY = "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {} menit."
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


def assert_refused(response: Response, seconds: int) -> None:
    """What the person sees: 429, when to come back (header and text), no session."""
    assert response.status_code == 429
    assert response.headers["retry-after"] == str(seconds)
    assert TOO_MANY.format(math.ceil(seconds / 60)) in page_text(response.text)
    assert SESSION_COOKIE not in response.cookies


def test_an_attacker_cannot_lock_the_admin_out(client: TestClient, clock: FakeClock) -> None:
    attacker = from_address(client, ATTACKER)
    for _ in range(5):
        assert sign_in(attacker, ADMIN[0], "wrong password!").status_code == 401
    assert_refused(sign_in(attacker, *ADMIN), 900)  # even the right password, from there
    # Other usernames from there are still checked, up to 10 failures per address in all.
    assert sign_in(attacker, REVIEWER[0], "wrong password!").status_code == 401
    owner = from_address(client, OWNER)
    assert sign_in(owner, *ADMIN).status_code == 303
    assert owner.get("/conversations").status_code == 200
    # The owner signing in forgave nothing of the attacker's.
    clock.advance(minutes=14)
    assert_refused(sign_in(attacker, ADMIN[0], "wrong password!"), 60)
    clock.advance(minutes=1, seconds=1)  # the failures left the 15-minute window
    assert sign_in(attacker, *ADMIN).status_code == 303


def test_spoofed_forwarding_headers_change_nothing(client: TestClient) -> None:
    """The attack of issue #11: a new X-Forwarded-For per attempt no longer resets the count."""
    attacker = from_address(client, "127.0.0.1", "http://localhost:8078")
    for number in range(5):
        forged = {
            "X-Forwarded-For": f"192.0.2.{number}",
            "Forwarded": f"for=192.0.2.{number}",
            "X-Real-IP": f"192.0.2.{number}",
        }
        attacker.headers.update(forged)
        assert sign_in(attacker, ADMIN[0], "wrong password!").status_code == 401
    attacker.headers.update({"X-Forwarded-For": "192.0.2.200", "X-Real-IP": "192.0.2.200"})
    assert_refused(sign_in(attacker, *ADMIN), 900)
    assert sign_in(from_address(client, OWNER), *ADMIN).status_code == 303


def test_behind_a_trusted_proxy_each_client_counts_alone(make_client: AppFactory) -> None:
    app = make_client(trusted_proxies="10.0.0.5, 2001:db8:ff::/48", secure_cookies="auto")
    proxy = from_address(app, "10.0.0.5", "https://review.example.id")
    proxy.headers["X-Forwarded-Proto"] = "https"
    # The attacker writes its own X-Forwarded-For; the proxy appends the address it saw.
    for number in range(5):
        proxy.headers["X-Forwarded-For"] = f"192.0.2.{number}, {ATTACKER}"
        assert sign_in(proxy, ADMIN[0], "wrong password!").status_code == 401
    proxy.headers["X-Forwarded-For"] = f"192.0.2.99, {ATTACKER}"
    assert_refused(sign_in(proxy, *ADMIN), 900)
    proxy.headers["Forwarded"] = f"for={OWNER}"  # not the header this proxy writes: ignored
    assert_refused(sign_in(proxy, *ADMIN), 900)
    del proxy.headers["Forwarded"]
    proxy.headers["X-Forwarded-For"] = OWNER  # someone else behind the same proxy
    response = sign_in(proxy, *ADMIN)
    assert response.status_code == 303
    assert is_secure(session_cookie(response))
    # An IPv6 proxy of the configured network, two hops
    second = from_address(app, "2001:db8:ff::1", "https://review.example.id")
    second.headers["X-Forwarded-For"] = f"{ATTACKER}, 10.0.0.5"
    assert_refused(sign_in(second, *ADMIN), 900)


def test_forwarded_header_when_the_proxy_writes_it(make_client: AppFactory) -> None:
    app = make_client(trusted_proxies="10.0.0.5", proxy_client_header="forwarded")
    proxy = from_address(app, "10.0.0.5")
    for _ in range(5):
        proxy.headers["Forwarded"] = f'for="{ATTACKER}:4711";proto=https'
        proxy.headers["X-Forwarded-For"] = OWNER  # forged by the client, passed through
        assert sign_in(proxy, ADMIN[0], "wrong password!").status_code == 401
    assert_refused(sign_in(proxy, *ADMIN), 900)
    proxy.headers["Forwarded"] = f"for={OWNER}"
    assert sign_in(proxy, *ADMIN).status_code == 303


def test_failed_sign_ins_are_throttled_per_address(client: TestClient) -> None:
    guesser = from_address(client, ATTACKER)
    for number in range(10):
        assert sign_in(guesser, f"guess{number}", "wrong password!").status_code == 401
    assert_refused(sign_in(guesser, *ADMIN), 900)  # same address, another username
    assert sign_in(from_address(client, OWNER), *ADMIN).status_code == 303


def test_an_ipv6_client_counts_as_its_slash_64(client: TestClient) -> None:
    for number in range(1, 6):
        rotating = from_address(client, f"2001:db8:1:2::{number:x}")
        assert sign_in(rotating, ADMIN[0], "wrong password!").status_code == 401
    assert_refused(sign_in(from_address(client, "2001:db8:1:2:ffff::1"), *ADMIN), 900)
    assert sign_in(from_address(client, "2001:db8:1:3::1"), *ADMIN).status_code == 303


def test_a_spread_out_attack_slows_down_but_the_owner_gets_in(make_client: AppFactory) -> None:
    app = make_client(login_max_failures_per_account=6)
    for number in range(3):
        attacker = from_address(app, f"192.0.2.{number}")
        for _ in range(2):
            assert sign_in(attacker, ADMIN[0], "wrong password!").status_code == 401
    # Six failures on "adam" in all: an address that failed on it waits, with 2 of its own 5 used.
    assert_refused(sign_in(from_address(app, "192.0.2.0"), ADMIN[0], "wrong password!"), 900)
    # A new address gets one guess at most...
    newcomer = from_address(app, "192.0.2.50")
    assert sign_in(newcomer, ADMIN[0], "wrong password!").status_code == 401
    assert_refused(sign_in(newcomer, *ADMIN), 900)
    # ... and the owner, from an address without failures, still signs in.
    assert sign_in(from_address(app, OWNER), *ADMIN).status_code == 303
    # Other accounts are not affected.
    assert sign_in(from_address(app, "192.0.2.1"), *REVIEWER).status_code == 303


def test_success_forgives_this_addresses_failures(client: TestClient) -> None:
    for _ in range(3):
        sign_in(client, REVIEWER[0], "wrong password!")
    assert sign_in(client, *REVIEWER).status_code == 303
    for _ in range(4):
        sign_in(client, REVIEWER[0], "wrong password!")
    # 3 + 4 failures from this address, but the count on "rita" restarted: still allowed
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


def free_port(first: int = 15500, last: int = 15599) -> int:
    """A free port of this test's range (H5's block of the shared machine)."""
    for port in range(first, last + 1):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise AssertionError("no free port in 15500-15599")


def test_served_app_ignores_forwarding_headers_from_this_host(tmp_path: Path) -> None:
    """``python -m services.review serve`` as ``make run`` starts it: uvicorn's own proxy handling
    (which trusts X-Forwarded-For from 127.0.0.1 by default) must not hand out fresh addresses."""
    env = review_env(tmp_path, tmp_path / "data", tmp_path / "models", "http://127.0.0.1:16199")
    env["REVIEW_LOGIN_FAILURE_DELAY_SECONDS"] = "0"
    write_snapshots(f"sqlite:///{tmp_path / 'tracker.db'}")
    create_user_process(env, *ADMIN, "admin")
    with (
        running_review_app(env, free_port(), tmp_path / "review.log") as url,
        httpx.Client(base_url=url) as browser,
    ):
        form = browser.get("/login")
        assert not is_secure(form.headers["set-cookie"])  # http://127.0.0.1 from this machine
        token = browser.cookies["review_login_csrf"]
        # Ten usernames, each attempt "forwarded for" another address: on main before issue #11
        # uvicorn took each X-Forwarded-For as the client, so the address count never grew.
        for number in range(11):
            username, password = (f"guess{number}", "wrong password!") if number < 10 else ADMIN
            response = browser.post(
                "/login",
                data={"username": username, "password": password, "login_csrf": token},
                headers={
                    "Cookie": f"review_login_csrf={token}",
                    "X-Forwarded-For": f"192.0.2.{number}",
                    "X-Real-IP": f"192.0.2.{number}",
                },
            )
            assert response.status_code == (401 if number < 10 else 429), number
        assert 800 < int(response.headers["retry-after"]) <= 900  # a real clock ran meanwhile
        assert TOO_MANY.format(15) in page_text(response.text)
        elsewhere = browser.get("/login", headers={"Host": "review.example.id"})
        assert is_secure(elsewhere.headers["set-cookie"])
