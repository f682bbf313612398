"""Small builders for service-level tests."""

from __future__ import annotations

from datetime import date, datetime

from gatekeeper.adapters.storage import Stores
from gatekeeper.domain.retention import academic_year
from gatekeeper.services.accounts.users import Actor, add_user, find_actor
from gatekeeper.services.consent.enrol import enrol
from gatekeeper.services.consent.people import import_csv
from gatekeeper.services.context import Context
from gatekeeper.services.photos.devices import add_device
from gatekeeper.services.photos.ingest import IngestResult, ingest_bytes
from tests import imagegen

TOM = imagegen.FIXTURES / "tom_cruise.jpg"
EILEEN = imagegen.FIXTURES / "eileen_collins.png"
PEOPLE_HEADER = ("external_id,given_name,family_name,kind,year_group,joined_on,left_on,"
                 "biometric_consent,safeguarding_no_photo\n")
PASSWORD = "long-password-1"


def person_row(ext: str, left: str = "", bio: str = "yes", flag: str = "no") -> str:
    return f"{ext},Given{ext},Family{ext},pupil,Year 5,2020-09-01,{left},{bio},{flag}\n"


def make_user(ctx: Context, name: str, roles: str) -> Actor:
    add_user(ctx=ctx, username=name, roles=roles, password=PASSWORD)
    return find_actor(ctx=ctx, username=name)


def users(ctx: Context) -> dict[str, Actor]:
    return {name: make_user(ctx, name, roles)
            for name, roles in (("office1", "office"), ("editor1", "editor"), ("dpo1", "dpo"),
                                ("gov1", "governor"))}


def people(ctx: Context, *rows: str) -> None:
    import_csv(ctx=ctx, kind="people", data=(PEOPLE_HEADER + "".join(rows)).encode())


def consent(ctx: Context, ext: str, channel: str = "online", granted: str = "yes",
            on: date | None = None) -> None:
    on = on or date.today()
    csv = ("external_id,academic_year,channel,granted,recorded_on,evidence\n"
           f"{ext},{academic_year(on)},{channel},{granted},{on.isoformat()},form\n")
    import_csv(ctx=ctx, kind="consent", data=csv.encode())


def school(ctx: Context, consented: tuple[str, ...] = ("TOM", "EIL")) -> dict[str, Actor]:
    """Two enrolled pupils (the public-domain fixtures), online consent for `consented`, and a
    school camera."""
    u = users(ctx)
    people(ctx, person_row("TOM"), person_row("EIL"))
    for ext in consented:
        consent(ctx, ext)
    enrol(ctx=ctx, external_id="TOM", photos=[("tom.jpg", TOM.read_bytes())])
    enrol(ctx=ctx, external_id="EIL", photos=[("eil.png", EILEEN.read_bytes())])
    add_device(ctx=ctx, make="Canon", model="EOS 250D", serial="0123456789")
    return u


def event_photo(seed_faces: tuple[str, ...] = ("tom", "eileen"), exif: bool = True,
                taken: datetime | None = None) -> bytes:
    """A row of the test faces; its EXIF date is `taken` (default: 10 July 2026)."""
    faces = {"tom": imagegen.load(TOM), "eileen": imagegen.load(EILEEN).crop((120, 20, 330, 230))}
    canvas, _ = imagegen.row_of_faces([faces[f] for f in seed_faces], height=380)
    return imagegen.jpeg(canvas, imagegen.exif_bytes(taken=taken) if exif else None)


def ingest(ctx: Context, user: Actor, data: bytes, name: str = "x.jpg") -> IngestResult:
    return ingest_bytes(ctx=ctx, data=data, name=name, event_name="Trip", actor_id=user.id)


def context_like(ctx: Context, *, stores: Stores | None = None, **changes: object) -> Context:
    """A second Context on the same database with some settings changed (never mutated in
    place), sharing the loaded face engine."""
    return Context(ctx.settings.model_copy(update=changes), stores=stores or ctx.stores,
                   faces=ctx.faces)
