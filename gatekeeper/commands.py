"""What each CLI command does: a few lines each, calling the services."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import select

from .cli import emit, read_password
from .config import Settings
from .errors import GatekeeperError, NotFound
from .services.context import Context

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".tif", ".tiff"}


def expand(paths: list[Path]) -> list[Path]:
    """Files as given, folders walked (image-looking names only; content is checked later)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*")
                          if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            out.append(path)
    return out


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise GatekeeperError(f"{path}: cannot read ({exc.strerror})") from None


def run(args, settings: Settings) -> int:
    if args.command == "init":
        return cmd_init(args, settings)
    if args.command == "serve":
        from .serve import serve

        return serve(settings, host=args.host, port=args.port, with_worker=not args.no_worker)
    if args.command == "worker":
        from .serve import run_worker

        return run_worker(settings, workers=args.processes)
    ensure_initialised(settings)
    ctx = Context(settings)
    try:
        return HANDLERS[args.command](args, ctx)
    finally:
        ctx.close()


def ensure_initialised(settings: Settings) -> None:
    """Refuse to run on a home without a database at Alembic head."""
    from consent_db.db import current_revision, make_engine

    if settings.database_url is None and not (settings.home / "gatekeeper.db").exists():
        raise GatekeeperError(f"no Gatekeeper instance in {settings.home}: run `gatekeeper init`")
    engine = make_engine(settings.resolved_database_url)
    try:
        if current_revision(engine) is None:
            raise GatekeeperError(f"database not initialised: run `gatekeeper init` "
                                  f"(home {settings.home})")
    finally:
        engine.dispose()


def cmd_init(args, settings: Settings) -> int:
    from consent_db.db import migrate
    from consent_db.models import User

    from .services.users import add_user, new_password

    settings.home.mkdir(parents=True, exist_ok=True)
    ctx = Context(settings)
    try:
        migrate(ctx.engine)
        ctx.stores  # noqa: B018  (creates the store folders)
        with ctx.uow() as uow:
            if uow.session.scalar(select(User.id).limit(1)) is not None:
                print(f"Gatekeeper instance in {settings.home} is up to date.")
                return 0
            password = new_password()
            add_user(uow=uow, username=args.admin, roles="dpo,editor,office", password=password)
            uow.commit()
        print(f"Gatekeeper instance created in {settings.home}.")
        print(f"First admin user: {args.admin}  password: {password}  (shown once: keep it safe)")
        return 0
    finally:
        ctx.close()


def actor(ctx: Context, username: str):
    from .services.users import get_user

    with ctx.uow() as uow:
        return get_user(uow.session, username)


def cmd_users(args, ctx: Context) -> int:
    from consent_db.models import User

    from .services.users import add_user

    if args.action == "list":
        with ctx.uow() as uow:
            for u in uow.session.scalars(select(User).order_by(User.username)):
                print(f"{u.username}\t{u.roles}\t{'active' if u.active else 'disabled'}")
        return 0
    password = read_password(args.password_file)
    with ctx.uow() as uow:
        user = add_user(uow=uow, username=args.username, roles=args.role, password=password)
        uow.commit()
        print(f"user {user.username} added with roles {user.roles}")
    return 0


def cmd_people(args, ctx: Context) -> int:
    from .services.people import import_people

    with ctx.uow() as uow:
        print(import_people(uow=uow, data=_read(args.csv), today=ctx.today()).line("people"))
    return 0


def cmd_consent(args, ctx: Context) -> int:
    from .services.people import import_consent

    with ctx.uow() as uow:
        print(import_consent(uow=uow, data=_read(args.csv)).line("consent records"))
    return 0


def cmd_devices(args, ctx: Context) -> int:
    from consent_db.models import Device

    from .services.devices import add_device

    with ctx.uow() as uow:
        if args.action == "list":
            for d in uow.session.scalars(select(Device).order_by(Device.id)):
                print(f"{d.id}\t{d.make}\t{d.model}\t{d.serial}\t{d.label}")
            return 0
        d = add_device(uow=uow, make=args.make, model=args.model, serial=args.serial,
                       label=args.label)
        print(f"device {d.id} registered ({d.make} {d.model}, serial {d.serial})")
    return 0


def cmd_enrol(args, ctx: Context) -> int:
    from .services.enrol import enrol

    photos = [(p.name, _read(p)) for p in args.photos]
    n = enrol(ctx=ctx, external_id=args.external_id, photos=photos, today=ctx.today())
    print(f"{args.external_id}: {n} face template(s) stored")
    return 0


def cmd_ingest(args, ctx: Context) -> int:
    from .services.ingest import IngestOutcome, IngestResult, ingest_bytes

    user = actor(ctx, args.by)
    from .services.users import require_role

    require_role(user, "office", "dpo")
    files = expand(args.paths)
    if not files:
        raise GatekeeperError("no files to ingest")
    failed = 0
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            result = IngestResult(str(path), IngestOutcome.REJECTED, reason=exc.strerror)
        else:
            result = ingest_bytes(ctx=ctx, data=data, name=path.name, event_name=args.event,
                                  actor_id=user.id)
        failed += result.outcome is IngestOutcome.REJECTED
        ident = f" photo {result.photo_id}" if result.photo_id else ""
        why = f": {result.reason}" if result.reason else ""
        print(f"{path}: {result.outcome.value}{ident}{why}")
    if failed:
        print(f"gatekeeper: {failed} of {len(files)} file(s) rejected", file=sys.stderr)
        return 1
    return 0


