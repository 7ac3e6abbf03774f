"""``make load``: throughput and latency at rising concurrency, per configuration, against Rasa's default.

    python -m tests.load.scale [--out reports/load] [--concurrency 1,4,16,64] [--messages-per-level N]
                               [--configs baseline,one,two] [--skip-baseline]

Configurations, one after another (never two stacks at once):

- ``baseline``: Rasa's default pipeline, the ``rasa init`` moodbot (``tests/load/baseline.py``), driven
  with its own small talk; trained once per Rasa version and cached;
- ``sqlite``: the assistant as ``make run`` starts it by default (SQLite tracker store, one process each);
- ``one``: the production profile with one instance: the PostgreSQL tracker store (a fresh database,
  dropped afterwards) and the Redis lock store and WhatsApp seen-message store;
- ``two``: the same with two Rasa and two action-server processes behind nginx.

Each assistant configuration gets the mixed workload of ``tests/load/workload.py`` (FAQ, fallback and
menu, schedule lookups against the demo registry over REST, WhatsApp deliveries through a local fake
Graph API), at each concurrency (conversations in flight), after a short warm-up. Then every
conversation's events are read back from the tracker store and checked (``tests/load/event_order.py``).

Per configuration and level: messages, errors (timeouts, HTTP errors, no reply, the failure notice),
replies not as expected (e.g. a lookup without the record), p50/p95/p99 latency, messages per second,
and the ratio to the baseline at the same concurrency. At the end, the "Done when" of issue #14.

Bounded and loopback only: every level stops at ``--messages-per-level`` messages or
``--level-seconds`` (what is still in flight then counts as an error), every request has a timeout, and
every address is 127.0.0.1. Figures, not assertions: they depend on the machine and what else runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from tests.harness.assistant_process import ROOT, AssistantProcess, start_assistant
from tests.harness.whatsapp import payloads
from tests.harness.whatsapp.fake_graph_api import FakeGraphApiThread
from tests.load import event_order
from tests.load.baseline import ensure_moodbot, moodbot_conversations, start_moodbot
from tests.load.workload import (
    LOOPBACK,
    Conversation,
    Played,
    ReplyClock,
    RestPlayer,
    WatchedGraphApi,
    WhatsAppPlayer,
    Workload,
    require_loopback,
)

BASELINE = "baseline"
ASSISTANT_CONFIGS = ("sqlite", "one", "two")
DEFAULT_CONFIGS = (BASELINE, "one", "two")
DEFAULT_CONCURRENCY = (1, 4, 16, 64)
DEFAULT_MESSAGES = 400
DEFAULT_LEVEL_SECONDS = 300.0
DEFAULT_REQUEST_SECONDS = 60.0
DEFAULT_WARMUP = 24
WARMUP_CONCURRENCY = 4
# The ports of this command (own range, so it never meets a developer's `make run` or the integration
# stacks); instances behind nginx listen on the public port + 100 + k - 1 (supervisor/settings.py).
PORTS = {
    "rasa": 16105,
    "action": 16155,
    "registry": 16106,
    "supervisor": 16108,
    "baseline": 16115,
    "fake": 16189,
}
POSTGRES_ADMIN_URL = f"postgresql://postgres@{LOOPBACK}:5432/test"
REDIS_DB = 5
# The WhatsApp settings of the stacks the load test starts: throw-away secrets, the fake Graph API.
WHATSAPP_SECRETS = {
    "WHATSAPP_VERIFY_TOKEN": "load-verify-token",
    "WHATSAPP_APP_SECRET": "load-app-secret",
    "WHATSAPP_ACCESS_TOKEN": "load-access-token",
    "WHATSAPP_SENDER_HASH_KEY": "load-sender-hash-key",
    "WHATSAPP_PHONE_NUMBER_ID": payloads.DEFAULT_PHONE_NUMBER_ID,
}
# Issue #14, "Done when".
TARGET_RATIO = 1.2
TARGET_P95_MS = 500.0
TARGET_CONCURRENCY = 16
SUSTAIN_FROM, SUSTAIN_TO = 4, 64


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest rank: the smallest value with at least ``fraction`` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


# --- one level ------------------------------------------------------------------------------------


@dataclass
class LevelRun:
    """A level as it went. Its figures come from the **full window**: from the start until the first
    worker ran out of conversations, while exactly ``concurrency`` conversations were in flight; after
    it the level drains with fewer, and faster answers would flatter the percentiles."""

    played: list[Played]
    started: float  # time.perf_counter()
    full_until: float  # end of the full window
    ended: float  # the last reply, or the time limit
    timed_out: bool


Play = Callable[[Conversation, Played], Awaitable[None]]


async def run_level(
    play: Play,
    sender_of: Callable[[Conversation], str],
    conversations: Iterator[Conversation],
    concurrency: int,
    messages: int,
    seconds: float,
) -> LevelRun:
    """``concurrency`` conversations in flight until ``messages`` have been started or ``seconds`` pass."""
    played: list[Played] = []
    budget = messages
    first_done: list[float] = []

    async def worker() -> None:
        nonlocal budget
        while budget > 0:
            conversation = next(conversations)
            budget -= len(conversation.turns)
            record = Played(conversation, sender_of(conversation))
            played.append(record)
            await play(conversation, record)
        first_done.append(time.perf_counter())

    started = time.perf_counter()
    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
    done, pending = await asyncio.wait(tasks, timeout=seconds)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        task.result()  # a bug in the load test itself stops it
    if pending:
        limit = started + seconds
        return LevelRun(played, started, min(first_done, default=limit), limit, True)
    finished = [o.finished for p in played for o in p.outcomes if o.answered]
    return LevelRun(played, started, min(first_done), max(finished, default=started), False)


def level_summary(config: str, concurrency: int, run: LevelRun) -> dict[str, Any]:
    """Errors over the whole level; msg/s and latency over its full window (``LevelRun``)."""
    outcomes = [outcome for record in run.played for outcome in record.outcomes]
    answered = [o for o in outcomes if o.answered and o.seconds is not None]
    window = run.full_until - run.started
    in_window = [o for o in answered if o.started <= run.full_until]
    latencies = [o.seconds for o in in_window if o.seconds is not None]
    completed = sum(o.finished <= run.full_until for o in answered)
    errors = Counter(str(o.error) for o in outcomes if not o.answered)
    kinds: dict[str, list[float]] = {}
    for outcome in in_window:
        if outcome.seconds is not None:
            kinds.setdefault(outcome.kind, []).append(outcome.seconds)
    overall = run.ended - run.started
    return {
        "config": config,
        "concurrency": concurrency,
        "conversations": len(run.played),
        "messages": len(outcomes),
        "answered": len(answered),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "unexpected": sum(o.unexpected for o in outcomes),
        "p50_ms": _ms(percentile(latencies, 0.50)),
        "p95_ms": _ms(percentile(latencies, 0.95)),
        "p99_ms": _ms(percentile(latencies, 0.99)),
        "messages_per_second": round(completed / window, 2) if window > 0 else 0.0,
        "full_window_seconds": round(window, 2),
        "full_window_messages": len(latencies),
        "messages_per_second_overall": round(len(answered) / overall, 2) if overall > 0 else 0.0,
        "seconds": round(overall, 2),
        "timed_out": run.timed_out,
        "by_kind": {
            kind: {
                "messages": len(values),
                "p50_ms": _ms(percentile(values, 0.5)),
                "p95_ms": _ms(percentile(values, 0.95)),
            }
            for kind, values in sorted(kinds.items())
        },
    }


def expected_of(played: Sequence[Played]) -> list[event_order.Expected]:
    return [
        event_order.Expected(
            record.sender_id,
            tuple(outcome.text for outcome in record.outcomes),
            tuple(outcome.answered for outcome in record.outcomes),
        )
        for record in played
        if record.outcomes
    ]


# --- processes: CPU and memory of a stack ---------------------------------------------------------


def group_processes(group: int) -> dict[int, dict[str, Any]]:
    """Every process of the group: a short name, CPU seconds so far, peak memory (MB)."""
    output = subprocess.run(["pgrep", "-g", str(group), "-a"], capture_output=True, text=True).stdout
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, dict[str, Any]] = {}
    for line in output.splitlines():
        pid_text, _, command = line.partition(" ")
        pid = int(pid_text)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            continue
        peak = next((int(s.split()[1]) / 1024 for s in status if s.startswith("VmHWM:")), 0.0)
        found[pid] = {
            "command": _short(command),
            "cpu_seconds": (int(stat[11]) + int(stat[12])) / ticks,
            "peak_mb": round(peak, 1),
        }
    return found


def _short(command: str) -> str:
    for marker in ("rasa run", "actions.server", "services.registry.outreach", "services.registry",
                   "services.review", "supervisor", "nginx"):  # fmt: skip
        if marker in command:
            port = next((part for part in command.split() if part.isdigit() and len(part) >= 4), "")
            return f"{marker} {port}".strip()
    return command[:60]


def cpu_used(before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "pid": pid,
            "command": row["command"],
            "cpu_seconds": round(row["cpu_seconds"] - before.get(pid, {}).get("cpu_seconds", 0.0), 1),
            "peak_mb": row["peak_mb"],
        }
        for pid, row in sorted(after.items())
    ]


# --- configurations -------------------------------------------------------------------------------


@dataclass
class Options:
    out: Path
    concurrency: tuple[int, ...]
    messages: int
    configs: tuple[str, ...]
    level_seconds: float
    request_seconds: float
    warmup: int
    ports: dict[str, int]
    redis_db: int
    postgres_admin_url: str


@dataclass
class ConfigResult:
    config: str
    levels: list[dict[str, Any]] = field(default_factory=list)
    events: dict[str, Any] | None = None
    processes: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "levels": self.levels,
            "events": self.events,
            "processes": self.processes,
            "notes": self.notes,
        }


def stack_environment(config: str, graph_api_url: str, database: str, redis_db: int) -> dict[str, str]:
    """The settings of each assistant configuration (names: supervisor/settings.py, .env.example).

    Everything is given, so a developer's ``.env`` cannot change what is measured.
    """
    environment = {
        **WHATSAPP_SECRETS,
        "WHATSAPP_GRAPH_API_URL": f"{graph_api_url}/v21.0",
        "WHATSAPP_SEEN_STORE_URL": "",
        "RASA_INTERFACE": LOOPBACK,
        "TRACKER_DB_DIALECT": "sqlite",
        "TRACKER_DB": "",
        "LOCK_STORE_TYPE": "in_memory",
        "RASA_INSTANCES": "1",
        "ACTION_INSTANCES": "1",
    }
    if config in ("one", "two"):
        redis = f"redis://{LOOPBACK}:6379/{redis_db}"
        environment.update(
            TRACKER_DB_DIALECT="postgresql",
            TRACKER_DB=database,
            TRACKER_DB_HOST=f"{LOOPBACK}:5432",
            TRACKER_DB_USER="postgres",
            LOCK_STORE_TYPE="redis",
            LOCK_STORE_HOST=LOOPBACK,
            LOCK_STORE_PORT="6379",
            LOCK_STORE_DB=str(redis_db),
            WHATSAPP_SEEN_STORE_URL=redis,
        )
    if config == "two":
        environment.update(RASA_INSTANCES="2", ACTION_INSTANCES="2")
    return environment


@contextmanager
def fresh_database(admin_url: str, name: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one run's tracker store, dropped afterwards."""
    require_loopback(admin_url)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _client(concurrency: int, request_seconds: float) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=2 * concurrency + 8, max_keepalive_connections=2 * concurrency + 8)
    return httpx.AsyncClient(timeout=request_seconds, limits=limits)


