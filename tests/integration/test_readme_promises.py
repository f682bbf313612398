"""Promises the documentation makes (issue 16: they did not all hold), one test each.

The README was split into docs/ (issue 30): each test first reads the page that now makes its
promise, so a page that drops the promise fails here as surely as code that breaks it. The last
tests keep the README short and the documentation whole.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from consent_db.models import AuditEvent, FaceTemplate, Photo
from gatekeeper.config import Settings
from gatekeeper.errors import InvalidInput
from gatekeeper.services.auditing import anchor_audit_head, check_audit
from gatekeeper.services.consent.people import drop_leavers_templates, import_csv
from gatekeeper.services.context import Context
from gatekeeper.services.photos.read import list_photos, photo_detail
from gatekeeper.services.photos.review import add_cover
from gatekeeper.services.photos.scan import scan_photo
from tests.integration.helpers import PEOPLE_HEADER, event_photo, ingest, people, person_row
from workers import tasks

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def promised(page: str, *phrases: str) -> None:
    """The page (under docs/, or README.md) still makes the promise: each phrase is in it, with
    line breaks and runs of spaces read as one space."""
    path = ROOT / page if page == "README.md" else DOCS / page
    text = " ".join(path.read_text(encoding="utf-8").split())
    for phrase in phrases:
        assert phrase in text, f"{page} no longer says {phrase!r}"


def test_audit_events_name_the_operator_of_unattended_work(ctx, school):
    promised("school/dpo.md", "default `cli:<login>`", "`system:<task>` for the worker's scheduled work")
    cli = Context(ctx.settings, stores=ctx.stores, faces=ctx.faces, operator="cli:alice")
    import_csv(ctx=cli, kind="people", data=(PEOPLE_HEADER + person_row("NEW")).encode())
    ingest(ctx, school["office1"], event_photo())
    worker = Context(ctx.settings, stores=ctx.stores, faces=ctx.faces)
    tasks.make_huey(ctx.settings, immediate=True, ctx=worker).gatekeeper_tasks.sweep()
    with ctx.uow() as uow:
        created = uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "person.created")).all()[-1]
        scanned = uow.session.scalar(select(AuditEvent).where(AuditEvent.action == "photo.scanned"))
    assert created.details["by"] == "cli:alice"
    assert scanned.details["by"] == "system:scan"


def test_deleting_the_newest_audit_events_is_detected(ctx, school):
    promised("school/dpo.md", "so deleting the newest events is detected, not only editing them")
    anchor_audit_head(ctx=ctx)
    assert check_audit(ctx=ctx).problem is None
    with ctx.uow() as uow:
        newest = uow.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
        uow.session.execute(delete(AuditEvent).where(AuditEvent.id >= newest - 1))
        uow.commit()
    assert "truncated" in check_audit(ctx=ctx).problem


def test_a_later_safeguarding_flag_blocks_the_photo_everywhere(ctx, school):
    promised("school/dpo.md", "A safeguarding flag set later (import or DPO page) blocks every photo")
    photo_id = ingest(ctx, school["office1"], event_photo()).photo_id
    assert scan_photo(ctx=ctx, photo_id=photo_id) == "awaiting_review"
    people(ctx, person_row("TOM", flag="yes"), person_row("EIL"))
    assert [p["id"] for p in list_photos(ctx=ctx, status="blocked")] == [photo_id]
    detail = photo_detail(ctx=ctx, photo_id=photo_id)
    assert detail["status"] == "blocked" and "safeguarding" in detail["status_reason"]


def test_a_failed_scan_is_blocked_on_every_channel(ctx, school, monkeypatch):
    promised("developers/architecture.md", "or whose scan failed, is blocked")
    promised("school/editor.md", "or whose scan failed, is **blocked**")
    photo_id = ingest(ctx, school["office1"], event_photo()).photo_id

    def broken(*_a, **_k):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(type(ctx.faces), "find_faces", broken)
    assert scan_photo(ctx=ctx, photo_id=photo_id) == "blocked"
    channels = photo_detail(ctx=ctx, photo_id=photo_id)["channels"]
    assert {c["decision"] for c in channels.values()} == {"blocked"}
    assert all("scan failed" in c["reason"] for c in channels.values())


def test_templates_go_on_the_leaving_date_itself(ctx, school):
    promised("school/dpo.md", "by the daily job on the leaving date itself")
    leaving = date.today() + timedelta(days=10)
    people(ctx, person_row("TOM", left=leaving.isoformat()), person_row("EIL"))
    with ctx.uow() as uow:
        assert uow.session.scalars(select(FaceTemplate)).all()
    later = Context(ctx.settings, stores=ctx.stores, faces=ctx.faces, clock=lambda: leaving)
    assert drop_leavers_templates(ctx=later) == 1


def test_covers_outside_the_photo_are_refused(ctx, school):
    promised("school/editor.md", "one that lies wholly outside the photo is refused")
    photo_id = ingest(ctx, school["office1"], event_photo()).photo_id
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        w, h = photo.width, photo.height
    for box in ((w, h, w + 500, h + 500), (w + 80, 0, w + 300, 50), (-50, -50, -1, -1)):
        with pytest.raises(InvalidInput, match="outside the photo"):
            add_cover(ctx=ctx, photo_id=photo_id, box=box, user=school["editor1"])


def test_the_first_bad_consent_row_is_named(ctx, school):
    promised("reference/csv.md", "the first bad row stops it and the error names the row")
    csv = ("external_id,academic_year,channel,granted,recorded_on,evidence\n"
           "NOBODY,2026/27,online,yes,2026-09-10,\n"
           "TOM,2026/27,online,maybe,2026-09-10,\n")
    with pytest.raises(InvalidInput, match="row 2, column external_id"):
        import_csv(ctx=ctx, kind="consent", data=csv.encode())


def _cli(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gatekeeper", *args], capture_output=True,
                          text=True, env={**os.environ, **(env_extra or {})})


def test_cli_options_and_one_line_failures(tmp_path):
    promised("reference/cli.md", "Every command takes `--home DIR`, before or after the subcommand",
             "prints one line, `gatekeeper: reason`, and exits non-zero")
    home = str(tmp_path / "h1")
    assert _cli("init", "--home", home).returncode == 0
    listed = _cli("users", "list", "--home", home)  # --home after the subcommand
    assert listed.returncode == 0 and "admin" in listed.stdout
    no_mode = _cli("purge", "--home", home)
    assert no_mode.returncode == 2 and len(no_mode.stderr.strip().splitlines()) == 1
    assert no_mode.stderr.startswith("gatekeeper: ")
    blur = _cli("publish", "--home", home, env_extra={"GATEKEEPER_COVER_MODE": "blur"})
    assert blur.returncode == 1 and len(blur.stderr.strip().splitlines()) == 1
    assert "GATEKEEPER_COVER_MODE" in blur.stderr


def test_folder_ingest_goes_by_content_and_names_what_it_refuses(tmp_path):
    promised("school/office.md", "Gatekeeper looks at the content, not the file name's extension",
             "every file it refuses is named")
    promised("developers/architecture.md", "recognised by content, not by extension")
    home = str(tmp_path / "h")
    assert _cli("init", "--home", home).returncode == 0
    pw = tmp_path / "pw"
    pw.write_text("long-password-1")
    _cli("users", "add", "office1", "--role", "office", "--password-file", str(pw), "--home", home)
    folder = tmp_path / "trip"
    folder.mkdir()
    (folder / "no-extension").write_bytes(event_photo())
    (folder / "camera.dat").write_bytes(event_photo(("tom",)))
    (folder / "notes.txt").write_text("not a photo")
    out = _cli("ingest", str(folder), "--event", "Trip", "--by", "office1", "--home", home)
    assert out.stdout.count("held photo") == 2 or out.stdout.count("accepted photo") == 2
    assert out.returncode == 1 and "notes.txt" in out.stderr and "1 of 3" in out.stderr


def test_the_readme_is_short_and_points_into_the_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    for heading in ("## Two commands", "## Your first day", "## Read on"):
        assert heading in readme
    # The first-day checklist, in its order: users, people, consent and contacts, cameras,
    # enrolment, upload, review.
    steps = re.findall(r"^\d\. \*\*([^*]+)\*\*", readme, re.M)
    assert steps == ["Users.", "People.", "Consent and contacts.", "Cameras.", "Enrolment.",
                     "Upload.", "Review."]
    links = re.findall(r"\]\(((?:docs|bench)/[^)#]+)(?:#[^)]*)?\)", readme)
    assert len(links) > 15
    for link in links:
        assert (ROOT / link).exists(), f"README links to {link}, which does not exist"
    promised("README.md", "`gatekeeper backup --out FILE`", "`gatekeeper restore FILE --home DIR`",
             "run `gatekeeper init` (it upgrades the database)",
             "signing in over plain `http://` is impossible", "**A worker must always run.**")


def test_every_setting_is_on_the_configuration_page():
    page = (DOCS / "reference" / "configuration.md").read_text(encoding="utf-8")
    missing = [f"GATEKEEPER_{name.upper()}" for name in Settings.model_fields
               if f"`GATEKEEPER_{name.upper()}`" not in page]
    assert not missing, f"not on docs/reference/configuration.md: {missing}"


def test_the_docs_say_what_operators_must_know():
    promised("operations/production.md", "**The buckets must exist before the first upload.**",
             "`s3:ListBucketVersions`", "`s3:DeleteObjectVersion`", "`s3:PutBucketPublicAccessBlock`",
             "nobody can sign in at an `http://` address**", "If no worker runs, approvals wait")
    promised("operations/backup.md", "gatekeeper restore /backups/", "Run **`gatekeeper init`**")
    promised("school/templates.md", "## Finding a template's id", "the first column, headed `#`")
    # Figures come from the benchmark results, included whole, not copied by hand.
    promised("developers/benchmarks.md", '--8<-- "bench/results/README.md')
