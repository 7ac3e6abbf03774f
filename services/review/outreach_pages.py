"""Outreach pages: campaigns (``/kampanye``), correction requests (``/koreksi``), KIPI reports
(``/kipi``) and opt-outs (``/berhenti-langganan``).

The data lives in the registry, not here: every page reads and changes it through the registry's
staff API (registry_client.py), as the signed-in user. Who may do what is decided here, before
the registry is asked: campaigns and opt-outs are for administrators; correction requests and KIPI
reports for officers and administrators. When the registry cannot answer, the page says so in
Indonesian and shows nothing stale.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.review import outreach_words as words
from services.review.i18n import language_of, translate
from services.review.models import ReviewUser
from services.review.officer import clean_text
from services.review.registry_client import (
    Campaign,
    CampaignAction,
    CampaignCounts,
    Correction,
    KipiReport,
    RegistryClient,
    RegistryError,
)
from services.review.web import AdminUser, CurrentUser, render, verify_csrf

router = APIRouter()

CAMPAIGNS = "/kampanye"
CORRECTIONS = "/koreksi"
KIPI = "/kipi"
OPT_OUTS = "/berhenti-langganan"
# The nav's outreach links, and who sees each (render() in web.py filters the nav by NAV_ROLES;
# the routes below check the same roles themselves).
NAV = [
    (CAMPAIGNS, "Kampanye"),
    (CORRECTIONS, "Koreksi data"),
    (KIPI, "Laporan KIPI"),
    (OPT_OUTS, "Berhenti langganan"),
]


def _is_admin(user: ReviewUser) -> bool:
    return user.is_admin


def _answers_recipients(user: ReviewUser) -> bool:
    return user.answers_recipients


NAV_ROLES: dict[str, Callable[[ReviewUser], bool]] = {
    CAMPAIGNS: _is_admin,
    CORRECTIONS: _answers_recipients,
    KIPI: _answers_recipients,
    OPT_OUTS: _is_admin,
}

RUNNING_REFRESH_SECONDS = 10
MAX_REASON_CHARACTERS = 500  # the registry's reason / triage_note columns
MAX_NAME_CHARACTERS = 100  # the registry's campaigns.name
MAX_DAYS = 30
DECIDED_SHOWN = 50

OFFICERS_ONLY = "Hanya petugas atau administrator yang boleh membuka halaman ini."
NO_CORRECTION = "Permintaan koreksi {reference} tidak ada, atau sudah diputuskan."
NO_KIPI = "Laporan KIPI {reference} tidak ada."
NO_CAMPAIGN = "Kampanye ini tidak ada."
REASON_NEEDED = "Tulis alasan penolakan: penerima akan diberi tahu hasilnya."
NOTE_NEEDED = "Tulis catatan tindak lanjut sebelum mengubah status laporan."
TOO_LONG = "Paling banyak {n} karakter."
UNKNOWN_CHOICE = "Pilihan itu tidak dikenal. Muat ulang halamannya lalu coba lagi."
UNKNOWN_AUDIENCE = "Pilih salah satu audiens yang tersedia."
BAD_DAYS = "Jumlah hari harus angka 1 sampai {n}."
NOTICES = {
    "approved": "Permintaan koreksi disetujui; data di registri sudah diubah.",
    "rejected": "Permintaan koreksi ditolak; penerima akan diberi tahu alasannya.",
    "triaged": "Status laporan KIPI disimpan.",
    "created": "Kampanye dibuat. Jalankan uji coba dulu untuk melihat siapa saja yang akan dikirimi.",
    "started": "Kampanye mulai mengirim.",
    "paused": "Kampanye dijeda; tidak ada pesan baru yang dikirim sampai dilanjutkan.",
    "resumed": "Kampanye dilanjutkan.",
}
CAMPAIGN_ACTIONS: dict[str, tuple[CampaignAction, str]] = {
    "mulai": ("start", "started"),
    "jeda": ("pause", "paused"),
    "lanjutkan": ("resume", "resumed"),
}

Text = Annotated[str, Form()]


def get_registry(request: Request) -> RegistryClient:
    client: RegistryClient = request.app.state.registry_client
    return client


RegistryDep = Annotated[RegistryClient, Depends(get_registry)]


def get_outreach_officer(request: Request, user: CurrentUser) -> ReviewUser:
    if not user.answers_recipients:
        raise HTTPException(status_code=403, detail=translate(OFFICERS_ONLY, language_of(request)))
    return user


OfficerUser = Annotated[ReviewUser, Depends(get_outreach_officer)]


# --- shared ------------------------------------------------------------------------------------


def registry_text(error: RegistryError, language: str) -> str:
    if error.from_registry:
        return error.message  # the registry's own Indonesian explanation
    return translate(error.message, language, **error.values)


def notice_for(request: Request) -> str | None:
    notice = NOTICES.get(request.query_params.get("done", ""))
    return translate(notice, language_of(request)) if notice else None


def _text(raw: str, limit: int, language: str) -> tuple[str, str | None]:
    """The text as it may be stored and reach a recipient, or why it cannot; "" when nothing in it
    shows (only spaces and invisible format characters: a reason no one could read)."""
    cleaned = clean_text(raw)
    if not any(not character.isspace() and unicodedata.category(character) != "Cf" for character in cleaned):
        return "", None
    if len(cleaned) > limit:
        return cleaned[:limit], translate(TOO_LONG, language, n=limit)
    return cleaned, None


def _sort_time(value: datetime | None) -> float:
    return value.timestamp() if value else 0.0


# --- correction requests -----------------------------------------------------------------------


def corrections_page(
    request: Request,
    registry: RegistryClient,
    user: ReviewUser,
    *,
    error: str | None = None,
    drafts: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    language = language_of(request)
    pending: list[Correction] = []
    decided: list[Correction] = []
    problem = None
    try:
        pending = sorted(
            registry.corrections(user.username, "pending"), key=lambda c: _sort_time(c.created_at)
        )
        decided = registry.corrections(user.username, "approved") + registry.corrections(
            user.username, "rejected"
        )
        decided.sort(key=lambda c: _sort_time(c.decided_at), reverse=True)
    except RegistryError as failed:
        problem = registry_text(failed, language)
    return render(
        request,
        "corrections.html",
        {
            "pending": pending,
            "decided": decided[:DECIDED_SHOWN],
            "field_word": lambda code: words.word(words.CORRECTION_FIELD_WORDS, code, language),
            "status_word": lambda code: words.word(words.CORRECTION_STATUS_WORDS, code, language),
            "registry_error": problem,
            "error": error,
            "drafts": drafts or {},
            "max_reason": MAX_REASON_CHARACTERS,
            "notice": notice_for(request),
        },
        status_code=status_code if problem is None else max(status_code, 502),
    )


@router.get(CORRECTIONS, response_class=HTMLResponse)
def correction_list(request: Request, user: OfficerUser, registry: RegistryDep) -> HTMLResponse:
    return corrections_page(request, registry, user)


@router.post(
    f"{CORRECTIONS}/{{reference}}/keputusan", dependencies=[Depends(verify_csrf)], response_model=None
)
def correction_decision(
    request: Request,
    reference: str,
    user: OfficerUser,
    registry: RegistryDep,
    keputusan: Text = "",
    alasan: Text = "",
) -> Response:
    language = language_of(request)
    decision = {"setujui": "approve", "tolak": "reject"}.get(keputusan)
    reason, too_long = _text(alasan, MAX_REASON_CHARACTERS, language)
    shown_reference = reference[:12]

    def refuse(message: str, status_code: int) -> HTMLResponse:
        drafts = {shown_reference: reason}
        return corrections_page(
            request, registry, user, error=message, drafts=drafts, status_code=status_code
        )

    if decision is None:
        return refuse(translate(UNKNOWN_CHOICE, language), 422)
    if too_long:
        return refuse(too_long, 422)
    if decision == "reject" and not reason:
        return refuse(translate(REASON_NEEDED, language), 422)
    try:
        registry.decide_correction(
            user.username, reference, "approve" if decision == "approve" else "reject", reason
        )
    except RegistryError as failed:
        if failed.not_found:
            return refuse(translate(NO_CORRECTION, language, reference=shown_reference), 404)
        return refuse(registry_text(failed, language), failed.status if failed.status in (409, 422) else 502)
    done = "approved" if decision == "approve" else "rejected"
    return RedirectResponse(f"{CORRECTIONS}?done={done}", status_code=303)


# --- KIPI reports -----------------------------------------------------------------------------


def _filter(request: Request, name: str, allowed: dict[str, str]) -> str:
    value = request.query_params.get(name, "")
    return value if value in allowed else ""


def kipi_page(
    request: Request,
    registry: RegistryClient,
    user: ReviewUser,
    *,
    error: str | None = None,
    drafts: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    language = language_of(request)
    severity = _filter(request, "keparahan", words.SEVERITY_WORDS)
    status = _filter(request, "status", words.KIPI_STATUS_WORDS)
    reports: list[KipiReport] = []
    problem = None
    try:
        reports = registry.kipi_reports(user.username, severity=severity or None, status=status or None)
    except RegistryError as failed:
        problem = registry_text(failed, language)
    # Most severe first, then the oldest: a severe report waits for no one.
    reports.sort(key=lambda r: (words.SEVERITY_ORDER.get(r.severity, 9), _sort_time(r.created_at)))
    return render(
        request,
        "kipi.html",
        {
            "reports": reports,
            "severity": severity,
            "status": status,
            "severities": words.SEVERITY_WORDS,
            "statuses": words.KIPI_STATUS_WORDS,
            "triage_statuses": words.TRIAGE_STATUSES,
            "severity_word": lambda code: words.word(words.SEVERITY_WORDS, code, language),
            "status_word": lambda code: words.word(words.KIPI_STATUS_WORDS, code, language),
            "registry_error": problem,
            "error": error,
            "drafts": drafts or {},
            "max_note": MAX_REASON_CHARACTERS,
            "notice": notice_for(request),
        },
        status_code=status_code if problem is None else max(status_code, 502),
    )


@router.get(KIPI, response_class=HTMLResponse)
def kipi_list(request: Request, user: OfficerUser, registry: RegistryDep) -> HTMLResponse:
    return kipi_page(request, registry, user)


@router.post(f"{KIPI}/{{reference}}/tindak-lanjut", dependencies=[Depends(verify_csrf)], response_model=None)
def kipi_triage(
    request: Request,
    reference: str,
    user: OfficerUser,
    registry: RegistryDep,
    status: Text = "",
    catatan: Text = "",
) -> Response:
    language = language_of(request)
    note, too_long = _text(catatan, MAX_REASON_CHARACTERS, language)
    shown_reference = reference[:12]

    def refuse(message: str, status_code: int) -> HTMLResponse:
        drafts = {shown_reference: note}
        return kipi_page(request, registry, user, error=message, drafts=drafts, status_code=status_code)

    if status not in words.TRIAGE_STATUSES:
        return refuse(translate(UNKNOWN_CHOICE, language), 422)
    if too_long:
        return refuse(too_long, 422)
    if not note:
        return refuse(translate(NOTE_NEEDED, language), 422)
    try:
        registry.triage_kipi(user.username, reference, status, note)
    except RegistryError as failed:
        if failed.not_found:
            return refuse(translate(NO_KIPI, language, reference=shown_reference), 404)
        return refuse(registry_text(failed, language), failed.status if failed.status in (409, 422) else 502)
    return RedirectResponse(f"{KIPI}?done=triaged", status_code=303)


# --- opt-outs ---------------------------------------------------------------------------------


@router.get(OPT_OUTS, response_class=HTMLResponse)
def opt_out_list(request: Request, admin: AdminUser, registry: RegistryDep) -> HTMLResponse:
    language = language_of(request)
    try:
        summary = registry.opt_outs(admin.username)
    except RegistryError as failed:
        return render(
            request,
            "opt_outs.html",
            {"summary": None, "registry_error": registry_text(failed, language)},
            502,
        )
    return render(
        request,
        "opt_outs.html",
        {
            "summary": summary,
            "registry_error": None,
            "source_word": lambda code: words.word(words.OPT_SOURCE_WORDS, code, language),
        },
    )


# --- campaigns --------------------------------------------------------------------------------


def reasons(counts: CampaignCounts, language: str) -> dict[str, list[tuple[str, int]]]:
    """Skipped and failed recipients by reason, in words, the most frequent first."""
    return {
        "skipped": [
            (words.word(words.SKIP_WORDS, reason, language), count)
            for reason, count in sorted(counts.skipped.items(), key=lambda item: -item[1])
        ],
        "failed": [
            (words.failure_word(reason, language), count)
            for reason, count in sorted(counts.failed.items(), key=lambda item: -item[1])
        ],
    }


def campaign_words(campaign: Campaign, language: str) -> dict[str, Any]:
    """What the campaign's codes say in words: its audience, status, skip and failure reasons."""
    audience = words.word(words.KIND_WORDS, campaign.kind, language)
    if campaign.kind == "appointment_reminder" and campaign.days is not None:
        audience = translate("{audience} H-{days}", language, audience=audience, days=campaign.days)
    return {
        "audience": audience,
        "status": words.word(words.CAMPAIGN_STATUS_WORDS, campaign.status, language),
        **reasons(campaign.counts, language),
        "running": campaign.status == words.RUNNING,
        "paused": campaign.status == words.PAUSED,
        "done": campaign.status == words.DONE,
    }


