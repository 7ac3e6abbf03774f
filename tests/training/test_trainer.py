"""``python -m training`` commands with Rasa's training, the index build and the end-to-end
evaluation replaced by fakes.

The real data, domain and config are hashed; models are tiny tar.gz files and indexes two small
files, so these tests check the bookkeeping (gate, registry, link, index, history) in a second.
The real trainings are in tests/integration/test_trainer_loop.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from core import model_registry as reg
from tests.training.conftest import GOOD, write_fake_index, write_fake_model
from training import trainer
from training.evaluation import Evaluation

ROOT = Path(__file__).resolve().parents[2]
WORSE = {**GOOD, "faq_right": 0.713}
Run = Callable[..., tuple[int, str]]


class FakeRasa:
    """Stands in for ``rasa train``, the index build and the end-to-end evaluation; counts what it is
    asked."""

    def __init__(self) -> None:
        self.next_metrics: list[dict[str, float]] = []
        self.trained: list[str] = []
        self.evaluated: list[tuple[str, str]] = []  # (model, index folder)
        self.indexed: list[str] = []
        self.validation_code = 0
        self.index_code = 0
        self.provision_code = 0
        self.provisioned = 0

    def provision_embedding_model(self, options: trainer.TrainOptions) -> int:
        self.provisioned += 1
        return self.provision_code

    def validate(self, options: trainer.TrainOptions) -> int:
        return self.validation_code

    def train_model(self, options: trainer.TrainOptions, model_id: str) -> int:
        write_fake_model(options.models / reg.archive_file(model_id), model_id)
        self.trained.append(model_id)
        return 0

    def build_index(self, options: trainer.TrainOptions, index: Path) -> int:
        if self.index_code == 0:
            write_fake_index(index, index.name)
            self.indexed.append(index.name)
        return self.index_code

    def evaluate_version(self, model_file: Path, index: Path, options: object, echo: object) -> Evaluation:
        self.evaluated.append((model_file.name.removesuffix(".tar.gz"), index.name))
        metrics = self.next_metrics.pop(0) if self.next_metrics else GOOD
        return Evaluation(dict(metrics), 390)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeRasa:
    fake = FakeRasa()
    monkeypatch.setattr(trainer, "provision_embedding_model", fake.provision_embedding_model)
    monkeypatch.setattr(trainer, "validate", fake.validate)
    monkeypatch.setattr(trainer, "train_model", fake.train_model)
    monkeypatch.setattr(trainer, "build_index", fake.build_index)
    monkeypatch.setattr(trainer, "evaluate_version", fake.evaluate_version)
    monkeypatch.delenv("RASA_URL", raising=False)
    return fake


@pytest.fixture
def heldout(tmp_path: Path) -> Path:
    folder = tmp_path / "heldout"
    folder.mkdir()
    (folder / "faq.yml").write_bytes((ROOT / "data" / "heldout" / "faq_umum.yml").read_bytes())
    return folder


@pytest.fixture
def run(models_dir: Path, heldout: Path, tmp_path: Path) -> Run:
    """Runs ``train`` on the repository's data; returns (exit code, printed text)."""

    def train(force: bool = False, strict: bool = False, config: Path | None = None) -> tuple[int, str]:
        options = trainer.TrainOptions(
            config=config or ROOT / "rasa_project" / "config.yml",
            domain=ROOT / "rasa_project" / "domain",
            data=[ROOT / "data" / "nlu", ROOT / "data" / "rules"],
            heldout=heldout,
            models=models_dir,
            force=force,
            strict=strict,
            actions_python="unused: the fakes build and evaluate",
            report=tmp_path / "reports" / "gate.md",
        )
        lines: list[str] = []
        code = trainer.train(options, lines.append)
        return code, "\n".join(lines)

    return train


