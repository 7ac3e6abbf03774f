"""Sends survive rate limits and hiccups, give up after a bound, and say what was lost."""

from __future__ import annotations

import logging

import pytest

from rasa_project.channels.graph_api import GraphApiClient, RetryPolicy
from rasa_project.channels.messages import text_message
from tests.harness.whatsapp.payloads import DEFAULT_PHONE_NUMBER_ID
from tests.rasa_project.channels.conftest import GraphStub

PHONE = "6281234567890"
FAST = RetryPolicy(max_attempts=4, first_backoff_seconds=0.01, max_backoff_seconds=0.02, timeout_seconds=5)


def client_for(graph: GraphStub, policy: RetryPolicy = FAST) -> GraphApiClient:
    return GraphApiClient(graph.base_url, DEFAULT_PHONE_NUMBER_ID, "access-token", policy)


async def test_a_message_is_posted_like_meta_expects(graph: GraphStub) -> None:
    client = client_for(graph)
    outcome = await client.send(PHONE, text_message("Halo"), "wa_x")
    await client.close()
    assert outcome.delivered and outcome.attempts == 1
    assert graph.requests == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": PHONE,
            "type": "text",
            "text": {"preview_url": False, "body": "Halo"},
        }
    ]
    assert graph.authorizations == ["Bearer access-token"]
    assert client.messages_url.endswith(f"/v21.0/{DEFAULT_PHONE_NUMBER_ID}/messages")


@pytest.mark.parametrize("status", [429, 500, 502, 503])
async def test_rate_limits_and_server_errors_are_retried(graph: GraphStub, status: int) -> None:
    graph.statuses = [status, status]
    client = client_for(graph)
    outcome = await client.send(PHONE, text_message("Halo"), "wa_x")
    await client.close()
    assert outcome.delivered
    assert outcome.attempts == 3
    assert graph.answered == [status, status, 200]


async def test_a_retryable_meta_error_code_in_a_400_is_retried(graph: GraphStub) -> None:
    graph.statuses = [400]
    graph.error_code = 130429
    client = client_for(graph)
    assert (await client.send(PHONE, text_message("Halo"), "wa_x")).delivered
    await client.close()


async def test_it_gives_up_after_the_bound_and_logs_what_was_lost(
    graph: GraphStub, caplog: pytest.LogCaptureFixture
) -> None:
    graph.statuses = [503] * 10
    client = client_for(graph)
    with caplog.at_level(logging.WARNING):
        outcome = await client.send(PHONE, text_message("Jawaban tentang biaya vaksin"), "wa_conversation")
    await client.close()
    assert not outcome.delivered
    assert outcome.attempts == FAST.max_attempts
    assert len(graph.requests) == FAST.max_attempts
    lost = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert len(lost) == 1
    assert "LOST" in lost[0] and "wa_conversation" in lost[0] and "Jawaban tentang biaya vaksin" in lost[0]
    assert all(PHONE not in record.getMessage() for record in caplog.records)


async def test_a_client_error_is_not_retried(graph: GraphStub) -> None:
    graph.statuses = [400]
    graph.error_code = 131026  # message undeliverable: trying again cannot help
    client = client_for(graph)
    outcome = await client.send(PHONE, text_message("Halo"), "wa_x")
    await client.close()
    assert not outcome.delivered and outcome.attempts == 1 and outcome.status == 400
    assert "131026" in outcome.reason


async def test_an_unreachable_api_is_retried_then_given_up() -> None:
    client = GraphApiClient("http://127.0.0.1:9/v21.0", "1", "token", FAST)
    outcome = await client.send(PHONE, text_message("Halo"), "wa_x")
    await client.close()
    assert not outcome.delivered and outcome.attempts == FAST.max_attempts and outcome.status is None


def test_backoff_doubles_is_capped_and_honours_retry_after() -> None:
    policy = RetryPolicy(first_backoff_seconds=1, max_backoff_seconds=5)
    assert 0.75 <= policy.backoff(1) <= 1.25
    assert 1.5 <= policy.backoff(2) <= 2.5
    assert policy.backoff(10) == 5
    assert policy.backoff(1, retry_after=3) == 3
    assert policy.backoff(1, retry_after=60) == 5
