"""What every review page needs: templates, the signed-in user, roles, CSRF, the database.

Pages are plain server-rendered HTML. Anything but the sign-in page needs a session: HTML pages
answer 303 to ``/login``, JSON endpoints (``/api/...`` or ``Accept: application/json``) 401.
Every state-changing form carries the session's CSRF token (``verify_csrf``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from services.review.auth import SESSION_COOKIE, SignedIn, csrf_matches, find_session
from services.review.i18n import language_of, template_translate
from services.review.indexer import SyncResult
from services.review.masking import mask_personal_data
from services.review.models import ReviewUser
from services.review.settings import ReviewSettings
from services.review.state import ReviewState

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
CSRF_FIELD = "csrf_token"
OFFICER_CONSOLE = "/petugas"  # in the nav only for those who answer recipients
ADMINS_ONLY = "Hanya administrator yang boleh melakukan ini."
FORM_NOT_FROM_HERE = (
    "Formulir ini sudah kedaluwarsa atau tidak dikirim dari situs ini. Muat ulang halamannya lalu coba lagi."
)

templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.filters["mask"] = mask_personal_data
templates.env.globals["_"] = template_translate


class NotSignedIn(Exception):
    """No valid session: the app answers 303 to /login (HTML) or 401 (JSON)."""


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def get_state(request: Request) -> ReviewState:
    state: ReviewState = request.app.state.review
    return state


StateDep = Annotated[ReviewState, Depends(get_state)]


def get_settings(state: StateDep) -> ReviewSettings:
    return state.settings


SettingsDep = Annotated[ReviewSettings, Depends(get_settings)]


def get_db(state: StateDep) -> Iterator[Session]:
    """A session on the review database; commit explicitly, anything else is rolled back."""
    with state.session_factory() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db)]


def get_signed_in(request: Request, state: StateDep) -> SignedIn:
    """The session from the cookie, checked in a transaction of its own (kept short: on SQLite
    every transaction holds the write lock)."""
    with state.session_factory() as session:
        found = find_session(session, request.cookies.get(SESSION_COOKIE), state.clock())
    if found is None:
        raise NotSignedIn()
    request.state.signed_in = found
    return found


SignedInDep = Annotated[SignedIn, Depends(get_signed_in)]


def get_current_user(signed_in: SignedInDep) -> ReviewUser:
    return signed_in.user


CurrentUser = Annotated[ReviewUser, Depends(get_current_user)]


def get_admin_user(user: CurrentUser) -> ReviewUser:
    if not user.is_admin:
        raise HTTPException(status_code=403, detail=ADMINS_ONLY)
    return user


AdminUser = Annotated[ReviewUser, Depends(get_admin_user)]


async def verify_csrf(request: Request, signed_in: SignedInDep) -> None:
    """403 unless the form's ``csrf_token`` is this session's (compared in constant time)."""
    form = await request.form()  # Starlette caches it: the route's Form fields still work
    given = form.get(CSRF_FIELD)
    if not isinstance(given, str) or not csrf_matches(signed_in.csrf_token, given):
        raise HTTPException(status_code=403, detail=FORM_NOT_FROM_HERE)


def sync_tracker(state: StateDep) -> SyncResult | None:
    """Index what is new in the tracker store before a list page reads the index."""
    return state.indexer.sync_if_due()


Synced = Annotated[SyncResult | None, Depends(sync_tracker)]


def format_time(value: datetime | None, zone: ZoneInfo, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return "" if value is None else value.astimezone(zone).strftime(pattern)


def _answers_recipients(user: ReviewUser) -> bool:
    return user.answers_recipients


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """A template in ``base.html``, with the user, the CSRF token and the nav filled in.

    A nav link in ``app.state.nav_roles`` (path -> who may see it) shows only to those users.
    """
    state = get_state(request)
    signed_in: SignedIn | None = getattr(request.state, "signed_in", None)
    zone = state.settings.zone
    nav_roles = {OFFICER_CONSOLE: _answers_recipients, **getattr(request.app.state, "nav_roles", {})}
    full: dict[str, Any] = {
        "user": signed_in.user if signed_in else None,
        "csrf_token": signed_in.csrf_token if signed_in else "",
        "nav": [
            (path, label)
            for path, label in getattr(request.app.state, "nav", [])
            if path not in nav_roles or (signed_in and nav_roles[path](signed_in.user))
        ],
        "timezone": state.settings.timezone,
        "when": lambda value, pattern="%Y-%m-%d %H:%M": format_time(value, zone, pattern),
        "language": language_of(request),
    }
    full.update(context or {})
    return templates.TemplateResponse(request, name, full, status_code=status_code)
