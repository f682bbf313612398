"""Worker tasks in huey's immediate mode: thin, idempotent, and the sweep finds lost work."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from consent_db.models import Photo, Publication
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services.photos.publish import publish_approved
from gatekeeper.services.photos.review import approve
from tests.integration.helpers import event_photo, ingest
from workers import tasks


def immediate(ctx):
    return tasks.make_huey(ctx.settings, immediate=True, ctx=ctx).gatekeeper_tasks


def test_scan_task_is_idempotent(ctx, school):
    t = immediate(ctx)
    photo_id = ingest(ctx, school["office1"], event_photo()).photo_id
    assert t.scan_photo(photo_id)() == "awaiting_review"
    assert t.scan_photo(photo_id)() == "awaiting_review"  # a second run changes nothing


def test_sweep_scans_lost_work_and_publishes_approvals(ctx, school):
    t = immediate(ctx)
    photo_id = ingest(ctx, school["office1"], event_photo()).photo_id  # its message was "lost"
    t.sweep()
    with ctx.uow() as uow:
        assert uow.session.get(Photo, photo_id).status == "awaiting_review"
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"])
    t.sweep()
    t.sweep()
    with ctx.uow() as uow:
        pubs = uow.session.scalars(select(Publication)).all()
    assert len(pubs) == 1 and pubs[0].taken_down_at is None
    assert publish_approved(ctx=ctx) == []


def test_daily_purge_and_orphan_cleanup(ctx, school):
    t = immediate(ctx)
    ctx.stores.public["online"].put("orphan-0001.jpg", b"left by a dead publish")
    t.daily()
    assert not ctx.stores.public["online"].exists("orphan-0001.jpg")
    with ctx.uow() as uow:
        from consent_db.models import AuditEvent

        [purge] = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "purge.applied"))
        assert purge.details["today"] == date.today().isoformat()
