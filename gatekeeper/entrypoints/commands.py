"""What each CLI command does: parse its arguments, call one service, print the result."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from gatekeeper.adapters.filemodes import write_private
from gatekeeper.config import Settings
from gatekeeper.entrypoints.compose import build_context
from gatekeeper.entrypoints.output import emit, read_password
from gatekeeper.errors import EnrolmentRefused, GatekeeperError, InvalidInput, TooLarge
from gatekeeper.services.accounts import options
from gatekeeper.services.accounts.instance import ensure_initialised, initialise
from gatekeeper.services.accounts.users import (
    Actor,
    add_user,
    find_actor,
    list_users,
    set_active,
    set_password,
    set_roles,
)
from gatekeeper.services.auditing import (
    anchor_audit_head,
    certificate_pdf,
    certificates,
    check_audit,
)
from gatekeeper.services.consent import decisions, people, templates
from gatekeeper.services.consent.enrol import enrol
from gatekeeper.services.context import Context
from gatekeeper.services.dpo import compliance, purge, register
from gatekeeper.services.dpo.backup import backup, restore
from gatekeeper.services.governors import dashboard as governors
from gatekeeper.services.governors import reports
from gatekeeper.services.photos import live, publish, review, scan
from gatekeeper.services.photos import read as photo_read
from gatekeeper.services.photos.devices import add_device, set_device_active
from gatekeeper.services.photos.ingest import IngestOutcome, IngestResult, ingest_bytes
from gatekeeper.services.portal import answers as portal_answers
from gatekeeper.services.portal import contacts, invitations


def expand(paths: list[Path]) -> list[Path]:
    """Files as given, folders walked: every regular, non-hidden file (content decides later)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file()
                          and not any(part.startswith(".") for part in p.relative_to(path).parts))
        else:
            out.append(path)
    return out


def _write(path: Path, data: bytes | str) -> None:
    """Every --out file holds personal data or figures for the school only: 0600."""
    try:
        write_private(path, data)
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot write ({exc.strerror})") from None


