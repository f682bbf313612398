"""Registering school cameras, the base of provenance checks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.models import Device
from gatekeeper.domain.camera import normalise_serial
from gatekeeper.errors import DuplicateDevice, InvalidInput, NotFound
from gatekeeper.services.context import Context


@dataclass(frozen=True)
class DeviceRow:
    id: int
    make: str
    model: str
    serial: str
    label: str
    active: bool = True


def row_of(device: Device) -> DeviceRow:
    return DeviceRow(device.id, device.make, device.model, device.serial, device.label,
                     device.active)


def add_device(*, ctx: Context, make: str, model: str, serial: str, label: str = "",
               actor_id: int | None = None) -> DeviceRow:
    """Register a camera by body serial, kept as entered and compared normalised (case,
    spaces, leading zeros), so "0123456789" shows as typed and still matches "123456789"."""
    if not serial.strip():
        raise InvalidInput("a device needs its serial number")
    norm = normalise_serial(serial)
    with ctx.uow() as uow:
        for other in uow.session.scalars(select(Device)):
            if normalise_serial(other.serial) == norm:
                raise DuplicateDevice(
                    f"this camera is already registered: serial {other.serial} is camera "
                    f"#{other.id}{' (' + other.label + ')' if other.label else ''}"
                    f"{'' if other.active else ', deactivated: reactivate it instead'}")
        device = Device(make=make.strip(), model=model.strip(), serial=serial.strip(),
                        label=label.strip())
        uow.session.add(device)
        uow.flush()
        audit.record(uow.session, "device.added", "device", device.id, actor_id)
        uow.commit()
        return row_of(device)


def set_device_active(*, ctx: Context, device_id: int, active: bool,
                      actor_id: int | None) -> DeviceRow:
    """Deactivate a camera (lost, sold, retired: its photos are held again) or reactivate it."""
    with ctx.uow() as uow:
        device = uow.session.get(Device, device_id)
        if device is None:
            raise NotFound(f"no camera {device_id}")
        device.active = active
        audit.record(uow.session, "device.activated" if active else "device.deactivated",
                     "device", device.id, actor_id)
        uow.commit()
        return row_of(device)


def registered_serials(session: Session) -> set[str]:
    """Serials of the active registered cameras."""
    return {normalise_serial(s) for s in
            session.scalars(select(Device.serial).where(Device.active.is_(True)))}