async def _levels(
    options: Options,
    config: str,
    make_players: Callable[[httpx.AsyncClient], tuple[Play, Callable[[Conversation], str]]],
    conversations: Callable[[str], Iterator[Conversation]],
    progress: Callable[[str], None],
) -> tuple[list[dict[str, Any]], list[Played]]:
    """The warm-up, then each concurrency level; every conversation played (for the event check)."""
    everything: list[Played] = []
    levels = []
    top = max((*options.concurrency, WARMUP_CONCURRENCY))
    async with _client(top, options.request_seconds) as client:
        play, sender_of = make_players(client)
        if options.warmup:
            progress(f"{config}: warm-up, {options.warmup} messages ...")
            warm = await run_level(
                play,
                sender_of,
                conversations("warm"),
                WARMUP_CONCURRENCY,
                options.warmup,
                options.level_seconds,
            )
            everything += warm.played
        for concurrency in options.concurrency:
            progress(f"{config}: concurrency {concurrency}, {options.messages} messages ...")
            run = await run_level(
                play,
                sender_of,
                conversations(f"c{concurrency}"),
                concurrency,
                options.messages,
                options.level_seconds,
            )
            everything += run.played
            summary = level_summary(config, concurrency, run)
            levels.append(summary)
            progress(
                f"{config}: c{concurrency}: {summary['messages_per_second']} msg/s, "
                f"p95 {summary['p95_ms']} ms, {summary['errors']} errors"
            )
    return levels, everything


