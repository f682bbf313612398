"""Server-rendered pages for the office, the editor and the DPO: parse, call one service, render."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response

from gatekeeper.domain.vocabulary import Channel, Role
from gatekeeper.errors import InvalidInput
from gatekeeper.services.accounts.users import Actor
from gatekeeper.services.context import Context
from gatekeeper.services.governors import dashboard as governors
from gatekeeper.services.governors.charts import CHARTS
from gatekeeper.services.governors.reports import chart_svg, governors_pdf
from gatekeeper.services.photos import read as photo_read
from gatekeeper.services.photos import review
from gatekeeper.services.photos.ingest import ingest_bytes
from gatekeeper.services.photos.pictures import review_image
from gatekeeper.services.photos.publish import preview
from gatekeeper.services.video import previews
from gatekeeper.services.video import review as video_review
from web.deps import ContextDep, CurrentUser, roles
from web.forms import RecordId, channels_from, span_from
from web.offload import offload
from web.ranges import ranged
from web.security import check_csrf
from web.templating import HERE, templates

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
REVIEWERS = (Role.EDITOR, Role.DPO)
UPLOADERS = (Role.OFFICE, Role.DPO)
SEE_PHOTOS = (Role.OFFICE, Role.EDITOR, Role.DPO)  # which photo and field: services/access.py


@router.get("/")
def home(user: CurrentUser) -> Response:
    if user.has(*REVIEWERS):
        return RedirectResponse("/review", status_code=303)
    if user.has(Role.OFFICE):
        return RedirectResponse("/upload", status_code=303)
    return RedirectResponse("/reports", status_code=303)


@router.get("/upload")
def upload_page(request: Request, ctx: ContextDep, user: Actor = roles(*UPLOADERS)) -> Response:
    return templates.TemplateResponse(request, "upload.html", {
        "user": user, "events": photo_read.event_names(ctx=ctx), "results": None,
        "limits": _limits(ctx)})


def _limits(ctx: Context) -> dict[str, float]:
    """What the upload page tells before anyone uploads: the size and video length limits."""
    s = ctx.settings
    return {"mb": s.max_upload_bytes / 1e6, "minutes": s.video_max_seconds / 60}


@router.post("/upload")
async def upload(request: Request, ctx: ContextDep, files: list[UploadFile] | None = None,
                 event: str = Form(""), csrf: str = Form(""), user: Actor = roles(*UPLOADERS)) -> Response:
    """Plain-form fallback of the upload page (the page's script posts to /api/photos)."""
    check_csrf(request, csrf)
    files = [f for f in files or [] if f.filename]
    if not files:
        raise InvalidInput("choose at least one photo to upload")
    results = []
    for f in files:
        data = await f.read(ctx.settings.max_upload_bytes + 1)  # ingest refuses what is over
        results.append(await offload(ingest_bytes, ctx=ctx, data=data,
                                     name=f.filename or "upload", event_name=event,
                                     actor_id=user.id))
    return templates.TemplateResponse(request, "upload.html", {
        "user": user, "events": photo_read.event_names(ctx=ctx), "results": results,
        "limits": _limits(ctx)})


@router.get("/uploads")
def my_uploads(request: Request, ctx: ContextDep, page: int = 1,
               user: Actor = roles(*UPLOADERS)) -> Response:
    """The signed-in user's own uploads and the stage of each: no faces, no names."""
    q = photo_read.my_uploads(ctx=ctx, viewer=user, page=page)
    return templates.TemplateResponse(request, "uploads.html", {
        "user": user, "rows": q.rows, "counts": q.counts, "total": q.total, "page": q.page,
        "pages": q.pages}, headers=NO_STORE)


@router.get("/review")
def review_queue(request: Request, ctx: ContextDep, status: str = "awaiting_review",
                 event: str = "", page: int = 1, deleted: int | None = None,
                 user: Actor = roles(*REVIEWERS)) -> Response:
    event_id = int(event) if event.strip().isdigit() else None  # "any" sends an empty value
    status = status.strip().lower().replace(" ", "_").replace("-", "_")
    unknown = status if status and status not in photo_read.STATUSES else ""
    if unknown:  # a typed or stale address: say so and show every stage
        status = ""
    q = photo_read.review_queue(ctx=ctx, status=status or None, event=event_id, page=page)
    return templates.TemplateResponse(request, "queue.html", {
        "user": user, "photos": q.photos, "status": status, "event": event_id,
        "events": q.events, "statuses": photo_read.STATUSES, "stage_labels": photo_read.STAGE_LABELS,
        "page": q.page, "total": q.total, "pages": q.pages, "deleted": deleted,
        "unknown_status": unknown[:60],
    })


@router.get("/live")
def live_now(request: Request, ctx: ContextDep, channel: str = "",
             user: Actor = roles(*REVIEWERS)) -> Response:
    chosen = channel if channel in {c.value for c in Channel} else ""
    return templates.TemplateResponse(request, "live.html", {
        "user": user, "copies": photo_read.live_now(ctx=ctx, channel=chosen or None),
        "channel": chosen, "channels": [c.value for c in Channel]})


@router.get("/photos/{photo_id}")
def photo_page(request: Request, ctx: ContextDep, photo_id: RecordId, approved: int | None = None,
               preview: str = "", user: Actor = roles(*SEE_PHOTOS)) -> Response:
    """A photo or a video (its tracks, and a covered preview of `preview`'s channel)."""
    page = photo_read.photo_page(ctx=ctx, photo_id=photo_id, viewer=user)
    playable = [ch for ch, c in page.detail.get("channels", {}).items()
                if c["decision"] == "publishable"]
    chosen = preview if preview in playable else "online" if "online" in playable else (
        playable[0] if playable else None)
    pv = (previews.preview_status(ctx=ctx, photo_id=photo_id, channel=Channel(chosen),
                                  viewer=user)
          if chosen and page.detail.get("media") == "video" and user.has(*REVIEWERS)
          and page.detail.get("status") == "awaiting_review" else None)
    shown_on: dict[int, set[str]] = {}
    for channel, c in page.detail.get("channels", {}).items():
        for fid in c["shown_faces"]:
            shown_on.setdefault(fid, set()).add(channel)
    return templates.TemplateResponse(request, "photo.html", {
        "user": user, "p": page.detail, "channels": [c.value for c in Channel],
        "uploader_is_me": page.uploader_is_me, "shown_on": shown_on, "prev_id": page.prev_id,
        "next_id": page.next_id, "names": page.names, "can_review": user.has(*REVIEWERS),
        "approved": approved, "playable": playable, "chosen": chosen, "pv": pv,
    }, headers=NO_STORE)


@router.get("/photos/{photo_id}/image")
def photo_image(ctx: ContextDep, photo_id: RecordId, size: int = 1600,
                user: Actor = roles(*REVIEWERS)) -> Response:
    data = review_image(ctx=ctx, photo_id=photo_id, viewer=user,
                        max_side=min(max(size, 64), 1600))
    return Response(data, media_type="image/jpeg", headers=NO_STORE)


@router.get("/photos/{photo_id}/preview/{channel}")
def photo_preview(ctx: ContextDep, photo_id: RecordId, channel: Channel,
                  user: Actor = roles(*REVIEWERS)) -> Response:
    if photo_read.media_of(ctx=ctx, photo_id=photo_id) == "video":
        # rendered by a worker, never in a web request (minutes for a long video)
        return RedirectResponse(f"/photos/{photo_id}/video/{channel.value}", status_code=303)
    data = preview(ctx=ctx, photo_id=photo_id, channel=channel)
    return Response(data, media_type=_media_type(data), headers=NO_STORE)


def _media_type(data: bytes) -> str:
    """What publishing wrote, told by its content: an MP4 (a video), a PNG or a JPEG."""
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"


@router.post("/photos/{photo_id}/approve")
def approve(request: Request, ctx: ContextDep, photo_id: RecordId,
            channel: list[str] | None = Form(None), caption: str = Form(""),
            csrf: str = Form(""), user: Actor = roles(*REVIEWERS)) -> Response:
    check_csrf(request, csrf)
    review.approve(ctx=ctx, photo_id=photo_id, channels=channels_from(channel), user=user,
                   caption=caption)
    return RedirectResponse(f"/photos/{photo_id}/next", status_code=303)


@router.get("/photos/{photo_id}/next")
def next_photo(ctx: ContextDep, photo_id: RecordId, user: Actor = roles(*REVIEWERS)) -> Response:
    """After a decision: the next photo awaiting review, saying what happened to this one."""
    after = photo_read.next_to_review(ctx=ctx, after=photo_id)
    target = f"/photos/{after}?approved={photo_id}" if after else f"/photos/{photo_id}"
    return RedirectResponse(target, status_code=303)


@router.post("/photos/{photo_id}/reject")
def reject(request: Request, ctx: ContextDep, photo_id: RecordId, reason: str = Form(""),
           csrf: str = Form(""), user: Actor = roles(*REVIEWERS)) -> Response:
    check_csrf(request, csrf)
    review.reject(ctx=ctx, photo_id=photo_id, reason=reason, user=user)
    return RedirectResponse(f"/photos/{photo_id}", status_code=303)


@router.post("/photos/{photo_id}/release")
def release(request: Request, ctx: ContextDep, photo_id: RecordId, csrf: str = Form(""),
            user: Actor = roles(Role.DPO)) -> Response:
    check_csrf(request, csrf)
    review.release(ctx=ctx, photo_id=photo_id, user=user)
    return RedirectResponse(f"/photos/{photo_id}", status_code=303)


@router.post("/photos/{photo_id}/delete")
def delete_held(request: Request, ctx: ContextDep, photo_id: RecordId, reason: str = Form(""),
                confirm: str = Form(""), csrf: str = Form(""),
                user: Actor = roles(Role.DPO)) -> Response:
    """Deleting a held photo needs the confirmation box ticked (its original goes for good)."""
    check_csrf(request, csrf)
    if confirm != "yes":
        raise InvalidInput("tick the box to confirm that the photo is to be deleted",
                           field="confirm")
    review.delete_held(ctx=ctx, photo_id=photo_id, reason=reason, user=user)
    return RedirectResponse(f"/review?status=held&deleted={photo_id}", status_code=303)


@router.post("/faces/{face_id}/identify")
def identify(request: Request, ctx: ContextDep, face_id: RecordId, photo_id: int = Form(...),
             external_id: str = Form(""), csrf: str = Form(""),
             user: Actor = roles(*REVIEWERS)) -> Response:
    check_csrf(request, csrf)
    review.identify_face(ctx=ctx, face_id=face_id, external_id=external_id.strip() or None,
                         user=user)
    return RedirectResponse(f"/photos/{photo_id}", status_code=303)


@router.post("/photos/{photo_id}/covers")
def add_cover(request: Request, ctx: ContextDep, photo_id: RecordId, x0: int = Form(...),
              y0: int = Form(...), x1: int = Form(...), y1: int = Form(...),
              start_s: str = Form(""), end_s: str = Form(""),
              csrf: str = Form(""), user: Actor = roles(*REVIEWERS)) -> Response:
    """A rectangle to cover; on a video, from `start_s` to `end_s` only when both are given."""
    check_csrf(request, csrf)
    review.add_cover(ctx=ctx, photo_id=photo_id, box=(x0, y0, x1, y1), user=user,
                     span=span_from(start_s, end_s))
    return RedirectResponse(f"/photos/{photo_id}#covers", status_code=303)


@router.post("/faces/{face_id}/cover")
def cover_track(request: Request, ctx: ContextDep, face_id: RecordId, photo_id: int = Form(...),
                csrf: str = Form(""), user: Actor = roles(*REVIEWERS)) -> Response:
    """Cover a face (in a video: its whole track) whoever it is."""
    check_csrf(request, csrf)
    review.cover_track(ctx=ctx, face_id=face_id, user=user)
    return RedirectResponse(f"/photos/{photo_id}#face-{face_id}", status_code=303)


@router.get("/faces/{face_id}/thumbnail")
async def track_thumbnail(ctx: ContextDep, face_id: RecordId,
                          user: Actor = roles(*REVIEWERS)) -> Response:
    """A track's head on its best frame (editors and the DPO, as the review image)."""
    data = await offload(video_review.track_thumbnail, ctx=ctx, face_id=face_id, viewer=user)
    return Response(data, media_type="image/jpeg", headers=NO_STORE)


@router.get("/photos/{photo_id}/video/{channel}")
async def video_preview(request: Request, ctx: ContextDep, photo_id: RecordId, channel: Channel,
                        user: Actor = roles(*REVIEWERS)) -> Response:
    """The covered preview of a video on a channel: what publishing would write, smaller (in
    byte ranges when the player asks, so it can seek). A worker renders it: 404 until then."""
    key = await offload(previews.preview_key, ctx=ctx, photo_id=photo_id, channel=channel,
                        viewer=user)
    return await offload(ranged, request, ctx.stores.private, key, "video/mp4", NO_STORE)


@router.get("/photos/{photo_id}/video/{channel}/player")
def video_player(request: Request, ctx: ContextDep, photo_id: RecordId, channel: Channel,
                 user: Actor = roles(*REVIEWERS)) -> Response:
    """The preview's place on the video page: the player once the preview is ready, else
    "Preparing" (the page asks again every 2 s) or why it failed."""
    pv = previews.preview_status(ctx=ctx, photo_id=photo_id, channel=channel, viewer=user)
    return templates.TemplateResponse(request, "_video_player.html", {
        "user": user, "pv": pv}, headers=NO_STORE)


@router.post("/photos/{photo_id}/video/{channel}/retry")
def retry_video_preview(request: Request, ctx: ContextDep, photo_id: RecordId, channel: Channel,
                        csrf: str = Form(""), user: Actor = roles(*REVIEWERS)) -> Response:
    """Ask a worker again for a preview that failed."""
    check_csrf(request, csrf)
    previews.retry_preview(ctx=ctx, photo_id=photo_id, channel=channel, viewer=user)
    return RedirectResponse(f"/photos/{photo_id}?preview={channel.value}#preview",
                            status_code=303)


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """Browsers ask every page for it: the shield of the page header."""
    return FileResponse(HERE / "static" / "favicon.ico", media_type="image/x-icon",
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/help")
def help_page(request: Request, user: CurrentUser) -> Response:
    """Stages, held photos, CSV formats and who may see what, in the app."""
    return templates.TemplateResponse(request, "help.html", {"user": user})


@router.post("/photos/{photo_id}/covers/{cover_id}/remove")
def remove_cover(request: Request, ctx: ContextDep, photo_id: RecordId, cover_id: RecordId,
                 csrf: str = Form(""), user: Actor = roles(*REVIEWERS)) -> Response:
    check_csrf(request, csrf)
    review.remove_cover(ctx=ctx, photo_id=photo_id, cover_id=cover_id, user=user)
    return RedirectResponse(f"/photos/{photo_id}", status_code=303)


@router.get("/reports")
def reports(request: Request, ctx: ContextDep, user: CurrentUser) -> Response:
    """The governors' dashboard: aggregates only, never a photo, a name or a person's id."""
    return templates.TemplateResponse(request, "reports.html", {
        "user": user, "board": governors.dashboard(ctx=ctx), "charts": list(CHARTS)})


@router.get("/reports/charts/{name}.svg")
def report_chart(ctx: ContextDep, name: str, user: CurrentUser) -> Response:
    return Response(chart_svg(ctx=ctx, name=name), media_type="image/svg+xml")


@router.get("/reports/governors.pdf")
async def report_pdf(ctx: ContextDep, user: CurrentUser) -> Response:
    """The same report as a PDF for a governors' meeting (aggregates only: every role)."""
    return Response(await offload(governors_pdf, ctx=ctx), media_type="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="governors-report.pdf"'})


@router.get("/reports/governors.csv")
def report_csv(ctx: ContextDep, user: CurrentUser) -> Response:
    return Response(governors.dashboard_csv(governors.dashboard(ctx=ctx)), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="governors.csv"'})
