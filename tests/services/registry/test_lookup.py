"""No enumeration: an unknown NIK and a wrong birth date must do the same work."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from core.nik import Sex, build_nik
from services.registry.demo import DEMO_PERSON, demo_records
from services.registry.lookup import Found, LookupQuery, NotFound, look_up
from services.registry.models import AppointmentStatus
from services.registry.records import AppointmentRecord, RecipientRecord
from services.registry.settings import RegistrySettings
from services.registry.state import RegistryState
from services.registry.upsert import upsert_recipients
from tests.services.registry.support import SERVICE_TOKEN, START, TODAY

pytestmark = pytest.mark.usefixtures("demo_registry")


@contextmanager
def recorded_statements(client: TestClient) -> Iterator[list[str]]:
    """The SQL the app runs while the block runs (parameters left out: they differ by design)."""
    state: RegistryState = client.app.state.registry  # type: ignore[attr-defined]
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(state.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(state.engine, "before_cursor_execute", record)


def post(client: TestClient, nik: str, birth_date: str, conversation_id: str) -> int:
    response = client.post(
        "/v1/lookup",
        json={"nik": nik, "birth_date": birth_date, "conversation_id": conversation_id, "channel": "rest"},
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
    )
    return response.status_code


def test_unknown_nik_and_wrong_birth_date_run_the_same_statements(client: TestClient) -> None:
    post(client, DEMO_PERSON.nik, "1985-08-17", "warm-up")
    with recorded_statements(client) as unknown:
        assert post(client, "3578034508929999", "1985-08-18", "first") == 404
    with recorded_statements(client) as wrong_birth_date:
        assert post(client, DEMO_PERSON.nik, "1985-08-18", "second") == 404
    assert unknown == wrong_birth_date
    assert any("verification_failures" in statement for statement in unknown)


def test_unknown_nik_and_wrong_birth_date_take_about_the_same_time(client: TestClient) -> None:
    known = [record for record in demo_records(TODAY) if record.nik != DEMO_PERSON.nik][:12]
    unknown_times: list[float] = []
    wrong_times: list[float] = []
    for index, record in enumerate(known):
        unknown_nik = build_nik("357803", date(1992, 8, 5), Sex.FEMALE, 9990 - index)
        for nik, times in ((unknown_nik, unknown_times), (record.nik, wrong_times)):
            started = time.perf_counter()
            assert post(client, nik, "1900-01-02", f"timing-{index}-{len(times)}-{nik[-4:]}") == 404
            times.append(time.perf_counter() - started)
    ratio = statistics.median(unknown_times) / statistics.median(wrong_times)
    assert 0.5 < ratio < 2.0, (unknown_times, wrong_times)


def test_next_appointment_is_the_earliest_scheduled_one_from_today(
    session_factory: sessionmaker[Session], settings: RegistrySettings
) -> None:
    nik = build_nik("317401", date(1980, 1, 2), Sex.MALE, 9500)

    def slot(day: int, status: AppointmentStatus, hour: int = 9) -> AppointmentRecord:
        return AppointmentRecord(4, datetime(2026, 11, day, hour), "Puskesmas Tebet", "Jl. Tebet", status)

    person = RecipientRecord(nik, "Hadi Purnomo", date(1980, 1, 2), Sex.MALE, "+6281000009500", "Tebet")
    person.appointments = [
        slot(20, AppointmentStatus.SCHEDULED),  # already past
        slot(26, AppointmentStatus.CANCELLED, 8),
        slot(26, AppointmentStatus.SCHEDULED, 8),  # earlier today: still counts
        slot(28, AppointmentStatus.SCHEDULED),
    ]
    with session_factory() as session:
        upsert_recipients(session, [person])
        session.commit()
    with session_factory() as session:
        result = look_up(
            session,
            settings.model_copy(update={"allow_rest_lookups": True}),  # not a demo NIK
            LookupQuery(nik, date(1980, 1, 2), "c"),
            now=START,
            caller="test",
            client_host=None,
        )
    assert isinstance(result, Found)
    assert result.next_appointment is not None
    assert result.next_appointment.scheduled_at == datetime(2026, 11, 26, 8)
    assert result.doses == []


def test_look_up_reports_not_found_for_a_wrong_birth_date(
    session_factory: sessionmaker[Session], settings: RegistrySettings
) -> None:
    with session_factory() as session:
        result = look_up(
            session,
            settings,
            LookupQuery(DEMO_PERSON.nik, date(1985, 8, 16), "c"),
            now=START,
            caller="test",
            client_host=None,
        )
    assert isinstance(result, NotFound)
