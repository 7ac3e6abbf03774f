"""The models page reads the training gate's registry.json (core.model_registry's schema)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from services.review.settings import ReviewSettings
from tests.services.review.support import page_text

REGISTRY = {
    "live": "20260102-0930",
    "history": ["20251220-1000"],
    "models": [
        {
            "id": "20251220-1000",
            "file": "20251220-1000.tar.gz",
            "trained_at": "2025-12-20T10:00:00+07:00",
            "data_hash": "aaaaaaaaaaaaaaaa",
            "config_hash": "bbbbbbbbbbbbbbbb",
            "metrics": {"faq_right": 0.91, "faq_clarified": 0.05, "faq_wrong": 0.02, "faq_menu": 0.07},
            "status": "retired",
            "reason": "replaced by a better model",
        },
        {
            "id": "20260102-0930",
            "file": "20260102-0930.tar.gz",
            "index": "archive/20260102-0930.semantic",
            "trained_at": "2026-01-02T09:30:00+07:00",
            "data_hash": "cccccccccccccccc",
            "config_hash": "dddddddddddddddd",
            "metrics": {"faq_right": 0.934, "faq_clarified": 0.05, "faq_wrong": 0.015, "faq_menu": 0.051},
            "status": "live",
            "reason": "better faq_right, faq_wrong within limit",
        },
        {
            "id": "20260103-0800",
            "file": "20260103-0800.tar.gz",
            "trained_at": "2026-01-03T08:00:00+07:00",
            "data_hash": "eeeeeeeeeeeeeeee",
            "config_hash": "ffffffffffffffff",
            "metrics": {"faq_right": 0.95, "faq_clarified": 0.05, "faq_wrong": 0.04, "faq_menu": 0.01},
            "status": "refused",
            "reason": "faq_wrong 0.040 > 0.020",
        },
    ],
}


def test_no_registry_yet(reviewer: TestClient) -> None:
    page = reviewer.get("/models")
    assert page.status_code == 200
    assert "No models registered yet" in page.text


def test_models_with_metrics_and_reasons(reviewer: TestClient, settings: ReviewSettings) -> None:
    settings.registry_file.write_text(json.dumps(REGISTRY), encoding="utf-8")
    (settings.models_dir / "20260102-0930.tar.gz").write_bytes(b"model")
    (settings.models_dir / "archive" / "20260102-0930.semantic").mkdir(parents=True)
    page = reviewer.get("/models")
    text = page_text(page.text)
    assert "Live model: 20260102-0930" in text
    assert "previously live: 20251220-1000" in text
    assert text.index("20260103-0800") < text.index("20260102-0930 live") < text.index("20251220-1000.tar.gz")
    assert "faq_wrong 0.040 &gt; 0.020" in page.text
    assert "0.934" in text and "0.015" in text
    assert "(20251220-1000.tar.gz missing)" in text and "(20260103-0800.tar.gz missing)" in text
    assert text.count("missing)") == 2
    assert "archive/20260102-0930.semantic" in text


def test_broken_registry_is_reported(reviewer: TestClient, settings: ReviewSettings) -> None:
    settings.registry_file.write_text("{not json", encoding="utf-8")
    page = reviewer.get("/models")
    assert page.status_code == 200
    assert "registry.json cannot be read" in page.text
    settings.registry_file.write_text(json.dumps({"models": [{"id": 3}]}), encoding="utf-8")
    assert "registry.json cannot be read: malformed registry" in reviewer.get("/models").text
