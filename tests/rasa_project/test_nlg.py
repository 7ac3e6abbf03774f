"""The live NLG serves what the domain files say now, rendered by Rasa's own templated generator."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from rasa_project.content import CONTENT_DIR_ENV, DEFAULT_CONTENT_DIR, content_dir
from rasa_project.nlg import LiveContentNLG

ROOT = Path(__file__).resolve().parents[2]
OLD_BIAYA = "Vaksin berbayar sejak 2024. Info: {kontak_halo}"
NEW_BIAYA = "*Gratis* untuk kelompok prioritas. Info: {kontak_halo}"
HALO = "Halo Kemenkes 1500-567"


def contacts_file(halo: str = HALO) -> dict[str, Any]:
    slot = {"type": "text", "influence_conversation": False, "mappings": [{"type": "custom"}]}
    return {"version": "3.1", "slots": {"kontak_halo": {**slot, "initial_value": halo}}}


def answers_file(biaya: str, status: str = "approved") -> dict[str, Any]:
    return {
        "version": "3.1",
        "responses": {
            "utter_faq/biaya": [{"text": biaya, "metadata": {"topic": "biaya", "status": status}}],
            "utter_faq/halal": [{"text": "Halal menurut MUI.", "metadata": {"status": "draft"}}],
        },
    }


def write_atomically(path: Path, data: dict[str, Any]) -> None:
    """As the review app publishes: a new file renamed over the old one."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.replace(temporary, path)


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "domain"
    folder.mkdir()
    write_atomically(folder / "contacts.yml", contacts_file())
    write_atomically(folder / "faq_answers_umum.yml", answers_file(OLD_BIAYA))
    write_atomically(
        folder / "core.yml",
        {"version": "3.1", "responses": {"utter_greet": [{"text": "Halo! Ada yang bisa dibantu?"}]}},
    )
    return folder


@pytest.fixture
def model_domain() -> Domain:
    """The domain the model was trained with: older texts, the contact slot's old value."""
    return Domain.from_dict(
        {
            "slots": {
                "kontak_halo": {
                    "type": "text",
                    "initial_value": "119 ext 9",
                    "influence_conversation": False,
                    "mappings": [{"type": "custom"}],
                }
            },
            "responses": {
                "utter_faq/biaya": [{"text": "Teks lama dari model. {kontak_halo}"}],
                "utter_faq/halal": [{"text": "Teks halal dari model."}],
                "utter_did_you_mean": [{"text": "Apakah maksud Anda:\n{options}"}],
                "utter_greet": [{"text": "Halo dari model."}],
                "utter_channel": [{"text": "umum"}, {"text": "khusus WhatsApp", "channel": "whatsapp"}],
            },
        }
    )


def tracker(domain: Domain) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("nlg-test", [], slots=domain.slots)


def say(
    nlg: NaturalLanguageGenerator, domain: Domain, name: str, channel: str = "rest", **kwargs: Any
) -> Any:
    return asyncio.run(nlg.generate(name, tracker(domain), channel, **kwargs))


def text_of(nlg: NaturalLanguageGenerator, domain: Domain, name: str, **kwargs: Any) -> str:
    generated = say(nlg, domain, name, **kwargs)
    assert generated is not None, name
    return str(generated["text"])


@pytest.fixture(autouse=True)
def no_content_dir_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONTENT_DIR_ENV, raising=False)


def nlg_endpoint() -> EndpointConfig:
    """The ``nlg:`` section of endpoints.yml, as Rasa reads it (the other sections need env variables)."""
    endpoints = yaml.safe_load((ROOT / "rasa_project" / "endpoints.yml").read_text(encoding="utf-8"))
    return EndpointConfig.from_dict(endpoints["nlg"])


def rasa_style(content: Path, domain: Domain) -> LiveContentNLG:
    """Built as Rasa's Agent builds it: from endpoints.yml with no domain, then the model's responses."""
    endpoint = nlg_endpoint()
    endpoint.kwargs["content_dir"] = str(content)
    nlg = NaturalLanguageGenerator.create(endpoint, None)
    assert isinstance(nlg, LiveContentNLG)
    nlg.responses = domain.responses  # Agent.load_model does exactly this
    return nlg


