"""The JSON API under /api: the same services and role checks as the pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response

from gatekeeper.domain.vocabulary import Role
from gatekeeper.errors import InvalidInput
from gatekeeper.services.accounts.users import Actor
from gatekeeper.services.consent import read as people_read
from gatekeeper.services.dpo import read as dpo_read
from gatekeeper.services.photos import read as photo_read
from gatekeeper.services.photos import review
from gatekeeper.services.photos.ingest import ingest_bytes
from gatekeeper.services.photos.pictures import review_image
from web.deps import ContextDep, roles
from web.forms import RecordId, channels_from, span_from
from web.offload import offload
from web.security import check_csrf
from web.templating import templates

router = APIRouter(prefix="/api")
NO_STORE = {"Cache-Control": "no-store"}
REVIEWERS = (Role.EDITOR, Role.DPO)


def _csrf(request: Request, csrf: str) -> None:
    check_csrf(request, csrf or request.headers.get("x-csrf-token"))


@router.get("/photos")
def list_photos(ctx: ContextDep, status: str | None = None,
                user: Actor = roles(*REVIEWERS)) -> list[dict[str, Any]]:
    return photo_read.list_photos(ctx=ctx, status=status)


@router.get("/photos/{photo_id}")
def get_photo(ctx: ContextDep, photo_id: RecordId,
              user: Actor = roles(Role.OFFICE, *REVIEWERS)) -> dict[str, Any]:
    return photo_read.photo_detail(ctx=ctx, photo_id=photo_id, viewer=user)


@router.get("/photos/{photo_id}/image")
def get_photo_image(ctx: ContextDep, photo_id: RecordId, user: Actor = roles(*REVIEWERS)) -> Response:
    return Response(review_image(ctx=ctx, photo_id=photo_id, viewer=user),
                    media_type="image/jpeg", headers=NO_STORE)


@router.post("/photos")
async def upload_photo(request: Request, ctx: ContextDep, file: UploadFile | None = None,
                       event: str = Form(""), csrf: str = Form(""),
                       user: Actor = roles(Role.OFFICE, Role.DPO)) -> dict[str, Any]:
    """One file per request, so the page can show a progress bar per file."""
    _csrf(request, csrf)
    if file is None:
        raise InvalidInput("send one photo in the field 'file'")
    data = await file.read(ctx.settings.max_upload_bytes + 1)  # ingest refuses what is over
    r = await offload(ingest_bytes, ctx=ctx, data=data, name=file.filename or "upload",
                      event_name=event, actor_id=user.id)
    return {"name": r.name, "outcome": r.outcome.value, "photo_id": r.photo_id,
            "reason": r.reason}


@router.post("/photos/{photo_id}/approve")
def approve_photo(request: Request, ctx: ContextDep, photo_id: RecordId,
                  channel: list[str] | None = Form(None), caption: str = Form(""),
                  csrf: str = Form(""), user: Actor = roles(*REVIEWERS)) -> dict[str, Any]:
    _csrf(request, csrf)
    done = review.approve(ctx=ctx, photo_id=photo_id, channels=channels_from(channel),
                          user=user, caption=caption)
    return {"photo_id": done.photo_id, "channels": [c.value for c in done.channels],
            "publishing": True}


@router.post("/photos/{photo_id}/reject")
def reject_photo(request: Request, ctx: ContextDep, photo_id: RecordId, reason: str = Form(""),
                 csrf: str = Form(""), user: Actor = roles(*REVIEWERS)) -> dict[str, Any]:
    _csrf(request, csrf)
    review.reject(ctx=ctx, photo_id=photo_id, reason=reason, user=user)
    return {"photo_id": photo_id, "status": "rejected"}


@router.post("/photos/{photo_id}/release")
def release_photo(request: Request, ctx: ContextDep, photo_id: RecordId, csrf: str = Form(""),
                  user: Actor = roles(Role.DPO)) -> dict[str, Any]:
    _csrf(request, csrf)
    review.release(ctx=ctx, photo_id=photo_id, user=user)
    return {"photo_id": photo_id, "status": "received"}


@router.post("/faces/{face_id}/identify")
def identify_face(request: Request, ctx: ContextDep, face_id: RecordId, external_id: str = Form(""),
                  csrf: str = Form(""), user: Actor = roles(*REVIEWERS)) -> dict[str, Any]:
    _csrf(request, csrf)
    review.identify_face(ctx=ctx, face_id=face_id, external_id=external_id.strip() or None,
                         user=user)
    return {"face_id": face_id, "person": external_id.strip() or None}


@router.post("/photos/{photo_id}/covers")
def add_cover(request: Request, ctx: ContextDep, photo_id: RecordId, x0: int = Form(...),
              y0: int = Form(...), x1: int = Form(...), y1: int = Form(...), csrf: str = Form(""),
              start_s: str = Form(""), end_s: str = Form(""),
              user: Actor = roles(*REVIEWERS)) -> dict[str, Any]:
    _csrf(request, csrf)
    span = span_from(start_s, end_s)
    box = review.add_cover(ctx=ctx, photo_id=photo_id, box=(x0, y0, x1, y1), user=user,
                           span=span)
    return {"photo_id": photo_id, "cover": list(box),
            **({"start_s": span[0], "end_s": span[1]} if span else {})}


@router.post("/faces/{face_id}/cover")
def cover_track(request: Request, ctx: ContextDep, face_id: RecordId, csrf: str = Form(""),
                user: Actor = roles(*REVIEWERS)) -> dict[str, Any]:
    """Cover a face whoever it is; in a video, its whole track."""
    _csrf(request, csrf)
    box = review.cover_track(ctx=ctx, face_id=face_id, user=user)
    return {"face_id": face_id, "cover": list(box)}


@router.get("/people/search")
def people_search(ctx: ContextDep, q: str = "", user: Actor = roles(*REVIEWERS)) -> list[dict[str, str]]:
    """For the editor's identify box: a few matches, only what naming a face needs."""
    return photo_read.identify_candidates(ctx=ctx, q=q, viewer=user)


