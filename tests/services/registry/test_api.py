"""The lookup API through the real app, on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from services.registry.demo import (
    DEMO_PERSON,
    DEMO_PERSON_NEXT_APPOINTMENT_DAYS,
    DEMO_WOMAN,
    FULLY_VACCINATED_PERSON,
)
from services.registry.hashing import nik_hash
from services.registry.models import AuditEntry, VerificationFailure
from tests.services.registry.support import AUDIT_HASH_KEY, SERVICE_TOKEN, TODAY, FakeClock

UNKNOWN_NIK = "3578034508929999"  # well-formed, in nobody's name
WRONG_BIRTH_DATE = "1985-08-18"
NIK = DEMO_PERSON.nik
BIRTH_DATE = DEMO_PERSON.birth_date.isoformat()

pytestmark = pytest.mark.usefixtures("demo_registry")


def lookup(
    client: TestClient,
    nik: str = NIK,
    birth_date: str = BIRTH_DATE,
    conversation_id: str = "conversation-1",
    token: str | None = SERVICE_TOKEN,
    channel: str = "rest",
) -> Any:  # the test client's response (httpx2)
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    body = {"nik": nik, "birth_date": birth_date, "conversation_id": conversation_id, "channel": channel}
    return client.post("/v1/lookup", json=body, headers=headers)


def audit_rows(session_factory: sessionmaker[Session]) -> list[AuditEntry]:
    with session_factory() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_openapi_docs(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/v1/lookup" in schema["paths"]
    assert set(schema["paths"]["/v1/lookup"]["post"]["responses"]) >= {"200", "401", "404", "422", "429"}


@pytest.mark.parametrize(
    "token", [None, "", "wrong-token-0123456789", SERVICE_TOKEN + "x", SERVICE_TOKEN[:-1]]
)
def test_missing_or_wrong_token_is_401(client: TestClient, token: str | None) -> None:
    response = lookup(client, token=token)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorised"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_other_schemes_are_401(client: TestClient) -> None:
    body = {"nik": NIK, "birth_date": BIRTH_DATE, "conversation_id": "c", "channel": "rest"}
    response = client.post("/v1/lookup", json=body, headers={"Authorization": f"Basic {SERVICE_TOKEN}"})
    assert response.status_code == 401


def test_a_broken_body_without_token_is_still_401(client: TestClient) -> None:
    response = client.post("/v1/lookup", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 401


def test_found_with_masked_name_doses_and_next_appointment(client: TestClient) -> None:
    response = lookup(client)
    assert response.status_code == 200
    body = response.json()
    assert body["name_masked"] == "B••• S•••••o"
    assert [dose["dose_number"] for dose in body["doses"]] == [1, 2]
    assert body["doses"][0] == {
        "dose_number": 1,
        "vaccine_brand": "Sinovac",
        "date": "2021-03-08",
        "facility": "Puskesmas Kecamatan Kebayoran Lama",
        "batch": "SV2103A0417",
    }
    next_appointment = body["next_appointment"]
    assert next_appointment["dose_number"] == 3
    assert next_appointment["status"] == "scheduled"
    assert next_appointment["date"] == (TODAY + timedelta(days=DEMO_PERSON_NEXT_APPOINTMENT_DAYS)).isoformat()
    assert next_appointment["time"] == "09:00:00"
    assert next_appointment["facility_name"] == "Puskesmas Kecamatan Kebayoran Lama"
    assert next_appointment["facility_address"].startswith("Jl. ")
    assert NIK not in response.text and BIRTH_DATE not in response.text
    assert "Budi" not in response.text


def test_all_doses_done_means_no_next_appointment(client: TestClient) -> None:
    response = lookup(client, FULLY_VACCINATED_PERSON.nik, FULLY_VACCINATED_PERSON.birth_date.isoformat())
    assert response.status_code == 200
    assert len(response.json()["doses"]) == 4
    assert response.json()["next_appointment"] is None


def test_a_woman_is_found_by_her_real_birth_date(client: TestClient) -> None:
    response = lookup(client, DEMO_WOMAN.nik, DEMO_WOMAN.birth_date.isoformat())
    assert response.status_code == 200
    assert response.json()["name_masked"] == "S••• R••••u"


def test_an_appointment_that_has_passed_is_not_next(client: TestClient, clock: FakeClock) -> None:
    clock.advance(days=DEMO_PERSON_NEXT_APPOINTMENT_DAYS + 1)
    assert lookup(client).json()["next_appointment"] is None


def test_unknown_nik_and_wrong_birth_date_get_identical_answers(client: TestClient) -> None:
    unknown = lookup(client, nik=UNKNOWN_NIK, conversation_id="a")
    wrong_birth_date = lookup(client, birth_date=WRONG_BIRTH_DATE, conversation_id="b")
    assert unknown.status_code == wrong_birth_date.status_code == 404
    assert unknown.content == wrong_birth_date.content
    assert unknown.headers == wrong_birth_date.headers
    assert unknown.json()["error"] == "not_found"
    assert "tidak ditemukan" in unknown.json()["message"]


def test_six_wrong_birth_dates_lock_the_nik_even_for_the_right_birth_date(client: TestClient) -> None:
    for attempt in range(5):
        # A new conversation each time: it is the NIK that gets locked.
        response = lookup(client, birth_date=WRONG_BIRTH_DATE, conversation_id=f"guess-{attempt}")
        assert response.status_code == 404, attempt
    sixth_wrong = lookup(client, birth_date=WRONG_BIRTH_DATE, conversation_id="guess-5")
    assert sixth_wrong.status_code == 429
    right = lookup(client, conversation_id="the-real-person")
    assert right.status_code == 429
    body = right.json()
    assert body["error"] == "locked"
    assert body["scope"] == "nik"
    assert body["retry_after_seconds"] == 3600
    assert right.headers["Retry-After"] == "3600"
    assert "dikunci" in body["message"] and "1 jam" in body["message"] and "puskesmas" in body["message"]
    # Other people are not affected.
    other = lookup(client, DEMO_WOMAN.nik, DEMO_WOMAN.birth_date.isoformat(), conversation_id="someone-else")
    assert other.status_code == 200


def test_unknown_niks_lock_exactly_like_known_ones(client: TestClient) -> None:
    statuses = [lookup(client, nik=UNKNOWN_NIK, conversation_id=f"c{i}").status_code for i in range(6)]
    assert statuses == [404, 404, 404, 404, 404, 429]


def test_the_lock_ends_after_the_lockout_time(client: TestClient, clock: FakeClock) -> None:
    for attempt in range(5):
        lookup(client, birth_date=WRONG_BIRTH_DATE, conversation_id=f"guess-{attempt}")
    clock.advance(minutes=30)
    locked = lookup(client, conversation_id="later")
    assert locked.status_code == 429
    assert locked.json()["retry_after_seconds"] == 1800
    assert "30 menit" in locked.json()["message"]
    clock.advance(minutes=30, seconds=1)
    assert lookup(client, conversation_id="much-later").status_code == 200


def test_failures_spread_over_more_than_the_window_do_not_lock(client: TestClient, clock: FakeClock) -> None:
    for attempt in range(8):
        assert (
            lookup(client, birth_date=WRONG_BIRTH_DATE, conversation_id=f"slow-{attempt}").status_code == 404
        )
        clock.advance(minutes=15)  # never 5 within an hour
    assert lookup(client, conversation_id="slow-final").status_code == 200


def test_a_conversation_that_keeps_guessing_is_locked(client: TestClient) -> None:
    for attempt in range(5):
        nik = f"3578034508929{attempt:03d}" if attempt else UNKNOWN_NIK  # a different NIK every time
        assert lookup(client, nik=nik, conversation_id="guesser").status_code == 404
    refused = lookup(client, conversation_id="guesser")
    assert refused.status_code == 429
    assert refused.json()["scope"] == "conversation"
    assert "dikunci" in refused.json()["message"]
    # The same person from another conversation is fine: the NIK itself was never guessed.
    assert lookup(client, conversation_id="honest").status_code == 200


def test_a_successful_lookup_does_not_count_as_a_failure(client: TestClient) -> None:
    for attempt in range(10):
        assert lookup(client, conversation_id="repeat").status_code == 200, attempt


def test_every_lookup_is_audited_with_a_keyed_hash_and_never_the_nik(
    client: TestClient, session_factory: sessionmaker[Session], engine: Engine
) -> None:
    lookup(client)
    lookup(client, birth_date=WRONG_BIRTH_DATE)
    lookup(client, token="wrong-token-0123456789")
    for attempt in range(5):
        lookup(client, nik=UNKNOWN_NIK, conversation_id=f"x{attempt}")
    lookup(client, nik=UNKNOWN_NIK, conversation_id="x5")
    client.post(
        "/v1/lookup",
        json={"nik": NIK, "birth_date": "17-08-1985", "conversation_id": "c", "channel": "rest"},
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
    )

    rows = audit_rows(session_factory)
    assert [row.outcome for row in rows] == [
        "found",
        "not_found",
        "unauthorised",
        *["not_found"] * 5,
        "locked",
        "invalid_request",
    ]
    assert rows[0].caller == "action-server"
    assert rows[2].caller == "unauthenticated"
    assert rows[0].nik_hash == nik_hash(AUDIT_HASH_KEY, NIK)
    assert rows[0].occurred_at is not None and rows[0].occurred_at.tzinfo is not None

    dumped = _dump_tables(engine, "audit_log", "verification_failures")
    for secret in (NIK, UNKNOWN_NIK, BIRTH_DATE, "1985-08-17", "17-08-1985", "conversation-1"):
        assert secret not in dumped


def test_failures_are_stored_as_hashes(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    lookup(client, birth_date=WRONG_BIRTH_DATE)
    with session_factory() as session:
        failure = session.scalars(select(VerificationFailure)).one()
    assert failure.nik_hash == nik_hash(AUDIT_HASH_KEY, NIK)
    assert len(failure.conversation_hash) == 64


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"nik": "317405170885900", "birth_date": BIRTH_DATE, "conversation_id": "c"}, "nik"),
        ({"nik": "3174 0517 0885 9001", "birth_date": BIRTH_DATE, "conversation_id": "c"}, "nik"),
        ({"nik": NIK, "birth_date": "17-08-1985", "conversation_id": "c"}, "birth_date"),
        ({"nik": NIK, "birth_date": 19850817, "conversation_id": "c"}, "birth_date"),
        ({"nik": NIK, "birth_date": "1985-02-30", "conversation_id": "c"}, "birth_date"),
        ({"nik": NIK, "birth_date": BIRTH_DATE, "conversation_id": ""}, "conversation_id"),
        ({"nik": NIK, "birth_date": BIRTH_DATE}, "conversation_id"),
        ({"nik": NIK, "birth_date": BIRTH_DATE, "conversation_id": "c", "name": "x"}, "name"),
        ({"nik": NIK, "birth_date": BIRTH_DATE, "conversation_id": "c"}, "channel"),
        ({"nik": NIK, "birth_date": BIRTH_DATE, "conversation_id": "c", "channel": "WhatsApp!"}, "channel"),
    ],
)
def test_malformed_bodies_get_422_without_the_values(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/lookup", json=body, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})
    assert response.status_code == 422
    assert field in [problem["field"] for problem in response.json()["problems"]]
    for value in ("3174", "1985", "17-08"):
        assert value not in response.text


def test_unparseable_json_gets_422(client: TestClient) -> None:
    response = client.post(
        "/v1/lookup",
        content=b'{"nik": "3174051708859001", "birth',
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}", "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "body"
    assert "3174" not in response.text


def test_a_crash_is_a_plain_500_that_logs_no_values(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"boom with {NIK} and {BIRTH_DATE}")

    monkeypatch.setattr("services.registry.api.look_up", explode)
    failing_client = TestClient(client.app, raise_server_exceptions=False)
    response = lookup(failing_client)
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert NIK not in response.text
    assert "RuntimeError" in caplog.text
    assert NIK not in caplog.text and BIRTH_DATE not in caplog.text


def _dump_tables(engine: Engine, *tables: str) -> str:
    with engine.connect() as connection:
        return "\n".join(
            repr(tuple(row)) for table in tables for row in connection.execute(text(f"SELECT * FROM {table}"))
        )
