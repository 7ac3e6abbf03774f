"""Builders shared by the outreach tests: made-up recipients with appointments, and workers."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session, sessionmaker

from core.nik import Sex, build_nik
from services.registry.models import AppointmentStatus
from services.registry.outreach import engine
from services.registry.outreach.graph_client import GraphTemplateClient, RetryPolicy
from services.registry.outreach.queue import JobQueue, MemoryQueue
from services.registry.outreach.rate_limit import TokenBucket
from services.registry.outreach.settings import OutreachSettings
from services.registry.outreach.worker import Worker
from services.registry.records import AppointmentRecord, DoseRecord, RecipientRecord
from services.registry.upsert import upsert_recipients
from tests.services.registry.support import FakeClock

SENDER_HASH_KEY = "test-sender-hash-key-0123456789"
ACCESS_TOKEN = "test-graph-access-token"
PHONE_NUMBER_ID = "109876543210"
FAKE_GRAPH_PORT = 15330
GRAPH_URL = f"http://127.0.0.1:{FAKE_GRAPH_PORT}/v21.0"
# Region codes (province + regency + district) in each time zone.
JAKARTA, MAKASSAR, JAYAPURA = "317405", "737101", "947101"


def phone_of(serial: int) -> str:
    return f"+62810{serial:08d}"


def people(
    count: int, *, region: str = JAKARTA, today: date, days_ahead: int = 3, first_serial: int = 9001
) -> list[RecipientRecord]:
    """``count`` made-up recipients with dose 1 given and dose 2 booked ``days_ahead`` days from today."""
    records = []
    for index in range(count):
        serial = first_serial + index
        birth = date(1980, 1, 1) + timedelta(days=index)
        records.append(
            RecipientRecord(
                build_nik(region, birth, Sex.MALE, serial),
                f"Orang Uji {serial}",
                birth,
                Sex.MALE,
                phone_of(serial),
                "Kecamatan Uji",
                doses=[DoseRecord(1, "Sinovac", date(2021, 3, 8), "Puskesmas Uji", "SV1")],
                appointments=[
                    AppointmentRecord(
                        2,
                        datetime.combine(today + timedelta(days=days_ahead), time(9, 0)),
                        "Puskesmas Uji",
                        "Jl. Uji No. 1",
                        AppointmentStatus.SCHEDULED,
                    )
                ],
            )
        )
    return records


def load(session_factory: sessionmaker[Session], records: list[RecipientRecord]) -> None:
    with session_factory() as session:
        upsert_recipients(session, records)
        session.commit()


def fast_settings(**changes: object) -> OutreachSettings:
    """Quick retries and a high tier, so tests do not wait."""
    values: dict[str, object] = {
        "messages_per_second": 2000.0,
        "concurrency": 4,
        "batch_size": 25,
        "retries": 4,
        "backoff_seconds": 0.01,
        "backoff_max_seconds": 0.05,
        "lease_seconds": 60,
    }
    values.update(changes)
    return OutreachSettings(**values)  # type: ignore[arg-type]


def make_worker(
    session_factory: sessionmaker[Session],
    context: engine.SendContext,
    clock: FakeClock,
    *,
    settings: OutreachSettings | None = None,
    jobs: JobQueue | None = None,
    worker_id: str | None = None,
) -> Worker:
    chosen = settings or fast_settings()
    client = GraphTemplateClient(
        GRAPH_URL,
        ACCESS_TOKEN,
        PHONE_NUMBER_ID,
        timeout_seconds=5.0,
        bucket=TokenBucket(chosen.messages_per_second),
        policy=RetryPolicy(chosen.retries, chosen.backoff_seconds, chosen.backoff_max_seconds),
    )
    return Worker(
        session_factory, context, client, jobs or MemoryQueue(), chosen, clock=clock, worker_id=worker_id
    )
