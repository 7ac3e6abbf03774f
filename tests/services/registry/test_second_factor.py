"""The second factor on WhatsApp, through the real app on SQLite and PostgreSQL (see conftest.py).

Codes go out through the real Graph API client to the fake Graph API
(tests/harness/whatsapp/fake_graph_api.py) served on a local port, and are read back from what
the fake recorded, as a phone would get them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.nik import Sex, build_nik
from core.sender_identity import conversation_id
from services.registry.app import create_app
from services.registry.demo import DEMO_PERSON, DEMO_WOMAN, demo_niks
from services.registry.records import RecipientRecord
from services.registry.settings import RegistrySettings
from services.registry.upsert import upsert_recipients
from tests.harness.whatsapp.fake_graph_api import FakeGraphApi, FakeGraphApiThread
from tests.services.registry.support import SERVICE_TOKEN, FakeClock

FAKE_GRAPH_PORT = 15310
SENDER_HASH_KEY = "test-sender-hash-key-0123456789"
ACCESS_TOKEN = "test-graph-access-token"
PHONE_NUMBER_ID = "109876543210"
BUDI_PHONE = "+6281000000001"  # on file for DEMO_PERSON (services/registry/demo.py)
BUDI_CHAT = conversation_id(BUDI_PHONE, SENDER_HASH_KEY)
STRANGER_CHAT = conversation_id("+6281199990000", SENDER_HASH_KEY)
NIK, BIRTH_DATE = DEMO_PERSON.nik, DEMO_PERSON.birth_date.isoformat()
UNKNOWN_NIK = "3578034508929999"
# Two people of one family, one phone; not in the demo registry.
FAMILY_PHONE = "+6281000007700"
FATHER = RecipientRecord(
    build_nik("317401", date(1960, 5, 4), Sex.MALE, 9770), "Hadi Purnomo", date(1960, 5, 4), Sex.MALE,
    FAMILY_PHONE, "Tebet",
)  # fmt: skip
MOTHER = RecipientRecord(
    build_nik("317401", date(1962, 7, 9), Sex.FEMALE, 9771), "Sri Lestari", date(1962, 7, 9), Sex.FEMALE,
    FAMILY_PHONE, "Tebet",
)  # fmt: skip

pytestmark = pytest.mark.usefixtures("demo_registry")


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphApi]:
    fake = FakeGraphApi(access_token=ACCESS_TOKEN)
    running = FakeGraphApiThread(fake, FAKE_GRAPH_PORT).start()
    try:
        yield fake
    finally:
        running.stop()


@pytest.fixture
def whatsapp_settings(settings: RegistrySettings, graph: FakeGraphApi) -> RegistrySettings:
    graph.reset()
    return settings.model_copy(
        update={
            "sender_hash_key": SecretStr(SENDER_HASH_KEY),
            "access_token": SecretStr(ACCESS_TOKEN),
            "phone_number_id": PHONE_NUMBER_ID,
            "graph_api_url": f"http://127.0.0.1:{FAKE_GRAPH_PORT}/v21.0",
        }
    )


@pytest.fixture
def wa(engine: Engine, whatsapp_settings: RegistrySettings, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(whatsapp_settings, clock=clock)) as test_client:
        yield test_client


def lookup(
    client: TestClient,
    sender: str,
    nik: str = NIK,
    birth_date: str = BIRTH_DATE,
    channel: str = "whatsapp",
) -> Any:
    body = {"nik": nik, "birth_date": birth_date, "conversation_id": sender, "channel": channel}
    return client.post("/v1/lookup", json=body, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})


def check(client: TestClient, challenge_id: str, code: str, sender: str) -> Any:
    body = {"challenge_id": challenge_id, "code": code, "conversation_id": sender}
    return client.post("/v1/lookup/code", json=body, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})


def codes_sent(graph: FakeGraphApi, phone: str) -> list[str]:
    """The codes the phone received, oldest first, read from the template as WhatsApp shows it."""
    received = []
    for record in graph.sent(to=phone.removeprefix("+")):
        template = record["message"]["template"]
        [body, button] = template["components"]
        received.append(body["parameters"][0]["text"])
        assert button["parameters"][0]["text"] == body["parameters"][0]["text"]  # the copy-code button
    return received


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def dump(engine: Engine, *tables: str) -> str:
    with engine.connect() as connection:
        return "\n".join(
            repr(tuple(row)) for table in tables for row in connection.execute(text(f"SELECT * FROM {table}"))
        )


def test_from_the_number_on_file_the_record_comes_at_once(wa: TestClient, graph: FakeGraphApi) -> None:
    response = lookup(wa, BUDI_CHAT)
    assert response.status_code == 200
    assert response.json()["name_masked"] == "B••• S•••••o"
    assert graph.sent() == []


def test_from_another_number_a_code_goes_to_the_number_on_file(
    wa: TestClient, graph: FakeGraphApi, engine: Engine
) -> None:
    response = lookup(wa, STRANGER_CHAT)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "code_sent"
    assert body["phone_masked"] == "+62 8••••••0001"
    assert "+62 8••••••0001" in body["message"] and "5 menit" in body["message"]
    assert body["expires_in_seconds"] == 300
    assert "name_masked" not in body and "doses" not in body

    [record] = graph.sent()
    message = record["message"]
    assert record["phone_number_id"] == PHONE_NUMBER_ID
    assert message["to"] == "6281000000001" and message["type"] == "template"
    assert message["template"]["name"] == "kode_verifikasi"
    assert message["template"]["language"] == {"code": "id"}
    [code] = codes_sent(graph, BUDI_PHONE)
    assert len(code) == 6 and code.isdigit()
    assert code not in response.text

    found = check(wa, body["challenge_id"], code, STRANGER_CHAT)
    assert found.status_code == 200
    assert found.json()["name_masked"] == "B••• S•••••o"
    # One time only.
    again = check(wa, body["challenge_id"], code, STRANGER_CHAT)
    assert again.status_code == 410 and again.json()["error"] == "code_ended"
    # Neither the code nor the challenge id is kept, in the audit trail or anywhere else.
    stored = dump(engine, "audit_log", "code_challenges", "verification_failures")
    for secret in (code, body["challenge_id"], NIK, BUDI_PHONE, "6281000000001", STRANGER_CHAT):
        assert secret not in stored
    outcomes = dump(engine, "audit_log")
    assert "code_sent" in outcomes and "found" in outcomes


def test_wrong_codes_count_down_then_end_the_code_and_lock(wa: TestClient, graph: FakeGraphApi) -> None:
    challenge = lookup(wa, STRANGER_CHAT).json()["challenge_id"]
    [code] = codes_sent(graph, BUDI_PHONE)
    for left in (4, 3, 2, 1):
        wrong = check(wa, challenge, other_code(code), STRANGER_CHAT)
        assert wrong.status_code == 400
        assert wrong.json() == {
            "error": "wrong_code",
            "message": f"Kode verifikasi salah. Sisa percobaan: {left}.",
            "attempts_left": left,
        }
    fifth = check(wa, challenge, other_code(code), STRANGER_CHAT)
    assert fifth.status_code == 410
    assert fifth.json()["too_many_attempts"] is True
    assert "Terlalu banyak kode yang salah" in fifth.json()["message"]
    # The right code no longer helps, and the NIK is locked for everyone, the owner's number too.
    assert check(wa, challenge, code, STRANGER_CHAT).status_code == 410
    locked = lookup(wa, BUDI_CHAT)
    assert locked.status_code == 429 and locked.json()["scope"] == "nik"


def test_a_code_works_only_in_the_conversation_that_asked_for_it(wa: TestClient, graph: FakeGraphApi) -> None:
    challenge = lookup(wa, STRANGER_CHAT).json()["challenge_id"]
    [code] = codes_sent(graph, BUDI_PHONE)
    thief = conversation_id("+6281188887777", SENDER_HASH_KEY)
    assert check(wa, challenge, code, thief).status_code == 410
    assert check(wa, challenge, code, STRANGER_CHAT).status_code == 200


def test_a_code_expires(wa: TestClient, graph: FakeGraphApi, clock: FakeClock) -> None:
    challenge = lookup(wa, STRANGER_CHAT).json()["challenge_id"]
    [code] = codes_sent(graph, BUDI_PHONE)
    clock.advance(minutes=5, seconds=1)
    expired = check(wa, challenge, code, STRANGER_CHAT)
    assert expired.status_code == 410
    assert expired.json()["too_many_attempts"] is False
    assert "sudah tidak berlaku" in expired.json()["message"]


def test_a_new_code_replaces_the_last_one(wa: TestClient, graph: FakeGraphApi) -> None:
    first = lookup(wa, STRANGER_CHAT).json()["challenge_id"]
    second = lookup(wa, STRANGER_CHAT).json()["challenge_id"]
    old, new = codes_sent(graph, BUDI_PHONE)
    assert check(wa, first, old, STRANGER_CHAT).status_code == 410
    assert check(wa, second, new, STRANGER_CHAT).status_code == 200


def test_a_number_gets_at_most_five_codes_an_hour(
    wa: TestClient, graph: FakeGraphApi, clock: FakeClock
) -> None:
    for attempt in range(5):
        sender = conversation_id(f"+62811555000{attempt}", SENDER_HASH_KEY)
        assert lookup(wa, sender).status_code == 202
    sixth = lookup(wa, conversation_id("+6281155500099", SENDER_HASH_KEY))
    assert sixth.status_code == 429
    assert sixth.json()["scope"] == "number"
    assert len(codes_sent(graph, BUDI_PHONE)) == 5
    assert lookup(wa, BUDI_CHAT).status_code == 200  # the owner's own number needs no code
    clock.advance(hours=1, seconds=1)
    assert lookup(wa, STRANGER_CHAT).status_code == 202


def test_wrong_codes_lock_the_number_on_file_for_the_whole_family(
    wa: TestClient, graph: FakeGraphApi, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        upsert_recipients(session, [FATHER, MOTHER])
        session.commit()
    for attempt in range(5):  # five chats, one wrong code each: no single chat or code runs out
        sender = conversation_id(f"+62812444000{attempt}", SENDER_HASH_KEY)
        challenge = lookup(wa, sender, FATHER.nik, FATHER.birth_date.isoformat()).json()["challenge_id"]
        code = codes_sent(graph, FAMILY_PHONE)[-1]
        assert check(wa, challenge, other_code(code), sender).status_code == 400
    # Another chat about the mother: her NIK was never guessed, but the number codes go to is locked.
    refused = lookup(wa, STRANGER_CHAT, MOTHER.nik, MOTHER.birth_date.isoformat())
    assert refused.status_code == 429
    assert refused.json()["scope"] in {"nik", "number"}
    assert len(codes_sent(graph, FAMILY_PHONE)) == 5


def test_unknown_nik_and_wrong_birth_date_still_look_the_same_on_whatsapp(
    wa: TestClient, graph: FakeGraphApi
) -> None:
    unknown = lookup(wa, STRANGER_CHAT, nik=UNKNOWN_NIK)
    wrong = lookup(wa, conversation_id("+6281100000123", SENDER_HASH_KEY), birth_date="1985-08-18")
    assert unknown.status_code == wrong.status_code == 404
    assert unknown.content == wrong.content
    assert unknown.json()["whatsapp_only"] is False
    assert graph.sent() == []


def test_a_graph_api_failure_is_an_apology_and_leaves_no_code(
    wa: TestClient, graph: FakeGraphApi, engine: Engine
) -> None:
    graph.fail_next(500)
    response = lookup(wa, STRANGER_CHAT)
    assert response.status_code == 503
    assert response.json()["error"] == "code_unavailable"
    assert "tidak dapat dikirim" in response.json()["message"]
    assert dump(engine, "code_challenges") == ""


def test_whatsapp_without_graph_access_cannot_send_codes(
    engine: Engine, settings: RegistrySettings, clock: FakeClock
) -> None:
    unconfigured = settings.model_copy(update={"sender_hash_key": SecretStr(SENDER_HASH_KEY)})
    with TestClient(create_app(unconfigured, clock=clock)) as client:
        assert lookup(client, BUDI_CHAT).status_code == 200
        assert lookup(client, STRANGER_CHAT).status_code == 503


def test_without_the_sender_key_no_number_matches(
    engine: Engine, whatsapp_settings: RegistrySettings, clock: FakeClock
) -> None:
    keyless = whatsapp_settings.model_copy(update={"sender_hash_key": None})
    with TestClient(create_app(keyless, clock=clock)) as client:
        assert lookup(client, BUDI_CHAT).status_code == 202
    forged = conversation_id(BUDI_PHONE, "a-key-the-registry-does-not-have")
    with TestClient(create_app(whatsapp_settings, clock=clock)) as client:
        assert lookup(client, forged).status_code == 202


@pytest.mark.parametrize(
    "body",
    [
        {"challenge_id": "x" * 43, "code": "12345", "conversation_id": "c"},
        {"challenge_id": "x" * 43, "code": "12345a", "conversation_id": "c"},
        {"challenge_id": "x" * 43, "code": "123 456", "conversation_id": "c"},
        {"challenge_id": "short", "code": "123456", "conversation_id": "c"},
        {"challenge_id": "x" * 43, "code": "123456"},
    ],
)
def test_malformed_code_requests_get_422_without_the_values(wa: TestClient, body: dict[str, str]) -> None:
    response = wa.post("/v1/lookup/code", json=body, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})
    assert response.status_code == 422
    assert "12345" not in response.text


def test_code_checks_need_the_service_token(wa: TestClient) -> None:
    body = {"challenge_id": "x" * 43, "code": "123456", "conversation_id": "c"}
    assert wa.post("/v1/lookup/code", json=body).status_code == 401


# --- REST, the test channel ----------------------------------------------------------------------


def test_rest_reaches_the_demo_registry(wa: TestClient) -> None:
    assert DEMO_WOMAN.nik in demo_niks()
    response = lookup(wa, "rest-demo", DEMO_WOMAN.nik, DEMO_WOMAN.birth_date.isoformat(), channel="rest")
    assert response.status_code == 200


def test_rest_answers_a_real_person_exactly_like_a_wrong_birth_date(
    wa: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        upsert_recipients(session, [FATHER])
        session.commit()
    real = lookup(wa, "rest-a", FATHER.nik, FATHER.birth_date.isoformat(), channel="rest")
    wrong = lookup(wa, "rest-b", NIK, "1985-08-18", channel="rest")
    unknown = lookup(wa, "rest-c", UNKNOWN_NIK, channel="rest")
    assert real.status_code == wrong.status_code == unknown.status_code == 404
    assert real.content == wrong.content == unknown.content
    assert real.json()["whatsapp_only"] is True
    assert "WhatsApp" in real.json()["message"] and "tidak ditemukan" in real.json()["message"]


def test_rest_lookups_of_real_people_can_be_enabled(
    engine: Engine,
    whatsapp_settings: RegistrySettings,
    clock: FakeClock,
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        upsert_recipients(session, [FATHER])
        session.commit()
    enabled = whatsapp_settings.model_copy(update={"allow_rest_lookups": True})
    with TestClient(create_app(enabled, clock=clock)) as client:
        response = lookup(client, "rest-a", FATHER.nik, FATHER.birth_date.isoformat(), channel="rest")
        assert response.status_code == 200
        assert lookup(client, "rest-b", NIK, "1985-08-18", channel="rest").json()["whatsapp_only"] is False


def test_a_new_rest_sender_does_not_get_round_the_nik_lock(wa: TestClient) -> None:
    for attempt in range(5):
        assert lookup(wa, f"rest-{attempt}", birth_date="1985-08-18", channel="rest").status_code == 404
    locked = lookup(wa, "rest-brand-new", channel="rest")
    assert locked.status_code == 429 and locked.json()["scope"] == "nik"


def test_settings_read_the_whatsapp_names_the_channel_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_SERVICE_TOKEN", SERVICE_TOKEN)
    monkeypatch.setenv("REGISTRY_AUDIT_HASH_KEY", SENDER_HASH_KEY)
    monkeypatch.setenv("WHATSAPP_SENDER_HASH_KEY", SENDER_HASH_KEY)
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", ACCESS_TOKEN)
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID)
    monkeypatch.setenv("WHATSAPP_GRAPH_API_URL", "http://127.0.0.1:1/v21.0")
    settings = RegistrySettings()  # type: ignore[call-arg]
    assert settings.sender_hash_key is not None
    assert settings.sender_hash_key.get_secret_value() == SENDER_HASH_KEY
    assert settings.whatsapp_ready() and settings.phone_number_id == PHONE_NUMBER_ID
    assert settings.graph_api_url == "http://127.0.0.1:1/v21.0"
    assert settings.allow_rest_lookups is False
    monkeypatch.setenv("REGISTRY_ALLOW_REST_LOOKUPS", "true")
    assert RegistrySettings().allow_rest_lookups is True  # type: ignore[call-arg]
