"""Finding work that a dead worker or a lost queue message left behind."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from consent_db.models import Photo, PhotoStatus, Publication, utcnow
from gatekeeper.services.context import Context


def stuck_or_waiting(*, ctx: Context, stuck_after: timedelta | None = None) -> list[int]:
    """Photos received but not scanned, or left 'scanning' longer than `stuck_after`."""
    stuck_after = stuck_after or timedelta(seconds=ctx.settings.scan_stuck_after_s)
    with ctx.uow() as uow:
        waiting = list(uow.session.scalars(
            select(Photo.id).where(Photo.status == PhotoStatus.RECEIVED.value)))
        stuck = uow.session.scalars(select(Photo.id).where(
            Photo.status == PhotoStatus.SCANNING.value,
            Photo.scan_started_at < utcnow() - stuck_after))
        return sorted(waiting + list(stuck))


def remove_orphan_public_objects(*, ctx: Context) -> int:
    """Delete public objects with no live publication (a publish that died half-way)."""
    removed = 0
    with ctx.uow() as uow:
        for channel, store in ctx.stores.public.items():
            live = set(uow.session.scalars(select(Publication.key).where(
                Publication.channel == channel.value, Publication.taken_down_at.is_(None))))
            for key in list(store.keys()):
                if key not in live:
                    store.delete(key)
                    removed += 1
    return removed
