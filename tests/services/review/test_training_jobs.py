"""The job runner behind the Models page's buttons: one job at a time across processes, the command
line, the output read as progress and verdict, secrets kept out of what a page shows.

Jobs here run a small shell script in place of the Rasa env's Python: these tests check the
runner's mechanics (lock, exit code, log, environment), not training. Real trainings started from
the page are in tests/integration/test_trainer_loop.py.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from services.review.settings import ReviewSettings
from services.review.training_jobs import (
    LOCK_FILE,
    Job,
    JobBusy,
    JobKind,
    JobRecord,
    Phase,
    Progress,
    command_for,
    current_job,
    jobs_folder,
    log_tail,
    read_output,
    start_job,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
TOKEN = "rasa-api-token-for-the-test-0123"
CANDIDATE, LIVE = "20261206T120000Z", "20261201T080000Z"
HOOKS = "2026-12-06 12:00:09 INFO     rasa.engine.training.hooks "

# The output of a real `python -m training train` (Rasa's INFO lines, tqdm's bar, the trainer's
# own lines from training/trainer.py and training/evaluation.py), shortened.
TRAINING_OUTPUT = [
    "2026-12-06 12:00:02 INFO     rasa.validator  - Validating intents...",
    f"{HOOKS} - Starting to train component 'IndonesianSpacyTokenizer'.",
    f"{HOOKS} - Finished training component 'IndonesianSpacyTokenizer'.",
    f"{HOOKS} - Starting to train component 'DIETClassifier'.",
    "Epochs:   0%|          | 0/40 [00:00<?, ?it/s]\r"
    "Epochs:  45%|████▌     | 18/40 [00:05<00:06,  3.41it/s, t_loss=2.1]",
    f"Your Rasa model is trained and saved at 'models/archive/{CANDIDATE}.tar.gz'.",
    f"models/archive/{CANDIDATE}.semantic: indexed 1200 examples of 60 intents (51 FAQ topics) in 12.0 s",
    f"parsing data/heldout with {CANDIDATE}.tar.gz",
    "End to end on the held-out split (share of each group)",
    f"parsing data/heldout with {LIVE}.tar.gz",
    "End to end on the held-out split (share of each group)",
    "End to end on the held-out split (407 FAQ questions): what recipients get from Rasa and the second "
    "stage",
    f'  candidate {CANDIDATE}: right answer 73.2 %, "did you mean" with the right topic 7.1 %, '
    "wrong answer 1.2 %, menu or other topics 18.5 %",
    f'  live {LIVE}: right answer 72.0 %, "did you mean" with the right topic 7.6 %, '
    "wrong answer 1.2 %, menu or other topics 19.2 %",
    f"LIVE {CANDIDATE}: not worse than the live model: FAQ helped 80.3 % (live 79.6 %), "
    "FAQ wrong 1.2 % (live 1.2 %) (tolerance 0.2 %)",
    f"running server at http://127.0.0.1:5005 now serves {CANDIDATE}.tar.gz",
]


def fake_python(folder: Path, body: str) -> Path:
    """An executable standing in for the Rasa env's Python: it gets the same arguments."""
    script = folder / "fake-rasa-python"
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(0o755)
    return script


def job_settings(settings: ReviewSettings, python: Path, **overrides: object) -> ReviewSettings:
    values = {**settings.model_dump(), "rasa_python": python, "rasa_api_token": SecretStr(TOKEN), **overrides}
    return ReviewSettings.model_validate(values)


def wait_until_done(models_dir: Path, seconds: float = 20) -> Job:
    deadline = time.monotonic() + seconds
    while True:
        job = current_job(models_dir)
        if job is not None and not job.running:
            return job
        assert time.monotonic() < deadline, f"the job did not end: {job}"
        time.sleep(0.05)


def record(kind: JobKind = JobKind.TRAIN, live_before: str = LIVE) -> JobRecord:
    return JobRecord(kind, NOW, "adam", "", live_before, (LIVE,))


