"""The outreach pages as staff use them, against the real registry: correction requests, KIPI
reports, opt-outs and campaigns, who may see and do what, and what a page says when the registry
cannot answer.

The registry runs for real (tests/services/review/outreach_support.py); nothing between the page
and its database is faked. Every test checks the text the officer sees, and what the registry then
holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from core.sender_identity import conversation_id
from services.registry.demo import DEMO_PERSON
from services.review import outreach_pages, outreach_words, registry_client
from services.review.i18n import catalog
from services.review.settings import ReviewSettings
from tests.actions.servers import closed_port_url, registry_app
from tests.services.review.conftest import AppFactory
from tests.services.review.officer_support import OFFICER, create_users
from tests.services.review.outreach_support import (
    OPTED_OUT_CONVERSATION,
    REGISTRY_SETTINGS,
    SENDER_HASH_KEY,
    STAFF_TOKEN,
    Seeded,
    name_on_file,
    opt_out,
    registry_today,
    seed_requests,
    staff_get,
)
from tests.services.review.support import ADMIN, REVIEWER, FakeClock, csrf_token, page_text, sign_in

OpenAs = Callable[..., TestClient]
TEMPLATES = Path(outreach_pages.__file__).parent / "templates"
OUR_TEMPLATES = ("campaigns", "campaign", "corrections", "kipi", "opt_outs")
_LITERAL = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')""")


@pytest.fixture
def registry_url(tmp_path: Path) -> Iterator[str]:
    with registry_app(tmp_path / "registry.db", registry_today(), **REGISTRY_SETTINGS) as url:
        yield url


@pytest.fixture
def seeded(registry_url: str) -> Seeded:
    return seed_requests(registry_url)


@pytest.fixture
def users(settings: ReviewSettings, clock: FakeClock) -> None:
    create_users(settings.database_url, clock())


@pytest.fixture
def open_as(make_client: AppFactory, registry_url: str) -> OpenAs:
    """A signed-in client for (username, password) on an app that talks to the real registry."""

    def make(account: tuple[str, str], **overrides: object) -> TestClient:
        settings = {"registry_url": registry_url, "registry_staff_token": SecretStr(STAFF_TOKEN), **overrides}
        client = make_client(**settings)
        assert sign_in(client, *account).status_code == 303
        return client

    return make


def post(client: TestClient, path: str, *, token_from: str = "/conversations", **data: str) -> Any:
    token = csrf_token(client, token_from)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def pending_references(registry_url: str) -> list[str]:
    return [
        item["reference"]
        for item in staff_get(registry_url, "/v1/staff/corrections", status="pending")["items"]
    ]


# --- who may ----------------------------------------------------------------------------------


def test_reviewers_may_not_open_or_decide_anything(
    open_as: OpenAs, registry_url: str, seeded: Seeded
) -> None:
    rita = open_as(REVIEWER)
    for path in ("/koreksi", "/kipi"):
        response = rita.get(path)
        assert response.status_code == 403
        assert "Hanya petugas atau administrator yang boleh membuka halaman ini." in page_text(response.text)
    for path in ("/kampanye", "/berhenti-langganan"):
        response = rita.get(path)
        assert response.status_code == 403
        assert "Hanya administrator yang boleh melakukan ini." in page_text(response.text)
    decided = post(rita, f"/koreksi/{seeded.correction}/keputusan", keputusan="setujui", alasan="")
    assert decided.status_code == 403
    triaged = post(rita, f"/kipi/{seeded.kipi_severe}/tindak-lanjut", status="selesai", catatan="beres")
    assert triaged.status_code == 403
    created = post(rita, "/kampanye", audiens="pengingat-h3", hari="3")
    assert created.status_code == 403
    assert pending_references(registry_url) == [seeded.correction]
    assert name_on_file(registry_url) == "B••• S•••••o"  # Budi Santoso, unchanged


