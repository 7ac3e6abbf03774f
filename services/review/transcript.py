"""A conversation's tracker store events as a transcript in plain words, for ministry staff.

A reviewer needs three things per turn: what the recipient asked, what the bot answered, and why
(in words: "Dijawab dari topik Efek samping (yakin 91 %)"). Rasa's bookkeeping is left out: action
events, ``action_listen``, rejected actions, active loops, the menu's own slots, and sealed values
(ciphertext, core/schedule_slots.py). A button press is shown as the button's title, never as its
``/intent{...}`` payload. Officers' replies (an ``officer_reply`` event the officer console
triggered, core/handoff.py) are the officer's words, not something the recipient typed.

What the recipient typed and slot values are masked (services/review/masking.py); what the bot and
officers said is shown exactly as written, so a content reviewer can check dates and hotlines.

The words are Indonesian :class:`Phrase`\\ s with ``{placeholders}``; the page says them in the
reader's language (``phrase.say(language)``), so building a transcript needs no request.
:func:`build_transcript` is public: the conversation page and the officer console both use it
(and the template ``transcript_lines.html``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from actions.choices import FALLBACK_STREAK, MENU_POSITION, OFFERED_OPTIONS, parse_payload
from actions.choices import topic_titles as menu_topic_titles
from core.handoff import EXTERNAL_MESSAGE_PREFIX, OFFICER_REPLY_INTENT, RELEASE_INTENT
from core.schedule_slots import (
    BIRTH_DATE_SLOT,
    CHALLENGE_SLOT,
    CODE_SLOT,
    NIK_SLOT,
    REQUESTED_SLOT,
    SEALED_PREFIX,
)
from rasa_project.content import ContentError, Signature, content_dir, load_content, signature
from services.review.i18n import translate
from services.review.indexer import (
    FAQ_ANSWER_PREFIX,
    FAQ_CHOICE_INTENT,
    HANDOFF_SLOT,
    TrackerEvent,
    officer_text,
    parse_user_event,
)
from services.review.masking import mask_message, mask_value
from services.review.models import ReviewMessage

FAQ_PREFIX = "faq/"
# Slots that are the menu's or the form's bookkeeping, or secrets: never shown.
HIDDEN_SLOTS = frozenset(
    {OFFERED_OPTIONS, MENU_POSITION, FALLBACK_STREAK, REQUESTED_SLOT, CHALLENGE_SLOT, CODE_SLOT}
)
SLOT_LABELS = {NIK_SLOT: "NIK", BIRTH_DATE_SLOT: "Tanggal lahir"}
# What the recipient meant, in words (the intents of rasa_project/domain).
INTENT_WORDS = {
    "greet": "Menyapa",
    "goodbye": "Berpamitan",
    "thank": "Berterima kasih",
    "affirm": "Menjawab ya",
    "deny": "Menjawab tidak",
    "bot_challenge": "Bertanya apakah ini bot",
    "check_schedule": "Ingin cek jadwal",
    "show_menu": "Minta menu",
    "human_handoff": "Minta petugas",
    "out_of_scope": "Di luar topik vaksinasi",
    "faq": "Pertanyaan FAQ",
    "nlu_fallback": "Tidak dipahami",
    "choose_option": "Memilih nomor",
    "faq_choice": "Memilih topik",
    "cancel": "Membatalkan",
    RELEASE_INTENT: "Dikembalikan ke bot",
    OFFICER_REPLY_INTENT: "Balasan petugas",
}
# Why the bot said what it said, by the response it came from.
RESPONSE_REASONS = {
    "utter_uncertain_answer": "Tidak yakin: menawarkan pilihan",
    "utter_uncertain_answer_again": "Tidak yakin: menawarkan pilihan",
    "utter_did_you_mean": "Tidak yakin: menawarkan pilihan",
    "utter_did_you_mean_or_officer": "Tidak yakin lagi: menawarkan pilihan dan petugas",
    "utter_menu": "Menu ditampilkan",
    "utter_same_list": "Menu ditampilkan",
    "utter_out_of_scope": "Di luar topik vaksinasi: menawarkan menu",
    "utter_out_of_scope_again": "Di luar topik vaksinasi: menawarkan menu",
    "utter_option_unknown": "Pilihan tidak dikenali",
    "utter_handoff_offer": "Menawarkan petugas",
    "utter_handoff_offer_again": "Menawarkan petugas",
    "utter_answer_still_holds": "Jawaban sebelumnya masih berlaku",
    "utter_handoff_requested": "Diteruskan ke petugas",
    "utter_handoff_requested_after_hours": "Diteruskan ke petugas (di luar jam kerja)",
    "utter_human_handoff": "Diteruskan ke petugas",
    "utter_handoff_released": "Kembali dilayani bot",
}
MENU_RESPONSE_PREFIX = "utter_menu_"
SCHEDULE_ASK_PREFIX = "utter_ask_schedule_"
SCHEDULE_PREFIX = "utter_schedule_"
# Payloads pressed where no button of the previous message had them (typed by hand, an old menu).
PAYLOAD_WORDS = {
    "show_menu": "membuka menu",
    "human_handoff": "minta petugas",
    "check_schedule": "cek jadwal",
    "cancel": "batal",
}


@dataclass(frozen=True)
class Phrase:
    """An Indonesian text with ``{placeholders}``; the page translates it, then fills the values."""

    text: str
    values: Mapping[str, str] = field(default_factory=dict)

    def say(self, language: str) -> str:
        """In ``language``: the text, and each value (words like "Minta petugas"; a topic's title,
        a number or a masked value has no entry and stays as it is)."""
        values = {name: translate(value, language) for name, value in self.values.items()}
        return translate(self.text, language, **values)


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass
class TranscriptLine:
    """One line a reader sees.

    ``kind``: ``user`` (``text`` masked, or ``pressed``: the title of the button pressed),
    ``bot`` (``text`` as written, ``buttons``, ``why``), ``officer`` (an officer's reply, as written),
    ``note`` (``why``: a handoff, a new session), ``slot`` (``why``: "NIK: [NIK]", masked).
    """

    kind: str
    at: datetime | None
    event_id: int
    text: str = ""
    pressed: str | None = None
    understood: Phrase | None = None  # user: what the assistant made of the message
    outcome: str | None = None  # user: answered / fallback / handoff / other (the indexer's)
    channel: str | None = None
    buttons: list[Button] = field(default_factory=list)
    why: Phrase | None = None


def humanise(name: str) -> str:
    """``jarak_dosis`` → "Jarak dosis": a topic or slot the menus have no title for."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def percent(confidence: float) -> str:
    return str(round(confidence * 100))


@cache
def _titles_of(directory: Path, _signature: Signature) -> dict[str, str]:
    try:
        content = load_content(directory)
    except ContentError:
        return {}
    return menu_topic_titles({"responses": content.responses})


def topic_titles(directory: Path | None = None) -> dict[str, str]:
    """Topic → its short title, as the menus' buttons name it (the domain, read again when it changes)."""
    folder = content_dir() if directory is None else directory
    return _titles_of(folder, signature(folder))


class _Reader:
    """Walks the events once, remembering what the lines after need: the buttons just shown, the
    last question and how it was understood, whether the turn is an officer's."""

    def __init__(self, messages: Mapping[int, ReviewMessage], titles: Mapping[str, str]) -> None:
        self.messages = messages
        self.titles = titles
        self.lines: list[TranscriptLine] = []
        self.buttons: list[Button] = []
        self.topic: str | None = None  # faq/<topic> of the last question
        self.confidence: float | None = None
        self.chosen = False  # the last question was a topic picked from a menu
        self.officer_turn = False

    def title(self, topic: str) -> str:
        name = topic.removeprefix(FAQ_PREFIX)
        return self.titles.get(name) or humanise(name)

    def read(self, event: TrackerEvent) -> None:
        kind = event.type_name
        if kind == "user":
            self.user(event)
        elif kind == "bot":
            self.bot(event)
        elif kind == "slot":
            self.slot(event)
        elif kind == "session_started":
            self.note(event, "Sesi baru dimulai")
        elif kind == "restart":
            self.note(event, "Percakapan dimulai ulang")
        # Anything else (actions, action_execution_rejected, active_loop, featurization) is Rasa's.

    def note(self, event: TrackerEvent, text: str, **values: str) -> None:
        self.lines.append(TranscriptLine("note", event.timestamp, event.id, why=Phrase(text, values)))

    def user(self, event: TrackerEvent) -> None:
        parsed = parse_user_event(event.data)
        self.officer_turn = parsed.intent == OFFICER_REPLY_INTENT
        if self.officer_turn:
            said = officer_text(event.data) or ""
            self.lines.append(TranscriptLine("officer", event.timestamp, event.id, text=said))
            return
        text = parsed.text or ""
        if parsed.intent == RELEASE_INTENT and text.startswith(EXTERNAL_MESSAGE_PREFIX):
            self.note(event, "Petugas mengembalikan percakapan ke bot")
            return
        if text.startswith(EXTERNAL_MESSAGE_PREFIX):
            self.note(event, "Dipicu dari luar percakapan: {what}", what=humanise(parsed.intent or ""))
            return
        message = self.messages.get(event.id)
        line = TranscriptLine(
            "user",
            event.timestamp,
            event.id,
            channel=parsed.channel,
            outcome=message.outcome if message else None,
        )
        choice = parse_payload(text) if text.startswith("/") else None
        if choice is not None:
            line.pressed = self.pressed(text, choice.intent, choice.entities)
        else:
            line.text = mask_message(text)
        self.chosen = parsed.intent == FAQ_CHOICE_INTENT
        self.topic, self.confidence = parsed.topic, parsed.confidence
        line.understood = self.understood(parsed.intent, parsed.topic, parsed.confidence)
        self.lines.append(line)

    def pressed(self, payload: str, intent: str, entities: Mapping[str, str]) -> str:
        """The title of the button the payload came from, or the payload in words."""
        for button in self.buttons:
            if button.payload == payload:
                return button.title
        if intent == FAQ_CHOICE_INTENT and entities.get("topic"):
            return self.title(entities["topic"])
        return PAYLOAD_WORDS.get(intent, humanise(intent))

    def understood(self, intent: str | None, topic: str | None, confidence: float | None) -> Phrase | None:
        if topic and intent == FAQ_CHOICE_INTENT:
            return Phrase("Topik dipilih: {topic}", {"topic": self.title(topic)})
        if topic:
            if confidence is None:
                return Phrase("Topik: {topic}", {"topic": self.title(topic)})
            return Phrase(
                "Topik: {topic} (yakin {percent} %)",
                {"topic": self.title(topic), "percent": percent(confidence)},
            )
        if not intent:
            return None
        words = INTENT_WORDS.get(intent, humanise(intent))
        if confidence is None:
            return Phrase("Maksud: {intent}", {"intent": words})
        return Phrase(
            "Maksud: {intent} (yakin {percent} %)", {"intent": words, "percent": percent(confidence)}
        )

    def bot(self, event: TrackerEvent) -> None:
        data = event.data
        found = (data.get("data") or {}).get("buttons") or []
        buttons = [
            Button(str(button.get("title") or ""), str(button.get("payload") or ""))
            for button in found
            if isinstance(button, dict)
        ]
        if buttons:
            self.buttons = buttons
        if self.officer_turn:  # the officer's words are the line before; this is their delivery
            return
        metadata = data.get("metadata") or {}
        response = str(metadata.get("utter_action") or metadata.get("template_name") or "")
        self.lines.append(
            TranscriptLine(
                "bot",
                event.timestamp,
                event.id,
                text=str(data.get("text") or ""),
                buttons=buttons,
                why=self.why(response),
            )
        )

    def why(self, response: str) -> Phrase | None:
        if response.startswith(FAQ_ANSWER_PREFIX):
            topic = response.removeprefix(FAQ_ANSWER_PREFIX)
            title = self.title(topic)
            if self.chosen:
                return Phrase("Dijawab dari topik {topic} (dipilih penerima)", {"topic": title})
            if self.topic == f"{FAQ_PREFIX}{topic}" and self.confidence is not None:
                return Phrase(
                    "Dijawab dari topik {topic} (yakin {percent} %)",
                    {"topic": title, "percent": percent(self.confidence)},
                )
            return Phrase("Dijawab dari topik {topic}", {"topic": title})
        if response in RESPONSE_REASONS:
            return Phrase(RESPONSE_REASONS[response])
        if response.startswith(MENU_RESPONSE_PREFIX):
            return Phrase("Menu ditampilkan")
        if response.startswith(SCHEDULE_ASK_PREFIX):
            return Phrase("Cek jadwal: meminta data")
        if response.startswith(SCHEDULE_PREFIX):
            return Phrase("Cek jadwal")
        return None

    def slot(self, event: TrackerEvent) -> None:
        name = str(event.data.get("name") or "")
        value = event.data.get("value")
        if name == HANDOFF_SLOT:
            if value:
                self.note(event, "Menunggu petugas")
            return
        if name in HIDDEN_SLOTS or name.startswith("kontak_") or value is None or _sealed(value):
            return
        label = SLOT_LABELS.get(name, humanise(name))
        if isinstance(value, bool):
            text = "ya" if value else "tidak"
        else:
            shown = mask_value(value, mask_message)
            text = ", ".join(str(item) for item in shown) if isinstance(shown, list) else str(shown)
        self.lines.append(
            TranscriptLine(
                "slot",
                event.timestamp,
                event.id,
                why=Phrase("{label}: {value}", {"label": label, "value": text}),
            )
        )


def _sealed(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith(SEALED_PREFIX)
    if isinstance(value, list | tuple):
        return any(_sealed(item) for item in value)
    if isinstance(value, dict):
        return any(_sealed(item) for item in value.values())
    return False


def build_transcript(
    events: list[TrackerEvent],
    messages: Mapping[int, ReviewMessage],
    *,
    titles: Mapping[str, str] | None = None,
) -> list[TranscriptLine]:
    """The lines of a transcript, in order. ``messages`` (the indexed user messages by event id)
    give each question its outcome; ``titles`` name the topics (default: the menus' titles of the
    content folder, :func:`topic_titles`)."""
    reader = _Reader(messages, topic_titles() if titles is None else titles)
    for event in events:
        reader.read(event)
    return reader.lines
