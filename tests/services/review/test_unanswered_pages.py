"""Unanswered questions: fallback and handoff messages clustered by meaning, the largest first; the page
refreshes itself, a cluster opens its messages, and leads to a FAQ topic."""

from __future__ import annotations

import re
import shutil
import threading
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.review.settings import ReviewSettings
from tests.services.review.conftest import AppFactory
from tests.services.review.support import REVIEWER, csrf_token, page_text, sign_in, write_events
from tests.services.review.test_inbox_pages import T0, conversation, user_event, visible

ROOT = Path(__file__).resolve().parents[3]
MODEL = ROOT / "models" / "embedding" / "multilingual-e5-small"

CERTIFICATE = (
    "sertifikat vaksin saya belum muncul",
    "sertifikat vaksin belum muncul juga",
    "kenapa sertifikat vaksin saya belum muncul",
)
CAT = ("vaksin buat kucing peliharaan", "vaksin kucing peliharaan dimana")
COMPLAINT = "lapor kipi berat ke siapa"
ANSWERED = "sertifikat vaksin belum muncul di aplikasi"
REVIEW_CHAT = "sertifikat vaksin saya belum muncul dong"


class BagOfWords:
    """A tiny deterministic embedder: hashed word counts, L2-normalised (the ``Embedder`` protocol)."""

    def __init__(self, dimensions: int = 512) -> None:
        self.dimensions = dimensions
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        vectors = np.zeros((len(texts), self.dimensions))
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row, zlib.crc32(word.encode()) % self.dimensions] += 1.0
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


