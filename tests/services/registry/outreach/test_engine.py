"""Campaigns end to end on SQLite and PostgreSQL: planning, claiming, sending to the fake Graph API.

Every test reads what the fake Graph API accepted (what phones would get), not only the database.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from core.sender_identity import conversation_id
from services.registry.hashing import conversation_hash
from services.registry.models import OptOut
from services.registry.outreach import engine as outreach
from services.registry.outreach.models import Campaign, CampaignKind, CampaignStatus, Notice
from services.registry.outreach.templates import payload
from services.registry.outreach.worker import Worker
from tests.harness.whatsapp.fake_graph_api import FakeGraphApi
from tests.services.registry.outreach.support import (
    JAKARTA,
    JAYAPURA,
    MAKASSAR,
    SENDER_HASH_KEY,
    fast_settings,
    load,
    make_worker,
    people,
    phone_of,
)
from tests.services.registry.support import AUDIT_HASH_KEY, START, TODAY, FakeClock


def _start(session_factory: sessionmaker[Session], days: int = 3, now: datetime = START) -> int:
    with session_factory() as session:
        campaign = outreach.create_campaign(
            session, name="uji", kind=CampaignKind.APPOINTMENT_REMINDER, days=days, created_by="sari", now=now
        )
        outreach.plan(session, campaign, TODAY, now)
        session.commit()
        return campaign.id


def _per_number(graph: FakeGraphApi) -> Counter[str]:
    return Counter(record["message"]["to"] for record in graph.sent())


def _report(
    session_factory: sessionmaker[Session], campaign_id: int, context: outreach.SendContext, now: datetime
) -> outreach.Counts:
    with session_factory() as session:
        campaign = session.get_one(Campaign, campaign_id)
        return outreach.report(session, campaign, context.quiet_hours, now)


def test_a_campaign_sends_each_due_recipient_one_template_with_its_buttons(
    engine: Engine, session_factory: sessionmaker[Session], graph: FakeGraphApi, context: outreach.SendContext
) -> None:
    load(session_factory, people(5, today=TODAY) + people(2, today=TODAY, days_ahead=10, first_serial=9100))
    campaign_id = _start(session_factory)
    clock = FakeClock(START)
    worker = make_worker(session_factory, context, clock)
    worker.run(until_idle=True, poll_seconds=0.01)
    worker.close()

    sent = graph.sent()
    assert sorted(record["message"]["to"] for record in sent) == [phone_of(9001 + n)[1:] for n in range(5)]
    template = sent[0]["message"]["template"]
    assert template["name"] == "pengingat_jadwal" and template["language"] == {"code": "id"}
    body = template["components"][0]["parameters"]
    day = TODAY + timedelta(days=3)
    assert [parameter["text"] for parameter in body] == [f"{day.day} November 2026", "09.00", "Puskesmas Uji"]
    buttons = template["components"][1:]
    with session_factory() as session:
        reference = session.scalar(select(Notice.reference).where(Notice.recipient_id.is_not(None)).limit(1))
        references = set(session.scalars(select(Notice.reference)))
    payloads = [button["parameters"][0]["payload"] for button in buttons]
    sent_reference = payloads[0].split('"notice":"')[1].split('"')[0]
    assert sent_reference in references and reference is not None
    assert payloads == [payload(sent_reference, choice) for choice in ("jadwal", "ubah", "berhenti")]
    report = _report(session_factory, campaign_id, context, START)
    assert (report.due, report.sent, report.pending, report.skipped, report.failed) == (5, 5, 0, {}, {})
    with session_factory() as session:
        assert session.get_one(Campaign, campaign_id).status == CampaignStatus.DONE.value


def test_planning_twice_and_a_second_campaign_never_make_a_second_notice(
    engine: Engine, session_factory: sessionmaker[Session], graph: FakeGraphApi, context: outreach.SendContext
) -> None:
    load(session_factory, people(4, today=TODAY))
    first = _start(session_factory)
    with session_factory() as session:
        campaign = session.get_one(Campaign, first)
        outreach.plan(session, campaign, TODAY, START)  # a rerun after a crash
        session.commit()
    second = _start(session_factory)  # the same reminder again
    worker = make_worker(session_factory, context, FakeClock(START))
    worker.run(until_idle=True, poll_seconds=0.01)
    worker.close()

    assert set(_per_number(graph).values()) == {1} and len(_per_number(graph)) == 4
    report = _report(session_factory, second, context, START)
    assert (report.due, report.sent, report.skipped) == (4, 0, {"already_notified": 4})
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == 4


def test_two_workers_racing_send_every_notice_exactly_once(
    engine: Engine, session_factory: sessionmaker[Session], graph: FakeGraphApi, context: outreach.SendContext
) -> None:
    load(session_factory, people(120, today=TODAY))
    _start(session_factory)
    clock = FakeClock(START)
    workers = [make_worker(session_factory, context, clock, worker_id=f"w{n}") for n in range(2)]
    together = threading.Barrier(len(workers))  # on a loaded machine one thread could otherwise do it all

    def run(worker: Worker) -> None:
        together.wait(timeout=60)
        worker.run(until_idle=True, poll_seconds=0.01)

    threads = [threading.Thread(target=run, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for worker in workers:
        worker.close()

    counts = _per_number(graph)
    assert len(counts) == 120 and set(counts.values()) == {1}
    # Which worker sent how many is the scheduler's business (on a loaded machine one may do nearly
    # all); together they sent each notice once.
    assert sum(worker.stats.outcomes["sent"] for worker in workers) == 120


def test_a_notice_claimed_by_a_worker_that_died_is_sent_once_its_lease_ends(
    engine: Engine, session_factory: sessionmaker[Session], graph: FakeGraphApi, context: outreach.SendContext
) -> None:
    load(session_factory, people(3, today=TODAY))
    _start(session_factory)
    clock = FakeClock(START)
    with session_factory() as session:  # a worker claims everything, then dies before sending
        claimed = outreach.claim(session, context, "dead-worker", clock(), limit=10)
    assert len(claimed) == 3

    survivor = make_worker(session_factory, context, clock)
    assert survivor.process(None) == 0, "a live lease is never taken over"
    assert graph.sent() == []
    clock.advance(seconds=context.lease_seconds + 1)
    survivor.run(until_idle=True, poll_seconds=0.01)
    survivor.close()

    assert sorted(_per_number(graph).values()) == [1, 1, 1]
    with session_factory() as session:
        assert set(session.scalars(select(Notice.attempts))) == {2}


def test_an_opt_out_after_planning_is_honoured_at_send(
    engine: Engine, session_factory: sessionmaker[Session], graph: FakeGraphApi, context: outreach.SendContext
) -> None:
    load(session_factory, people(3, today=TODAY))
    campaign_id = _start(session_factory)
    opted = phone_of(9002)
    with session_factory() as session:
        hashed = conversation_hash(AUDIT_HASH_KEY, conversation_id(opted, SENDER_HASH_KEY))
        session.add(OptOut(conversation_hash=hashed, opted_out_at=START, opted_in_at=None, source="button"))
        session.commit()
    worker = make_worker(session_factory, context, FakeClock(START))
    worker.run(until_idle=True, poll_seconds=0.01)
    worker.close()

    assert opted[1:] not in _per_number(graph) and len(_per_number(graph)) == 2
    report = _report(session_factory, campaign_id, context, START)
    assert (report.sent, report.skipped) == (2, {"opted_out": 1})


def test_quiet_hours_defer_each_zone_until_its_own_morning(
    engine: Engine, session_factory: sessionmaker[Session], graph: FakeGraphApi, context: outreach.SendContext
) -> None:
    load(
        session_factory,
        people(2, region=JAKARTA, today=TODAY)
        + people(2, region=MAKASSAR, today=TODAY, first_serial=9200)
        + people(2, region=JAYAPURA, today=TODAY, first_serial=9300),
    )
    evening = datetime(2026, 11, 26, 13, 30, tzinfo=UTC)  # 20.30 WIB, 21.30 WITA, 22.30 WIT
    campaign_id = _start(session_factory, now=evening)
    clock = FakeClock(evening)
    worker = make_worker(session_factory, context, clock)
    worker.process(None)
    assert sorted(_per_number(graph)) == [phone_of(9001)[1:], phone_of(9002)[1:]]
    report = _report(session_factory, campaign_id, context, clock())
    assert (report.sent, report.pending, report.deferred, report.skipped) == (2, 4, 4, {})

    clock.now = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)  # 05.30 WIB, 06.30 WITA, 07.30 WIT
    worker.process(None)
    assert len(_per_number(graph)) == 4 and phone_of(9300)[1:] in _per_number(graph)
    clock.now = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)  # 07.30 WITA
    worker.run(until_idle=True, poll_seconds=0.01)
    worker.close()
    assert len(_per_number(graph)) == 6 and set(_per_number(graph).values()) == {1}


def test_a_429_storm_is_retried_with_backoff_and_the_message_goes_out_once(
    engine: Engine, session_factory: sessionmaker[Session], graph: FakeGraphApi, context: outreach.SendContext
) -> None:
    load(session_factory, people(2, today=TODAY))
    campaign_id = _start(session_factory)
    graph.storm(requests=3, code=130429)
    worker = make_worker(session_factory, context, FakeClock(START))
    worker.run(until_idle=True, poll_seconds=0.01)
    worker.close()

    assert sorted(_per_number(graph).values()) == [1, 1]
    assert graph.counts()["statuses"] == {"429": 3, "200": 2}
    assert worker.stats.retries == 3
    assert _report(session_factory, campaign_id, context, START).sent == 2


def test_a_storm_longer_than_the_retries_puts_the_notice_back_for_later(
    engine: Engine, session_factory: sessionmaker[Session], graph: FakeGraphApi, context: outreach.SendContext
) -> None:
    load(session_factory, people(1, today=TODAY))
    campaign_id = _start(session_factory)
    graph.storm(requests=5, code=131056)  # pair rate limit: 1 try + 4 retries all refused
    clock = FakeClock(START)
    worker = make_worker(session_factory, context, clock, settings=fast_settings(concurrency=1))
    worker.process(None)
    assert graph.sent() == []
    report = _report(session_factory, campaign_id, context, clock())
    assert (report.pending, report.failed) == (1, {})
    clock.advance(seconds=1)
    worker.run(until_idle=True, poll_seconds=0.01)
    worker.close()
    assert len(graph.sent()) == 1


def test_a_refused_template_fails_with_metas_code_and_is_not_retried(
    engine: Engine, session_factory: sessionmaker[Session], graph: FakeGraphApi, context: outreach.SendContext
) -> None:
    load(session_factory, people(2, today=TODAY))
    campaign_id = _start(session_factory)
    approved = graph.templates
    graph.templates = {}  # nothing approved: Meta answers 132001
    try:
        worker = make_worker(session_factory, context, FakeClock(START))
        worker.run(until_idle=True, poll_seconds=0.01)
        worker.close()
    finally:
        graph.templates = approved
    assert graph.sent() == [] and len(graph.attempts()) == 2
    report = _report(session_factory, campaign_id, context, START)
    assert (report.sent, report.failed) == (0, {"meta_132001": 2})


def test_a_dry_run_counts_and_neither_writes_nor_sends(
    engine: Engine, session_factory: sessionmaker[Session], graph: FakeGraphApi, context: outreach.SendContext
) -> None:
    load(session_factory, people(3, today=TODAY) + people(1, region=JAYAPURA, today=TODAY, first_serial=9300))
    with session_factory() as session:
        hashed = conversation_hash(AUDIT_HASH_KEY, conversation_id(phone_of(9001), SENDER_HASH_KEY))
        session.add(OptOut(conversation_hash=hashed, opted_out_at=START, opted_in_at=None, source="chat"))
        campaign = outreach.create_campaign(
            session, name="uji", kind=CampaignKind.APPOINTMENT_REMINDER, days=3, created_by="sari", now=START
        )
        session.commit()
        evening = datetime(2026, 11, 26, 13, 30, tzinfo=UTC)
        counts = outreach.dry_run(session, campaign, context, TODAY, evening)
        assert session.scalar(select(func.count()).select_from(Notice)) == 0
        assert campaign.status == CampaignStatus.DRAFT.value
    assert (counts.due, counts.pending, counts.deferred, counts.skipped) == (4, 3, 1, {"opted_out": 1})
    assert graph.attempts() == []


def test_a_paused_campaign_sends_nothing_until_resumed(
    engine: Engine, session_factory: sessionmaker[Session], graph: FakeGraphApi, context: outreach.SendContext
) -> None:
    load(session_factory, people(2, today=TODAY))
    campaign_id = _start(session_factory)
    with session_factory() as session:
        assert outreach.set_status(
            session, session.get_one(Campaign, campaign_id), CampaignStatus.PAUSED, START
        )
        session.commit()
    worker = make_worker(session_factory, context, FakeClock(START))
    assert worker.process(None) == 0 and graph.sent() == []
    with session_factory() as session:
        assert outreach.set_status(
            session, session.get_one(Campaign, campaign_id), CampaignStatus.RUNNING, START
        )
        session.commit()
    worker.run(until_idle=True, poll_seconds=0.01)
    worker.close()
    assert len(graph.sent()) == 2
