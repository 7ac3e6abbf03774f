"""The header's language switch: ``GET /bahasa/{language}?next=<path>`` sets the ``lang`` cookie.

A GET, so the switch is a plain link that works on the sign-in page too (no session, no CSRF
token yet). That is safe here: the cookie only picks the language pages are shown in, and the
redirect goes to a path on this site only (``next`` is checked like the sign-in's: ``//evil`` or
``https://…`` would make this an open redirect), so a forged link can do no more than switch
someone's language.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from services.review.i18n import INDONESIAN, LANG_COOKIE, LANGUAGES
from services.review.proxy import cookies_secure
from services.review.signin import safe_next
from services.review.web import StateDep

router = APIRouter()

LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
MAX_NEXT_LENGTH = 2000
# The link in the header offers the other language, named in that language.
OTHER_LANGUAGE = {"id": ("en", "English"), "en": ("id", "Bahasa Indonesia")}


def switch_link(request: Request, language: str) -> tuple[str, str]:
    """(href, label) of the header's switch to the other language, back to this page.

    After a form was sent (POST) the page cannot be fetched again: the switch goes to the list.
    """
    other, label = OTHER_LANGUAGE.get(language, OTHER_LANGUAGE[INDONESIAN])
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return switch_path(other, here if request.method == "GET" else "/conversations"), label


def switch_path(language: str, next_path: str) -> str:
    """The header link's target (the page to come back to is this one)."""
    return f"/bahasa/{language}?next={quote(next_path, safe='')}"


@router.get("/bahasa/{language}", include_in_schema=False)
def choose_language(
    request: Request,
    language: str,
    state: StateDep,
    next: str = "/conversations",
) -> RedirectResponse:
    """Remember the language and go back; an unknown language is Indonesian, the app's own."""
    chosen = language if language in LANGUAGES else INDONESIAN
    target = safe_next(next) if len(next) <= MAX_NEXT_LENGTH else safe_next(None)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        chosen,
        max_age=LANGUAGE_COOKIE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=cookies_secure(request, state.settings.secure_cookies),
        path="/",
    )
    return response
