"""``python -m tests.load.soak --seconds 60``: hostile requests mixed into normal chat, on loopback.

Starts the assistant as ``make run`` does (own ports and run folder, the WhatsApp channel pointed
at the local fake Graph API), then runs two phases of equal length:

1. **normal**: one person after another asks FAQ questions over REST, one at a time;
2. **mixed**: the same, while hostile clients send the attacks of issue #11 over REST and
   WhatsApp (lone surrogates, control characters, 10,000 to 200,000 characters, JSON nested
   100,000 deep, bodies over the size cap), each followed by a pause (``--hostile-interval``).

It reports the normal chats' latency (p50/p95) in each phase, the normal messages left
unanswered, every hostile request that did not get the answer it should, transport errors, and
whether every process of the stack is still the one that started. The exit status is 0 only when
nothing went wrong. Figures, not assertions: latency depends on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from rasa_project.channels.inbound import MAX_BODY_BYTES, TOO_LONG_NOTICE
from tests.harness.assistant_process import AssistantProcess, start_assistant
from tests.harness.whatsapp import payloads
from tests.harness.whatsapp.fake_graph_api import FakeGraphApi, FakeGraphApiThread

NORMAL_QUESTIONS = (
    "vaksin bayar ga?",
    "apakah vaksin halal?",
    "halo min",
    "efek samping vaksin apa aja?",
    "syarat vaksin booster apa?",
    "ibu hamil boleh vaksin?",
)
REQUEST_SECONDS = 120.0
# The WhatsApp settings of the stack the soak starts (local fake Graph API, throw-away secrets).
WHATSAPP_SECRETS = {
    "WHATSAPP_VERIFY_TOKEN": "soak-verify-token",
    "WHATSAPP_APP_SECRET": "soak-app-secret",
    "WHATSAPP_ACCESS_TOKEN": "soak-access-token",
    "WHATSAPP_SENDER_HASH_KEY": "soak-sender-hash-key",
    "WHATSAPP_PHONE_NUMBER_ID": payloads.DEFAULT_PHONE_NUMBER_ID,
}
SOAK_PHONE = "6281100000000"  # the phone the WhatsApp attacks come from
DEFAULT_RASA_PORT = 15140
DEFAULT_ACTION_PORT = 15180
DEFAULT_FAKE_GRAPH_PORT = 15187


@dataclass(frozen=True)
class Attack:
    """One hostile request and the answer that shows it was refused or survived."""

    name: str
    channel: str  # "rest" or "whatsapp"
    body: bytes
    expected_status: int
    expect_notice: bool = False  # REST: the reply must be the "too long" notice


def _rest_body(sender_json: str, message_json: str) -> bytes:
    return f'{{"sender": {sender_json}, "message": {message_json}}}'.encode()


def _long_text(characters: int) -> str:
    words = itertools.cycle(("vaksin", "jadwal", "booster", "dosis"))
    text = " ".join(itertools.islice(words, characters // 6 + 1))
    return text[:characters]


def rest_attacks() -> list[Attack]:
    """The REST attacks of issue #11 (items 1 and 2)."""
    return [
        Attack("rest lone surrogate sender", "rest", _rest_body('"\\ud800"', '"halo"'), 400),
        Attack("rest surrogate in text", "rest", _rest_body('"soak-s"', '"vak\\udc00sin bayar ga?"'), 200),
        Attack(
            "rest control characters", "rest", _rest_body('"soak-c"', '"vaksin\\u0000\\u001b bayar?"'), 200
        ),
        *(
            Attack(
                f"rest {n:,} characters", "rest", _rest_body('"soak-l"', json.dumps(_long_text(n))), 200, True
            )
            for n in (10_000, 50_000, 200_000)
        ),
        Attack(
            "rest JSON 100,000 deep",
            "rest",
            b'{"sender": "soak-d", "message": "halo", "metadata": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            400,
        ),
        Attack("rest huge body", "rest", _rest_body('"soak-h"', json.dumps("a" * (2 * MAX_BODY_BYTES))), 413),
    ]


