"""The covered preview of a video that the editor plays: rendered by a worker, kept in the
private store, served by the web app.

A preview is publishing's own `render_video` for one channel's decision today, at a small size:
what it shows is what publishing would show, and a blocked channel gets none. Rendering a long
video takes minutes, so the web app never does it: asking for a preview that is not stored yet
hands a job to the workers (`ctx.jobs.video_preview`) and answers "preparing"; the job writes
the MP4 into the PRIVATE store (never a public one) under the hash of everything the preview
depends on (the original, its revision, the decision per track, the covers, the cover mode), so
a new decision, cover or revision makes a new preview and an old one is never shown for it.

Beside a preview the store may hold a `.pending` marker (a job was asked for, when; or a worker
is rendering it, last heard of when) and an `.error` note (the job failed: the page says so). A
worker killed mid-render is noticed by its silence: the page's polling asks again once a
rendering marker is DEAD_AFTER old, and a job that finds a live one leaves it to its worker.
Writing a channel's new preview deletes its older ones, and a correction or change of fact
(the video's reconciling) those no decision of today would make (`drop_stale`); every object of
a video goes with it when it is purged, erased or deleted (`forget_after_commit`, through the
outbox). Who may see a preview is `require_image_access`,
as for the review image of a photo.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy.orm import Session

from consent_db.models import Photo, PhotoStatus, utcnow
from gatekeeper.domain.policy import PhotoDecision, decide
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.errors import GatekeeperError, InvalidInput, InvalidState, NotFound
from gatekeeper.services import outbox
from gatekeeper.services.accounts.access import require_image_access
from gatekeeper.services.accounts.users import Actor
from gatekeeper.services.context import Context
from gatekeeper.services.facts import face_facts, person_facts
from gatekeeper.services.records import get_photo, original_key_of

log = logging.getLogger(__name__)
PREVIEW_SIDE = 640  # long side of the preview: quick to render, enough to judge the covers
ASK_AGAIN = timedelta(minutes=15)  # a job asked for and not started by then is asked again
ALIVE_EVERY = 30.0  # seconds: how often a rendering worker renews its marker
DEAD_AFTER = timedelta(minutes=2)  # a render not heard of for this long died with its worker
FAILED = "the covered preview could not be made"


class PreviewState(Enum):
    READY = "ready"
    PREPARING = "preparing"
    FAILED = "failed"


@dataclass(frozen=True)
class Preview:
    """Where a channel's preview of a video stands; `error` says why it failed."""

    photo_id: int
    channel: Channel
    state: PreviewState
    error: str | None = None


def previews_prefix(sha256: str) -> str:
    """Every preview object of the video with this SHA-256 starts so (its outbox prefix)."""
    return f"previews/{sha256[:2]}/{sha256}-"


def _key(sha256: str, channel: Channel, state: str, ext: str) -> str:
    return f"{previews_prefix(sha256)}{channel.value}-{state}.{ext}"


def forget_after_commit(session: Session, photo: Photo) -> None:
    """In the unit of work that purges, erases or deletes a video: its previews (and their
    markers) leave the private store after that commit."""
    if photo.media == "video":
        outbox.delete_prefix_after_commit(session, outbox.PRIVATE, previews_prefix(photo.sha256))


def drop_stale(ctx: Context, session: Session, photo: Photo) -> int:
    """After a correction or a change of fact (the video is reconciled): every preview object
    that no channel's decision today would make leaves the private store (a preview showing
    someone now covered is kept nowhere it is not needed); returns how many went. The current
    ones, and their markers, stay."""
    if photo.media != "video" or photo.original_key is None:
        return 0
    wanted = []
    for channel in Channel:
        try:
            wanted.append(f"{channel.value}-{_target(ctx, session, photo, channel)[0].state}.")
        except GatekeeperError:  # blocked there, or no longer in review: none is wanted
            continue
    prefix = previews_prefix(photo.sha256)
    store = ctx.stores.private
    gone = [key for key in list(store.keys(prefix))
            if not any(key[len(prefix):].startswith(w) for w in wanted)]
    for key in gone:
        store.delete(key)
    return len(gone)


@dataclass(frozen=True)
class _Target:
    sha256: str
    state: str
    original: str


