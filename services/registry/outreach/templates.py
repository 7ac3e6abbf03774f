"""The WhatsApp templates outreach sends: names, language, body parameters and quick-reply buttons.

The one place they are defined. Each must be created and approved in WhatsApp Manager exactly as
written here (category UTILITY, language ``id``, body with ``{{1}}``... and these buttons in this
order); Meta refuses a send whose parameters or buttons do not match the approved template.

No template carries a name, not even a first name: a notice may reach a phone that someone else
now holds. Body parameters are dates, times, facilities and dose numbers only.

A button's payload comes back as the recipient's message when they tap it:
``/notice_reply{"notice":"<reference>","choice":"jadwal"}``. The assistant (actions/outreach.py)
checks the reference with the registry (``POST /v1/notices/resolve``) before it trusts it: a typed
copy from another chat resolves to nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.months import MONTH_NAMES
from core.notice_payload import CHOICE_CHANGE, CHOICE_SCHEDULE, CHOICE_STOP, payload
from core.sender_identity import normalise_phone

LANGUAGE = "id"
# Meta refuses a body parameter with a newline or tab, or more than four spaces in a row (132018).
_PARAMETER_WHITESPACE = re.compile(r"\s+")
MAX_PARAMETER = 200


@dataclass(frozen=True)
class Button:
    title: str  # at most 20 characters
    choice: str


@dataclass(frozen=True)
class Template:
    name: str
    body: str  # as approved in WhatsApp Manager; {{n}} are the parameters, in order
    parameters: tuple[str, ...]  # what each {{n}} is, for staff and tests
    buttons: tuple[Button, ...]
    category: str = "UTILITY"

    def render(self, values: list[str]) -> str:
        """The text the recipient reads, as WhatsApp will show it (for tests and the dry run)."""
        text = self.body
        for number, value in enumerate(values, start=1):
            text = text.replace("{{" + str(number) + "}}", value)
        return text


_SEE = Button("Lihat jadwal", CHOICE_SCHEDULE)
_CHANGE = Button("Ubah jadwal", CHOICE_CHANGE)
_SEE_DATA = Button("Lihat data vaksin", CHOICE_SCHEDULE)
_STOP = Button("Berhenti", CHOICE_STOP)

APPOINTMENT_REMINDER = Template(
    "pengingat_jadwal",
    "Pengingat vaksinasi COVID-19: jadwal Anda *{{1}} pukul {{2}}* di {{3}}. Bawa KTP. "
    "Ketuk Lihat jadwal untuk rinciannya, atau Berhenti bila tidak ingin menerima pesan ini lagi.",
    ("tanggal", "jam", "fasilitas"),
    (_SEE, _CHANGE, _STOP),
)
DOSE_DUE = Template(
    "dosis_jatuh_tempo",
    "Jadwal vaksin COVID-19 *dosis ke-{{1}}* Anda pada {{2}} di {{3}} sudah lewat. Dosis ini masih "
    "bisa diberikan: ketuk Ubah jadwal untuk membuat jadwal baru, atau Berhenti bila tidak ingin "
    "menerima pesan ini lagi.",
    ("dosis", "tanggal", "fasilitas"),
    (_SEE, _CHANGE, _STOP),
)
CERTIFICATE_READY = Template(
    "sertifikat_siap",
    "Sertifikat vaksin COVID-19 *dosis ke-{{1}}* Anda sudah tersedia. Ketuk Lihat data vaksin untuk "
    "memeriksa data vaksinasi Anda, atau Berhenti bila tidak ingin menerima pesan ini lagi.",
    ("dosis",),
    (_SEE_DATA, _STOP),
)
CORRECTION_RESULT = Template(
    "hasil_koreksi_data",
    "Permintaan koreksi data vaksinasi Anda (nomor {{1}}) *{{2}}*. {{3}} "
    "Ketuk Lihat data vaksin untuk memeriksanya.",
    ("nomor permintaan", "hasil", "keterangan"),
    (_SEE_DATA, _STOP),
)

TEMPLATES: dict[str, Template] = {
    template.name: template
    for template in (APPOINTMENT_REMINDER, DOSE_DUE, CERTIFICATE_READY, CORRECTION_RESULT)
}


def clean_parameter(value: str) -> str:
    """One line, no runs of spaces, at most ``MAX_PARAMETER`` characters: what Meta accepts."""
    cleaned = _PARAMETER_WHITESPACE.sub(" ", value).strip()
    return cleaned[:MAX_PARAMETER] or "-"


def format_date(day: date) -> str:
    """ "14 Desember 2026", as the assistant writes dates."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def format_time(at: datetime) -> str:
    """ "09.00": the Indonesian way of writing a time."""
    return f"{at.hour:02d}.{at.minute:02d}"


def template_message(phone: str, template: Template, values: list[str], reference: str) -> dict[str, Any]:
    """Meta's JSON for ``template`` to ``phone``, its body filled with ``values`` and a payload per button."""
    if len(values) != len(template.parameters):
        raise ValueError(f"{template.name} takes {len(template.parameters)} parameters, not {len(values)}")
    components: list[dict[str, Any]] = [
        {"type": "body", "parameters": [{"type": "text", "text": clean_parameter(value)} for value in values]}
    ]
    for index, button in enumerate(template.buttons):
        components.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": payload(reference, button.choice)}],
            }
        )
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": normalise_phone(phone),
        "type": "template",
        "template": {"name": template.name, "language": {"code": LANGUAGE}, "components": components},
    }