def run_baseline(options: Options, progress: Callable[[str], None]) -> ConfigResult:
    result = ConfigResult(BASELINE)
    project = ensure_moodbot(progress)
    server = start_moodbot(project, options.ports["baseline"], options.out / "baseline.log")
    try:
        progress("baseline: starting the moodbot ...")
        server.wait_until_up()
        before = group_processes(server.process.pid)

        def players(client: httpx.AsyncClient) -> tuple[Play, Callable[[Conversation], str]]:
            rest = RestPlayer(client, server.rest_url, tanyavaksin=False)
            return rest.play, lambda conversation: conversation.key

        result.levels, _ = asyncio.run(
            _levels(options, BASELINE, players, lambda tag: moodbot_conversations(f"load-{tag}"), progress)
        )
        result.processes = cpu_used(before, group_processes(server.process.pid))
    finally:
        server.stop()
    result.notes.append(f"moodbot: {project.relative_to(ROOT)}; in-memory tracker store (events not checked)")
    return result


def run_assistant(
    options: Options,
    config: str,
    fake: FakeGraphApiThread,
    clock: ReplyClock,
    progress: Callable[[str], None],
) -> ConfigResult:
    result = ConfigResult(config)
    run_dir = options.out / f"run-{config}"
    shutil.rmtree(run_dir, ignore_errors=True)
    production = config in ("one", "two")
    database = f"tanyavaksin_load_{os.getpid()}_{config}"
    with fresh_database(options.postgres_admin_url, database) if production else _nothing(database):
        environment = stack_environment(config, fake.base_url, database, options.redis_db)
        events_url = (
            event_order.postgresql_url(database)
            if production
            else event_order.sqlite_url(run_dir / "tracker.db")
        )
        assistant = start_assistant(
            run_dir,
            options.ports["rasa"],
            options.ports["action"],
            extra_env=environment,
            registry_port=options.ports["registry"],
            supervisor_port=options.ports["supervisor"],
        )
        try:
            progress(f"{config}: starting the assistant (run folder {run_dir}) ...")
            assistant.wait_until_up()
            result.levels, played, result.processes, result.notes = _drive(
                options, config, assistant, clock, progress
            )
            progress(f"{config}: checking every conversation's events in the tracker store ...")
            event_order.wait_until_stored(events_url)
            report = event_order.check(expected_of(played), event_order.read_events(events_url))
            result.events = report.summary()
        finally:
            assistant.stop()
    return result


