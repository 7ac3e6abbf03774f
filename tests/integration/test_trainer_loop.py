"""The retraining loop for real: user messages, the review app's correction and export, `make train`
with the gate, a refusal, `make rollback`.

Trains with tests/integration/fast_config.yml on a temporary copy of data/ into a temporary models
folder, so the repository's models/ keep their live model (``make train`` still checks the
embedding model and the semantic index there: no-ops once `make train` has run). A Rasa server on
the live model, with the project's endpoints and a temporary SQLite tracker store (no action
server: the FAQ actions fail, the user turns are stored all the same), gets the questions over the
REST channel; a reviewer corrects the missed ones in the review app's inbox (review_client.py) and
an admin exports them into the data copy. Three trainings, two ``predict`` model loads, three
server model loads (start, hot swap of the corrected model, rollback).
"""

from __future__ import annotations

import json
import os
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
import yaml

from actions.semantic import faq_index
from actions.semantic.faq_index import INDEX_ENV, MODELS_ENV
from tests.integration import review_client as review
from tests.integration.review_client import unused_port

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venvs" / "rasa" / "bin" / "python"
RASA = ROOT / ".venvs" / "rasa" / "bin" / "rasa"
SERVER_PORTS = range(16270, 16290)
SERVER_STARTUP_SECONDS = 300
FAST_CONFIG = ROOT / "tests" / "integration" / "fast_config.yml"

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

    def live_index(self) -> Path:
        """The index the action server loads for this models folder (its own resolution)."""
        with patch.dict(os.environ, {MODELS_ENV: str(self.models)}):
            os.environ.pop(INDEX_ENV, None)
            return faq_index.index_dir()