def test_officers_see_corrections_and_kipi_but_not_campaigns_or_opt_outs(open_as: OpenAs) -> None:
    menus = {}
    for account in (REVIEWER, OFFICER, ADMIN):
        page = open_as(account).get("/conversations")
        menus[account[0]] = {path for path, _ in outreach_pages.NAV if f'href="{path}"' in page.text}
    assert menus[REVIEWER[0]] == set()
    assert menus[OFFICER[0]] == {"/koreksi", "/kipi"}
    assert menus[ADMIN[0]] == {"/kampanye", "/koreksi", "/kipi", "/berhenti-langganan"}
    olga = open_as(OFFICER)
    assert olga.get("/kampanye").status_code == 403
    assert olga.get("/berhenti-langganan").status_code == 403


def test_forms_without_the_csrf_token_are_refused(open_as: OpenAs, registry_url: str, seeded: Seeded) -> None:
    admin = open_as(ADMIN)
    for path, data in (
        (f"/koreksi/{seeded.correction}/keputusan", {"keputusan": "setujui"}),
        (f"/kipi/{seeded.kipi_severe}/tindak-lanjut", {"status": "selesai", "catatan": "beres"}),
        ("/kampanye", {"audiens": "pengingat-h3", "hari": "3"}),
        ("/kampanye/1/mulai", {}),
    ):
        response = admin.post(path, data={**data, "csrf_token": "not-this-session"}, follow_redirects=False)
        assert response.status_code == 403, path
        assert "Formulir ini sudah kedaluwarsa" in page_text(response.text)
    assert pending_references(registry_url) == [seeded.correction]
    assert staff_get(registry_url, "/v1/staff/kipi", status="baru")["total"] == 2


# --- correction requests ----------------------------------------------------------------------


def test_the_officer_reads_the_pending_request_as_the_registry_holds_it(
    open_as: OpenAs, seeded: Seeded
) -> None:
    page = open_as(OFFICER).get("/koreksi")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Menunggu keputusan (1)" in text
    row = page_text(page.text.split(f'id="koreksi-{seeded.correction}"', 1)[1].split("</tr>", 1)[0])
    for shown in (seeded.correction, "Nama", "B••• S•••••o", "Budi Santosa", "huruf terakhir salah ketik"):
        assert shown in row, shown
    assert "Budi Santoso" not in text  # the value on file stays masked
    assert "Belum ada permintaan yang diputuskan." in text


def test_approving_changes_the_record_and_lists_it_as_decided(
    open_as: OpenAs, registry_url: str, seeded: Seeded
) -> None:
    olga = open_as(OFFICER)
    response = post(
        olga, f"/koreksi/{seeded.correction}/keputusan", token_from="/koreksi", keputusan="setujui"
    )
    assert response.status_code == 303 and response.headers["location"] == "/koreksi?done=approved"
    text = page_text(olga.get(response.headers["location"]).text)
    assert "Permintaan koreksi disetujui; data di registri sudah diubah." in text
    assert "Tidak ada permintaan koreksi yang menunggu." in text
    decided = text.split("Sudah diputuskan", 1)[1]
    assert seeded.correction in decided and "Disetujui" in decided and OFFICER[0] in decided
    assert pending_references(registry_url) == []
    assert name_on_file(registry_url) == "B••• S•••••a"  # now Budi Santosa
    again = post(
        olga, f"/koreksi/{seeded.correction}/keputusan", token_from="/koreksi", keputusan="tolak", alasan="x"
    )
    assert again.status_code in (404, 409)
    assert seeded.correction in page_text(again.text)


def test_rejecting_needs_a_reason_and_keeps_odd_unicode_readable(
    open_as: OpenAs, registry_url: str, seeded: Seeded
) -> None:
    olga = open_as(OFFICER)
    path = f"/koreksi/{seeded.correction}/keputusan"
    for blank in ("", "   \n\t ", "\u202e\u200f"):
        refused = post(olga, path, token_from="/koreksi", keputusan="tolak", alasan=blank)
        assert refused.status_code == 422
        assert "Tulis alasan penolakan: penerima akan diberi tahu hasilnya." in page_text(refused.text)
    assert pending_references(registry_url) == [seeded.correction]
    reason = "Nama di KTP \u202eotnasaS\u202c sudah benar 👍🏽 — e\u0301 Ω\x00"
    rejected = post(olga, path, token_from="/koreksi", keputusan="tolak", alasan=reason)
    assert rejected.status_code == 303, page_text(rejected.text)
    decided = page_text(olga.get("/koreksi").text).split("Sudah diputuskan", 1)[1]
    assert "Ditolak" in decided
    assert "Nama di KTP otnasaS sudah benar 👍🏽 — é Ω" in decided  # overrides and NUL gone, NFC
    assert "\u202e" not in decided and "\x00" not in decided
    stored = staff_get(registry_url, "/v1/staff/corrections", status="rejected")["items"]
    assert [item["reason"] for item in stored] == ["Nama di KTP otnasaS sudah benar 👍🏽 — é Ω"]
    assert name_on_file(registry_url) == "B••• S•••••o"