def _target(ctx: Context, session: Session, photo: Photo, channel: Channel
            ) -> tuple[_Target, PhotoDecision]:
    """The preview `photo` needs on `channel` now, or the refusal `_preview` always gave."""
    if photo.media != "video":
        raise InvalidInput(f"photo {photo.id} is a still photo, not a video")
    original = original_key_of(photo)
    if photo.status != PhotoStatus.AWAITING_REVIEW:
        raise InvalidState(f"video {photo.id} is {photo.status}: a preview is made once its "
                           "tracks are found, for a video that may be published")
    decision = decide(face_facts(photo), person_facts(session, photo), channel,
                      ctx.today(), ctx.year_start)
    if decision.blocked:
        raise InvalidState(f"video {photo.id} is blocked on {channel}: nothing would be "
                           "published, so there is no preview")
    state = hashlib.sha256(json.dumps({
        "sha": photo.sha256, "revision": photo.revision, "side": PREVIEW_SIDE,
        "mode": ctx.settings.cover_mode.value,
        "faces": sorted((fid, v.value) for fid, v in decision.faces.items()),
        "covers": [(c.x0, c.y0, c.x1, c.y1, c.start_ms, c.end_ms, c.face_id)
                   for c in sorted(photo.covers, key=lambda c: c.id)],
    }, default=str).encode()).hexdigest()
    return _Target(photo.sha256, state, original), decision


def _seen(ctx: Context, photo_id: int, channel: Channel, viewer: Actor) -> _Target:
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        require_image_access(viewer, photo.uploaded_by_id, unseen=f"no photo {photo_id}")
        return _target(ctx, uow.session, photo, channel)[0]


def _marker(ctx: Context, key: str) -> tuple[str, datetime] | None:
    """The `.pending` marker: ("asked" or "rendering", when), or None (none, or unreadable)."""
    try:
        kind, _, when = ctx.stores.private.get(key).decode().rpartition(" ")
        return kind or "asked", datetime.fromisoformat(when)  # an old marker: a bare time
    except (NotFound, ValueError):
        return None


def _ask(ctx: Context, photo_id: int, channel: Channel, t: _Target) -> None:
    """Hand the rendering to a worker, once: a `.pending` marker keeps the page's polling from
    queueing a job every two seconds; a job a queue lost is asked for again after ASK_AGAIN,
    and one whose worker died while rendering after DEAD_AFTER of silence."""
    marker = _key(t.sha256, channel, t.state, "pending")
    seen = _marker(ctx, marker)
    if seen is not None and utcnow() - seen[1] < (DEAD_AFTER if seen[0] == "rendering"
                                                  else ASK_AGAIN):
        return
    ctx.stores.private.put(marker, f"asked {utcnow().isoformat()}".encode(), "text/plain")
    ctx.jobs.video_preview(photo_id, channel)


class _Alive:
    """A rendering worker's marker, renewed at most every ALIVE_EVERY seconds of its work."""

    def __init__(self, ctx: Context, key: str) -> None:
        self.ctx, self.key, self.last = ctx, key, -ALIVE_EVERY

    def __call__(self) -> None:
        if time.monotonic() - self.last >= ALIVE_EVERY:
            self.last = time.monotonic()
            try:
                self.ctx.stores.private.put(
                    self.key, f"rendering {utcnow().isoformat()}".encode(), "text/plain")
            except Exception as exc:  # a store's hiccup must not fail the render it reports on
                log.warning("video preview marker not renewed: %s", type(exc).__name__)


def _stand(ctx: Context, photo_id: int, channel: Channel, t: _Target) -> Preview:
    store = ctx.stores.private
    if store.exists(_key(t.sha256, channel, t.state, "mp4")):
        return Preview(photo_id, channel, PreviewState.READY)
    try:
        error = store.get(_key(t.sha256, channel, t.state, "error")).decode()
    except NotFound:
        _ask(ctx, photo_id, channel, t)
        return Preview(photo_id, channel, PreviewState.PREPARING)
    return Preview(photo_id, channel, PreviewState.FAILED, error)


def preview_status(*, ctx: Context, photo_id: int, channel: Channel, viewer: Actor) -> Preview:
    """Whether the preview of the video's decision on `channel` today is ready, being prepared
    (a job is asked for, never rendered here) or failed, and why."""
    return _stand(ctx, photo_id, channel, _seen(ctx, photo_id, channel, viewer))


