"""What governors monitor: aggregates only, never a name, an id of a person or a photo."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from consent_db.models import AuditEvent, ConsentRecord, Person, Photo, PhotoStatus, Publication
from gatekeeper.domain.deciders import school_order
from gatekeeper.domain.retention import academic_year
from gatekeeper.domain.safe_csv import to_csv
from gatekeeper.domain.vocabulary import ConsentKind, PersonKind
from gatekeeper.services.auditing import check_audit
from gatekeeper.services.context import Context
from gatekeeper.services.photos.publish import CONSENT_LOST
from gatekeeper.services.photos.read import stages_by_month, status_counts

# Bands of the withdrawal -> takedown distribution: (label, upper bound in hours).
TAKEDOWN_BINS: list[tuple[str, float]] = [
    ("under 1", 1.0), ("1-24", 24.0), ("1-7 days", 168.0), ("over 7 days", float("inf"))]


@dataclass
class Dashboard:
    academic_year: str
    consent: list[dict[str, Any]] = field(default_factory=list)  # year group x kind
    stages: dict[str, int] = field(default_factory=dict)
    stage_months: list[dict[str, Any]] = field(default_factory=list)  # month uploaded x stage now
    per_month: list[dict[str, Any]] = field(default_factory=list)  # published / taken down
    blocked_reasons: dict[str, int] = field(default_factory=dict)
    takedown_hours: list[float] = field(default_factory=list)  # withdrawal -> takedown
    purges: int = 0
    erasures: int = 0
    runs: list[dict[str, Any]] = field(default_factory=list)  # certificates, as counts only
    audit_intact: bool = True
    audit_events: int = 0

    def takedown_bands(self) -> dict[str, int]:
        """How many takedowns after a withdrawal fell in each band of TAKEDOWN_BINS."""
        bands = dict.fromkeys((label for label, _upper in TAKEDOWN_BINS), 0)
        for hours in self.takedown_hours:
            label = next(label for label, upper in TAKEDOWN_BINS if hours < upper)
            bands[label] += 1
        return bands

    @property
    def takedown_median(self) -> float | None:
        ordered = sorted(self.takedown_hours)
        return ordered[len(ordered) // 2] if ordered else None


def _run_row(event: AuditEvent) -> dict[str, Any]:
    """A deletion certificate as governors see it: when, what kind, how many; no record ids."""
    d = event.details
    return {"certificate": event.id, "at": event.at.strftime("%Y-%m-%d %H:%M"),
            "kind": d.get("kind", ""), "people": len(d.get("people", [])),
            "photos_deleted": len(d.get("photos_deleted", [])),
            "photos_covered": len(d.get("photos_covered", [])),
            "objects_deleted": sum(v for k, v in (d.get("deleted") or {}).items()
                                   if k in ("originals", "public_objects", "review_renditions"))}


def _reason_kind(reason: str | None, status: str) -> str:
    text = (reason or "").lower()
    for key, label in (("safeguarding", "safeguarding flag"), ("scan failed", "scan error"),
                       ("publishing failed", "publishing error"),
                       ("unregistered", "unregistered camera"), ("no camera", "no camera data")):
        if key in text:
            return label
    return "other" if status == PhotoStatus.BLOCKED.value else "held (other)"


def dashboard(*, ctx: Context, verify_audit: bool = True) -> Dashboard:
    """Consent coverage, photo stages (now and by month uploaded), publications per month,
    reasons, withdrawal -> takedown times, purge runs and their certificates, audit status.
    Verifying the audit chain reads every event: charts, which do not show it, skip it."""
    year = academic_year(ctx.today(), *ctx.year_start)
    out = Dashboard(academic_year=year)
    with ctx.uow() as uow:
        s = uow.session
        on_roll = Counter(g or "(none)" for g in s.scalars(
            select(Person.year_group).where(Person.kind == PersonKind.PUPIL, Person.left_on.is_(None))))
        answers = Counter[tuple[str, str, str]]()
        for group, kind, granted, withdrawn in s.execute(
                select(Person.year_group, ConsentRecord.channel, ConsentRecord.granted,
                       ConsentRecord.withdrawn_on).join(Person)
                .where(ConsentRecord.academic_year == year, Person.kind == PersonKind.PUPIL,
                       Person.left_on.is_(None))):
            answer = "granted" if granted else ("withdrawn" if withdrawn else "refused")
            answers[(group or "(none)", kind, answer)] += 1
        for group in sorted(on_roll, key=school_order):
            for kind in ConsentKind:
                g, r, w = (answers[(group, kind.value, a)]
                           for a in ("granted", "refused", "withdrawn"))
                out.consent.append({"year_group": group, "kind": kind.value, "pupils": on_roll[group],
                                    "granted": g, "refused": r, "withdrawn": w,
                                    "missing": on_roll[group] - g - r - w})
        months = Counter[tuple[str, str]]()
        for published, taken_down in s.execute(
                select(Publication.published_at, Publication.taken_down_at)):
            months[(published.strftime("%Y-%m"), "published")] += 1
            if taken_down is not None:
                months[(taken_down.strftime("%Y-%m"), "taken down")] += 1
        out.per_month = [{"month": m, "what": w, "count": n} for (m, w), n in sorted(months.items())]
        for status, reason in s.execute(select(Photo.status, Photo.status_reason).where(
                Photo.status.in_([PhotoStatus.BLOCKED.value, PhotoStatus.HELD.value]))):
            kind = _reason_kind(reason, status)
            out.blocked_reasons[kind] = out.blocked_reasons.get(kind, 0) + 1
        withdrawals = {e.details.get("person_id"): e.at for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == "consent.withdrawn"))}
        for pub in s.scalars(select(Publication).where(
                Publication.taken_down_reason.startswith(CONSENT_LOST))):
            starts = [withdrawals[p] for p in pub.shown_person_ids or [] if p in withdrawals]
            if starts and pub.taken_down_at is not None:
                hours = (pub.taken_down_at - max(starts)).total_seconds() / 3600
                out.takedown_hours.append(round(max(hours, 0.0), 2))
        out.stage_months = [{"month": m, "stage": st, "photos": n}
                            for (m, st), n in sorted(stages_by_month(s).items())]
        out.runs = [_run_row(e) for e in s.scalars(select(AuditEvent).where(
            AuditEvent.action == "certificate.issued").order_by(AuditEvent.id))]
        out.purges = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "purge.applied")) or 0
        out.erasures = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "erasure.applied")) or 0
    out.stages = status_counts(ctx=ctx)
    if verify_audit:
        check = check_audit(ctx=ctx)
        out.audit_intact, out.audit_events = check.problem is None, check.events
    return out


def dashboard_csv(board: Dashboard) -> str:
    """The figures for a governors' meeting, as CSV (section, key, value)."""
    rows = [("academic year", "", board.academic_year)]
    rows += [(f"consent {c['kind']}", c["year_group"],
              f"{c['granted']} granted, {c['refused']} refused, {c['withdrawn']} withdrawn, "
              f"{c['missing']} missing of {c['pupils']}") for c in board.consent]
    rows += [("photos", stage, str(n)) for stage, n in board.stages.items()]
    rows += [(f"photos uploaded {r['month']}", r["stage"], str(r["photos"]))
             for r in board.stage_months]
    rows += [(f"publications {m['what']}", m["month"], str(m["count"])) for m in board.per_month]
    rows += [("blocked or held", k, str(n)) for k, n in board.blocked_reasons.items()]
    rows += [("withdrawal to takedown (hours)", band, str(n))
             for band, n in board.takedown_bands().items()]
    rows += [(f"certificate {r['certificate']}", f"{r['kind']} {r['at']}",
              f"{r['people']} people, {r['photos_deleted']} photos deleted, "
              f"{r['photos_covered']} covered in place") for r in board.runs]
    rows += [("retention purges", "", str(board.purges)), ("erasures", "", str(board.erasures)),
             ("audit chain", "", "intact" if board.audit_intact else "BROKEN")]
    return to_csv([("section", "key", "value"), *rows])