def test_a_reason_too_long_is_refused_with_the_draft_kept(open_as: OpenAs, seeded: Seeded) -> None:
    refused = post(
        open_as(OFFICER),
        f"/koreksi/{seeded.correction}/keputusan",
        token_from="/koreksi",
        keputusan="tolak",
        alasan="a" * 600,
    )
    assert refused.status_code == 422
    assert "Paling banyak 500 karakter." in page_text(refused.text)
    assert "a" * 500 in refused.text


def test_an_unknown_or_impossible_reference_gets_a_clear_message(
    open_as: OpenAs, registry_url: str, seeded: Seeded
) -> None:
    olga = open_as(OFFICER)
    unknown = post(olga, "/koreksi/KOR-00000000/keputusan", token_from="/koreksi", keputusan="setujui")
    assert unknown.status_code == 404
    assert "Permintaan koreksi KOR-00000000 tidak ada, atau sudah diputuskan." in page_text(unknown.text)
    registry: registry_client.RegistryClient = olga.app.state.registry_client  # type: ignore[attr-defined]
    before = list(registry.calls)
    for hostile in ("K" * 300, "KOR-1%3Fx%3D1", "%E2%80%AEKOR", "KOR-1234567%00"):
        response = post(olga, f"/koreksi/{hostile}/keputusan", token_from="/koreksi", keputusan="setujui")
        assert response.status_code == 404, hostile
        assert "tidak ada, atau sudah diputuskan" in page_text(response.text)
    climbing = post(
        olga, "/koreksi/..%2F..%2Fv1%2Flookup/keputusan", token_from="/koreksi", keputusan="setujui"
    )
    assert climbing.status_code == 404  # no route of this app: nothing to send anywhere
    sent = [call for call in registry.calls[len(before) :] if call.startswith("POST")]
    assert sent == []  # none of them could name a request: none went to the registry
    assert pending_references(registry_url) == [seeded.correction]


def test_an_unknown_decision_is_refused(open_as: OpenAs, registry_url: str, seeded: Seeded) -> None:
    response = post(
        open_as(OFFICER), f"/koreksi/{seeded.correction}/keputusan", token_from="/koreksi", keputusan="hapus"
    )
    assert response.status_code == 422
    assert "Pilihan itu tidak dikenal." in page_text(response.text)
    assert pending_references(registry_url) == [seeded.correction]


# --- KIPI reports -----------------------------------------------------------------------------


def test_severe_reports_come_first_and_stand_out(open_as: OpenAs, seeded: Seeded) -> None:
    page = open_as(OFFICER).get("/kipi")
    assert page.status_code == 200
    text = page_text(page.text)
    assert text.index(seeded.kipi_severe) < text.index(seeded.kipi_mild)  # reported later, shown first
    severe_row = page.text.split(f'id="kipi-{seeded.kipi_severe}"', 1)[1].split("</tr>", 1)[0]
    assert 'class="severe"' in page.text.split(f'id="kipi-{seeded.kipi_severe}"', 1)[1][:40]
    assert "Berat" in severe_row and "Sesak napas dan bengkak di wajah" in severe_row
    assert "Puskesmas Kebayoran Lama" in severe_row and "2 jam setelah vaksin" in severe_row
    assert "severe" not in page.text.split(f'id="kipi-{seeded.kipi_mild}"', 1)[1][:40]


