"""Registering school cameras, the base of provenance checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.models import Device, Photo, PhotoStatus
from gatekeeper.domain.camera import Provenance, normalise_serial
from gatekeeper.domain.vocabulary import Role
from gatekeeper.errors import DuplicateDevice, InvalidInput, NotFound
from gatekeeper.services import rechecks
from gatekeeper.services.accounts.users import require_user_role
from gatekeeper.services.consent.safeguarding import redecide_block
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
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.DPO,))
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


CAMERA_HELD = "held: camera deactivated (lost or retired)"


@dataclass(frozen=True)
class DeviceChange:
    device: DeviceRow
    held: tuple[int, ...]  # photos held by this change
    released: tuple[int, ...]  # photos released to scanning or review


def set_device_active(*, ctx: Context, device_id: int, active: bool, actor_id: int | None,
                      since: date | None = None) -> DeviceChange:
    """Deactivate a camera (lost, stolen, sold, retired) or reactivate it: the camera's status
    is a fact with one write path. Deactivating holds its photos that are not yet published,
    and takes down the live copies of its photos taken on or after `since` (default: all of
    them), holding those too. Reactivating releases what only the camera's status held."""
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.DPO,))
    with ctx.uow() as uow:
        s = uow.session
        device = s.get(Device, device_id)
        if device is None:
            raise NotFound(f"no camera {device_id}")
        held: list[int] = []
        released: list[int] = []
        to_scan: list[int] = []
        if device.active != active:
            device.active = active
            audit.record(s, "device.activated" if active else "device.deactivated",
                         "device", device.id, actor_id,
                         **({"since": since.isoformat()} if since and not active else {}))
            photos = _photos_of(s, device)
            if active:
                released, to_scan = _release(s, photos, actor_id)
            else:
                held = _hold(s, photos, since, actor_id)
            rechecks.mark(s, held, "camera")
        uow.commit()
        row = row_of(device)
    ctx.jobs.reconcile(held)
    for photo_id in to_scan:
        ctx.jobs.scan(photo_id)
    return DeviceChange(row, tuple(held), tuple(released))


def _photos_of(session: Session, device: Device) -> list[Photo]:
    """Every photo (not purged) whose camera tags carry this camera's serial."""
    serial = normalise_serial(device.serial)
    ids = [pid for pid, s in session.execute(select(Photo.id, Photo.camera_serial).where(
        Photo.camera_serial.is_not(None), Photo.status != PhotoStatus.PURGED.value))
        if s is not None and normalise_serial(s) == serial]
    return list(session.scalars(select(Photo).where(Photo.id.in_(ids or [0])).order_by(Photo.id)))


def _taken_since(photo: Photo, since: date | None) -> bool:
    """Taken on or after `since` (a photo with no capture date counts: fail closed)."""
    return since is None or photo.taken_at is None or photo.taken_at.date() >= since


_HOLDABLE = (PhotoStatus.RECEIVED.value, PhotoStatus.SCANNING.value,
             PhotoStatus.AWAITING_REVIEW.value)


def _hold(session: Session, photos: list[Photo], since: date | None,
          actor_id: int | None) -> list[int]:
    held = []
    for photo in photos:
        live = any(p.taken_down_at is None for p in photo.publications)
        if photo.status not in _HOLDABLE or (live and not _taken_since(photo, since)):
            continue  # published before the loss: the DPO's date keeps it up
        photo.status, photo.status_reason = PhotoStatus.HELD.value, CAMERA_HELD
        photo.approvals.clear()
        audit.record(session, "photo.held", "photo", photo.id, actor_id, reason="camera")
        held.append(photo.id)
    return held


def _release(session: Session, photos: list[Photo],
             actor_id: int | None) -> tuple[list[int], list[int]]:
    """Photos held by the deactivation, or ingested while it lasted, go back: to review if
    they were scanned, to the scanner otherwise. Returns those released and those to scan."""
    released, to_scan = [], []
    for photo in photos:
        by_camera = photo.status_reason == CAMERA_HELD
        unregistered = photo.provenance == Provenance.UNREGISTERED_DEVICE.value
        if photo.status != PhotoStatus.HELD or not (by_camera or unregistered):
            continue
        photo.provenance = Provenance.SCHOOL_DEVICE.value
        if photo.scanned_at is not None:
            photo.status, photo.status_reason = PhotoStatus.AWAITING_REVIEW.value, None
            redecide_block(session, photo, actor_id)
        else:
            photo.status, photo.status_reason = PhotoStatus.RECEIVED.value, None
            to_scan.append(photo.id)
        audit.record(session, "photo.released", "photo", photo.id, actor_id,
                     reason="camera reactivated")
        released.append(photo.id)
    return released, to_scan


def registered_serials(session: Session) -> set[str]:
    """Serials of the active registered cameras."""
    return {normalise_serial(s) for s in
            session.scalars(select(Device.serial).where(Device.active.is_(True)))}
