"""The Models page: the gate's registry.json (core.model_registry's schema) in words, and the admin's
train / activate / rollback buttons with the last job's progress and verdict.

Jobs started here run a small shell script in place of the Rasa env's Python (the runner's
mechanics; test_training_jobs.py): what the page says about a finished training is checked on a
registry and job files these tests write, in the trainer's own wording. The real loop (train, gate
verdict, activate, rollback in chromium) is tests/integration/test_trainer_loop.py.
"""

from __future__ import annotations

import ast
import html
import json
import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.review import model_registry as pages
from services.review import model_words as words
from services.review.i18n import LANG_COOKIE
from services.review.settings import ReviewSettings
from services.review.training_jobs import (
    EXIT_FILE,
    LOG_FILE,
    RECORD_FILE,
    Job,
    JobKind,
    JobRecord,
    current_job,
    jobs_folder,
)
from services.review.web import ADMINS_ONLY, FORM_NOT_FROM_HERE
from tests.services.review.conftest import AppFactory
from tests.services.review.support import ADMIN, REVIEWER, FakeClock, page_text, sign_in
from tests.services.review.test_training_jobs import LIVE as JOBS_LIVE
from tests.services.review.test_training_jobs import TOKEN, TRAINING_OUTPUT, fake_python

OLD, LIVE, REFUSED, CANDIDATE = "20251220-1000", "20260102-0930", "20260103-0800", "20261206T120000Z"
REVIEW = Path(pages.__file__).parent


def entry(model_id: str, trained_at: str, status: str, reason: str, **metrics: float) -> dict[str, object]:
    return {
        "id": model_id,
        "file": f"archive/{model_id}.tar.gz",
        "index": f"archive/{model_id}.semantic",
        "trained_at": trained_at,
        "data_hash": "a" * 16,
        "config_hash": "b" * 16,
        "metrics": metrics,
        "status": status,
        "reason": reason,
    }


REGISTRY: dict[str, Any] = {
    "live": LIVE,
    "history": [OLD],
    "models": [
        entry(OLD, "2025-12-20T10:00:00+07:00", "kept", f"replaced by {LIVE}", faq_right=0.91,
              faq_clarified=0.05, faq_wrong=0.02, faq_menu=0.02),
        entry(LIVE, "2026-01-02T09:30:00+07:00", "live",
              "not worse than the live model: FAQ helped 98.4 % (live 96.0 %), FAQ wrong 1.5 % (live 2.0 %) "
              "(tolerance 0.2 %)", faq_right=0.934, faq_clarified=0.05, faq_wrong=0.015, faq_menu=0.001),
        entry(REFUSED, "2026-01-03T08:00:00+07:00", "refused",
              "FAQ wrong 4.0 % > live 1.5 % (tolerance 0.2 %)", faq_right=0.95, faq_clarified=0.0,
              faq_wrong=0.04, faq_menu=0.01),
    ],
}  # fmt: skip


def write_registry(settings: ReviewSettings, registry: dict[str, Any] = REGISTRY, files: bool = True) -> None:
    settings.registry_file.write_text(json.dumps(registry), encoding="utf-8")
    if not files:
        return
    for model in registry["models"]:
        (settings.models_dir / model["file"]).parent.mkdir(parents=True, exist_ok=True)
        (settings.models_dir / model["file"]).write_bytes(b"model")
        (settings.models_dir / model["index"]).mkdir(parents=True, exist_ok=True)


def write_job(settings: ReviewSettings, job: JobRecord, log: list[str], exit_code: int | None = 0) -> None:
    """The files a finished job leaves (training_jobs), as the test wants them."""
    folder = jobs_folder(settings.models_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RECORD_FILE).write_text(job.to_json(), encoding="utf-8")
    (folder / LOG_FILE).write_text("\n".join(log) + "\n", encoding="utf-8")
    if exit_code is not None:
        (folder / EXIT_FILE).write_text(f"{exit_code}\n", encoding="utf-8")
        ended = (job.started_at + timedelta(minutes=2, seconds=5)).timestamp()
        os.utime(folder / EXIT_FILE, (ended, ended))