def test_filters_show_only_the_chosen_severity_and_status(open_as: OpenAs, seeded: Seeded) -> None:
    olga = open_as(OFFICER)
    mild = page_text(olga.get("/kipi", params={"keparahan": "ringan"}).text)
    assert seeded.kipi_mild in mild and seeded.kipi_severe not in mild
    done = page_text(olga.get("/kipi", params={"status": "selesai"}).text)
    assert "Tidak ada laporan KIPI untuk pilihan ini." in done
    odd = olga.get("/kipi", params={"keparahan": "berat' OR 1=1 --", "status": "\u202ebaru"})
    assert odd.status_code == 200  # an unknown filter is no filter
    assert seeded.kipi_mild in page_text(odd.text) and seeded.kipi_severe in page_text(odd.text)


def test_triage_needs_a_note_and_records_who(open_as: OpenAs, registry_url: str, seeded: Seeded) -> None:
    olga = open_as(OFFICER)
    path = f"/kipi/{seeded.kipi_severe}/tindak-lanjut"
    refused = post(olga, path, token_from="/kipi", status="ditangani", catatan="  ")
    assert refused.status_code == 422
    assert "Tulis catatan tindak lanjut sebelum mengubah status laporan." in page_text(refused.text)
    wrong = post(olga, path, token_from="/kipi", status="baru", catatan="kembali")
    assert wrong.status_code == 422 and "Pilihan itu tidak dikenal." in page_text(wrong.text)
    done = post(olga, path, token_from="/kipi", status="ditangani", catatan="Ditelepon, dirujuk ke RSUD")
    assert done.status_code == 303
    text = page_text(olga.get(done.headers["location"]).text)
    assert "Status laporan KIPI disimpan." in text
    row = text.split(seeded.kipi_severe, 1)[1]
    assert "Ditangani" in row and "oleh olga" in row and "Ditelepon, dirujuk ke RSUD" in row
    stored = staff_get(registry_url, "/v1/staff/kipi", status="ditangani")["items"]
    assert [(item["reference"], item["triaged_by"]) for item in stored] == [(seeded.kipi_severe, "olga")]
    unknown = post(
        olga, "/kipi/KIPI-0000000/tindak-lanjut", token_from="/kipi", status="selesai", catatan="x"
    )
    assert unknown.status_code == 404 and "Laporan KIPI KIPI-0000000 tidak ada." in page_text(unknown.text)


# --- opt-outs ---------------------------------------------------------------------------------


def test_opt_outs_show_counts_and_masked_ids_only(open_as: OpenAs, seeded: Seeded) -> None:
    page = open_as(ADMIN).get("/berhenti-langganan")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "1 sedang berhenti langganan" in text
    assert "tombol Berhenti" in text
    assert OPTED_OUT_CONVERSATION not in page.text


# --- the registry cannot answer ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"registry_url": closed_port_url()}, "Registri vaksinasi tidak dapat dihubungi saat ini."),
        ({"registry_staff_token": SecretStr("")}, "Token staf registri (REGISTRY_STAFF_TOKEN) belum diatur"),
        (
            {"registry_staff_token": SecretStr("not-the-registry-staff-token")},
            "Registri vaksinasi menolak token staf aplikasi ini",
        ),
    ],
)
def test_the_pages_say_plainly_when_the_registry_cannot_answer(
    open_as: OpenAs, overrides: dict[str, object], message: str
) -> None:
    admin = open_as(ADMIN, **overrides)
    for path in ("/koreksi", "/kipi", "/berhenti-langganan", "/kampanye", "/kampanye/1"):
        response = admin.get(path)
        assert response.status_code == 502, path
        text = page_text(response.text)
        assert message in text, path
        assert "Traceback" not in response.text and "httpx" not in response.text
    refused = post(admin, "/koreksi/KOR-12345678/keputusan", keputusan="setujui")
    assert refused.status_code == 502 and message in page_text(refused.text)


