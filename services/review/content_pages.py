"""The Content pages: every FAQ answer with its length, status and dates; the editor with a live
WhatsApp preview; and the four-eyes workflow (edit -> menunggu persetujuan -> an approver who is
not the author approves -> the answer is written to its domain file and served live).

Any signed-in user may propose an edit; only users with the ``approver`` role decide, never on
their own edit. The preview is rendered here (content.py) for both the no-JavaScript "Pratinjau"
button and the editor's small script, so what the page shows is what the recipient gets.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from rasa_project.content import Content, ContentError
from services.review import content_queries as queries
from services.review.content import (
    BODY_LIMIT,
    MAX_NOTE_LENGTH,
    REVIEW_SOON_DAYS,
    TOTAL_LIMIT,
    Answer,
    AnswerChanged,
    Edit,
    answers,
    edit_problems,
    find_answer,
    normalise_text,
    parse_day,
    publish,
    read_content,
    render_answer,
    review_flag,
)
from services.review.content_models import ContentRevision, RevisionStatus
from services.review.models import ReviewUser
from services.review.state import ReviewState
from services.review.web import CurrentUser, DbSession, StateDep, render, templates, verify_csrf

router = APIRouter()

SCRIPT = Path(__file__).resolve().parent / "templates" / "content_preview.js"
MAX_FORM_TEXT = 8000
NOT_APPROVER = "Hanya pengguna dengan peran approver yang dapat memutuskan perubahan jawaban."
OWN_EDIT = (
    "Anda tidak dapat menyetujui atau menolak perubahan Anda sendiri. "
    "Perubahan ini harus diperiksa oleh approver lain."
)
STATUS_LABELS = {
    "approved": "disetujui",
    "draft": "draf",
    RevisionStatus.PENDING.value: "menunggu persetujuan",
    RevisionStatus.REJECTED.value: "ditolak",
    RevisionStatus.SUPERSEDED.value: "diganti edit baru",
}
TextField = Annotated[str, Form(max_length=MAX_FORM_TEXT)]
DayField = Annotated[str, Form(max_length=20)]
NoteField = Annotated[str, Form(max_length=MAX_NOTE_LENGTH * 2)]


def today(state: ReviewState) -> date:
    return state.clock().astimezone(state.settings.zone).date()


def _content(state: ReviewState) -> Content:
    try:
        return read_content(state.settings.content_dir)
    except ContentError as error:
        raise HTTPException(status_code=503, detail=f"File jawaban tidak dapat dibaca: {error}") from error


def _answer(content: Content, topic: str) -> Answer:
    answer = find_answer(content, topic)
    if answer is None:
        raise HTTPException(status_code=404, detail="Jawaban ini tidak ditemukan.")
    return answer


def _with_script_csp(response: Response) -> Response:
    """The editor may run its own script (same origin) and fetch previews; nothing else changes."""
    from services.review.app import SECURITY_HEADERS  # the app module imports this one

    response.headers["Content-Security-Policy"] = (
        SECURITY_HEADERS["Content-Security-Policy"] + "; script-src 'self'; connect-src 'self'"
    )
    return response


@router.get("/content", response_class=HTMLResponse)
def content_list(request: Request, _user: CurrentUser, state: StateDep, db: DbSession) -> HTMLResponse:
    content = _content(state)
    day = today(state)
    pending = queries.pending_by_response(db)
    rows: list[dict[str, Any]] = []
    for answer in answers(content):
        rendered = render_answer(answer.text, content.contacts)
        rows.append(
            {
                "answer": answer,
                "rendered": rendered,
                "flag": review_flag(answer.next_review, day),
                "pending": pending.get(answer.name),
            }
        )
    return render(
        request,
        "content.html",
        {
            "rows": rows,
            "past": sum(row["flag"] == "lewat" for row in rows),
            "soon": sum(row["flag"] == "segera" for row in rows),
            "waiting": len(pending),
            "too_long": sum(row["rendered"].too_long for row in rows),
            "soon_days": REVIEW_SOON_DAYS,
            "labels": STATUS_LABELS,
            "total_limit": TOTAL_LIMIT,
            "body_limit": BODY_LIMIT,
        },
    )


def _editor(
    request: Request,
    state: ReviewState,
    db: Session,
    user: ReviewUser,
    answer: Answer,
    content: Content,
    *,
    draft: dict[str, str] | None = None,
    problems: list[str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    form = draft or {
        "text": answer.text,
        "valid_as_of": answer.valid_as_of.isoformat() if answer.valid_as_of else "",
        "next_review": answer.next_review.isoformat() if answer.next_review else "",
        "note": "",
        "base_digest": answer.digest,
    }
    revisions = queries.history(db, answer.name)
    response = render(
        request,
        "content_answer.html",
        {
            "answer": answer,
            "current": render_answer(answer.text, content.contacts),
            "preview": render_answer(form["text"], content.contacts),
            "form": form,
            "problems": problems or [],
            "notice": notice,
            "revisions": revisions,
            "previews": {r.id: render_answer(r.text, content.contacts) for r in revisions if r.pending},
            "flag": review_flag(answer.next_review, today(state)),
            "labels": STATUS_LABELS,
            "can_decide": user.is_approver,
            "contacts": content.contacts,
            "total_limit": TOTAL_LIMIT,
            "body_limit": BODY_LIMIT,
        },
        status_code=status_code,
    )
    return _with_script_csp(response)


@router.get("/content/preview.js", include_in_schema=False)
def preview_script(_user: CurrentUser) -> Response:
    return Response(SCRIPT.read_text(encoding="utf-8"), media_type="text/javascript; charset=utf-8")


@router.get("/content/{topic}", response_class=HTMLResponse)
def content_answer(
    request: Request,
    topic: str,
    user: CurrentUser,
    state: StateDep,
    db: DbSession,
    dikirim: int = 0,
    disetujui: int = 0,
) -> Response:
    content = _content(state)
    notice = None
    if dikirim:
        notice = "Perubahan dikirim dan menunggu persetujuan approver lain."
    elif disetujui:
        notice = "Perubahan disetujui dan ditulis ke file jawaban; asisten memakainya mulai pesan berikutnya."
    return _editor(request, state, db, user, _answer(content, topic), content, notice=notice)


@router.post("/content/{topic}/preview", dependencies=[Depends(verify_csrf)], response_model=None)
def content_preview(
    request: Request,
    topic: str,
    user: CurrentUser,
    state: StateDep,
    db: DbSession,
    text: TextField = "",
    valid_as_of: DayField = "",
    next_review: DayField = "",
    note: NoteField = "",
    base_digest: Annotated[str, Form(max_length=64)] = "",
    fragment: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    """The bubble alone for the editor's script (``fragment=1``), else the editor with the preview."""
    content = _content(state)
    answer = _answer(content, topic)
    rendered = render_answer(normalise_text(text), content.contacts)
    if fragment:
        return templates.TemplateResponse(
            request,
            "content_bubble.html",
            {"preview": rendered, "total_limit": TOTAL_LIMIT, "body_limit": BODY_LIMIT},
        )
    draft = {
        "text": text,
        "valid_as_of": valid_as_of,
        "next_review": next_review,
        "note": note,
        "base_digest": base_digest or answer.digest,
    }
    return _editor(request, state, db, user, answer, content, draft=draft)