def cmd_scan(args, ctx: Context) -> int:
    from .services.scan import scan_pending

    results = scan_pending(ctx=ctx, processes=args.processes)
    for pid, status in results.items():
        print(f"photo {pid}: {status}")
    print(f"{len(results)} photo(s) scanned")
    return 0


def cmd_photos(args, ctx: Context) -> int:
    from consent_db.models import Photo

    from .services import review
    from .services.views import photo_detail, photo_summary

    if args.action == "list":
        with ctx.uow() as uow:
            q = select(Photo).order_by(Photo.id)
            if args.status:
                q = q.where(Photo.status == args.status)
            rows = [photo_summary(p) for p in uow.session.scalars(q)]
        emit(rows, args.json, [f"{r['id']}\t{r['status']}\t{r['faces']} faces\t{r['event']}"
                               for r in rows] or ["no photos"])
        return 0
    if args.action == "show":
        with ctx.uow() as uow:
            d = photo_detail(uow.session, review.get_photo(uow.session, args.id), ctx.today(),
                             ctx.year_start)
        emit(d, args.json, _show_lines(d))
        return 0
    user = actor(ctx, args.by)
    if args.action == "release":
        review.release(ctx=ctx, photo_id=args.id, user=user)
        print(f"photo {args.id} released for scanning")
    elif args.action == "reject":
        review.reject(ctx=ctx, photo_id=args.id, reason=args.reason, user=user)
        print(f"photo {args.id} rejected")
    elif args.action == "cover":
        c = review.add_cover(ctx=ctx, photo_id=args.id, box=tuple(args.box), user=user)
        print(f"photo {args.id}: cover {c.id} added")
    return 0


def _show_lines(d: dict) -> list[str]:
    lines = [f"photo {d['id']}  {d['status']}  event {d['event']!r} #{d['number']}",
             f"sha256 {d['sha256']}",
             f"provenance {d['provenance']['verdict']} ({d['provenance']['make']} "
             f"{d['provenance']['model']}, serial {d['provenance']['serial']})"]
    if d["status_reason"]:
        lines.append(f"reason: {d['status_reason']}")
    for f in d["faces"]:
        b = f["box"]
        lines.append(f"face {f['id']}: box t{b['top']} r{b['right']} b{b['bottom']} l{b['left']}"
                     f"  {f['quality']}  person {f['person'] or '-'}  distance {f['distance']}"
                     f"  margin {f['margin']}  ({f['decided_by']})")
    for ch, c in d["channels"].items():
        lines.append(f"{ch}: {c['decision']}{' (approved)' if c['approved'] else ''}"
                     f"  shown {c['shown_faces']}  covered {c['covered_faces']}")
    for p in d["publications"]:
        state = f"taken down {p['taken_down_at']}" if p["taken_down_at"] else "live"
        lines.append(f"published {p['channel']}: {p['location']} ({state})")
    return lines


def cmd_identify(args, ctx: Context) -> int:
    from .services.review import identify_face

    identify_face(ctx=ctx, face_id=args.face_id, external_id=args.external_id,
                  user=actor(ctx, args.by))
    print(f"face {args.face_id}: {args.external_id or 'unknown'}")
    return 0


def cmd_approve(args, ctx: Context) -> int:
    from .services.review import approve

    user = actor(ctx, args.by)
    failed = 0
    for pid in args.ids:
        try:
            approve(ctx=ctx, photo_id=pid, channel=args.channel, user=user, caption=args.caption)
            print(f"photo {pid}: approved for {args.channel}")
        except (GatekeeperError, NotFound) as exc:
            failed += 1
            print(f"gatekeeper: photo {pid}: {exc}", file=sys.stderr)
    return 1 if failed else 0


def cmd_publish(args, ctx: Context) -> int:
    from .services.publish import publish_approved

    results = publish_approved(ctx=ctx, channel=args.channel, on=args.today or ctx.today())
    for r in results:
        print(f"photo {r.photo_id} {r.channel}: "
              + (r.location if r.location else f"not published: {r.refused}"))
    print(f"{sum(1 for r in results if r.location)} photo(s) published")
    return 0


def cmd_recheck(args, ctx: Context) -> int:
    from .services.publish import recheck_live

    downed = recheck_live(ctx=ctx, on=args.today or ctx.today())
    print(f"{len(downed)} publication(s) taken down")
    return 0


def cmd_purge(args, ctx: Context) -> int:
    from .services.purge import apply_purge, plan_purge

    today = args.today or ctx.today()
    plan = apply_purge(ctx=ctx, today=today) if args.apply else plan_purge(ctx=ctx, today=today)
    verb = "purged" if args.apply else "would purge"
    emit(plan.as_dict(), args.json, [
        f"{verb} on {today}: {len(plan.people)} person record(s) {plan.people}",
        f"photos deleted: {len(plan.photos_to_delete)} {plan.photos_to_delete}",
        f"photos covered in place: {len(plan.photos_to_cover)} {sorted(plan.photos_to_cover)}",
    ])
    return 0


def cmd_audit(args, ctx: Context) -> int:
    from consent_db.audit import verify_chain

    with ctx.uow() as uow:
        broken = verify_chain(uow.session)
    if broken is not None:
        raise GatekeeperError(f"audit chain broken at event {broken}")
    print("audit chain intact")
    return 0


HANDLERS = {
    "users": cmd_users, "people": cmd_people, "consent": cmd_consent, "devices": cmd_devices,
    "enrol": cmd_enrol, "ingest": cmd_ingest, "scan": cmd_scan, "photos": cmd_photos,
    "identify": cmd_identify, "approve": cmd_approve, "publish": cmd_publish,
    "recheck": cmd_recheck, "purge": cmd_purge, "audit": cmd_audit,
}
