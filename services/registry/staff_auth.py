"""Staff authentication: the review app's own bearer token, and the officer's name for the audit trail.

The staff routes read and decide on what recipients sent, so they take a token of their own
(REGISTRY_STAFF_TOKEN), never the action server's. Without one configured they answer 503: the
registry runs without a review app. ``X-Staff-User`` names the officer behind the review app's
request; it goes into ``decided_by``/``triaged_by`` and the audit log, so it is checked after the
token (a stranger learns nothing from the header's rules) and kept to a plain, bounded form.
"""

from __future__ import annotations

import hmac
import re
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse

from services.registry import messages
from services.registry.auth import BearerDep, audit_unauthorised
from services.registry.dependencies import ClientHostDep, NowDep, StateDep
from services.registry.schemas import ErrorBody
from services.registry.settings import RegistrySettings

STAFF_PATH_PREFIX = "/v1/staff/"
STAFF_USER_HEADER = "X-Staff-User"
# Percent-encoding is allowed: the review app sends a username with other characters that way (UTF-8).
STAFF_USER = re.compile(r"[A-Za-z0-9._%-]{1,64}")


class StaffAccessRefused(Exception):
    """Answered as ``status_code`` with ``body`` (503 no staff token configured, 401 wrong, 422 bad user)."""

    def __init__(self, status_code: int, body: ErrorBody) -> None:
        super().__init__(body.error)
        self.status_code = status_code
        self.body = body


def staff_token_matches(settings: RegistrySettings, given: str | None) -> bool:
    """Constant-time; False whenever no staff token is configured."""
    if settings.staff_token is None:
        return False
    return hmac.compare_digest((given or "").encode(), settings.staff_token.get_secret_value().encode())


def valid_staff_user(value: str | None) -> str | None:
    return value if value is not None and STAFF_USER.fullmatch(value) else None


def require_staff(
    state: StateDep,
    credentials: BearerDep,
    now: NowDep,
    client_host: ClientHostDep,
    staff_user: Annotated[
        str | None,
        Header(
            alias=STAFF_USER_HEADER,
            description="the officer signed in to the review app: 1-64 of A-Z a-z 0-9 . _ - %",
        ),
    ] = None,
) -> str:
    """The officer's name, once the staff token matches."""
    if state.settings.staff_token is None:
        raise StaffAccessRefused(503, ErrorBody(error="staff_access_off", message=messages.STAFF_ACCESS_OFF))
    if not staff_token_matches(state.settings, credentials.credentials if credentials else None):
        audit_unauthorised(state, now, client_host)
        raise StaffAccessRefused(401, ErrorBody(error="unauthorised", message=messages.STAFF_UNAUTHORISED))
    user = valid_staff_user(staff_user)
    if user is None:
        raise StaffAccessRefused(
            422, ErrorBody(error="invalid_staff_user", message=messages.STAFF_USER_INVALID)
        )
    return user


StaffUserDep = Annotated[str, Depends(require_staff)]


async def staff_access_refused_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StaffAccessRefused)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return JSONResponse(exc.body.model_dump(), status_code=exc.status_code, headers=headers)
