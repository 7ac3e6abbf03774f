"""The retraining loop for real, driven the way an admin drives it: user messages, the review app's
correction and export, then training, the gate's verdict, activation and rollback from the review
app's Models page in Debian chromium (services/review/model_registry.py), which runs
``python -m training`` (the Makefile's ``train`` / ``rollback`` commands) in the Rasa env.

Trains with tests/integration/fast_config.yml (a copy the Models page is configured with) on a
temporary copy of data/ into a temporary models folder, so the repository's models/ keep their
live model (the trainer still checks the embedding model and the semantic index there: no-ops
once `make train` has run). A Rasa server on the live model, with the project's endpoints and a
temporary SQLite tracker store (no action server: the FAQ actions fail, the user turns are stored
all the same), gets the questions over the REST channel; a reviewer corrects the missed ones in the
review app's inbox (review_client.py) and an admin exports them into the data copy. Three
trainings, two ``predict`` model loads, four server model loads (start, hot swap of the corrected
model, activation of the refused one, rollback). The page is never reloaded by the test: it
follows each job through its own meta refresh.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx
import pytest
import yaml
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect, sync_playwright

from actions.semantic import faq_index
from actions.semantic.faq_index import INDEX_ENV, MODELS_ENV
from supervisor.environment import rasa_variables
from supervisor.settings import SupervisorSettings
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, sign_in
from tests.integration import review_client as review
from tests.integration.review_client import unused_port

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venvs" / "rasa" / "bin" / "python"
RASA = ROOT / ".venvs" / "rasa" / "bin" / "rasa"
SERVER_PORTS = range(16270, 16290)
SERVER_STARTUP_SECONDS = 300
FAST_CONFIG = ROOT / "tests" / "integration" / "fast_config.yml"
JOB_SECONDS = 900  # one training on 2 cores: ~100 s with the fast config; a hot swap loads a model
ACTION_TIMEOUT_MS = 30_000
# The metrics as the Models page names them (services/review/model_words.py), in registry order.
METRIC_WORDS = {
    "faq_right": "Jawaban benar",
    "faq_clarified": "“Maksud Anda?” dengan topik yang benar",
    "faq_wrong": "Jawaban salah",
    "faq_menu": "Menu atau topik lain",
}

# Questions as recipients write them, with the topic they ask about: written for this test, in
# neither data/nlu nor data/heldout. The fast baseline misses some of them (falls back or picks
# another topic); which ones depends on the training, so the test looks them up.
QUESTIONS = {
    "pak rt bilang kalo ga disuntik nanti bansos dicabut, beneran gitu?": "faq/wajib",
    "istri lagi isi 5 bulan, aman ga kalo ikut vaksinasi": "faq/ibu_hamil",
    "kartu vaksin di aplikasi kok belum keluar ya padahal udah seminggu": "faq/sertifikat_bermasalah",
    "kalau ditawarin suntik moderna padahal sebelumnya sinovac gapapa?": "faq/vaksin_campur",
    "kerja di jakarta tapi ktp bandung, bisa ikut vaksin di sini?": "faq/luar_domisili",
    "habis disuntik boleh langsung mandi air dingin ga": "faq/setelah_vaksin",
    "lagi minum obat pengencer darah tiap hari, boleh divaksin?": "faq/obat_rutin",
    "sesak napas dan dada nyeri sehari setelah vaksin harus ngapain": "faq/kipi_berat",
    "kalau udh divaksin lengkap masih bisa ketularan ga": "faq/efektivitas",
    "suntikan ketiga itu kapan jadwalnya setelah dosis dua": "faq/booster",
    "eyang umur 80an masih boleh ikut vaksin covid?": "faq/lansia",
    "vaksin yg dipake pemerintah merk apa aja sih": "faq/jenis_vaksin",
}


class Loop:
    """A temporary data copy and models folder, driven through `make` like a developer would."""

    def __init__(self, tmp_path: Path) -> None:
        self.data = tmp_path / "data"
        shutil.copytree(ROOT / "data", self.data)
        self.models = tmp_path / "models"
        # the pipeline the Models page trains with (REVIEW_TRAINING_CONFIG): a step swaps in a worse one
        self.config = tmp_path / "config.yml"
        shutil.copyfile(FAST_CONFIG, self.config)
        self.timings: dict[str, float] = {}
        # never hot-swap a server someone else is running, never inherit another make's variables
        drop = {"RASA_URL", "RASA_API_TOKEN", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}
        self.env = {key: value for key, value in os.environ.items() if key not in drop}

    def run(
        self, step: str, command: list[str], env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        environment = {**self.env, **(env or {})}
        result = subprocess.run(
            command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False
        )
        self.timings[step] = time.monotonic() - started
        tail = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        assert result.returncode == 0, f"{step}: exit {result.returncode}\n{tail}"
        return result

    def make(
        self, step: str, target: str, config: Path = FAST_CONFIG, env: dict[str, str] | None = None
    ) -> str:
        result = self.run(
            step,
            [
                "make",
                "--no-print-directory",
                target,
                f"CONFIG={config}",
                f"MODELS={self.models}",
                f"TRAIN_DATA={self.data / 'nlu'} {self.data / 'rules'}",
                f"HELDOUT={self.data / 'heldout'}",
            ],
            env,
        )
        return result.stdout

    def predict(self, step: str, texts: list[str]) -> list[dict[str, Any]]:
        command = [str(RASA_PYTHON), "-m", "training", "predict", "--models", str(self.models), *texts]
        stdout = self.run(step, command).stdout
        return [json.loads(line) for line in stdout.splitlines()]  # stdout is JSON lines only

    def registry(self) -> dict[str, Any]:
        return dict(json.loads((self.models / "registry.json").read_text(encoding="utf-8")))

    def live_file(self) -> str:
        return os.readlink(self.models / "live.tar.gz")

    def job_log(self) -> str:
        """The output of the last job the Models page ran (services/review/training_jobs.py)."""
        return (self.models / ".training" / "output.log").read_text(encoding="utf-8", errors="replace")

    def live_index(self) -> Path:
        """The index the action server loads for this models folder (its own resolution)."""
        with patch.dict(os.environ, {MODELS_ENV: str(self.models)}):
            os.environ.pop(INDEX_ENV, None)
            return faq_index.index_dir()


class RasaServer:
    """``rasa run --enable-api --auth-token`` on ``--model <models folder>``, as the supervisor
    starts it: the server the gate hot-swaps. With the project's endpoints, its tracker store in
    ``<folder>/tracker.db`` and an action endpoint where nothing listens; the REST channel only.
    Its address and token exist before it starts, so the review app knows them from the first
    training on (which finds no server to swap: the baseline is trained before there is one)."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_urlsafe(16)
        self.folder = folder
        self.log_file = folder / "rasa.log"
        self.tracker_db = folder / "tracker.db"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, models: Path) -> None:
        credentials = self.folder / "credentials.yml"
        credentials.write_text("rest:\n", encoding="utf-8")
        command = [str(RASA), "run", "--model", str(models), "--port", str(self.port)]
        command += ["--enable-api", f"--auth-token={self.token}", "--credentials", str(credentials)]
        command += ["--endpoints", str(ROOT / "rasa_project" / "endpoints.yml")]
        environment = {
            **dict.fromkeys(rasa_variables(), ""),  # Rasa refuses an endpoints file with a ${VAR} unset
            **os.environ,
            "LOCK_STORE_TYPE": SupervisorSettings.model_fields["lock_store_type"].default,
            "PYTHONPATH": str(ROOT),
            "TRACKER_DB_DIALECT": "sqlite",
            "TRACKER_DB": str(self.tracker_db),
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{unused_port()}/webhook",
            "ACTION_SERVER_TOKEN": secrets.token_urlsafe(16),
        }
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def serving(self) -> str:
        """The model file the server has loaded, once it is up."""
        assert self.process is not None, "the server was not started"
        deadline = time.monotonic() + SERVER_STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_file.read_text(errors="replace")[-3000:]
            try:
                response = httpx.get(f"{self.url}/status", params={"token": self.token}, timeout=5)
                if response.status_code == 200:
                    return str(response.json()["model_file"])
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise AssertionError(
            f"no Rasa server at {self.url}:\n{self.log_file.read_text(errors='replace')[-3000:]}"
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def free_port() -> int:
    for port in SERVER_PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise AssertionError(f"no free port in {SERVER_PORTS}")


@contextmanager
def running(server: RasaServer, models: Path) -> Iterator[RasaServer]:
    server.start(models)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def models_page(review_url: str, folder: Path) -> Iterator[Page]:
    """Debian's chromium, an admin signed in to the review app (as tests/browser/conftest.py
    launches it); a screenshot and the page's HTML in ``folder`` when the block fails."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup_browser.sh", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(base_url=review_url, locale="id-ID").new_page()
            page.set_default_timeout(ACTION_TIMEOUT_MS)
            sign_in(page, *review.ADMIN)
            expect(page).to_have_url(re.compile(r"/conversations$"))
            page.goto("/models")
            try:
                yield page
            except BaseException:
                with contextlib.suppress(PlaywrightError):
                    page.screenshot(path=str(folder / "models-page-failure.png"), full_page=True)
                    (folder / "models-page-failure.html").write_text(page.content(), encoding="utf-8")
                raise
        finally:
            browser.close()


def run_job(page: Page, loop: Loop, step: str, button: Locator) -> tuple[str, list[str]]:
    """Clicks ``button`` (the Models page starts a job and comes back to itself) and waits, without
    reloading, until the page shows the job's outcome. Returns the outcome's text and the progress
    lines the page showed meanwhile (the page reloads itself every few seconds)."""
    started = time.monotonic()
    button.click()
    expect(page).to_have_url(re.compile(r"/models\?notice=started$"))
    phases: list[str] = []
    while not _visible(page, "#job-result"):
        assert time.monotonic() - started < JOB_SECONDS, f"{step}: no outcome after {JOB_SECONDS} s"
        with contextlib.suppress(PlaywrightError):  # the page may be reloading itself right now
            phase = page.locator("#job-progress p").first.inner_text(timeout=1000)
            if phase not in phases:
                phases.append(phase)
        page.wait_for_timeout(1000)
    loop.timings[step] = time.monotonic() - started
    assert page.locator('meta[http-equiv="refresh"]').count() == 0  # done: the page stops reloading
    return " ".join(page.locator("#job-result").inner_text().split()), phases


def train_button(page: Page) -> Locator:
    return page.get_by_role("button", name="Latih model baru", exact=True)


def _visible(page: Page, selector: str) -> bool:
    try:
        return page.locator(selector).is_visible()
    except PlaywrightError:
        return False


def shown(value: float) -> str:
    """A share as the Indonesian page writes it: 0.732 -> 73,2 %."""
    return f"{value * 100:.1f} %".replace(".", ",")


def outcome_lines(candidate: dict[str, float], output: str, live_id: str) -> list[str]:
    """The gate's comparison in the page's words ("Jawaban benar 73,2 % (live 72,0 %)" etc.): the
    candidate's figures as recorded, the live model's as the gate measured them again (its output)."""
    measured = re.search(
        rf"live {re.escape(live_id)}: right answer ([\d.]+) %, \"did you mean\" with the right topic "
        r"([\d.]+) %, wrong answer ([\d.]+) %, menu or other topics ([\d.]+) %",
        output,
    )
    assert measured, output[-3000:]
    live = [figure.replace(".", ",") + " %" for figure in measured.groups()]
    return [
        f"{words} {shown(candidate[name])} (live {figure})"
        for (name, words), figure in zip(METRIC_WORDS.items(), live, strict=True)
    ]


def user_turns(tracker_db: Path) -> dict[str, tuple[str, str]]:
    """Sender -> its user message and the intent it was parsed as, from the tracker store's events."""
    with sqlite3.connect(tracker_db) as connection:
        rows = connection.execute("SELECT sender_id, data FROM events WHERE type_name = 'user'").fetchall()
    events = {sender: json.loads(data) for sender, data in rows}
    return {sender: (e["text"], e["parse_data"]["intent"]["name"]) for sender, e in events.items()}


def files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder``: size and modification time."""
    found = (path for path in folder.rglob("*") if path.is_file())
    return {str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns) for path in found}


def model(registry: dict[str, Any], model_id: str) -> dict[str, Any]:
    return next(entry for entry in registry["models"] if entry["id"] == model_id)


def worse_config(target: Path) -> Path:
    """The fast pipeline without the answer ensemble, one epoch each: DIET and the
    ResponseSelector alone, barely trained, answer many held-out questions wrongly."""
    config = yaml.safe_load(FAST_CONFIG.read_text(encoding="utf-8"))
    config["pipeline"] = [step for step in config["pipeline"] if "AnswerEnsemble" not in step["name"]]
    for step in config["pipeline"]:
        if "epochs" in step:
            step["epochs"] = 1
    target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return target


def test_a_reviewed_correction_goes_live_a_worse_model_does_not_and_the_admin_activates_and_rolls_back(
    tmp_path: Path,
) -> None:
    loop = Loop(tmp_path)
    server = RasaServer(tmp_path)
    started = time.monotonic()
    settings = {"RASA_API_TOKEN": server.token, "REVIEW_TRAINING_CONFIG": str(loop.config)}
    with (
        review.review_app(tmp_path, loop.data, loop.models, server.url, settings) as review_url,
        models_page(review_url, tmp_path) as page,
    ):
        expect(page.locator("#versions")).to_contain_text("Belum ada model terdaftar.")

        # (a) the baseline becomes live: there is nothing to compare it with, no server to swap yet
        result, phases = run_job(page, loop, "a: train baseline", train_button(page))
        registry = loop.registry()
        baseline = registry["live"]
        assert f"Lolos gerbang mutu: {baseline} adalah model pertama dan sekarang live." in result, result
        assert "Alasan: Model pertama: belum ada model live untuk dibandingkan." in result
        assert "Server Rasa yang berjalan belum diperbarui" in result and server.token not in result
        # the progress the page showed came from the real trainer's output: which phases a poll catches
        # depends on the machine's speed (the fast config trains in seconds), so at least two of them
        from_trainer = [phase for phase in phases if phase != "Pelatihan: Memulai"]
        assert len(from_trainer) >= 2, phases
        assert model(registry, baseline)["status"] == "live"
        assert loop.live_file() == f"archive/{baseline}.tar.gz"
        assert loop.live_index() == loop.models / "archive" / f"{baseline}.semantic"
        result, _ = run_job(page, loop, "a: train again, unchanged", train_button(page))
        assert (
            f"Tidak ada yang dilatih: data latih dan konfigurasi sama dengan model live {baseline}." in result
        )
        assert loop.registry() == registry

        # a running server on the live model, with the project's tracker store: the gate hot-swaps it
        with running(server, loop.models):
            # (b) questions the live model does not answer with the right topic (loaded while the server
            # starts)
            answers = loop.predict("b: predict", list(QUESTIONS))
            assert {answer["model"] for answer in answers} == {baseline}
            missed = {a["text"]: QUESTIONS[a["text"]] for a in answers if a["label"] != QUESTIONS[a["text"]]}
            assert missed, f"the baseline answered every question right: {answers}"

            # people ask them over the REST channel: stored in the tracker store with their parse data
            started_server = time.monotonic()
            assert server.serving() == "live.tar.gz"
            loop.timings["b: server up"] = time.monotonic() - started_server
            senders = {text: f"loop-user-{number}" for number, text in enumerate(QUESTIONS)}
            for text, sender in senders.items():
                answer = httpx.post(
                    f"{server.url}/webhooks/rest/webhook",
                    json={"sender": sender, "message": text},
                    timeout=120,
                )
                assert answer.status_code == 200, answer.text
            stored = user_turns(server.tracker_db)
            assert {sender: text for sender, (text, _) in stored.items()} == {
                s: t for t, s in senders.items()
            }
            assert all(intent for _, intent in stored.values()), stored
            loop.timings["b: user messages"] = time.monotonic() - started_server

            # (c) a reviewer corrects the missed ones in the inbox, an admin exports them to training data
            started_review = time.monotonic()
            repository_data = files(ROOT / "data")
            data_before = files(loop.data)
            with review.signed_in(review_url, review.REVIEWER) as reviewer:
                rows, csrf = review.inbox_rows(reviewer)
                assert set(QUESTIONS) <= set(rows), rows
                for text, topic in missed.items():
                    review.correct(reviewer, csrf, rows[text], topic)
                rows, _ = review.inbox_rows(reviewer)
                assert not set(missed) & set(rows), rows
            with review.signed_in(review_url, review.ADMIN) as admin:
                assert review.export(admin) == len(missed)
            reviewed = yaml.safe_load((loop.data / "nlu" / "reviewed.yml").read_text(encoding="utf-8"))
            written = {
                line.strip()[2:]: item["intent"]
                for item in reviewed["nlu"]
                for line in item["examples"].splitlines()
                if line.strip()
            }
            assert written == missed
            changed = {name for name, stat in files(loop.data).items() if data_before.get(name) != stat}
            assert changed == {"nlu/reviewed.yml"}, changed
            assert files(ROOT / "data") == repository_data
            loop.timings["c: review and export"] = time.monotonic() - started_review

            # (d) the corrected model passes the gate, goes live in the server, answers the reviewed
            # questions right; the page says so in words, candidate against live
            result, _ = run_job(page, loop, "d: train with corrections", train_button(page))
            registry = loop.registry()
            corrected = registry["live"]
            assert corrected != baseline, result
            assert f"Lolos gerbang mutu: {corrected} sekarang live, menggantikan {baseline}." in result, (
                result
            )
            assert "Alasan: Tidak lebih buruk dari model live: pertanyaan terbantu" in result
            # the gate judged what recipients get: Rasa and the second stage, candidate against live
            output = loop.job_log()
            assert f"LIVE {corrected}: not worse than the live model" in output
            assert (
                f"candidate {corrected}: right answer" in output
                and f"live {baseline}: right answer" in output
            )
            for line in outcome_lines(model(registry, corrected)["metrics"], output, baseline):
                assert line in result, (line, result)
            assert f"Server Rasa yang berjalan sekarang memakai {corrected}.tar.gz." in result
            assert f"running server at {server.url} now serves {corrected}.tar.gz" in output
            assert loop.live_index() == loop.models / "archive" / f"{corrected}.semantic"
            live_index_files = files(loop.live_index())
            assert server.serving() == f"{corrected}.tar.gz"
            assert registry["history"] == [baseline]
            assert model(registry, baseline)["status"] == "kept"
            after = loop.predict("d: predict", list(missed))
            assert {answer["model"] for answer in after} == {corrected}
            assert {a["text"]: a["label"] for a in after} == missed

            # (e) a deliberately worse model is refused: recorded and kept on disk, never live
            worse_config(loop.config)
            result, _ = run_job(page, loop, "e: train worse", train_button(page))
            registry = loop.registry()
            refused = registry["models"][-1]
            assert refused["status"] == "refused", result
            assert refused["reason"].startswith("FAQ "), refused
            assert f"REFUSED {refused['id']}: {refused['reason']}" in loop.job_log()
            assert (
                f"Ditolak gerbang mutu: {refused['id']} tidak diaktifkan; {corrected} tetap live." in result
            )
            assert "Alasan: Lebih buruk dari model live: " in result, result
            for line in outcome_lines(refused["metrics"], loop.job_log(), corrected):
                assert line in result, (line, result)
            assert "Server Rasa" not in result
            assert (registry["live"], registry["history"]) == (corrected, [baseline])
            assert loop.live_file() == f"archive/{corrected}.tar.gz"
            assert (loop.models / refused["file"]).is_file()
            # its index was built and kept, but the action server's live index is untouched
            assert (loop.models / refused["index"]).is_dir()
            assert loop.live_index() == loop.models / "archive" / f"{corrected}.semantic"
            assert files(loop.live_index()) == live_index_files
            # the refused model stayed away from the running server
            assert server.serving() == f"{corrected}.tar.gz"

            # (f) the admin activates the refused model anyway: only with the confirmation ticked
            row = page.locator(f"#model-{refused['id']}")
            activate = row.get_by_role("button", name="Aktifkan")
            before = page.url
            activate.click()  # not ticked: the browser asks for the tick and sends nothing
            confirm = row.get_by_label("Saya tetap ingin mengaktifkannya")
            assert confirm.evaluate("box => box.validity.valueMissing")
            page.wait_for_timeout(500)
            assert page.url == before and loop.registry() == registry
            assert "REFUSED" in loop.job_log()  # the last job is still the refused training
            confirm.check()
            result, _ = run_job(page, loop, "f: activate refused", activate)
            registry = loop.registry()
            assert f"{refused['id']} sekarang live (diaktifkan manual)." in result, result
            assert f"Server Rasa yang berjalan sekarang memakai {refused['id']}.tar.gz." in result
            assert server.serving() == f"{refused['id']}.tar.gz"
            assert (registry["live"], registry["history"]) == (refused["id"], [baseline, corrected])
            assert model(registry, refused["id"])["reason"] == "activated by hand"
            assert loop.live_file() == f"archive/{refused['id']}.tar.gz"
            assert loop.live_index() == loop.models / "archive" / f"{refused['id']}.semantic"

            # (g) rollback restores the corrected model, on disk and in the running server
            result, _ = run_job(
                page,
                loop,
                "g: rollback + hot swap",
                page.get_by_role("button", name="Kembalikan versi sebelumnya"),
            )
            registry = loop.registry()
            assert f"Versi sebelumnya dikembalikan: {corrected} live lagi." in result, result
            assert f"Server Rasa yang berjalan sekarang memakai {corrected}.tar.gz." in result
            assert f"LIVE {corrected} again" in loop.job_log()
            assert server.serving() == f"{corrected}.tar.gz"
            assert (registry["live"], registry["history"]) == (corrected, [baseline])
            assert model(registry, refused["id"])["status"] == "retired"
            assert loop.live_file() == f"archive/{corrected}.tar.gz"
            assert loop.live_index() == loop.models / "archive" / f"{corrected}.semantic"
            assert files(loop.live_index()) == live_index_files

        # the table in words, and on a phone it scrolls in place instead of widening the page
        table = page.locator("#models-table")
        expect(table.locator(f"#model-{refused['id']}")).to_contain_text("Ditarik")
        expect(table.locator(f"#model-{corrected}")).to_contain_text("Live")
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        scroller = page.locator(".table-scroll")
        assert scroller.evaluate("element => element.scrollWidth > element.clientWidth")
        page.screenshot(path=str(tmp_path / "models-390.png"), full_page=True)
    listed = loop.make("list", "models")
    assert any(line.startswith("*") and corrected in line for line in listed.splitlines()), listed
    print(f"\n{listed}\nmissed by the baseline: {missed}")

    loop.timings["total"] = time.monotonic() - started
    print("\n".join(f"{step:32s} {seconds:6.1f} s" for step, seconds in loop.timings.items()))


def test_training_data_that_fails_validation_trains_nothing_and_the_page_says_why(tmp_path: Path) -> None:
    loop = Loop(tmp_path)
    (loop.data / "nlu" / "reviewed.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: not_in_the_domain\n  examples: |\n    - halo apa kabar\n',
        encoding="utf-8",
    )
    settings = {"REVIEW_TRAINING_CONFIG": str(loop.config)}
    with (
        review.review_app(
            tmp_path, loop.data, loop.models, f"http://127.0.0.1:{unused_port()}", settings
        ) as url,
        models_page(url, tmp_path) as page,
    ):
        result, _ = run_job(page, loop, "train invalid data", train_button(page))
        assert "Pelatihan gagal (kode keluar 1)." in result, result
        assert "Data latih tidak lolos pemeriksaan (rasa data validate): tidak ada yang dilatih." in result
        # what is wrong is in the log the page folds out (Rasa's warnings precede its verdict)
        assert "training data validation failed" in page.locator("#job-log").inner_text()
        page.locator("#job-log-full summary").click()
        expect(page.locator("#job-log-full pre")).to_contain_text("intent 'not_in_the_domain'")
        expect(train_button(page)).to_be_visible()
    assert "validation failed" in loop.job_log()
    assert not (loop.models / "registry.json").exists()
    assert not list(loop.models.glob("**/*.tar.gz"))