def campaigns_page(
    request: Request,
    registry: RegistryClient,
    user: ReviewUser,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    language = language_of(request)
    campaigns: list[Campaign] = []
    problem = None
    try:
        campaigns = registry.campaigns(user.username)
    except RegistryError as failed:
        problem = registry_text(failed, language)
    campaigns.sort(key=lambda c: c.id, reverse=True)
    return render(
        request,
        "campaigns.html",
        {
            "campaigns": [(campaign, campaign_words(campaign, language)) for campaign in campaigns],
            "audiences": words.SAVED_AUDIENCES,
            "form": form or {"audiens": words.SAVED_AUDIENCES[0].key, "hari": "3", "nama": ""},
            "max_days": MAX_DAYS,
            "max_name": MAX_NAME_CHARACTERS,
            "registry_error": problem,
            "error": error,
            "notice": notice_for(request),
        },
        status_code=status_code if problem is None else max(status_code, 502),
    )


@router.get(CAMPAIGNS, response_class=HTMLResponse)
def campaign_list(request: Request, admin: AdminUser, registry: RegistryDep) -> HTMLResponse:
    return campaigns_page(request, registry, admin)


@router.post(CAMPAIGNS, dependencies=[Depends(verify_csrf)], response_model=None)
def campaign_create(
    request: Request,
    admin: AdminUser,
    registry: RegistryDep,
    audiens: Text = "",
    hari: Text = "",
    nama: Text = "",
) -> Response:
    language = language_of(request)
    name, too_long = _text(nama.replace("\n", " "), MAX_NAME_CHARACTERS, language)
    form = {"audiens": audiens[:40], "hari": hari[:4], "nama": name}

    def refuse(message: str, status_code: int = 422) -> HTMLResponse:
        return campaigns_page(request, registry, admin, error=message, form=form, status_code=status_code)

    audience = words.AUDIENCES.get(audiens)
    if audience is None:
        return refuse(translate(UNKNOWN_AUDIENCE, language))
    if too_long:
        return refuse(too_long)
    days = audience.days
    if days is not None:
        given = hari.strip()
        if not (given.isascii() and given.isdigit() and 1 <= int(given) <= MAX_DAYS):
            return refuse(translate(BAD_DAYS, language, n=MAX_DAYS))
        days = int(given)
    if not name:
        label = translate(audience.label, language)
        name = label if days is None else f"{translate('Pengingat jadwal', language)} H-{days}"
    try:
        created = registry.create_campaign(
            admin.username, kind=audience.kind, template=audience.template, days=days, name=name
        )
    except RegistryError as failed:
        return refuse(registry_text(failed, language), failed.status if failed.status in (409, 422) else 502)
    return RedirectResponse(f"{CAMPAIGNS}/{created.id}?done=created", status_code=303)


def _campaign_id(value: str) -> int:
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else -1


def campaign_page(
    request: Request,
    registry: RegistryClient,
    user: ReviewUser,
    campaign_id: str,
    *,
    error: str | None = None,
    dry_run: CampaignCounts | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    language = language_of(request)
    try:
        campaign = registry.campaign(user.username, _campaign_id(campaign_id))
    except RegistryError as failed:
        if failed.not_found:
            raise HTTPException(status_code=404, detail=translate(NO_CAMPAIGN, language)) from failed
        return render(
            request,
            "campaign.html",
            {"campaign": None, "registry_error": registry_text(failed, language), "error": error},
            status_code=502,
        )
    shown = campaign_words(campaign, language)
    return render(
        request,
        "campaign.html",
        {
            "campaign": campaign,
            "shown": shown,
            "dry_run": dry_run,
            "dry_run_words": reasons(dry_run, language) if dry_run else None,
            "refresh_seconds": RUNNING_REFRESH_SECONDS if shown["running"] else None,
            "registry_error": None,
            "error": error,
            "notice": notice_for(request),
        },
        status_code=status_code,
    )


@router.get(f"{CAMPAIGNS}/{{campaign_id}}", response_class=HTMLResponse)
def campaign_view(
    request: Request, campaign_id: str, admin: AdminUser, registry: RegistryDep
) -> HTMLResponse:
    return campaign_page(request, registry, admin, campaign_id)


@router.post(
    f"{CAMPAIGNS}/{{campaign_id}}/uji-coba", dependencies=[Depends(verify_csrf)], response_model=None
)
def campaign_dry_run(request: Request, campaign_id: str, admin: AdminUser, registry: RegistryDep) -> Response:
    """Counts what a start would send and skip, and shows them on the campaign's page; sends nothing."""
    try:
        counted = registry.dry_run(admin.username, _campaign_id(campaign_id))
    except RegistryError as failed:
        if failed.not_found:
            raise HTTPException(
                status_code=404, detail=translate(NO_CAMPAIGN, language_of(request))
            ) from failed
        message = registry_text(failed, language_of(request))
        return campaign_page(request, registry, admin, campaign_id, error=message, status_code=502)
    return campaign_page(request, registry, admin, campaign_id, dry_run=counted)


@router.post(
    f"{CAMPAIGNS}/{{campaign_id}}/{{action}}", dependencies=[Depends(verify_csrf)], response_model=None
)
def campaign_change(
    request: Request, campaign_id: str, action: str, admin: AdminUser, registry: RegistryDep
) -> Response:
    language = language_of(request)
    chosen = CAMPAIGN_ACTIONS.get(action)
    if chosen is None:
        raise HTTPException(status_code=404, detail=translate(UNKNOWN_CHOICE, language))
    registry_action, done = chosen
    try:
        registry.campaign_action(admin.username, _campaign_id(campaign_id), registry_action)
    except RegistryError as failed:
        if failed.not_found:
            raise HTTPException(status_code=404, detail=translate(NO_CAMPAIGN, language)) from failed
        status_code = failed.status if failed.status in (409, 422) else 502
        message = registry_text(failed, language)
        return campaign_page(request, registry, admin, campaign_id, error=message, status_code=status_code)
    return RedirectResponse(f"{CAMPAIGNS}/{_campaign_id(campaign_id)}?done={done}", status_code=303)
