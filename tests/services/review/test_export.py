"""Reviewed messages become Rasa training data, safely."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from services.review import export
from services.review.export import (
    EXPORT_FILE,
    Annotation,
    ExportResult,
    export_annotations,
    has_personal_data,
)
from services.review.training_data import known_examples, normalize, read_examples, valid_labels

ROOT = Path(__file__).resolve().parents[3]
RASA = ROOT / ".venvs" / "rasa" / "bin" / "rasa"
VALID = frozenset({"greet", "thank", "faq/biaya", "faq/halal", "faq/booster_kedua"})


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    (data / "nlu").mkdir(parents=True)
    (data / "heldout").mkdir()
    (data / "nlu" / "faq.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: faq/biaya\n  examples: |\n'
        "    - berapa biaya vaksin\n    - vaksin bayar ga\n",
        encoding="utf-8",
    )
    (data / "heldout" / "faq.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: faq/halal\n  examples: |\n    - vaksin covid halal ga sih\n',
        encoding="utf-8",
    )
    return data


def exported(data_dir: Path) -> dict[str, list[str]]:
    """The export file read with PyYAML alone, as Rasa reads an ``examples: |`` block."""
    document = yaml.safe_load((data_dir / EXPORT_FILE).read_text(encoding="utf-8"))
    assert document["version"] == "3.1"
    labels: dict[str, list[str]] = {}
    for item in document["nlu"]:
        assert set(item) == {"intent", "examples"}
        assert item["intent"] not in labels  # one block per label
        lines = item["examples"].splitlines()
        assert all(line.startswith("- ") for line in lines)
        labels[item["intent"]] = [line[1:].strip("\n\r ") for line in lines]
    return labels


TRICKY = [
    'vaksin "gratis" atau bayar?',
    "biaya: berapa?",
    "- bayar gak sih",
    "# bayar berapa",
    "{biaya} vaksin",
    "'bayar' ya?",
    "bayar?  \t kalo di RS\nswasta",
    "bayar [beneran](ga) min",
    "biaya vaksin & booster | berapa",
    "biaya vaksin: 100% gratis?? 🙏",
    "*biaya* vaksin @ puskesmas",
    "vaksin % bayar > 0 ?",
]


def test_round_trip_of_texts_yaml_and_rasa_read_specially(data_dir: Path) -> None:
    result = export_annotations([Annotation(text, "faq/biaya") for text in TRICKY], data_dir, VALID)

    assert result == ExportResult(data_dir.resolve() / EXPORT_FILE, len(TRICKY), 0, 0, 0)
    written = exported(data_dir)["faq/biaya"]
    assert len(written) == len(TRICKY)
    assert "bayar? kalo di RS swasta" in written  # one line: whitespace collapsed
    assert "bayar [beneran] (ga) min" in written  # never read as entity markup
    for text in TRICKY:
        if "[" not in text:
            assert " ".join(text.split()) in written
    assert written == sorted(written, key=lambda text: (normalize(text), text))


def test_file_format(data_dir: Path) -> None:
    annotations = [
        Annotation("makasih banyak min", "thank"),
        Annotation("halo kak selamat pagi", "greet"),
        Annotation("vaksin ada sertifikat halal mui?", "faq/halal"),
        Annotation("booster ke 2 buat siapa aja", "faq/booster_kedua"),
        Annotation("vaksin di mall bayar?", "faq/biaya"),
    ]
    export_annotations(annotations, data_dir, VALID)

    content = (data_dir / EXPORT_FILE).read_text(encoding="utf-8")
    assert content.startswith("# Written by the NLU review app")
    assert content == (
        export.HEADER + 'version: "3.1"\n'
        "nlu:\n"
        "- intent: faq/biaya\n  examples: |\n    - vaksin di mall bayar?\n"
        "- intent: faq/booster_kedua\n  examples: |\n    - booster ke 2 buat siapa aja\n"
        "- intent: faq/halal\n  examples: |\n    - vaksin ada sertifikat halal mui?\n"
        "- intent: greet\n  examples: |\n    - halo kak selamat pagi\n"
        "- intent: thank\n  examples: |\n    - makasih banyak min\n"
    )
    # the project's own reader sees the same
    assert sorted(read_examples(data_dir / EXPORT_FILE)) == sorted((a.text, a.label) for a in annotations)
    assert known_examples(data_dir)[normalize("makasih banyak min")] == "thank"


def test_a_second_export_adds_nothing_twice(data_dir: Path) -> None:
    annotations = [Annotation("vaksin di mall bayar?", "faq/biaya"), Annotation("halo kak", "greet")]
    export_annotations(annotations, data_dir, VALID)
    path = data_dir / EXPORT_FILE
    before = path.read_bytes()
    modified = path.stat().st_mtime_ns

    again = export_annotations(
        [Annotation("Vaksin di mall BAYAR", "faq/biaya"), Annotation("halo kak!", "thank")], data_dir, VALID
    )

    assert (again.added, again.duplicates) == (0, 2)
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == modified  # not rewritten: no needless retraining


def test_a_later_export_merges_sorted(data_dir: Path) -> None:
    export_annotations([Annotation("zzz vaksin bayar?", "faq/biaya")], data_dir, VALID)
    result = export_annotations(
        [Annotation("aaa vaksin bayar?", "faq/biaya"), Annotation("halo kak", "greet")], data_dir, VALID
    )
    assert result.added == 2
    assert exported(data_dir) == {
        "faq/biaya": ["aaa vaksin bayar?", "zzz vaksin bayar?"],
        "greet": ["halo kak"],
    }


def test_existing_examples_and_repeats_in_one_export_are_duplicates(data_dir: Path) -> None:
    result = export_annotations(
        [
            Annotation("Berapa biaya vaksin?", "faq/biaya"),  # data/nlu/faq.yml
            Annotation("vaksin bayar ga", "greet"),  # there too, whatever the label
            Annotation("vaksin di mall bayar?", "faq/biaya"),
            Annotation("VAKSIN DI MALL BAYAR", "faq/biaya"),  # earlier in this export
        ],
        data_dir,
        VALID,
    )
    assert (result.added, result.duplicates) == (1, 3)
    assert exported(data_dir) == {"faq/biaya": ["vaksin di mall bayar?"]}


def test_held_out_messages_are_skipped(data_dir: Path) -> None:
    result = export_annotations(
        [Annotation("Vaksin covid halal ga sih??", "faq/halal"), Annotation("halal mui?", "faq/halal")],
        data_dir,
        VALID,
    )
    assert (result.added, result.held_out) == (1, 1)
    assert exported(data_dir) == {"faq/halal": ["halal mui?"]}


def test_an_invalid_label_raises_and_writes_nothing(data_dir: Path) -> None:
    good = Annotation("vaksin di mall bayar?", "faq/biaya")
    for label in ["faq/tidak_ada", "faq", "nlu_fallback", "faq_choice", ""]:
        with pytest.raises(ValueError, match="label"):
            export_annotations([good, Annotation("halo", label)], data_dir, VALID)
    assert not (data_dir / EXPORT_FILE).exists()


def test_an_empty_text_raises(data_dir: Path) -> None:
    with pytest.raises(ValueError, match="empty"):
        export_annotations([Annotation("  ?? ", "greet")], data_dir, VALID)
    assert not (data_dir / EXPORT_FILE).exists()


def test_nothing_to_export_creates_no_file(data_dir: Path) -> None:
    result = export_annotations([], data_dir, VALID)
    assert result.added == 0
    assert not result.path.exists()


PERSONAL = [
    "nik saya 3174051708850001 kok ga ada",
    "NIK 3174 0517 0885 0001 ga terdaftar",
    "nik 3174.0517.0885.0001",
    "nik 3174-0517-0885-0001 belum muncul sertifikatnya",
    "hubungi saya di 081234567890",
    "wa saya 0812-3456-7890 ya",
    "no hp +62 812 3456 7890",
    "telp 6281234567890",
    "nomor saya 081234567",  # a short mobile
    "email saya budi.santoso@gmail.com",
    "sertifikat budi_s+vaksin@mail.co.id salah nama",
    "tgl lahir 17-08-1985",
    "lahir 17 agustus 1985",
    "saya lahir 17/8/85 boleh booster?",
    "ttl jakarta, 17 agustus",  # a birthday with a birth word, even without a year
    "17 agt 1960 umur sy sudah boleh?",  # before vaccination began: a birth date
    "17081985",
    "1985-08-17",
    "nik saya [NIK] tidak ditemukan",  # redacted by the tracker store
    "tanggal lahir [TANGGAL]",
    "hubungi [nomor]",
]
NOT_PERSONAL = [
    "dosis 1 tgl 3-3-2022, kapan dosis 2?",
    "vaksin tanggal 12 januari 2023 kapan booster",
    "hotline 119 ext 9",
    "umur 18 tahun boleh booster ke-2?",
    "jam 08.00-12.00 buka ga",
    "nik saya tidak terdaftar",
    "sinovac 2 dosis jarak 28 hari",
    "dosis 1 2021 dosis 2 2022",
    "@kemenkes_ri info vaksin",
]


@pytest.mark.parametrize("text", PERSONAL)
def test_personal_data_is_recognised(text: str) -> None:
    assert has_personal_data(text)


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_questions_with_numbers_are_not_personal_data(text: str) -> None:
    assert not has_personal_data(text)


def test_personal_data_is_counted_not_written(data_dir: Path) -> None:
    annotations = [Annotation(text, "faq/biaya") for text in PERSONAL + NOT_PERSONAL]
    result = export_annotations(annotations, data_dir, VALID)

    assert (result.personal_data, result.added) == (len(PERSONAL), len(NOT_PERSONAL))
    content = (data_dir / EXPORT_FILE).read_text(encoding="utf-8")
    for secret in ["3174", "0812", "812 3456", "gmail", "@mail", "1985", "17 agustus", "[NIK]", "[TANGGAL]"]:
        assert secret not in content


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export_annotations([Annotation("vaksin di mall bayar?", "faq/biaya")], data_dir, VALID)
    path = data_dir / EXPORT_FILE
    before = path.read_bytes()

    def fail(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        export_annotations([Annotation("halo kak", "greet")], data_dir, VALID)

    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["faq.yml", "reviewed.yml"]


def test_the_file_keeps_its_permissions(data_dir: Path) -> None:
    export_annotations([Annotation("vaksin di mall bayar?", "faq/biaya")], data_dir, VALID)
    path = data_dir / EXPORT_FILE
    assert path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o664)
    export_annotations([Annotation("halo kak", "greet")], data_dir, VALID)
    assert path.stat().st_mode & 0o777 == 0o664


def test_rasa_validates_the_real_data_with_an_export(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    labels = valid_labels(ROOT / "rasa_project" / "domain", data)
    annotations = [
        Annotation('min, vaksin di mall "gratis": beneran ga?', "faq/biaya"),
        Annotation("- booster kedua {lansia} kapan #tanya", "faq/booster_kedua"),
        Annotation("ada sertifikat halal [MUI](resmi) nya?", "faq/halal"),
        Annotation("oke makasih infonya min, sangat membantu sekali", "thank"),
        Annotation("gajadi cek jadwal deh, nanti aja", "cancel"),
        Annotation("vaksin sinovac brp kali suntik sih", "faq/jadwal_dosis"),  # already trained
        Annotation("interval sinovac", "faq/jadwal_dosis"),  # held out
    ]
    result = export_annotations(annotations, data, labels)
    assert (result.added, result.duplicates, result.held_out) == (5, 1, 1)

    completed = subprocess.run(
        [
            str(RASA),
            "data",
            "validate",
            "--fail-on-warnings",
            "--config",
            "rasa_project/config.yml",
            "--domain",
            "rasa_project/domain",
            "--data",
            str(data / "nlu"),
            str(data / "rules"),
        ],
        cwd=ROOT,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "reviewed.yml" not in completed.stderr  # no warning about the export file
