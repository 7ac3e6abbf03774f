"""The worker: takes jobs from the queue (or, when it is empty, sweeps the database), claims their
notices, sends them through a pool of threads at the throughput tier, and writes each result as
soon as Meta answers.

Each sending thread has its own database session; the queue is touched from the main thread only
(pika's connection is not thread-safe). Stop it with SIGTERM / Ctrl-C: it finishes the notices in
flight, then exits; killed outright, its claimed notices are taken up again when their lease ends
(engine.py says why that can repeat only those in flight).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from services.common.clock import Clock, utc_now
from services.registry.outreach import engine
from services.registry.outreach.graph_client import GraphTemplateClient
from services.registry.outreach.queue import JobQueue
from services.registry.outreach.settings import OutreachSettings

log = logging.getLogger(__name__)


@dataclass
class WorkerStats:
    outcomes: Counter[str] = field(default_factory=Counter)
    retries: int = 0  # Graph API retries (429 / 5xx / unreachable)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcome: str, retries: int) -> None:
        with self.lock:
            self.outcomes[outcome] += 1
            self.retries += retries


class Worker:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        context: engine.SendContext,
        client: GraphTemplateClient,
        jobs: JobQueue,
        settings: OutreachSettings,
        *,
        clock: Clock = utc_now,
        worker_id: str | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.context = context
        self.client = client
        self.jobs = jobs
        self.settings = settings
        self.clock = clock
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:12]}"
        self.stats = WorkerStats()
        self.stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="outreach-send")
        self._local = threading.local()
        self._sessions: list[Session] = []

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for session in self._sessions:
            session.close()

    def run(self, *, until_idle: bool = False, poll_seconds: float = 1.0) -> WorkerStats:
        """Work until stopped; with ``until_idle``, until no notice is left queued or in flight."""
        while not self.stop.is_set():
            delivery = self.jobs.get(timeout=poll_seconds if not until_idle else 0.05)
            if delivery is not None:
                self.process(delivery.job.notice_ids)
                self.jobs.ack(delivery)
                continue
            if self.process(None):
                continue
            with self.session_factory() as session:
                engine.finish_campaigns(session, self.clock())
                if until_idle and engine.pending_now(session, self.context.quiet_hours, self.clock()) == 0:
                    break
            if until_idle:
                self.stop.wait(poll_seconds)
        return self.stats

    def process(self, notice_ids: tuple[int, ...] | None) -> int:
        """Claim (these notices, or any due ones) and send them; returns how many were claimed."""
        with self.session_factory() as session:
            tasks = engine.claim(
                session,
                self.context,
                self.worker_id,
                self.clock(),
                limit=len(notice_ids) if notice_ids else self.settings.batch_size,
                notice_ids=notice_ids,
            )
        if tasks:
            list(self._pool.map(self._send, tasks))
        return len(tasks)

    def _session(self) -> Session:
        session: Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self.session_factory()
            self._local.session = session
            self._sessions.append(session)
        return session

    def _send(self, task: engine.Task) -> None:
        session = self._session()
        try:
            until = engine.deferred_until(task, self.context, self.clock())
            if until is not None:
                engine.defer(session, task, self.worker_id, until)
                self.stats.add("deferred", 0)
                return
            result = self.client.send(task.message())
            outcome = engine.record_result(
                session,
                self.context,
                task,
                self.worker_id,
                result,
                self.clock(),
                self.settings.backoff_max_seconds,
            )
            self.stats.add(outcome, result.retries)
        except Exception as error:  # one notice must not stop the others; its lease brings it back
            session.rollback()
            # The type only: a message could carry statement values (registry logs never show data).
            log.error(
                "notice %s: %s; it is retried when its lease ends", task.notice_id, type(error).__name__
            )
