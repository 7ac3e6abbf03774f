"""Error answers that never echo personal data back, and never write it to a log.

FastAPI's default 422 body repeats the input (an NIK, a birth date), and a crash traceback can
carry values in its message; both are replaced here.
"""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.registry import messages
from services.registry.audit import Outcome, record_lookup
from services.registry.auth import audit_unauthorised, bearer_scheme, token_matches
from services.registry.schemas import ErrorBody, InvalidRequestBody, Problem
from services.registry.staff_auth import (
    STAFF_PATH_PREFIX,
    STAFF_USER_HEADER,
    staff_token_matches,
    valid_staff_user,
)
from services.registry.state import RegistryState

log = logging.getLogger(__name__)


def unauthorised_response() -> JSONResponse:
    body = ErrorBody(error="unauthorised", message=messages.UNAUTHORISED)
    return JSONResponse(body.model_dump(), status_code=401, headers={"WWW-Authenticate": "Bearer"})


async def unauthorised_handler(_request: Request, _exc: Exception) -> JSONResponse:
    return unauthorised_response()


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """401 for strangers even when their body is broken; for the caller, what is wrong but not the values."""
    assert isinstance(exc, RequestValidationError)
    state: RegistryState = request.app.state.registry
    now = state.clock()
    client_host = request.client.host if request.client else None
    credentials = await bearer_scheme(request)
    if request.url.path.startswith(STAFF_PATH_PREFIX):  # the review app's routes take the staff token
        allowed = staff_token_matches(state.settings, credentials.credentials if credentials else None)
        caller = valid_staff_user(request.headers.get(STAFF_USER_HEADER)) or "staff"
    else:
        allowed, caller = token_matches(state.settings, credentials), state.settings.service_caller
    if not allowed:
        audit_unauthorised(state, now, client_host)
        return unauthorised_response()
    with state.session_factory() as session:
        record_lookup(
            session,
            at=now,
            caller=caller,
            client_host=client_host,
            outcome=Outcome.INVALID_REQUEST,
        )
        session.commit()
    problems = [Problem(field=_field(error), problem=error["msg"]) for error in exc.errors()]
    body = InvalidRequestBody(error="invalid_request", message=messages.INVALID_REQUEST, problems=problems)
    return JSONResponse(body.model_dump(), status_code=422)


def _field(error: dict[str, Any]) -> str:
    if error["type"] == "json_invalid":  # its location is a character offset, not a field
        return "body"
    return ".".join(str(part) for part in error["loc"] if part != "body") or "body"


class RedactedErrorMiddleware:
    """Turns a crash into a plain 500 and logs where it happened, but not the exception's message."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            frames = "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
            log.error(
                "%s in %s %s (message withheld)\n%s",
                type(error).__name__,
                scope["method"],
                scope["path"],
                frames,
            )
            if started:
                raise RuntimeError("response already started") from None
            body = json.dumps(
                {"error": "internal_error", "message": "Terjadi kesalahan pada layanan registri."}
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body.encode()})
