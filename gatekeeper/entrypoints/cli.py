"""The `gatekeeper` command: argv -> service calls. Every failure exits non-zero with one line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any, NoReturn, TypeAlias

from pydantic import ValidationError

from gatekeeper.config import Settings
from gatekeeper.domain.spans import clock_seconds
from gatekeeper.domain.vocabulary import Channel, parse_channel
from gatekeeper.entrypoints import commands
from gatekeeper.errors import GatekeeperError
from gatekeeper.services.stages import Stage


def _channel(text: str) -> Channel:
    try:
        return parse_channel(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {text!r}") from None


class _Parser(argparse.ArgumentParser):
    """Every (sub)command also takes --home, before or after the subcommand."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_argument("--home", type=Path, default=argparse.SUPPRESS,
                          help="instance folder (default $GATEKEEPER_HOME or ./gatekeeper-data)")

    def error(self, message: str) -> NoReturn:
        """One line, like every other failure (`--help` shows the usage)."""
        self.exit(2, f"gatekeeper: {self.prog.removeprefix('gatekeeper').strip() or 'usage'}: "
                     f"{message} (see --help)\n")


# What `add_subparsers` returns: one add_parser per command (generic only to the type checker).
Commands: TypeAlias = "argparse._SubParsersAction[_Parser]"


