"""A campaign over 100,000 made-up recipients, with a 429 storm and a worker killed halfway.

    PYTHONPATH=. .venvs/actions/bin/python -m tests.load.outreach_bench [--recipients 100000]
        [--database postgresql+psycopg://postgres@127.0.0.1:5432/test] [--rate 1000] [--workers 2]

What it does, all on loopback:
1. a registry database (a temporary SQLite file, or a new database on the PostgreSQL server
   ``--database`` names, dropped afterwards) with ``--recipients`` people, each with an appointment
   in 3 days: 70 % in WIB provinces, 20 % WITA, 10 % WIT; 2 % of them opted out;
2. the fake Graph API (tests/harness/whatsapp/fake_graph_api.py) in its own process, with the
   outreach templates approved and counts kept per number;
3. a reminder campaign planned (timed), then ``--workers`` worker processes
   (``python -m services.registry.outreach worker``) sharing a ``--rate`` msg/s tier; quiet hours set
   so that it is night in WIT now (those notices wait);
4. a 429 storm (Meta's 130429) of ``--storm-seconds`` once 10 % are sent; one worker SIGKILLed at
   50 %, and a new one started (the dead worker's claims come back when their lease ends, 5 s here);
5. "the next morning": one worker with the quiet hours over, for the WIT notices.
Then it checks every due recipient got exactly one notice (the notices in flight when the worker
was killed: at most two, see services/registry/outreach/engine.py) and the opted-out none, and
prints the throughput, the campaign report and the retries.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine, func, insert, select

from core.nik import Sex, build_nik
from core.sender_identity import conversation_id
from services.registry.database import make_engine, make_session_factory
from services.registry.hashing import conversation_hash
from services.registry.migrate import upgrade_to_head
from services.registry.models import Appointment, OptOut, Recipient
from services.registry.outreach import engine as outreach
from services.registry.outreach.models import Campaign, CampaignKind, Notice, NoticeStatus
from services.registry.outreach.quiet_hours import QuietHours, zone_of_nik

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
AUDIT_KEY = "bench-audit-hash-key-0123456789"
SENDER_KEY = "bench-sender-hash-key-0123456789"
ACCESS_TOKEN = "bench-graph-access-token"
PHONE_NUMBER_ID = "100000000000001"
REGIONS = (("317405", 0.7), ("737101", 0.2), ("947101", 0.1))  # Jakarta WIB, Makassar WITA, Papua Tengah WIT
OPTED_OUT_SHARE = 0.02
LEASE_SECONDS = 5
CONCURRENCY = 8  # sends in flight per worker: at most this many can go out twice when one is killed


def _populate(database: Engine, count: int, today: date, rng: random.Random) -> set[str]:
    """``count`` recipients with an appointment in 3 days; returns the opted-out numbers (digits)."""
    recipients, appointments, opt_outs, opted = [], [], [], set()
    slot = datetime.combine(today + timedelta(days=3), clock_time(9, 0))
    for index in range(count):
        region = rng.choices([code for code, _ in REGIONS], [share for _, share in REGIONS])[0]
        birth = date(1950, 1, 1) + timedelta(days=index % 18000)
        phone = f"+62810{index:08d}"
        recipients.append(
            {
                "id": index + 1,
                "nik": build_nik(region, birth, Sex.MALE, 9001 + index // 18000),
                "full_name": "Penerima Uji",
                "birth_date": birth,
                "sex": "L",
                "phone": phone,
                "district": "Kecamatan Uji",
            }
        )
        appointments.append(
            {
                "recipient_id": index + 1,
                "dose_number": 2,
                "scheduled_at": slot,
                "facility_name": "Puskesmas Uji",
                "facility_address": "Jl. Uji No. 1",
                "status": "scheduled",
            }
        )
        if rng.random() < OPTED_OUT_SHARE:
            opted.add(phone[1:])
            hashed = conversation_hash(AUDIT_KEY, conversation_id(phone, SENDER_KEY))
            opt_outs.append(
                {"conversation_hash": hashed, "opted_out_at": datetime.now(UTC), "source": "bench"}
            )
    with database.begin() as connection:
        for start in range(0, count, 5000):
            connection.execute(insert(Recipient), recipients[start : start + 5000])
            connection.execute(insert(Appointment), appointments[start : start + 5000])
        if opt_outs:
            connection.execute(insert(OptOut), opt_outs)
    return opted


def _night_in_wit(now: datetime) -> tuple[clock_time, clock_time]:
    """Quiet hours (local time) that hold WIT now and neither WITA nor WIB."""
    local = now.astimezone(ZoneInfo("Asia/Jayapura"))
    start = (local - timedelta(minutes=30)).time().replace(second=0, microsecond=0)
    end = (local + timedelta(hours=2)).time().replace(second=0, microsecond=0)
    return start, end


def _environment(
    url: str, fake_url: str, rate: float, quiet: tuple[clock_time, clock_time]
) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "REGISTRY_DATABASE_URL": url,
        "REGISTRY_SERVICE_TOKEN": "bench-service-token-0123456789",
        "REGISTRY_AUDIT_HASH_KEY": AUDIT_KEY,
        "REGISTRY_SENDER_HASH_KEY": SENDER_KEY,
        "REGISTRY_ACCESS_TOKEN": ACCESS_TOKEN,
        "REGISTRY_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "REGISTRY_GRAPH_API_URL": f"{fake_url}/v21.0",
        "REGISTRY_OUTREACH_MESSAGES_PER_SECOND": str(rate),
        "REGISTRY_OUTREACH_QUIET_START": quiet[0].strftime("%H:%M"),
        "REGISTRY_OUTREACH_QUIET_END": quiet[1].strftime("%H:%M"),
        "REGISTRY_OUTREACH_LEASE_SECONDS": str(LEASE_SECONDS),
        "REGISTRY_OUTREACH_CONCURRENCY": str(CONCURRENCY),
        "REGISTRY_OUTREACH_BACKOFF_SECONDS": "0.2",
        "REGISTRY_OUTREACH_BACKOFF_MAX_SECONDS": "2",
    }


def _worker(environment: dict[str, str], share: int, log: Path) -> subprocess.Popen[bytes]:
    command = [PYTHON, "-m", "services.registry.outreach", "worker", "--until-idle", "--share", str(share)]
    return subprocess.Popen(
        command, env=environment, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def _counts(database: Engine) -> dict[str, int]:
    with database.connect() as connection:
        rows = connection.execute(select(Notice.status, func.count()).group_by(Notice.status)).all()
    return {status: number for status, number in rows}


def _show_failures(workers: list[subprocess.Popen[bytes]], logs: Path) -> None:
    """A worker that exited with an error (not the one killed): print the processes' log tail."""
    if any(worker.returncode not in (0, -signal.SIGKILL) for worker in workers):
        print("a worker failed; the processes' log ends:\n" + "\n".join(logs.read_text().splitlines()[-30:]))


