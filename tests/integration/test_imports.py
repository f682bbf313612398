"""MIS imports: idempotent, transactional, row-numbered errors, later files update."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from consent_db.models import AuditEvent, ConsentRecord, Person
from gatekeeper.errors import InvalidInput as ImportRejected
from gatekeeper.services.consent.people import import_csv
from tests.integration.helpers import PEOPLE_HEADER, person_row


def run_people(ctx, text: str):
    return import_csv(ctx=ctx, kind="people", data=text.encode())


def run_consent(ctx, text: str):
    return import_csv(ctx=ctx, kind="consent", data=text.encode())


def count(ctx, model) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_people_import_is_idempotent_and_updates(ctx):
    text = PEOPLE_HEADER + person_row("P1") + person_row("P2")
    assert run_people(ctx, text).created == 2
    again = run_people(ctx, text)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    later = run_people(ctx, PEOPLE_HEADER + person_row("P1", left="2026-07-20") + person_row("P2"))
    assert later.updated == 1
    with ctx.uow() as uow:
        p1 = uow.session.scalar(select(Person).where(Person.external_id == "P1"))
        assert p1.left_on == date(2026, 7, 20)


def test_columns_in_any_order_with_bom():
    from gatekeeper.adapters.mis_csv import parse_people

    text = ("\ufeffsafeguarding_no_photo,biometric_consent,left_on,joined_on,year_group,kind,"
            "family_name,given_name,external_id\nno,yes,,2020-09-01,Y5,pupil,Fam,Giv,X1\n")
    [row] = parse_people(text.encode())
    assert (row.external_id, row.given_name, row.biometric_consent) == ("X1", "Giv", True)


@pytest.mark.parametrize("text,message", [
    (PEOPLE_HEADER.replace(",kind", "") + "P1,A,B,Y5,2020-09-01,,yes,no\n", r"missing column\(s\): kind"),
    (PEOPLE_HEADER.strip() + ",shoe_size\n" + person_row("P1").strip() + ",5\n",
     r"unknown column\(s\): shoe_size"),
    (PEOPLE_HEADER + person_row("P1") + "P2,A,B,pupil,Y5,2020-09-31,,yes,no\n",
     "row 3, column joined_on: not a date"),
    (PEOPLE_HEADER + person_row("P1") + "P2,A,B,parent,Y5,2020-09-01,,yes,no\n",
     "row 3, column kind: must be one of pupil, staff"),
    (PEOPLE_HEADER + person_row("P1") + "P2,A,B,pupil,Y5,2020-09-01,,maybe,no\n",
     "row 3, column biometric_consent"),
    (PEOPLE_HEADER + person_row("P1") + person_row("P1"), "row 3, column external_id: same person as row 2"),
    (PEOPLE_HEADER + "P1,,B,pupil,Y5,2020-09-01,,yes,no\n", "row 2, column given_name: value is missing"),
    (PEOPLE_HEADER + person_row("P1").strip() + ",extra\n", "row 2: more values than columns"),
])
def test_bad_people_files_import_nothing(ctx, text, message):
    with pytest.raises(ImportRejected, match=message):
        run_people(ctx, text)
    assert count(ctx, Person) == 0
    assert count(ctx, AuditEvent) == 0


CONSENT_HEADER = "external_id,academic_year,channel,granted,recorded_on,evidence\n"


def test_consent_grant_withdraw_regrant(ctx):
    run_people(ctx, PEOPLE_HEADER + person_row("P1"))
    grant = CONSENT_HEADER + "P1,2026/27,online,yes,2026-09-10,form 12\n"
    assert run_consent(ctx, grant).created == 1
    assert run_consent(ctx, grant).unchanged == 1
    withdraw = CONSENT_HEADER + "P1,2026/27,online,no,2026-10-02,email\n"
    assert run_consent(ctx, withdraw).updated == 1
    assert run_consent(ctx, withdraw).unchanged == 1
    with ctx.uow() as uow:
        rec = uow.session.scalar(select(ConsentRecord))
        assert (rec.granted, rec.withdrawn_on) == (False, date(2026, 10, 2))
    assert run_consent(ctx, CONSENT_HEADER + "P1,2026/27,online,yes,2026-11-01,form 13\n").updated == 1
    with ctx.uow() as uow:
        rec = uow.session.scalar(select(ConsentRecord))
        assert (rec.granted, rec.withdrawn_on) == (True, None)


@pytest.mark.parametrize("row,message", [
    ("P9,2026/27,online,yes,2026-09-10,f\n", "row 3, column external_id: no such person"),
    ("P1,2026/28,online,yes,2026-09-10,f\n", "row 3, column academic_year"),
    ("P1,2026/27,website,yes,2026-09-10,f\n", "row 3, column channel: must be one of"),
    ("P1,2026/27,print,yes,10/09/26,f\n", "row 3, column recorded_on: not a date"),
])
def test_bad_consent_rows_import_nothing(ctx, row, message):
    run_people(ctx, PEOPLE_HEADER + person_row("P1"))
    with pytest.raises(ImportRejected, match=message):
        run_consent(ctx, CONSENT_HEADER + "P1,2026/27,display,yes,2026-09-10,f\n" + row)
    assert count(ctx, ConsentRecord) == 0