def test_a_registry_without_a_staff_token_is_named(make_client: AppFactory, tmp_path: Path) -> None:
    with registry_app(tmp_path / "plain.db", registry_today()) as url:
        client = make_client(registry_url=url, registry_staff_token=SecretStr(STAFF_TOKEN))
        assert sign_in(client, *ADMIN).status_code == 303
        response = client.get("/koreksi")
    assert response.status_code == 502
    assert "token staf belum diatur di registri" in page_text(response.text)


# --- campaigns --------------------------------------------------------------------------------


def test_a_campaign_from_a_saved_audience_dry_run_start_pause_resume(
    open_as: OpenAs, registry_url: str
) -> None:
    # Budi's appointment is in 14 days; his number has opted out: the dry run says so in words.
    opt_out(registry_url, conversation_id(DEMO_PERSON.phone, SENDER_HASH_KEY))
    admin = open_as(ADMIN)
    page = admin.get("/kampanye")
    assert page.status_code == 200, page_text(page.text)
    text = page_text(page.text)
    for label in ("Pengingat jadwal H-3", "Dosis jatuh tempo", "Sertifikat siap", "Belum ada kampanye."):
        assert label in text
    created = post(admin, "/kampanye", token_from="/kampanye", audiens="pengingat-h3", hari="14", nama="")
    assert created.status_code == 303, page_text(created.text)
    location = created.headers["location"]
    assert re.fullmatch(r"/kampanye/\d+\?done=created", location)
    campaign_path = location.split("?", 1)[0]
    shown = admin.get(location)
    assert "Kampanye dibuat." in page_text(shown.text) and "Pengingat jadwal H-14" in page_text(shown.text)
    assert "Draf" in page_text(shown.text) and 'http-equiv="refresh"' not in shown.text
    dry = post(admin, f"{campaign_path}/uji-coba", token_from=campaign_path)
    assert dry.status_code == 200, page_text(dry.text)
    dry_text = page_text(dry.text)
    assert "Hasil uji coba (belum ada yang dikirim):" in dry_text
    counted = re.search(
        r"(\d+) penerima masuk audiens: (\d+) akan dikirimi pesan, (\d+) dilewati\.", dry_text
    )
    assert counted, dry_text
    due, send, skipped = map(int, counted.groups())
    assert due >= 1 and skipped >= 1 and send == due - skipped
    assert "dilewati: penerima sudah berhenti langganan" in dry_text
    assert (
        staff_get(registry_url, "/v1/staff/campaigns")["campaigns"][0]["status"] == "draft"
    )  # nothing planned

    started = post(admin, f"{campaign_path}/mulai", token_from=campaign_path)
    assert started.status_code == 303, page_text(started.text)
    running = admin.get(started.headers["location"])
    running_text = page_text(running.text)
    assert "Kampanye mulai mengirim." in running_text and "Sedang mengirim" in running_text
    assert '<meta http-equiv="refresh" content="10">' in running.text  # it refreshes itself while sending
    assert f"{due} penerima dituju" in running_text  # planned; workers send (and skip the opted-out)
    listed = page_text(admin.get("/kampanye").text)
    assert "Pengingat jadwal H-14" in listed and "Sedang mengirim" in listed

    paused = post(admin, f"{campaign_path}/jeda", token_from=campaign_path)
    assert paused.status_code == 303, page_text(paused.text)
    paused_page = admin.get(paused.headers["location"])
    assert "Dijeda" in page_text(paused_page.text) and 'http-equiv="refresh"' not in paused_page.text
    again = post(admin, f"{campaign_path}/jeda", token_from=campaign_path)
    assert again.status_code == 409 and page_text(again.text).strip()  # the registry's own reason
    resumed = post(admin, f"{campaign_path}/lanjutkan", token_from=campaign_path)
    assert resumed.status_code == 303, page_text(resumed.text)
    assert "Kampanye dilanjutkan." in page_text(admin.get(resumed.headers["location"]).text)


