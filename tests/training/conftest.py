"""Fake archived models: tiny real tar.gz files, enough where a model is only recorded and linked."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from core import model_registry as reg
from embedding.onnx_encoder import DEFAULT_FOLDER, ONNX_FILE

GOOD = {"faq_right": 0.826, "faq_clarified": 0.1, "faq_wrong": 0.021, "faq_menu": 0.053}

AddModel = Callable[..., reg.ModelEntry]


def write_fake_model(path: Path, content: str = "fake") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode()
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("metadata.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))


def replace_graph(graph: Path, content: bytes) -> None:
    """A stand-in e5 graph, written as provisioning writes one: a new file renamed over the old."""
    graph.parent.mkdir(parents=True, exist_ok=True)
    partial = graph.with_name(f".{graph.name}.partial")
    partial.write_bytes(content)
    partial.replace(graph)


def link_graph(root: Path, target: Path) -> None:
    """The checkout's provisioned e5 graph, if any, in a copy of it (a link: it weighs 470 MB)."""
    graph = root / DEFAULT_FOLDER / ONNX_FILE
    if graph.is_file():
        (target / DEFAULT_FOLDER).mkdir(parents=True, exist_ok=True)
        (target / DEFAULT_FOLDER / ONNX_FILE).symlink_to(graph)


def write_fake_index(folder: Path, content: str = "fake") -> None:
    """The two files of a semantic index, with made-up content (``FaqIndex.save`` writes real ones)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "faq_index.npz").write_bytes(content.encode())
    (folder / "faq_index.json").write_text(f'{{"version": "{content}"}}', encoding="utf-8")


def make_entry(model_id: str, trained_at: str, status: str = reg.KEPT, **metrics: float) -> reg.ModelEntry:
    return reg.ModelEntry(
        id=model_id,
        file=reg.archive_file(model_id),
        index=reg.index_folder(model_id),
        trained_at=trained_at,
        data_hash="d" * 64,
        config_hash="c" * 64,
        metrics={**GOOD, **metrics},
        status=status,
        reason="test",
    )


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"


@pytest.fixture
def add_model(models_dir: Path) -> AddModel:
    """Archives a fake model file and registers it (not live), one hour after the previous one."""

    def add(model_id: str, status: str = reg.KEPT, **metrics: float) -> reg.ModelEntry:
        hour = 10 + len(reg.load(models_dir).models)
        model = make_entry(model_id, f"2026-11-26T{hour:02d}:00:00+00:00", status, **metrics)
        write_fake_model(model.path(models_dir), model_id)
        write_fake_index(models_dir / model.index, model_id)
        with reg.update(models_dir) as registry:
            registry.add(model)
        return model

    return add