@router.get("/people")
def list_people(ctx: ContextDep, q: str = "", page: int = 1,
                user: Actor = roles(Role.DPO)) -> dict[str, Any]:
    rows, total = people_read.search_people(ctx=ctx, q=q, limit=500, offset=(max(page, 1) - 1) * 500)
    return {"total": total, "page": max(page, 1), "people": [r.as_dict() for r in rows]}


@router.get("/audit")
def list_audit(ctx: ContextDep, entity: str = "", entity_id: int | None = None,
               before: int | None = None, user: Actor = roles(Role.DPO)) -> dict[str, Any]:
    page = dpo_read.audit_events(ctx=ctx, entity=entity, entity_id=entity_id, before=before,
                                limit=500)
    return {"events": page.events, "older": page.older}


@router.get("/openapi.json", include_in_schema=False)
def openapi_schema(request: Request, user: Actor = roles(Role.DPO)) -> dict[str, Any]:
    """The API's OpenAPI description, for the DPO (and the integrations they set up)."""
    schema: dict[str, Any] = request.app.openapi()
    return schema


@router.get("/docs", include_in_schema=False)
def api_docs(request: Request, user: Actor = roles(Role.DPO)) -> Response:
    """The API reference as a plain page: no script, nothing loaded from elsewhere."""
    schema = request.app.openapi()
    operations = [
        {"method": method.upper(), "path": path, "summary": op.get("summary", ""),
         "doc": (op.get("description") or "").strip(),
         "params": [p["name"] for p in op.get("parameters", [])]}
        for path, item in sorted(schema.get("paths", {}).items())
        for method, op in item.items()
    ]
    return templates.TemplateResponse(request, "api_docs.html",
                                      {"user": user, "operations": operations})