@contextmanager
def _nothing(value: str) -> Iterator[str]:
    yield value


def _drive(
    options: Options,
    config: str,
    assistant: AssistantProcess,
    clock: ReplyClock,
    progress: Callable[[str], None],
) -> tuple[list[dict[str, Any]], list[Played], list[dict[str, Any]], list[str]]:
    workload = Workload()
    webhook = f"http://{LOOPBACK}:{assistant.rasa_port}/webhooks/whatsapp/webhook"
    redelivery: dict[str, Any] = {}

    def players(client: httpx.AsyncClient) -> tuple[Play, Callable[[Conversation], str]]:
        rest = RestPlayer(client, assistant.rest_url)
        whatsapp = WhatsAppPlayer(
            client,
            webhook,
            WHATSAPP_SECRETS["WHATSAPP_APP_SECRET"],
            WHATSAPP_SECRETS["WHATSAPP_SENDER_HASH_KEY"],
            clock,
            options.request_seconds,
        )
        redelivery["player"] = whatsapp

        async def play(conversation: Conversation, record: Played) -> None:
            await (whatsapp if conversation.channel == "whatsapp" else rest).play(conversation, record)

        def sender_of(conversation: Conversation) -> str:
            return (
                whatsapp.sender_id(conversation.key)
                if conversation.channel == "whatsapp"
                else conversation.key
            )

        return play, sender_of

    before = group_processes(assistant.process.pid)
    # Phones differ per configuration and level: 62 89 <config digit> <level digit> <7 digits>.
    config_digit = str(ASSISTANT_CONFIGS.index(config) + 1)
    tags: dict[str, str] = {}

    def conversations(tag: str) -> Iterator[Conversation]:
        tags.setdefault(tag, str(len(tags)))
        return workload.conversations(f"load-{config}-{tag}", phone_prefix=f"6289{config_digit}{tags[tag]}")

    levels, played = asyncio.run(_levels(options, config, players, conversations, progress))
    processes = cpu_used(before, group_processes(assistant.process.pid))
    notes = []
    player = redelivery.get("player")
    if isinstance(player, WhatsAppPlayer):
        refused = Counter(player.redelivery_failures)
        notes.append(
            f"WhatsApp: the first message of each conversation delivered twice ({player.redeliveries} "
            f"redeliveries; refused: {dict(refused) or 'none'}); the event check finds any handled twice"
        )
    return levels, played, processes, notes


