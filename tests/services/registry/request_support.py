"""Helpers for the tests of recipients' requests and the staff routes (the real app, real databases)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from services.registry.demo import DEMO_PERSON, DemoPerson
from tests.services.registry.support import SERVICE_TOKEN

STAFF_TOKEN = "test-staff-token-0123456789"
STAFF_USER = "petugas.ani"
CONVERSATION = "conversation-1"
OTHER_CONVERSATION = "conversation-2"
SERVICE = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}", "X-Staff-User": STAFF_USER}


def post_json(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    """JSON as a chat platform may send it: lone surrogates escaped (``\\ud800``), which Python reads back."""
    content = json.dumps(body)  # ensure_ascii: every non-ASCII character, surrogates too, as an escape
    return client.post(path, content=content, headers=headers | {"content-type": "application/json"})


def record_token(
    client: TestClient, conversation_id: str = CONVERSATION, person: DemoPerson = DEMO_PERSON
) -> str:
    """The record_token of a successful lookup of a demo person (REST reaches the demo registry)."""
    body = {
        "nik": person.nik,
        "birth_date": person.birth_date.isoformat(),
        "conversation_id": conversation_id,
        "channel": "rest",
    }
    response = client.post("/v1/lookup", json=body, headers=SERVICE)
    assert response.status_code == 200, response.text
    token: str = response.json()["record_token"]
    return token


def correct(
    client: TestClient,
    token: str,
    field: str,
    value: str,
    conversation_id: str = CONVERSATION,
    note: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    body: dict[str, Any] = {
        "record_token": token,
        "conversation_id": conversation_id,
        "field": field,
        "requested_value": value,
    }
    if note is not None:
        body["note"] = note
    return post_json(client, "/v1/corrections", body, SERVICE if headers is None else headers)


def report_kipi(
    client: TestClient,
    conversation_id: str = CONVERSATION,
    token: str | None = None,
    severity: str = "ringan",
    symptoms: str = "Demam dan nyeri di bekas suntikan",
    onset: str = "2 jam setelah vaksin",
    place: str = "Puskesmas Kecamatan Kebayoran Lama",
) -> Any:
    body: dict[str, Any] = {
        "conversation_id": conversation_id,
        "symptoms": symptoms,
        "onset": onset,
        "severity": severity,
        "place": place,
    }
    if token is not None:
        body["record_token"] = token
    return post_json(client, "/v1/kipi", body, SERVICE)
