"""Outreach's HTTP routes: campaigns for staff (the review app), and notice replies for the assistant.

Staff routes take the staff token and ``X-Staff-User`` (services/registry/staff_auth.py). Starting
a campaign plans its notices in the request (one transaction: 100,000 recipients take seconds)
and, with a Redis or RabbitMQ queue configured, queues them in jobs; workers
(``python -m services.registry.outreach worker``) do the sending. ``POST /v1/notices/resolve`` takes
the action server's service token and answers only for a notice that went to the asking
conversation: an unknown reference and someone else's get the same 404.
"""

from __future__ import annotations

import hmac
import logging
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.clock import utc_now
from services.registry.auth import CallerDep
from services.registry.dependencies import NowDep, SessionDep, SettingsDep
from services.registry.hashing import conversation_hash
from services.registry.models import Appointment
from services.registry.outreach import engine, messages
from services.registry.outreach.cli import NotConfigured, enqueue, send_context
from services.registry.outreach.models import Campaign, CampaignKind, CampaignStatus, Notice, NoticeStatus
from services.registry.outreach.queue import open_queue
from services.registry.outreach.quiet_hours import QuietHours
from services.registry.outreach.schemas import (
    CampaignCreate,
    CampaignList,
    CampaignOut,
    CountsOut,
    NoticeAppointment,
    NoticeResolved,
    NoticeResolveRequest,
)
from services.registry.outreach.settings import OutreachSettings
from services.registry.schemas import ErrorBody
from services.registry.settings import RegistrySettings
from services.registry.staff_auth import StaffUserDep

log = logging.getLogger(__name__)

# Most days ahead (a reminder) or past (overdue) a campaign may look.
DAYS_LIMIT = {CampaignKind.APPOINTMENT_REMINDER: 60, CampaignKind.DOSE_DUE: 365}
DEFAULT_DAYS = {CampaignKind.DOSE_DUE: 1}
MAX_CAMPAIGN_ID = 2**31 - 1


def get_outreach_settings(request: Request) -> OutreachSettings:
    """The app's outreach settings, read from the environment once (tests set ``app.state.outreach``)."""
    settings: OutreachSettings | None = getattr(request.app.state, "outreach", None)
    if settings is None:
        settings = OutreachSettings()
        request.app.state.outreach = settings
    return settings


OutreachDep = Annotated[OutreachSettings, Depends(get_outreach_settings)]
CampaignId = Annotated[int, Path(ge=1, le=MAX_CAMPAIGN_ID)]

router = APIRouter(tags=["outreach"])
staff = APIRouter(
    prefix="/v1/staff/campaigns",
    tags=["outreach"],
    responses={
        401: {"model": ErrorBody, "description": "No staff token, or a wrong one"},
        404: {"model": ErrorBody, "description": "No such campaign"},
        503: {"model": ErrorBody, "description": "No staff token configured (REGISTRY_STAFF_TOKEN)"},
    },
)


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse(ErrorBody(error=error, message=message).model_dump(), status_code=status)


def _out(
    session: Session, campaign: Campaign, outreach: OutreachSettings, counts: engine.Counts | None = None
) -> CampaignOut:
    quiet = QuietHours(outreach.quiet_start, outreach.quiet_end)
    counted = counts or engine.report(session, campaign, quiet, utc_now())
    return CampaignOut(
        id=campaign.id,
        name=campaign.name,
        kind=campaign.kind,
        status=campaign.status,
        template=campaign.template,
        language=campaign.language,
        days=campaign.days,
        counts=CountsOut(**counted.__dict__),
        created_at=campaign.created_at,
        created_by=campaign.created_by,
        started_at=campaign.started_at,
        finished_at=campaign.finished_at,
        dry_run=counts is not None,
    )


def _today(settings: RegistrySettings, now: datetime) -> date:
    """Today in the registry's time zone, by the app's clock (tests move it)."""
    return now.astimezone(ZoneInfo(settings.timezone)).date()


