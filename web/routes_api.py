"""The JSON API under /api: the same services and role checks as the pages."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import select

from consent_db.models import Photo
from gatekeeper.services import review
from gatekeeper.services.ingest import ingest_bytes
from gatekeeper.services.views import photo_detail, photo_summary

from .deps import ContextDep, roles
from .security import check_csrf

router = APIRouter(prefix="/api")
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/photos")
def list_photos(ctx: ContextDep, status: str | None = None, user=roles("editor", "dpo")):
    with ctx.uow() as uow:
        q = select(Photo).order_by(Photo.id)
        if status:
            q = q.where(Photo.status == status)
        return [photo_summary(p) for p in uow.session.scalars(q)]


@router.get("/photos/{photo_id}")
def get_photo(ctx: ContextDep, photo_id: int, user=roles("office", "editor", "dpo")):
    with ctx.uow() as uow:
        return photo_detail(uow.session, review.get_photo(uow.session, photo_id), ctx.today(),
                            ctx.year_start)


@router.get("/photos/{photo_id}/image")
def get_photo_image(ctx: ContextDep, photo_id: int, user=roles("office", "editor", "dpo")):
    from .rendering import review_image

    return Response(review_image(ctx, photo_id), media_type="image/jpeg", headers=NO_STORE)


@router.post("/photos")
async def upload_photo(request: Request, ctx: ContextDep, file: UploadFile,
                       event: str = Form(...), csrf: str = Form(""),
                       user=roles("office", "dpo")):
    """One file per request, so the page can show a progress bar per file."""
    check_csrf(request, csrf or request.headers.get("x-csrf-token"))
    data = await file.read(ctx.settings.max_upload_bytes + 1)
    r = ingest_bytes(ctx=ctx, data=data, name=file.filename or "upload", event_name=event,
                     actor_id=user.id)
    if r.outcome.value == "accepted":
        request.app.state.tasks["scan_photo"](r.photo_id)  # the minute sweep is the safety net
    return {"name": r.name, "outcome": r.outcome.value, "photo_id": r.photo_id,
            "reason": r.reason}


@router.post("/photos/{photo_id}/approve")
def approve_photo(request: Request, ctx: ContextDep, photo_id: int, channel: str = Form(...),
                  caption: str = Form(""), csrf: str = Form(""), user=roles("editor", "dpo")):
    check_csrf(request, csrf or request.headers.get("x-csrf-token"))
    a = review.approve(ctx=ctx, photo_id=photo_id, channel=channel, user=user, caption=caption)
    return {"photo_id": a.photo_id, "channel": a.channel}