def whatsapp_attacks(phone: str) -> list[Attack]:
    """The same attacks, signed, on the WhatsApp webhook (only with the channel configured)."""
    deep = b'{"object": "whatsapp_business_account", "entry": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    long_text = payloads.encode(payloads.messages_delivery(payloads.text_message(phone, _long_text(50_000))))
    huge = payloads.encode(payloads.messages_delivery(payloads.text_message(phone, "a" * 2 * MAX_BODY_BYTES)))
    surrogate_sender = json.dumps(
        payloads.messages_delivery(payloads.text_message("\ud800", "halo"))
    ).encode()
    return [
        Attack("whatsapp signed JSON 100,000 deep", "whatsapp", deep, 400),
        Attack("whatsapp 50,000 characters", "whatsapp", long_text, 200),
        Attack("whatsapp huge body", "whatsapp", huge, 413),
        Attack("whatsapp lone surrogate sender", "whatsapp", surrogate_sender, 400),
    ]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class PhaseReport:
    name: str
    latencies: list[float] = field(default_factory=list)
    normal_sent: int = 0
    unanswered: list[str] = field(default_factory=list)
    hostile_sent: Counter[str] = field(default_factory=Counter)
    hostile_unexpected: list[str] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "phase": self.name,
            "normal_sent": self.normal_sent,
            "normal_answered": len(self.latencies),
            "normal_p50_ms": round(statistics.median(self.latencies) * 1000) if self.latencies else None,
            "normal_p95_ms": round(percentile(self.latencies, 0.95) * 1000) if self.latencies else None,
            "unanswered": self.unanswered,
            "hostile_sent": sum(self.hostile_sent.values()),
            "hostile_unexpected": self.hostile_unexpected,
            "transport_errors": self.transport_errors,
        }


@dataclass
class SoakReport:
    phases: list[PhaseReport]
    processes_before: dict[str, int]
    processes_after: dict[str, int]
    supervisor_running: bool

    @property
    def stack_stayed_up(self) -> bool:
        """The supervisor runs and every process is the one that started (none died or restarted)."""
        return self.supervisor_running and self.processes_after == self.processes_before

    @property
    def problems(self) -> list[str]:
        found = [] if self.stack_stayed_up else ["the stack did not stay up"]
        for phase in self.phases:
            found += [f"{phase.name}: unanswered {text!r}" for text in phase.unanswered]
            found += [f"{phase.name}: {problem}" for problem in phase.hostile_unexpected]
            found += [f"{phase.name}: {error}" for error in phase.transport_errors]
        return found

    def summary(self) -> dict[str, Any]:
        return {
            "phases": [phase.summary() for phase in self.phases],
            "processes_before": self.processes_before,
            "processes_after": self.processes_after,
            "stack_stayed_up": self.stack_stayed_up,
            "problems": self.problems,
        }


class Soak:
    """Drives one running stack; ``whatsapp_secret`` enables the WhatsApp attacks."""

    def __init__(
        self,
        assistant: AssistantProcess,
        whatsapp_secret: str | None = None,
        hostile_interval: float = 0.2,
        hostile_clients: int = 2,
    ) -> None:
        self.assistant = assistant
        self.whatsapp_secret = whatsapp_secret
        self.hostile_interval = hostile_interval
        self.hostile_clients = hostile_clients
        self.attacks = rest_attacks()
        if whatsapp_secret:
            self.attacks += whatsapp_attacks(SOAK_PHONE)
        self._numbers = itertools.count()

    @property
    def whatsapp_url(self) -> str:
        return f"http://127.0.0.1:{self.assistant.rasa_port}/webhooks/whatsapp/webhook"

    async def _normal_chat(self, client: httpx.AsyncClient, phase: PhaseReport, until: float) -> None:
        questions = itertools.cycle(NORMAL_QUESTIONS)
        while time.monotonic() < until:
            text = next(questions)
            sender = f"soak-{phase.name}-{next(self._numbers)}"  # a new person: no state carries over
            phase.normal_sent += 1
            started = time.perf_counter()
            try:
                answer = await client.post(self.assistant.rest_url, json={"sender": sender, "message": text})
            except httpx.HTTPError as error:
                phase.transport_errors.append(f"normal {text!r}: {type(error).__name__}")
                continue
            elapsed = time.perf_counter() - started
            if answer.status_code == 200 and any(message.get("text") for message in answer.json()):
                phase.latencies.append(elapsed)
            else:
                phase.unanswered.append(f"{text} (HTTP {answer.status_code})")

    async def _send_attack(self, client: httpx.AsyncClient, attack: Attack) -> httpx.Response:
        if attack.channel == "rest":
            headers = {"Content-Type": "application/json"}
            return await client.post(self.assistant.rest_url, content=attack.body, headers=headers)
        assert self.whatsapp_secret is not None
        signed = payloads.signed_headers(attack.body, self.whatsapp_secret)
        return await client.post(self.whatsapp_url, content=attack.body, headers=signed)

    async def _hostile(
        self, client: httpx.AsyncClient, phase: PhaseReport, until: float, offset: int
    ) -> None:
        attacks = itertools.islice(itertools.cycle(self.attacks), offset, None)
        while time.monotonic() < until:
            attack = next(attacks)
            phase.hostile_sent[attack.name] += 1
            try:
                answer = await self._send_attack(client, attack)
            except httpx.HTTPError as error:
                phase.transport_errors.append(f"{attack.name}: {type(error).__name__}")
            else:
                problem = unexpected(attack, answer)
                if problem:
                    phase.hostile_unexpected.append(f"{attack.name}: {problem}")
            await asyncio.sleep(self.hostile_interval)

    async def phase(self, name: str, seconds: float, hostile: bool) -> PhaseReport:
        report = PhaseReport(name)
        until = time.monotonic() + seconds
        async with httpx.AsyncClient(timeout=REQUEST_SECONDS) as client:
            work = [self._normal_chat(client, report, until)]
            if hostile:
                work += [self._hostile(client, report, until, n) for n in range(self.hostile_clients)]
            await asyncio.gather(*work)
        return report

    def run(self, seconds: float) -> SoakReport:
        before = self.assistant.member_pids()
        phases = [
            asyncio.run(self.phase("normal", seconds / 2, hostile=False)),
            asyncio.run(self.phase("mixed", seconds / 2, hostile=True)),
        ]
        return SoakReport(phases, before, self.assistant.member_pids(), self.assistant.process.poll() is None)