def test_the_training_command_is_the_makefiles_with_absolute_paths(
    settings: ReviewSettings, tmp_path: Path
) -> None:
    configured = job_settings(settings, Path("rasa-python"), data_dir=tmp_path / "data")
    folder = jobs_folder(configured.models_dir)
    command = command_for(configured, record(), folder)
    assert command[:4] == [str(Path("rasa-python").absolute()), "-m", "training", "train"]
    data = tmp_path / "data"
    expected = {
        "--models": [str(configured.models_dir)],
        "--config": [str(configured.training_config)],
        "--domain": [str(configured.domain_dir)],
        "--data": [str(data / "nlu"), str(data / "rules")],
        "--heldout": [str(data / "heldout")],
        "--actions-python": [str(configured.actions_python)],
        "--report": [str(folder / "gate.md")],
    }
    given: dict[str, list[str]] = {}
    for argument in command[4:]:
        if argument.startswith("--"):
            given[argument] = []
        else:
            given[list(given)[-1]].append(argument)
    assert given == expected
    activate = command_for(configured, JobRecord(JobKind.ACTIVATE, NOW, "adam", model_id="--strict"), folder)
    assert activate[3:] == ["activate", "--models", str(configured.models_dir), "--", "--strict"]
    assert command_for(configured, record(JobKind.ROLLBACK), folder)[3:] == [
        "rollback",
        "--models",
        str(configured.models_dir),
    ]


