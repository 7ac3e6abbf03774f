"""The outreach pages in a real browser, against the real registry: an officer rejects a correction
request (first without a reason), triages a severe KIPI report, an administrator reads the opt-outs
and runs a campaign's dry run; on a 390 px phone no page is wider than the screen.

This module runs its own servers (the ``review_server`` fixture below replaces conftest's): the
registry (services/registry, demo data, a staff token) in this process on a free port, with
requests put in over its API the way the action server sends them, and the review app as a process
that reaches it with ``REGISTRY_URL`` and ``REGISTRY_STAFF_TOKEN``, as ``make run`` starts it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.actions.servers import registry_app
from tests.browser.conftest import ADMIN, RASA_URL, REPO, REVIEWER, ReviewServer, _free_port, sign_in
from tests.harness.review_process import create_user, review_env, running_review_app
from tests.services.review.outreach_support import (
    REGISTRY_SETTINGS,
    STAFF_TOKEN,
    Seeded,
    registry_today,
    seed_requests,
)
from tests.services.review.support import empty_tracker

OLGA = ("olga", "officer-browser-pass-1")
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def seeded_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    root = tmp_path_factory.mktemp("outreach_registry")
    with registry_app(root / "registry.db", registry_today(), **REGISTRY_SETTINGS) as url:
        yield url, seed_requests(url)


@pytest.fixture(scope="module")
def review_server(
    tmp_path_factory: pytest.TempPathFactory, seeded_registry: tuple[str, Seeded]
) -> Iterator[ReviewServer]:
    root = tmp_path_factory.mktemp("outreach_app")
    data_dir = root / "data"
    shutil.copytree(REPO / "data", data_dir)
    (root / "models").mkdir()
    empty_tracker(f"sqlite:///{root / 'tracker.db'}").dispose()
    env = review_env(root, data_dir, root / "models", RASA_URL)
    env.update(REGISTRY_URL=seeded_registry[0], REGISTRY_STAFF_TOKEN=STAFF_TOKEN)
    create_user(env, *ADMIN, role="admin")
    create_user(env, *REVIEWER, role="reviewer")
    create_user(env, *OLGA, role="officer")
    log = root / "server.log"
    with running_review_app(env, _free_port(), log) as url:
        yield ReviewServer(url=url, root=root, data_dir=data_dir, fallback={}, log=log)


@pytest.fixture
def seeded(seeded_registry: tuple[str, Seeded]) -> Seeded:
    return seeded_registry[1]


def signed_in_at(page: Page, user: tuple[str, str], path: str) -> None:
    sign_in(page, *user, path=f"/login?next={path.replace('/', '%2F')}")
    expect(page).to_have_url(re.compile(f"{re.escape(path)}$"))


def fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


def test_a_reviewer_sees_no_outreach_link_and_is_refused(page: Page) -> None:
    sign_in(page, *REVIEWER)
    expect(page.get_by_role("link", name="Koreksi data")).to_have_count(0)
    page.goto("/koreksi")
    expect(page.locator("p.error")).to_have_text(
        "Hanya petugas atau administrator yang boleh membuka halaman ini."
    )


def test_an_officer_rejects_a_correction_only_with_a_reason(page: Page, seeded: Seeded) -> None:
    signed_in_at(page, OLGA, "/koreksi")
    row = page.locator(f"#koreksi-{seeded.correction}")
    expect(row).to_contain_text("Budi Santosa")
    expect(row).to_contain_text("B••• S•••••o")
    row.get_by_role("button", name="Tolak").click()
    expect(page.locator("#form-error")).to_have_text(
        "Tulis alasan penolakan: penerima akan diberi tahu hasilnya."
    )
    page.locator(f"#koreksi-{seeded.correction}").get_by_label("Alasan (wajib jika ditolak)").fill(
        "Nama sesuai KTP yang kami terima sudah benar."
    )
    page.locator(f"#koreksi-{seeded.correction}").get_by_role("button", name="Tolak").click()
    expect(page.get_by_role("status")).to_have_text(
        "Permintaan koreksi ditolak; penerima akan diberi tahu alasannya."
    )
    decided = page.locator("#decided-corrections")
    expect(decided).to_contain_text(seeded.correction)
    expect(decided).to_contain_text("Ditolak")
    expect(decided).to_contain_text("Nama sesuai KTP yang kami terima sudah benar.")


def test_an_officer_triages_the_severe_report_first(page: Page, seeded: Seeded) -> None:
    signed_in_at(page, OLGA, "/kipi")
    rows = page.locator("#kipi-reports tbody tr")
    expect(rows.first).to_have_id(f"kipi-{seeded.kipi_severe}")
    colour = rows.first.locator("td").first.evaluate("cell => getComputedStyle(cell).backgroundColor")
    assert colour == "rgb(253, 232, 232)"  # the severe row stands out
    rows.first.get_by_label("Catatan").fill("Ditelepon; dirujuk ke IGD RSUD Fatmawati.")
    rows.first.get_by_role("button", name="Tandai Ditangani").click()
    expect(page.get_by_role("status")).to_have_text("Status laporan KIPI disimpan.")
    expect(page.locator(f"#kipi-{seeded.kipi_severe}")).to_contain_text("oleh olga")
    page.get_by_label("Keparahan").select_option("ringan")
    page.get_by_role("button", name="Tampilkan").click()
    expect(page.locator("#kipi-reports tbody tr")).to_have_count(1)
    expect(page.locator(f"#kipi-{seeded.kipi_mild}")).to_be_visible()


def test_an_administrator_reads_the_opt_outs(page: Page) -> None:
    signed_in_at(page, ADMIN, "/berhenti-langganan")
    expect(page.locator("#opt-out-counts")).to_contain_text("1")
    expect(page.locator("#opt-outs")).to_contain_text("tombol Berhenti")


def test_an_administrator_creates_a_campaign_and_runs_a_dry_run(page: Page) -> None:
    signed_in_at(page, ADMIN, "/kampanye")
    page.get_by_label("Pengingat jadwal H-3").check()
    page.get_by_label("Hari sebelum jadwal (untuk pengingat jadwal)").fill("14")
    page.get_by_role("button", name="Buat kampanye").click()
    expect(page).to_have_url(re.compile(r"/kampanye/\d+\?done=created$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Pengingat jadwal H-14")
    page.get_by_role("button", name="Uji coba (tidak mengirim)").click()
    expect(page.locator("#dry-run")).to_contain_text(re.compile(r"\d+ akan dikirimi pesan"))


def test_the_outreach_pages_fit_a_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)
    signed_in_at(page, ADMIN, "/koreksi")
    for path, heading in (
        ("/koreksi", "Koreksi data"),
        ("/kipi", "Laporan KIPI"),
        ("/berhenti-langganan", "Berhenti langganan"),
        ("/kampanye", "Kampanye"),
    ):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        fits(page)
