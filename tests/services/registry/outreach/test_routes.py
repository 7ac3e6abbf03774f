"""The staff campaign routes and the assistant's notice check, through the real app (TestClient)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from core.sender_identity import conversation_id
from services.registry.app import create_app
from services.registry.outreach.engine import SendContext
from services.registry.outreach.models import Notice
from services.registry.settings import RegistrySettings
from tests.harness.whatsapp.fake_graph_api import FakeGraphApi
from tests.services.registry.outreach.conftest import STAFF_TOKEN
from tests.services.registry.outreach.support import SENDER_HASH_KEY, load, make_worker, people, phone_of
from tests.services.registry.support import SERVICE_TOKEN, TODAY, FakeClock

STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}", "X-Staff-User": "sari"}
SERVICE = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
REMINDER = {"kind": "appointment_reminder", "template": "pengingat_jadwal", "language": "id", "days": 3}


@pytest.fixture
def app_client(
    engine: Engine, outreach_registry_settings: RegistrySettings, clock: FakeClock
) -> Iterator[TestClient]:
    with TestClient(create_app(outreach_registry_settings, clock=clock)) as test_client:
        yield test_client


def _created(client: TestClient, **changes: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/staff/campaigns", json={**REMINDER, "name": "Pengingat H-3", **changes}, headers=STAFF
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_staff_create_dry_run_start_and_read_a_campaign(
    app_client: TestClient,
    session_factory: sessionmaker[Session],
    graph: FakeGraphApi,
    context: SendContext,
    clock: FakeClock,
) -> None:
    load(session_factory, people(3, today=TODAY))
    campaign = _created(app_client)
    assert (campaign["status"], campaign["created_by"], campaign["counts"]["due"]) == ("draft", "sari", 0)

    dry = app_client.post(f"/v1/staff/campaigns/{campaign['id']}/dry-run", headers=STAFF).json()
    assert dry["dry_run"] is True and dry["counts"]["due"] == 3 and dry["counts"]["pending"] == 3
    assert graph.attempts() == []

    started = app_client.post(f"/v1/staff/campaigns/{campaign['id']}/start", headers=STAFF).json()
    assert started["status"] == "running" and started["counts"]["pending"] == 3
    again = app_client.post(f"/v1/staff/campaigns/{campaign['id']}/start", headers=STAFF)
    assert again.status_code == 409 and "sudah dimulai" in again.json()["message"]

    worker = make_worker(session_factory, context, clock)
    worker.run(until_idle=True, poll_seconds=0.01)
    worker.close()
    shown = app_client.get(f"/v1/staff/campaigns/{campaign['id']}", headers=STAFF).json()
    assert shown["status"] == "done" and shown["counts"]["sent"] == 3
    listed = app_client.get("/v1/staff/campaigns", headers=STAFF).json()["campaigns"]
    assert [item["id"] for item in listed] == [campaign["id"]]


def test_pause_and_resume_answer_409_out_of_turn(
    app_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    load(session_factory, people(1, today=TODAY))
    campaign = _created(app_client)
    paused = app_client.post(f"/v1/staff/campaigns/{campaign['id']}/pause", headers=STAFF)
    assert paused.status_code == 409 and paused.json()["message"].startswith("Hanya kampanye")
    app_client.post(f"/v1/staff/campaigns/{campaign['id']}/start", headers=STAFF)
    assert (
        app_client.post(f"/v1/staff/campaigns/{campaign['id']}/pause", headers=STAFF).json()["status"]
        == "paused"
    )
    assert (
        app_client.post(f"/v1/staff/campaigns/{campaign['id']}/resume", headers=STAFF).json()["status"]
        == "running"
    )


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"template": "sertifikat_siap"}, 422, "gunakan pengingat_jadwal"),
        ({"days": None}, 422, "jumlah hari"),
        ({"days": 61}, 422, "jumlah hari"),
        ({"language": "en"}, 422, None),
        ({"kind": "everyone"}, 422, None),
        ({"name": "x" * 101}, 422, None),
    ],
)
def test_bad_campaigns_are_refused_in_indonesian(
    app_client: TestClient, changes: dict[str, Any], status: int, words: str | None
) -> None:
    response = app_client.post("/v1/staff/campaigns", json={**REMINDER, **changes}, headers=STAFF)
    assert response.status_code == status
    if words:
        assert words in response.json()["message"]


def test_staff_routes_need_the_staff_token_not_the_service_token(app_client: TestClient) -> None:
    assert (
        app_client.get("/v1/staff/campaigns", headers={**SERVICE, "X-Staff-User": "sari"}).status_code == 401
    )
    assert app_client.get("/v1/staff/campaigns").status_code == 401
    assert app_client.get("/v1/staff/campaigns/999", headers=STAFF).status_code == 404
    assert app_client.get("/v1/staff/campaigns/0", headers=STAFF).status_code == 422
    assert app_client.get(f"/v1/staff/campaigns/{2**40}", headers=STAFF).status_code == 422


def test_a_notice_resolves_only_for_the_conversation_it_went_to(
    app_client: TestClient,
    session_factory: sessionmaker[Session],
    graph: FakeGraphApi,
    context: SendContext,
    clock: FakeClock,
) -> None:
    load(session_factory, people(2, today=TODAY))
    campaign = _created(app_client)
    app_client.post(f"/v1/staff/campaigns/{campaign['id']}/start", headers=STAFF)
    with session_factory() as session:
        unsent = session.scalar(select(Notice.reference).limit(1))
    owner_chat = conversation_id(phone_of(9001), SENDER_HASH_KEY)
    before = app_client.post(
        "/v1/notices/resolve", json={"conversation_id": owner_chat, "reference": unsent}, headers=SERVICE
    )
    assert before.status_code == 404, "not sent yet"
    worker = make_worker(session_factory, context, clock)
    worker.run(until_idle=True, poll_seconds=0.01)
    worker.close()
    sent = graph.sent(to=phone_of(9001)[1:])[0]["message"]
    reference = (
        sent["template"]["components"][1]["parameters"][0]["payload"].split('"notice":"')[1].split('"')[0]
    )

    mine = app_client.post(
        "/v1/notices/resolve", json={"conversation_id": owner_chat, "reference": reference}, headers=SERVICE
    )
    assert mine.status_code == 200
    answer = mine.json()
    assert answer["kind"] == "appointment_reminder" and answer["campaign_name"] == "Pengingat H-3"
    assert (
        answer["appointment"]["facility_name"] == "Puskesmas Uji"
        and answer["appointment"]["time"] == "09:00:00"
    )

    other_chat = conversation_id(phone_of(9002), SENDER_HASH_KEY)
    theirs = app_client.post(
        "/v1/notices/resolve", json={"conversation_id": other_chat, "reference": reference}, headers=SERVICE
    )
    unknown = app_client.post(
        "/v1/notices/resolve",
        json={"conversation_id": other_chat, "reference": "AAAAAAAAAAAA"},
        headers=SERVICE,
    )
    assert theirs.status_code == unknown.status_code == 404
    assert (
        theirs.json() == unknown.json() == {"error": "not_found", "message": "Pesan itu tidak kami kenali."}
    )
    for hostile in ("x" * 13, "../../etc", "ＡＡＡ", "a'; --"):
        response = app_client.post(
            "/v1/notices/resolve", json={"conversation_id": owner_chat, "reference": hostile}, headers=SERVICE
        )
        assert response.status_code == 422
    no_token = app_client.post(
        "/v1/notices/resolve", json={"conversation_id": owner_chat, "reference": reference}
    )
    assert no_token.status_code == 401
