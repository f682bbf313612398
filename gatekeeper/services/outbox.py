"""Stored objects are deleted only after the commit that makes them unreachable (the outbox).

A service that makes an object unreachable (a purged original, a taken-down public copy, an
original replaced by a covered one) calls `delete_after_commit` inside its unit of work; the row
commits with the change or not at all. `process` then deletes the objects and their rows: right
after the commit by the caller, and every minute by the sweep, which retries what failed. A crash
at any point leaves the old state or the new one, and running again finishes the plan.

An object written before its commit (a covered original under a new key) is guarded by
`write_guard` in a transaction of its own first: the main transaction `claim`s it; if that never
commits, the orphan is deleted when the guard falls due.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from consent_db.models import PendingDeletion, utcnow
from gatekeeper.adapters.storage import ObjectStore
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services.context import Context

log = logging.getLogger(__name__)
PRIVATE = "private"
_QUEUED = "gatekeeper.outbox_queued"
ANY = "*"  # a queued key ending so is a prefix (no stored object's key ends so)
GUARD_DELAY = timedelta(hours=1)  # far longer than any unit of work that writes an object


def public(channel: Channel | str) -> str:
    """The outbox's name of a channel's public store."""
    return f"public:{Channel(channel).value}"


def _store(ctx: Context, name: str) -> ObjectStore:
    if name == PRIVATE:
        return ctx.stores.private
    return ctx.stores.public[Channel(name.removeprefix("public:"))]


def delete_after_commit(session: Session, store: str, key: str) -> None:
    """Queue `key` for deletion in the caller's transaction: it goes only if that commits."""
    session.add(PendingDeletion(store=store, key=key))
    session.info[_QUEUED] = True


def delete_prefix_after_commit(session: Session, store: str, prefix: str) -> None:
    """`delete_after_commit` for every object whose key starts with `prefix` when the deletion
    is carried out (a video's previews: their keys are not known in advance)."""
    delete_after_commit(session, store, prefix + ANY)


def after_commit(*, ctx: Context, session: Session) -> int:
    """Called by a unit of work's owner right after its commit: carry out the deletions it
    queued at once (a takedown reaches the public store within seconds, not at the sweep)."""
    if not session.info.pop(_QUEUED, False):
        return 0
    return process(ctx=ctx)


def write_guard(ctx: Context, store: str, key: str) -> None:
    """Before writing an object that a later commit will point to: commit a deferred deletion
    of it, so that a crash before that commit leaves no orphan behind for good."""
    with ctx.uow() as uow:
        uow.session.add(PendingDeletion(store=store, key=key, due_at=utcnow() + GUARD_DELAY))
        uow.commit()


def claim(session: Session, store: str, key: str) -> None:
    """In the transaction that points a row at a guarded object: the object is kept."""
    session.execute(delete(PendingDeletion).where(
        PendingDeletion.store == store, PendingDeletion.key == key))


def process(*, ctx: Context, limit: int = 1000) -> int:
    """Delete the objects whose deletion has committed and fallen due; a store that fails
    leaves its row for the minute sweep. Returns how many objects were deleted."""
    with ctx.uow() as uow:
        rows = uow.session.execute(
            select(PendingDeletion.id, PendingDeletion.store, PendingDeletion.key)
            .where(PendingDeletion.due_at <= utcnow())
            .order_by(PendingDeletion.id).limit(limit)).all()
    done = 0
    for row_id, store, key in rows:
        with ctx.uow() as uow:
            try:
                _delete(_store(ctx, store), key)  # idempotent: a second delete finds nothing
            except Exception as exc:  # the store is down or refused: retried next minute
                log.warning("deleting a stored object failed (outbox row %s): %s", row_id,
                            type(exc).__name__)
                uow.session.execute(update(PendingDeletion).where(PendingDeletion.id == row_id)
                                    .values(attempts=PendingDeletion.attempts + 1))
            else:
                uow.session.execute(delete(PendingDeletion).where(PendingDeletion.id == row_id))
                done += 1
            uow.commit()
    return done


def _delete(store: ObjectStore, key: str) -> None:
    """One object, or every object under a queued prefix."""
    if key.endswith(ANY):
        for found in list(store.keys(key.removesuffix(ANY))):
            store.delete(found)
    else:
        store.delete(key)


def pending(*, ctx: Context) -> int:
    """How many deletions are still to be carried out (due or not)."""
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count(PendingDeletion.id))) or 0
