"""Sign-in and sign-out pages.

The sign-in form has no session yet, so its CSRF protection is a double-submit cookie: a random
value in a SameSite cookie that the form must repeat. Failed attempts are throttled per username
and per client address (auth.py) and each failure waits a moment, so guessing is slow either way.
The client address is the TCP peer: behind a reverse proxy, run uvicorn with --proxy-headers.
"""

from __future__ import annotations

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
    start_session,
    throttled,
)
from services.review.settings import ReviewSettings
from services.review.web import SignedInDep, StateDep, render, verify_csrf

router = APIRouter()


def safe_next(value: str | None) -> str:
    """Only paths on this site: ``//evil.example`` and ``https://...`` are open redirects."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/conversations"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


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
        secure=settings.secure_cookies,
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
        return _login_page(
            request, settings, error="The form expired; please sign in again.", status_code=403
        )
    policy = ThrottlePolicy(settings.login_max_failures, timedelta(seconds=settings.login_window_seconds))
    client = _client(request)
    with state.session_factory() as session, session.begin():
        now = state.clock()
        if throttled(session, policy, now, username, client):
            refused = True
            user = None
        else:
            refused = False
            user = authenticate(session, username, password)
            if user is None:
                record_failure(session, policy, now, username, client)
            else:
                clear_failures(session, username)
                token = start_session(
                    session, user, now, timedelta(seconds=settings.session_lifetime_seconds)
                )
    if refused:
        minutes = max(1, settings.login_window_seconds // 60)
        return _login_page(
            request,
            settings,
            error=f"Too many failed sign-ins. Try again in up to {minutes} minutes.",
            username=username,
            next_path=next_path,
            status_code=429,
        )
    if user is None:
        time.sleep(settings.login_failure_delay_seconds)
        return _login_page(
            request,
            settings,
            error="Wrong username or password.",
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
        secure=settings.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", dependencies=[Depends(verify_csrf)])
def logout(signed_in: SignedInDep, state: StateDep) -> RedirectResponse:
    with state.session_factory() as session, session.begin():
        end_session(session, signed_in.token_hash)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=state.settings.secure_cookies
    )
    return response