def test_campaign_input_is_checked_before_the_registry_is_asked(open_as: OpenAs) -> None:
    admin = open_as(ADMIN)
    registry: registry_client.RegistryClient = admin.app.state.registry_client  # type: ignore[attr-defined]
    for data, message in (
        ({"audiens": "semua-orang"}, "Pilih salah satu audiens yang tersedia."),
        ({"audiens": "pengingat-h3", "hari": "0"}, "Jumlah hari harus angka 1 sampai 30."),
        ({"audiens": "pengingat-h3", "hari": "٣"}, "Jumlah hari harus angka 1 sampai 30."),  # Arabic-Indic 3
        ({"audiens": "pengingat-h3", "hari": "3", "nama": "x" * 101}, "Paling banyak 100 karakter."),
    ):
        response = post(admin, "/kampanye", token_from="/kampanye", **data)
        assert response.status_code == 422, data
        assert message in page_text(response.text)
    assert not [call for call in registry.calls if call.startswith("POST")]
    for path in ("/kampanye/0", "/kampanye/99999999999", "/kampanye/abc"):
        missing = admin.get(path)
        assert missing.status_code == 404 and "Kampanye ini tidak ada." in page_text(missing.text)
    assert post(admin, "/kampanye/1/hapus", token_from="/kampanye").status_code == 404


# --- words ------------------------------------------------------------------------------------


def test_every_fixed_text_of_these_pages_has_its_english() -> None:
    texts: set[str] = set()
    for name in OUR_TEMPLATES:
        source = (TEMPLATES / f"{name}.html").read_text(encoding="utf-8")
        texts |= {double or single for double, single in _LITERAL.findall(source)}
    texts |= {label for _, label in outreach_pages.NAV}
    for module in (outreach_pages, registry_client):
        texts |= {
            value
            for name, value in vars(module).items()
            if name.isupper() and isinstance(value, str) and " " in value and not value.startswith("/")
        }
    texts |= set(outreach_pages.NOTICES.values())
    for words in (
        outreach_words.KIND_WORDS,
        outreach_words.CAMPAIGN_STATUS_WORDS,
        outreach_words.SKIP_WORDS,
        outreach_words.FAILURE_WORDS,
        outreach_words.CORRECTION_FIELD_WORDS,
        outreach_words.CORRECTION_STATUS_WORDS,
        outreach_words.SEVERITY_WORDS,
        outreach_words.KIPI_STATUS_WORDS,
        outreach_words.OPT_SOURCE_WORDS,
    ):
        texts |= set(words.values())
    texts |= {audience.label for audience in outreach_words.SAVED_AUDIENCES}
    texts |= {audience.explains for audience in outreach_words.SAVED_AUDIENCES}
    english = catalog("en")
    assert sorted(text for text in texts if text not in english) == []
    ours = json.loads((Path(outreach_pages.__file__).parent / "locale" / "en" / "outreach.json").read_text())
    assert all(value.strip() for value in ours.values())


def test_the_pages_in_english(open_as: OpenAs, seeded: Seeded) -> None:
    admin = open_as(ADMIN)
    admin.get("/bahasa/en", params={"next": "/koreksi"})
    text = page_text(admin.get("/koreksi").text)
    assert "Awaiting a decision (1)" in text and "Name" in text and "Approve" in text
    kipi = page_text(admin.get("/kipi").text)
    assert "Severe" in kipi and "Mark In hand" in kipi


def test_report_reasons_are_words_and_unknown_codes_stay_visible() -> None:
    """The registry's codes as the report shows them (a worker's sends are B's tests; these are the words)."""
    counts = registry_client.CampaignCounts(
        due=10,
        sent=5,
        skipped={"opted_out": 2, "no_whatsapp_number": 1},
        failed={"131026": 1, "999999": 1, "graph_exploded": 1},
    )
    shown = outreach_pages.reasons(counts, "id")
    assert shown["skipped"] == [
        ("penerima sudah berhenti langganan", 2),
        ("tidak ada nomor WhatsApp di registri", 1),
    ]
    assert ("nomor tidak dapat menerima pesan WhatsApp", 1) in shown["failed"]
    assert ("kode kesalahan WhatsApp 999999", 1) in shown["failed"]
    assert ("graph_exploded", 1) in shown["failed"]
    english = outreach_pages.reasons(counts, "en")
    assert ("the recipient opted out", 2) in english["skipped"]
    assert ("WhatsApp error code 999999", 1) in english["failed"]
