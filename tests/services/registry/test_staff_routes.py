"""The staff routes through the real app: corrections to decide, KIPI reports to triage, opt-outs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from services.registry import messages, requests, staff_routes
from services.registry.app import create_app
from services.registry.demo import DEMO_PERSON, FULLY_VACCINATED_PERSON
from services.registry.models import AuditEntry, CorrectionRequest, Dose, Recipient
from services.registry.requests import Context, OutcomeNotifier, decide_correction
from services.registry.settings import RegistrySettings
from tests.services.registry.request_support import (
    CONVERSATION,
    OTHER_CONVERSATION,
    SERVICE,
    STAFF,
    STAFF_TOKEN,
    STAFF_USER,
    correct,
    record_token,
    report_kipi,
)
from tests.services.registry.support import START, FakeClock

pytestmark = pytest.mark.usefixtures("demo_registry")

Notice = tuple[int, str, str, list[str]]


@pytest.fixture
def notices(monkeypatch: pytest.MonkeyPatch) -> list[Notice]:
    """Outcome notices queued by decisions (outreach's queue_outcome_notice, recorded here)."""
    queued: list[Notice] = []

    def queue(
        session: Session,
        recipient_id: int,
        notice_key: str,
        template: str,
        parameters: list[str],
        *,
        now: datetime | None = None,
    ) -> bool:
        queued.append((recipient_id, notice_key, template, parameters))
        return True

    notifier: OutcomeNotifier = queue
    monkeypatch.setattr(staff_routes, "outcome_notifier", lambda: notifier)
    return queued


@pytest.fixture
def client(engine: Engine, settings: RegistrySettings, clock: FakeClock) -> Iterator[TestClient]:
    """The app with a staff token configured."""
    staff_settings = settings.model_copy(update={"staff_token": SecretStr(STAFF_TOKEN)})
    with TestClient(create_app(staff_settings, clock=clock)) as test_client:
        yield test_client


def recipient(session_factory: sessionmaker[Session], nik: str = DEMO_PERSON.nik) -> Recipient:
    with session_factory() as session:
        found = session.scalar(select(Recipient).where(Recipient.nik == nik))
        assert found is not None
        return found


def decide(
    client: TestClient, reference: str, decision: str, reason: str | None = None, **headers: str
) -> Any:
    body: dict[str, Any] = {"decision": decision}
    if reason is not None:
        body["reason"] = reason
    return client.post(f"/v1/staff/corrections/{reference}/decision", json=body, headers=STAFF | headers)


def pending(client: TestClient, **params: Any) -> Any:
    return client.get("/v1/staff/corrections", params=params, headers=STAFF)


# --- Access ---


def test_without_a_staff_token_configured_the_staff_routes_are_503(
    engine: Engine, settings: RegistrySettings, clock: FakeClock
) -> None:
    with TestClient(create_app(settings, clock=clock)) as no_staff:
        response = no_staff.get("/v1/staff/corrections", headers=STAFF)
    assert response.status_code == 503
    assert response.json() == {"error": "staff_access_off", "message": messages.STAFF_ACCESS_OFF}


@pytest.mark.parametrize("token", [None, "", "wrong-staff-token-0123456789", STAFF_TOKEN[:-1], "SERVICE"])
@pytest.mark.parametrize("path", ["/v1/staff/corrections", "/v1/staff/kipi", "/v1/staff/opt-outs"])
def test_a_missing_or_wrong_staff_token_is_401(client: TestClient, token: str | None, path: str) -> None:
    bearer = SERVICE["Authorization"] if token == "SERVICE" else f"Bearer {token}"
    headers = {"X-Staff-User": STAFF_USER} | ({"Authorization": bearer} if token is not None else {})
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorised", "message": messages.STAFF_UNAUTHORISED}


def test_a_wrong_token_with_a_broken_body_is_still_401(client: TestClient) -> None:
    response = client.post(
        "/v1/staff/corrections/KOR-00000000/decision",
        content=b"{broken",
        headers={"Authorization": "Bearer nope-nope-nope-nope", "content-type": "application/json"},
    )
    assert response.status_code == 401


@pytest.mark.parametrize("user", [None, b"", b"a" * 65, b"ani petugas", b"ani<script>", "ání".encode()])
def test_the_officer_must_be_named_plainly(client: TestClient, user: bytes | None) -> None:
    headers = {b"Authorization": f"Bearer {STAFF_TOKEN}".encode()}
    if user is not None:
        headers[b"X-Staff-User"] = user  # bytes: sent as they are, whatever the encoding
    response = client.get("/v1/staff/corrections", headers=headers)
    assert response.status_code == 422
    assert response.json()["message"] == messages.STAFF_USER_INVALID


def test_a_percent_encoded_officer_name_is_accepted_as_sent(client: TestClient) -> None:
    """The review app percent-encodes a username with other characters ("siti rahayu" -> "siti%20rahayu")."""
    headers = STAFF | {"X-Staff-User": "siti%20rahayu"}
    assert client.get("/v1/staff/opt-outs", headers=headers).status_code == 200


def test_the_service_token_does_not_open_staff_routes_and_the_staff_token_not_service_routes(
    client: TestClient,
) -> None:
    assert client.get("/v1/staff/opt-outs", headers=SERVICE | {"X-Staff-User": STAFF_USER}).status_code == 401
    body = {"conversation_id": CONVERSATION, "source": "chat"}
    assert client.post("/v1/opt-out", json=body, headers=STAFF).status_code == 401


def test_a_malformed_staff_request_with_the_staff_token_is_422_not_401(client: TestClient) -> None:
    response = pending(client, limit=201)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert decide(client, "KOR-00000000", "maybe").status_code == 422
    assert decide(client, "../../etc", "approve").status_code in {404, 422}
    assert decide(client, "KOR-0000000g", "approve").status_code == 422


# --- Corrections ---


def test_pending_corrections_are_listed_oldest_first_masked_with_the_requested_value(
    client: TestClient, clock: FakeClock
) -> None:
    first = correct(client, record_token(client), "name", "Budi Santosa").json()["reference"]
    clock.advance(minutes=1)
    agus = record_token(client, OTHER_CONVERSATION, FULLY_VACCINATED_PERSON)
    second = correct(client, agus, "phone", "081234567890", OTHER_CONVERSATION).json()["reference"]
    page = pending(client).json()
    assert (page["total"], page["limit"], page["offset"]) == (2, 50, 0)
    assert [item["reference"] for item in page["items"]] == [first, second]
    name, phone = page["items"]
    assert (name["field"], name["current_masked"], name["requested_value"]) == (
        "name",
        "B••• S•••••o",
        "Budi Santosa",
    )
    assert (phone["current_masked"], phone["requested_value"]) == ("+62 8••••••0002", "+6281234567890")
    assert "Budi Santoso" not in str(page) and "81000000002" not in str(page)
    assert [item["reference"] for item in pending(client, limit=1, offset=1).json()["items"]] == [second]
    assert pending(client, status="approved").json() == {"total": 0, "limit": 50, "offset": 0, "items": []}


def test_approving_a_name_changes_the_record_and_queues_the_outcome(
    client: TestClient, session_factory: sessionmaker[Session], notices: list[Notice]
) -> None:
    reference = correct(client, record_token(client), "name", "Budi Santosa").json()["reference"]
    response = decide(client, reference, "approve")
    assert response.status_code == 200
    assert response.json() == {
        "reference": reference,
        "status": "approved",
        "notified": True,
        "message": messages.correction_approved("name", reference),
    }
    budi = recipient(session_factory)
    assert budi.full_name == "Budi Santosa"
    assert notices == [
        (
            budi.id,
            f"correction:{reference}",
            "hasil_koreksi_data",
            [reference, "disetujui", messages.OUTCOME_APPROVED_DETAILS["name"]],
        )
    ]
    with session_factory() as session:
        stored = session.scalars(select(CorrectionRequest)).one()
        audit = session.scalars(select(AuditEntry).where(AuditEntry.outcome == "correction_approved")).one()
    assert (stored.status, stored.decided_by, stored.decided_at, stored.notified_at) == (
        "approved",
        STAFF_USER,
        START,
        START,
    )
    assert audit.caller == STAFF_USER
    # Decided once: the second decision is refused and changes nothing.
    again = decide(client, reference, "reject", "berubah pikiran")
    assert again.status_code == 409
    assert again.json()["message"] == messages.CORRECTION_DECIDED
    assert recipient(session_factory).full_name == "Budi Santosa"


def test_approving_a_phone_changes_the_number_on_file(
    client: TestClient, session_factory: sessionmaker[Session], notices: list[Notice]
) -> None:
    reference = correct(client, record_token(client), "phone", "0812 3456 7890").json()["reference"]
    assert decide(client, reference, "approve").status_code == 200
    assert recipient(session_factory).phone == "+6281234567890"


def test_approving_a_dose_correction_leaves_the_dose_to_an_officer(
    client: TestClient, session_factory: sessionmaker[Session], notices: list[Notice]
) -> None:
    reference = correct(client, record_token(client), "dose", "Dosis 2 seharusnya Pfizer").json()["reference"]
    response = decide(client, reference, "approve")
    assert "secara manual" in response.json()["message"]
    with session_factory() as session:
        brands = list(
            session.scalars(
                select(Dose.vaccine_brand).join(Recipient).where(Recipient.nik == DEMO_PERSON.nik)
            )
        )
    assert brands == ["Sinovac", "Sinovac"]


def test_a_rejection_needs_a_reason_and_keeps_the_record(
    client: TestClient, session_factory: sessionmaker[Session], notices: list[Notice]
) -> None:
    reference = correct(client, record_token(client), "name", "Budi Santosa").json()["reference"]
    for reason in (None, "", "   \u202e "):
        response = decide(client, reference, "reject", reason)
        assert response.status_code == 422
        assert response.json()["message"] == messages.REASON_REQUIRED
    assert decide(client, reference, "reject", "r" * 501).status_code == 422
    response = decide(client, reference, "reject", "Nama sesuai KTP adalah Santoso")
    assert response.json()["status"] == "rejected"
    assert recipient(session_factory).full_name == DEMO_PERSON.full_name
    assert notices[0][3] == [reference, "ditolak", "Alasan: Nama sesuai KTP adalah Santoso"]
    with session_factory() as session:
        assert session.scalar(select(CorrectionRequest.reason)) == "Nama sesuai KTP adalah Santoso"


def test_after_a_decision_the_field_can_be_corrected_again(client: TestClient, notices: list[Notice]) -> None:
    token = record_token(client)
    reference = correct(client, token, "name", "Budi Santosa").json()["reference"]
    decide(client, reference, "reject", "Tidak sesuai KTP")
    assert correct(client, token, "name", "Budi Santosso").status_code == 201


def test_an_unknown_reference_is_404(client: TestClient, notices: list[Notice]) -> None:
    response = decide(client, "KOR-00000000", "approve")
    assert response.status_code == 404
    assert response.json()["message"] == messages.CORRECTION_UNKNOWN


def test_without_outreach_the_decision_stands_unnotified(
    client: TestClient, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staff_routes, "outcome_notifier", lambda: None)
    reference = correct(client, record_token(client), "name", "Budi Santosa").json()["reference"]
    assert decide(client, reference, "approve").json()["notified"] is False
    with session_factory() as session:
        assert session.scalar(select(CorrectionRequest.notified_at)) is None


def test_a_notice_that_cannot_be_queued_undoes_the_decision(
    client: TestClient, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    """One transaction: no approved change without its outcome notice."""
    reference = correct(client, record_token(client), "name", "Budi Santosa").json()["reference"]

    def failing(
        session: Session,
        recipient_id: int,
        notice_key: str,
        template: str,
        parameters: list[str],
        *,
        now: datetime | None = None,
    ) -> bool:
        raise RuntimeError("queue down")

    notifier: OutcomeNotifier = failing
    with session_factory() as session, pytest.raises(RuntimeError):
        decide_correction(
            session,
            Context(now=clock(), caller=STAFF_USER, client_host=None),
            reference=reference,
            approve=True,
            reason=None,
            notifier=notifier,
        )
    assert recipient(session_factory).full_name == DEMO_PERSON.full_name
    with session_factory() as session:
        assert session.scalar(select(CorrectionRequest.status)) == "pending"


def test_a_decision_queues_the_outcome_with_outreach_as_installed(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """The real ``queue_outcome_notice`` (when outreach is there): one notice per decision, not twice."""
    reference = correct(client, record_token(client), "dose", "Dosis 2 seharusnya Pfizer").json()["reference"]
    response = decide(client, reference, "approve")
    assert response.status_code == 200
    assert response.json()["notified"] is (requests.outcome_notifier() is not None)


# --- KIPI reports ---


def test_kipi_reports_are_listed_most_severe_then_oldest_first(client: TestClient, clock: FakeClock) -> None:
    made = []
    for number, severity in enumerate(("ringan", "berat", "sedang", "berat")):
        symptoms = f"Demam dan nyeri di bekas suntikan ({number + 1})"
        made.append((severity, report_kipi(client, severity=severity, symptoms=symptoms).json()["reference"]))
        clock.advance(minutes=1)
    page = client.get("/v1/staff/kipi", headers=STAFF).json()
    order = [made[1][1], made[3][1], made[2][1], made[0][1]]
    assert [item["reference"] for item in page["items"]] == order
    assert page["items"][0]["symptoms"] == "Demam dan nyeri di bekas suntikan (2)"
    assert page["items"][0]["identified"] is False
    severe = client.get(
        "/v1/staff/kipi", params={"severity": "berat", "status": "baru"}, headers=STAFF
    ).json()
    assert [item["reference"] for item in severe["items"]] == order[:2]
    assert severe["total"] == 2


def test_triage_moves_a_report_and_records_who(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    reference = report_kipi(client, severity="berat", token=record_token(client)).json()["reference"]
    response = client.post(
        f"/v1/staff/kipi/{reference}/triage",
        json={"status": "ditangani", "note": "Sudah ditelepon puskesmas"},
        headers=STAFF,
    )
    assert response.status_code == 200
    assert response.json()["status"] == "ditangani"
    [item] = client.get("/v1/staff/kipi", params={"status": "ditangani"}, headers=STAFF).json()["items"]
    assert (item["triaged_by"], item["triage_note"], item["identified"]) == (
        STAFF_USER,
        "Sudah ditelepon puskesmas",
        True,
    )
    assert client.get("/v1/staff/kipi", params={"status": "baru"}, headers=STAFF).json()["items"] == []
    assert (
        client.post(f"/v1/staff/kipi/{reference}/triage", json={"status": "tutup"}, headers=STAFF).status_code
        == 422
    )
    unknown = client.post("/v1/staff/kipi/KIPI-0000000/triage", json={"status": "selesai"}, headers=STAFF)
    assert unknown.status_code == 404 and unknown.json()["message"] == messages.KIPI_UNKNOWN


# --- Opt-outs ---


def test_opt_outs_are_listed_without_numbers_or_conversation_ids(
    client: TestClient, clock: FakeClock
) -> None:
    for conversation in (CONVERSATION, OTHER_CONVERSATION):
        client.post(
            "/v1/opt-out", json={"conversation_id": conversation, "source": "button"}, headers=SERVICE
        )
        clock.advance(minutes=1)
    client.post("/v1/opt-in", json={"conversation_id": CONVERSATION, "source": "chat"}, headers=SERVICE)
    page = client.get("/v1/staff/opt-outs", headers=STAFF).json()
    assert page["total"] == 1
    [item] = page["items"]
    assert item["source"] == "button" and len(item["subscriber"]) == 12
    assert OTHER_CONVERSATION not in str(page)


def test_staff_reads_are_audited_under_the_officers_name(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    client.get("/v1/staff/opt-outs", headers=STAFF)
    with session_factory() as session:
        callers = list(session.scalars(select(AuditEntry.caller).where(AuditEntry.outcome == "staff_read")))
    assert callers == [STAFF_USER]