class RasaServer:
    """``rasa run --enable-api --auth-token`` on ``--model <models folder>``, as the supervisor
    starts it: the server the gate hot-swaps. With the project's endpoints, its tracker store in
    ``<folder>/tracker.db`` and an action endpoint where nothing listens; the REST channel only."""

    def __init__(self, models: Path, folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_urlsafe(16)
        self.log_file = folder / "rasa.log"
        self.tracker_db = folder / "tracker.db"
        credentials = folder / "credentials.yml"
        credentials.write_text("rest:\n", encoding="utf-8")
        command = [str(RASA), "run", "--model", str(models), "--port", str(self.port)]
        command += ["--enable-api", "--auth-token", self.token, "--credentials", str(credentials)]
        command += ["--endpoints", str(ROOT / "rasa_project" / "endpoints.yml")]
        environment = {
            **os.environ,
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

    @property
    def env(self) -> dict[str, str]:
        return {"RASA_URL": self.url, "RASA_API_TOKEN": self.token}

    def serving(self) -> str:
        """The model file the server has loaded, once it is up."""
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
        if self.process.poll() is None:
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
def rasa_server(models: Path, folder: Path) -> Iterator[RasaServer]:
    server = RasaServer(models, folder)
    try:
        yield server
    finally:
        server.stop()


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


def test_a_reviewed_correction_goes_live_a_worse_model_does_not_and_rollback_undoes(tmp_path: Path) -> None:
    loop = Loop(tmp_path)
    started = time.monotonic()

    # (a) the baseline becomes live: there is nothing to compare it with
    output = loop.make("a: train baseline", "train")
    registry = loop.registry()
    baseline = registry["live"]
    assert f"LIVE {baseline}: first model" in output
    assert model(registry, baseline)["status"] == "live"
    assert loop.live_file() == f"archive/{baseline}.tar.gz"
    assert loop.live_index() == loop.models / "archive" / f"{baseline}.semantic"
    assert "up to date" in loop.make("a: train again, unchanged", "train")

    # a running server on the live model, with the project's tracker store: the gate hot-swaps it
    with rasa_server(loop.models, tmp_path) as server:
        # (b) questions the live model does not answer with the right topic (loaded while the server starts)
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
                f"{server.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=120
            )
            assert answer.status_code == 200, answer.text
        stored = user_turns(server.tracker_db)
        assert {sender: text for sender, (text, _) in stored.items()} == {s: t for t, s in senders.items()}
        assert all(intent for _, intent in stored.values()), stored
        loop.timings["b: user messages"] = time.monotonic() - started_server

        # (c) a reviewer corrects the missed ones in the inbox, an admin exports them to training data
        started_review = time.monotonic()
        repository_data = files(ROOT / "data")
        data_before = files(loop.data)
        with review.review_app(tmp_path, loop.data, loop.models, server.url) as review_url:
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
        # questions right
        output = loop.make("d: train with corrections", "train", env=server.env)
        registry = loop.registry()
        corrected = registry["live"]
        assert corrected != baseline, output
        assert f"LIVE {corrected}: not worse than the live model" in output
        assert f"running server at {server.url} now serves {corrected}.tar.gz" in output
        # the gate judged what recipients get: Rasa and the second stage, candidate against live
        assert f"candidate {corrected}: right answer" in output and f"live {baseline}: right answer" in output
        assert loop.live_index() == loop.models / "archive" / f"{corrected}.semantic"
        live_index_files = files(loop.live_index())
        assert server.serving() == f"{corrected}.tar.gz"
        assert registry["history"] == [baseline]
        assert model(registry, baseline)["status"] == "kept"
        after = loop.predict("d: predict", list(missed))
        assert {answer["model"] for answer in after} == {corrected}
        assert {a["text"]: a["label"] for a in after} == missed

        # (e) a deliberately worse model is refused: recorded and kept on disk, never live
        worse = worse_config(tmp_path / "worse.yml")
        output = loop.make("e: train worse", "train", config=worse, env=server.env)
        registry = loop.registry()
        refused = registry["models"][-1]
        assert refused["status"] == "refused", output
        assert refused["reason"].startswith("FAQ "), refused
        assert f"REFUSED {refused['id']}: {refused['reason']}" in output
        assert (registry["live"], registry["history"]) == (corrected, [baseline])
        assert loop.live_file() == f"archive/{corrected}.tar.gz"
        assert (loop.models / refused["file"]).is_file()
        # its index was built and kept, but the action server's live index is untouched
        assert (loop.models / refused["index"]).is_dir()
        assert loop.live_index() == loop.models / "archive" / f"{corrected}.semantic"
        assert files(loop.live_index()) == live_index_files
        # the refused model stayed away from the running server
        assert server.serving() == f"{corrected}.tar.gz"

        # (f) rollback restores the baseline, on disk and in the running server
        output = loop.make("f: rollback + hot swap", "rollback", env=server.env)
        registry = loop.registry()
        assert f"LIVE {baseline} again" in output
        assert f"running server at {server.url} now serves {baseline}.tar.gz" in output
        assert server.serving() == f"{baseline}.tar.gz"
        assert (registry["live"], registry["history"]) == (baseline, [])
        assert model(registry, corrected)["status"] == "retired"
        assert loop.live_file() == f"archive/{baseline}.tar.gz"
        assert loop.live_index() == loop.models / "archive" / f"{baseline}.semantic"
    table = loop.make("f: list", "models")
    assert any(line.startswith("*") and baseline in line for line in table.splitlines()), table
    print(f"\n{table}\nmissed by the baseline: {missed}")

    loop.timings["total"] = time.monotonic() - started
    print("\n".join(f"{step:32s} {seconds:6.1f} s" for step, seconds in loop.timings.items()))


def test_training_data_that_fails_validation_trains_nothing(tmp_path: Path) -> None:
    loop = Loop(tmp_path)
    (loop.data / "nlu" / "reviewed.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: not_in_the_domain\n  examples: |\n    - halo apa kabar\n',
        encoding="utf-8",
    )
    command = ["make", "--no-print-directory", "train", f"CONFIG={FAST_CONFIG}", f"MODELS={loop.models}"]
    command += [f"TRAIN_DATA={loop.data / 'nlu'} {loop.data / 'rules'}", f"HELDOUT={loop.data / 'heldout'}"]
    result = subprocess.run(command, cwd=ROOT, env=loop.env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "validation failed" in result.stdout
    assert "not_in_the_domain" in result.stdout + result.stderr
    assert not (loop.models / "registry.json").exists()
    assert not list(loop.models.glob("**/*.tar.gz"))