def test_the_first_model_goes_live_with_its_index(
    fake: FakeRasa, run: Run, models_dir: Path, tmp_path: Path
) -> None:
    code, output = run()
    assert code == 0
    registry = reg.load(models_dir)
    (model,) = registry.models
    assert registry.live == model.id == fake.trained[0]
    assert (model.status, model.reason) == ("live", "first model: no live model to compare with")
    assert model.metrics == GOOD
    assert os.readlink(models_dir / "live.tar.gz") == f"archive/{model.id}.tar.gz"
    # one version: the index built from the same data, under the same id, named in the same entry
    assert model.index == f"archive/{model.id}.semantic" and fake.indexed == [f"{model.id}.semantic"]
    assert reg.live_index(models_dir) == models_dir / "archive" / f"{model.id}.semantic"
    assert fake.evaluated == [(model.id, f"{model.id}.semantic")]
    assert f"LIVE {model.id}" in output
    assert "running server not updated" in output
    words = (
        f'candidate {model.id}: right answer 82.6 %, "did you mean" with the right topic 10.0 %, '
        "wrong answer 2.1 %, menu or other topics 5.3 %"
    )
    assert words in output and "live: none" in output
    report = (tmp_path / "reports" / "gate.md").read_text(encoding="utf-8")
    assert words in report and f"LIVE {model.id}" in report


def test_a_failed_index_build_records_nothing(fake: FakeRasa, run: Run, models_dir: Path) -> None:
    fake.index_code = 2
    code, output = run()
    assert code == 1 and "building the semantic index failed: nothing recorded" in output
    assert reg.load(models_dir).models == [] and fake.evaluated == []


def test_unchanged_data_and_config_are_not_trained_again(fake: FakeRasa, run: Run, models_dir: Path) -> None:
    run()
    code, output = run()
    assert code == 0
    assert len(fake.trained) == 1
    assert output.startswith(f"up to date: live model {fake.trained[0]}")
    code, output = run(force=True)
    assert len(fake.trained) == 2
    registry = reg.load(models_dir)
    assert (registry.live, registry.history) == (fake.trained[1], [fake.trained[0]])
    assert registry.entry(fake.trained[0]).status == "kept"


def test_a_worse_version_is_refused_and_the_live_one_stays_untouched(
    fake: FakeRasa, run: Run, models_dir: Path
) -> None:
    run()
    baseline = fake.trained[0]
    live_index = models_dir / "archive" / f"{baseline}.semantic"
    index_before = snapshot(live_index)
    registry_before = json.loads((models_dir / "registry.json").read_text(encoding="utf-8"))
    fake.next_metrics = [WORSE]
    code, output = run(force=True)
    refused = fake.trained[1]
    assert code == 0
    assert f"REFUSED {refused}: FAQ helped 81.3 % < live 92.6 % (tolerance 0.3 %)" in output
    assert f"live {baseline}: right answer 82.6 %" in output
    registry = reg.load(models_dir)
    assert registry.entry(refused).status == "refused"
    assert registry.entry(refused).reason == "FAQ helped 81.3 % < live 92.6 % (tolerance 0.3 %)"
    assert (models_dir / registry.entry(refused).file).is_file()
    assert (models_dir / registry.entry(refused).index).is_dir()
    # nothing live changed: link, live index files, live entry and history, byte for byte
    assert os.readlink(models_dir / "live.tar.gz") == f"archive/{baseline}.tar.gz"
    assert reg.live_index(models_dir) == live_index and snapshot(live_index) == index_before
    raw = json.loads((models_dir / "registry.json").read_text(encoding="utf-8"))
    assert (raw["live"], raw["history"]) == (registry_before["live"], registry_before["history"])
    assert raw["models"][0] == registry_before["models"][0] and len(raw["models"]) == 2
    # both versions measured end to end, each with its own index
    assert fake.evaluated == [
        (baseline, f"{baseline}.semantic"),
        (refused, f"{refused}.semantic"),
        (baseline, f"{baseline}.semantic"),
    ]


def test_strict_mode_turns_a_refusal_into_an_exit_code(fake: FakeRasa, run: Run, models_dir: Path) -> None:
    run()
    fake.next_metrics = [WORSE]
    assert run(force=True, strict=True)[0] == trainer.EXIT_REFUSED_STRICT


def test_a_refused_model_is_not_retrained_from_the_same_inputs(
    fake: FakeRasa, run: Run, models_dir: Path, tmp_path: Path
) -> None:
    run()
    other_config = tmp_path / "config.yml"
    ours = (ROOT / "rasa_project" / "config.yml").read_text("utf-8")
    other_config.write_text(re.sub(r"epochs: \d+", "epochs: 1", ours), "utf-8")
    fake.next_metrics = [WORSE]
    run(config=other_config)
    refused = fake.trained[1]
    code, output = run(config=other_config)
    assert code == 0 and len(fake.trained) == 2
    assert f"not retraining: {refused} was trained from this data and config and is refused" in output
    assert f"live stays {fake.trained[0]}" in output
    assert run(config=other_config, strict=True)[0] == trainer.EXIT_REFUSED_STRICT
    # back to the live model's inputs: nothing to do, even though a refused model is newer
    assert run()[1].startswith(f"up to date: live model {fake.trained[0]}")
    assert len(fake.trained) == 2