class GatedEmbedder(BagOfWords):
    """Waits until the test lets it go: the page is seen while clustering runs."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        assert self.go.wait(30)
        return super().embed(texts)


def fallback(text: str) -> tuple[dict[str, Any], str]:
    return user_event(0, text, "nlu_fallback", 0.2), "utter_uncertain_answer"


@pytest.fixture(autouse=True)
def unanswered_chats(tracker_url: str, settings: ReviewSettings) -> None:
    shutil.copytree(ROOT / "data", settings.data_dir)  # the topics a cluster can become examples of
    write_events(
        tracker_url,
        "wa_91c2aa000001",
        conversation(T0, [fallback(CERTIFICATE[0]), fallback(CAT[0]), fallback(CERTIFICATE[1])]),
    )
    handoff = conversation(T0 + 300, [(user_event(0, COMPLAINT, "human_handoff", 0.95), "utter_handoff")])
    handoff.insert(
        -1, {"event": "slot", "timestamp": T0 + 330.35, "name": "handoff_requested", "value": True}
    )
    write_events(tracker_url, "wa_91c2aa000002", handoff)
    write_events(
        tracker_url,
        "web-91c2",
        conversation(
            T0 + 600,
            [
                fallback(CAT[1]),
                fallback(CERTIFICATE[2]),
                (user_event(0, ANSWERED, "faq", 0.9, "faq/sertifikat", 0.8), "utter_faq/sertifikat"),
                fallback("2"),  # an option number: nothing to cluster
            ],
        ),
    )
    write_events(tracker_url, "review-rita-0001", conversation(T0 + 900, [fallback(REVIEW_CHAT)]))


Cluster = tuple[int, list[str]]


def clusters(html: str) -> list[Cluster]:
    found = []
    for item in re.findall(r'<li class="cluster" .*?</details>', html, re.DOTALL):
        size = re.search(r'<span class="cluster-size">(\d+)</span>', item)
        assert size is not None
        found.append((int(size.group(1)), re.findall(r'<li class="cluster-example">(.*?)</li>', item)))
    return found


def cluster_link(html: str, number: int) -> str:
    found = re.search(
        rf'<a href="(/unanswered/[0-9a-f]{{64}}/{number})" id="to-faq-{number}">Jadikan topik FAQ</a>', html
    )
    assert found, html
    return found.group(1)


def finished(client: TestClient, path: str = "/unanswered", seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while True:
        page = client.get(path)
        assert page.status_code == 200
        if 'id="clustering-running"' not in page.text or time.monotonic() > deadline:
            return page.text
        time.sleep(0.05)


def test_clusters_of_unanswered_messages_largest_first(reviewer: TestClient) -> None:
    embedder = BagOfWords()
    reviewer.app.state.review_embedder = embedder  # type: ignore[attr-defined]
    page = finished(reviewer)

    found = clusters(page)
    sizes = [size for size, _ in found]
    assert sizes == sorted(sizes, reverse=True)
    assert found[0][0] == 3 and sorted(found[0][1]) == sorted(CERTIFICATE)  # answered, review chat: not here
    assert found[1][0] == 2 and sorted(found[1][1]) == sorted(CAT)
    examples = [example for _, shown in found for example in shown]
    assert COMPLAINT in examples  # a handoff
    assert "apa boleh vaksin abis begadang semalaman" in examples  # the snapshot's fallback
    assert ANSWERED not in examples and REVIEW_CHAT not in examples and "2" not in examples
    assert not any("3174" in example for example in examples) and any("[NIK]" in e for e in examples)
    # the snapshots': 4 fallbacks (did you mean, out of scope included) and 2 handoffs; 6 here
    assert "12 pesan belum terjawab" in page_text(page)
    assert sum(sizes) == 12

    # cached: the same message set is not clustered again
    calls = embedder.calls
    assert clusters(finished(reviewer)) == found
    assert embedder.calls == calls


def test_clustering_runs_in_the_background(reviewer: TestClient) -> None:
    embedder = GatedEmbedder()
    reviewer.app.state.review_embedder = embedder  # type: ignore[attr-defined]
    running = page_text(reviewer.get("/unanswered").text)
    assert "Sedang mengelompokkan 12 pesan…; halaman ini dimuat ulang sendiri." in running
    # while it runs, the page comes back sooner than the usual minute (no script: the CSP allows none)
    assert '<meta http-equiv="refresh" content="10">' in reviewer.get("/unanswered").text
    embedder.go.set()
    done = finished(reviewer)
    assert clusters(done)[0][0] == 3
    assert '<meta http-equiv="refresh" content="60">' in done
    assert "Halaman ini memuat ulang sendiri setiap 60 detik." in page_text(done)


def test_the_date_filter(reviewer: TestClient) -> None:
    reviewer.app.state.review_embedder = BagOfWords()  # type: ignore[attr-defined]
    page = finished(reviewer, "/unanswered?date_from=2026-01-01&date_to=2026-01-01")
    examples = [example for _, shown in clusters(page) for example in shown]
    assert "apa boleh vaksin abis begadang semalaman" in examples
    assert not set(CERTIFICATE) & set(examples)
    assert 'value="2026-01-01"' in page
    empty = page_text(reviewer.get("/unanswered?date_from=2025-06-01&date_to=2025-06-02").text)
    assert "Tidak ada pesan belum terjawab pada periode ini." in empty
    bad = page_text(reviewer.get("/unanswered?date_from=kemarin").text)
    assert "Tanggal awal bukan tanggal (TTTT-BB-HH)" in bad


def test_a_missing_model_is_explained(make_client: AppFactory, tmp_path: Path) -> None:
    client = make_client(embedding_model_dir=tmp_path / "no-model")
    sign_in(client, *REVIEWER)
    page = client.get("/unanswered")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Pengelompokan tidak tersedia: Model kalimat tidak ada di" in text and "make train" in text


def test_a_cluster_opens_its_messages(reviewer: TestClient) -> None:
    reviewer.app.state.review_embedder = BagOfWords()  # type: ignore[attr-defined]
    page = finished(reviewer)
    opened = re.search(r'<details id="messages-1">(.*?)</details>', page, re.DOTALL)
    assert opened, page
    text = visible(opened.group(1))
    assert "Lihat semua 3 pesan" in text
    for message in CERTIFICATE:
        assert message in text
    assert cluster_link(page, 1).endswith("/1")


def test_from_a_cluster_to_examples_of_a_faq_topic(reviewer: TestClient, make_client: AppFactory) -> None:
    reviewer.app.state.review_embedder = BagOfWords()  # type: ignore[attr-defined]
    link = cluster_link(finished(reviewer), 1)
    page = reviewer.get(link)
    assert page.status_code == 200
    text = visible(page.text)
    assert "Kelompok #1: jadikan topik FAQ" in text and "3 pesan dalam kelompok ini." in text
    for message in CERTIFICATE:
        assert message in text
    # topics are fixed: an existing topic, by its title, or a proposal to the content owner
    assert re.search(
        r'<option value="faq/sertifikat_bermasalah">Masalah sertifikat — Sertifikat vaksin</option>',
        page.text,
    )
    assert '<option value="human_handoff"' not in page.text
    assert "Belum ada topik yang cocok" in text and "kirimkan kepada pemilik konten" in text
    assert "Usulan topik FAQ baru: 3 pesan belum terjawab, misalnya:" in text

    token = csrf_token(reviewer, link)
    added = reviewer.post(
        f"{link}/contoh",
        data={"csrf_token": token, "label": "faq/sertifikat_bermasalah"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    after = visible(reviewer.get(added.headers["location"]).text)
    assert "3 pertanyaan ditambahkan sebagai contoh topik Masalah sertifikat — Sertifikat vaksin" in after
    assert 'href="/content/sertifikat_bermasalah"' in reviewer.get(added.headers["location"]).text
    waiting = visible(reviewer.get("/inbox/approved").text)
    assert "Disetujui, menunggu ekspor (3)" in waiting
    assert all(message in waiting for message in CERTIFICATE)
    # sent again with another topic: decided again (a reviewer may change their mind before the export)
    again = reviewer.post(
        f"{link}/contoh", data={"csrf_token": token, "label": "faq/sertifikat"}, follow_redirects=False
    )
    assert "ditambahkan=3" in again.headers["location"]
    assert "Unduh sertifikat — Sertifikat vaksin" in visible(reviewer.get("/inbox/approved").text)


def test_a_cluster_with_personal_data_adds_none_of_it(reviewer: TestClient) -> None:
    reviewer.app.state.review_embedder = BagOfWords()  # type: ignore[attr-defined]
    page = finished(reviewer)
    number = next(
        index for index, (_, shown) in enumerate(clusters(page), start=1) if any("[NIK]" in e for e in shown)
    )
    link = cluster_link(page, number)
    added = reviewer.post(
        f"{link}/contoh",
        data={"csrf_token": csrf_token(reviewer, link), "label": "faq/biaya"},
        follow_redirects=False,
    )
    assert added.status_code == 303 and "dilewati=" in added.headers["location"]
    assert "[NIK]" not in visible(reviewer.get("/inbox/approved").text)


def test_hostile_cluster_requests(reviewer: TestClient, make_client: AppFactory) -> None:
    reviewer.app.state.review_embedder = BagOfWords()  # type: ignore[attr-defined]
    link = cluster_link(finished(reviewer), 1)
    token = csrf_token(reviewer, link)
    for path in (
        "/unanswered/" + "0" * 64 + "/1",  # a message set never clustered
        link[:-1] + "999",  # no such cluster
        link[:-1] + "0",
        "/unanswered/" + "\u00e9" * 64 + "/1",
    ):
        gone = reviewer.get(path)
        assert gone.status_code == 404 and "Kelompok ini sudah tidak ada" in gone.text, path
    assert reviewer.get("/unanswered/..%2F..%2Fetc/1").status_code == 404
    assert reviewer.get(link[:-1] + "satu").status_code == 422
    wrong = reviewer.post(
        f"{link}/contoh", data={"csrf_token": token, "label": "faq/kucing"}, follow_redirects=False
    )
    assert wrong.status_code == 422 and "Pilih topik FAQ dari daftar." in wrong.text
    intent = reviewer.post(
        f"{link}/contoh", data={"csrf_token": token, "label": "greet"}, follow_redirects=False
    )
    assert intent.status_code == 422
    no_csrf = reviewer.post(f"{link}/contoh", data={"label": "faq/biaya"}, follow_redirects=False)
    assert no_csrf.status_code == 403
    assert "Disetujui, menunggu ekspor (0)" in visible(reviewer.get("/inbox/approved").text)
    anonymous = make_client()
    assert anonymous.get(link, follow_redirects=False).status_code == 303


def test_english_on_request(reviewer: TestClient) -> None:
    reviewer.app.state.review_embedder = BagOfWords()  # type: ignore[attr-defined]
    reviewer.cookies.set("lang", "en")
    text = page_text(finished(reviewer))
    assert "Unanswered questions" in text and "12 unanswered messages" in text
    assert "Make this a FAQ topic" in text and "This page reloads itself every 60 seconds." in text


@pytest.mark.trained_model  # the model and index `make train` builds: runs in `make integration`
def test_clusters_with_the_project_model(make_client: AppFactory, settings: ReviewSettings) -> None:
    client = make_client(embedding_model_dir=MODEL)
    sign_in(client, *REVIEWER)
    page = finished(client, seconds=180)
    found = clusters(page)
    sizes = [size for size, _ in found]
    assert found, page_text(page)
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == 12
    certificate = next(shown for _, shown in found if CERTIFICATE[0] in shown)
    assert CERTIFICATE[1] in certificate or CERTIFICATE[2] in certificate