def video_preview(*, ctx: Context, photo_id: int, channel: Channel, viewer: Actor) -> bytes:
    """The stored preview MP4, or NotFound while it is being prepared (or failed)."""
    return ctx.stores.private.get(preview_key(ctx=ctx, photo_id=photo_id, channel=channel,
                                              viewer=viewer))


def preview_key(*, ctx: Context, photo_id: int, channel: Channel, viewer: Actor) -> str:
    """Where the stored preview MP4 is in the private store (the page reads it in byte
    ranges), or NotFound while it is being prepared (or failed)."""
    t = _seen(ctx, photo_id, channel, viewer)
    key = _key(t.sha256, channel, t.state, "mp4")
    if ctx.stores.private.exists(key):
        return key
    stand = _stand(ctx, photo_id, channel, t)
    if stand.state is PreviewState.FAILED:
        raise NotFound(f"{FAILED} for video {photo_id} on {channel}: {stand.error}")
    raise NotFound(f"the covered preview of video {photo_id} on {channel} is being prepared: "
                   "the video page shows it when it is ready")


def retry_preview(*, ctx: Context, photo_id: int, channel: Channel, viewer: Actor) -> Preview:
    """After a failure: forget it and ask a worker again (whoever may see the preview)."""
    t = _seen(ctx, photo_id, channel, viewer)
    ctx.stores.private.delete(_key(t.sha256, channel, t.state, "error"))
    ctx.stores.private.delete(_key(t.sha256, channel, t.state, "pending"))
    return _stand(ctx, photo_id, channel, t)


def _small(ctx: Context) -> Context:
    """The same context with every channel's long side at most PREVIEW_SIDE (a shallow copy:
    the engine and stores are shared, only the settings differ)."""
    s = ctx.settings
    small = copy.copy(ctx)
    small.settings = s.model_copy(update={
        "publish_max_side": min(s.publish_max_side or PREVIEW_SIDE, PREVIEW_SIDE),
        "publish_max_side_other": min(s.publish_max_side_other or PREVIEW_SIDE, PREVIEW_SIDE)})
    return small


def render_preview(*, ctx: Context, photo_id: int, channel: Channel) -> str:
    """The worker's job: render the preview the video needs now on `channel` and store it;
    a failure is written beside it for the page. Idempotent: a stored preview is kept."""
    from gatekeeper.services.video.publish import render_video  # deferred: PyAV

    store = ctx.stores.private
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        try:
            t, decision = _target(ctx, uow.session, photo, channel)
        except GatekeeperError as exc:  # changed since it was asked for: nothing to render
            return f"not rendered: {exc}"
        key = _key(t.sha256, channel, t.state, "mp4")
        if store.exists(key):
            return "ready"
        marker = _key(t.sha256, channel, t.state, "pending")
        seen = _marker(ctx, marker)
        if seen is not None and seen[0] == "rendering" and utcnow() - seen[1] < DEAD_AFTER:
            return "rendering elsewhere"  # asked twice: the live worker finishes it
        alive = _Alive(ctx, marker)
        alive()
        outbox.write_guard(ctx, outbox.PRIVATE, key)  # gone within the hour if we die below
        try:
            data = render_video(ctx=_small(ctx), photo=photo, decision=decision,
                                data=store.get(t.original), channel=channel, beat=alive)
        except Exception as exc:
            log.warning("video preview %s on %s failed: %s", photo_id, channel.value,
                        type(exc).__name__)
            why = str(exc) if isinstance(exc, GatekeeperError) else type(exc).__name__
            store.put(_key(t.sha256, channel, t.state, "error"), why.encode(), "text/plain")
            return "failed"
    store.put(key, data, "video/mp4")
    return _keep(ctx, photo_id, channel, t, key)


def _keep(ctx: Context, photo_id: int, channel: Channel, t: _Target, key: str) -> str:
    """After writing: keep the preview only if the video still needs it (a purge or erasure
    that committed meanwhile deletes it after its commit, or here), and drop the channel's
    older previews and markers."""
    store = ctx.stores.private
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        try:
            now = _target(ctx, uow.session, photo, channel)[0] if photo else None
        except GatekeeperError:
            now = None
        if now != t:
            store.delete(key)
            return "stale"
        outbox.claim(uow.session, outbox.PRIVATE, key)
        uow.commit()
    mine = f"{previews_prefix(t.sha256)}{channel.value}-"
    for old in list(store.keys(mine)):
        if old != key:
            store.delete(old)
    return "ready"