def csrf(page_html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page_html)
    assert found, page_html
    return found.group(1)


def wait_until_done(models_dir: Path, seconds: float = 20) -> Job:
    deadline = time.monotonic() + seconds
    while True:
        job = current_job(models_dir)
        if job is not None and not job.running:
            return job
        assert time.monotonic() < deadline, f"the job did not end: {job}"
        time.sleep(0.05)


@pytest.fixture
def held(tmp_path: Path) -> Iterator[Path]:
    """A job that runs until the test touches this file (and always once the test is over)."""
    release = tmp_path / "release"
    yield release
    release.touch()


def admin_with(make_client: AppFactory, python: Path, **overrides: object) -> TestClient:
    """An admin on an app whose Rasa env Python is the test's script (never a real training)."""
    client = make_client(rasa_python=python, **overrides)
    assert sign_in(client, *ADMIN).status_code == 303
    return client


# ------------------------------------------------------------------ reading the registry


def test_no_registry_yet(reviewer: TestClient) -> None:
    page = reviewer.get("/models")
    assert page.status_code == 200
    assert "Belum ada model terdaftar." in page_text(page.text)
    assert "Latih model baru" not in page.text


def test_models_in_words_newest_first(reviewer: TestClient, settings: ReviewSettings) -> None:
    write_registry(settings, files=False)
    (settings.models_dir / "archive").mkdir()
    (settings.models_dir / f"archive/{LIVE}.tar.gz").write_bytes(b"model")
    (settings.models_dir / f"archive/{LIVE}.semantic").mkdir()
    text = page_text(reviewer.get("/models").text)
    assert f"Model live: {LIVE}" in text and f"sebelumnya live: {OLD}" in text
    assert text.index(REFUSED) < text.index(f"{LIVE} live") < text.index(f"archive/{OLD}.tar.gz")
    for header in (
        "Jawaban benar",
        "“Maksud Anda?” dengan topik yang benar",
        "Jawaban salah",
        "Menu atau topik lain",
    ):
        assert header in text
    assert "93,4 %" in text and "1,5 %" in text and "0,1 %" in text
    assert "Ditolak gerbang mutu" in text and "Disimpan, bisa dikembalikan" in text
    assert (
        "Lebih buruk dari model live: lebih banyak jawaban salah, 4,0 % (live 1,5 %); toleransi 0,2 %."
        in text
    )
    assert (
        "Tidak lebih buruk dari model live: pertanyaan terbantu 98,4 % (live 96,0 %), "
        "jawaban salah 1,5 % (live 2,0 %); toleransi 0,2 %."
    ) in text
    assert f"Digantikan oleh {LIVE}." in text
    assert f"(archive/{OLD}.tar.gz tidak ada)" in text and f"(archive/{REFUSED}.tar.gz tidak ada)" in text
    assert text.count("tidak ada)") == 2
    assert "2026-01-02 09:30" in text  # trained_at in Jakarta time
    assert "Hanya administrator yang boleh melatih" in text
    assert "Aktifkan" not in text and "Kembalikan versi sebelumnya" not in text


def test_the_page_in_english(reviewer: TestClient, settings: ReviewSettings) -> None:
    write_registry(settings)
    reviewer.cookies.set(LANG_COOKIE, "en")
    text = page_text(reviewer.get("/models").text)
    assert f"Live model: {LIVE}" in text and "Right answer" in text and "93.4 %" in text
    assert "Worse than the live model: more wrong answers, 4.0 % (live 1.5 %); tolerance 0.2 %." in text
    assert "Refused by the quality gate" in text


def test_a_broken_registry_is_reported(reviewer: TestClient, settings: ReviewSettings) -> None:
    settings.registry_file.write_text("{not json", encoding="utf-8")
    page = reviewer.get("/models")
    assert page.status_code == 200
    assert "registry.json tidak bisa dibaca" in page.text
    settings.registry_file.write_text(json.dumps({"models": [{"id": 3}]}), encoding="utf-8")
    assert "registry.json tidak bisa dibaca: malformed registry" in reviewer.get("/models").text


