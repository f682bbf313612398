"""Huey tasks: thin, idempotent, take ids, call one service each. The database is the source of
truth, so a lost message costs nothing: the minute sweep finds the work again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from huey import Huey, RedisHuey, SqliteHuey, crontab

from gatekeeper.adapters.filemodes import secure_database_file
from gatekeeper.config import Settings
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.errors import GatekeeperError
from gatekeeper.services import auditing, outbox
from gatekeeper.services.consent import people
from gatekeeper.services.consent.enrol import add_confirmed_template, enrol_staged
from gatekeeper.services.context import Context
from gatekeeper.services.dpo import backup, purge
from gatekeeper.services.photos import live, publish, reconcile, scan
from gatekeeper.services.portal import invitations
from gatekeeper.services.video import previews

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")
# What a task is given: ids and names only (never images, encodings or personal data), so a
# message in the queue tells nothing, and the task reads the rest from the database.
PhotoId = int
FaceId = int
UserId = int
ChannelName = str  # a Channel's value
ExternalId = str  # a person's UPN or staff code
StoredKey = str  # a staged reference photo's key in the private store
# Calling a task enqueues it (huey returns its Result handle, or runs it at once when immediate).
Enqueued = object


@dataclass
class GatekeeperTasks:
    """The registered tasks, so callers enqueue by attribute, not by string."""

    scan_photo: Callable[[PhotoId], Enqueued]
    publish_photo: Callable[[PhotoId, ChannelName], Enqueued]
    enrol_reference: Callable[[ExternalId, StoredKey, UserId | None], Enqueued]
    confirmed_template: Callable[[FaceId, UserId | None], Enqueued]
    sweep: Callable[[], Enqueued]
    daily: Callable[[], Enqueued]
    reconcile_photos: Callable[[list[PhotoId]], Enqueued]
    video_preview: Callable[[PhotoId, ChannelName], Enqueued]


def _task(huey: Huey, **options: object) -> Callable[[Callable[P, R]], Callable[P, Enqueued]]:
    """`huey.task(**options)`, typed: huey has no type hints, and without this every task would
    take anything. The task keeps its parameters' types; calling it enqueues."""
    decorate: Callable[[Callable[P, R]], Callable[P, Enqueued]] = huey.task(**options)
    return decorate


def _periodic(huey: Huey, schedule: Callable[..., bool], name: str) -> Callable[
        [Callable[[], R]], Callable[[], Enqueued]]:
    """`huey.periodic_task(schedule, name=name)`, typed like `_task`."""
    decorate: Callable[[Callable[[], R]], Callable[[], Enqueued]] = huey.periodic_task(
        schedule, name=name)
    return decorate


class WorkerResources:
    """The per-process Context: built by huey's on_startup in each worker process, or given
    (tests, immediate mode)."""

    def __init__(self, settings: Settings, ctx: Context | None = None) -> None:
        self.settings = settings
        self._ctx = ctx

    def start(self) -> None:
        if self._ctx is None:
            self._ctx = Context(self.settings)

    @property
    def ctx(self) -> Context:
        self.start()
        assert self._ctx is not None
        return self._ctx


def make_huey(settings: Settings, *, immediate: bool = False, ctx: Context | None = None) -> Huey:
    """SQLite queue in the instance home by default; Redis when queue_url is redis://."""
    url = settings.queue_url
    huey: Huey
    if url and url.startswith("redis"):
        huey = RedisHuey("gatekeeper", url=url, immediate=immediate)
    else:
        path = url.removeprefix("sqlite:///") if url else str(settings.home / "queue.db")
        huey = SqliteHuey("gatekeeper", filename=path, immediate=immediate)
        secure_database_file(path)  # task arguments are ids, but keep the queue private too
    register(huey, WorkerResources(settings, ctx))
    return huey