def test_endpoints_yml_names_the_live_generator(model_domain: Domain) -> None:
    endpoint = nlg_endpoint()
    assert endpoint.type == "rasa_project.nlg.LiveContentNLG"
    nlg = NaturalLanguageGenerator.create(endpoint, model_domain)
    assert isinstance(nlg, LiveContentNLG)
    assert nlg.directory == content_dir()


def test_content_dir_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CONTENT_DIR_ENV, raising=False)
    assert content_dir() == DEFAULT_CONTENT_DIR == ROOT / "rasa_project" / "domain"
    monkeypatch.setenv(CONTENT_DIR_ENV, str(tmp_path))
    assert LiveContentNLG(domain=Domain.empty()).directory == tmp_path


def test_files_override_the_model_and_contacts_come_from_the_files(
    content: Path, model_domain: Domain
) -> None:
    nlg = rasa_style(content, model_domain)
    assert text_of(nlg, model_domain, "utter_faq/biaya") == f"Vaksin berbayar sejak 2024. Info: {HALO}"
    # texts that are not answers under review (no status) change with a new model, not live
    assert text_of(nlg, model_domain, "utter_greet") == "Halo dari model."
    # a draft in the files never reaches people: the model's approved text stays
    assert text_of(nlg, model_domain, "utter_faq/halal") == "Teks halal dari model."
    assert say(nlg, model_domain, "utter_unknown") is None


def test_rendering_is_rasas_own(content: Path, model_domain: Domain) -> None:
    nlg = rasa_style(content, model_domain)
    assert (
        text_of(nlg, model_domain, "utter_did_you_mean", options="1. Biaya")
        == "Apakah maksud Anda:\n1. Biaya"
    )
    assert text_of(nlg, model_domain, "utter_channel") == "umum"
    assert say(nlg, model_domain, "utter_channel", channel="whatsapp")["text"] == "khusus WhatsApp"
    assert say(nlg, model_domain, "utter_faq/biaya")["metadata"] == {"topic": "biaya", "status": "approved"}


def test_an_approved_change_is_served_on_the_next_message(content: Path, model_domain: Domain) -> None:
    nlg = rasa_style(content, model_domain)
    assert "berbayar" in text_of(nlg, model_domain, "utter_faq/biaya")
    write_atomically(content / "faq_answers_umum.yml", answers_file(NEW_BIAYA))
    started = time.perf_counter()
    served = text_of(nlg, model_domain, "utter_faq/biaya")
    publish_to_served = time.perf_counter() - started
    assert served == f"*Gratis* untuk kelompok prioritas. Info: {HALO}"
    assert publish_to_served < 1.0, publish_to_served
    write_atomically(content / "contacts.yml", contacts_file("Halo Kemenkes 1500567"))
    assert text_of(nlg, model_domain, "utter_faq/biaya").endswith("Info: Halo Kemenkes 1500567")


def test_a_model_hot_swap_keeps_the_live_texts(content: Path, model_domain: Domain) -> None:
    nlg = rasa_style(content, model_domain)
    newer = Domain.from_dict(
        {"responses": {"utter_faq/biaya": [{"text": "x"}], "utter_new": [{"text": "baru"}]}}
    )
    nlg.responses = newer.responses
    assert text_of(nlg, newer, "utter_new") == "baru"
    assert text_of(nlg, newer, "utter_faq/biaya").startswith("Vaksin berbayar")


def test_broken_files_fall_back_to_the_model_then_recover(
    content: Path, model_domain: Domain, caplog: pytest.LogCaptureFixture
) -> None:
    nlg = rasa_style(content, model_domain)
    (content / "faq_answers_umum.yml").write_text("responses: [unclosed\n", encoding="utf-8")
    assert text_of(nlg, model_domain, "utter_faq/biaya") == "Teks lama dari model. 119 ext 9"
    assert "faq_answers_umum.yml is not valid YAML" in caplog.text
    write_atomically(content / "faq_answers_umum.yml", answers_file(NEW_BIAYA))
    assert text_of(nlg, model_domain, "utter_faq/biaya").startswith("*Gratis*")
    (content / "core.yml").write_text("responses:\n  utter_greet: just text\n", encoding="utf-8")
    assert text_of(nlg, model_domain, "utter_faq/biaya") == "Teks lama dari model. 119 ext 9"


