"""What a recipient reads: every response rendered by Rasa's own NLG with the contact block filled in.

The answers are health advice read on WhatsApp (``/work/shared/spec/answer-style.md``). These tests read
the text a phone receives, not the YAML: Rasa's ``TemplatedNaturalLanguageGenerator`` fills the
``{kontak_...}`` variables from the slots of ``rasa_project/domain/contacts.yml`` (their
``initial_value``), exactly as the running server does. They fail on a text that is too long, states a
retired rule as current (``faq_current.md`` §2), spells a contact anywhere but in contacts.yml, or
names a retired channel, and on an answer whose review record is incomplete or overdue.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_DIR = ROOT / "rasa_project" / "domain"
CONTACTS_FILE = DOMAIN_DIR / "contacts.yml"
TOPICS_FILE = ROOT / "data" / "faq_topics.yml"
FAQ_PREFIX = "utter_faq/"
CONTACT_PREFIX = "kontak_"

# answer-style.md and issue #10: what the phone shows.
MAX_BODY_CHARACTERS = 600  # before the source line
MAX_TOTAL_CHARACTERS = 700  # hard limit, everything the answer carries
WAY_ON_ALLOWANCE = 35  # "Ketik *menu* untuk topik lain", added by the actions after every answer
MAX_RENDERED_WITH_WAY_ON = 650
MAX_BULLETS = 4
SOURCE_PREFIX = "Sumber: "
MAX_DAYS_TO_NEXT_REVIEW = 366  # next_review at most 12 months ahead

STATUSES = {"draft", "approved"}
SOURCE_KINDS = {"primary", "secondary"}
OFFICIAL_HOST_SUFFIXES = (".go.id", "who.int", "mui.or.id")
PARTIAL_DATE = re.compile(r"^(n\.d\.|\d{4}(-\d{2}(-\d{2})?)?)$")

# A contact written outside contacts.yml (checked on the raw texts, variables removed).
CONTACT_SPELLINGS = {
    "emergency or hotline number": r"\b11[29]\b",
    "Halo Kemenkes number": r"\b(?:\(?021\)?[-\s]?)?1[-\s]?500[-\s]?567\b",
    "mobile number": r"(?<![\d/.])(?:\+?62|0)8\d{1,2}[-\s]?\d{3,4}[-\s]?\d{3,5}\b",
    "landline number": r"(?<![\d/.])\(?0\d{2,3}\)?[-\s]\d{5,8}\b",
    "e-mail address": r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    "web address": r"\b(?:https?://)?(?:[a-z0-9-]+\.)+(?:go\.id|or\.id|co\.id|id|com|org|net|int|ly)\b(?:/\S*)?",
}

# Channels that are dead, retired or unconfirmed (faq_current.md §2.4-2.6, §3 "Do not give").
RETIRED_CHANNELS = {
    "119 ext 9 (pandemic COVID line, unconfirmed after May 2023)": r"\b119\s*(?:ext\.?|ekst\.?|ekstensi)\s*9",
    "covid19.go.id / kipi.covid19.go.id": r"covid19\.go\.id",
    "PeduliLindungi (replaced by SATUSEHAT Mobile)": r"peduli\s*lindungi",
    "1199 SMS certificate link": r"\b1199\b",
    "Halo Kemenkes as 021-1500567 or 1-500567": r"\b021[-\s]?1500[-\s]?567|\b1-500-?567",
    "vaksin.kemkes.go.id (unverified since 2023)": r"(?<![\w.])vaksin\.kemkes\.go\.id",
    "keamananvaksin.kemkes.go.id (status unknown)": r"keamananvaksin",
    "bit.ly links": r"bit\.ly",
    "sertifikat@ e-mail": r"sertifikat@",
}

# Must not be said as current (faq_current.md §2), and the old issues of issue #10.
RETIRED_CLAIMS = {
    "§2.1 free for everyone": r"gratis\s+(?:untuk|bagi)\s+(?:semua|seluruh)",
    "§2.2 sanctions for refusing": r"\b(?:sanksi|bansos|denda)\b",
    "§2.3 certificate needed for travel or check-in": (
        r"check-?in|\bmal\b|sertifikat\s+vaksin\s+(?:wajib|diperlukan)"
    ),
    "§2.4 e-ticket for booster": r"\be-?tiket\b",
    "§2.9 efficacy percentages": r"\d+(?:[.,]\d+)?\s?%",
    "§2.10 pregnancy week window": r"\b13\s*[-–]\s*33\b",
    "§2.11 booster combination tables": r"setengah\s+dosis|dosis\s+setengah|half\s+dose",
    "§2.12/§2.13 fixed waiting times": (
        r"(?:jeda|jarak|tunggu|menunggu)\s+(?:minimal\s+)?(?:28\s+hari|2\s+minggu|dua\s+minggu|"
        r"[13]\s+bulan|satu\s+bulan|tiga\s+bulan)"
    ),
    "§2.14 blood-pressure cut-offs": r"\b1[48]0\s*/\s*(?:90|110)\b",
    "§2.15 children 6-11 or school programmes": r"\b6\s*[-–]\s*11\s+tahun|vaksinasi\s+(?:di\s+)?sekolah",
    "§2.16 malls, stations, TNI/Polri, Gotong Royong": (
        r"gotong\s+royong|kimia\s+farma|\bstasiun\b|\bTNI\b|\bPolri\b"
    ),
    "§2.17 KIPI paid by APBN": r"\bAPBN\b",
    "§2.18 a price as official": r"\bRp\.?\s?\d",
    "§2.19 same brand / restart": (
        r"harus\s+(?:sama|merek\s+yang\s+sama)|(?:harus|wajib)\s+(?:diulang|mengulang|ulang)|mulai\s+dari\s+awal"
    ),
    "§2.20 COVID-19 required for hajj/umrah": r"covid[- ]?19[^.\n]*wajib[^.\n]*(?:haji|umrah)",
    "self-isolation and testing after vaccination": r"isolasi\s+mandiri",
    "household-contact deferral": r"kontak\s+(?:serumah|erat)",
}
# An answer says what holds now; a paragraph of history ("Sebelumnya ...") pushes it off the screen.
HISTORY_PARAGRAPH = re.compile(r"(?m)^Sebelumnya\b")

# Clinical safety and the facts in force that an answer must carry (rendered text, case-insensitive).
REQUIRED_FACTS: dict[str, list[str]] = {
    "biaya": [r"gratis", r"prioritas", r"tidak ada tarif resmi", r"halo kemenkes"],
    "wajib": [r"tidak wajib", r"dianjurkan"],
    "efektivitas": [r"sakit berat", r"masih bisa", r"tidak menjamin"],
    "jenis_vaksin": [r"indovac", r"inavac"],
    "syarat_usia": [r"gratis", r"daya tahan tubuh lemah", r"ibu hamil"],
    "ibu_hamil": [r"gratis", r"bidan|dokter kandungan"],
    "komorbid": [r"gratis", r"daya tahan tubuh lemah", r"dokter"],
    "obat_rutin": [r"jangan hentikan", r"gratis", r"dokter"],
    "alergi": [r"alergi berat", r"dokter", r"lebih lama", r"sebelum disuntik"],
    "lansia": [r"gratis"],
    "setelah_vaksin": [r"15 menit"],
    "kipi_berat": [r"igd"],
    "perjalanan": [r"tidak lagi", r"meningitis"],
    "sertifikat": [r"satusehat mobile"],
    "sertifikat_bermasalah": [r"tempat anda divaksin", r"otp"],
    "kontak": [r"halo kemenkes", r"darurat", r"whatsapp"],
}
# Answers that must carry a contact (the variable, so the spelling comes from contacts.yml).
REQUIRED_CONTACTS: dict[str, set[str]] = {
    "biaya": {"kontak_halo_kemenkes"},
    "kipi_berat": {"kontak_darurat"},
    "sertifikat_bermasalah": {"kontak_whatsapp_kemenkes", "kontak_email_helpdesk"},
    "perjalanan": {"kontak_health_pass"},
    "kontak": {
        "kontak_darurat",
        "kontak_halo_kemenkes",
        "kontak_sms_kemenkes",
        "kontak_email_kemenkes",
        "kontak_whatsapp_kemenkes",
        "kontak_email_helpdesk",
        "kontak_situs",
    },
}
DANGER_SIGNS = re.compile(r"sesak napas|pingsan|bengkak (?:di )?wajah", re.IGNORECASE)
# One next step: where to go, whom to ask, or what to bring or do.
NEXT_STEP = re.compile(
    r"\b(?:tanyakan|telepon|hubungi|datang|bawa|periksa|laporkan|lapor|cek|siapkan|sampaikan|minta|lihat|"
    r"unduhan)\b",
    re.IGNORECASE,
)
OPEN_NOTE = re.compile(r"\bverif|\bconfirm|\bcheck\b|cek ulang|periksa ulang|belum dipastikan|\btodo\b", re.I)
PLACEHOLDER = re.compile(r"\{([^{}\n]+)\}")
BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
BULLET = re.compile(r"(?m)^\s*•")


def topics() -> list[str]:
    return list(yaml.safe_load(TOPICS_FILE.read_text(encoding="utf-8"))["topics"])


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(DOMAIN_DIR))


@pytest.fixture(scope="module")
def raw_responses() -> dict[str, list[dict[str, Any]]]:
    """The responses as written, file by file (metadata included)."""
    merged: dict[str, list[dict[str, Any]]] = {}
    for file in sorted(DOMAIN_DIR.glob("*.yml")):
        merged.update((yaml.safe_load(file.read_text(encoding="utf-8")) or {}).get("responses") or {})
    return merged


@pytest.fixture(scope="module")
def contacts() -> dict[str, str]:
    slots = yaml.safe_load(CONTACTS_FILE.read_text(encoding="utf-8"))["slots"]
    return {name: str(slot["initial_value"]) for name, slot in slots.items()}


def render(domain: Domain, name: str, variation: dict[str, Any]) -> dict[str, Any]:
    """One variation as the server sends it: Rasa's NLG, a fresh tracker, the slots at their start values.

    A variable that is no slot is the sending action's (``{lock_wait}``, ``{options}``): it gets a stand-in
    here, because Rasa leaves the whole template unfilled when one variable is missing, and the values the
    actions really pass are checked by tests/rasa_project/test_rendered_responses.py.
    """
    generator = TemplatedNaturalLanguageGenerator({name: [variation]})
    tracker = DialogueStateTracker.from_events("content-test", [], domain.slots)
    slot_names = {slot.name for slot in domain.slots}
    action_variables = {
        variable: "…"
        for text in strings(variation)
        for variable in re.findall(r"\{(\w+)\}", text)
        if variable not in slot_names
    }
    channel = variation.get("channel") or "rest"
    rendered = asyncio.run(generator.generate(name, tracker, channel, **action_variables))
    assert rendered is not None, f"{name}: Rasa rendered nothing"
    return rendered


@pytest.fixture(scope="module")
def rendered(domain: Domain) -> dict[str, list[dict[str, Any]]]:
    return {
        name: [render(domain, name, variation) for variation in variations]
        for name, variations in domain.responses.items()
    }


@pytest.fixture(scope="module")
def answers(rendered: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """Topic -> the text a recipient receives (each FAQ answer has one variation)."""
    return {
        name.removeprefix(FAQ_PREFIX): vs[0]["text"]
        for name, vs in rendered.items()
        if name.startswith(FAQ_PREFIX)
    }


def strings(value: Any) -> Iterator[str]:
    """Every string a response carries to the recipient (text, button titles, descriptions ...)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in {"metadata", "channel", "condition", "payload"}:
                yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def body_of(text: str) -> str:
    return text.split(f"\n{SOURCE_PREFIX}")[0].rstrip()


