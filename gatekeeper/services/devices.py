"""Registering school cameras, the base of provenance checks."""

from __future__ import annotations

from sqlalchemy import select

from consent_db import audit
from consent_db.models import Device

from ..camera import normalise_serial
from ..errors import GatekeeperError


def add_device(*, uow, make: str, model: str, serial: str, label: str = "",
               actor_id: int | None = None) -> Device:
    """Register a camera by body serial (compared normalised: case, spaces, leading zeros)."""
    norm = normalise_serial(serial)
    if not serial.strip():
        raise GatekeeperError("a device needs its serial number")
    if uow.session.scalar(select(Device).where(Device.serial == norm)):
        raise GatekeeperError(f"a device with serial {serial} is already registered")
    device = Device(make=make.strip(), model=model.strip(), serial=norm, label=label.strip())
    uow.session.add(device)
    uow.flush()
    audit.record(uow.session, "device.added", "device", device.id, actor_id)
    uow.commit()
    return device


def registered_serials(session) -> set[str]:
    return set(session.scalars(select(Device.serial)))