def unexpected(attack: Attack, answer: httpx.Response) -> str | None:
    """Why the answer shows the attack was not handled as it should be; None when it was."""
    if answer.status_code != attack.expected_status:
        return f"HTTP {answer.status_code}, expected {attack.expected_status}"
    if attack.channel != "rest" or attack.expected_status != 200:
        return None
    texts = [message.get("text") for message in answer.json()]
    if attack.expect_notice and texts != [TOO_LONG_NOTICE]:
        return f"reply {texts!r} is not the length notice"
    if not attack.expect_notice and not any(texts):
        return "no reply"
    return None


def run_with_own_stack(
    seconds: float,
    rasa_port: int,
    action_port: int,
    fake_port: int,
    hostile_interval: float,
    progress: Callable[[str], None],
) -> SoakReport:
    """Starts the stack and the fake Graph API, soaks, stops them."""
    fake = FakeGraphApiThread(FakeGraphApi(access_token=WHATSAPP_SECRETS["WHATSAPP_ACCESS_TOKEN"]), fake_port)
    fake.start()
    try:
        with tempfile.TemporaryDirectory(prefix="soak-") as run_dir:
            environment = {**WHATSAPP_SECRETS, "WHATSAPP_GRAPH_API_URL": f"{fake.base_url}/v21.0"}
            assistant = start_assistant(Path(run_dir), rasa_port, action_port, extra_env=environment)
            try:
                progress("starting the assistant ...")
                assistant.wait_until_up()
                progress(f"soaking for {seconds:.0f} s ...")
                soak = Soak(assistant, WHATSAPP_SECRETS["WHATSAPP_APP_SECRET"], hostile_interval)
                return soak.run(seconds)
            finally:
                assistant.stop()
    finally:
        fake.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0, help="total length of both phases")
    parser.add_argument("--hostile-interval", type=float, default=0.2, help="pause after each attack")
    parser.add_argument("--rasa-port", type=int, default=DEFAULT_RASA_PORT)
    parser.add_argument("--action-port", type=int, default=DEFAULT_ACTION_PORT)
    parser.add_argument("--fake-graph-port", type=int, default=DEFAULT_FAKE_GRAPH_PORT)
    args = parser.parse_args(argv)
    report = run_with_own_stack(
        args.seconds,
        args.rasa_port,
        args.action_port,
        args.fake_graph_port,
        args.hostile_interval,
        lambda line: print(line, file=sys.stderr),
    )
    print(json.dumps(report.summary(), indent=2, ensure_ascii=False))
    return 0 if not report.problems else 1


if __name__ == "__main__":
    sys.exit(main())
