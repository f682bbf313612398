"""Issue 26: every CSV Gatekeeper hands out opens in a spreadsheet as data, never as formulas.

Names and ids come from the MIS and from parents, so a pupil named `=HYPERLINK(...)` must reach
the office's spreadsheet as text (a leading `'`, OWASP's advice), while plain numbers and dates
stay as they are."""

from __future__ import annotations

import csv
import io

import pytest

from gatekeeper.domain.safe_csv import neutralise, to_csv
from gatekeeper.services.consent.people import import_csv, missing_decisions, missing_decisions_csv
from gatekeeper.services.consent.templates import stale_csv, stale_templates
from gatekeeper.services.governors.dashboard import Dashboard, dashboard_csv
from gatekeeper.services.portal import contacts, invitations
from gatekeeper.services.portal.invitations import Audience
from tests.integration.helpers import PEOPLE_HEADER

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
EVIL = ['=HYPERLINK("http://x","y")', "@SUM(1)", "+cmd|' /C calc'!A0", "-2+3"]


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@pytest.mark.parametrize(("cell", "expected"), [
    *((v, "'" + v) for v in EVIL),
    ("\tSUM(1)", "'\tSUM(1)"), ("\r=1", "'\r=1"), ("-", "'-"), ("+", "'+"), ("=", "'="),
    ("-3", "-3"), ("+12", "+12"), ("12", "12"), ("-2.5", "-2.5"), ("1e3", "1e3"),
    ("2026-12-07", "2026-12-07"), ("Year 5", "Year 5"), ("O'Neill", "O'Neill"), ("", ""),
    (3, 3), (-3, -3), (None, ""),
])
def test_a_cell_that_would_start_a_formula_gets_a_quote_and_numbers_stay(cell, expected):
    assert neutralise(cell) == expected


def test_to_csv_quotes_as_csv_does_and_neutralises_every_cell():
    text = to_csv([("a", "b"), ('=HYPERLINK("http://x","y")', "-3")])
    assert cells(text) == [["a", "b"], ['\'=HYPERLINK("http://x","y")', "-3"]]


def evil_people(ctx, *, bio: str = "yes") -> None:
    rows = "".join(f"E{i},{quoted(name)},{quoted(name)},pupil,Year 5,2020-09-01,,{bio},no\n"
                   for i, name in enumerate(EVIL))
    import_csv(ctx=ctx, kind="people", data=(PEOPLE_HEADER + rows).encode())


def assert_names_neutralised(text: str) -> None:
    rows = {r[0]: r for r in cells(text)[1:]}
    for i, name in enumerate(EVIL):
        assert rows[f"E{i}"][1:3] == ["'" + name, "'" + name]
    assert "\n=" not in text and ",=" not in text and ",@" not in text and ",+" not in text


@SQLITE_ONLY
def test_the_re_consent_list_neutralises_names(ctx):
    evil_people(ctx)
    assert_names_neutralised(missing_decisions_csv(missing_decisions(ctx=ctx)))


@SQLITE_ONLY
def test_the_templates_to_refresh_list_neutralises_names(ctx):
    evil_people(ctx)
    text = stale_csv(stale_templates(ctx=ctx))
    assert_names_neutralised(text)
    assert cells(text)[1][5] == "0"  # the count stays a number


def test_the_governors_figures_neutralise_text_and_keep_numbers():
    board = Dashboard(academic_year="2026-27", stages={"published": 12},
                      blocked_reasons={name: 2 for name in EVIL})
    rows = cells(dashboard_csv(board))
    assert rows[0] == ["section", "key", "value"]
    assert ["photos", "published", "12"] in rows
    for name in EVIL:
        assert ["blocked or held", "'" + name, "2"] in rows


@SQLITE_ONLY
def test_the_portal_links_list_neutralises_contact_ids(ctx):
    evil_people(ctx)
    family = "contact_id,external_id,given_name,family_name,email,parental_responsibility," \
             "no_contact\n" + "".join(
                 f"{quoted(name)},E{i},Ann,{quoted(name)},p{i}@example.org,yes,no\n"
                 for i, name in enumerate(EVIL))
    contacts.import_contacts(ctx=ctx, data=family.encode(), actor_id=None)
    report = invitations.invite(ctx=ctx, audience=Audience.ALL, actor_id=None)
    rows = cells(invitations.links_csv(report))
    assert rows[0] == ["contact", "email", "link"]
    assert sorted(r[0] for r in rows[1:]) == sorted("'" + name for name in EVIL)
