"""The records the ICO expects, drafted from this instance's real configuration: a Data
Protection Impact Assessment and a Record of Processing Activities. The lawful basis of each use
is the DPO's to decide: it is recorded here (an instance option, every change audited) and shown
as missing until it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from consent_db.models import Base, Device, FaceTemplate, Person, Photo, PhotoStatus, Publication, User
from gatekeeper.adapters.documents import render_body, render_document
from gatekeeper.adapters.pdf import html_to_pdf
from gatekeeper.config import Settings
from gatekeeper.domain.fusion import FusionRule
from gatekeeper.domain.vocabulary import Channel, PersonKind, Role, StoreBackend
from gatekeeper.errors import InvalidInput
from gatekeeper.services.accounts import options
from gatekeeper.services.accounts.school import CONTROLLER, name_from_details
from gatekeeper.services.accounts.users import Actor, require_role
from gatekeeper.services.context import Context

NOT_RECORDED = "not recorded yet — the DPO must record this"
# What the DPO records a lawful basis for: each publishing channel, plus face recognition and
# the keeping of consent records and the audit log.
BASIS_KEYS: dict[str, str] = {
    Channel.DISPLAY.value: "Display: school displays, newsletters, learning journeys",
    Channel.PRINT.value: "Print: leaflets, posters, documents, training material, press",
    Channel.ONLINE.value: "Online: school website and social media",
    "recognition": "Face recognition (biometric templates, special category data)",
    "records": "Consent records, people register and audit log",
}
LAWFUL_BASIS = options.define("lawful_basis", {}, "Lawful basis per channel")
MAX_TEXT = 2000
Which = Literal["dpia", "ropa"]
TITLES = {"dpia": "Data Protection Impact Assessment (draft)",
          "ropa": "Record of Processing Activities (draft)"}


@dataclass(frozen=True)
class Records:
    """The facts both drafts are written from: configuration, counts and the DPO's answers."""

    made_at: str
    controller: str
    bases: dict[str, str]  # key of BASIS_KEYS -> the DPO's text, or NOT_RECORDED
    channels: list[dict[str, Any]]
    retention_years: int
    grace_days: int
    academic_year_start: str
    storage: dict[str, Any]
    processors: list[dict[str, str]]
    biometric: dict[str, Any]
    counts: dict[str, int]
    roles: dict[str, int]
    cover_mode: str

    @property
    def missing(self) -> list[str]:
        """What the DPO has still to record before the drafts can be signed off."""
        out = [BASIS_KEYS[k] for k, v in self.bases.items() if v == NOT_RECORDED]
        if not self.controller:
            out.append("the controller's name and the DPO's contact")
        return out


def _where(url: str) -> str:
    """A database or queue URL as backend and host only: never a user name or password."""
    parsed = make_url(url) if "://" in url else None
    if parsed is None:
        return url
    if parsed.get_backend_name() == "sqlite":
        return "SQLite file inside the instance folder on this server"
    return f"{parsed.get_backend_name()} on {parsed.host or 'localhost'}"


def _storage(s: Settings) -> tuple[dict[str, Any], list[dict[str, str]]]:
    queue = s.queue_url or "sqlite://"
    storage = {
        "database_where": _where(s.resolved_database_url),
        "queue_where": ("SQLite file inside the instance folder on this server"
                        if queue.startswith("sqlite") else _where(queue)),
    }
    processors: list[dict[str, str]] = []
    if s.store_backend is StoreBackend.S3:
        endpoint = s.s3_endpoint_url or f"Amazon Web Services S3, region {s.s3_region}"
        storage["originals"] = f"S3 bucket {s.s3_private_bucket} at {endpoint}"
        storage["public"] = f"S3 bucket {s.s3_public_bucket} at {endpoint} (one prefix per channel)"
        processors.append({
            "who": endpoint, "what": f"object storage: originals in {s.s3_private_bucket} "
            f"(private, server-side encryption requested on every write), published copies in "
            f"{s.s3_public_bucket}", "where": f"region {s.s3_region}" + (
                "" if s.s3_endpoint_url else " (check it is in the UK or covered by adequacy)")})
    else:
        storage["originals"] = "folder private/ of the instance on this server (files 0600)"
        storage["public"] = "folder public/<channel>/ of the instance on this server"
    if s.database_url and not s.database_url.startswith("sqlite"):
        processors.append({"who": _where(s.database_url), "what": "database server",
                           "where": "as run by the school or its provider"})
    if s.smtp_url:
        processors.append({"who": _where(s.smtp_url), "what": "mail server: portal invitations "
                           "and confirmations (parents' names and addresses, the child's first "
                           "name, a single-use link)", "where": "as run by the school or its "
                           "provider"})
    if s.queue_url and s.queue_url.startswith("redis"):
        processors.append({"who": _where(s.queue_url), "what": "task queue (photo ids only)",
                           "where": "as run by the school or its provider"})
    return storage, processors


