"""The three job queues really carry a job: in memory, through the local Redis and RabbitMQ.

Redis and RabbitMQ run on this machine (README "Testing"); when they cannot be reached these tests
fail rather than skip. Each test uses a queue name of its own and deletes it afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pika
import pytest
import redis
from pydantic import SecretStr

from services.registry.outreach.queue import Job, JobQueue, MemoryQueue, RabbitQueue, RedisQueue, open_queue
from services.registry.outreach.settings import OutreachSettings, QueueBackend

REDIS_URL = "redis://127.0.0.1:6379/0"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


@pytest.fixture
def name() -> Iterator[str]:
    queue_name = f"test.outreach.{uuid.uuid4().hex[:10]}"
    yield queue_name
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(queue_name)
    client.close()
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    connection.channel().queue_delete(queue_name)
    connection.close()


def _round_trip(sender: JobQueue, receiver: JobQueue) -> None:
    job = Job(7, (1, 2, 3))
    sender.put(job)
    delivery = receiver.get(timeout=5)
    assert delivery is not None and delivery.job == job
    receiver.ack(delivery)
    assert receiver.get(timeout=0.2) is None


def test_the_memory_queue_round_trips_a_job() -> None:
    queue = MemoryQueue()
    _round_trip(queue, queue)


def test_redis_carries_a_job_between_two_connections(name: str) -> None:
    sender, receiver = RedisQueue(REDIS_URL, name), RedisQueue(REDIS_URL, name)
    try:
        _round_trip(sender, receiver)
    finally:
        sender.close()
        receiver.close()


def test_rabbitmq_carries_a_job_and_redelivers_one_never_acknowledged(name: str) -> None:
    sender, crashed = RabbitQueue(RABBITMQ_URL, name), RabbitQueue(RABBITMQ_URL, name)
    try:
        _round_trip(sender, crashed)
        sender.put(Job(8, (4,)))
        delivery = crashed.get(timeout=5)
        assert delivery is not None and delivery.job.notice_ids == (4,)
        crashed.close()  # gone without acknowledging: the broker gives the job to the next worker
        survivor = RabbitQueue(RABBITMQ_URL, name)
        again = survivor.get(timeout=5)
        assert again is not None and again.job == Job(8, (4,))
        survivor.ack(again)
        assert survivor.get(timeout=0.2) is None
        survivor.close()
    finally:
        sender.close()
        crashed.close()


def test_a_job_that_is_not_ours_is_dropped_not_run(name: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    client.lpush(name, b'{"notice_ids": "1; DROP TABLE notices"}')
    client.close()
    receiver = RedisQueue(REDIS_URL, name)
    try:
        assert receiver.get(timeout=1) is None
    finally:
        receiver.close()


def test_the_setting_picks_the_backend(name: str) -> None:
    backends: tuple[tuple[QueueBackend, type], ...] = (
        ("memory", MemoryQueue),
        ("redis", RedisQueue),
        ("rabbitmq", RabbitQueue),
    )
    for backend, kind in backends:
        settings = OutreachSettings(
            queue=backend,
            queue_name=name,
            redis_url=SecretStr(REDIS_URL),
            rabbitmq_url=SecretStr(RABBITMQ_URL),
        )
        queue = open_queue(settings)
        try:
            assert isinstance(queue, kind)
        finally:
            queue.close()
