"""Faults under load on the production topology: two Rasa and two action-server processes behind nginx,
the PostgreSQL tracker store and Rasa's Redis lock store (``RASA_INSTANCES=2``, issue #14).

- A Rasa process killed (SIGKILL) while conversations are in flight: nginx passes new requests to the
  other process, the client retries what failed (as Meta does for WhatsApp), the supervisor restarts
  the killed one, and every conversation's messages are in the tracker store once each, in order.
- The machine's PostgreSQL stopped and started (``pg_ctlcluster``): a message meanwhile is answered at
  once from memory (Rasa's fail-safe tracker store), never a hang; afterwards answers and storage
  resume without restarting anything.
- Redis down: a private ``redis-server`` (the machine's binary, its own port, so the machine's shared
  Redis keeps serving everyone else) is stopped. Every message gets the apology at once (Rasa takes no
  message it cannot lock); once Redis is back, answers resume without a restart.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

from rasa_project.channels.inbound import FAILURE_NOTICE
from tests.harness.assistant_process import AssistantProcess, start_assistant
from tests.load import event_order
from tests.load.scale import stack_environment
from training.heldout import read_labelled_messages

ROOT = Path(__file__).resolve().parents[2]
RASA_PORT, ACTION_PORT, REGISTRY_PORT, SUPERVISOR_PORT = 15305, 15355, 15306, 15308
REDIS_PORT = 15379
DATABASE = "tanyavaksin_faults"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CONVERSATIONS, MESSAGES_EACH = 12, 5
# What a channel does when a delivery failed (Meta retries WhatsApp webhooks): a few more tries.
RETRIES, RETRY_PAUSE_SECONDS = 5, 1.0
REQUEST_SECONDS = 120.0  # a retried message may wait out the killed process's lock (60 s)


def faq_texts() -> list[str]:
    return [m.text for m in read_labelled_messages(ROOT / "data" / "heldout") if m.label.startswith("faq/")]


def wait_for_port(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


class PrivateRedis:
    """A redis-server of its own (nothing on disk) that a test may stop and start again."""

    def __init__(self, port: int) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server (Debian's redis-server package) is needed"
        self.command = [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, start_new_session=True)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def postgresql_cluster() -> list[str]:
    """``[version, name]`` of the machine's (first) PostgreSQL cluster on port 5432."""
    listed = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True)
    for line in listed.stdout.splitlines():
        version, name, port, *_ = line.split()
        if port == "5432":
            return [version, name]
    raise AssertionError(f"no PostgreSQL cluster on 5432: {listed.stdout}")


@pytest.fixture(scope="module")
def redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis(REDIS_PORT)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory, redis: PrivateRedis) -> Iterator[AssistantProcess]:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    environment = {
        **stack_environment("two", "http://127.0.0.1:9", DATABASE, 0),
        "LOCK_STORE_PORT": str(REDIS_PORT),
        "LOCK_STORE_DB": "0",
        "WHATSAPP_SEEN_STORE_URL": f"redis://127.0.0.1:{REDIS_PORT}/1",
        "SUPERVISOR_HEALTH_INTERVAL_SECONDS": "0.5",
        "SUPERVISOR_BACKOFF_INITIAL_SECONDS": "1",
    }
    stack = start_assistant(
        tmp_path_factory.mktemp("scaled"), RASA_PORT, ACTION_PORT, environment, REGISTRY_PORT, SUPERVISOR_PORT
    )
    try:
        stack.wait_until_up()
        wait_until_every_process_is_up(stack)
        yield stack
    finally:
        stack.stop()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE)))


def wait_until_every_process_is_up(stack: AssistantProcess, seconds: float = 600) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        components = stack.health()["components"]
        if all(component["state"] == "up" for component in components.values()):
            return components
        time.sleep(1)
    raise AssertionError(f"not every process came up: {stack.health()}")


async def converse(
    client: httpx.AsyncClient, url: str, sender: str, texts: list[str], retried: list[str]
) -> list[list[str]]:
    """One conversation, each message after the last one's answer; a failed delivery is retried."""
    answers = []
    for text in texts:
        for attempt in range(RETRIES + 1):
            try:
                reply = await client.post(url, json={"sender": sender, "message": text})
                if reply.status_code == 200:
                    answers.append([message.get("text", "") for message in reply.json()])
                    break
            except httpx.TransportError:
                pass
            if attempt == RETRIES:
                raise AssertionError(f"{sender}: {text!r} never answered")
            retried.append(sender)
            await asyncio.sleep(RETRY_PAUSE_SECONDS)
    return answers


