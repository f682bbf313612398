"""The DPO's choices kept in the database (see InstanceOption): read anywhere, changed by the DPO
only, every change audited with the old and new value."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.models import InstanceOption, Publication, utcnow
from gatekeeper.domain.vocabulary import Role
from gatekeeper.errors import InvalidInput
from gatekeeper.services import rechecks
from gatekeeper.services.accounts.users import Actor, require_role, require_user_role
from gatekeeper.services.context import Context


@dataclass(frozen=True)
class Option:
    """One known choice: its key, default and a check of a new value (raises ValueError)."""

    key: str
    default: Any
    label: str
    # the channel whose live copies it decides (a video's sound): a change re-decides them
    live_channel: str | None = None

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


def define(key: str, default: Any, label: str, live_channel: str | None = None) -> Option:
    """Declare an option (once, at import of the module that uses it)."""
    option = Option(key, default, label, live_channel)
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
    """Write the option; one that decides live copies marks the photos live on its channel in
    the same commit (the dirty set), and the workers make their copies follow."""
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.DPO,))
    with ctx.uow() as uow:
        changed = write(uow.session, option, value, actor_id)
        live: list[int] = []
        if changed and option.live_channel is not None:
            live = sorted(set(uow.session.scalars(select(Publication.photo_id).where(
                Publication.channel == option.live_channel,
                Publication.taken_down_at.is_(None)))))
            rechecks.mark(uow.session, live, f"option {option.key}")
        uow.commit()
    if live:
        ctx.jobs.reconcile(live)
    return changed


_YES, _NO = ("yes", "true", "on", "1"), ("no", "false", "off", "0", "")


def parse_text(option: Option, text: str) -> Any:
    """A value typed on a form or the command line, as the option's type (InvalidInput)."""
    kind, text = type(option.default), text.strip()
    if kind is bool:
        if text.lower() not in _YES + _NO:
            raise InvalidInput(f"{option.label}: yes or no, not {text!r}")
        return text.lower() in _YES
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise InvalidInput(f"{option.label}: a whole number, not {text!r}") from None
    if kind is dict:
        try:
            return json.loads(text)
        except ValueError:
            raise InvalidInput(f"{option.label}: a JSON object of texts") from None
    return text


def find(key: str) -> Option:
    option = KNOWN.get(key)
    if option is None:
        raise InvalidInput(f"no option {key!r} (known: {', '.join(sorted(KNOWN)) or 'none'})")
    return option


@dataclass(frozen=True)
class OptionRow:
    key: str
    label: str
    value: Any
    default: Any
    kind: str  # bool | int | dict | str


def list_options(*, ctx: Context) -> list[OptionRow]:
    """Every known option with its current value."""
    with ctx.uow() as uow:
        return [OptionRow(o.key, o.label, read(uow.session, o), o.default,
                          type(o.default).__name__) for o in sorted(KNOWN.values(),
                                                                   key=lambda o: o.key)]


def change_option(*, ctx: Context, key: str, text: str, user: Actor) -> bool:
    """The DPO sets an option from its typed text (page or CLI); returns whether it changed."""
    require_role(user, Role.DPO)
    option = find(key)
    return set_option(ctx=ctx, option=option, value=parse_text(option, text), actor_id=user.id)