def _find(session: Session, campaign_id: int) -> Campaign | None:
    return session.scalar(select(Campaign).where(Campaign.id == campaign_id))


@staff.get("", response_model=CampaignList)
def list_campaigns(_user: StaffUserDep, session: SessionDep, outreach: OutreachDep) -> CampaignList:
    """Every campaign, newest first, with its counts."""
    campaigns = session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(200))
    return CampaignList(campaigns=[_out(session, campaign, outreach) for campaign in campaigns])


@staff.post("", response_model=CampaignOut, status_code=201, responses={422: {"model": ErrorBody}})
def create(
    body: CampaignCreate, user: StaffUserDep, session: SessionDep, outreach: OutreachDep, now: NowDep
) -> CampaignOut | JSONResponse:
    """A draft campaign from a saved audience (a kind, its days) and the kind's template."""
    expected = engine.KIND_TEMPLATES[body.kind]
    if body.template != expected:
        message = messages.WRONG_TEMPLATE.format(template=body.template[:60], expected=expected)
        return _error(422, "wrong_template", message)
    limit = DAYS_LIMIT.get(body.kind)
    days = body.days if limit is not None else None
    if limit is not None and days is None:
        days = DEFAULT_DAYS.get(body.kind)
    if limit is not None and (days is None or days > limit):
        return _error(422, "days_required", messages.DAYS_REQUIRED.format(limit=limit))
    campaign = engine.create_campaign(
        session,
        name=(body.name or "").strip() or body.kind.value,
        kind=body.kind,
        days=days,
        created_by=user,
        now=now,
    )
    session.commit()
    return _out(session, campaign, outreach)


@staff.get("/{campaign_id}", response_model=CampaignOut)
def show(
    campaign_id: CampaignId, _user: StaffUserDep, session: SessionDep, outreach: OutreachDep
) -> CampaignOut | JSONResponse:
    """Status and counts: due, sent, pending (deferred for quiet hours), skipped and failed by reason."""
    campaign = _find(session, campaign_id)
    if campaign is None:
        return _error(404, "not_found", messages.CAMPAIGN_UNKNOWN)
    return _out(session, campaign, outreach)


@staff.post("/{campaign_id}/dry-run", response_model=CampaignOut)
def dry_run(
    campaign_id: CampaignId,
    _user: StaffUserDep,
    session: SessionDep,
    settings: SettingsDep,
    outreach: OutreachDep,
    now: NowDep,
) -> CampaignOut | JSONResponse:
    """What starting now would send and skip, and why; nothing is written or sent."""
    campaign = _find(session, campaign_id)
    if campaign is None:
        return _error(404, "not_found", messages.CAMPAIGN_UNKNOWN)
    try:
        context = send_context(settings, outreach)
    except NotConfigured:
        return _error(503, "whatsapp_not_ready", messages.WHATSAPP_NOT_READY)
    counts = engine.dry_run(session, campaign, context, _today(settings, now), now)
    return _out(session, campaign, outreach, counts)


@staff.post("/{campaign_id}/start", response_model=CampaignOut, responses={409: {"model": ErrorBody}})
def start(
    campaign_id: CampaignId,
    _user: StaffUserDep,
    session: SessionDep,
    settings: SettingsDep,
    outreach: OutreachDep,
    now: NowDep,
) -> CampaignOut | JSONResponse:
    """Plan the notices (never one twice) and set the campaign running; workers send them."""
    campaign = _find(session, campaign_id)
    if campaign is None:
        return _error(404, "not_found", messages.CAMPAIGN_UNKNOWN)
    if campaign.status != CampaignStatus.DRAFT.value:
        return _error(409, "not_draft", messages.NOT_DRAFT)
    try:
        send_context(settings, outreach)
    except NotConfigured:
        return _error(503, "whatsapp_not_ready", messages.WHATSAPP_NOT_READY)
    engine.plan(session, campaign, _today(settings, now), now)
    session.commit()
    _queue(session, campaign.id, outreach)
    return _out(session, campaign, outreach)