# ------------------------------------------------------------------ who may press the buttons


def test_reviewers_may_not_train_activate_or_roll_back(
    reviewer: TestClient, settings: ReviewSettings
) -> None:
    write_registry(settings)
    token = csrf(reviewer.get("/models").text)
    for path, form in (
        ("/models/train", {}),
        ("/models/activate", {"model_id": OLD}),
        ("/models/rollback", {}),
    ):
        answer = reviewer.post(path, data={"csrf_token": token, **form})
        assert answer.status_code == 403 and ADMINS_ONLY in answer.text
    assert current_job(settings.models_dir) is None


def test_a_form_without_this_sessions_token_changes_nothing(
    make_client: AppFactory, settings: ReviewSettings, tmp_path: Path
) -> None:
    write_registry(settings)
    admin = admin_with(make_client, fake_python(tmp_path, "exit 0"))
    for token in (None, "forged-token"):
        form = {"model_id": OLD} | ({"csrf_token": token} if token else {})
        for path in ("/models/train", "/models/activate", "/models/rollback"):
            answer = admin.post(path, data=form)
            assert answer.status_code == 403 and FORM_NOT_FROM_HERE in page_text(answer.text)
    assert current_job(settings.models_dir) is None


@pytest.mark.parametrize(
    "model_id",
    ["nope", "", "../../etc/passwd", "x" * 5000, "２０２５１２２０-１０００", f"{OLD}\u0000", " " + OLD],
)
def test_activating_an_unknown_model_is_an_indonesian_404(
    make_client: AppFactory, settings: ReviewSettings, tmp_path: Path, model_id: str
) -> None:
    write_registry(settings)
    admin = admin_with(make_client, fake_python(tmp_path, "exit 0"))
    answer = admin.post(
        "/models/activate", data={"csrf_token": csrf(admin.get("/models").text), "model_id": model_id}
    )
    assert answer.status_code == 404
    assert "Model itu tidak ada di registri model." in page_text(answer.text)
    assert current_job(settings.models_dir) is None


# ------------------------------------------------------------------ starting jobs


def test_train_shows_progress_refreshes_and_a_second_click_is_told_to_wait(
    make_client: AppFactory, settings: ReviewSettings, tmp_path: Path, held: Path, clock: FakeClock
) -> None:
    write_registry(settings)
    lines = "\n".join(f"echo {json.dumps(line)}" for line in TRAINING_OUTPUT[:5])
    python = fake_python(tmp_path, f'{lines}\nwhile [ ! -e "{held}" ]; do sleep 0.05; done')
    admin = admin_with(make_client, python)
    token = csrf(admin.get("/models").text)
    started = admin.post("/models/train", data={"csrf_token": token}, follow_redirects=False)
    assert (started.status_code, started.headers["location"]) == (303, "/models?notice=started")
    clock.advance(minutes=3, seconds=12)
    deadline = time.monotonic() + 10
    while "DIETClassifier" not in (page := admin.get(started.headers["location"])).text:
        assert time.monotonic() < deadline, page.text
        time.sleep(0.05)
    text = page_text(page.text)
    assert '<meta http-equiv="refresh" content="5">' in page.text
    assert "Pelatihan dimulai. Halaman ini memuat ulang sendiri setiap 5 detik" in text
    assert "Pelatihan: Melatih model Rasa: komponen DIETClassifier, epoch 18 dari 40" in text
    assert "Berjalan 3 menit 12 detik, sejak 2026-01-03 10:00 (dimulai oleh adam)." in text
    assert "Latih model baru" not in text and "Aktifkan" not in text  # no second job from this page

    again = admin.post("/models/train", data={"csrf_token": token})
    assert "Pelatihan sedang berjalan sejak 2026-01-03 10:00 (dimulai oleh adam). Tunggu sampai selesai." in (
        page_text(again.text)
    )
    rollback = admin.post("/models/rollback", data={"csrf_token": token})
    assert "Pelatihan sedang berjalan sejak" in page_text(rollback.text)
    # another app on the same models folder (another worker, or this one restarted) knows it too
    other = admin_with(make_client, python)
    assert "Pelatihan sedang berjalan sejak" in page_text(
        other.post("/models/train", data={"csrf_token": csrf(other.get("/models").text)}).text
    )

    held.touch()
    job = wait_until_done(settings.models_dir)
    assert job.record.kind is JobKind.TRAIN and job.exit_code == 0
    page = admin.get("/models")
    assert "http-equiv" not in page.text and "Latih model baru" in page.text


