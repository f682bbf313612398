"""Checking the audit log: every event's hash, and the head against the anchors written outside
the database, so that deleting the newest events (which leaves a valid shorter chain) is found."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from consent_db.audit import verify_chain
from consent_db.models import AuditEvent, User, utcnow
from gatekeeper.adapters.documents import render_document
from gatekeeper.adapters.pdf import html_to_pdf
from gatekeeper.errors import NotFound
from gatekeeper.services.context import Context


@dataclass(frozen=True)
class AuditCheck:
    events: int
    head: str
    problem: str | None  # None: intact


def anchors_path(ctx: Context) -> Path:
    return ctx.settings.home / "audit-anchors.log"


def _head(ctx: Context) -> tuple[int, str]:
    with ctx.uow() as uow:
        count = uow.session.scalar(select(func.count(AuditEvent.id))) or 0
        last = uow.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
        return count, last or "0" * 64


def anchor_audit_head(*, ctx: Context) -> tuple[int, str]:
    """Append the chain's current length and head hash to the append-only anchors file."""
    count, head = _head(ctx)
    path = anchors_path(ctx)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{count} {head} {utcnow().isoformat()}\n".encode())
    finally:
        os.close(fd)
    return count, head


def _last_anchor(path: Path) -> tuple[int, str] | None:
    """The newest anchor's (length, head), reading only the file's tail (it grows all year)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 4096))
            lines = fh.read().decode("ascii", "replace").strip().splitlines()
    except FileNotFoundError:
        return None
    parts = lines[-1].split() if lines else []
    if len(parts) < 2 or not parts[0].isdigit():
        return None
    return int(parts[0]), parts[1]


def anchor_new_audit_head(*, ctx: Context) -> tuple[int, str] | None:
    """Anchor the head when events were added since the newest anchor (None when nothing
    changed): run every few minutes, it bounds how much history could be cut off the chain's
    end unnoticed, without one anchor line per run on a quiet instance."""
    current = _head(ctx)
    if current[0] == 0 or _last_anchor(anchors_path(ctx)) == current:
        return None
    return anchor_audit_head(ctx=ctx)


def check_audit(*, ctx: Context) -> AuditCheck:
    """Verify every hash, then that each anchored head is still in the chain at its place."""
    with ctx.uow() as uow:
        broken = verify_chain(uow.session)
        if broken is not None:
            count, head = _head(ctx)
            return AuditCheck(count, head, f"audit chain broken at event {broken}")
        hashes = list(uow.session.scalars(select(AuditEvent.hash).order_by(AuditEvent.id)))
    path = anchors_path(ctx)
    anchors = path.read_text().split("\n") if path.exists() else []
    for line in filter(None, anchors):
        count_text, head = line.split()[:2]
        count = int(count_text)
        if count > len(hashes):
            return AuditCheck(len(hashes), hashes[-1] if hashes else "", (
                f"audit log truncated: {count} events were anchored, {len(hashes)} remain"))
        if count and hashes[count - 1] != head:
            return AuditCheck(len(hashes), hashes[-1], f"audit chain rewritten before event {count}")
    return AuditCheck(len(hashes), hashes[-1] if hashes else "0" * 64, None)


def certificates(*, ctx: Context) -> list[dict[str, Any]]:
    """Every deletion certificate: what a purge or erasure deleted where, when and by whom, as
    the audit event (and hash) that chains it; `gatekeeper audit` verifies them all."""
    with ctx.uow() as uow:
        events = uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "certificate.issued").order_by(AuditEvent.id))
        return [_certificate(e) for e in events]


def _certificate(e: AuditEvent) -> dict[str, Any]:
    return {"id": e.id, "at": e.at.isoformat(), "by": e.actor_id or e.details.get("by"),
            "hash": e.hash, **e.details}


def _operator(by: object) -> str:
    """Who ran a certificate's run when no signed-in user did, in words, from the operator the
    audit event names ("cli:root", "system:daily"); older events named none."""
    if not isinstance(by, str) or not by:
        return "an operator not recorded (system)"
    if by.startswith("cli:"):
        return f"{by.removeprefix('cli:')} on the command line ({by})"
    if by == "system:daily":
        return f"the scheduled retention job ({by})"
    return f"Gatekeeper itself ({by})"


def certificate_pdf(*, ctx: Context, certificate_id: int, school: str | None = None) -> bytes:
    """One deletion certificate as a PDF. It carries record ids: the web app gives it to the DPO
    only (governors see the counts on the certificates page and in their report)."""
    return html_to_pdf(certificate_html(ctx=ctx, certificate_id=certificate_id, school=school))


def certificate_html(*, ctx: Context, certificate_id: int, school: str | None = None) -> str:
    """One deletion certificate as a printable document, saying whether the audit chain that
    holds it verifies now."""
    with ctx.uow() as uow:
        event = uow.session.get(AuditEvent, certificate_id)
        if event is None or event.action != "certificate.issued":
            raise NotFound(f"no deletion certificate {certificate_id}")
        cert = _certificate(event)
        who = uow.session.get(User, event.actor_id) if event.actor_id else None
        by = who.username if who else _operator(event.details.get("by"))
    check = check_audit(ctx=ctx)
    return render_document(
        "certificate.html", c=cert, by=by, intact=check.problem is None, problem=check.problem,
        events=check.events, made_at=utcnow().strftime("%Y-%m-%d %H:%M"),
        title=f"Deletion certificate {cert['id']}", school=school,
        footer=f"{school or 'Gatekeeper'} - deletion certificate {cert['id']} - "
               f"hash {cert['hash'][:16]}")
