"""What the load test says to the assistant, and how one conversation is played against a running stack.

A conversation is a short sequence of messages from one sender, each sent after the reply to the one
before, as a person chats. The mix (``MIX``) covers the paths that cost differently:

- **faq** (REST): held-out questions (never trained on), some word for word (common questions do come
  back verbatim: what a cache would serve), some with the greetings, particles and stretched letters
  people add;
- **menu** (REST): the fallback and the menu: nonsense or an out-of-scope message, "halo", "menu",
  option numbers;
- **schedule** (REST): the schedule check against the registry: the request, a demo recipient's NIK,
  the birth date (spelled the ways people write them), and the masked name in the answer;
- **whatsapp**: signed webhook deliveries as Meta POSTs them, answered through the fake Graph API;
  the first message of each conversation is delivered twice (Meta resends what it thinks failed),
  so de-duplication is under load too.

REST lookups reach the demo registry (``services/registry/demo.py``, seeded by ``make run``); no
one-time code is involved (a code is asked for only on WhatsApp from another number than the one on
file, and the load test does no WhatsApp lookups: a demo recipient's phone is one conversation, which
two concurrent conversations would share).

Latency is what the person waits: REST, the request until the reply (every message of the turn);
WhatsApp, the webhook POST until the first message of the reply reaches the (fake) Graph API.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi.responses import JSONResponse

from core.months import MONTH_NAMES
from core.sender_identity import conversation_id
from rasa_project.channels.inbound import FAILURE_NOTICE
from services.registry.demo import demo_records
from services.registry.masking import mask_name
from tests.harness.assistant_process import ROOT
from tests.harness.whatsapp import payloads
from tests.harness.whatsapp.fake_graph_api import FakeGraphApi
from tests.integration.support import first_variation, response_text
from training.heldout import read_labelled_messages

LOOPBACK = "127.0.0.1"
# Conversations of each kind per hundred (a national line: mostly questions, then the menu, then lookups).
MIX = {"faq": 40, "menu": 20, "schedule": 15, "whatsapp": 25}
# Held-out labels whose messages start something the load test does not follow (a handoff, a form,
# an opt-out): they are left out of the FAQ and menu conversations.
FOLLOWED_LABELS = ("out_of_scope", "greet", "thank", "goodbye", "bot_challenge")
EXACT_SHARE = 0.4  # of FAQ questions sent word for word as in the held-out split
BEFORE = ("halo kak, ", "min ", "permisi, ", "mau tanya ", "kak ")
AFTER = (" kak", " min", "?", " ya", " dong", " gan")
ASKS_FOR_SCHEDULE = (
    "kapan jadwal vaksin saya?",
    "cek jadwal vaksin",
    "tolong cek jadwal vaksin bapak saya",
    "cek jadwal vaksin saya lagi dong",
)
MENU_WORDS = ("menu", "halo", "kembali")
DEMO_DAY = date(2021, 1, 13)  # NIKs, names and birth dates of the demo registry do not depend on the day
# Between two WhatsApp messages of one conversation, after the first reply: quiet this long (the rest
# of the turn's messages come in a burst), at most SETTLE_LIMIT, so a reply is not counted twice.
SETTLE_SECONDS = 0.1
SETTLE_LIMIT = 2.0


def require_loopback(url: str) -> str:
    """The URL itself if it points at 127.0.0.1; the load test sends nowhere else (not even "localhost",
    which may resolve to another interface)."""
    host = urlsplit(url).hostname
    if host != LOOPBACK:
        raise ValueError(f"the load test talks to {LOOPBACK} only, not {host!r}")
    return url


@dataclass(frozen=True)
class Turn:
    text: str
    expect: str | None = None  # a text the reply must contain, or None (any reply will do)


@dataclass(frozen=True)
class Conversation:
    key: str  # unique in a run: the REST sender id, or the WhatsApp phone number
    kind: str
    channel: str  # "rest" or "whatsapp"
    turns: tuple[Turn, ...]


@dataclass
class Outcome:
    """One message sent: how long the reply took, or why there was none."""

    kind: str
    channel: str
    text: str
    seconds: float | None = None
    # Filled in before the message is sent, so a message cut off by the level's time limit says so.
    error: str | None = "cut off by the time limit"
    unexpected: bool = False  # answered, but not with what the conversation expects (e.g. no record)
    started: float = 0.0  # time.perf_counter() when it was sent
    finished: float = 0.0  # time.perf_counter() when the reply came

    @property
    def answered(self) -> bool:
        return self.error is None


@dataclass
class Played:
    """A conversation as it went: the sender id the tracker store keys it by, and every message sent."""

    conversation: Conversation
    sender_id: str
    outcomes: list[Outcome] = field(default_factory=list)


@dataclass(frozen=True)
class DemoRecipient:
    nik: str
    birth_date: date
    masked_name: str


def demo_recipients() -> list[DemoRecipient]:
    return [
        DemoRecipient(record.nik, record.birth_date, mask_name(record.full_name))
        for record in demo_records(DEMO_DAY)
    ]


def vary(text: str, rng: random.Random) -> str:
    """The question as another person might type it: with a greeting or a particle, in lower case, or
    with a stretched last letter ("vaksinnn"); word for word ``EXACT_SHARE`` of the time."""
    if rng.random() < EXACT_SHARE:
        return text
    body = text.lower() if rng.random() < 0.5 else text
    if rng.random() < 0.3 and body[-1:].isalpha():
        body += body[-1] * 2
    before = rng.choice(BEFORE) if rng.random() < 0.5 else ""
    after = rng.choice(AFTER) if rng.random() < 0.5 else ""
    return f"{before}{body}{after}".strip()


def nonsense(rng: random.Random) -> str:
    """Letters nobody's language makes, as people mash the keyboard."""
    words = ("".join(rng.choice("qwrtpsdfghjklzxcvbnm") for _ in range(rng.randint(4, 9))) for _ in range(2))
    return " ".join(words)