def test_activating_a_refused_model_needs_the_confirmation(
    make_client: AppFactory, settings: ReviewSettings, tmp_path: Path
) -> None:
    write_registry(settings)
    python = fake_python(tmp_path, 'echo "$*"')
    admin = admin_with(make_client, python)
    page = admin.get("/models")
    assert page.text.count('name="confirm"') == 1  # only the refused one asks
    token = csrf(page.text)
    refused = admin.post("/models/activate", data={"csrf_token": token, "model_id": REFUSED})
    assert "Centang “Saya tetap ingin mengaktifkannya”" in page_text(refused.text)
    assert current_job(settings.models_dir) is None
    live = admin.post("/models/activate", data={"csrf_token": token, "model_id": LIVE})
    assert "Model itu sudah live." in page_text(live.text)
    assert current_job(settings.models_dir) is None

    admin.post("/models/activate", data={"csrf_token": token, "model_id": REFUSED, "confirm": "yes"})
    job = wait_until_done(settings.models_dir)
    assert (job.record.kind, job.record.model_id, job.exit_code) == (JobKind.ACTIVATE, REFUSED, 0)
    assert f"-m training activate --models {settings.models_dir} -- {REFUSED}" in job.log
    assert f"{REFUSED} sekarang live (diaktifkan manual)." in page_text(admin.get("/models").text)


def test_a_model_with_missing_files_cannot_be_activated(
    make_client: AppFactory, settings: ReviewSettings, tmp_path: Path
) -> None:
    write_registry(settings)
    (settings.models_dir / f"archive/{OLD}.tar.gz").unlink()
    admin = admin_with(make_client, fake_python(tmp_path, "exit 0"))
    page = admin.get("/models")
    row = re.search(rf'<tr id="model-{OLD}">.*?</tr>', page.text, re.DOTALL)
    assert row and "Aktifkan" not in row.group(0)
    answer = admin.post("/models/activate", data={"csrf_token": csrf(page.text), "model_id": OLD})
    assert "Berkas model itu tidak lengkap di disk" in page_text(answer.text)
    assert current_job(settings.models_dir) is None


def test_rollback_needs_a_previous_version(
    make_client: AppFactory, settings: ReviewSettings, tmp_path: Path
) -> None:
    write_registry(settings, {**REGISTRY, "history": []})
    admin = admin_with(make_client, fake_python(tmp_path, 'echo "LIVE x again"'))
    page = admin.get("/models")
    assert "Kembalikan versi sebelumnya" not in page.text
    answer = admin.post("/models/rollback", data={"csrf_token": csrf(page.text)})
    assert "Tidak ada versi sebelumnya untuk dikembalikan." in page_text(answer.text)
    assert current_job(settings.models_dir) is None

    write_registry(settings)
    page = admin.get("/models")
    assert f"Kembalikan versi sebelumnya {OLD} live lagi; model live sekarang ditarik." in page_text(
        page.text
    )
    admin.post("/models/rollback", data={"csrf_token": csrf(page.text)})
    assert wait_until_done(settings.models_dir).record.kind is JobKind.ROLLBACK


# ------------------------------------------------------------------ the last job in words


def training(known: tuple[str, ...], live_before: str = LIVE) -> JobRecord:
    return JobRecord(JobKind.TRAIN, datetime(2026, 1, 3, 3, 0, tzinfo=UTC), "adam", "", live_before, known)


def with_candidate(status: str, reason: str, **metrics: float) -> dict[str, Any]:
    candidate = entry(CANDIDATE, "2026-12-06T12:00:00+00:00", status, reason, **metrics)
    models = [*REGISTRY["models"], candidate]
    if status == "live":
        return {"live": CANDIDATE, "history": [OLD, LIVE], "models": models}
    return {**REGISTRY, "models": models}