def official(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == suffix.lstrip(".") or host.endswith(suffix) for suffix in OFFICIAL_HOST_SUFFIXES)


def parse_date(value: Any, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        pytest.fail(f"{what} is not a date (YYYY-MM-DD): {value!r}")


# --------------------------------------------------------------------------- the contact block


def test_contacts_are_slots_rasa_fills_and_nothing_sets(contacts: dict[str, str]) -> None:
    slots = yaml.safe_load(CONTACTS_FILE.read_text(encoding="utf-8"))["slots"]
    assert slots, "contacts.yml declares no contact"
    for name, slot in slots.items():
        assert name.startswith(CONTACT_PREFIX), name
        assert slot["type"] == "text" and slot["influence_conversation"] is False, name
        assert slot["mappings"] == [{"type": "custom"}], f"{name}: only the initial value may fill it"
        assert str(slot.get("initial_value") or "").strip(), f"{name}: no value"
    assert len(set(contacts.values())) == len(contacts), "one contact written twice"


def test_contact_values_are_no_retired_channel(contacts: dict[str, str]) -> None:
    for name, value in contacts.items():
        for label, pattern in RETIRED_CHANNELS.items():
            assert not re.search(pattern, value, re.IGNORECASE), f"{name}: {label}"


def test_rasa_fills_the_contacts_from_the_slot_values(domain: Domain, contacts: dict[str, str]) -> None:
    """The mechanism every answer relies on, checked on a response written for the test."""
    variation = {"text": "Halo Kemenkes {kontak_halo_kemenkes}; darurat {kontak_darurat}."}
    text = render(domain, "utter_probe", variation)["text"]
    assert text == f"Halo Kemenkes {contacts['kontak_halo_kemenkes']}; darurat {contacts['kontak_darurat']}."


def test_every_contact_is_written_only_in_contacts_yml(
    raw_responses: dict[str, list[dict[str, Any]]], contacts: dict[str, str]
) -> None:
    """Any number, e-mail or web address in a response must be a {kontak_...} variable."""
    found = []
    for name, variations in raw_responses.items():
        for value in strings(variations):
            bare = PLACEHOLDER.sub(" ", value)
            found += [
                (name, label, m.group(0))
                for label, p in CONTACT_SPELLINGS.items()
                for m in re.finditer(p, bare, re.I)
            ]
            found += [(name, "contact value", v) for v in contacts.values() if v in bare]
    assert not found, found


def test_no_response_names_a_retired_channel(rendered: dict[str, list[dict[str, Any]]]) -> None:
    found = [
        (name, label)
        for name, variations in rendered.items()
        for value in strings(variations)
        for label, pattern in RETIRED_CHANNELS.items()
        if re.search(pattern, value, re.IGNORECASE)
    ]
    assert not found, found


def test_contact_variables_are_always_filled(rendered: dict[str, list[dict[str, Any]]]) -> None:
    left = [
        (name, value)
        for name, variations in rendered.items()
        for value in strings(variations)
        if re.search(r"\{kontak_[^{}]*\}", value)
    ]
    assert not left, left


# --------------------------------------------------------------------------- the answers as read


def test_every_topic_has_one_answer(answers: dict[str, str]) -> None:
    assert sorted(answers) == sorted(topics())


@pytest.mark.parametrize("topic", topics())
def test_answer_fits_a_phone(topic: str, answers: dict[str, str]) -> None:
    text = answers[topic]
    assert not PLACEHOLDER.search(text), f"{topic}: unfilled {PLACEHOLDER.search(text)}"
    assert len(body_of(text)) <= MAX_BODY_CHARACTERS, (
        f"{topic}: {len(body_of(text))} characters before the source"
    )
    assert len(text) <= MAX_TOTAL_CHARACTERS, f"{topic}: {len(text)} characters"
    assert len(text) + WAY_ON_ALLOWANCE <= MAX_RENDERED_WITH_WAY_ON, f"{topic}: {len(text)} + the way on"
    assert len(BULLET.findall(text)) <= MAX_BULLETS, f"{topic}: more than {MAX_BULLETS} bullets"


@pytest.mark.parametrize("topic", topics())
def test_answer_has_the_shape_of_answer_style(topic: str, answers: dict[str, str]) -> None:
    text = answers[topic]
    lines = text.splitlines()
    first = lines[0]
    assert len(BOLD.findall(first)) == 1, f"{topic}: the first line must carry one *bold* key fact: {first!r}"
    assert len(BOLD.findall(text)) == 1, f"{topic}: one *bold* key fact, not {BOLD.findall(text)}"
    assert all(line.count("*") % 2 == 0 for line in lines), f"{topic}: an unpaired * breaks WhatsApp bold"
    assert lines[-1].startswith(SOURCE_PREFIX), f"{topic}: the last line must be the source line"
    assert sum(line.startswith(SOURCE_PREFIX) for line in lines) == 1, f"{topic}: one source line"
    assert NEXT_STEP.search(body_of(text)), f"{topic}: no next step for the reader"
    assert not re.search(r"ketik\s+\*?menu", text, re.I), f"{topic}: the way on is added by the actions"
    assert not HISTORY_PARAGRAPH.search(text), f"{topic}: a history paragraph"


@pytest.mark.parametrize("topic", topics())
def test_answer_says_nothing_retired_as_current(topic: str, answers: dict[str, str]) -> None:
    found = [label for label, pattern in RETIRED_CLAIMS.items() if re.search(pattern, answers[topic], re.I)]
    assert not found, f"{topic}: {found}"


def test_no_other_response_states_a_retired_claim(rendered: dict[str, list[dict[str, Any]]]) -> None:
    found = [
        (name, label)
        for name, variations in rendered.items()
        if not name.startswith(FAQ_PREFIX)
        for value in strings(variations)
        for label, pattern in RETIRED_CLAIMS.items()
        if re.search(pattern, value, re.IGNORECASE)
    ]
    assert not found, found


@pytest.mark.parametrize("topic", sorted(REQUIRED_FACTS))
def test_answer_carries_the_facts_in_force(topic: str, answers: dict[str, str]) -> None:
    missing = [p for p in REQUIRED_FACTS[topic] if not re.search(p, answers[topic], re.IGNORECASE)]
    assert not missing, f"{topic}: missing {missing}"


@pytest.mark.parametrize("topic", sorted(REQUIRED_CONTACTS))
def test_answer_carries_its_contacts(topic: str, raw_responses: dict[str, list[dict[str, Any]]]) -> None:
    used = set(PLACEHOLDER.findall(raw_responses[f"{FAQ_PREFIX}{topic}"][0]["text"]))
    assert REQUIRED_CONTACTS[topic] <= used, f"{topic}: missing {REQUIRED_CONTACTS[topic] - used}"


@pytest.mark.parametrize("topic", topics())
def test_danger_signs_come_with_the_emergency_line(
    topic: str, answers: dict[str, str], contacts: dict[str, str]
) -> None:
    """Whoever reads of breathing difficulty or fainting is told where to go: 119 or the IGD."""
    body = body_of(answers[topic])
    if DANGER_SIGNS.search(body):
        assert re.search(rf"\b{re.escape(contacts['kontak_darurat'])}\b", body) and "IGD" in body, topic


# --------------------------------------------------------------------------- sources and review state


@pytest.mark.parametrize("topic", topics())
def test_answer_review_record_is_complete(topic: str, raw_responses: dict[str, list[dict[str, Any]]]) -> None:
    today = dt.date.today()
    for variation in raw_responses[f"{FAQ_PREFIX}{topic}"]:
        metadata = variation.get("metadata") or {}
        assert metadata.get("topic") == topic
        status = metadata.get("status")
        assert status in STATUSES, f"{topic}: status {status!r}"
        assert parse_date(metadata.get("valid_as_of"), f"{topic} valid_as_of") <= today
        next_review = parse_date(metadata.get("next_review"), f"{topic} next_review")
        assert next_review > today, f"{topic}: review overdue since {next_review}"
        assert (next_review - today).days <= MAX_DAYS_TO_NEXT_REVIEW, (
            f"{topic}: next review more than 12 months ahead"
        )
        changelog = metadata.get("changelog") or []
        assert changelog, f"{topic}: no change log"
        for entry in changelog:
            assert entry.get("by") and entry.get("change"), f"{topic}: change log entry without who or what"
            assert parse_date(entry.get("at"), f"{topic} changelog") <= today
        if status == "approved":
            assert metadata.get("approved_by"), f"{topic}: approved by nobody"
            assert parse_date(metadata.get("approved_at"), f"{topic} approved_at") <= today


@pytest.mark.parametrize("topic", topics())
def test_answer_sources_are_official_first(
    topic: str, raw_responses: dict[str, list[dict[str, Any]]]
) -> None:
    for variation in raw_responses[f"{FAQ_PREFIX}{topic}"]:
        sources = (variation.get("metadata") or {}).get("sources") or []
        assert sources, f"{topic}: no sources"
        kinds = []
        for source in sources:
            assert isinstance(source, dict), f"{topic}: a source must have url, title, date and kind"
            url = str(source.get("url") or "")
            assert url.startswith(("https://", "http://")), f"{topic}: {url!r}"
            assert source.get("title"), f"{topic}: {url} has no title"
            assert PARTIAL_DATE.match(str(source.get("date"))), f"{topic}: {url} date {source.get('date')!r}"
            kind = source.get("kind")
            assert kind in SOURCE_KINDS, f"{topic}: {url} kind {kind!r}"
            assert (kind == "primary") == official(url), (
                f"{topic}: {url} is {'' if official(url) else 'not '}official"
            )
            kinds.append(kind)
        assert kinds == sorted(kinds, key=lambda k: k != "primary"), (
            f"{topic}: official sources must come first"
        )


@pytest.mark.parametrize("topic", topics())
def test_approved_answer_has_no_open_verify_note(
    topic: str, raw_responses: dict[str, list[dict[str, Any]]]
) -> None:
    for variation in raw_responses[f"{FAQ_PREFIX}{topic}"]:
        metadata = variation.get("metadata") or {}
        if metadata.get("status") != "approved":
            continue
        reviewed = [item for key, item in metadata.items() if key != "sources"] + [variation.get("text")]
        notes = [value for value in strings(reviewed) if OPEN_NOTE.search(value)]
        assert not notes, f"{topic}: approved with an open note {notes}"
