"""Runs of the purge and of erasures, told apart in the audit chain, so that a run interrupted
half-way is resumed and its certificate lists what every attempt deleted.

A run with photos to do starts with a `<kind>.started` event (its id is the run's id); each
photo's event carries the run's id and what it deleted; `<kind>.applied` closes the run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent_db.models import AuditEvent

RECENT_RUNS = 20  # an interrupted run is resumed by the next one, not weeks later


@dataclass
class RunSoFar:
    """What the photo units of work of one run deleted, across all its attempts."""

    people: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    covered: dict[int, list[int]] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    attempts: int = 1


def open_run(session: Session, kind: str, people: list[int] | None) -> int | None:
    """The id of the newest run of `kind` that never finished (for `people`, when given)."""
    started = session.scalars(select(AuditEvent).where(AuditEvent.action == f"{kind}.started")
                              .order_by(AuditEvent.id.desc()).limit(RECENT_RUNS)).all()
    if not started:
        return None
    closed = {e.details.get("run") for e in session.scalars(select(AuditEvent).where(
        AuditEvent.action == f"{kind}.applied", AuditEvent.id > started[-1].id))}
    for event in started:
        if event.id not in closed and (people is None or event.details.get("people") == people):
            return event.id
    return None


def photo_details(run: int | None, counts: Counter[str]) -> dict[str, object]:
    """The details of a photo's purge or redaction event: its run and what it deleted."""
    return {"run": run, "deleted": dict(sorted(counts.items()))} if run else {}


def photos_done(session: Session, run: int | None) -> RunSoFar:
    """Everything the run's attempts did to photos, read back from the audit chain."""
    done = RunSoFar()
    if run is None:
        return done
    start = session.get(AuditEvent, run)
    if start is None:
        return done
    done.people = list(start.details.get("people", []))
    resumed = start.action.replace(".started", ".resumed")
    for event in session.scalars(select(AuditEvent).where(
            AuditEvent.id > run,
            AuditEvent.action.in_(("photo.purged", "photo.redacted", resumed)))
            .order_by(AuditEvent.id)):
        if event.action == resumed:
            done.attempts += 1 if event.entity_id == run else 0
        elif event.details.get("run") == run and event.entity_id is not None:
            if event.action == "photo.purged":
                done.deleted.append(event.entity_id)
            else:
                done.covered[event.entity_id] = list(event.details.get("person_ids", []))
            done.counts.update(event.details.get("deleted", {}))
    return done
