"""The DPO's choices kept in the database (see InstanceOption): read anywhere, changed by the DPO
only, every change audited with the old and new value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.models import InstanceOption, utcnow
from gatekeeper.errors import InvalidInput
from gatekeeper.services.context import Context


@dataclass(frozen=True)
class Option:
    """One known choice: its key, default and a check of a new value (raises ValueError)."""

    key: str
    default: Any
    label: str

    def check(self, value: Any) -> Any:
        kind = type(self.default)
        if kind is bool:
            if not isinstance(value, bool):
                raise ValueError(f"{self.label}: yes or no")
            return value
        if kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{self.label}: a whole number")
            return value
        if kind is dict:
            if not isinstance(value, dict) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
                raise ValueError(f"{self.label}: a table of texts")
            return value
        if not isinstance(value, str):
            raise ValueError(f"{self.label}: a text")
        return value


KNOWN: dict[str, Option] = {}


def define(key: str, default: Any, label: str) -> Option:
    """Declare an option (once, at import of the module that uses it)."""
    option = Option(key, default, label)
    KNOWN[key] = option
    return option


def read(session: Session, option: Option) -> Any:
    row = session.get(InstanceOption, option.key)
    if row is None or "value" not in (row.value or {}):
        return option.default
    return row.value["value"]


def get(*, ctx: Context, option: Option) -> Any:
    with ctx.uow() as uow:
        return read(uow.session, option)


def write(session: Session, option: Option, value: Any, actor_id: int | None) -> bool:
    """Set an option inside the caller's unit of work; returns whether it changed."""
    try:
        value = option.check(value)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    old = read(session, option)
    if old == value:
        return False
    row = session.get(InstanceOption, option.key)
    if row is None:
        row = InstanceOption(key=option.key)
        session.add(row)
    row.value, row.set_by_id = {"value": value}, actor_id
    row.set_at = utcnow()
    audit.record(session, "option.set", "option", None, actor_id, key=option.key,
                 old=old, new=value)
    return True


def set_option(*, ctx: Context, option: Option, value: Any, actor_id: int | None) -> bool:
    with ctx.uow() as uow:
        changed = write(uow.session, option, value, actor_id)
        uow.commit()
        return changed
