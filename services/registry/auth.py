"""Service-token authentication: only the action server may look people up."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.registry.audit import UNAUTHENTICATED_CALLER, Outcome, record_lookup
from services.registry.dependencies import ClientHostDep, NowDep, StateDep
from services.registry.settings import RegistrySettings
from services.registry.state import RegistryState

bearer_scheme = HTTPBearer(
    auto_error=False, description="The registry service token (REGISTRY_SERVICE_TOKEN)."
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


class Unauthorised(Exception):
    """No token or a wrong one; raised after the attempt is audited, answered with 401."""


def token_matches(settings: RegistrySettings, credentials: HTTPAuthorizationCredentials | None) -> bool:
    """Constant-time comparison, also run when no token came so both cases cost the same."""
    given = credentials.credentials.encode() if credentials is not None else b""
    return hmac.compare_digest(given, settings.service_token.get_secret_value().encode())


def audit_unauthorised(state: RegistryState, now: datetime, client_host: str | None) -> None:
    with state.session_factory() as session:
        record_lookup(
            session,
            at=now,
            caller=UNAUTHENTICATED_CALLER,
            client_host=client_host,
            outcome=Outcome.UNAUTHORISED,
        )
        session.commit()


def require_caller(state: StateDep, credentials: BearerDep, now: NowDep, client_host: ClientHostDep) -> str:
    """The caller's name for the audit log, or Unauthorised."""
    if token_matches(state.settings, credentials):
        return state.settings.service_caller
    audit_unauthorised(state, now, client_host)
    raise Unauthorised


CallerDep = Annotated[str, Depends(require_caller)]
