"""The `gatekeeper` command: argv -> service calls. Every failure exits non-zero with one line."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from datetime import date
from pathlib import Path

from .config import CHANNELS, Settings


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {text!r}") from None


def _group(sub, name: str, help: str):
    return sub.add_parser(name, help=help).add_subparsers(dest="action", required=True)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gatekeeper", description=__doc__)
    p.add_argument("--home", type=Path,
                   help="instance folder (default $GATEKEEPER_HOME or ./gatekeeper-data)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = sub.add_parser("init", help="create the database, stores and the first admin user")
    init.add_argument("--admin", default="admin", help="first admin's user name")

    users = _group(sub, "users", "manage users")
    ua = users.add_parser("add", help="add a user")
    ua.add_argument("username")
    ua.add_argument("--role", required=True, help="office, editor, dpo, governor (comma-separated)")
    ua.add_argument("--password-file", type=Path, help="read the password from this file")
    users.add_parser("list", help="list users")

    for name, what in (("people", "people"), ("consent", "consent forms")):
        g = _group(sub, name, f"import {what} from CSV")
        gi = g.add_parser("import", help=f"import {what} (all rows or none)")
        gi.add_argument("csv", type=Path)

    dev = _group(sub, "devices", "registered school cameras")
    da = dev.add_parser("add", help="register a camera")
    da.add_argument("--make", required=True)
    da.add_argument("--model", required=True)
    da.add_argument("--serial", required=True)
    da.add_argument("--label", default="")
    dev.add_parser("list", help="list cameras")

    en = sub.add_parser("enrol", help="reference photos -> face templates")
    en.add_argument("external_id")
    en.add_argument("photos", nargs="+", type=Path)

    ing = sub.add_parser("ingest", help="upload event photos (files or folders)")
    ing.add_argument("paths", nargs="+", type=Path)
    ing.add_argument("--event", required=True)
    ing.add_argument("--by", required=True, help="uploading user")

    sc = sub.add_parser("scan", help="scan every photo waiting")
    sc.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                    help="worker processes (default: one per core)")

    ph = _group(sub, "photos", "inspect and manage photos")
    pl = ph.add_parser("list")
    pl.add_argument("--status")
    pl.add_argument("--json", action="store_true")
    ps = ph.add_parser("show")
    ps.add_argument("id", type=int)
    ps.add_argument("--json", action="store_true")
    pr = ph.add_parser("release", help="release a held photo (dpo)")
    pr.add_argument("id", type=int)
    pr.add_argument("--by", required=True)
    pj = ph.add_parser("reject", help="reject a photo")
    pj.add_argument("id", type=int)
    pj.add_argument("--by", required=True)
    pj.add_argument("--reason", required=True)
    pc = ph.add_parser("cover", help="add a rectangle to cover (x0 y0 x1 y1)")
    pc.add_argument("id", type=int)
    pc.add_argument("box", nargs=4, type=int)
    pc.add_argument("--by", required=True)

    fi = sub.add_parser("identify", help="set or clear the person of a face")
    fi.add_argument("face_id", type=int)
    fi.add_argument("external_id", nargs="?", help="omit to mark the face unknown")
    fi.add_argument("--by", required=True)

    ap = sub.add_parser("approve", help="approve photos for a channel")
    ap.add_argument("ids", nargs="+", type=int)
    ap.add_argument("--channel", required=True, choices=CHANNELS)
    ap.add_argument("--by", required=True)
    ap.add_argument("--caption", help="caption / alt text published with the photo (checked for names)")

    pub = sub.add_parser("publish", help="publish every approved photo")
    pub.add_argument("--channel", choices=CHANNELS)
    pub.add_argument("--today", type=_day)

    rc = sub.add_parser("recheck", help="take down publications that lost consent")
    rc.add_argument("--today", type=_day)

    pu = sub.add_parser("purge", help="retention purge")
    mode = pu.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dry-run", action="store_true")
    mode.add_argument("--apply", action="store_true")
    pu.add_argument("--today", type=_day)
    pu.add_argument("--json", action="store_true")

    sub.add_parser("audit", help="check the audit chain")

    wk = sub.add_parser("worker", help="run queue consumers only (scale-out)")
    wk.add_argument("--processes", type=int, help="worker processes (default GATEKEEPER_WORKERS)")

    sv = sub.add_parser("serve", help="run the web service")
    sv.add_argument("--host")
    sv.add_argument("--port", type=int)
    sv.add_argument("--no-worker", action="store_true",
                    help="web only (workers run elsewhere with `gatekeeper worker`)")
    return p


def settings_for(args) -> Settings:
    return Settings(home=args.home) if args.home else Settings()


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs one command; domain errors become `gatekeeper: <reason>` and exit 1."""
    # Before numpy/dlib load OpenBLAS: scanning processes must not fight over cores.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from consent_db.mis_import import ImportRejected

    from .errors import GatekeeperError

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        from . import commands

        return commands.run(args, settings_for(args)) or 0
    except (GatekeeperError, ImportRejected) as exc:
        print(f"gatekeeper: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line for the user; the traceback only when asked for
        if os.environ.get("GATEKEEPER_DEBUG"):
            raise
        print(f"gatekeeper: unexpected {type(exc).__name__}: {exc}"[:500], file=sys.stderr)
        return 2


def read_password(path: Path | None) -> str:
    if path is not None:
        return path.read_text().strip()
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        from .errors import GatekeeperError

        raise GatekeeperError("the two passwords differ")
    return first


def emit(data, as_json: bool, lines: list[str]) -> None:
    if as_json:
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print("\n".join(lines))