# --- the report -----------------------------------------------------------------------------------


def _level(result: ConfigResult, concurrency: int) -> dict[str, Any] | None:
    return next((level for level in result.levels if level["concurrency"] == concurrency), None)


def done_when(result: ConfigResult, baseline: ConfigResult | None) -> list[tuple[str, bool | None]]:
    """Issue #14's "Done when", for one configuration: (what was measured, met or not; None: not measured)."""
    if not result.levels:
        return [("nothing measured (see the notes)", False)]
    checks: list[tuple[str, bool | None]] = []
    at = _level(result, TARGET_CONCURRENCY)
    base = _level(baseline, TARGET_CONCURRENCY) if baseline else None
    if at and base and base["messages_per_second"]:
        ratio = at["messages_per_second"] / base["messages_per_second"]
        checks.append(
            (
                f"c{TARGET_CONCURRENCY}: {ratio:.2f}x the baseline's msg/s (>= {TARGET_RATIO})",
                ratio >= TARGET_RATIO,
            )
        )
    else:
        checks.append((f"c{TARGET_CONCURRENCY} against the baseline: not measured", None))
    if at:
        p95 = at["p95_ms"]
        checks.append(
            (
                f"c{TARGET_CONCURRENCY}: p95 {p95} ms (<= {TARGET_P95_MS:.0f})",
                p95 is not None and p95 <= TARGET_P95_MS,
            )
        )
        checks.append((f"c{TARGET_CONCURRENCY}: {at['errors']} errors (0)", at["errors"] == 0))
    low, high = _level(result, SUSTAIN_FROM), _level(result, SUSTAIN_TO)
    if low and high:
        top, bottom = high["messages_per_second"], low["messages_per_second"]
        checks.append((f"c{SUSTAIN_TO} {top} msg/s >= c{SUSTAIN_FROM} {bottom} msg/s", top >= bottom))
    else:
        checks.append((f"c{SUSTAIN_TO} against c{SUSTAIN_FROM}: not measured", None))
    if result.events is not None:
        events = result.events
        problems = ("lost", "reordered", "duplicated", "unanswered")
        counted = ", ".join(f"{events[name]} {name}" for name in problems)
        checks.append((f"events: {counted} (all 0)", not any(events[name] for name in problems)))
    return checks


