"""The content workflow's domain logic: what a phone shows, the checks, and publishing to the files."""

from __future__ import annotations

import shutil
import threading
from datetime import date
from pathlib import Path

import pytest
import yaml

from rasa_project.content import DEFAULT_CONTENT_DIR, load_content
from services.review.content import (
    AnswerChanged,
    Edit,
    answers,
    edit_problems,
    find_answer,
    publish,
    read_content,
    render_answer,
    review_flag,
    whatsapp_html,
)
from tests.services.review.content_files import write_content

TODAY = date(2026, 1, 3)
CONTACTS = {"kontak_halo_kemenkes": "Halo Kemenkes 1500-567", "kontak_darurat": "119"}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_content(tmp_path / "domain")


def test_whatsapp_formatting() -> None:
    assert whatsapp_html("*Gratis* untuk _lansia_ dan ~bukan~ ```kode```") == (
        "<strong>Gratis</strong> untuk <em>lansia</em> dan <del>bukan</del> <code>kode</code>"
    )
    # not inside words, not across lines, not around blanks: WhatsApp shows these as typed
    assert whatsapp_html("2*3*4 dan snake_case_name") == "2*3*4 dan snake_case_name"
    assert whatsapp_html("*awal\nakhir*") == "*awal\nakhir*"
    assert whatsapp_html("* bukan tebal *") == "* bukan tebal *"


def test_hostile_text_is_escaped() -> None:
    shown = whatsapp_html('<script>alert("x")</script> *<img src=x onerror=alert(1)>*')
    assert "<script>" not in shown and "<img" not in shown
    assert "&lt;script&gt;" in shown and "<strong>&lt;img src=x onerror=alert(1)&gt;</strong>" in shown


def test_render_fills_contacts_and_counts_what_the_recipient_gets() -> None:
    rendered = render_answer("*Halo*\nTanya: {kontak_halo_kemenkes}\n\nSumber: Kemenkes.", CONTACTS)
    assert rendered.text == "*Halo*\nTanya: Halo Kemenkes 1500-567\n\nSumber: Kemenkes."
    assert rendered.length == len(rendered.text)
    assert rendered.body_length == len("*Halo*\nTanya: Halo Kemenkes 1500-567")
    assert rendered.warnings == []
    assert "<strong>Halo</strong>" in rendered.html


def test_render_warns_on_length_and_unknown_variables() -> None:
    long_body = "a" * 610 + "\n\nSumber: " + "b" * 100
    rendered = render_answer(long_body, CONTACTS)
    assert rendered.warnings == [
        "Jawaban sebelum baris sumber 610 karakter: lebih dari 600.",
        f"Seluruh pesan {rendered.length} karakter: lebih dari batas 700.",
    ]
    unknown = render_answer("Hubungi {kontak_lama} atau {options}", CONTACTS)
    assert unknown.text == "Hubungi {kontak_lama} atau {options}"
    assert unknown.warnings[0].endswith("{kontak_lama}, {options}")


def test_review_flags() -> None:
    assert review_flag(date(2026, 1, 2), TODAY) == "lewat"
    assert review_flag(None, TODAY) == "lewat"
    assert review_flag(date(2026, 2, 2), TODAY) == "segera"
    assert review_flag(date(2026, 2, 3), TODAY) is None


def test_edit_checks() -> None:
    good = Edit("*Gratis*. Info {kontak_darurat}", date(2024, 1, 1), date(2026, 6, 1), "Kontak diperbarui")
    assert edit_problems(good, CONTACTS, TODAY) == []
    bad = Edit("x" * 701 + " {kontak_x}", date(2026, 2, 1), date(2027, 6, 1), "")
    assert edit_problems(bad, CONTACTS, TODAY) == [
        "Variabel tidak dikenal (akan terlihat apa adanya oleh penerima): {kontak_x}",
        "Seluruh pesan 712 karakter; batasnya 700.",
        "Tanggal 'berlaku sejak' tidak boleh di masa depan.",
        "Tanggal 'tinjau ulang' harus setelah hari ini dan paling lama 12 bulan lagi.",
        "Tuliskan apa yang diubah dan mengapa (catatan perubahan).",
    ]
    assert "Teks jawaban tidak boleh kosong." in edit_problems(Edit("", None, None, "n"), CONTACTS, TODAY)