def nik_as_typed(nik: str, rng: random.Random) -> str:
    return rng.choice(
        (
            nik,
            " ".join(nik[i : i + 4] for i in range(0, 16, 4)),
            "-".join(nik[i : i + 4] for i in range(0, 16, 4)),
        )
    )


def birth_date_as_typed(day: date, rng: random.Random) -> str:
    return rng.choice(
        (
            f"{day.day:02d}-{day.month:02d}-{day.year}",
            f"{day.day}/{day.month}/{day.year}",
            f"{day.day} {MONTH_NAMES[day.month - 1].lower()} {day.year}",
        )
    )


class Workload:
    """An endless, reproducible stream of conversations (the same seed gives the same stream)."""

    def __init__(self, seed: int = 14) -> None:
        messages = read_labelled_messages(ROOT / "data" / "heldout")
        self.questions = [m.text for m in messages if m.label.startswith("faq/")]
        self.chatter = [m.text for m in messages if m.label in FOLLOWED_LABELS]
        self.out_of_scope = [m.text for m in messages if m.label == "out_of_scope"]
        self.recipients = demo_recipients()
        self.ask_nik = response_text("utter_ask_schedule_nik")
        self.ask_birth_date = response_text("utter_ask_schedule_birth_date")
        self.seed = seed

    def conversations(self, prefix: str, phone_prefix: str = "62899") -> Iterator[Conversation]:
        """Conversations keyed ``<prefix>-<n>`` (REST) or ``<phone_prefix><n, 7 digits>`` (WhatsApp)."""
        rng = random.Random(f"{self.seed}-{prefix}")
        kinds = [kind for kind, share in MIX.items() for _ in range(share)]
        for number in itertools.count():
            kind = rng.choice(kinds)
            if kind == "whatsapp":
                yield Conversation(f"{phone_prefix}{number:07d}", kind, "whatsapp", self._whatsapp(rng))
            else:
                turns = {"faq": self._faq, "menu": self._menu, "schedule": self._schedule}[kind](rng)
                yield Conversation(f"{prefix}-{number}", kind, "rest", turns)

    def _question(self, rng: random.Random) -> str:
        return vary(rng.choice(self.questions), rng)

    def _faq(self, rng: random.Random) -> tuple[Turn, ...]:
        turns = [Turn(self._question(rng)) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.3:
            turns.append(Turn(rng.choice(self.chatter)))
        return tuple(turns)

    def _menu(self, rng: random.Random) -> tuple[Turn, ...]:
        opening = rng.choice((nonsense(rng), rng.choice(self.out_of_scope), "halo"))
        return (Turn(opening), Turn(rng.choice(MENU_WORDS[:2])), Turn(str(rng.randint(1, 3))))

    def _schedule(self, rng: random.Random) -> tuple[Turn, ...]:
        person = rng.choice(self.recipients)
        return (
            Turn(rng.choice(ASKS_FOR_SCHEDULE), self.ask_nik),
            Turn(nik_as_typed(person.nik, rng), self.ask_birth_date),
            Turn(birth_date_as_typed(person.birth_date, rng), person.masked_name),
        )

    def _whatsapp(self, rng: random.Random) -> tuple[Turn, ...]:
        return rng.choice(
            (
                (Turn(self._question(rng)), Turn("menu")),
                (Turn(self._question(rng)), Turn(self._question(rng))),
                (Turn("menu"), Turn(self._question(rng))),
            )
        )


def mix_of(conversations: Sequence[Conversation]) -> dict[str, int]:
    """Messages per kind."""
    counts: dict[str, int] = defaultdict(int)
    for conversation in conversations:
        counts[conversation.kind] += len(conversation.turns)
    return dict(counts)


def handoff_marker() -> str:
    """The first sentence of the handoff notice: after it the bot is silent until an officer answers,
    so the conversation ends there (a person would wait)."""
    return str(first_variation("utter_handoff_requested")["text"]).split(".")[0]


# --- WhatsApp: the fake Graph API as the phones ---------------------------------------------------


def _body_of(message: dict[str, Any]) -> str:
    if message.get("type") == "text":
        return str(message["text"]["body"])
    if message.get("type") == "interactive":
        return str(message["interactive"]["body"]["text"])
    return f"[{message.get('type')}]"


class ReplyClock:
    """When each message reached each phone (``time.perf_counter``), and wake-ups for who waits on one.

    Written from the fake Graph API's server thread, read from the load test's event loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._arrivals: dict[str, list[tuple[float, str]]] = defaultdict(list)
        self._waiters: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}

    def record(self, phone: str, text: str) -> None:
        with self._lock:
            self._arrivals[phone].append((time.perf_counter(), text))
            waiter = self._waiters.get(phone)
        if waiter is not None:
            loop, event = waiter
            loop.call_soon_threadsafe(event.set)

    def arrivals(self, phone: str) -> list[tuple[float, str]]:
        with self._lock:
            return list(self._arrivals.get(phone, ()))

    def count(self, phone: str) -> int:
        with self._lock:
            return len(self._arrivals.get(phone, ()))

    async def wait_beyond(self, phone: str, count: int, seconds: float) -> bool:
        """Whether the phone has more than ``count`` messages within ``seconds``."""
        event = asyncio.Event()
        with self._lock:
            self._waiters[phone] = (asyncio.get_running_loop(), event)
        try:
            deadline = time.monotonic() + seconds
            while self.count(phone) <= count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                event.clear()
                if self.count(phone) > count:
                    break
                try:
                    await asyncio.wait_for(event.wait(), left)
                except asyncio.TimeoutError:
                    return self.count(phone) > count
            return True
        finally:
            with self._lock:
                self._waiters.pop(phone, None)


class WatchedGraphApi(FakeGraphApi):
    """The fake Graph API, noting on a ``ReplyClock`` when each accepted message reached its phone.

    Messages themselves are not kept (``keep_messages=False``): a long run would hold them all.
    """

    def __init__(self, clock: ReplyClock, access_token: str) -> None:
        super().__init__(access_token, keep_messages=False)
        self.clock = clock

    def _answer(self, phone_number_id: str, authorization: str, message: dict[str, Any]) -> JSONResponse:
        response = super()._answer(phone_number_id, authorization, message)
        if response.status_code == 200:
            self.clock.record(str(message.get("to")), _body_of(message))
        return response


# --- playing conversations ------------------------------------------------------------------------


class RestPlayer:
    """Plays REST conversations: each message is a POST whose answer is the whole reply.

    ``tanyavaksin`` False for another bot (the baseline's moodbot): this assistant's failure notice and
    handoff are then not looked for.
    """

    def __init__(self, client: httpx.AsyncClient, url: str, tanyavaksin: bool = True) -> None:
        self.client = client
        self.url = require_loopback(url)
        self.failure_notice = FAILURE_NOTICE if tanyavaksin else None
        self.handoff = handoff_marker() if tanyavaksin else None

    async def play(self, conversation: Conversation, played: Played) -> None:
        for turn in conversation.turns:
            outcome = Outcome(conversation.kind, conversation.channel, turn.text)
            played.outcomes.append(outcome)
            started = outcome.started = time.perf_counter()
            try:
                answer = await self.client.post(
                    self.url, json={"sender": played.sender_id, "message": turn.text}
                )
            except httpx.TimeoutException:
                outcome.error = "timeout"
                return
            except httpx.HTTPError as error:
                outcome.error = type(error).__name__
                return
            outcome.finished = time.perf_counter()
            if answer.status_code != 200:
                outcome.error = f"HTTP {answer.status_code}"
                return
            try:
                messages = [dict(message) for message in answer.json()]
            except (ValueError, TypeError):
                outcome.error = "not a REST reply"
                return
            text = "\n\n".join(str(message.get("text") or "") for message in messages)
            if not text.strip() and not any(message.get("image") for message in messages):
                outcome.error = "no reply"
                return
            if self.failure_notice and self.failure_notice in text:
                outcome.error = "failure notice"
                return
            outcome.error = None
            outcome.seconds = outcome.finished - started
            outcome.unexpected = turn.expect is not None and turn.expect not in text
            if self.handoff and self.handoff in text:
                return  # handed to an officer: the bot stays silent until one answers


class WhatsAppPlayer:
    """Plays WhatsApp conversations: signed deliveries to the webhook, replies read off the ``ReplyClock``."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        webhook_url: str,
        app_secret: str,
        hash_key: str,
        clock: ReplyClock,
        reply_seconds: float,
        phone_number_id: str = payloads.DEFAULT_PHONE_NUMBER_ID,
    ) -> None:
        self.client = client
        self.url = require_loopback(webhook_url)
        self.app_secret = app_secret
        self.hash_key = hash_key
        self.clock = clock
        self.reply_seconds = reply_seconds
        self.phone_number_id = phone_number_id
        self.handoff = handoff_marker()
        self.redeliveries = 0
        self.redelivery_failures: list[str] = []

    def sender_id(self, phone: str) -> str:
        """What the tracker store keys the phone's conversation by."""
        return conversation_id(phone, self.hash_key)

    async def _post(self, body: bytes) -> httpx.Response:
        return await self.client.post(
            self.url, content=body, headers=payloads.signed_headers(body, self.app_secret)
        )

    async def play(self, conversation: Conversation, played: Played) -> None:
        phone = conversation.key
        for index, turn in enumerate(conversation.turns):
            outcome = Outcome(conversation.kind, conversation.channel, turn.text)
            played.outcomes.append(outcome)
            body = payloads.encode(
                payloads.messages_delivery(
                    payloads.text_message(phone, turn.text), phone_number_id=self.phone_number_id
                )
            )
            before = self.clock.count(phone)
            started = outcome.started = time.perf_counter()
            try:
                answer = await self._post(body)
                if index == 0:  # Meta resends a delivery it thinks failed: it must be handled once
                    self.redeliveries += 1
                    again = await self._post(body)
                    if again.status_code != 200:
                        self.redelivery_failures.append(f"HTTP {again.status_code}")
            except httpx.TimeoutException:
                outcome.error = "timeout"
                return
            except httpx.HTTPError as error:
                outcome.error = type(error).__name__
                return
            if answer.status_code != 200:
                outcome.error = f"HTTP {answer.status_code}"
                return
            if not await self.clock.wait_beyond(phone, before, self.reply_seconds):
                outcome.error = "no reply"
                return
            first_time, first_text = self.clock.arrivals(phone)[before]
            if FAILURE_NOTICE in first_text:
                outcome.error = "failure notice"
                return
            outcome.error = None
            outcome.finished = first_time
            outcome.seconds = first_time - started
            if any(self.handoff in text for _, text in self.clock.arrivals(phone)[before:]):
                return
            if index + 1 < len(conversation.turns):
                await self._settle(phone)

    async def _settle(self, phone: str) -> None:
        """Waits until the turn's other messages are in (quiet for ``SETTLE_SECONDS``), so the next
        message's reply is not one of them."""
        deadline = time.monotonic() + SETTLE_LIMIT
        while time.monotonic() < deadline:
            if not await self.clock.wait_beyond(phone, self.clock.count(phone), SETTLE_SECONDS):
                return
