"""MIS CSVs written by a UK office: ISO and DD/MM/YYYY dates, nothing ambiguous; the import
preview shows every field a new person arrives with."""

from __future__ import annotations

from datetime import date

import pytest

from gatekeeper.adapters.mis_csv import ImportRejected, parse_consent, parse_people
from gatekeeper.services.consent.people import preview_csv
from tests.integration.helpers import PEOPLE_HEADER

CONSENT_HEADER = "external_id,academic_year,channel,granted,recorded_on,evidence\n"


def one_person(joined: str, left: str = "") -> bytes:
    return (PEOPLE_HEADER + f"P1,Ann,Lee,pupil,Y5,{joined},{left},no,no\n").encode()


@pytest.mark.parametrize("text,expected", [
    ("2020-09-01", date(2020, 9, 1)),
    ("01/09/2020", date(2020, 9, 1)),
    ("1/9/2020", date(2020, 9, 1)),
    ("31/12/2020", date(2020, 12, 31)),
    (" 3/07/2021 ", date(2021, 7, 3)),
])
def test_iso_and_uk_dates_are_read(text, expected):
    [row] = parse_people(one_person(text))
    assert row.joined_on == expected


@pytest.mark.parametrize("text", [
    "12/31/2020",  # US style: no 31st month
    "09/01/20",  # two-digit year
    "1/9/20",
    "2020/09/01",
    "20200901",  # ISO basic form: not what an MIS export means
    "2020-W36-2",
    "31/02/2021",
    "1st September 2020",
    "01-09-2020",
    "2020-9-1",
])
def test_other_dates_are_refused_naming_row_and_column(text):
    with pytest.raises(ImportRejected, match=r"row 2, column joined_on: .*DD/MM/YYYY"):
        parse_people(one_person(text))


def test_us_style_dates_are_named_as_such():
    with pytest.raises(ImportRejected, match="month 31.*US"):
        parse_people(one_person("2020-09-01", left="12/31/2024"))


def test_consent_dates_take_uk_form_too():
    csv = CONSENT_HEADER + "P1,2026/27,online,yes,10/09/2026,form 12\n"
    [row] = parse_consent(csv.encode())
    assert row.recorded_on == date(2026, 9, 10)
    with pytest.raises(ImportRejected, match="row 2, column recorded_on"):
        parse_consent((CONSENT_HEADER + "P1,2026/27,online,yes,9/10/26,form\n").encode())


def test_preview_lists_what_a_new_person_arrives_with(ctx):
    csv = PEOPLE_HEADER + "P9,Ann,Lee,pupil,Year 4,01/09/2021,20/07/2027,yes,yes\n"
    report = preview_csv(ctx=ctx, kind="people", data=csv.encode())
    fields = {c.field: c.new for c in report.changes if c.external_id == "P9"}
    assert fields["new person"].startswith("pupil")
    assert fields["year_group"] == "Year 4"
    assert fields["left_on"] == "2027-07-20"
    assert fields["biometric_consent"] == "yes"
    assert fields["safeguarding_no_photo"] == "yes"


def test_help_lists_the_email_column_and_the_date_forms(ctx):
    from fastapi.testclient import TestClient

    from tests.integration.helpers import users
    from tests.integration.test_web_roles import signed_in
    from web.app import create_app

    users(ctx)
    app = create_app(ctx.settings, ctx)
    with TestClient(app):
        client, _ = signed_in(app, "dpo1")
        html = client.get("/help").text
    people_table = html.split("<h3>people.csv</h3>", 1)[1].split("</table>", 1)[0]
    assert "<td>email</td>" in people_table
    assert "DD/MM/YYYY" in people_table
