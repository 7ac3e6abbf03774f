"""What one app instance holds: its settings, its sessions and its clock (tests move the clock)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.registry.settings import RegistrySettings

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RegistryState:
    settings: RegistrySettings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
