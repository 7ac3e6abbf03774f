"""FastAPI dependencies: everything a route needs comes from the app instance, not from globals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from services.registry.settings import RegistrySettings
from services.registry.state import RegistryState
from services.registry.whatsapp import CodeSender


def get_state(request: Request) -> RegistryState:
    state: RegistryState = request.app.state.registry
    return state


StateDep = Annotated[RegistryState, Depends(get_state)]


def get_settings(state: StateDep) -> RegistrySettings:
    return state.settings


def get_session(state: StateDep) -> Iterator[Session]:
    with state.session_factory() as session:
        yield session


def get_now(state: StateDep) -> datetime:
    return state.clock()


def get_code_sender(state: StateDep) -> CodeSender | None:
    return state.code_sender


def get_client_host(request: Request) -> str | None:
    return request.client.host if request.client else None


SettingsDep = Annotated[RegistrySettings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
NowDep = Annotated[datetime, Depends(get_now)]
ClientHostDep = Annotated[str | None, Depends(get_client_host)]
CodeSenderDep = Annotated[CodeSender | None, Depends(get_code_sender)]
