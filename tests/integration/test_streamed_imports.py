"""Issue 26, finding 10: large CSVs are read as a stream. A 68 MB people.csv took 9+ minutes and
1.6 GB because the whole file was decoded, split into dictionaries and only then checked, and
each new person was written with a round trip of its own. Now a row is decoded, checked and
written at a time, and a preview keeps a count, not a copy, of routine changes past a limit."""

from __future__ import annotations

import io

import pytest

from gatekeeper.adapters.mis_csv import ImportRejected
from gatekeeper.entrypoints.cli import main
from gatekeeper.services.consent import people
from gatekeeper.services.portal import contacts
from tests.integration.helpers import PEOPLE_HEADER, person_row

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
CONTACTS_HEADER = ("contact_id,external_id,given_name,family_name,email,"
                   "parental_responsibility,no_contact\n")


class CountingReader(io.BytesIO):
    """A file that counts how much of it the importer has read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk

    def read1(self, size: int = -1) -> bytes:
        chunk = super().read1(size)
        self.taken += len(chunk)
        return chunk

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        n = super().readinto(buffer)
        self.taken += n
        return n


def _big_people(bad_row_at: int, rows: int) -> bytes:
    lines = [person_row(f"P{i:06d}") for i in range(rows)]
    lines[bad_row_at] = person_row(f"P{bad_row_at:06d}", bio="perhaps")
    return (PEOPLE_HEADER + "".join(lines)).encode()


@SQLITE
def test_a_bad_row_near_the_top_is_refused_without_reading_the_rest(ctx):
    data = _big_people(bad_row_at=2, rows=60_000)  # about 3.8 MB
    source = CountingReader(data)
    with pytest.raises(ImportRejected, match="row 4"):
        people.import_csv(ctx=ctx, kind="people", data=source)
    assert source.taken < len(data) // 10
    with ctx.uow() as uow:  # nothing was written
        from consent_db.models import Person

        assert uow.session.query(Person).count() == 0


@SQLITE
def test_a_bad_contact_row_near_the_top_is_refused_without_reading_the_rest(ctx, school):
    rows = "".join(f"C{i},TOM,Parent,Number{i},p{i}@example.org,yes,no\n" for i in range(60_000))
    data = (CONTACTS_HEADER + "C0,NOBODY,Parent,Zero,p0@example.org,yes,no\n" + rows).encode()
    source = CountingReader(data)
    with pytest.raises(ImportRejected, match="row 2"):
        contacts.import_contacts(ctx=ctx, data=source, actor_id=None)
    assert source.taken < len(data) // 10


@SQLITE
def test_the_cli_streams_a_file_and_imports_it_whole(ctx, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GATEKEEPER_DATABASE_URL", ctx.settings.resolved_database_url)
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE_HEADER + "".join(person_row(f"P{i:05d}") for i in range(3_000)))
    rc = main(["people", "import", str(path), "--home", str(ctx.settings.home)])
    assert rc == 0, capsys.readouterr().err
    assert "3000 created" in capsys.readouterr().out
    with ctx.uow() as uow:
        from consent_db.models import AuditEvent, Person

        assert uow.session.query(Person).count() == 3_000
        assert uow.session.query(AuditEvent).filter_by(action="person.created").count() == 3_000


@SQLITE
def test_a_retried_import_reads_its_file_again_from_the_start(ctx, monkeypatch):
    """The writer lock's retry runs the whole import again: a stream is rewound, not resumed."""
    from sqlalchemy.exc import OperationalError

    from gatekeeper.services import exclusive

    real = exclusive.lock_for_writing
    calls = {"n": 0}

    def lock_once_refused(session):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
        real(session)

    monkeypatch.setattr(exclusive, "lock_for_writing", lock_once_refused)
    monkeypatch.setattr(exclusive.time, "sleep", lambda s: None)
    data = io.BytesIO((PEOPLE_HEADER + "".join(person_row(f"P{i}") for i in range(5))).encode())
    data.read()  # a first attempt (or anyone) left the file at its end
    report = people.import_csv(ctx=ctx, kind="people", data=data)
    assert report.created == 5 and calls["n"] == 2


@SQLITE
def test_a_huge_preview_counts_routine_changes_but_lists_every_flag(ctx, monkeypatch):
    monkeypatch.setattr(people, "CHANGES_LISTED", 20)
    rows = [person_row(f"P{i:04d}", flag="yes" if i % 50 == 7 else "no") for i in range(400)]
    report = people.preview_csv(ctx=ctx, kind="people", data=(PEOPLE_HEADER + "".join(rows)).encode())
    assert report.created == 400 and report.unlisted > 0
    flagged = {c.external_id for c in report.changes
               if c.field == "safeguarding_no_photo" and c.new == "yes"}
    assert flagged == {f"P{i:04d}" for i in range(400) if i % 50 == 7}
    routine = [c for c in report.changes if c.field in ("new person", "year_group")]
    assert len(routine) <= 20
