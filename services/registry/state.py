"""What one app instance holds: its settings, its sessions, its clock (tests move it) and its code sender."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.common.clock import Clock as Clock
from services.common.clock import utc_now as utc_now
from services.registry.settings import RegistrySettings
from services.registry.whatsapp import CodeSender


@dataclass(frozen=True)
class RegistryState:
    settings: RegistrySettings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
    code_sender: CodeSender | None  # None: WhatsApp not configured, no code can be sent
