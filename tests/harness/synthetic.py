"""Made-up conversations written as Rasa's SQLTrackerStore writes them, for benchmarks and tests.

Each conversation is a session start and one or two turns: confident FAQ answers, uncertain ones
(the fallback menu, "did you mean"), greetings, out-of-scope questions, menu picks, and requests
for an officer (``handoff_requested`` set true). Event JSON has the shapes of Rasa 3.6's
``Event.as_dict()``; rows are bulk inserted into ``events``, created with Rasa's schema if missing.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, Text, create_engine, insert

from services.review.database import normalise_database_url

TOPICS = (
    "cara_kerja", "jenis_vaksin", "keamanan", "halal", "biaya", "wajib", "efektivitas", "mitos",
    "syarat_usia", "anak", "ibu_hamil", "ibu_menyusui", "booster", "jarak_dosis", "kipi_ringan",
    "sertifikat", "lokasi", "cara_daftar", "persiapan", "setelah_vaksin",
)  # fmt: skip
QUESTIONS = {
    "halal": "apakah vaksinnya halal?",
    "biaya": "vaksin bayar ga sih",
    "booster": "kapan saya bisa booster kedua",
    "sertifikat": "sertifikat vaksin saya belum muncul di aplikasi",
    "lokasi": "vaksin dimana yang dekat rumah",
    "kipi_ringan": "lengan pegal setelah vaksin normal?",
    "ibu_hamil": "ibu hamil 5 bulan boleh vaksin?",
}
UNCERTAIN = (
    "kalo abis vaksin boleh main layangan ga",
    "apa boleh vaksin abis begadang semalaman",
    "saya bingung harus gimana",
    "nomor hp saya 081234567890 tolong dicek",
    "lahir 17 agustus 1985 bisa vaksin?",
)
CHANNELS = ("whatsapp", "whatsapp", "whatsapp", "rest")
MAIN_MENU_BUTTONS = [
    {"title": "Info umum vaksin", "payload": '/show_menu{"menu_category":"umum"}'},
    {"title": "Dosis & booster", "payload": '/show_menu{"menu_category":"dosis"}'},
    {"title": "Hubungi petugas", "payload": "/human_handoff"},
]

metadata = MetaData()
EVENTS_TABLE = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


@dataclass(frozen=True)
class EventRow:
    sender_id: str
    type_name: str
    timestamp: float
    data: dict[str, Any]

    def as_row(self) -> dict[str, Any]:
        intent = ((self.data.get("parse_data") or {}).get("intent") or {}).get("name")
        return {
            "sender_id": self.sender_id,
            "type_name": self.type_name,
            "timestamp": self.timestamp,
            "intent_name": intent,
            "action_name": self.data.get("name") if self.type_name == "action" else None,
            "data": json.dumps(self.data),
        }


class Conversation:
    """Builds one conversation's events with a running clock."""

    def __init__(self, sender_id: str, start: float, channel: str, rng: random.Random) -> None:
        self.sender_id = sender_id
        self.clock = start
        self.channel = channel
        self.rng = rng
        self.events: list[EventRow] = []

    def _add(self, type_name: str, data: dict[str, Any], gap: float = 0.05) -> None:
        self.clock += gap
        self.events.append(
            EventRow(
                self.sender_id, type_name, self.clock, {"event": type_name, "timestamp": self.clock, **data}
            )
        )

    def action(self, name: str, policy: str | None = "RulePolicy", confidence: float | None = 1.0) -> None:
        self._add(
            "action",
            {
                "name": name,
                "policy": policy,
                "confidence": confidence,
                "action_text": None,
                "hide_rule_turn": False,
            },
        )

    def session_start(self) -> None:
        self.action("action_session_start", None, None)
        self._add("session_started", {})
        self.action("action_listen", None, None)

    def user(
        self,
        text: str,
        intent: str,
        confidence: float,
        topic: str | None = None,
        topic_confidence: float = 0.0,
        entities: list[dict[str, Any]] | None = None,
    ) -> None:
        parse: dict[str, Any] = {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities or [],
            "intent_ranking": [{"name": intent, "confidence": confidence}],
        }
        if topic is not None:
            parse["response_selector"] = {
                "all_retrieval_intents": ["faq"],
                "faq": {
                    "response": {
                        "id": None,
                        "responses": [{"text": "..."}],
                        "response_templates": [{"text": "..."}],
                        "confidence": topic_confidence,
                        "intent_response_key": f"faq/{topic}",
                        "utter_action": f"utter_faq/{topic}",
                        "template_name": f"utter_faq/{topic}",
                    },
                    "ranking": [
                        {"id": None, "confidence": topic_confidence, "intent_response_key": f"faq/{topic}"}
                    ],
                },
            }
        self._add(
            "user",
            {
                "text": text,
                "parse_data": parse,
                "input_channel": self.channel,
                "message_id": f"{self.rng.getrandbits(64):016x}",
                "metadata": {},
            },
            gap=self.rng.uniform(5, 90),
        )

    def bot(self, response: str, text: str, buttons: list[dict[str, str]] | None = None) -> None:
        data = {
            "elements": None,
            "quick_replies": None,
            "buttons": buttons,
            "attachment": None,
            "image": None,
            "custom": None,
        }
        self._add("bot", {"text": text, "data": data, "metadata": {"utter_action": response}}, gap=0.4)

    def slot(self, name: str, value: Any) -> None:
        self._add("slot", {"name": name, "value": value})

    def turn(self) -> None:
        """One user turn, its answer, and the listen after it."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.55:
            topic = rng.choice(TOPICS)
            self.user(
                QUESTIONS.get(topic, f"pertanyaan tentang {topic.replace('_', ' ')}"),
                "faq",
                rng.uniform(0.6, 0.99),
                topic,
                rng.uniform(0.45, 0.99),
            )
            self.action("action_answer_faq")
            self.bot(f"utter_faq/{topic}", f"Jawaban tentang {topic.replace('_', ' ')}.")
        elif roll < 0.72:
            topic = rng.choice(TOPICS)
            self.user(rng.choice(UNCERTAIN), "nlu_fallback", rng.uniform(0.1, 0.3), None)
            self.action("action_uncertain_answer")
            if rng.random() < 0.5:
                self.bot(
                    "utter_uncertain_answer",
                    "Maaf, saya belum yakin memahami pertanyaan Anda.",
                    MAIN_MENU_BUTTONS,
                )
                self.slot("fallback_streak", 1.0)
            else:
                self.bot(
                    "utter_did_you_mean",
                    f"Apakah maksud Anda:\n1. {topic}",
                    [{"title": topic, "payload": f'/faq_choice{{"topic":"{topic}"}}'}],
                )
        elif roll < 0.80:
            self.user("halo", "greet", rng.uniform(0.8, 1.0))
            self.action("utter_greet")
            self.bot("utter_greet", "Halo! Saya TanyaVaksin.")
        elif roll < 0.86:
            self.user("siapa presiden sekarang", "out_of_scope", rng.uniform(0.5, 0.9))
            self.action("utter_out_of_scope")
            self.bot(
                "utter_out_of_scope",
                "Maaf, saya hanya bisa membantu soal vaksinasi COVID-19.",
                MAIN_MENU_BUTTONS,
            )
        elif roll < 0.93:
            topic = rng.choice(TOPICS)
            self.user(
                f'/faq_choice{{"topic":"{topic}"}}',
                "faq_choice",
                1.0,
                entities=[{"entity": "topic", "value": topic, "start": 0, "end": 0}],
            )
            self.action("action_answer_topic")
            self.bot(f"utter_faq/{topic}", f"Jawaban tentang {topic.replace('_', ' ')}.")
        else:
            self.user("saya mau bicara dengan petugas", "human_handoff", rng.uniform(0.7, 1.0))
            self.action("action_request_handoff")
            self.bot("utter_handoff_requested", "Baik, percakapan ini sudah kami teruskan ke petugas.")
            self.slot("handoff_requested", True)
            self.slot("fallback_streak", 0.0)
        self.action("action_listen", None, None)


def conversations(
    count: int, *, seed: int = 7, days: int = 30, now: datetime | None = None
) -> Iterator[list[EventRow]]:
    """``count`` conversations spread over the ``days`` before ``now``, each a list of events."""
    rng = random.Random(seed)
    end = (now or datetime.now(UTC)).timestamp()
    span = timedelta(days=days).total_seconds()
    for number in range(count):
        channel = rng.choice(CHANNELS)
        sender = f"wa_{rng.getrandbits(48):012x}" if channel == "whatsapp" else f"web-{number:07d}"
        conversation = Conversation(sender, end - rng.uniform(0, span) - 600, channel, rng)
        conversation.session_start()
        for _ in range(1 if rng.random() < 0.6 else 2):
            conversation.turn()
        yield conversation.events


def write_conversations(
    engine: Engine,
    count: int,
    *,
    seed: int = 7,
    days: int = 30,
    now: datetime | None = None,
    chunk: int = 20_000,
) -> int:
    """Append ``count`` conversations to the tracker store; returns the number of events written."""
    metadata.create_all(engine, checkfirst=True)
    written = 0
    pending: list[dict[str, Any]] = []
    with engine.begin() as connection:
        for events in conversations(count, seed=seed, days=days, now=now):
            pending.extend(event.as_row() for event in events)
            if len(pending) >= chunk:
                connection.execute(insert(EVENTS_TABLE), pending)
                written += len(pending)
                pending = []
        if pending:
            connection.execute(insert(EVENTS_TABLE), pending)
            written += len(pending)
    return written


def tracker_engine_for_writing(url: str) -> Engine:
    """A writable engine on a tracker store, for seeding only (the app itself never writes there)."""
    return create_engine(normalise_database_url(url))


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.harness.synthetic``: made-up conversations in a tracker store, to try the
    review app with data (``make bench-review`` writes 100,000 of them)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--tracker-url", required=True, help="SQLAlchemy URL of the tracker store")
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30, help="spread over this many days before now")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.conversations < 1:
        parser.error("--conversations must be at least 1")
    engine = tracker_engine_for_writing(args.tracker_url)
    try:
        written = write_conversations(engine, args.conversations, seed=args.seed, days=args.days)
    finally:
        engine.dispose()
    print(f"Wrote {args.conversations} conversations ({written} events) to the tracker store.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