@staff.post("/{campaign_id}/pause", response_model=CampaignOut, responses={409: {"model": ErrorBody}})
def pause(
    campaign_id: CampaignId, _user: StaffUserDep, session: SessionDep, outreach: OutreachDep, now: NowDep
) -> CampaignOut | JSONResponse:
    """Workers stop claiming its notices (those already in flight finish)."""
    campaign = _find(session, campaign_id)
    if campaign is None:
        return _error(404, "not_found", messages.CAMPAIGN_UNKNOWN)
    if not engine.set_status(session, campaign, CampaignStatus.PAUSED, now):
        return _error(409, "not_running", messages.CANNOT_PAUSE)
    session.commit()
    return _out(session, campaign, outreach)


@staff.post("/{campaign_id}/resume", response_model=CampaignOut, responses={409: {"model": ErrorBody}})
def resume(
    campaign_id: CampaignId, _user: StaffUserDep, session: SessionDep, outreach: OutreachDep, now: NowDep
) -> CampaignOut | JSONResponse:
    """Running again, from where it stopped: what was sent stays sent."""
    campaign = _find(session, campaign_id)
    if campaign is None:
        return _error(404, "not_found", messages.CAMPAIGN_UNKNOWN)
    if not engine.set_status(session, campaign, CampaignStatus.RUNNING, now):
        return _error(409, "not_paused", messages.CANNOT_RESUME)
    session.commit()
    _queue(session, campaign.id, outreach)
    return _out(session, campaign, outreach)


def _queue(session: Session, campaign_id: int, outreach: OutreachSettings) -> None:
    """Put the campaign's queued notices on Redis / RabbitMQ; with the memory queue the workers sweep
    the database. A queue that cannot be reached loses nothing: the sweep finds the notices."""
    if outreach.queue == "memory":
        return
    ids = engine.queued_ids(session, campaign_id)
    try:
        jobs = open_queue(outreach)
        try:
            enqueue(jobs, campaign_id, ids, outreach.batch_size)
        finally:
            jobs.close()
    except Exception as error:  # the queue is an accelerator; the database holds the work
        log.warning(
            "campaign %s: could not queue its notices (%s); workers will sweep",
            campaign_id,
            type(error).__name__,
        )


@router.post(
    "/v1/notices/resolve",
    response_model=NoticeResolved,
    responses={404: {"model": ErrorBody, "description": "Unknown, unsent, or sent to another conversation"}},
)
def resolve(
    body: NoticeResolveRequest, _caller: CallerDep, session: SessionDep, settings: SettingsDep
) -> NoticeResolved | JSONResponse:
    """Which notice a template button answers, only when it was sent to this conversation."""
    asking = conversation_hash(settings.audit_hash_key.get_secret_value(), body.conversation_id)
    row = session.execute(
        select(Notice, Campaign.name)
        .outerjoin(Campaign, Campaign.id == Notice.campaign_id)
        .where(Notice.reference == body.reference, Notice.status == NoticeStatus.SENT.value)
    ).first()
    sent_to = row[0].conversation_hash if row is not None else None
    # Compared in constant time either way, so a wrong reference and another's take the same path.
    matches = hmac.compare_digest((sent_to or "0" * 64).encode(), asking.encode()) and sent_to is not None
    if row is None or not matches:
        return _error(404, "not_found", messages.NOTICE_NOT_FOUND)
    notice, campaign_name = row
    appointment = None
    if notice.appointment_id is not None:
        booked = session.get(Appointment, notice.appointment_id)
        if booked is not None:
            appointment = NoticeAppointment(
                date=booked.scheduled_at.date(),
                time=booked.scheduled_at.time(),
                facility_name=booked.facility_name,
                facility_address=booked.facility_address,
            )
    assert notice.finished_at is not None
    return NoticeResolved(
        kind=notice.kind, campaign_name=campaign_name, sent_at=notice.finished_at, appointment=appointment
    )


router.include_router(staff)