@contextmanager
def _database(url: str | None, directory: Path) -> Iterator[str]:
    if url is None:
        yield f"sqlite:///{directory / 'registry.db'}"
        return
    from tests.services.common.postgres import temporary_database

    with temporary_database(url, "outreach_bench") as fresh:
        yield fresh


@contextmanager
def _fake_graph(port: int, log: Path) -> Iterator[str]:
    command = [
        PYTHON, "-m", "tests.harness.whatsapp.fake_graph_api", "--port", str(port),
        "--access-token", ACCESS_TOKEN, "--outreach-templates", "--counts-only",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/_fake/counts", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the fake Graph API did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def run(arguments: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(20210113)
    with (
        tempfile.TemporaryDirectory(prefix="outreach-bench-") as temporary,
        _database(arguments.database, Path(temporary)) as url,
    ):
        directory = Path(temporary)
        logs = directory / "processes.log"
        database = make_engine(url)
        upgrade_to_head(database)
        today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
        started = time.monotonic()
        opted = _populate(database, arguments.recipients, today, rng)
        print(
            f"registry: {arguments.recipients} recipients in {time.monotonic() - started:.1f} s",
            f"({len(opted)} opted out)",
        )

        now = datetime.now(UTC)
        quiet = _night_in_wit(now)
        sessions = make_session_factory(database)
        with sessions() as session:
            campaign = outreach.create_campaign(
                session,
                name="bench",
                kind=CampaignKind.APPOINTMENT_REMINDER,
                days=3,
                created_by="bench",
                now=now,
            )
            started = time.monotonic()
            outreach.plan(session, campaign, today, now)
            session.commit()
            campaign_id = campaign.id
        planned = time.monotonic() - started
        with sessions() as session:
            niks = dict(session.execute(select(Recipient.phone, Recipient.nik)).all())
        wit = {phone[1:] for phone, nik in niks.items() if zone_of_nik(nik) == "WIT"}
        awake_due = arguments.recipients - len(wit | opted)
        print(
            f"planned {arguments.recipients} notices in {planned:.1f} s;",
            f"{len(wit)} in WIT wait for the morning",
        )

        with _fake_graph(arguments.port, logs) as fake:
            environment = _environment(url, fake, arguments.rate, quiet)
            workers = [_worker(environment, arguments.workers, logs) for _ in range(arguments.workers)]
            send_started = time.monotonic()
            stormed = killed = False
            in_flight_at_kill = 0
            while any(worker.poll() is None for worker in workers):
                time.sleep(0.25)
                sent = _counts(database).get(NoticeStatus.SENT.value, 0)
                if not stormed and sent >= awake_due * 0.1:
                    httpx.post(
                        f"{fake}/_fake/storm",
                        json={"seconds": arguments.storm_seconds, "code": 130429},
                        timeout=5,
                    )
                    stormed = True
                    print(f"429 storm for {arguments.storm_seconds} s at {sent} sent")
                if stormed and not killed and sent >= awake_due * 0.5:
                    victim = workers[0]
                    victim.send_signal(signal.SIGKILL)
                    victim.wait()
                    with database.connect() as connection:
                        in_flight_at_kill = (
                            connection.scalar(
                                select(func.count())
                                .select_from(Notice)
                                .where(Notice.status == NoticeStatus.SENDING.value)
                            )
                            or 0
                        )
                    killed = True
                    print(
                        f"worker SIGKILLed at {sent} sent ({in_flight_at_kill} in flight);",
                        "a new one starts",
                    )
                    workers.append(_worker(environment, arguments.workers, logs))
            night_seconds = time.monotonic() - send_started
            _show_failures(workers, logs)
            night_sent = _counts(database).get(NoticeStatus.SENT.value, 0)

            morning = {
                **environment,
                "REGISTRY_OUTREACH_QUIET_START": "00:00",
                "REGISTRY_OUTREACH_QUIET_END": "00:00",
            }
            morning_started = time.monotonic()
            last = _worker(morning, 1, logs)
            last.wait()
            _show_failures([last], logs)
            morning_seconds = time.monotonic() - morning_started
            received = httpx.get(f"{fake}/_fake/counts", timeout=30).json()

        per_number: dict[str, int] = received["per_number"]
        with sessions() as session:
            campaign_row = session.get_one(Campaign, campaign_id)
            report = outreach.report(
                session, campaign_row, QuietHours(clock_time(0), clock_time(0)), datetime.now(UTC)
            )
        due = {phone[1:] for phone in niks} - opted
        missing = sorted(due - set(per_number))
        repeated = {number: count for number, count in per_number.items() if count > 1}
        wrongly = sorted(opted & set(per_number))
        result = {
            "recipients": arguments.recipients,
            "opted_out": len(opted),
            "planned_seconds": round(planned, 1),
            "night": {
                "sent": night_sent,
                "seconds": round(night_seconds, 1),
                "msg_per_s": round(night_sent / night_seconds, 1),
            },
            "morning": {"sent": report.sent - night_sent, "seconds": round(morning_seconds, 1)},
            "graph_api_answers": received["statuses"],
            "retries_429": int(received["statuses"].get("429", 0)),
            "in_flight_at_kill": in_flight_at_kill,
            "report": {
                "due": report.due,
                "sent": report.sent,
                "pending": report.pending,
                "skipped": report.skipped,
                "failed": report.failed,
            },
            "missing": len(missing),
            "sent_twice": len(repeated),
            "opted_out_messaged": len(wrongly),
        }
        print(json.dumps(result, indent=2))
        assert not missing, f"{len(missing)} due recipients got no notice"
        assert not wrongly, f"{len(wrongly)} opted-out recipients got a notice"
        assert all(count == 2 for count in repeated.values()), "a notice went out three times or more"
        assert len(repeated) <= min(in_flight_at_kill, CONCURRENCY), (
            "more repeats than sends in flight at the kill"
        )
        assert report.sent == len(due) and report.failed == {}
        database.dispose()
        return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument(
        "--database", default=None, help="a PostgreSQL server URL (a database of its own is made there)"
    )
    parser.add_argument(
        "--rate", type=float, default=1000.0, help="the throughput tier, msg/s, shared by the workers"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--storm-seconds", type=float, default=3.0)
    parser.add_argument("--port", type=int, default=18089)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
