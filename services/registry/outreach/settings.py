"""Outreach settings, read from ``REGISTRY_OUTREACH_*`` (the worker, the planner and the staff routes).

The Graph API, its token, the sender and audit hash keys are the registry's own settings
(services/registry/settings.py): the worker runs with the registry's environment and sends from the
same WhatsApp Business number. Only what is particular to campaigns is here.
"""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

QueueBackend = Literal["memory", "redis", "rabbitmq"]


class OutreachSettings(BaseSettings):
    """Throughput, quiet hours, leases, retries and the queue."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_OUTREACH_", extra="ignore", env_ignore_empty=True)

    # The Cloud API throughput tier of the business number (80/s is Meta's default tier), shared by
    # every worker: each worker takes its share (``worker --share N``).
    messages_per_second: float = Field(default=80.0, gt=0)
    # Local time at the recipient (WIB/WITA/WIT from the NIK's province) when nothing is sent; a
    # notice planned then waits for the end. Equal start and end: no quiet hours.
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)
    # How long a claimed notice belongs to its worker. Meta has no idempotency key, so a notice
    # whose lease runs out is sent again: the lease is long enough that only a dead worker's
    # notices run out (see engine.py).
    lease_seconds: int = Field(default=600, ge=1)
    # Sends in flight at once per worker (threads), and notices per queue job / claim.
    concurrency: int = Field(default=8, ge=1, le=256)
    batch_size: int = Field(default=100, ge=1, le=1000)
    # Retries of one send on 429 / 5xx / no answer, with exponential backoff and jitter.
    retries: int = Field(default=6, ge=0)
    backoff_seconds: float = Field(default=0.5, gt=0)
    backoff_max_seconds: float = Field(default=30.0, gt=0)
    # Where jobs go: "memory" (in the process; the database is the queue between processes),
    # "redis" (a list) or "rabbitmq" (a durable queue).
    queue: QueueBackend = "memory"
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    rabbitmq_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/%2F")
    queue_name: str = Field(default="tanyavaksin.outreach", min_length=1, max_length=100)