def register(huey: Huey, resources: WorkerResources) -> None:
    """Attach the tasks to `huey` (built in a factory, never at import)."""
    settings = resources.settings
    daily_recheck = live.DailyRecheck()

    huey.on_startup()(resources.start)  # each worker process builds its Context once

    @_task(huey, retries=2, retry_delay=30, name="scan_photo")
    def scan_photo(photo_id: PhotoId) -> str:
        with resources.ctx.acting_as("system:scan") as ctx:
            return scan.scan_photo(ctx=ctx, photo_id=photo_id)

    @_task(huey, retries=2, retry_delay=30, name="publish_photo")
    def publish_photo(photo_id: PhotoId, channel: ChannelName) -> str | None:
        with resources.ctx.acting_as("system:publish") as ctx:
            return publish.publish_one(ctx=ctx, photo_id=photo_id, channel=Channel(channel),
                                       on=ctx.today()).location

    @_task(huey, retries=1, retry_delay=30, name="enrol_reference")
    def enrol_reference(external_id: ExternalId, key: StoredKey, actor_id: UserId | None) -> str:
        with resources.ctx.acting_as("system:enrol") as ctx:
            return enrol_staged(ctx=ctx, external_id=external_id, key=key, actor_id=actor_id)

    @_task(huey, retries=2, retry_delay=5, name="reconcile_photos")
    def reconcile_photos(photo_ids: list[PhotoId]) -> list[int]:
        """Facts of these photos changed: their live copies follow (taken down or re-rendered
        covering more). Returns the publication ids taken down."""
        with resources.ctx.acting_as("system:takedown") as ctx:
            return live.settle(ctx=ctx, photo_ids=photo_ids).taken_down

    @_task(huey, retries=1, retry_delay=30, name="confirmed_template")
    def confirmed_template(face_id: FaceId, actor_id: UserId | None) -> str:
        with resources.ctx.acting_as("system:enrol") as ctx:
            return add_confirmed_template(ctx=ctx, face_id=face_id, actor_id=actor_id)

    @_task(huey, name="video_preview")
    def video_preview(photo_id: PhotoId, channel: ChannelName) -> str:
        """The editor's covered preview of a video on a channel, into the private store (a
        failure is stored beside it for the page: no retry here, the editor may ask again)."""
        with resources.ctx.acting_as("system:preview") as ctx:
            return previews.render_preview(ctx=ctx, photo_id=photo_id, channel=Channel(channel))

    @_periodic(huey, crontab(minute="*"), name="sweep")
    def sweep() -> None:
        """Every minute: re-queue received or stuck photos, publish approvals, and reconcile
        the photos left in the dirty set; once a day, every live copy; and delete the stored
        objects whose deletion committed (the outbox) but did not happen yet."""
        with resources.ctx.acting_as("system:sweep") as ctx:
            for photo_id in reconcile.stuck_or_waiting(ctx=ctx):
                scan_photo(photo_id)
            for photo_id, channel in publish.pending_publications(ctx=ctx):
                publish_photo(photo_id, channel.value)
            live.sweep_dirty(ctx=ctx)  # what a lost or failed targeted job left
            if daily_recheck.due(ctx.today()):  # lapses that no change of fact announces
                live.recheck_all(ctx=ctx)
                daily_recheck.done(ctx.today())
            outbox.process(ctx=ctx)  # stored objects whose deletion committed but failed

    @_periodic(huey, crontab(minute=str(settings.daily_minute), hour=str(settings.daily_hour)),
               name="daily")
    def daily() -> None:
        """Retention purge (applied, its report in the audit log), orphan clean-up, and the
        backup into GATEKEEPER_BACKUP_DIR when one is set."""
        with resources.ctx.acting_as("system:daily") as ctx:
            purge.apply_purge(ctx=ctx, today=ctx.today())
            people.drop_leavers_templates(ctx=ctx)
            reconcile.remove_orphan_public_objects(ctx=ctx)
            invitations.forget_old_links_csv(ctx=ctx)
            auditing.anchor_audit_head(ctx=ctx)
            try:  # last, so that a failed backup costs none of the above
                backup.scheduled_backup(settings=ctx.settings, today=ctx.today())
            except GatekeeperError as exc:
                log.warning("scheduled backup not written: %s", type(exc).__name__)

    huey.gatekeeper_tasks = GatekeeperTasks(
        scan_photo, publish_photo, enrol_reference, confirmed_template, sweep, daily,
        reconcile_photos, video_preview)

    @_periodic(huey, crontab(minute="*/5"), name="anchor_audit")
    def anchor_audit() -> tuple[int, str] | None:
        """Every five minutes: anchor the audit head outside the database when new events
        exist, so cutting the newest events off the chain is found within minutes (the daily
        task anchors too)."""
        with resources.ctx.acting_as("system:anchor") as ctx:
            return auditing.anchor_new_audit_head(ctx=ctx)