def _count(session: Session, model: type[Base], *where: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def processing_records(*, ctx: Context) -> Records:
    """Everything the DPIA and RoPA drafts say, read from settings and the database."""
    s = ctx.settings
    storage, processors = _storage(s)
    with ctx.uow() as uow:
        db = uow.session
        recorded: dict[str, str] = options.read(db, LAWFUL_BASIS)
        controller: str = options.read(db, CONTROLLER)
        on_roll = Person.left_on.is_(None)
        counts = {
            "pupils_on_roll": _count(db, Person, Person.kind == PersonKind.PUPIL, on_roll),
            "staff_on_roll": _count(db, Person, Person.kind == PersonKind.STAFF, on_roll),
            "people_left": _count(db, Person, Person.left_on.is_not(None)),
            "biometric_consent": _count(db, Person, Person.biometric_consent.is_(True)),
            "people_with_templates": db.scalar(select(func.count(func.distinct(
                FaceTemplate.person_id)))) or 0,
            "templates": _count(db, FaceTemplate),
            "safeguarding_flags": _count(db, Person, Person.safeguarding_no_photo.is_(True)),
            "cameras_active": _count(db, Device, Device.active.is_(True)),
            "cameras_inactive": _count(db, Device, Device.active.is_(False)),
            "photos_held": _count(db, Photo, Photo.status != PhotoStatus.PURGED.value),
            "photos_purged": _count(db, Photo, Photo.status == PhotoStatus.PURGED.value),
            "publications_live": _count(db, Publication, Publication.taken_down_at.is_(None)),
        }
        roles = dict.fromkeys((r.value for r in Role), 0)
        for text in db.scalars(select(User.roles).where(User.active.is_(True))):
            for role in filter(None, text.split(",")):
                roles[role] = roles.get(role, 0) + 1
    channels = []
    for channel in Channel:
        rule = s.channel_rule(channel)
        channels.append({
            "channel": channel.value, "use": BASIS_KEYS[channel.value].split(": ", 1)[1],
            "max_side": rule.max_side, "format": rule.image_format.value,
            "names": ("no family name in captions or file names" if rule.names.value ==
                      "no_family_name" else "no full name in captions or file names"),
            "recipients": ("anyone on the internet" if channel is Channel.ONLINE else
                           "visitors, pupils and families" if channel is Channel.DISPLAY else
                           "readers of printed material, including the press"),
            "basis": recorded.get(channel.value) or NOT_RECORDED})
    fused = FusionRule()
    return Records(
        made_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M"), controller=controller,
        bases={k: recorded.get(k) or NOT_RECORDED for k in BASIS_KEYS}, channels=channels,
        retention_years=s.retention_years_with_consent, grace_days=s.retention_grace_days,
        academic_year_start=f"{s.academic_year_start_day} "
                            f"{datetime(2000, s.academic_year_start_month, 1):%B}",
        storage=storage, processors=processors,
        biometric={"tolerance": s.match_tolerance, "margin": s.match_margin,
                   "min_face_px": s.min_face_px, "fused_threshold": fused.threshold,
                   "fused_margin": fused.margin, "child_threshold": fused.child_threshold,
                   "child_margin": fused.child_margin, "child_second": fused.child_second,
                   "small_face_px": fused.small_face_px,
                   "small_face_factor": fused.small_face_factor},
        counts=counts, roles=roles, cover_mode=s.cover_mode.value)


def record_processing_details(*, ctx: Context, user: Actor, bases: dict[str, str],
                              controller: str | None = None) -> bool:
    """The DPO records the lawful basis of each use and (unless None) the controller's details,
    each change audited; an empty text clears one. Returns whether anything changed."""
    require_role(user, Role.DPO)
    unknown = sorted(set(bases) - set(BASIS_KEYS))
    if unknown:
        raise InvalidInput(f"no lawful basis is kept for {', '.join(unknown)} "
                           f"(one of {', '.join(BASIS_KEYS)})")
    cleaned = {k: " ".join(v.split()) for k, v in bases.items()}
    if any(len(v) > MAX_TEXT for v in [*cleaned.values(), controller or ""]):
        raise InvalidInput(f"each answer may be at most {MAX_TEXT} characters")
    with ctx.uow() as uow:
        current: dict[str, str] = dict(options.read(uow.session, LAWFUL_BASIS))
        current.update(cleaned)
        current = {k: v for k, v in current.items() if v}
        changed = options.write(uow.session, LAWFUL_BASIS, current, user.id)
        if controller is not None:
            changed |= options.write(uow.session, CONTROLLER, controller.strip(), user.id)
        uow.commit()
        return changed


@dataclass(frozen=True)
class Document:
    title: str
    html: str  # standalone, its own styles
    body: str  # the same content without page and styles, for a page of the web app

    def pdf(self) -> bytes:
        return html_to_pdf(self.html)


def _document(facts: Records, which: Which) -> Document:
    context = {"r": facts, "title": TITLES[which], "not_recorded": NOT_RECORDED,
               "school": name_from_details(facts.controller),
               "footer": f"{name_from_details(facts.controller) or 'Gatekeeper'} - "
                         f"{TITLES[which]} - DRAFT made {facts.made_at} UTC"}
    return Document(TITLES[which], render_document(f"{which}.html", **context),
                    render_body(f"{which}.html", **context))


def processing_document(*, ctx: Context, which: Which) -> Document:
    """The DPIA or RoPA draft as HTML (`.pdf()`: the same as PDF); the web app: DPO only."""
    if which not in TITLES:
        raise InvalidInput(f"no such record {which!r} (dpia or ropa)")
    return _document(processing_records(ctx=ctx), which)


@dataclass(frozen=True)
class Overview:
    records: Records
    documents: dict[str, Document]


def processing_overview(*, ctx: Context) -> Overview:
    """The DPO's records page: the facts, the answers still missing and both drafts."""
    facts = processing_records(ctx=ctx)
    return Overview(facts, {which: _document(facts, which) for which in ("dpia", "ropa")})