def _cell(value: object) -> str:
    return "–" if value is None else str(value)


def markdown(results: Sequence[ConfigResult], context: dict[str, Any]) -> str:
    baseline = next((r for r in results if r.config == BASELINE), None)
    lines = [
        "# Load test (issue #14)",
        "",
        f"{context['started']} · {context['cores']} cores · load average before {context['load_before']} · "
        f"commit {context['commit']} · {context['messages']} messages per level",
        "",
        "msg/s and latencies: while all the level's conversations were in flight (its drain left out); "
        "errors and replies not as expected: the whole level. WhatsApp latency: to the first message "
        "of the reply.",
        "",
        "| configuration | concurrency | messages | errors | not as expected "
        "| p50 ms | p95 ms | p99 ms | msg/s | × baseline |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        for level in result.levels:
            base = _level(baseline, level["concurrency"]) if baseline and result is not baseline else None
            ratio = (
                f"{level['messages_per_second'] / base['messages_per_second']:.2f}"
                if base and base["messages_per_second"]
                else ""
            )
            errors = str(level["errors"]) + (" (time limit)" if level["timed_out"] else "")
            lines.append(
                f"| {result.config} | {level['concurrency']} | {level['messages']} | {errors} "
                f"| {level['unexpected']} | {_cell(level['p50_ms'])} | {_cell(level['p95_ms'])} "
                f"| {_cell(level['p99_ms'])} | {level['messages_per_second']} | {ratio} |"
            )
    checked = [r for r in results if r.events is not None]
    if checked:
        lines += [
            "",
            "Every conversation's events in the tracker store (warm-up included):",
            "",
            "| configuration | conversations | messages | lost | duplicated | reordered "
            "| unanswered | unexpected |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for result in checked:
            e = result.events or {}
            lines.append(
                f"| {result.config} | {e['conversations']} | {e['messages']} | {e['lost']} "
                f"| {e['duplicated']} | {e['reordered']} | {e['unanswered']} | {e['unexpected']} |"
            )
    assistants = [r for r in results if r.config != BASELINE]
    if assistants:
        lines += ["", "Done when (#14):", ""]
        for result in assistants:
            for text, met in done_when(result, baseline):
                mark = "n/a" if met is None else ("met" if met else "NOT met")
                lines.append(f"- {result.config}: {text}: **{mark}**")
    for result in results:
        if result.processes:
            lines += ["", f"CPU seconds and peak memory of {result.config}'s processes over the run:", ""]
            lines += [
                f"- {p['command']}: {p['cpu_seconds']} s CPU, {p['peak_mb']} MB" for p in result.processes
            ]
        lines += [f"- note: {note}" for note in result.notes]
    return "\n".join(lines) + "\n"


def _context(options: Options) -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    live = ROOT / "models" / "live.tar.gz"
    return {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "machine": platform.platform(),
        "load_before": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "commit": commit.stdout.strip() + (" (with local changes)" if dirty else ""),
        "model": str(live.resolve().name) if live.exists() else None,
        "messages": options.messages,
        "concurrency": list(options.concurrency),
        "level_seconds": options.level_seconds,
        "request_seconds": options.request_seconds,
    }


def run(options: Options, progress: Callable[[str], None]) -> tuple[list[ConfigResult], dict[str, Any]]:
    options.out.mkdir(parents=True, exist_ok=True)
    context = _context(options)
    results = []
    if BASELINE in options.configs:
        results.append(_guarded(BASELINE, lambda: run_baseline(options, progress), progress))
    assistants = [config for config in options.configs if config != BASELINE]
    if assistants:
        clock = ReplyClock()
        fake = FakeGraphApiThread(
            WatchedGraphApi(clock, WHATSAPP_SECRETS["WHATSAPP_ACCESS_TOKEN"]), options.ports["fake"], LOOPBACK
        ).start()
        try:
            for config in assistants:
                measure = partial(run_assistant, options, config, fake, clock, progress)
                results.append(_guarded(config, measure, progress))
        finally:
            fake.stop()
    return results, context


def _guarded(
    config: str, measure: Callable[[], ConfigResult], progress: Callable[[str], None]
) -> ConfigResult:
    """A configuration that fails (does not start, say) is reported as such; the others are still measured."""
    try:
        return measure()
    except Exception as error:
        progress(f"{config}: FAILED: {type(error).__name__}: {error}")
        return ConfigResult(config, notes=[f"FAILED: {type(error).__name__}: {str(error)[-2000:]}"])


def parse_arguments(argv: Sequence[str] | None) -> tuple[Options, bool]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "load")
    parser.add_argument(
        "--concurrency", default=",".join(map(str, DEFAULT_CONCURRENCY)), help="rising levels"
    )
    parser.add_argument("--messages-per-level", type=int, default=DEFAULT_MESSAGES)
    parser.add_argument(
        "--configs", default=",".join(DEFAULT_CONFIGS), help=f"of {BASELINE},{','.join(ASSISTANT_CONFIGS)}"
    )
    parser.add_argument("--skip-baseline", action="store_true", help="leave out Rasa's default pipeline")
    parser.add_argument(
        "--level-seconds", type=float, default=DEFAULT_LEVEL_SECONDS, help="time limit of a level"
    )
    parser.add_argument("--request-seconds", type=float, default=DEFAULT_REQUEST_SECONDS, help="per message")
    parser.add_argument(
        "--warmup", type=int, default=DEFAULT_WARMUP, help="messages before the levels (not counted)"
    )
    for name, port in PORTS.items():
        parser.add_argument(f"--{name}-port", type=int, default=port)
    parser.add_argument(
        "--redis-db", type=int, default=REDIS_DB, help="lock and seen-message store (one, two)"
    )
    parser.add_argument(
        "--postgres-admin-url", default=POSTGRES_ADMIN_URL, help="where the tracker database is made"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a 'Done when' is not met")
    arguments = parser.parse_args(argv)
    configs = tuple(name.strip() for name in arguments.configs.split(",") if name.strip())
    unknown = set(configs) - {BASELINE, *ASSISTANT_CONFIGS}
    if unknown:
        parser.error(f"unknown configurations: {', '.join(sorted(unknown))}")
    if arguments.skip_baseline:
        configs = tuple(config for config in configs if config != BASELINE)
    try:
        require_loopback(arguments.postgres_admin_url)
    except ValueError as refused:
        parser.error(f"--postgres-admin-url: {refused}")
    levels = tuple(int(level) for level in arguments.concurrency.split(",") if level.strip())
    if not levels or min(levels) < 1 or arguments.messages_per_level < 1:
        parser.error("concurrency levels and messages per level must be positive")
    return Options(
        out=arguments.out,
        concurrency=levels,
        messages=arguments.messages_per_level,
        configs=configs,
        level_seconds=arguments.level_seconds,
        request_seconds=arguments.request_seconds,
        warmup=arguments.warmup,
        ports={name: getattr(arguments, f"{name}_port") for name in PORTS},
        redis_db=arguments.redis_db,
        postgres_admin_url=arguments.postgres_admin_url,
    ), arguments.strict


def main(argv: Sequence[str] | None = None) -> int:
    options, strict = parse_arguments(argv)
    results, context = run(options, lambda line: print(line, file=sys.stderr, flush=True))
    report = markdown(results, context)
    document = {"context": context, "results": [result.summary() for result in results]}
    (options.out / "load.json").write_text(
        json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    (options.out / "load.md").write_text(report, encoding="utf-8")
    print(report)
    print(f"written to {options.out / 'load.json'} and {options.out / 'load.md'}", file=sys.stderr)
    baseline = next((r for r in results if r.config == BASELINE), None)
    failed = any(met is False for r in results if r.config != BASELINE for _, met in done_when(r, baseline))
    return 1 if strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
