"""The pieces on their own: time zones, template JSON, the Graph client's retries, the token bucket,
and the outcome notice helper A's correction decisions call."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from services.registry.models import Recipient
from services.registry.outreach.engine import SendContext
from services.registry.outreach.graph_client import GraphTemplateClient, Refused, RetryPolicy, Sent
from services.registry.outreach.models import CORRECTION_OUTCOME, Notice
from services.registry.outreach.notices import (
    correction_outcome_key,
    correction_outcome_parameters,
    queue_outcome_notice,
)
from services.registry.outreach.quiet_hours import QuietHours, zone_of_nik
from services.registry.outreach.rate_limit import TokenBucket
from services.registry.outreach.templates import APPOINTMENT_REMINDER, TEMPLATES, payload, template_message
from tests.harness.whatsapp.fake_graph_api import (
    FakeGraphApi,
    approved_template_problems,
    message_problems,
    outreach_templates,
)
from tests.services.registry.outreach.support import (
    ACCESS_TOKEN,
    GRAPH_URL,
    PHONE_NUMBER_ID,
    load,
    make_worker,
    people,
    phone_of,
)
from tests.services.registry.support import START, TODAY, FakeClock


@pytest.mark.parametrize(
    ("nik", "zone"),
    [("3174051708859001", "WIB"), ("1271010101809001", "WIB"), ("5171010101809001", "WITA"),
     ("7371010101809001", "WITA"), ("6471010101809001", "WITA"), ("8171010101809001", "WIT"),
     ("9471010101809001", "WIT")],
)  # fmt: skip
def test_the_zone_comes_from_the_province_code(nik: str, zone: str) -> None:
    assert zone_of_nik(nik) == zone


def test_quiet_hours_cross_midnight_in_local_time() -> None:
    quiet = QuietHours(time(21, 0), time(7, 0))
    at = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # 21.00 WIB, 22.00 WITA, 23.00 WIT
    assert quiet.is_quiet("WIB", at) and quiet.awake_zones(datetime(2026, 11, 26, 13, 59, tzinfo=UTC)) == [
        "WIB"
    ]
    assert quiet.ends_at("WIT", at) == datetime(2026, 11, 26, 22, 0, tzinfo=UTC)  # 07.00 WIT next day
    assert not QuietHours(time(0, 0), time(0, 0)).is_quiet("WIT", at)


def test_every_template_message_is_one_meta_accepts() -> None:
    for template in TEMPLATES.values():
        message = template_message(
            "+6281000000001", template, ["a\nb     c"] * len(template.parameters), "Abc_-123XYZ0"
        )
        assert message_problems(message) == []
        assert approved_template_problems(message["template"], outreach_templates()) is None
        assert all(len(button.title) <= 20 for button in template.buttons)
    body = template_message(
        "+62 810-0000", APPOINTMENT_REMINDER, ["1 Desember 2026", "09.00", "Puskesmas"], "r"
    )
    assert body["to"] == "628100000"
    assert body["template"]["components"][0]["parameters"][0]["text"] == "1 Desember 2026"
    assert payload("Abc", "ubah") == '/notice_reply{"notice":"Abc","choice":"ubah"}'


def test_the_fake_refuses_what_meta_would() -> None:
    message = template_message("+6281000000001", APPOINTMENT_REMINDER, ["x", "y", "z"], "ref")
    message["template"]["components"][0]["parameters"][0]["text"] = "two\nlines"
    assert message_problems(message) == [
        "template parameter has a newline, a tab or more than 4 consecutive spaces"
    ]
    message["template"]["components"].pop()
    assert approved_template_problems(message["template"], outreach_templates()) is not None


def _client(sleeps: list[float], bucket: TokenBucket | None = None, retries: int = 3) -> GraphTemplateClient:
    return GraphTemplateClient(
        GRAPH_URL,
        ACCESS_TOKEN,
        PHONE_NUMBER_ID,
        timeout_seconds=5,
        bucket=bucket or TokenBucket(1000),
        policy=RetryPolicy(retries, 0.01, 0.05),
        sleep=sleeps.append,
    )


def test_the_client_honours_retry_after_and_then_sends(graph: FakeGraphApi) -> None:
    graph.storm(requests=2, code=130429, retry_after=0.3)
    sleeps: list[float] = []
    client = _client(sleeps)
    result = client.send(template_message("+6281000000001", APPOINTMENT_REMINDER, ["x", "y", "z"], "ref"))
    client.close()
    assert isinstance(result, Sent) and result.retries == 2 and result.message_id.startswith("wamid.")
    assert sleeps == [0.3, 0.3], "never sooner than Meta's Retry-After"


def test_backoff_grows_with_jitter_and_a_5xx_is_retried(graph: FakeGraphApi) -> None:
    policy = RetryPolicy(5, 0.5, 30)
    assert [policy.delay(n, None, jitter=lambda: 1.0) for n in range(7)] == [0.5, 1, 2, 4, 8, 16, 30]
    assert policy.delay(3, None, jitter=lambda: 0.0) == 2.0
    graph.fail_next(500, 503)
    sleeps: list[float] = []
    client = _client(sleeps)
    assert isinstance(
        client.send(template_message("+6281000000001", APPOINTMENT_REMINDER, ["x", "y", "z"], "r")), Sent
    )
    client.close()
    assert len(sleeps) == 2 and len(graph.sent()) == 1


def test_a_refusal_is_not_retried(graph: FakeGraphApi) -> None:
    message = template_message("+6281000000001", APPOINTMENT_REMINDER, ["x", "y", "z"], "r")
    message["template"]["name"] = "tidak_ada"
    sleeps: list[float] = []
    client = _client(sleeps)
    result = client.send(message)
    client.close()
    assert isinstance(result, Refused) and result.reason == "meta_132001" and sleeps == []


def test_the_token_bucket_keeps_to_its_rate_and_holds_everyone_after_a_429() -> None:
    now = [0.0]
    bucket = TokenBucket(
        10, burst=1, clock=lambda: now[0], sleep=lambda seconds: now.__setitem__(0, now[0] + seconds)
    )
    for _ in range(11):
        bucket.acquire()
    assert now[0] == pytest.approx(1.0)
    bucket.hold(5)
    bucket.acquire()
    assert now[0] == pytest.approx(6.1)


def test_a_correction_outcome_is_queued_once_and_sent_as_its_template(
    engine: Engine, session_factory: sessionmaker[Session], graph: FakeGraphApi, context: SendContext
) -> None:
    load(session_factory, people(1, today=TODAY))
    with session_factory() as session:
        recipient_id = session.scalar(select(Recipient.id))
        assert recipient_id is not None
        key = correction_outcome_key("K0REK5I")
        parameters = correction_outcome_parameters("K0REK5I", approved=False, reason="Nama\ntidak sesuai KTP")
        assert queue_outcome_notice(session, recipient_id, key, "hasil_koreksi_data", parameters)
        assert not queue_outcome_notice(session, recipient_id, key, "hasil_koreksi_data", parameters)
        session.commit()
        assert session.scalar(select(Notice.kind)) == CORRECTION_OUTCOME
    worker = make_worker(session_factory, context, FakeClock(START))
    worker.run(until_idle=True, poll_seconds=0.01)
    worker.close()
    sent = graph.sent(to=phone_of(9001)[1:])
    assert len(sent) == 1
    texts = [item["text"] for item in sent[0]["message"]["template"]["components"][0]["parameters"]]
    assert texts == ["K0REK5I", "ditolak", "Alasan: Nama tidak sesuai KTP."]
