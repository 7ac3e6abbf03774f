"""``python -m services.registry.outreach {worker,plan,dry-run,report,create}``.

Settings come from the environment: the registry's (``REGISTRY_DATABASE_URL``,
``REGISTRY_AUDIT_HASH_KEY``, ``REGISTRY_SENDER_HASH_KEY``, the Graph API) and outreach's own
(``REGISTRY_OUTREACH_*``, settings.py). Nothing printed names a person: counts only.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from types import FrameType

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.cli import migrated, run
from services.common.clock import utc_now
from services.registry.database import make_engine, make_session_factory
from services.registry.migrate import MIGRATIONS
from services.registry.outreach import engine
from services.registry.outreach.graph_client import GraphTemplateClient, RetryPolicy
from services.registry.outreach.models import Campaign, CampaignKind
from services.registry.outreach.queue import Job, JobQueue, open_queue
from services.registry.outreach.quiet_hours import QuietHours
from services.registry.outreach.rate_limit import TokenBucket
from services.registry.outreach.settings import OutreachSettings
from services.registry.outreach.worker import Worker
from services.registry.settings import DatabaseSettings, RegistrySettings, describe_settings_error

EXIT_USAGE = 2


class NotConfigured(Exception):
    """A setting outreach needs is missing; the message names it (never a value)."""


def main(argv: Sequence[str] | None = None) -> int:
    return run(_parser(), argv)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.registry.outreach", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    worker = commands.add_parser("worker", help="send queued notices until stopped")
    worker.add_argument("--until-idle", action="store_true", help="exit when nothing is left to send")
    worker.add_argument("--share", type=int, default=1, help="workers sharing the throughput tier")
    worker.set_defaults(run=_worker)

    create = commands.add_parser("create", help="create a campaign (a draft); prints its id")
    create.add_argument("kind", choices=[kind.value for kind in CampaignKind])
    create.add_argument("--days", type=int, default=None)
    create.add_argument("--name", default=None)
    create.add_argument("--by", default="cli")
    create.set_defaults(run=_create)

    for name, handler, text in (
        ("plan", _plan, "plan a campaign's notices, mark it running and queue them"),
        ("dry-run", _dry_run, "count what the campaign would send and skip; sends nothing"),
        ("report", _report, "the campaign's counts: sent, skipped and failed by reason, pending"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("campaign", type=int)
        command.set_defaults(run=handler)
    return parser


def send_context(registry: RegistrySettings, outreach: OutreachSettings) -> engine.SendContext:
    if registry.sender_hash_key is None or not registry.sender_hash_key.get_secret_value():
        raise NotConfigured("REGISTRY_SENDER_HASH_KEY (or WHATSAPP_SENDER_HASH_KEY) is not set")
    return engine.SendContext(
        registry.audit_hash_key.get_secret_value(),
        registry.sender_hash_key.get_secret_value(),
        QuietHours(outreach.quiet_start, outreach.quiet_end),
        outreach.lease_seconds,
    )


def graph_client(
    registry: RegistrySettings, outreach: OutreachSettings, share: int = 1
) -> GraphTemplateClient:
    if not registry.whatsapp_ready() or registry.access_token is None:
        raise NotConfigured("REGISTRY_ACCESS_TOKEN and REGISTRY_PHONE_NUMBER_ID (or WHATSAPP_*) are not set")
    return GraphTemplateClient(
        registry.graph_api_url,
        registry.access_token.get_secret_value(),
        registry.phone_number_id,
        timeout_seconds=registry.graph_timeout_seconds,
        bucket=TokenBucket(outreach.messages_per_second / max(1, share)),
        policy=RetryPolicy(outreach.retries, outreach.backoff_seconds, outreach.backoff_max_seconds),
        pool_size=outreach.concurrency,
    )


def enqueue(jobs: JobQueue, campaign_id: int, ids: list[int], batch_size: int) -> int:
    for start in range(0, len(ids), batch_size):
        jobs.put(Job(campaign_id, tuple(ids[start : start + batch_size])))
    return -(-len(ids) // batch_size)


def _settings() -> tuple[RegistrySettings, OutreachSettings]:
    registry = RegistrySettings()  # type: ignore[call-arg]  # the secrets come from the environment
    try:
        outreach = OutreachSettings()
    except (
        ValidationError
    ) as error:  # named with its own prefix, values left out (they may be URLs with passwords)
        problems = [
            f"REGISTRY_OUTREACH_{'.'.join(map(str, item['loc'])).upper()}: {item['msg']}"
            for item in error.errors()
        ]
        raise NotConfigured("; ".join(problems)) from None
    return registry, outreach


def _worker(args: argparse.Namespace) -> int:
    try:
        registry, outreach = _settings()
        context = send_context(registry, outreach)
        client = graph_client(registry, outreach, args.share)
    except ValidationError as error:
        print(f"The outreach worker will not start:\n{describe_settings_error(error)}", file=sys.stderr)
        return EXIT_USAGE
    except NotConfigured as error:
        print(f"The outreach worker will not start: {error}", file=sys.stderr)
        return EXIT_USAGE
    # httpx logs every request at INFO: a line per message at the tier's pace says nothing useful.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with migrated(make_engine, registry.database_url, MIGRATIONS) as database:
        jobs = open_queue(outreach)
        worker = Worker(make_session_factory(database), context, client, jobs, outreach)

        def stop(_signal: int, _frame: FrameType | None) -> None:
            worker.stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        print(f"Outreach worker {worker.worker_id} started ({outreach.queue} queue).", flush=True)
        try:
            stats = worker.run(until_idle=args.until_idle)
        finally:
            worker.close()
            client.close()
            jobs.close()
    print(json.dumps({"outcomes": dict(stats.outcomes), "retries": stats.retries}), flush=True)
    return 0


def _create(args: argparse.Namespace) -> int:
    kind = CampaignKind(args.kind)
    with _session(DatabaseSettings().database_url) as session:
        campaign = engine.create_campaign(
            session,
            name=args.name or kind.value,
            kind=kind,
            days=args.days,
            created_by=args.by,
            now=utc_now(),
        )
        session.commit()
        print(campaign.id)
    return 0


@contextmanager
def _session(url: str) -> Iterator[Session]:
    """A session on the migrated registry database."""
    with migrated(make_engine, url, MIGRATIONS) as database, make_session_factory(database)() as session:
        yield session


def _campaign(session: Session, campaign_id: int) -> Campaign | None:
    return session.scalar(select(Campaign).where(Campaign.id == campaign_id))


def _plan(args: argparse.Namespace) -> int:
    registry = DatabaseSettings()
    outreach = OutreachSettings()
    with migrated(make_engine, registry.database_url, MIGRATIONS) as database:
        with make_session_factory(database)() as session:
            campaign = _campaign(session, args.campaign)
            if campaign is None:
                print(f"No campaign {args.campaign}.", file=sys.stderr)
                return EXIT_USAGE
            due = engine.plan(session, campaign, registry.today(), utc_now())
            session.commit()
            ids = engine.queued_ids(session, campaign.id)
        jobs = open_queue(outreach)
        try:
            batches = (
                enqueue(jobs, args.campaign, ids, outreach.batch_size) if outreach.queue != "memory" else 0
            )
        finally:
            jobs.close()
    print(f"Campaign {args.campaign}: {due} due, {len(ids)} queued in {batches} jobs.")
    return 0


def _dry_run(args: argparse.Namespace) -> int:
    try:
        registry, outreach = _settings()
        context = send_context(registry, outreach)
    except (ValidationError, NotConfigured) as error:
        print(f"The dry run needs the registry's keys: {type(error).__name__}", file=sys.stderr)
        return EXIT_USAGE
    with _session(registry.database_url) as session:
        campaign = _campaign(session, args.campaign)
        if campaign is None:
            print(f"No campaign {args.campaign}.", file=sys.stderr)
            return EXIT_USAGE
        counts = engine.dry_run(session, campaign, context, registry.today(), utc_now())
    print(json.dumps(asdict(counts), indent=2))
    return 0


def _report(args: argparse.Namespace) -> int:
    outreach = OutreachSettings()
    with _session(DatabaseSettings().database_url) as session:
        campaign = _campaign(session, args.campaign)
        if campaign is None:
            print(f"No campaign {args.campaign}.", file=sys.stderr)
            return EXIT_USAGE
        counts = engine.report(
            session, campaign, QuietHours(outreach.quiet_start, outreach.quiet_end), utc_now()
        )
    print(json.dumps({"campaign": campaign.id, "status": campaign.status, **asdict(counts)}, indent=2))
    return 0