def _suffix(path: Path, *allowed: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise InvalidInput(f"{path}: the file name must end in {' or '.join(allowed)}")
    return suffix


def _read(path: Path, limit: int | None = None) -> bytes:
    """The file's bytes; one over `limit` is refused before it is read (a 68 MB CSV must not
    be parsed for minutes in memory to be refused)."""
    try:
        if limit is not None and path.stat().st_size > limit:
            raise TooLarge(f"{path}: larger than {limit:,} bytes: split the file")
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read ({exc.strerror})") from None


@contextlib.contextmanager
def _open_csv(path: Path, limit: int) -> Iterator[BinaryIO]:
    """The CSV opened for reading as a stream (the import reads it a row at a time); one over
    `limit` is refused before a byte of it is read."""
    try:
        if path.stat().st_size > limit:
            raise TooLarge(f"{path}: larger than {limit:,} bytes: split the file")
        source = path.open("rb")
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read ({exc.strerror})") from None
    with source:
        yield source


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "init":
        result = initialise(settings=settings, admin=args.admin,
                            operator=settings.operator or f"cli:{getpass.getuser()}")
        if not result.created:
            print(f"Gatekeeper instance in {settings.home} is up to date.")
            return 0
        print(f"Gatekeeper instance created in {settings.home}.")
        print(f"First admin user: {result.admin}  password: {result.password}  "
              "(shown once: keep it safe)")
        return 0
    if args.command == "serve":
        from gatekeeper.entrypoints.serve import serve  # deferred: the web app loads only here

        return serve(settings, host=args.host, port=args.port, with_worker=not args.no_worker)
    if args.command == "worker":
        from gatekeeper.entrypoints.serve import run_worker  # deferred: as serve

        return run_worker(settings, workers=args.processes)
    if args.command == "restore":
        done = restore(settings=settings, archive=args.archive)
        print(f"{settings.home}: {done.files} file(s) restored from {args.archive}, checksums "
              "verified")
        return 0
    ensure_initialised(settings)
    if args.command == "backup":
        made = backup(settings=settings, out=args.out)
        print(f"{args.out}: backup of {settings.home} ({made.files} files, 0600)")
        return 0
    ctx = build_context(settings)
    try:
        return HANDLERS[args.command](args, ctx)
    finally:
        ctx.close()


def cmd_users(args: argparse.Namespace, ctx: Context) -> int:
    if args.action == "list":
        for u in list_users(ctx=ctx):
            print(f"{u.username}\t{u.roles}\t{'active' if u.active else 'disabled'}")
        return 0
    if args.action in ("disable", "enable"):
        u = set_active(ctx=ctx, username=args.username, active=args.action == "enable",
                       actor_id=None)
        print(f"user {u.username} {'enabled' if u.active else 'disabled'}")
        return 0
    if args.action == "roles":
        u = set_roles(ctx=ctx, username=args.username, roles=args.roles, actor_id=None)
        print(f"user {u.username} now has roles {u.roles}")
        return 0
    if args.action == "passwd":
        set_password(ctx=ctx, username=args.username,
                     password=read_password(args.password_file), actor_id=None)
        print(f"password of {args.username} changed; their sessions have ended")
        return 0
    row = add_user(ctx=ctx, username=args.username, roles=args.role,
                   password=read_password(args.password_file))
    print(f"user {row.username} added with roles {row.roles}")
    return 0


def cmd_import(args: argparse.Namespace, ctx: Context) -> int:
    if args.action == "missing":
        text = people.missing_decisions_csv(people.missing_decisions(ctx=ctx))
        if args.out:
            _write(args.out, text)
            print(f"{args.out}: {text.count(chr(10)) - 1} pupil(s) with decisions missing")
        else:
            print(text, end="")
        return 0
    if args.action == "show":
        reg = register.person_register(ctx=ctx, external_id=args.external_id)
        emit(reg, args.json, _register_lines(reg))
        return 0
    actor = _actor(ctx, args.by) if args.by else None
    with _open_csv(args.csv, people.MAX_CSV_BYTES) as source:
        report = people.import_csv(ctx=ctx, kind=args.command, data=source,
                                   actor_id=actor.id if actor else None)
    print(report.line("people" if args.command == "people" else "consent records"))
    return 0


def cmd_devices(args: argparse.Namespace, ctx: Context) -> int:
    if args.action == "list":
        for d in photo_read.devices(ctx=ctx):
            state = "active" if d.active else "deactivated"
            print(f"{d.id}\t{d.make}\t{d.model}\t{d.serial}\t{d.label}\t{state}")
        return 0
    if args.action in ("activate", "deactivate"):
        change = set_device_active(ctx=ctx, device_id=args.id,
                                   active=args.action == "activate", actor_id=None,
                                   since=getattr(args, "since", None))
        row = change.device
        print(f"device {row.id} {'activated' if row.active else 'deactivated'}"
              + (f"; {len(change.held)} photo(s) held, live copies taken down"
                 if change.held else "")
              + (f"; {len(change.released)} photo(s) released" if change.released else ""))
        return 0
    d = add_device(ctx=ctx, make=args.make, model=args.model, serial=args.serial,
                   label=args.label)
    print(f"device {d.id} registered ({d.make} {d.model}, serial {d.serial})")
    return 0


def cmd_enrol(args: argparse.Namespace, ctx: Context) -> int:
    photos = [(p.name, _read(p)) for p in args.photos]
    try:
        n = enrol(ctx=ctx, external_id=args.external_id, photos=photos)
    except EnrolmentRefused as exc:
        if not exc.refusals:
            raise
        # one line per refused photo, each with what to do about it
        print(f"gatekeeper: {args.external_id}: nothing was enrolled; {len(exc.refusals)} of "
              f"{len(photos)} reference photo(s) refused:", file=sys.stderr)
        for name, why in exc.refusals:
            print(f"  {name}: {why}", file=sys.stderr)
        return exc.exit_code
    print(f"{args.external_id}: {n} face template(s) stored"
          + ("" if n >= 3 else "; three or more recent photos are recognised more often"))
    return 0


def cmd_templates(args: argparse.Namespace, ctx: Context) -> int:
    if args.action == "stale":
        rows = templates.stale_templates(ctx=ctx)
        if args.csv:
            print(templates.stale_csv(rows), end="")
            return 0
        for r in rows:
            newest = f"newest {r.newest_on} ({r.newest_year})" if r.newest_on else "none"
            print(f"{r.external_id}\t{r.year_group}\t{r.templates} template(s)\t{newest}")
        print(f"{len(rows)} pupil(s) to take a new reference photo of")
        return 0
    done = templates.remove_template(ctx=ctx, template_id=args.template_id, reason=args.reason,
                                     user=_actor(ctx, args.by))
    print(f"template {done.template_id} of {done.external_id} removed; {done.faces_covered} "
          f"face(s) covered in photo(s) {list(done.photo_ids)}")
    return 0


def cmd_options(args: argparse.Namespace, ctx: Context) -> int:
    if args.action == "list":
        for o in options.list_options(ctx=ctx):
            value = ("yes" if o.value else "no") if o.kind == "bool" else o.value
            print(f"{o.key}\t{value}\t{o.label}")
        return 0
    changed = options.change_option(ctx=ctx, key=args.key, text=args.value,
                                     user=_actor(ctx, args.by))
    print(f"{args.key}: {'set' if changed else 'unchanged'}")
    return 0


def _actor(ctx: Context, username: str) -> Actor:
    """The user `--by` names. Only who: the service checks their role, as for every door."""
    return find_actor(ctx=ctx, username=username)


def cmd_ingest(args: argparse.Namespace, ctx: Context) -> int:
    user = _actor(ctx, args.by)
    files = expand(args.paths)
    if not files:
        raise InvalidInput("no files to ingest")
    rejected: list[str] = []
    for path in files:
        try:
            with path.open("rb") as fh:  # as the web reads: ingest refuses what is over
                data = fh.read(ctx.settings.max_upload_bytes + 1)
        except OSError as exc:
            result = IngestResult(str(path), IngestOutcome.REJECTED, reason=exc.strerror)
        else:
            result = ingest_bytes(ctx=ctx, data=data, name=path.name, event_name=args.event,
                                  actor_id=user.id)
        if result.outcome is IngestOutcome.REJECTED:
            rejected.append(str(path))
        ident = f" photo {result.photo_id}" if result.photo_id else ""
        why = f": {result.reason}" if result.reason else ""
        print(f"{path}: {result.outcome.value}{ident}{why}")
    if rejected:
        raise InvalidInput(f"{len(rejected)} of {len(files)} file(s) rejected: "
                           + ", ".join(rejected[:10]) + (" ..." if len(rejected) > 10 else ""))
    return 0


def cmd_scan(args: argparse.Namespace, ctx: Context) -> int:
    results = scan.scan_pending(ctx=ctx, processes=args.processes)
    for pid, status in sorted(results.items()):
        print(f"photo {pid}: {status}")
    print(f"{len(results)} photo(s) scanned")
    return 0


def cmd_photos(args: argparse.Namespace, ctx: Context) -> int:
    if args.action == "list":
        rows = photo_read.list_photos(ctx=ctx, status=args.status)
        emit(rows, args.json, [f"{r['id']}\t{r['stage_label']}\t{r['faces']} faces\t{r['event']}"
                               for r in rows] or ["no photos"])
        return 0
    if args.action == "show":
        d = photo_read.photo_detail(ctx=ctx, photo_id=args.id)
        emit(d, args.json, _show_lines(d))
        return 0
    user = _actor(ctx, args.by)
    if args.action == "release":
        review.release(ctx=ctx, photo_id=args.id, user=user)
        print(f"photo {args.id} released for scanning")
    elif args.action == "reject":
        review.reject(ctx=ctx, photo_id=args.id, reason=args.reason, user=user)
        print(f"photo {args.id} rejected")
    elif args.action == "delete":
        review.delete_held(ctx=ctx, photo_id=args.id, reason=args.reason, user=user)
        print(f"photo {args.id} deleted: its original is gone from the store")
    elif args.action == "cover":
        if (args.start_s is None) != (args.end_s is None):
            raise InvalidInput("give both --from and --to (seconds), or neither")
        span = None if args.start_s is None else (args.start_s, args.end_s)
        box = review.add_cover(ctx=ctx, photo_id=args.id, box=tuple(args.box), user=user,
                               span=span)
        when = f" from {span[0]:g} s to {span[1]:g} s" if span else ""
        print(f"photo {args.id}: cover {list(box)}{when} added")
    return 0


def _show_lines(d: dict[str, Any]) -> list[str]:
    lines = [f"photo {d['id']}  {d['stage_label']}  event {d['event']!r} #{d['number']}",
             f"sha256 {d['sha256']}",
             f"provenance {d['provenance']['verdict']} ({d['provenance']['make']} "
             f"{d['provenance']['model']}, serial {d['provenance']['serial']})"]
    if d.get("stage_cause"):
        lines.append(f"reason: {d['stage_cause']}")
    for f in d["faces"]:
        b = f["box"]
        lines.append(f"face {f['id']}: box t{b['top']} r{b['right']} b{b['bottom']} l{b['left']}"
                     f"  {f['quality']}  person {f['person'] or '-'}  distance {f['distance']}"
                     f"  margin {f['margin']}  ({f['decided_by']})")
    for ch, c in d["channels"].items():
        why = f" ({c['reason']})" if c["reason"] else ""
        lines.append(f"{ch}: {c['decision']}{why}{' (approved)' if c['approved'] else ''}"
                     f"  shown {c['shown_faces']}  covered {c['covered_faces']}")
    for p in d["publications"]:
        state = f"taken down {p['taken_down_at']}" if p["taken_down_at"] else "live"
        lines.append(f"published {p['channel']}: {p['location']} ({state})")
    return lines


def cmd_identify(args: argparse.Namespace, ctx: Context) -> int:
    review.identify_face(ctx=ctx, face_id=args.face_id, external_id=args.external_id,
                         user=_actor(ctx, args.by))
    print(f"face {args.face_id}: {args.external_id or 'unknown'}")
    return 0


def cmd_approve(args: argparse.Namespace, ctx: Context) -> int:
    user = _actor(ctx, args.by)
    failed = 0
    for pid in args.ids:
        try:
            review.approve(ctx=ctx, photo_id=pid, channels=[args.channel], user=user,
                           caption=args.caption)
            print(f"photo {pid}: approved for {args.channel}")
        except GatekeeperError as exc:
            failed += 1
            print(f"gatekeeper: photo {pid}: {exc}", file=sys.stderr)
    return 1 if failed else 0


def cmd_publish(args: argparse.Namespace, ctx: Context) -> int:
    results = publish.publish_approved(ctx=ctx, channel=args.channel, on=args.today or ctx.today())
    for r in results:
        print(f"photo {r.photo_id} {r.channel}: "
              + (r.location if r.location else f"not published: {r.refused}"))
    print(f"{sum(1 for r in results if r.location)} photo(s) published")
    return 0


def cmd_recheck(args: argparse.Namespace, ctx: Context) -> int:
    on = args.today or ctx.today()
    settled = live.sweep_dirty(ctx=ctx, grace=timedelta(0))  # what changed, then the rest
    downed = settled.taken_down + live.recheck_all(ctx=ctx, on=on)
    print(f"{len(downed)} publication(s) taken down, {len(settled.rerendered)} re-rendered")
    return 0


def cmd_purge(args: argparse.Namespace, ctx: Context) -> int:
    today = args.today or ctx.today()
    plan = (purge.apply_purge(ctx=ctx, today=today) if args.apply
            else purge.plan_purge(ctx=ctx, today=today))
    verb = "purged" if args.apply else "would purge"
    emit(plan.as_dict(), args.json, [
        f"{verb} on {today}: {len(plan.people)} person record(s) {plan.people}",
        f"photos deleted: {len(plan.photos_to_delete)} {plan.photos_to_delete}",
        f"photos covered in place: {len(plan.photos_to_cover)} {sorted(plan.photos_to_cover)}",
    ])
    return 0


def _register_lines(reg: dict[str, Any]) -> list[str]:
    lines = [f"{reg['external_id']}  {reg['given_name']} {reg['family_name']}  {reg['kind']}"
             f"  {reg['year_group'] or ''}  left {reg['left_on'] or '-'}",
             f"biometric consent {'yes' if reg['biometric_consent'] else 'no'}; "
             f"{len(reg['face_templates'])} face template(s)"]
    for c in reg["consent_history"]:
        answer = "granted" if c["granted"] else ("withdrawn" if c["withdrawn_on"] else "refused")
        lines.append(f"consent {c['academic_year']} {c['kind']}: {answer} (form {c['recorded_on']}"
                     f"{', withdrawn ' + c['withdrawn_on'] if c['withdrawn_on'] else ''})")
    for p in reg["photos"]:
        chans = ", ".join(f"{k} {v}" for k, v in p["channels"].items())
        lines.append(f"photo {p['photo_id']} {p['status']}: {chans}; "
                     f"{len(p['publications'])} publication(s)")
    lines.append(f"{len(reg['audit'])} audit event(s)")
    return lines


def cmd_sar(args: argparse.Namespace, ctx: Context) -> int:
    export = register.subject_access_export(ctx=ctx, external_id=args.external_id,
                                            user=_actor(ctx, args.by))
    _write(args.out, export.data)
    print(f"{args.out}: {export.files} files, {export.photos} photo(s)")
    return 0


def cmd_erase(args: argparse.Namespace, ctx: Context) -> int:
    user = _actor(ctx, args.by)
    plan = (purge.plan_erasure(ctx=ctx, external_id=args.external_id, user=user)
            if args.dry_run
            else purge.erase_person(ctx=ctx, external_id=args.external_id, user=user))
    verb = "would erase" if args.dry_run else "erased"
    emit(plan.as_dict(), args.json, [
        f"{verb} {args.external_id}: photos deleted {plan.photos_to_delete}, "
        f"covered in place {sorted(plan.photos_to_cover)}"])
    return 0


def cmd_report(args: argparse.Namespace, ctx: Context) -> int:
    if _suffix(args.out, ".pdf", ".csv") == ".pdf":
        _write(args.out, reports.governors_pdf(ctx=ctx))
        print(f"{args.out}: governors' report (PDF)")
        return 0
    board = governors.dashboard(ctx=ctx)
    _write(args.out, governors.dashboard_csv(board))
    print(f"{args.out}: governors' figures for {board.academic_year}")
    return 0


def cmd_records(args: argparse.Namespace, ctx: Context) -> int:
    if args.action == "basis":
        changed = compliance.record_processing_details(
            ctx=ctx, user=_actor(ctx, args.by), bases={args.use: args.text})
        print(f"lawful basis for {args.use} {'recorded' if changed else 'unchanged'}")
        return 0
    suffix = _suffix(args.out, ".pdf", ".html")
    doc = compliance.processing_document(ctx=ctx, which=args.action)
    _write(args.out, doc.pdf() if suffix == ".pdf" else doc.html)
    print(f"{args.out}: {doc.title}")
    return 0


def cmd_certificates(args: argparse.Namespace, ctx: Context) -> int:
    certs = certificates(ctx=ctx)
    emit(certs, args.json, [f"certificate {c['id']} {c['at']} {c['kind']}: "
                            f"{c['deleted']} (hash {c['hash'][:16]})" for c in certs]
         or ["no certificates yet"])
    return 0


def cmd_audit(args: argparse.Namespace, ctx: Context) -> int:
    if args.action == "certificate":
        _suffix(args.out, ".pdf")
        _write(args.out, certificate_pdf(ctx=ctx, certificate_id=args.id))
        print(f"{args.out}: deletion certificate {args.id}")
        return 0
    result = check_audit(ctx=ctx)
    if result.problem is not None:
        raise GatekeeperError(result.problem)
    count, head = anchor_audit_head(ctx=ctx)
    print(f"audit chain intact: {count} events, head {head[:16]} (anchored)")
    return 0


def cmd_parents(args: argparse.Namespace, ctx: Context) -> int:
    if args.action == "status":
        year, rows = decisions.overview(ctx=ctx, year_group=args.year_group)
        rows = [r for r in rows if r.needs_attention] if args.attention else rows
        data = [{"external_id": r.external_id, "year_group": r.year_group,
                 "may_decide": r.may_decide, "disagreement": r.disagreement,
                 "uses": {u: {"state": v.state, "reason": v.reason} for u, v in r.uses.items()}}
                for r in rows]
        emit({"academic_year": year, "children": data}, args.json, [
            f"{r.external_id}\t{r.year_group}\t" + "; ".join(
                f"{u} {v.state}" for u, v in r.uses.items())
            + ("\tPARENTS DISAGREE" if r.disagreement else "")
            + ("\tNOBODY MAY DECIDE" if not r.may_decide else "") for r in rows]
            or [f"no pupil to show for {year}"])
        return 0
    user = _actor(ctx, args.by)
    if args.action == "voice":
        options.set_option(ctx=ctx, option=decisions.PUPIL_VOICE_FROM_YEAR, value=args.year,
                           actor_id=user.id)
        print(f"pupils decide for themselves from Year {args.year}")
        return 0
    if args.action == "pupil-refuses":
        done = portal_answers.record_pupil_refusal(ctx=ctx, external_id=args.external_id, uses=args.use,
                                           note=args.note, actor_id=user.id,
                                           actor_name=user.username)
        print(f"recorded the pupil's refusal of {', '.join(args.use)}"
              + (f"; consent ended for {', '.join(done.withdrawn)}" if done.withdrawn else ""))
        return 0
    if args.action == "import":
        with _open_csv(args.csv, contacts.MAX_CONTACTS_BYTES) as source:
            report = contacts.import_contacts(ctx=ctx, data=source, actor_id=user.id,
                                              dry_run=args.dry_run)
        print(("would import " if args.dry_run else "") + report.line())
        return 0
    audience = (invitations.Audience.ALL if args.all else invitations.Audience.MISSING
                if args.missing else invitations.Audience.CONTACT if args.contact
                else invitations.Audience.YEAR_GROUP)
    result = invitations.invite(ctx=ctx, audience=audience, year_group=args.year_group,
                                days=args.days, actor_id=user.id, contact_ref=args.contact)
    if args.csv:
        _write(args.csv, invitations.links_csv(result))
    print(result.line() + (f"; links in {args.csv}" if args.csv else ""))
    return 0


HANDLERS: dict[str, Callable[[argparse.Namespace, Context], int]] = {
    "users": cmd_users, "people": cmd_import, "consent": cmd_import, "devices": cmd_devices,
    "enrol": cmd_enrol, "ingest": cmd_ingest, "scan": cmd_scan, "photos": cmd_photos,
    "identify": cmd_identify, "approve": cmd_approve, "publish": cmd_publish,
    "recheck": cmd_recheck, "purge": cmd_purge, "audit": cmd_audit, "sar": cmd_sar,
    "erase": cmd_erase, "certificates": cmd_certificates, "report": cmd_report,
    "parents": cmd_parents,
    "records": cmd_records,
    "templates": cmd_templates, "options": cmd_options,
}
