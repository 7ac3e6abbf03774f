"""What one app instance holds: its settings, its sessions and its clock (tests move the clock)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.common.clock import Clock as Clock
from services.common.clock import utc_now as utc_now
from services.registry.settings import RegistrySettings


@dataclass(frozen=True)
class RegistryState:
    settings: RegistrySettings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