def test_answers_with_their_metadata(folder: Path) -> None:
    found = {answer.topic: answer for answer in answers(read_content(folder))}
    assert sorted(found) == ["biaya", "efektivitas", "halal"]
    biaya = found["biaya"]
    assert (biaya.status, biaya.valid_as_of, biaya.next_review) == (
        "approved",
        date(2024, 1, 1),
        date(2026, 1, 20),
    )
    assert [source.kind for source in biaya.sources] == ["primary", "secondary"]
    assert biaya.sources[0].url == "https://kemkes.go.id/biaya"
    assert found["efektivitas"].status == "draft"


def test_publish_rewrites_only_that_answer(folder: Path) -> None:
    path = folder / "faq_answers_test.yml"
    before_text = path.read_text(encoding="utf-8")
    before = yaml.safe_load(before_text)
    answer = find_answer(read_content(folder), "biaya")
    assert answer is not None
    edit = Edit(
        "*Gratis* untuk kelompok prioritas.\nTanya: {kontak_halo_kemenkes}\n\nSumber: Kemenkes (2024).",
        date(2024, 1, 1),
        date(2026, 12, 1),
        "Fakta 2024",
    )

    published = publish(folder, "biaya", edit, answer.digest, author="ani", approver="budi", today=TODAY)

    assert published.text == edit.text
    after_text = path.read_text(encoding="utf-8")
    after = yaml.safe_load(after_text)
    metadata = after["responses"]["utter_faq/biaya"][0]["metadata"]
    assert metadata["status"] == "approved"
    assert (metadata["approved_by"], metadata["approved_at"]) == ("budi", "2026-01-03")
    assert (metadata["valid_as_of"], metadata["next_review"]) == ("2024-01-01", "2026-12-01")
    assert metadata["sources"] == before["responses"]["utter_faq/biaya"][0]["metadata"]["sources"]
    assert metadata["changelog"][-1] == {
        "at": "2026-01-03",
        "by": "ani",
        "change": "Fakta 2024 (disetujui budi)",
    }
    assert len(metadata["changelog"]) == 2
    # everything else as it was, comments included; the text stays a literal block
    for name in ("utter_faq/halal", "utter_faq/efektivitas"):
        assert after["responses"][name] == before["responses"][name]
    assert "# halal: the next answer keeps this comment" in after_text
    assert "# FAQ answers for the tests" in after_text
    assert "  - text: |-\n      *Gratis* untuk kelompok prioritas.\n" in after_text
    assert after_text.split("  # halal:")[1] == before_text.split("  # halal:")[1]
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no temp file left


def test_publish_refuses_when_the_answer_changed_meanwhile(folder: Path) -> None:
    answer = find_answer(read_content(folder), "halal")
    assert answer is not None
    edit = Edit("Halal.", date(2024, 1, 1), date(2026, 6, 1), "a")
    publish(folder, "halal", edit, answer.digest, author="ani", approver="budi", today=TODAY)
    second = Edit("Halal lagi.", date(2024, 1, 1), date(2026, 6, 1), "b")
    with pytest.raises(AnswerChanged):
        publish(folder, "halal", second, answer.digest, author="citra", approver="budi", today=TODAY)


def test_concurrent_publishes_of_different_answers_keep_both(folder: Path) -> None:
    content = read_content(folder)
    digests = {topic: find_answer(content, topic).digest for topic in ("biaya", "halal")}  # type: ignore[union-attr]
    errors: list[BaseException] = []

    def approve(topic: str) -> None:
        try:
            edit = Edit(f"Baru: {topic}.", date(2024, 1, 1), date(2026, 6, 1), topic)
            publish(folder, topic, edit, digests[topic], author="ani", approver="budi", today=TODAY)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=approve, args=(topic,)) for topic in digests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    final = read_content(folder)
    assert [find_answer(final, t).text for t in ("biaya", "halal")] == ["Baru: biaya.", "Baru: halal."]  # type: ignore[union-attr]


def test_publish_works_on_the_repository_answers(tmp_path: Path) -> None:
    """The real domain files (a copy): each answer can be republished with every other one intact."""
    copy = tmp_path / "domain"
    shutil.copytree(DEFAULT_CONTENT_DIR, copy)
    before = load_content(copy)
    published = 0
    for answer in answers(before)[:: max(1, len(answers(before)) // 8)]:
        edit = Edit(answer.text + " Diperbarui.", date(2024, 1, 1), date(2026, 6, 1), "uji")
        publish(copy, answer.topic, edit, answer.digest, author="ani", approver="budi", today=TODAY)
        published += 1
        after = load_content(copy)
        assert after.responses[answer.name][0]["text"] == answer.text + " Diperbarui."
        assert {k: v for k, v in after.responses.items() if k != answer.name} == {
            k: v for k, v in before.responses.items() if k != answer.name
        }
        before = after
    assert published >= 5
