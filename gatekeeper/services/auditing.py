"""Checking the audit log's hash chain."""

from __future__ import annotations

from consent_db.audit import verify_chain
from gatekeeper.services.context import Context


def broken_audit_event(*, ctx: Context) -> int | None:
    """Id of the first audit event whose hash does not check out, or None when intact."""
    with ctx.uow() as uow:
        return verify_chain(uow.session)
