"""Outreach fixtures: the fake Graph API (with the outreach templates approved) and the send keys.

The database fixtures (SQLite and PostgreSQL, emptied per test) come from tests/services/registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time

import pytest
from pydantic import SecretStr

from services.registry.outreach.engine import SendContext
from services.registry.outreach.quiet_hours import QuietHours
from services.registry.settings import RegistrySettings
from tests.harness.whatsapp.fake_graph_api import FakeGraphApi, FakeGraphApiThread, outreach_templates
from tests.services.registry.outreach.support import (
    ACCESS_TOKEN,
    FAKE_GRAPH_PORT,
    GRAPH_URL,
    PHONE_NUMBER_ID,
    SENDER_HASH_KEY,
)
from tests.services.registry.support import AUDIT_HASH_KEY

STAFF_TOKEN = "test-staff-token-0123456789"


@pytest.fixture(scope="session")
def graph_server() -> Iterator[FakeGraphApi]:
    fake = FakeGraphApi(access_token=ACCESS_TOKEN, templates=outreach_templates())
    running = FakeGraphApiThread(fake, FAKE_GRAPH_PORT).start()
    try:
        yield fake
    finally:
        running.stop()


@pytest.fixture
def graph(graph_server: FakeGraphApi) -> FakeGraphApi:
    graph_server.reset()
    return graph_server


@pytest.fixture
def context() -> SendContext:
    return SendContext(AUDIT_HASH_KEY, SENDER_HASH_KEY, QuietHours(time(21, 0), time(7, 0)), lease_seconds=60)


@pytest.fixture
def outreach_registry_settings(settings: RegistrySettings) -> RegistrySettings:
    return settings.model_copy(
        update={
            "sender_hash_key": SecretStr(SENDER_HASH_KEY),
            "access_token": SecretStr(ACCESS_TOKEN),
            "phone_number_id": PHONE_NUMBER_ID,
            "graph_api_url": GRAPH_URL,
            "staff_token": SecretStr(STAFF_TOKEN),
        }
    )