def test_the_gates_verdict_on_a_passed_training_in_words(
    reviewer: TestClient, settings: ReviewSettings
) -> None:
    reason = TRAINING_OUTPUT[-2].split(": ", 1)[1]
    write_registry(settings, with_candidate("live", reason, faq_right=0.7321, faq_clarified=0.071,
                                            faq_wrong=0.012, faq_menu=0.1849))  # fmt: skip
    log = [line.replace(JOBS_LIVE, LIVE) for line in TRAINING_OUTPUT]
    write_job(settings, training((OLD, LIVE, REFUSED)), log)
    text = page_text(reviewer.get("/models").text)
    assert "Tugas terakhir: Pelatihan, dimulai 2026-01-03 10:00 oleh adam, lama 2 menit 5 detik." in text
    assert f"Lolos gerbang mutu: {CANDIDATE} sekarang live, menggantikan {LIVE}." in text
    assert "Jawaban benar 73,2 % (live 72,0 %)" in text  # the live figures the gate measured (log)
    assert "“Maksud Anda?” dengan topik yang benar 7,1 % (live 7,6 %)" in text
    assert "Jawaban salah 1,2 % (live 1,2 %)" in text
    assert "Menu atau topik lain 18,5 % (live 19,2 %)" in text
    assert "Alasan: Tidak lebih buruk dari model live: pertanyaan terbantu 80,3 % (live 79,6 %)" in text
    assert f"Server Rasa yang berjalan sekarang memakai {CANDIDATE}.tar.gz." in text
    assert "http-equiv" not in text


def test_the_gates_verdict_on_a_refused_training_in_words(
    reviewer: TestClient, settings: ReviewSettings
) -> None:
    reason = "FAQ helped 70.0 % < live 80.0 %; FAQ wrong 4.0 % > live 1.5 % (tolerance 0.2 %)"
    write_registry(settings, with_candidate("refused", reason, faq_right=0.6, faq_clarified=0.1,
                                            faq_wrong=0.04, faq_menu=0.26))  # fmt: skip
    # no figures in the log (an older trainer): the live model's recorded ones stand in
    write_job(
        settings,
        training((OLD, LIVE, REFUSED)),
        [f"REFUSED {CANDIDATE}: {reason}. Live stays {LIVE}; version kept in archive/{CANDIDATE}.tar.gz."],
    )
    reviewer.cookies.set(LANG_COOKIE, "id")
    text = page_text(reviewer.get("/models").text)
    assert f"Ditolak gerbang mutu: {CANDIDATE} tidak diaktifkan; {LIVE} tetap live." in text
    assert "Jawaban benar 60,0 % (live 93,4 %)" in text and "Jawaban salah 4,0 % (live 1,5 %)" in text
    assert (
        "Alasan: Lebih buruk dari model live: lebih sedikit pertanyaan terbantu, 70,0 % (live 80,0 %); "
        "lebih banyak jawaban salah, 4,0 % (live 1,5 %); toleransi 0,2 %."
    ) in text
    assert "Server Rasa" not in text
    reviewer.cookies.set(LANG_COOKIE, "en")
    english = page_text(reviewer.get("/models").text)
    assert f"Refused by the quality gate: {CANDIDATE} was not activated; {LIVE} stays live." in english
    assert "Right answer 60.0 % (live 93.4 %)" in english


def test_a_training_that_changed_nothing_says_why(reviewer: TestClient, settings: ReviewSettings) -> None:
    write_registry(settings)
    write_job(settings, training((OLD, LIVE, REFUSED)),
              [f"up to date: live model {LIVE} is from this data and config (--force retrains)"])  # fmt: skip
    text = page_text(reviewer.get("/models").text)
    assert f"Tidak ada yang dilatih: data latih dan konfigurasi sama dengan model live {LIVE}." in text