def test_the_live_version_is_measured_again_beside_the_candidate(
    fake: FakeRasa, run: Run, models_dir: Path
) -> None:
    run()
    baseline = fake.trained[0]
    fake.next_metrics = [GOOD, {**GOOD, "faq_right": 0.9}]  # candidate, then the live version again
    code, output = run(force=True)
    assert code == 0
    assert f"live {baseline}: right answer 90.0 %" in output
    assert reg.load(models_dir).live == baseline  # 82.6 % is worse than the live version's 90 %


def test_a_live_model_from_before_versions_gets_its_index_from_the_same_data(
    fake: FakeRasa, run: Run, models_dir: Path
) -> None:
    run()
    baseline = fake.trained[0]
    raw = json.loads((models_dir / "registry.json").read_text(encoding="utf-8"))
    del raw["models"][0]["index"]
    (models_dir / "registry.json").write_text(json.dumps(raw), encoding="utf-8")
    shutil.rmtree(models_dir / "archive" / f"{baseline}.semantic")
    assert reg.live_index(models_dir) is None
    code, output = run()
    assert code == 0 and len(fake.trained) == 1
    assert f"live model {baseline} has no semantic index of its own" in output
    assert reg.live_index(models_dir) == models_dir / "archive" / f"{baseline}.semantic"
    assert (models_dir / "archive" / f"{baseline}.semantic" / "faq_index.npz").is_file()


def test_failed_validation_trains_nothing(fake: FakeRasa, run: Run, models_dir: Path) -> None:
    fake.validation_code = 1
    code, output = run()
    assert code == 1
    assert "validation failed" in output
    assert fake.trained == []
    assert not (models_dir / "registry.json").exists()


def test_the_embedding_model_is_provisioned_first_and_its_failure_trains_nothing(
    fake: FakeRasa, run: Run, models_dir: Path
) -> None:
    """Rasa's e5 featurizer needs the graph, and the hashes count it: it comes before anything else."""
    fake.provision_code = 2
    code, output = run()
    assert code == 1
    assert "provisioning the embedding model failed" in output
    assert fake.trained == [] and fake.provisioned == 1
    assert not (models_dir / "registry.json").exists()
    fake.provision_code = 0
    assert run()[0] == 0
    assert fake.provisioned == 2 and len(fake.trained) == 1


def test_a_faq_topic_without_an_answer_trains_nothing(
    fake: FakeRasa, models_dir: Path, heldout: Path, tmp_path: Path
) -> None:
    """``rasa data validate`` lets a misspelt topic through; the trainer does not."""
    data = tmp_path / "nlu"
    shutil.copytree(ROOT / "data" / "nlu", data)
    (data / "reviewed.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: faq/biayaa\n  examples: |\n    - bayar gak sih\n', "utf-8"
    )
    domain = ROOT / "rasa_project" / "domain"
    assert trainer.missing_answers([data, ROOT / "data" / "rules"], domain) == ["faq/biayaa"]
    assert trainer.missing_answers([ROOT / "data" / "nlu"], domain) == []
    options = trainer.TrainOptions(ROOT / "rasa_project" / "config.yml", domain, [data], heldout, models_dir)
    lines: list[str] = []
    assert trainer.train(options, lines.append) == 1
    assert lines == ["FAQ topics without an utter_<topic> answer in the domain: faq/biayaa; not training"]
    assert fake.trained == []


def test_the_link_comes_back_after_make_clean(fake: FakeRasa, run: Run, models_dir: Path) -> None:
    run()
    (models_dir / "live.tar.gz").unlink()  # make clean: rm -rf models/*.tar.gz
    assert run()[0] == 0 and len(fake.trained) == 1
    assert reg.live_target(models_dir) == (models_dir / "archive" / f"{fake.trained[0]}.tar.gz").resolve()


