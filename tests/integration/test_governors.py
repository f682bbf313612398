"""The governors' dashboard: its numbers equal counts taken straight from the database, its
charts render as SVG, and it carries no name, photo or person's id."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from consent_db.models import ConsentRecord, Person, Photo
from gatekeeper.domain.retention import academic_year
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services.governors import dashboard, dashboard_csv
from gatekeeper.services.publish import publish_approved, recheck_live
from gatekeeper.services.review import approve
from gatekeeper.services.scan import scan_photo
from tests.integration.helpers import PASSWORD, consent, event_photo, ingest


def test_dashboard_numbers_match_the_database(ctx, school):
    ids = [ingest(ctx, school["office1"], event_photo(f)).photo_id
           for f in (("tom", "eileen"), ("tom",), ("eileen",))]
    for i in ids[:2]:
        scan_photo(ctx=ctx, photo_id=i)
    approve(ctx=ctx, photo_id=ids[1], channels=[Channel.ONLINE], user=school["editor1"])
    publish_approved(ctx=ctx)
    consent(ctx, "TOM", granted="no")  # withdrawn: the live copy comes down
    recheck_live(ctx=ctx)
    board = dashboard(ctx=ctx)
    with ctx.uow() as uow:
        s = uow.session
        pupils = s.scalar(select(func.count(Person.id)).where(Person.kind == "pupil"))
        online = s.scalar(select(func.count(ConsentRecord.id)).where(
            ConsentRecord.channel == "online", ConsentRecord.granted.is_(True)))
        photos = s.scalar(select(func.count(Photo.id)))
    [row] = [c for c in board.consent if c["kind"] == "online"]
    assert row["pupils"] == pupils and row["granted"] == online and row["withdrawn"] == 1
    assert row["missing"] == pupils - row["granted"] - row["refused"] - row["withdrawn"]
    assert sum(board.stages.values()) == photos
    assert {m["what"]: m["count"] for m in board.per_month} == {"published": 1, "taken down": 1}
    assert len(board.takedown_hours) == 1 and board.audit_intact
    text = dashboard_csv(board)
    assert "GivenTOM" not in text and "TOM" not in text


def test_dashboard_page_and_charts_for_a_governor(ctx, school):
    from web.app import create_app

    app = create_app(ctx.settings, ctx)
    with TestClient(app) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text).group(1)
        client.post("/signin", data={"username": "gov1", "password": PASSWORD, "csrf": token})
        page = client.get("/reports").text
        assert "consent-table" in page and "GivenTOM" not in page and "TOM," not in page
        for name in ("consent", "publications", "stages"):
            svg = client.get(f"/reports/charts/{name}.svg")
            assert svg.status_code == 200 and svg.text.lstrip().startswith("<svg")
        assert client.get("/reports/governors.csv").text.startswith("section,key,value")


def test_the_re_consent_list_names_pupils_without_a_decision(ctx, school):
    from gatekeeper.services.people import missing_decisions, missing_decisions_csv

    rows = {r.external_id: r.kinds for r in missing_decisions(ctx=ctx)}
    assert rows["TOM"] == ("display", "print", "retain")  # online was recorded
    first = int(academic_year(ctx.today())[:4]) + 1  # next September: nothing recorded yet
    next_year = f"{first}/{(first + 1) % 100:02d}"
    assert {r.external_id for r in missing_decisions(ctx=ctx, year=next_year)} == {"TOM", "EIL"}
    assert missing_decisions_csv(missing_decisions(ctx=ctx)).startswith("external_id,")
