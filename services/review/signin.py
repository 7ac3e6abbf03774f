"""Sign-in and sign-out pages.

The sign-in form has no session yet, so its CSRF protection is a double-submit cookie: a random
value in a SameSite cookie that the form must repeat. Failed attempts are throttled per username
and client address (``auth.retry_after``) and each failure waits a moment, so guessing is slow.
The client address is the TCP peer, or what a proxy in ``REVIEW_TRUSTED_PROXIES`` says (proxy.py).
Whether the cookies are ``Secure`` is decided per request (``proxy.cookies_secure``).
"""

from __future__ import annotations

import math
import secrets
import time
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.review.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    ThrottlePolicy,
    authenticate,
    clear_failures,
    csrf_matches,
    end_session,
    record_failure,
    retry_after,
    start_session,
)
from services.review.i18n import language_of, translate
from services.review.proxy import cookies_secure
from services.review.settings import ReviewSettings
from services.review.web import SignedInDep, StateDep, render, verify_csrf

router = APIRouter()

FORM_EXPIRED = "Formulir masuk sudah kedaluwarsa. Silakan masuk lagi."
WRONG_PASSWORD = "Nama pengguna atau kata sandi salah."
TOO_MANY_FAILURES = "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {minutes} menit."


def safe_next(value: str | None) -> str:
    """Only paths on this site: ``//evil.example`` and ``https://...`` are open redirects, and so is
    a slash, a tab and ``/evil.example``: browsers drop tabs and line breaks from a URL (and read a
    backslash as a slash)."""
    if (
        value
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and not any(character.isspace() or not character.isprintable() for character in value)
    ):
        return value
    return "/conversations"


def _client(request: Request) -> str:
    """The TCP peer, or the client a trusted proxy named (TrustedProxyMiddleware set it)."""
    return request.client.host if request.client else "unknown"


def _policy(settings: ReviewSettings) -> ThrottlePolicy:
    return ThrottlePolicy(
        per_account_address=settings.login_max_failures,
        per_address=settings.login_max_failures_per_address,
        per_account=settings.login_max_failures_per_account,
        window=timedelta(seconds=settings.login_window_seconds),
    )


def _login_page(
    request: Request,
    settings: ReviewSettings,
    *,
    error: str | None = None,
    username: str = "",
    next_path: str = "/conversations",
    status_code: int = 200,
) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        {"error": error, "login_csrf": token, "username": username, "next_path": next_path},
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=cookies_secure(request, settings.secure_cookies),
        path="/login",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, state: StateDep, next: str | None = None) -> HTMLResponse:
    return _login_page(request, state.settings, next_path=safe_next(next))


@router.post("/login", response_model=None)
def login(
    request: Request,
    state: StateDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    login_csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    settings = state.settings
    next_path = safe_next(next)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie or not csrf_matches(cookie, login_csrf):
        expired = translate(FORM_EXPIRED, language_of(request))
        return _login_page(request, settings, error=expired, status_code=403)
    policy = _policy(settings)
    client = _client(request)
    user = None
    with state.session_factory() as session, session.begin():
        now = state.clock()
        wait = retry_after(session, policy, now, username, client)
        if wait is None:
            user = authenticate(session, username, password)
            if user is None:
                record_failure(session, policy, now, username, client)
            else:
                clear_failures(session, username, client)
                token = start_session(
                    session, user, now, timedelta(seconds=settings.session_lifetime_seconds)
                )
    if wait is not None:
        seconds = max(1, math.ceil(wait.total_seconds()))
        refused = _login_page(
            request,
            settings,
            error=translate(TOO_MANY_FAILURES, language_of(request), minutes=math.ceil(seconds / 60)),
            username=username,
            next_path=next_path,
            status_code=429,
        )
        refused.headers["Retry-After"] = str(seconds)
        return refused
    if user is None:
        time.sleep(settings.login_failure_delay_seconds)
        return _login_page(
            request,
            settings,
            error=translate(WRONG_PASSWORD, language_of(request)),
            username=username,
            next_path=next_path,
            status_code=401,
        )
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_lifetime_seconds,
        httponly=True,
        samesite="lax",
        secure=cookies_secure(request, settings.secure_cookies),
        path="/",
    )
    response.delete_cookie(
        LOGIN_CSRF_COOKIE, path="/login", secure=cookies_secure(request, settings.secure_cookies)
    )
    return response


@router.post("/logout", dependencies=[Depends(verify_csrf)])
def logout(request: Request, signed_in: SignedInDep, state: StateDep) -> RedirectResponse:
    with state.session_factory() as session, session.begin():
        end_session(session, signed_in.token_hash)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=cookies_secure(request, state.settings.secure_cookies),
    )
    return response