def test_rollback_restores_the_previous_model_and_its_index(
    fake: FakeRasa, run: Run, models_dir: Path
) -> None:
    run()
    run(force=True)
    first, second = fake.trained
    assert reg.live_index(models_dir) == models_dir / "archive" / f"{second}.semantic"
    lines: list[str] = []
    assert trainer.rollback(models_dir, lines.append) == 0
    assert lines[0] == f"LIVE {first} again (rolled back from {second}; that model is now retired)"
    registry = reg.load(models_dir)
    assert (registry.live, registry.history) == (first, [])
    assert registry.entry(second).status == "retired"
    assert os.readlink(models_dir / "live.tar.gz") == f"archive/{first}.tar.gz"
    assert reg.live_index(models_dir) == models_dir / "archive" / f"{first}.semantic"
    # the retired model is not trained again from the same data, so the rollback sticks
    assert run()[0] == 0 and len(fake.trained) == 2
    assert reg.load(models_dir).live == first


def test_rollback_without_history_says_so(fake: FakeRasa, run: Run, models_dir: Path) -> None:
    lines: list[str] = []
    assert trainer.rollback(models_dir, lines.append) == 1
    assert lines == [f"nothing to roll back to: no model was live yet in {models_dir}"]
    run()
    lines.clear()
    assert trainer.rollback(models_dir, lines.append) == 1
    assert f"no model was live before {fake.trained[0]}" in lines[0]


def test_an_admin_can_activate_a_refused_model_by_hand(fake: FakeRasa, run: Run, models_dir: Path) -> None:
    run()
    fake.next_metrics = [WORSE]
    run(force=True)
    baseline, refused = fake.trained
    lines: list[str] = []
    assert trainer.activate(models_dir, refused, lines.append) == 0
    registry = reg.load(models_dir)
    assert (registry.live, registry.history) == (refused, [baseline])
    assert (registry.entry(refused).status, registry.entry(refused).reason) == ("live", "activated by hand")
    assert trainer.activate(models_dir, refused, lines.append) == 0
    assert lines[-1] == f"{refused} is already live"
    assert trainer.activate(models_dir, "nope", lines.append) == 1
    assert trainer.rollback(models_dir, lines.append) == 0
    assert reg.load(models_dir).live == baseline


def test_the_list_marks_the_live_model(fake: FakeRasa, run: Run, models_dir: Path) -> None:
    run()
    fake.next_metrics = [WORSE]
    run(force=True)
    lines: list[str] = []
    assert trainer.list_models(models_dir, lines.append) == 0
    header, live_row, refused_row, footer = lines[0].splitlines()
    assert header.split()[:3] == ["id", "status", "trained_at"]
    assert live_row.startswith("*") and " live " in live_row and "82.6 %" in live_row
    assert (
        " refused " in refused_row and "71.3 %" in refused_row and "FAQ helped 81.3 % < live" in refused_row
    )
    assert footer == f"live: {fake.trained[0]}; rollback restores, newest first: empty"


def test_models_trained_before_the_registry_are_moved_aside_on_activation(
    fake: FakeRasa, run: Run, models_dir: Path
) -> None:
    write_fake_model(models_dir / "20261126-102100-legacy.tar.gz")
    code, output = run()
    assert code == 0
    assert "moved 20261126-102100-legacy.tar.gz" in output
    assert sorted(p.name for p in models_dir.glob("*.tar.gz")) == ["live.tar.gz"]
    assert (models_dir / "archive" / "legacy" / "20261126-102100-legacy.tar.gz").is_file()


def test_rollback_needs_both_halves_of_the_previous_version(
    fake: FakeRasa, run: Run, models_dir: Path
) -> None:
    run()
    run(force=True)
    first, second = fake.trained
    shutil.rmtree(models_dir / "archive" / f"{first}.semantic")
    lines: list[str] = []
    assert trainer.rollback(models_dir, lines.append) == 1
    assert lines == [f"cannot roll back: the previous model's archive/{first}.semantic is missing"]
    assert reg.load(models_dir).live == second


def test_a_config_only_change_starts_from_the_index_built_from_the_same_data(
    fake: FakeRasa, run: Run, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run()
    first = fake.trained[0]
    found: list[bytes] = []

    def build_index(options: trainer.TrainOptions, index: Path) -> int:
        found.append((index / "faq_index.npz").read_bytes())  # what the build finds in its folder
        return fake.build_index(options, index)

    monkeypatch.setattr(trainer, "build_index", build_index)
    code, output = run(force=True)
    assert code == 0
    assert f"semantic index: {first} was built from the same data; starting from its index" in output
    assert found == [f"{first}.semantic".encode()]
