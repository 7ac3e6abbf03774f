"""Where send jobs wait for a worker: in the process (the embedded default), Redis or RabbitMQ.

A job names a campaign and a batch of notice ids. The queue only spreads work; the database decides
who sends what: a worker claims each notice with a conditional update before it sends it, so a job
delivered twice (RabbitMQ redelivers what was not acknowledged; two workers may read one Redis
entry's twin) sends nothing twice. A job that is lost (a worker dies holding it) loses nothing
either: workers sweep the database for notices still queued, or whose claim ran out, when the
queue is empty.

- ``memory``: a ``queue.Queue``; between processes the database is the queue (the sweep).
- ``redis``: a list (LPUSH / BLMOVE into a per-worker processing list, LREM on acknowledgement).
- ``rabbitmq``: a durable queue, persistent messages, one unacknowledged job per worker (pika).
"""

from __future__ import annotations

import json
import queue as stdlib_queue
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from services.registry.outreach.settings import OutreachSettings


@dataclass(frozen=True)
class Job:
    campaign_id: int | None
    notice_ids: tuple[int, ...]

    def encode(self) -> bytes:
        return json.dumps({"campaign_id": self.campaign_id, "notice_ids": list(self.notice_ids)}).encode()

    @classmethod
    def decode(cls, raw: bytes | str) -> Job:
        data = json.loads(raw)
        ids = data.get("notice_ids")
        if not isinstance(ids, list) or not all(isinstance(item, int) for item in ids):
            raise ValueError("a job names notice ids")
        campaign = data.get("campaign_id")
        return cls(campaign if isinstance(campaign, int) else None, tuple(ids))


@dataclass(frozen=True)
class Delivery:
    job: Job
    tag: Any  # what ``ack`` needs to forget it


class JobQueue(Protocol):
    def put(self, job: Job) -> None: ...

    def get(self, timeout: float) -> Delivery | None:
        """The next job, or None after ``timeout`` seconds without one."""

    def ack(self, delivery: Delivery) -> None:
        """The job is done (its notices are sent, skipped, failed or deferred in the database)."""

    def close(self) -> None: ...


class MemoryQueue:
    def __init__(self) -> None:
        self._jobs: stdlib_queue.Queue[Job] = stdlib_queue.Queue()

    def put(self, job: Job) -> None:
        self._jobs.put(job)

    def get(self, timeout: float) -> Delivery | None:
        try:
            return Delivery(self._jobs.get(timeout=timeout), None)
        except stdlib_queue.Empty:
            return None

    def ack(self, delivery: Delivery) -> None:
        return None

    def close(self) -> None:
        return None


class RedisQueue:
    """A Redis list; a job being worked on sits in this worker's processing list until acknowledged."""

    def __init__(self, url: str, name: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=5)
        self._name = name
        self._processing = f"{name}:processing:{uuid.uuid4().hex[:12]}"

    def put(self, job: Job) -> None:
        self._redis.lpush(self._name, job.encode())

    def get(self, timeout: float) -> Delivery | None:
        # Redis 6+ takes fractional seconds; redis-py's annotation says int.
        raw = self._redis.blmove(self._name, self._processing, timeout, "RIGHT", "LEFT")  # type: ignore[arg-type]
        if raw is None:
            return None
        try:
            return Delivery(Job.decode(raw), raw)
        except ValueError:
            # Not a job of ours: dropped (the database still holds any work it named).
            self._redis.lrem(self._processing, 1, raw)  # type: ignore[arg-type]
            return None

    def ack(self, delivery: Delivery) -> None:
        self._redis.lrem(self._processing, 1, delivery.tag)

    def close(self) -> None:
        self._redis.delete(self._processing)  # anything left there is in the database, and swept
        self._redis.close()


class RabbitQueue:
    """A durable RabbitMQ queue; one unacknowledged job per worker, redelivered if the worker dies.

    pika's blocking connection belongs to one thread: the worker gets and acknowledges jobs from its
    main thread only (its sending threads never touch it).
    """

    def __init__(self, url: str, name: str) -> None:
        import pika

        parameters = pika.URLParameters(url)
        parameters.heartbeat = 60
        parameters.blocked_connection_timeout = 30
        self._connection = pika.BlockingConnection(parameters)
        self._channel = self._connection.channel()
        self._channel.queue_declare(queue=name, durable=True)
        self._channel.basic_qos(prefetch_count=1)
        self._name = name
        self._properties = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent)

    def put(self, job: Job) -> None:
        self._channel.basic_publish("", self._name, job.encode(), self._properties)

    def get(self, timeout: float) -> Delivery | None:
        for method, _properties, body in self._channel.consume(self._name, inactivity_timeout=timeout):
            if method is None:
                return None
            try:
                return Delivery(Job.decode(body), method.delivery_tag)
            except ValueError:
                self._channel.basic_ack(method.delivery_tag)
                return None
        return None

    def ack(self, delivery: Delivery) -> None:
        self._channel.basic_ack(delivery.tag)

    def close(self) -> None:
        if self._connection.is_open:
            self._channel.cancel()  # unacknowledged jobs go back to the queue
            self._connection.close()


def open_queue(settings: OutreachSettings) -> JobQueue:
    if settings.queue == "redis":
        return RedisQueue(settings.redis_url.get_secret_value(), settings.queue_name)
    if settings.queue == "rabbitmq":
        return RabbitQueue(settings.rabbitmq_url.get_secret_value(), settings.queue_name)
    return MemoryQueue()