def _group(sub: Commands, name: str, help: str) -> Commands:
    """A command with actions (`gatekeeper users add ...`)."""
    group: Commands = sub.add_parser(name, help=help).add_subparsers(
        dest="action", required=True, parser_class=_Parser)
    return group


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: one function per command group, in the order of a school year
    (the order `gatekeeper --help` lists them)."""
    p = _Parser(prog="gatekeeper", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for add in (_init, _users, _people_and_consent, _parents, _subject_rights, _reports,
                _devices, _templates, _options, _uploads, _photos, _review, _retention,
                _operator):
        add(sub)
    return p


def _init(sub: Commands) -> None:
    init = sub.add_parser("init", help="create the database, stores and the first admin user")
    init.add_argument("--admin", default="admin", help="first admin's user name")


def _users(sub: Commands) -> None:
    users = _group(sub, "users", "manage users")
    ua = users.add_parser("add", help="add a user")
    ua.add_argument("username")
    ua.add_argument("--role", required=True, help="office, editor, dpo, governor (comma-separated)")
    ua.add_argument("--password-file", type=Path, help="read the password from this file")
    users.add_parser("list", help="list users")
    for action, what in (("disable", "disable a user (ends their sessions)"),
                         ("enable", "enable a disabled user")):
        users.add_parser(action, help=what).add_argument("username")
    upw = users.add_parser("passwd", help="set a user's password (ends their sessions)")
    upw.add_argument("username")
    upw.add_argument("--password-file", type=Path, help="read the password from this file")
    ur = users.add_parser("roles", help="set a user's roles (ends their sessions)")
    ur.add_argument("username")
    ur.add_argument("roles", help="office, editor, dpo, governor (comma-separated)")


def _people_and_consent(sub: Commands) -> None:
    for name, what in (("people", "people"), ("consent", "consent forms")):
        g = _group(sub, name, f"import {what} from CSV")
        gi = g.add_parser("import", help=f"import {what} (all rows or none)")
        gi.add_argument("csv", type=Path)
        gi.add_argument("--by", help="the user doing the import (named in the audit log)")
        if name == "consent":
            gm = g.add_parser("missing", help="pupils with no decision yet this academic year")
            gm.add_argument("--out", type=Path, help="write CSV here (default: print)")
        if name == "people":
            gs = g.add_parser("show", help="a person's register: photos, publications, consent")
            gs.add_argument("external_id")
            gs.add_argument("--json", action="store_true")


def _parents(sub: Commands) -> None:
    pa = _group(sub, "parents", "parents' contacts and the consent portal")
    pai = pa.add_parser("import", help="import contacts.csv (all rows or none; the whole list)")
    pai.add_argument("csv", type=Path)
    pai.add_argument("--by", required=True, help="the DPO doing the import")
    pai.add_argument("--dry-run", action="store_true", help="show what would change")
    _parents_invite(pa)
    pst = pa.add_parser("status", help="each child's consent this year and why")
    pst.add_argument("--year-group", type=int, metavar="N")
    pst.add_argument("--attention", action="store_true",
                     help="only disagreements, missing decisions, nobody to decide")
    pst.add_argument("--json", action="store_true")
    ppr = pa.add_parser("pupil-refuses", help="record a pupil's own refusal (DPO)")
    ppr.add_argument("external_id")
    ppr.add_argument("--use", action="append", required=True,
                     help="biometric (counts at any age), display, print, online, retain")
    ppr.add_argument("--note", required=True, help="how the pupil told the school")
    ppr.add_argument("--by", required=True, help="the DPO recording it")
    pvo = pa.add_parser("voice", help="the year from which pupils decide for themselves")
    pvo.add_argument("year", type=int)
    pvo.add_argument("--by", required=True, help="the DPO making the choice")


def _parents_invite(pa: Commands) -> None:
    pin = pa.add_parser("invite", help="send portal links (or write them to the outbox)")
    who = pin.add_mutually_exclusive_group(required=True)
    who.add_argument("--all", action="store_true", help="every child on roll")
    who.add_argument("--missing", action="store_true",
                     help="a reminder: only children with decisions missing this year")
    who.add_argument("--year-group", type=int, metavar="N", help="one National Curriculum year")
    who.add_argument("--contact", metavar="CONTACT_REF",
                     help="one family: a new link for this MIS contact_id (the older one stops)")
    pin.add_argument("--days", type=int, help="days a link stays valid (default 7)")
    pin.add_argument("--csv", type=Path, help="also write the links here (contact, email, link)")
    pin.add_argument("--by", required=True, help="the DPO sending the invitations")


def _subject_rights(sub: Commands) -> None:
    sar = sub.add_parser("sar", help="subject access export of one person (ZIP)")
    sar.add_argument("external_id")
    sar.add_argument("--out", type=Path, required=True)
    sar.add_argument("--by", required=True, help="the DPO answering the request")
    er = sub.add_parser("erase", help="erase one person on request (photos covered or deleted)")
    er.add_argument("external_id")
    er.add_argument("--by", required=True, help="the DPO deciding the erasure")
    er.add_argument("--dry-run", action="store_true", help="show what would happen")
    er.add_argument("--json", action="store_true")


def _reports(sub: Commands) -> None:
    rp = _group(sub, "report", "reports")
    rg = rp.add_parser("governors", help="the governors' report (aggregates only): PDF or CSV")
    rg.add_argument("--out", type=Path, required=True, help="FILE.pdf, or FILE.csv for the figures")
    rec = _group(sub, "records", "draft DPIA and Record of Processing Activities (ICO)")
    for which, what in (("dpia", "Data Protection Impact Assessment"),
                        ("ropa", "Record of Processing Activities")):
        rw = rec.add_parser(which, help=f"draft {what} from this instance's configuration")
        rw.add_argument("--out", type=Path, required=True, help="FILE.pdf or FILE.html")
    rb = rec.add_parser("basis", help="record the lawful basis of a use (channel, recognition, records)")
    rb.add_argument("use", help="display, print, online, recognition or records")
    rb.add_argument("text", help="the lawful basis, e.g. 'Consent, UK GDPR Article 6(1)(a)'")
    rb.add_argument("--by", required=True, help="the DPO recording it")
    ce = sub.add_parser("certificates", help="deletion certificates of purge and erasure runs")
    ce.add_argument("--json", action="store_true")


def _devices(sub: Commands) -> None:
    dev = _group(sub, "devices", "registered school cameras")
    da = dev.add_parser("add", help="register a camera")
    da.add_argument("--make", required=True)
    da.add_argument("--model", required=True)
    da.add_argument("--serial", required=True)
    da.add_argument("--label", default="")
    dev.add_parser("list", help="list cameras")
    dd = dev.add_parser("deactivate", help="a lost, stolen, sold or retired camera: its photos "
                                           "not yet published are held, and its live photos "
                                           "taken down")
    dd.add_argument("id", type=int)
    dd.add_argument("--since", type=_day, default=None,
                    help="take down only live photos taken on or after this day (YYYY-MM-DD; "
                         "default: all of them)")
    dev.add_parser("activate", help="accept a deactivated camera again: what only its "
                                    "deactivation held is released").add_argument("id", type=int)


def _templates(sub: Commands) -> None:
    en = sub.add_parser("enrol", help="reference photos -> face templates")
    en.add_argument("external_id")
    en.add_argument("photos", nargs="+", type=Path)
    tp = _group(sub, "templates", "face templates: the refresh list, removing one")
    ts = tp.add_parser("stale", help="pupils whose newest template is older than this academic "
                                     "year, or who have none")
    ts.add_argument("--csv", action="store_true", help="CSV instead of lines")
    tr = tp.add_parser("remove", help="delete one template; faces it may have identified are "
                                      "covered (dpo)")
    tr.add_argument("template_id", type=int)
    tr.add_argument("--reason", required=True, help="why (goes to the audit log: no names)")
    tr.add_argument("--by", required=True, help="the DPO removing it")


def _options(sub: Commands) -> None:
    op = _group(sub, "options", "the DPO's choices for this school")
    op.add_parser("list", help="every option and its value")
    os_ = op.add_parser("set", help="set an option (dpo): yes/no, a number or a text")
    os_.add_argument("key")
    os_.add_argument("value")
    os_.add_argument("--by", required=True, help="the DPO setting it")


def _uploads(sub: Commands) -> None:
    ing = sub.add_parser("ingest", help="upload event photos (files or folders)")
    ing.add_argument("paths", nargs="+", type=Path)
    ing.add_argument("--event", required=True)
    ing.add_argument("--by", required=True, help="uploading user")
    sc = sub.add_parser("scan", help="scan every photo waiting")
    sc.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                    help="worker processes (default: one per core)")


def _photos(sub: Commands) -> None:
    ph = _group(sub, "photos", "inspect and manage photos")
    pl = ph.add_parser("list")
    pl.add_argument("--status", choices=[s.value for s in Stage],
                    help="the stage, as every page shows it")
    pl.add_argument("--json", action="store_true")
    ps = ph.add_parser("show")
    ps.add_argument("id", type=int)
    ps.add_argument("--json", action="store_true")
    pr = ph.add_parser("release", help="release a held photo (dpo)")
    pr.add_argument("id", type=int)
    pr.add_argument("--by", required=True)
    for action, what in (("reject", "reject a photo"),
                         ("delete", "delete a held photo and its original (dpo)")):
        pj = ph.add_parser(action, help=what)
        pj.add_argument("id", type=int)
        pj.add_argument("--by", required=True)
        pj.add_argument("--reason", required=True)
    pc = ph.add_parser("cover", help="add a rectangle to cover (x0 y0 x1 y1)")
    pc.add_argument("id", type=int)
    pc.add_argument("box", nargs=4, type=int)
    pc.add_argument("--by", required=True)
    pc.add_argument("--from", dest="start_s", type=_clock,
                    help="a video: cover from this moment only (with --to): seconds (12.5) "
                         "or minutes:seconds (1:05)")
    pc.add_argument("--to", dest="end_s", type=_clock,
                    help="a video: cover up to this moment (seconds or minutes:seconds)")


def _clock(text: str) -> float:
    """A video moment as the web form takes it (seconds or minutes:seconds)."""
    try:
        return clock_seconds(text)
    except GatekeeperError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _review(sub: Commands) -> None:
    fi = sub.add_parser("identify", help="set or clear the person of a face")
    fi.add_argument("face_id", type=int)
    fi.add_argument("external_id", nargs="?", help="omit to mark the face unknown")
    fi.add_argument("--by", required=True)
    ap = sub.add_parser("approve", help="approve photos for a channel")
    ap.add_argument("ids", nargs="+", type=int)
    ap.add_argument("--channel", required=True, choices=list(Channel), type=_channel)
    ap.add_argument("--by", required=True)
    ap.add_argument("--caption", help="caption / alt text published with the photo (checked for names)")
    pub = sub.add_parser("publish", help="publish every approved photo")
    pub.add_argument("--channel", choices=list(Channel), type=_channel)
    pub.add_argument("--today", type=_day)
    rc = sub.add_parser("recheck", help="take down publications that lost consent")
    rc.add_argument("--today", type=_day)


def _retention(sub: Commands) -> None:
    pu = sub.add_parser("purge", help="retention purge")
    mode = pu.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dry-run", action="store_true")
    mode.add_argument("--apply", action="store_true")
    pu.add_argument("--today", type=_day)
    pu.add_argument("--json", action="store_true")
    au = sub.add_parser("audit", help="check the audit chain; `audit certificate ID` as PDF")
    au_sub = au.add_subparsers(dest="action", required=False, parser_class=_Parser)
    auc = au_sub.add_parser("certificate", help="a deletion certificate as PDF")
    auc.add_argument("id", type=int)
    auc.add_argument("--out", type=Path, required=True, help="FILE.pdf")


def _operator(sub: Commands) -> None:
    bk = sub.add_parser("backup", help="the whole embedded instance as one 0600 file")
    bk.add_argument("--out", type=Path, required=True, help="FILE (.tar.gz), must not exist")
    rs = sub.add_parser("restore", help="a backup into a new, empty --home")
    rs.add_argument("archive", type=Path)
    wk = sub.add_parser("worker", help="run queue consumers only (scale-out)")
    wk.add_argument("--processes", type=int, help="worker processes (default GATEKEEPER_WORKERS)")
    sv = sub.add_parser("serve", help="run the web service")
    sv.add_argument("--host")
    sv.add_argument("--port", type=int)
    sv.add_argument("--no-worker", action="store_true",
                    help="web only (workers run elsewhere with `gatekeeper worker`)")


def settings_for(args: argparse.Namespace) -> Settings:
    home = getattr(args, "home", None)
    return Settings(home=home) if home else Settings()


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs one command; a refusal becomes one line `gatekeeper: <reason>` and the
    error's exit code (one mapping, on the error classes)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        settings = settings_for(args)
    except ValidationError as exc:
        bad = "; ".join(f"GATEKEEPER_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
                        for e in exc.errors())
        print(f"gatekeeper: invalid setting {bad}", file=sys.stderr)
        return 1
    try:
        return commands.run(args, settings) or 0
    except GatekeeperError as exc:
        print(f"gatekeeper: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line for the user; the traceback only when asked for
        if os.environ.get("GATEKEEPER_DEBUG"):
            raise
        print(f"gatekeeper: unexpected {type(exc).__name__}", file=sys.stderr)
        return 2
