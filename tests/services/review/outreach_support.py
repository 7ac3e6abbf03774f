"""What the outreach page tests share: the real registry, and recipients' requests put in over its API.

The registry is the real app (services/registry) on a SQLite file, seeded with the demo people,
served by uvicorn on a free port (tests/actions/servers.py), with a staff token. Requests come in
the way the action server sends them (``/v1/lookup``, ``/v1/corrections``, ``/v1/kipi``,
``/v1/opt-out`` with the service token), so the pages are checked on what the registry really holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import SecretStr

from services.registry.demo import DEMO_PERSON
from tests.actions.servers import SERVICE_TOKEN

STAFF_TOKEN = "review-staff-token-for-tests-0123"
SENDER_HASH_KEY = "review-sender-hash-key-for-tests-0123"
# The registry's settings for these tests: staff access on, and the key a campaign's dry run and
# start need to tell opted-out numbers (no WhatsApp access: nothing here sends a message).
REGISTRY_SETTINGS: dict[str, Any] = {
    "staff_token": SecretStr(STAFF_TOKEN),
    "sender_hash_key": SecretStr(SENDER_HASH_KEY),
}
DEMO_CONVERSATION = "web-koreksi-1"
OPTED_OUT_CONVERSATION = "wa-8f1c2d3e4b5a69788796a5b4c3d2e1f0"


@dataclass(frozen=True)
class Seeded:
    correction: str  # pending: Budi Santoso's name
    kipi_mild: str  # reported first
    kipi_severe: str  # reported after it


def registry_today() -> date:
    """Today where the registry counts days (its default zone): the demo appointments move with it."""
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


def _post(registry_url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{registry_url}{path}", json=body, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}, timeout=10
    )
    assert response.status_code in (200, 201), (path, response.status_code, response.text)
    answer: dict[str, Any] = response.json()
    return answer


def record_token(registry_url: str, conversation_id: str = DEMO_CONVERSATION) -> str:
    found = _post(
        registry_url,
        "/v1/lookup",
        {
            "nik": DEMO_PERSON.nik,
            "birth_date": DEMO_PERSON.birth_date.isoformat(),
            "conversation_id": conversation_id,
            "channel": "rest",
        },
    )
    token: str = found["record_token"]
    return token


def name_on_file(registry_url: str) -> str:
    """The masked name a new lookup shows (what the recipient would see)."""
    found = _post(
        registry_url,
        "/v1/lookup",
        {
            "nik": DEMO_PERSON.nik,
            "birth_date": DEMO_PERSON.birth_date.isoformat(),
            "conversation_id": "web-cek-lagi",
            "channel": "rest",
        },
    )
    name: str = found["on_file"]["name_masked"]
    return name


def request_correction(registry_url: str, field: str, value: str, note: str | None = None) -> str:
    body = {
        "record_token": record_token(registry_url),
        "conversation_id": DEMO_CONVERSATION,
        "field": field,
        "requested_value": value,
    }
    if note is not None:
        body["note"] = note
    reference: str = _post(registry_url, "/v1/corrections", body)["reference"]
    return reference


def report_kipi(registry_url: str, severity: str, symptoms: str, place: str) -> str:
    body = {
        "conversation_id": f"web-kipi-{severity}",
        "symptoms": symptoms,
        "onset": "2 jam setelah vaksin",
        "severity": severity,
        "place": place,
    }
    reference: str = _post(registry_url, "/v1/kipi", body)["reference"]
    return reference


def opt_out(registry_url: str, conversation_id: str = OPTED_OUT_CONVERSATION) -> None:
    _post(registry_url, "/v1/opt-out", {"conversation_id": conversation_id, "source": "button"})


def seed_requests(registry_url: str) -> Seeded:
    correction = request_correction(registry_url, "name", "Budi Santosa", note="huruf terakhir salah ketik")
    mild = report_kipi(registry_url, "ringan", "Nyeri di lengan bekas suntikan", "Puskesmas Tebet")
    severe = report_kipi(
        registry_url, "berat", "Sesak napas dan bengkak di wajah", "Puskesmas Kebayoran Lama"
    )
    opt_out(registry_url)
    return Seeded(correction, mild, severe)


def staff_get(registry_url: str, path: str, **params: str) -> dict[str, Any]:
    """The registry's own answer, read with the staff token (to check what a page did)."""
    response = httpx.get(
        f"{registry_url}{path}",
        params=params,
        headers={"Authorization": f"Bearer {STAFF_TOKEN}", "X-Staff-User": "test"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer
