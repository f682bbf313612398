"""Server-rendered pages for the office, the editor and the DPO: thin calls into the services."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from consent_db.models import Event, Person, Photo, PhotoStatus
from gatekeeper.config import CHANNELS
from gatekeeper.services import review
from gatekeeper.services.ingest import ingest_bytes
from gatekeeper.services.views import photo_detail, photo_summary

from .app import templates
from .deps import ContextDep, CurrentUser, roles
from .rendering import preview, review_image
from .security import check_csrf

router = APIRouter()
PAGE_SIZE = 48
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
SEE_PHOTOS = ("office", "editor", "dpo")


@router.get("/")
def home(user: CurrentUser):
    if user.role_set & {"editor", "dpo"}:
        return RedirectResponse("/review", status_code=303)
    if "office" in user.role_set:
        return RedirectResponse("/upload", status_code=303)
    return RedirectResponse("/reports", status_code=303)


@router.get("/upload")
def upload_page(request: Request, ctx: ContextDep, user=roles("office", "dpo")):
    with ctx.uow() as uow:
        events = list(uow.session.scalars(select(Event.name).order_by(Event.created_at.desc())))
    return templates.TemplateResponse(request, "upload.html", {"user": user, "events": events,
                                                                "results": None})


@router.post("/upload")
async def upload(request: Request, ctx: ContextDep, files: list[UploadFile],
                 event: str = Form(...), csrf: str = Form(""), user=roles("office", "dpo")):
    """Plain-form fallback of the upload page (the page's script posts to /api/photos)."""
    check_csrf(request, csrf)
    results = []
    for f in files:
        data = await f.read(ctx.settings.max_upload_bytes + 1)
        result = ingest_bytes(ctx=ctx, data=data, name=f.filename or "upload",
                              event_name=event, actor_id=user.id)
        if result.outcome.value == "accepted":
            request.app.state.tasks["scan_photo"](result.photo_id)
        results.append(result)
    return templates.TemplateResponse(request, "upload.html", {"user": user, "events": [],
                                                                "results": results})


@router.get("/review")
def review_queue(request: Request, ctx: ContextDep, status: str = "awaiting_review",
                 event: int | None = None, page: int = 1, user=roles("editor", "dpo")):
    page = max(1, page)
    with ctx.uow() as uow:
        query = select(Photo)
        count = select(func.count(Photo.id))
        if status:
            query, count = query.where(Photo.status == status), count.where(Photo.status == status)
        if event:
            query, count = query.where(Photo.event_id == event), count.where(Photo.event_id == event)
        total = uow.session.scalar(count)
        photos = [photo_summary(p) for p in uow.session.scalars(
            query.options(selectinload(Photo.event), selectinload(Photo.faces))
            .order_by(Photo.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))]
        events = uow.session.execute(select(Event.id, Event.name).order_by(Event.name)).all()
    return templates.TemplateResponse(request, "queue.html", {
        "user": user, "photos": photos, "status": status, "event": event, "events": events,
        "statuses": [s.value for s in PhotoStatus], "page": page, "total": total,
        "pages": max(1, -(-total // PAGE_SIZE)),
    })


@router.get("/photos/{photo_id}")
def photo_page(request: Request, ctx: ContextDep, photo_id: int, user=roles(*SEE_PHOTOS)):
    with ctx.uow() as uow:
        photo = review.get_photo(uow.session, photo_id)
        detail = photo_detail(uow.session, photo, ctx.today(), ctx.year_start)
        uploader_is_me = photo.uploaded_by_id == user.id
        prev_id = uow.session.scalar(select(func.max(Photo.id)).where(
            Photo.id < photo_id, Photo.status == PhotoStatus.AWAITING_REVIEW.value))
        next_id = uow.session.scalar(select(func.min(Photo.id)).where(
            Photo.id > photo_id, Photo.status == PhotoStatus.AWAITING_REVIEW.value))
        people = uow.session.execute(select(Person.external_id, Person.given_name,
                                            Person.family_name).order_by(Person.family_name)).all()
    verdicts = {}
    for channel, c in detail["channels"].items():
        for fid in c["shown_faces"]:
            verdicts.setdefault(fid, set()).add(channel)
    return templates.TemplateResponse(request, "photo.html", {
        "user": user, "p": detail, "channels": CHANNELS, "uploader_is_me": uploader_is_me,
        "shown_on": verdicts, "prev_id": prev_id, "next_id": next_id, "people": people,
        "names": {ext: f"{given} {family}" for ext, given, family in people},
        "can_review": bool(user.role_set & {"editor", "dpo"}),
    })


@router.get("/photos/{photo_id}/image")
def photo_image(ctx: ContextDep, photo_id: int, size: int = 1600, user=roles(*SEE_PHOTOS)):
    data = review_image(ctx, photo_id, max_side=min(max(size, 64), 1600))
    return Response(data, media_type="image/jpeg", headers=NO_STORE)


@router.get("/photos/{photo_id}/preview/{channel}")
def photo_preview(ctx: ContextDep, photo_id: int, channel: str, user=roles("editor", "dpo")):
    return Response(preview(ctx, photo_id, channel), media_type="image/jpeg", headers=NO_STORE)


@router.post("/photos/{photo_id}/approve")
def approve(request: Request, ctx: ContextDep, photo_id: int, channel: list[str] = Form(...),
            caption: str = Form(""), csrf: str = Form(""), user=roles("editor", "dpo")):
    check_csrf(request, csrf)
    for ch in channel:
        review.approve(ctx=ctx, photo_id=photo_id, channel=ch, user=user, caption=caption)
    from gatekeeper.services.publish import publish_one

    for ch in channel:
        publish_one(ctx=ctx, photo_id=photo_id, channel=ch, on=ctx.today())
    return RedirectResponse(f"/photos/{photo_id}", status_code=303)


@router.post("/photos/{photo_id}/reject")
def reject(request: Request, ctx: ContextDep, photo_id: int, reason: str = Form(...),
           csrf: str = Form(""), user=roles("editor", "dpo")):
    check_csrf(request, csrf)
    review.reject(ctx=ctx, photo_id=photo_id, reason=reason, user=user)
    return RedirectResponse(f"/photos/{photo_id}", status_code=303)


@router.post("/photos/{photo_id}/release")
def release(request: Request, ctx: ContextDep, photo_id: int, csrf: str = Form(""),
            user=roles("dpo")):
    check_csrf(request, csrf)
    review.release(ctx=ctx, photo_id=photo_id, user=user)
    request.app.state.tasks["scan_photo"](photo_id)
    return RedirectResponse(f"/photos/{photo_id}", status_code=303)


@router.post("/faces/{face_id}/identify")
def identify(request: Request, ctx: ContextDep, face_id: int, photo_id: int = Form(...),
             external_id: str = Form(""), csrf: str = Form(""), user=roles("editor", "dpo")):
    check_csrf(request, csrf)
    review.identify_face(ctx=ctx, face_id=face_id, external_id=external_id or None, user=user)
    return RedirectResponse(f"/photos/{photo_id}", status_code=303)


@router.post("/photos/{photo_id}/covers")
def add_cover(request: Request, ctx: ContextDep, photo_id: int, x0: int = Form(...),
              y0: int = Form(...), x1: int = Form(...), y1: int = Form(...),
              csrf: str = Form(""), user=roles("editor", "dpo")):
    check_csrf(request, csrf)
    review.add_cover(ctx=ctx, photo_id=photo_id, box=(x0, y0, x1, y1), user=user)
    return RedirectResponse(f"/photos/{photo_id}", status_code=303)


@router.get("/reports")
def reports(request: Request, ctx: ContextDep, user: CurrentUser):
    """Counts only: a governor sees no photo and no name."""
    with ctx.uow() as uow:
        by_status = dict(uow.session.execute(
            select(Photo.status, func.count(Photo.id)).group_by(Photo.status)).all())
    return templates.TemplateResponse(request, "reports.html", {"user": user,
                                                                 "by_status": by_status})
