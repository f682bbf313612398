"""SQLAlchemy 2.0 typed models: the database is the source of truth for every photo's state."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any  # JSON columns: their values are whatever JSON holds

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy import (
    true as sa_true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class PhotoStatus(StrEnum):
    RECEIVED = "received"  # stored, waiting for the scanner
    HELD = "held"  # provenance not proven: waits for a DPO
    SCANNING = "scanning"
    AWAITING_REVIEW = "awaiting_review"
    BLOCKED = "blocked"  # policy or error: fail closed
    REJECTED = "rejected"  # by the editor or DPO
    PURGED = "purged"  # retention or erasure; no image survives


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[str] = mapped_column(String(128))  # comma-separated: office,editor,dpo,governor
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def role_set(self) -> set[str]:
        return {r for r in self.roles.split(",") if r}


# One account per name whatever its case (`office1`, `Office1`): the service checks first, this
# settles two admins adding the same name at once.
Index("uq_users_username_lower", func.lower(User.username), unique=True)


class UserSession(Base):
    """A signed-in browser session; the cookie carries only its id, so revoking it here ends
    it at once (sign-out, password or role change, disabling)."""

    __tablename__ = "user_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    given_name: Mapped[str] = mapped_column(String(128))
    family_name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # pupil | staff
    year_group: Mapped[str | None] = mapped_column(String(32), nullable=True)
    joined_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    left_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    biometric_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    safeguarding_no_photo: Mapped[bool] = mapped_column(Boolean, default=False)
    # The pupil's own address, for their own invitation once old enough (people.csv `email`).
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    consents: Mapped[list[ConsentRecord]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )
    templates: Mapped[list[FaceTemplate]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )


class ConsentRecord(Base):
    """One row per person, academic year and channel (display|print|online|retain)."""

    __tablename__ = "consent_records"
    __table_args__ = (UniqueConstraint("person_id", "academic_year", "channel"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    academic_year: Mapped[str] = mapped_column(String(7))
    channel: Mapped[str] = mapped_column(String(16))
    granted: Mapped[bool] = mapped_column(Boolean)
    recorded_on: Mapped[date] = mapped_column(Date)
    withdrawn_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    evidence: Mapped[str] = mapped_column(String(255), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    person: Mapped[Person] = relationship(back_populates="consents")


class FaceTemplate(Base):
    __tablename__ = "face_templates"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    encoding: Mapped[bytes] = mapped_column(LargeBinary)  # dlib: 128 float64, little-endian
    # SFace: 128 float32, little-endian, unit length; NULL for templates enrolled before it (0003).
    # Same row as dlib's, so deleting the template deletes every model's vector.
    sface_encoding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    sface_model: Mapped[str | None] = mapped_column(String(32), nullable=True)
    source_sha256: Mapped[str] = mapped_column(String(64))
    quality: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Provenance (0006): the band of the person's year group and the academic year when made
    # (NULL for older templates), a reference photo or a face an editor confirmed, and who added it.
    age_band: Mapped[str | None] = mapped_column(String(16), nullable=True)
    academic_year: Mapped[str | None] = mapped_column(String(7), nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="reference",
                                        server_default="reference")
    source_face_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    person: Mapped[Person] = relationship(back_populates="templates")


class Device(Base):
    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(primary_key=True)
    make: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(64))
    serial: Mapped[str] = mapped_column(String(64), unique=True)  # normalised
    label: Mapped[str] = mapped_column(String(128), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    next_number: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Photo(Base):
    __tablename__ = "photos"
    # numbers make the published file names: two uploads at once must never share one
    __table_args__ = (Index("uq_photo_event_number", "event_id", "number", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # position within its event: neutral file names
    original_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    original_filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    format: Mapped[str] = mapped_column(String(16))
    # photo | video: a video is an item like a photo, its faces are tracks (Face.frames)
    media: Mapped[str] = mapped_column(String(8), default="photo", server_default="photo")
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)  # videos only
    fps: Mapped[float | None] = mapped_column(Float, nullable=True)
    frame_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    orientation: Mapped[int] = mapped_column(Integer, default=0)  # EXIF tag; 0 = none
    taken_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    camera_make: Mapped[str | None] = mapped_column(String(64), nullable=True)
    camera_model: Mapped[str | None] = mapped_column(String(64), nullable=True)
    camera_serial: Mapped[str | None] = mapped_column(String(64), nullable=True)
    provenance: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # corrections
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    scan_started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    scanned_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # The largest published long side the faces were searched for (services/photos/depth.py):
    # a copy larger than this waits for the deeper search. None: every size (videos, and
    # photos scanned before the search had depths).
    scan_side: Mapped[int | None] = mapped_column(Integer, nullable=True)
    event: Mapped[Event] = relationship()
    faces: Mapped[list[Face]] = relationship(
        back_populates="photo", cascade="all, delete-orphan", order_by="Face.id"
    )
    approvals: Mapped[list[Approval]] = relationship(
        back_populates="photo", cascade="all, delete-orphan"
    )
    publications: Mapped[list[Publication]] = relationship(
        back_populates="photo", cascade="all, delete-orphan", order_by="Publication.id"
    )
    covers: Mapped[list[ManualCover]] = relationship(
        back_populates="photo", cascade="all, delete-orphan"
    )


class Face(Base):
    __tablename__ = "faces"
    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), index=True)
    top: Mapped[int] = mapped_column(Integer)
    right: Mapped[int] = mapped_column(Integer)
    bottom: Mapped[int] = mapped_column(Integer)
    left: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    rotation: Mapped[int] = mapped_column(Integer, default=0)
    quality: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), nullable=True, index=True
    )
    distance: Mapped[float | None] = mapped_column(Float, nullable=True)
    margin: Mapped[float | None] = mapped_column(Float, nullable=True)
    near_person_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    decided_by: Mapped[str] = mapped_column(String(16), default="auto")  # auto | editor
    # a video's face is a track: its box is the best one, here [frame, top, right, bottom,
    # left] of every sampled frame it was found on, and for a face found once whose motion was
    # measured, of the next frame where that took it (None for a photo's face)
    frames: Mapped[list[list[int]] | None] = mapped_column(JSON, nullable=True)
    photo: Mapped[Photo] = relationship(back_populates="faces")


class ManualCover(Base):
    """A rectangle the editor asked to cover (a missed face, a name badge, a screen)."""

    __tablename__ = "manual_covers"
    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), index=True)
    x0: Mapped[int] = mapped_column(Integer)
    y0: Mapped[int] = mapped_column(Integer)
    x1: Mapped[int] = mapped_column(Integer)
    y1: Mapped[int] = mapped_column(Integer)
    # a video's cover may hold from start_ms to end_ms only (both or neither); None: every frame
    start_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    end_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # "cover this track": the track it covers wherever it moves (a video's); the rectangle is
    # where it was on its best frame, used again if the face row goes (a rescan)
    face_id: Mapped[int | None] = mapped_column(
        ForeignKey("faces.id", ondelete="SET NULL", name="fk_manual_covers_face_id"),
        nullable=True, index=True)
    photo: Mapped[Photo] = relationship(back_populates="covers")


class Approval(Base):
    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("photo_id", "channel"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    caption: Mapped[str | None] = mapped_column(Text, nullable=True)  # checked for names
    approved_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    photo: Mapped[Photo] = relationship(back_populates="approvals")


class Publication(Base):
    """At most one live publication per photo and channel (a partial unique index)."""

    __tablename__ = "publications"
    __table_args__ = (
        Index("uq_live_publication", "photo_id", "channel", unique=True,
              sqlite_where=text("taken_down_at IS NULL"),
              postgresql_where=text("taken_down_at IS NULL")),
        UniqueConstraint("channel", "key", name="uq_publication_key"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(255))
    location: Mapped[str] = mapped_column(String(1024))
    caption: Mapped[str | None] = mapped_column(Text, nullable=True)
    shown_person_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # of the photo
    cover_mode: Mapped[str | None] = mapped_column(String(16), nullable=True)  # rendered with
    # a video's copy made with its sound (None: a photo, or a copy from before it was kept)
    sound: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    published_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    taken_down_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    taken_down_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    photo: Mapped[Photo] = relationship(back_populates="publications")


class PhotoRecheck(Base):
    """A photo whose facts changed and whose live copies must be reconciled: written in the
    same transaction as the change, removed when a worker has reconciled the photo. The
    targeted job and the minute sweep both read it, so a lost queue message costs a minute."""

    __tablename__ = "photo_rechecks"
    photo_id: Mapped[int] = mapped_column(
        ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True)
    cause: Mapped[str] = mapped_column(String(64))  # "consent", "safeguarding", "camera", ...
    queued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class PendingDeletion(Base):
    """A stored object to delete once the transaction that wrote this row has committed (the
    outbox): the row is written in the same transaction that makes the object unreachable, and
    the object goes after the commit, retried by the minute sweep until the store agrees.
    `due_at` in the future guards an object written before its commit: the row is removed by
    that commit, or the orphan goes when it falls due."""

    __tablename__ = "pending_deletions"
    id: Mapped[int] = mapped_column(primary_key=True)
    store: Mapped[str] = mapped_column(String(32))  # "private", or "public:<channel>"
    key: Mapped[str] = mapped_column(String(255))
    queued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AuditEvent(Base):
    """Append-only, hash-chained: each row's hash covers its content and the previous hash."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class InstanceOption(Base):
    """A choice the DPO makes in the web app (pupils' own voice from a year group, whether
    editors' confirmations become templates, the lawful basis per channel): one JSON value per
    key, each change audited. Settings (environment) hold what the operator deploys with."""

    __tablename__ = "instance_options"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"value": ...}
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    set_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Contact(Base):
    """A parent or carer from the MIS (contacts.csv): reaches the portal only for the children
    they have parental responsibility for and may be contacted about."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)  # the MIS contact_id
    given_name: Mapped[str] = mapped_column(String(128))
    family_name: Mapped[str] = mapped_column(String(128))
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    children: Mapped[list[ContactChild]] = relationship(
        back_populates="contact", cascade="all, delete-orphan")


class ContactChild(Base):
    """One contact for one child, with what the MIS says about their rights."""

    __tablename__ = "contact_children"
    __table_args__ = (UniqueConstraint("contact_id", "person_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"),
                                            index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                           index=True)
    parental_responsibility: Mapped[bool] = mapped_column(Boolean)
    no_contact: Mapped[bool] = mapped_column(Boolean)  # a court order or safeguarding reason
    contact: Mapped[Contact] = relationship(back_populates="children")


class PortalInvitation(Base):
    """A single-use sign-in link for one contact (or one pupil): only its hash is kept."""

    __tablename__ = "portal_invitations"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), nullable=True, index=True)
    pupil_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # invitation | reminder
    delivered_via: Mapped[str] = mapped_column(String(16))  # smtp | outbox
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class PortalSession(Base):
    """A portal visit opened by a used invitation; the cookie carries only its id."""

    __tablename__ = "portal_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), nullable=True, index=True)
    pupil_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ConsentDecision(Base):
    """One answer given in the portal, with its evidence; added, never changed. The consent
    record for the person, year and channel is resolved from the latest answer of each decider."""

    __tablename__ = "consent_decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                           index=True)
    academic_year: Mapped[str] = mapped_column(String(7))
    channel: Mapped[str] = mapped_column(String(16))  # display|print|online|retain|biometric
    granted: Mapped[bool] = mapped_column(Boolean)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True, index=True)
    by_pupil: Mapped[bool] = mapped_column(Boolean, default=False)
    signed_name: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    client_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    form_text: Mapped[str] = mapped_column(Text)  # exactly what the decider was shown