@router.post("/content/{topic}", dependencies=[Depends(verify_csrf)], response_model=None)
def content_submit(
    request: Request,
    topic: str,
    user: CurrentUser,
    state: StateDep,
    db: DbSession,
    text: TextField = "",
    valid_as_of: DayField = "",
    next_review: DayField = "",
    note: NoteField = "",
    base_digest: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Sends an edit for approval (menunggu persetujuan); nothing reaches people yet."""
    content = _content(state)
    answer = _answer(content, topic)
    edit = Edit(normalise_text(text), parse_day(valid_as_of), parse_day(next_review), note.strip())
    problems = edit_problems(edit, content.contacts, today(state))
    if edit.text == answer.text and not problems:
        problems = ["Teks belum diubah; tidak ada yang perlu disetujui."]
    if base_digest and base_digest != answer.digest:
        problems.append(
            "Jawaban ini sudah berubah sejak Anda membuka editor. Salin perubahan Anda, lalu muat ulang."
        )
    if problems:
        draft = {
            "text": text,
            "valid_as_of": valid_as_of,
            "next_review": next_review,
            "note": note,
            "base_digest": base_digest or answer.digest,
        }
        return _editor(
            request, state, db, user, answer, content, draft=draft, problems=problems, status_code=400
        )
    assert edit.valid_as_of is not None and edit.next_review is not None
    queries.submit(
        db,
        ContentRevision(
            response=answer.name,
            text=edit.text,
            valid_as_of=edit.valid_as_of.isoformat(),
            next_review=edit.next_review.isoformat(),
            note=edit.note,
            base_digest=base_digest or answer.digest,
            status=RevisionStatus.PENDING.value,
            created_by=user.username,
            created_at=state.clock(),
        ),
        state.clock(),
    )
    db.commit()
    return RedirectResponse(f"/content/{answer.topic}?dikirim=1", status_code=303)


def _decidable(db: Session, revision_id: int, user: ReviewUser) -> ContentRevision:
    """The pending revision this approver may decide: 403 for anyone else, in Indonesian."""
    revision = queries.get_revision(db, revision_id)
    if revision is None:
        raise HTTPException(status_code=404, detail="Perubahan ini tidak ditemukan.")
    if not user.is_approver:
        raise HTTPException(status_code=403, detail=NOT_APPROVER)
    if revision.created_by == user.username:
        raise HTTPException(status_code=403, detail=OWN_EDIT)
    if not revision.pending:
        label = STATUS_LABELS.get(revision.status, revision.status)
        raise HTTPException(status_code=409, detail=f"Perubahan ini sudah diputuskan ({label}).")
    return revision


@router.post(
    "/content/revisions/{revision_id}/approve", dependencies=[Depends(verify_csrf)], response_model=None
)
def content_approve(revision_id: int, user: CurrentUser, state: StateDep, db: DbSession) -> Response:
    revision = _decidable(db, revision_id, user)
    topic = revision.response.removeprefix("utter_faq/")
    edit = Edit(
        revision.text, parse_day(revision.valid_as_of), parse_day(revision.next_review), revision.note
    )
    content = _content(state)
    problems = edit_problems(edit, content.contacts, today(state))
    if problems:
        raise HTTPException(
            status_code=409, detail="Perubahan ini tidak dapat disetujui: " + " ".join(problems)
        )
    queries.decide(db, revision, RevisionStatus.APPROVED, user.username, state.clock())
    try:
        publish(
            state.settings.content_dir,
            topic,
            edit,
            revision.base_digest,
            author=revision.created_by,
            approver=user.username,
            today=today(state),
        )
    except AnswerChanged as changed:
        db.rollback()
        raise HTTPException(
            status_code=409,
            detail="Jawaban ini sudah berubah sejak perubahan dibuat. Minta penulis mengeditnya ulang.",
        ) from changed
    except (ContentError, OSError) as error:
        db.rollback()
        raise HTTPException(status_code=500, detail=f"Jawaban tidak dapat ditulis: {error}") from error
    db.commit()
    return RedirectResponse(f"/content/{topic}?disetujui={revision.id}", status_code=303)


@router.post(
    "/content/revisions/{revision_id}/reject", dependencies=[Depends(verify_csrf)], response_model=None
)
def content_reject(revision_id: int, user: CurrentUser, state: StateDep, db: DbSession) -> Response:
    revision = _decidable(db, revision_id, user)
    queries.decide(db, revision, RevisionStatus.REJECTED, user.username, state.clock())
    db.commit()
    return RedirectResponse(f"/content/{revision.response.removeprefix('utter_faq/')}", status_code=303)
