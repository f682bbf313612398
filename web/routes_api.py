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


@router.post("/photos/{photo_id}/reject")
def reject_photo(request: Request, ctx: ContextDep, photo_id: int, reason: str = Form(...),
                 csrf: str = Form(""), user=roles("editor", "dpo")):
    check_csrf(request, csrf or request.headers.get("x-csrf-token"))
    review.reject(ctx=ctx, photo_id=photo_id, reason=reason, user=user)
    return {"photo_id": photo_id, "status": "rejected"}


@router.post("/photos/{photo_id}/release")
def release_photo(request: Request, ctx: ContextDep, photo_id: int, csrf: str = Form(""),
                  user=roles("dpo")):
    check_csrf(request, csrf or request.headers.get("x-csrf-token"))
    review.release(ctx=ctx, photo_id=photo_id, user=user)
    request.app.state.tasks["scan_photo"](photo_id)
    return {"photo_id": photo_id, "status": "received"}


@router.post("/faces/{face_id}/identify")
def identify_face(request: Request, ctx: ContextDep, face_id: int, external_id: str = Form(""),
                  csrf: str = Form(""), user=roles("editor", "dpo")):
    check_csrf(request, csrf or request.headers.get("x-csrf-token"))
    review.identify_face(ctx=ctx, face_id=face_id, external_id=external_id or None, user=user)
    return {"face_id": face_id, "person": external_id or None}


@router.post("/photos/{photo_id}/covers")
def add_cover(request: Request, ctx: ContextDep, photo_id: int, x0: int = Form(...),
              y0: int = Form(...), x1: int = Form(...), y1: int = Form(...), csrf: str = Form(""),
              user=roles("editor", "dpo")):
    check_csrf(request, csrf or request.headers.get("x-csrf-token"))
    c = review.add_cover(ctx=ctx, photo_id=photo_id, box=(x0, y0, x1, y1), user=user)
    return {"photo_id": photo_id, "cover": [c.x0, c.y0, c.x1, c.y1]}


@router.get("/people")
def list_people(ctx: ContextDep, q: str = "", user=roles("dpo")):
    from sqlalchemy import or_

    from consent_db.models import Person

    with ctx.uow() as uow:
        query = select(Person).order_by(Person.external_id).limit(500)
        if q:
            like = f"%{q}%"
            query = query.where(or_(Person.given_name.ilike(like), Person.family_name.ilike(like),
                                    Person.external_id.ilike(like)))
        return [{"external_id": p.external_id, "given_name": p.given_name,
                 "family_name": p.family_name, "kind": p.kind, "left_on": p.left_on,
                 "biometric_consent": p.biometric_consent,
                 "safeguarding_no_photo": p.safeguarding_no_photo}
                for p in uow.session.scalars(query)]


@router.get("/audit")
def list_audit(ctx: ContextDep, entity: str = "", entity_id: int | None = None,
               user=roles("dpo")):
    from consent_db.models import AuditEvent

    with ctx.uow() as uow:
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(500)
        if entity:
            query = query.where(AuditEvent.entity == entity)
        if entity_id is not None:
            query = query.where(AuditEvent.entity_id == entity_id)
        return [{"id": e.id, "at": e.at.isoformat(), "actor_id": e.actor_id, "action": e.action,
                 "entity": e.entity, "entity_id": e.entity_id, "details": e.details}
                for e in uow.session.scalars(query)]