def test_a_missing_folder_serves_the_model(tmp_path: Path, model_domain: Domain) -> None:
    nlg = LiveContentNLG(domain=model_domain, directory=tmp_path / "gone")
    assert text_of(nlg, model_domain, "utter_faq/halal") == "Teks halal dari model."


def test_unchanged_files_are_not_parsed_again(content: Path, model_domain: Domain) -> None:
    nlg = rasa_style(content, model_domain)
    assert nlg.refresh() is False
    before = nlg.last_reload_seconds
    timings = []
    for _ in range(50):
        started = time.perf_counter()
        text_of(nlg, model_domain, "utter_greet")
        timings.append(time.perf_counter() - started)
    assert nlg.last_reload_seconds == before
    assert statistics.median(timings) < 0.005, statistics.median(timings)


def test_the_repository_domain_loads(model_domain: Domain) -> None:
    """The real content folder parses, and every FAQ answer in it is served from the files."""
    nlg = LiveContentNLG(domain=model_domain, directory=DEFAULT_CONTENT_DIR)
    files = {name for name in nlg.response_names() if name.startswith("utter_faq/")}
    assert len(files) >= 39
    assert nlg.last_reload_seconds is not None and nlg.last_reload_seconds < 2.0


def after(domain: Domain, *said: str) -> DialogueStateTracker:
    """A conversation in which the bot last said ``said`` (BotUttered events, as Rasa stores them)."""
    return DialogueStateTracker.from_events(
        "nlg-repeat", [BotUttered(text) for text in said], slots=domain.slots
    )


def test_never_the_same_message_twice_in_a_row() -> None:
    """With the repository's own domain: "halo" twice gets the shorter greeting the second time,
    and a third time the first one again; a response with one variation is said as it is."""
    domain = Domain.load(str(ROOT / "rasa_project" / "domain"))
    nlg = LiveContentNLG(domain=domain, directory=DEFAULT_CONTENT_DIR)
    first, second = (variation["text"] for variation in domain.responses["utter_greet"][:2])

    def greet(tracker: DialogueStateTracker) -> str:
        generated = asyncio.run(nlg.generate("utter_greet", tracker, "whatsapp"))
        assert generated is not None
        return str(generated["text"])

    assert greet(after(domain)) == first
    assert greet(after(domain, first)) == second
    assert greet(after(domain, first, second)) == first
    assert greet(after(domain, second, "Baik.")) == first  # only the last message counts
    released = domain.responses["utter_handoff_released"][0]["text"]
    generated = asyncio.run(nlg.generate("utter_handoff_released", after(domain, released), "rest"))
    assert generated is not None and generated["text"] == released


@pytest.mark.parametrize(
    "name", ["utter_greet", "utter_goodbye", "utter_thank", "utter_affirm", "utter_deny"]
)
def test_small_talk_has_a_second_variation_that_differs(name: str) -> None:
    domain = Domain.load(str(ROOT / "rasa_project" / "domain"))
    texts = [variation["text"] for variation in domain.responses[name]]
    assert len(texts) == 2 and texts[0] != texts[1] and len(texts[1]) < len(texts[0])


def test_menu_buttons_keep_their_intent_payloads_and_no_error_is_logged(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """The payloads' JSON is not read as slot names; titles and descriptions are still filled."""
    domain = Domain.load(str(ROOT / "rasa_project" / "domain"))
    nlg = LiveContentNLG(domain=domain, directory=DEFAULT_CONTENT_DIR)
    written = domain.responses["utter_menu"][0]["buttons"]
    with caplog.at_level("ERROR"):
        generated = asyncio.run(nlg.generate("utter_menu", after(domain), "whatsapp"))
    assert generated is not None
    shown = generated["buttons"]
    assert [button["payload"] for button in shown] == [button["payload"] for button in written]
    assert shown[0]["payload"] == '/show_menu{"menu_category":"umum"}'
    assert [list(button) for button in shown] == [list(button) for button in written]
    assert all("{" not in button.get("description", "") for button in shown)
    handoff = next(button for button in shown if button["payload"] == "/human_handoff")
    assert "Halo Kemenkes 1500-567" in handoff["description"]
    assert [record for record in caplog.records if record.levelname == "ERROR"] == []
    printed = capfd.readouterr()  # Rasa's interpolator logs through structlog, to the console
    assert "interpolator" not in printed.out + printed.err