def test_a_job_runs_in_the_background_with_its_environment_and_leaves_its_exit_code(
    settings: ReviewSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEW_ADMIN_PASSWORD", "not-for-the-trainer")
    python = fake_python(
        tmp_path,
        'echo "args: $*"; echo "cwd: $(pwd)"; echo "rasa: $RASA_URL $RASA_API_TOKEN"\n'
        'echo "admin: ${REVIEW_ADMIN_PASSWORD:-none}"\n'
        "printf '\\033[93mUserWarning: coloured\\033[0m\\nEpochs: 10%%\\rEpochs: 20%%\\n'; exit 3",
    )
    configured = job_settings(settings, python, project_dir=tmp_path)
    started = start_job(configured, JobKind.ROLLBACK, "adam", NOW)
    assert started == JobRecord(JobKind.ROLLBACK, NOW, "adam")
    job = wait_until_done(configured.models_dir)
    assert (job.record, job.exit_code) == (started, 3)
    assert f"args: -m training rollback --models {configured.models_dir}" in job.log
    assert f"cwd: {tmp_path}" in job.log
    assert f"rasa: {configured.rasa_url} {TOKEN}" in job.log
    assert "admin: none" in job.log
    assert "\nUserWarning: coloured\nEpochs: 10%\nEpochs: 20%\n" in job.log  # as text, one line each
    assert job.ended_at is not None and abs((datetime.now(UTC) - job.ended_at).total_seconds()) < 60


def test_one_job_at_a_time_for_every_process_on_the_models_folder(
    settings: ReviewSettings, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    python = fake_python(tmp_path, f'while [ ! -e "{release}" ]; do sleep 0.05; done; echo done')
    configured = job_settings(settings, python)
    first = start_job(configured, JobKind.TRAIN, "adam", NOW)
    try:
        with pytest.raises(JobBusy) as busy:
            start_job(configured, JobKind.ROLLBACK, "ayu", NOW)
        assert busy.value.job is not None and busy.value.job.record == first
        assert busy.value.job.running and busy.value.job.exit_code is None
        # another process (a second app worker, or the app after a restart) finds the lock taken too
        probe = (
            "import fcntl, sys\n"
            "handle = open(sys.argv[1], 'a')\n"
            "try:\n    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
            "except BlockingIOError:\n    sys.exit(7)\n"
        )
        lock = str(jobs_folder(configured.models_dir) / LOCK_FILE)
        assert subprocess.run([sys.executable, "-c", probe, lock], check=False).returncode == 7
    finally:
        release.touch()
    assert wait_until_done(configured.models_dir).exit_code == 0
    second = start_job(configured, JobKind.ROLLBACK, "ayu", NOW)
    assert wait_until_done(configured.models_dir).record == second


def test_a_command_that_cannot_start_is_a_failed_job(settings: ReviewSettings, tmp_path: Path) -> None:
    missing = job_settings(settings, tmp_path / "no-python-here")
    start_job(missing, JobKind.TRAIN, "adam", NOW)
    job = wait_until_done(missing.models_dir)
    assert job.exit_code == 127 and "no-python-here" in job.log
    no_project = job_settings(settings, tmp_path / "no-python-here", project_dir=tmp_path / "gone")
    start_job(no_project, JobKind.TRAIN, "adam", NOW)
    job = wait_until_done(no_project.models_dir)
    assert job.exit_code == 127 and "FileNotFoundError" in job.log


def test_progress_follows_the_trainers_output() -> None:
    def progress_after(last_line: str) -> Progress:
        lines = TRAINING_OUTPUT[: next(i for i, line in enumerate(TRAINING_OUTPUT) if last_line in line) + 1]
        return read_output("\n".join(lines).replace("\r", "\n"), record()).progress

    assert read_output("", record()).progress == Progress(Phase.STARTING)
    assert progress_after("Validating intents") == Progress(Phase.VALIDATING)
    assert progress_after("'IndonesianSpacyTokenizer'") == Progress(
        Phase.TRAINING_RASA, "IndonesianSpacyTokenizer"
    )
    assert progress_after("Epochs:") == Progress(Phase.TRAINING_RASA, "DIETClassifier", (18, 40))
    assert progress_after("Your Rasa model is trained") == Progress(Phase.INDEXING)
    assert progress_after(f"with {CANDIDATE}") == Progress(Phase.TESTING_CANDIDATE)
    assert progress_after(f"with {LIVE}") == Progress(Phase.TESTING_LIVE)
    assert progress_after("(407 FAQ questions)") == Progress(Phase.DECIDING)
    assert progress_after(f"LIVE {CANDIDATE}") == Progress(Phase.SWAPPING)
    # the live model's parses were stored: its evaluation follows the candidate's without "parsing"
    cached = [line for line in TRAINING_OUTPUT[:10] if f"with {LIVE}" not in line]
    assert read_output("\n".join(cached), record()).progress == Progress(Phase.TESTING_LIVE)
    assert read_output("\n".join(cached), record(live_before="")).progress == Progress(
        Phase.TESTING_CANDIDATE
    )


def test_the_verdict_figures_and_the_hot_swap_are_read_from_the_output() -> None:
    output = read_output("\n".join(TRAINING_OUTPUT), record())
    assert output.verdict == (
        "LIVE",
        CANDIDATE,
        "not worse than the live model: FAQ helped 80.3 % (live 79.6 %), FAQ wrong 1.2 % (live 1.2 %) "
        "(tolerance 0.2 %)",
    )
    assert output.live_compared == LIVE
    assert output.figures["live"] == pytest.approx(
        {"faq_right": 0.72, "faq_clarified": 0.076, "faq_wrong": 0.012, "faq_menu": 0.192}
    )
    assert output.served == f"{CANDIDATE}.tar.gz"
    refused = read_output(
        f"REFUSED {CANDIDATE}: FAQ wrong 4.0 % > live 1.2 % (tolerance 0.2 %). Live stays {LIVE}; kept.",
        record(),
    )
    assert refused.verdict is not None and refused.verdict[0] == "REFUSED" and refused.served == ""
    nothing = read_output(
        f"up to date: live model {LIVE} is from this data and config (--force retrains)", record()
    )
    assert (nothing.up_to_date, nothing.verdict) == (LIVE, None)


def test_secrets_never_reach_the_shown_log_lines() -> None:
    text = (
        f"PUT http://127.0.0.1:5005/model?token={TOKEN} failed\n"
        "REGISTRY_SERVICE_TOKEN=abcdefgh12345678 was set\n"
        'api_key: "sk-123456"\n\n\n'
        "Epochs: 20%\n"
        "the last line\n"
    )
    shown = log_tail(text, 4, [TOKEN, ""])
    assert shown == [
        "REGISTRY_SERVICE_TOKEN=[disembunyikan] was set",
        "api_key: [disembunyikan]",
        "Epochs: 20%",
        "the last line",
    ]
    assert TOKEN not in "\n".join(log_tail(text, 10, [TOKEN]))