def test_a_rasa_process_killed_mid_load_loses_no_conversation(scaled: AssistantProcess) -> None:
    texts = faq_texts()
    plan = {
        f"fault-kill-{number}": [
            texts[(number * MESSAGES_EACH + k) % len(texts)] for k in range(MESSAGES_EACH)
        ]
        for number in range(CONVERSATIONS)
    }
    victim = scaled.health()["components"]["rasa server"]["pid"]
    retried: list[str] = []

    async def load() -> list[list[list[str]]]:
        async with httpx.AsyncClient(timeout=REQUEST_SECONDS) as client:
            talks = [
                asyncio.create_task(converse(client, scaled.rest_url, s, t, retried)) for s, t in plan.items()
            ]
            await asyncio.sleep(2.0)  # conversations in flight on both processes
            os.kill(victim, signal.SIGKILL)
            return await asyncio.gather(*talks)

    answered = asyncio.run(load())
    print(f"killed Rasa {victim}: {len(retried)} deliveries retried")
    assert all(len(answers) == MESSAGES_EACH for answers in answered)
    assert all(any(part.strip() for part in answer) for answers in answered for answer in answers), (
        "a reply is empty"
    )
    url = event_order.postgresql_url(DATABASE)
    event_order.wait_until_stored(url)
    expected = [event_order.Expected(s, tuple(t), (True,) * len(t)) for s, t in plan.items()]
    report = event_order.check(expected, event_order.read_events(url))
    assert (report.lost, report.reordered, report.unanswered) == (0, 0, 0), report
    # A message whose process died after storing it but before answering is stored twice at most.
    assert report.duplicated <= len(retried), report
    components = wait_until_every_process_is_up(scaled)
    assert components["rasa server"]["restarts"] >= 1 and components["rasa server"]["pid"] != victim


def test_a_postgresql_restart_fails_fast_and_recovers(scaled: AssistantProcess) -> None:
    """Stopped, then started. While it is down, Rasa's fail-safe tracker store answers each message on
    its own from memory (at once, no hang; earlier turns unseen, the message not kept: README "Speed
    and scale"); after, answers and storage resume on the same processes, nothing restarted."""
    cluster = postgresql_cluster()
    texts = faq_texts()
    subprocess.run(["pg_ctlcluster", *cluster, "stop", "--", "-m", "fast"], check=True)
    try:
        while_down = [[m.get("text", "") for m in scaled.say(f"fault-pg-{n}", texts[n])] for n in range(4)]
    finally:
        subprocess.run(["pg_ctlcluster", *cluster, "start"], check=True)
    assert all(answer and FAILURE_NOTICE not in answer and all(answer) for answer in while_down), while_down
    for number in range(6):
        answer = recover(scaled, f"fault-pg-after-{number}", texts[20 + number])
        assert FAILURE_NOTICE not in answer and any(part.strip() for part in answer)
    url = event_order.postgresql_url(DATABASE)
    event_order.wait_until_stored(url)
    stored = {row.sender_id for row in event_order.read_events(url) if row.type_name == "user"}
    assert {f"fault-pg-after-{number}" for number in range(6)} <= stored
    assert not {f"fault-pg-{number}" for number in range(4)} & stored, (
        "the outage's messages were kept after all"
    )


def recover(stack: AssistantProcess, sender: str, text: str, seconds: float = 60) -> list[str]:
    """The first answer that is not the apology, asking again for up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        answer = [message.get("text", "") for message in stack.say(sender, text)]
        if FAILURE_NOTICE not in answer or time.monotonic() > deadline:
            return answer
        time.sleep(1)


def test_redis_down_gets_the_apology_at_once_and_answers_resume(
    scaled: AssistantProcess, redis: PrivateRedis
) -> None:
    texts = faq_texts()
    redis.stop()
    try:
        for number in range(4):
            answer = [m.get("text", "") for m in scaled.say(f"fault-redis-{number}", texts[40 + number])]
            assert answer == [FAILURE_NOTICE], (
                "without the lock store a message is not taken: the person is told"
            )
    finally:
        redis.start()
    answer = recover(scaled, "fault-redis-after", texts[50])
    assert FAILURE_NOTICE not in answer and any(part.strip() for part in answer)
