"""Issue 26: `people import`, `consent import` and `parents import` started at the same time
each apply whole, one after the other: none fails with "unexpected IntegrityError", nothing is
half-written, and the audit chain stays one chain. Real threads, each with its own engine and
connections (as separate processes would have), on SQLite and on PostgreSQL when reachable."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from consent_db import audit
from consent_db.models import AuditEvent, ConsentRecord, ContactChild, Person
from gatekeeper.config import Settings
from gatekeeper.domain.retention import academic_year
from gatekeeper.errors import InvalidState
from gatekeeper.services.accounts.instance import initialise
from gatekeeper.services.auditing import check_audit
from gatekeeper.services.consent.people import import_csv
from gatekeeper.services.context import Context
from gatekeeper.services.exclusive import run_import
from gatekeeper.services.portal import contacts
from tests.integration.helpers import PEOPLE_HEADER, person_row, users

BASE = [f"B{i:03d}" for i in range(60)]
NEW = [f"N{i:03d}" for i in range(120)]


def people_csv(ids: list[str]) -> bytes:
    return (PEOPLE_HEADER + "".join(person_row(ext) for ext in ids)).encode()


def consent_csv(ctx: Context, ids: list[str]) -> bytes:
    today = ctx.today()
    return ("external_id,academic_year,channel,granted,recorded_on,evidence\n" + "".join(
        f"{ext},{academic_year(today)},{channel},yes,{today.isoformat()},form\n"
        for ext in ids for channel in ("display", "print", "online"))).encode()


def contacts_csv(ids: list[str]) -> bytes:
    return ("contact_id,external_id,given_name,family_name,email,parental_responsibility,"
            "no_contact\n" + "".join(f"C{ext},{ext},Ann,Family{ext},{ext.lower()}@example.org,"
                                     "yes,no\n" for ext in ids)).encode()


def run_together(jobs: list[Callable[[], object]]) -> list[BaseException]:
    """Start every job at the same moment, each in its own thread; the exceptions they raised."""
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        start.wait()
        try:
            job()
        except BaseException as exc:  # collected: the test names them
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return errors


def test_imports_started_together_each_apply_whole(ctx):
    import_csv(ctx=ctx, kind="people", data=people_csv(BASE))
    own = [Context(ctx.settings, stores=ctx.stores, faces=ctx.faces) for _ in range(5)]
    try:
        errors = run_together([
            lambda: import_csv(ctx=own[0], kind="people", data=people_csv(NEW)),
            lambda: import_csv(ctx=own[1], kind="people", data=people_csv(NEW)),
            lambda: import_csv(ctx=own[2], kind="consent", data=consent_csv(ctx, BASE)),
            lambda: contacts.import_contacts(ctx=own[3], data=contacts_csv(BASE), actor_id=None),
            lambda: import_csv(ctx=own[4], kind="people", data=people_csv(BASE[:30] + NEW[:30])),
        ])
    finally:
        for c in own:
            c.close()
    assert errors == []
    with ctx.uow() as uow:
        s = uow.session
        assert s.scalar(select(func.count()).select_from(Person)) == len(BASE) + len(NEW)
        assert s.scalar(select(func.count()).select_from(ConsentRecord)) == 3 * len(BASE)
        assert s.scalar(select(func.count()).select_from(ContactChild)) == len(BASE)
        created = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "person.created"))
        assert created == len(BASE) + len(NEW)  # each person created once, by one import
    assert check_audit(ctx=ctx).problem is None


SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@SQLITE_ONLY
def test_a_refused_import_runs_again_from_nothing_and_at_last_names_the_collision(ctx):
    collided = IntegrityError("INSERT INTO people", {},
                              Exception("UNIQUE constraint failed: people.external_id"))
    calls: list[int] = []

    def work(session) -> str:
        calls.append(1)
        audit.record(session, "test.attempt", "person", len(calls))
        if len(calls) == 1:
            raise collided
        return "applied"

    assert run_import(ctx=ctx, work=work, commit=True, what="the people import") == "applied"
    with ctx.uow() as uow:  # the first attempt left nothing behind
        assert uow.session.scalars(select(AuditEvent.entity_id).where(
            AuditEvent.action == "test.attempt")).all() == [2]

    def always(session) -> None:
        raise collided

    with pytest.raises(InvalidState) as refused:
        run_import(ctx=ctx, work=always, commit=True, what="the people import")
    assert str(refused.value) == ("the people import collided with another change made at the "
                                  "same time, on people.external_id; nothing was imported: run "
                                  "it again")


@pytest.mark.slow  # ~40 s: four CLI processes with imports long enough to overlap
def test_import_commands_run_at_the_same_time_all_succeed(tmp_path, monkeypatch):
    """The reported failure, as it happened: `gatekeeper people import` twice, `consent import`
    and `parents import` started together on one embedded instance, as separate processes."""
    monkeypatch.delenv("GATEKEEPER_DATABASE_URL", raising=False)
    home = tmp_path / "school"
    settings = Settings(home=home)
    initialise(settings=settings, admin="admin")
    ctx = Context(settings)
    try:
        users(ctx)
        import_csv(ctx=ctx, kind="people", data=people_csv(BASE))
        many = [f"M{i:04d}" for i in range(1500)]  # long enough for the starts to overlap
        files = {"people.csv": people_csv(many), "consent.csv": consent_csv(ctx, BASE),
                 "contacts.csv": contacts_csv(BASE)}
        for name, data in files.items():
            (tmp_path / name).write_bytes(data)
        commands = [["people", "import", "people.csv"], ["people", "import", "people.csv"],
                    ["consent", "import", "consent.csv"],
                    ["parents", "import", "contacts.csv", "--by", "dpo1"]]
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEKEEPER_")}
        running = [subprocess.Popen([sys.executable, "-m", "gatekeeper", *argv, "--home",
                                     str(home)], cwd=tmp_path, env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                   for argv in commands]
        results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in running]
        assert results == [(0, "")] * len(commands)
        with ctx.uow() as uow:
            assert uow.session.scalar(select(func.count()).select_from(Person)) == \
                len(BASE) + len(many)
        assert check_audit(ctx=ctx).problem is None
    finally:
        ctx.close()
