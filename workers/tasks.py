"""Huey tasks: thin, idempotent, take ids, call the service layer. The database is the source of
truth, so a lost message costs nothing: the periodic sweep finds the work again."""

from __future__ import annotations

import logging
import os

from huey import Huey, RedisHuey, SqliteHuey, crontab

from gatekeeper.config import Settings

log = logging.getLogger(__name__)
_contexts: dict[int, object] = {}


def make_huey(settings: Settings, immediate: bool = False) -> Huey:
    """SQLite queue in the instance home by default; Redis when queue_url is redis://."""
    url = settings.queue_url
    if url and url.startswith("redis"):
        huey = RedisHuey("gatekeeper", url=url, immediate=immediate)
    else:
        path = url.removeprefix("sqlite:///") if url else str(settings.home / "queue.db")
        huey = SqliteHuey("gatekeeper", filename=path, immediate=immediate)
    register(huey, settings)
    return huey


def context_for(settings: Settings):
    """One Context per worker process (models load once per process)."""
    from gatekeeper.services.context import Context

    pid = os.getpid()
    if pid not in _contexts:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        _contexts[pid] = Context(settings)
    return _contexts[pid]


def register(huey: Huey, settings: Settings) -> None:
    """Attach the tasks to `huey` (built in a factory, never at import)."""

    @huey.task(retries=2, retry_delay=30, name="scan_photo")
    def scan_photo(photo_id: int) -> str:
        from gatekeeper.services.scan import scan_photo as scan

        return scan(ctx=context_for(settings), photo_id=photo_id)

    @huey.task(retries=2, retry_delay=30, name="publish_photo")
    def publish_photo(photo_id: int, channel: str) -> str | None:
        from gatekeeper.services.publish import publish_one

        ctx = context_for(settings)
        return publish_one(ctx=ctx, photo_id=photo_id, channel=channel, on=ctx.today()).location

    @huey.task(retries=1, retry_delay=30, name="enrol_reference")
    def enrol_reference(external_id: str, key: str, actor_id: int | None) -> str:
        from gatekeeper.services.enrol import enrol_staged

        ctx = context_for(settings)
        return enrol_staged(ctx=ctx, external_id=external_id, key=key, today=ctx.today(),
                            actor_id=actor_id)

    @huey.periodic_task(crontab(minute="*"), name="sweep")
    def sweep() -> None:
        """Every minute: re-queue received or stuck photos, publish approvals, re-check consent."""
        from gatekeeper.services.publish import recheck_live, unpublished_approvals
        from gatekeeper.services.reconcile import stuck_or_waiting

        ctx = context_for(settings)
        for photo_id in stuck_or_waiting(ctx=ctx):
            scan_photo(photo_id)
        with ctx.uow() as uow:
            todo = unpublished_approvals(uow.session)
        for photo_id, channel in todo:
            publish_photo(photo_id, channel)
        recheck_live(ctx=ctx)

    @huey.periodic_task(crontab(minute=str(settings.daily_minute), hour=str(settings.daily_hour)),
                        name="daily")
    def daily() -> None:
        """Retention purge (applied, its report in the audit log) and orphan clean-up."""
        from gatekeeper.services.purge import apply_purge
        from gatekeeper.services.reconcile import remove_orphan_public_objects

        ctx = context_for(settings)
        apply_purge(ctx=ctx, today=ctx.today())
        remove_orphan_public_objects(ctx=ctx)

    huey.gatekeeper_tasks = {"scan_photo": scan_photo, "publish_photo": publish_photo,
                             "enrol_reference": enrol_reference, "sweep": sweep, "daily": daily}
