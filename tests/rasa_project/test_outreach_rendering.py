"""The outreach responses (issue #13) as the Rasa server renders them: filled, short, with their buttons.

Rendered with the repo's domain, the generator endpoints.yml configures and Rasa's own
``RemoteAction._utter_responses``, over REST and WhatsApp, with the variables the actions pass
(actions/outreach.py, correction.py, kipi.py; their paths: tests/actions/outreach_paths.py).
"""

from __future__ import annotations

import pytest
from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain

from tests.rasa_project.rendering import (
    NamedChannel,
    deployed_nlg,
    fresh_tracker,
    load_domain,
    placeholders,
    render,
)

OUTREACH_FILE_PREFIXES = (
    "utter_notice_",
    "utter_opt",
    "utter_data_",
    "utter_offer_data_check",
    "utter_ask_correction_",
    "utter_correction_",
    "utter_kipi_",
    "utter_ask_kipi_",
)
# What the actions pass to the responses that have variables beyond the contact block.
PASSED = {
    "utter_notice_change_at_facility": {
        "facility_name": "Puskesmas Kebayoran Lama",
        "facility_address": "Jl. Ciledug Raya No. 5, Jakarta Selatan",
        "appointment_day": "Senin, 21 Desember 2026",
        "appointment_time": "09.00",
    },
    "utter_data_on_file": {
        "name_masked": "B••• S•••••o",
        "phone_masked": "+62 8•••••••0001",
        "birth_date_masked": "••-••-1985",
        "district": "Kebayoran Lama, Jakarta Selatan",
    },
    "utter_correction_cut": {"limit": "300"},
    "utter_kipi_cut": {"limit": "40"},
    "utter_correction_confirm": {"field_label": "Nomor HP", "requested_value": "+6281234567890"},
    "utter_correction_filed": {"reference": "KOR-7F3A9C1D"},
    "utter_correction_pending": {"reference": "KOR-7F3A9C1D"},
    "utter_kipi_filed": {"reference": "KIPI-7F3A9C1D"},
    "utter_kipi_confirm": {
        "symptoms": "x" * 500,
        "onset": "x" * 40,
        "severity": "Sedang",
        "place": "x" * 200,
    },
}
# The confirmations carry the person's own answers (up to 740 characters of them).
LONGER = {"utter_kipi_confirm": 600 + 740, "utter_correction_confirm": 600 + 300}
WHATSAPP_BUTTON_TITLE = 20


@pytest.fixture(scope="module")
def domain() -> Domain:
    return load_domain()


@pytest.fixture(scope="module")
def nlg(domain: Domain) -> NaturalLanguageGenerator:
    return deployed_nlg(domain)


def outreach_responses(domain: Domain) -> list[str]:
    return sorted(name for name in domain.responses if name.startswith(OUTREACH_FILE_PREFIXES))


def test_there_are_outreach_responses(domain: Domain) -> None:
    assert len(outreach_responses(domain)) > 40


@pytest.mark.parametrize("channel", ["collector", "whatsapp"])
async def test_every_outreach_response_renders_whole_and_short(
    channel: str, domain: Domain, nlg: NaturalLanguageGenerator
) -> None:
    problems = []
    for name in outreach_responses(domain):
        message = {"response": name, **PASSED.get(name, {})}
        [bot] = await render([message], nlg, fresh_tracker(domain), NamedChannel(channel))
        text = str(bot.text or "")
        if placeholders(bot) or "None" in text or not text:
            problems.append(f"{name}: {placeholders(bot) or 'None or empty'}")
        if len(text) > LONGER.get(name, 600):
            problems.append(f"{name}: {len(text)} characters")
        if text.count("*") < 2:
            problems.append(f"{name}: no *bold* key fact")
        for button in bot.data.get("buttons") or []:
            if len(str(button["title"])) > WHATSAPP_BUTTON_TITLE:
                problems.append(f"{name}: button {button['title']!r} too long for WhatsApp")
    assert problems == []


async def test_the_emergency_advice_names_119_and_the_igd_first(
    domain: Domain, nlg: NaturalLanguageGenerator
) -> None:
    [bot] = await render(
        [{"response": "utter_kipi_emergency"}], nlg, fresh_tracker(domain), NamedChannel("whatsapp")
    )
    assert str(bot.text).startswith("*Segera ke IGD terdekat atau hubungi 119.*")