def test_a_failed_command_shows_its_last_lines_without_secrets(
    make_client: AppFactory, settings: ReviewSettings, tmp_path: Path
) -> None:
    write_registry(settings)
    body = (
        'i=1; while [ $i -le 30 ]; do echo "rasa line $i"; i=$((i+1)); done\n'
        f'echo "PUT http://127.0.0.1:5005/model?token={TOKEN}"\n'
        'echo "training data validation failed (rasa data validate --fail-on-warnings): not training"\n'
        "exit 1"
    )
    admin = admin_with(make_client, fake_python(tmp_path, body), rasa_api_token=SecretStr(TOKEN))
    admin.post("/models/train", data={"csrf_token": csrf(admin.get("/models").text)})
    assert wait_until_done(settings.models_dir).exit_code == 1
    page = admin.get("/models")
    text = page_text(page.text)
    assert "Pelatihan gagal (kode keluar 1)." in text
    assert "Data latih tidak lolos pemeriksaan (rasa data validate): tidak ada yang dilatih." in text
    log = re.search(r'<pre class="job-log" id="job-log">(.*?)</pre>', page.text, re.DOTALL)
    assert log is not None
    shown = log.group(1).splitlines()
    assert (
        len(shown) == 20 and shown[0] == "rasa line 13" and shown[-1].startswith("training data validation")
    )
    assert TOKEN not in page.text and "token=[disembunyikan]" in page.text
    whole = re.search(r'<details id="job-log-full">.*?<pre class="job-log">(.*?)</pre>', page.text, re.DOTALL)
    assert whole is not None and whole.group(1).splitlines()[0] == "rasa line 1"
    assert "Seluruh catatan (32 baris terakhir)" in text
    assert "Latih model baru" in text  # a failed job does not block the next one


def test_a_job_that_stopped_without_an_exit_code(reviewer: TestClient, settings: ReviewSettings) -> None:
    write_registry(settings)
    write_job(settings, training((OLD, LIVE, REFUSED)), TRAINING_OUTPUT[:4], exit_code=None)
    text = html.unescape(page_text(reviewer.get("/models").text))
    assert "Pelatihan berhenti sebelum selesai (prosesnya dihentikan?)." in text
    assert "Starting to train component 'DIETClassifier'" in text


def test_reviewers_see_the_progress_of_a_running_job(
    make_client: AppFactory, settings: ReviewSettings, tmp_path: Path, held: Path
) -> None:
    write_registry(settings)
    admin = admin_with(make_client, fake_python(tmp_path, f'while [ ! -e "{held}" ]; do sleep 0.05; done'))
    admin.post("/models/rollback", data={"csrf_token": csrf(admin.get("/models").text)})
    reviewer = make_client()
    assert sign_in(reviewer, *REVIEWER).status_code == 303
    text = page_text(reviewer.get("/models").text)
    assert "Pengembalian versi sebelumnya: Memuat model ke server Rasa" in text


def test_every_text_of_the_page_has_its_english() -> None:
    """Each Indonesian text the Models page can show (the template's ``_()``, the constants and the
    literal texts its modules translate) is in locale/en/models.json."""
    english = json.loads((REVIEW / "locale" / "en" / "models.json").read_text(encoding="utf-8"))
    template = (REVIEW / "templates" / "models.html").read_text(encoding="utf-8")
    texts = set(re.findall(r'_\("([^"]+)"', template))
    texts |= {*words.METRIC_WORDS.values(), *words.STATUS_WORDS.values(), *words.PHASE_WORDS.values()}
    texts |= {*words.KIND_WORDS.values(), *(text for text, _ in pages.NOTICES.values())}
    texts |= {meaning for _, meaning in pages.FAILURES} | {pages.UNKNOWN_MODEL, pages.NOT_STARTED}
    for module in ("model_words.py", "model_registry.py"):
        tree = ast.parse((REVIEW / module).read_text(encoding="utf-8"))
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and getattr(call.func, "id", "") in ("translate", "_fixed"):
                first = call.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    texts.add(first.value)
    missing = sorted(text for text in texts if text not in english and text not in ("Live", "Status"))
    assert missing == []
    assert len(texts) > 60
