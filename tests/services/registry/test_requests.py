"""Recipients' requests through the real app: corrections, KIPI reports, opt-out and opt-in."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.registry import messages
from services.registry.demo import DEMO_PERSON, FULLY_VACCINATED_PERSON
from services.registry.hashing import conversation_hash
from services.registry.models import AuditEntry, CorrectionRequest, KipiReport, OptOut, Recipient
from services.registry.requests import is_opted_out
from tests.services.registry.request_support import (
    CONVERSATION,
    OTHER_CONVERSATION,
    SERVICE,
    STAFF_TOKEN,
    correct,
    post_json,
    record_token,
    report_kipi,
)
from tests.services.registry.support import AUDIT_HASH_KEY, FakeClock

pytestmark = pytest.mark.usefixtures("demo_registry")

CORRECTION_REFERENCE = re.compile(r"KOR-[0-9A-F]{8}")
KIPI_REFERENCE = re.compile(r"KIPI-[0-9A-F]{7}")


def corrections(session_factory: sessionmaker[Session]) -> list[CorrectionRequest]:
    with session_factory() as session:
        return list(session.scalars(select(CorrectionRequest).order_by(CorrectionRequest.id)))


def budi(session_factory: sessionmaker[Session]) -> Recipient:
    with session_factory() as session:
        recipient = session.scalar(select(Recipient).where(Recipient.nik == DEMO_PERSON.nik))
        assert recipient is not None
        return recipient


# --- Corrections ---


def test_a_correction_is_stored_pending_and_the_record_is_unchanged(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    response = correct(
        client, record_token(client), "name", "  Budi   Santosa ", note="Salah ketik di KTP lama"
    )
    assert response.status_code == 201
    answer = response.json()
    assert CORRECTION_REFERENCE.fullmatch(answer["reference"])
    assert answer["reference"] in answer["message"]
    assert "belum berubah" in answer["message"] and "nama" in answer["message"]
    [stored] = corrections(session_factory)
    assert (stored.field, stored.status, stored.requested_value) == ("name", "pending", "Budi Santosa")
    assert stored.current_masked == "B••• S•••••o"
    assert stored.note == "Salah ketik di KTP lama"
    assert stored.conversation_hash == conversation_hash(AUDIT_HASH_KEY, CONVERSATION)
    assert budi(session_factory).full_name == DEMO_PERSON.full_name


def test_a_second_request_for_the_same_field_is_409_with_the_pending_reference(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    token = record_token(client)
    first = correct(client, token, "phone", "0812-3456-7890").json()["reference"]
    again = correct(client, token, "phone", "081299998888")
    assert again.status_code == 409
    assert again.json()["error"] == "correction_pending"
    assert again.json()["reference"] == first
    assert first in again.json()["message"] and "nomor HP" in again.json()["message"]
    # Another field is another request.
    assert correct(client, token, "dose", "Dosis 2 seharusnya Pfizer").status_code == 201
    assert [row.field for row in corrections(session_factory)] == ["phone", "dose"]


def test_the_same_request_sent_again_gets_the_same_reference(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """A retry after a lost answer, or a replay, stores nothing new."""
    token = record_token(client)
    first = correct(client, token, "name", "Budi Santosa")
    again = correct(client, token, "name", "Budi  Santosa ")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert len(corrections(session_factory)) == 1


def test_the_database_holds_one_pending_request_per_field(
    client: TestClient, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    """Even when two requests race past the check: the partial unique index refuses the second."""
    correct(client, record_token(client), "name", "Budi Santosa")
    [first] = corrections(session_factory)
    with session_factory() as session:
        session.add(
            CorrectionRequest(
                reference="KOR-00000001",
                recipient_id=first.recipient_id,
                field="name",
                current_masked="x",
                requested_value="Budi Santosi",
                status="pending",
                created_at=clock(),
                conversation_hash="h",
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_another_persons_pending_request_does_not_block_this_one(client: TestClient) -> None:
    assert correct(client, record_token(client), "name", "Budi Santosa").status_code == 201
    agus = record_token(client, OTHER_CONVERSATION, FULLY_VACCINATED_PERSON)
    assert correct(client, agus, "name", "Agus Setiawan Putra", OTHER_CONVERSATION).status_code == 201


def test_a_phone_is_stored_in_e164(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    assert correct(client, record_token(client), "phone", "+62 812-3456-7890").status_code == 201
    assert corrections(session_factory)[0].requested_value == "+6281234567890"
    assert corrections(session_factory)[0].current_masked == "+62 8••••••0001"


@pytest.mark.parametrize(
    "value",
    [
        "12345",
        "+1 555 0100 200",
        "0212345678",
        "08123",
        "0812345678901234",
        "٠٨١٢٣٤٥٦٧٨٩٠",
        "0812 3456 789x",
        "62+812345678",
    ],
)
def test_a_number_that_is_not_an_indonesian_mobile_is_refused(client: TestClient, value: str) -> None:
    response = correct(client, record_token(client), "phone", value)
    assert response.status_code == 422
    assert response.json() == {"error": "invalid_value", "message": messages.INVALID_PHONE, "field": "phone"}


@pytest.mark.parametrize(
    "value",
    ["Budi 2", "Budi\u202eotnaS", "Budi 😀", "<script>", "...", "Budi_Santoso", "\ud800\udfff"],
)
def test_a_name_with_anything_but_letters_and_name_punctuation_is_refused(
    client: TestClient, value: str
) -> None:
    response = correct(client, record_token(client), "name", value)
    assert response.status_code == 422
    assert response.json()["message"] == messages.INVALID_NAME
    assert value not in response.text


def test_names_of_any_script_with_apostrophes_and_hyphens_are_accepted(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    assert correct(client, record_token(client), "name", "Ni Made O’Neil-Ayu S.").status_code == 201
    assert corrections(session_factory)[0].requested_value == "Ni Made O'Neil-Ayu S."


def test_the_value_on_file_is_not_a_correction(client: TestClient) -> None:
    token = record_token(client)
    for field, value in (("name", "budi  santoso"), ("phone", "081000000001")):
        response = correct(client, token, field, value)
        assert response.status_code == 422
        assert response.json()["message"] == messages.SAME_AS_ON_FILE


def test_odd_unicode_in_free_text_is_cleaned(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    value = "Dosis 2\x07 tercatat \u202eSinovac\u202c,\x00 seharusnya\r\n\n  Pfizer\u0301 "
    assert correct(client, record_token(client), "dose", value).status_code == 201
    assert corrections(session_factory)[0].requested_value == "Dosis 2 tercatat Sinovac, seharusnya\nPfizeŕ"


@pytest.mark.parametrize("value", ["Dosis 2\ud800", "\udfff", "Budi\udc80Santosa"])
def test_lone_surrogates_are_refused_as_malformed(client: TestClient, value: str) -> None:
    """Not text at all: the body is refused (422) before anything is cleaned or stored."""
    response = correct(client, record_token(client), "dose", value)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


def test_a_lone_surrogate_in_the_conversation_id_is_422_not_a_crash(client: TestClient) -> None:
    assert report_kipi(client, conversation_id="wa_\ud800").status_code == 422
    assert (
        client.post("/v1/opt-out", content='{"conversation_id": "\\ud800"}', headers=SERVICE).status_code
        == 422
    )


@pytest.mark.parametrize("field", ["name", "dose"])
def test_ten_thousand_characters_are_refused_before_they_reach_the_database(
    client: TestClient, field: str
) -> None:
    response = correct(client, record_token(client), field, "a" * 10_000)
    assert response.status_code == 422
    assert "a" * 100 not in response.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("name", "B" * 201, messages.INVALID_NAME), ("dose", "d" * 301, messages.INVALID_DOSE)],
)
def test_a_value_a_little_too_long_is_explained_in_indonesian(
    client: TestClient, field: str, value: str, message: str
) -> None:
    response = correct(client, record_token(client), field, value)
    assert response.status_code == 422
    assert response.json() == {"error": "invalid_value", "message": message, "field": field}


def test_a_note_too_long_is_explained(client: TestClient) -> None:
    response = correct(client, record_token(client), "dose", "Dosis 2 salah merek", note="n" * 501)
    assert response.json() == {"error": "invalid_value", "message": messages.INVALID_NOTE, "field": "note"}


def test_nothing_but_invisible_characters_is_not_a_value(client: TestClient) -> None:
    response = correct(client, record_token(client), "dose", "\u202e\u2066 \x07\n")
    assert response.status_code == 422
    assert response.json()["message"] == messages.INVALID_DOSE


def test_a_token_from_another_conversation_is_401_and_stores_nothing(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    stolen = record_token(client, OTHER_CONVERSATION)
    response = correct(client, stolen, "name", "Budi Santosa", conversation_id=CONVERSATION)
    assert response.status_code == 401
    assert response.json() == {"error": "record_session_ended", "message": messages.RECORD_SESSION_ENDED}
    assert corrections(session_factory) == []


def test_an_expired_token_is_401(client: TestClient, clock: FakeClock) -> None:
    token = record_token(client)
    clock.advance(minutes=31)
    response = correct(client, token, "name", "Budi Santosa")
    assert response.status_code == 401
    assert "Sesi pengecekan data sudah berakhir" in response.json()["message"]


def test_a_tampered_token_is_401(client: TestClient) -> None:
    token = record_token(client)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert correct(client, tampered, "name", "Budi Santosa").status_code == 401


@pytest.mark.parametrize("token", [None, "wrong-token-0123456789", STAFF_TOKEN])
def test_without_the_service_token_it_is_401(client: TestClient, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = correct(client, "rt1:x", "name", "Budi Santosa", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorised"


@pytest.mark.parametrize(
    "change",
    [
        {"field": "nik"},
        {"extra": "field"},
        {"conversation_id": "\ud800"},
        {"conversation_id": ""},
        {"note": "n" * 4097},
        {"requested_value": ""},
        {"record_token": "t" * 1001},
    ],
)
def test_malformed_bodies_are_422(client: TestClient, change: dict[str, Any]) -> None:
    body = {
        "record_token": "rt1:x",
        "conversation_id": CONVERSATION,
        "field": "name",
        "requested_value": "Budi",
    }
    response = post_json(client, "/v1/corrections", body | change, SERVICE)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


def test_requests_are_audited_with_hashes_and_no_values(
    client: TestClient, session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = record_token(client)
    correct(client, token, "name", "Budi Santosa")
    correct(client, token, "name", "Budi Santosi")
    correct(client, record_token(client, OTHER_CONVERSATION), "phone", "081234567890")
    with session_factory() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    outcomes = [row.outcome for row in rows if row.outcome != "found"]
    assert outcomes == ["correction_requested", "correction_duplicate", "record_token_refused"]
    assert {row.conversation_hash for row in rows} == {
        conversation_hash(AUDIT_HASH_KEY, CONVERSATION),
        conversation_hash(AUDIT_HASH_KEY, OTHER_CONVERSATION),
    }
    for personal in ("Santosa", "Santosi", "81234567890", DEMO_PERSON.nik):
        assert personal not in caplog.text


# --- KIPI reports ---


def test_an_anonymous_report_is_kept_by_conversation(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    response = report_kipi(client, severity="berat")
    assert response.status_code == 201
    answer = response.json()
    assert KIPI_REFERENCE.fullmatch(answer["reference"])
    assert answer["linked"] is False
    assert answer["reference"] in answer["message"]
    with session_factory() as session:
        [report] = session.scalars(select(KipiReport)).all()
        assert (report.recipient_id, report.severity, report.status) == (None, "berat", "baru")
        assert report.conversation_hash == conversation_hash(AUDIT_HASH_KEY, CONVERSATION)


def test_the_same_report_sent_again_is_one_report(
    client: TestClient, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    first = report_kipi(client, severity="berat")
    again = report_kipi(client, severity="berat")
    assert again.status_code == 201 and again.json() == first.json()
    assert (
        report_kipi(client, OTHER_CONVERSATION, severity="berat").json()["reference"]
        != first.json()["reference"]
    )
    clock.advance(minutes=11)
    assert report_kipi(client, severity="berat").json()["reference"] != first.json()["reference"]
    with session_factory() as session:
        assert len(session.scalars(select(KipiReport)).all()) == 3


def test_a_report_with_a_record_token_is_linked_to_the_record(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    response = report_kipi(client, token=record_token(client))
    assert response.json()["linked"] is True
    budi_id = budi(session_factory).id
    with session_factory() as session:
        assert session.scalar(select(KipiReport.recipient_id)) == budi_id


def test_another_conversations_token_does_not_link_the_report(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """Not refused either: a report is never lost, it just stays anonymous."""
    response = report_kipi(client, token=record_token(client, OTHER_CONVERSATION))
    assert response.status_code == 201
    assert response.json()["linked"] is False
    with session_factory() as session:
        assert session.scalar(select(KipiReport.recipient_id)) is None


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"symptoms": " \u202e\n\x00 "}, "symptoms", messages.INVALID_SYMPTOMS),
        ({"onset": "\u2066\u2069"}, "onset", messages.INVALID_ONSET),
        ({"place": "\t"}, "place", messages.INVALID_PLACE),
    ],
)
def test_a_report_of_nothing_is_refused_in_indonesian(
    client: TestClient, change: dict[str, str], field: str, message: str
) -> None:
    response = report_kipi(client, **change)
    assert response.status_code == 422
    assert response.json() == {"error": "invalid_value", "message": message, "field": field}


@pytest.mark.parametrize(
    "change", [{"severity": "parah"}, {"symptoms": "x" * 10_000}, {"onset": ""}, {"place": "x" * 4097}]
)
def test_a_report_out_of_bounds_is_422(client: TestClient, change: dict[str, str]) -> None:
    response = report_kipi(client, **change)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"symptoms": "x" * 501}, messages.INVALID_SYMPTOMS),
        ({"onset": "x" * 41}, messages.INVALID_ONSET),
        ({"place": "x" * 201}, messages.INVALID_PLACE),
    ],
)
def test_a_little_too_much_is_explained_in_indonesian(
    client: TestClient, change: dict[str, str], message: str
) -> None:
    response = report_kipi(client, **change)
    assert response.status_code == 422
    assert response.json()["message"] == message


def test_direction_overrides_are_dropped_from_a_report(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    report_kipi(client, symptoms="Demam \u202etinggi\u202c\nsesak napas\x1b", place="Puskesmas\u2067 Tebet")
    with session_factory() as session:
        report = session.scalars(select(KipiReport)).one()
    assert (report.symptoms, report.place) == ("Demam tinggi\nsesak napas", "Puskesmas Tebet")


# --- Opt-out and opt-in ---


def opt(client: TestClient, action: str, conversation_id: str = CONVERSATION, source: str = "chat") -> Any:
    return client.post(
        f"/v1/{action}", json={"conversation_id": conversation_id, "source": source}, headers=SERVICE
    )


def test_opting_out_is_idempotent_and_opting_in_undoes_it(
    client: TestClient, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    hashed = conversation_hash(AUDIT_HASH_KEY, CONVERSATION)
    first = opt(client, "opt-out", source="button")
    assert first.status_code == 200
    assert first.json() == {"opted_out": True, "message": messages.OPTED_OUT}
    assert "MULAI" in first.json()["message"]
    with session_factory() as session:
        first_at = session.get(OptOut, hashed).opted_out_at  # type: ignore[union-attr]
    clock.advance(minutes=5)
    assert opt(client, "opt-out").json()["opted_out"] is True
    with session_factory() as session:
        row = session.get(OptOut, hashed)
        assert row is not None and row.opted_out_at == first_at and row.source == "button"
        assert is_opted_out(session, hashed)
        assert not is_opted_out(session, conversation_hash(AUDIT_HASH_KEY, OTHER_CONVERSATION))
    answer = opt(client, "opt-in").json()
    assert answer == {"opted_out": False, "message": messages.OPTED_IN}
    assert opt(client, "opt-in").json()["opted_out"] is False
    with session_factory() as session:
        assert not is_opted_out(session, hashed)
        assert session.scalar(select(OptOut.opted_in_at)) is not None
    assert opt(client, "opt-out").json()["opted_out"] is True
    with session_factory() as session:
        assert is_opted_out(session, hashed)


def test_an_opt_in_without_an_opt_out_is_recorded(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    assert opt(client, "opt-in").status_code == 200
    with session_factory() as session:
        row = session.scalars(select(OptOut)).one()
    assert row.opted_out_at is None and row.opted_in_at is not None


@pytest.mark.parametrize("source", ["", "CHAT", "a" * 21, "chat; drop"])
def test_a_strange_source_is_422(client: TestClient, source: str) -> None:
    assert opt(client, "opt-out", source=source).status_code == 422


def test_opt_out_needs_the_service_token(client: TestClient) -> None:
    response = client.post("/v1/opt-out", json={"conversation_id": CONVERSATION, "source": "chat"})
    assert response.status_code == 401
