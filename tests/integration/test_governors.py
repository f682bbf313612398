"""The governors' dashboard: its numbers equal counts taken straight from the database, its
charts render as SVG, and it carries no name, photo or person's id."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from consent_db.models import AuditEvent, ConsentRecord, Person, Photo, Publication, utcnow
from gatekeeper.domain.retention import academic_year
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services.auditing import certificates
from gatekeeper.services.dpo.purge import erase_person
from gatekeeper.services.governors.charts import CHARTS
from gatekeeper.services.governors.dashboard import dashboard, dashboard_csv
from gatekeeper.services.governors.reports import governors_html
from gatekeeper.services.photos.live import recheck_all as recheck_live
from gatekeeper.services.photos.publish import publish_approved
from gatekeeper.services.photos.review import approve
from gatekeeper.services.photos.scan import scan_photo
from gatekeeper.services.stages import stage_of
from tests.integration.helpers import PASSWORD, consent, event_photo, ingest


def test_dashboard_numbers_match_the_database(ctx, school):
    ids = [ingest(ctx, school["office1"], event_photo(f)).photo_id
           for f in (("tom", "eileen"), ("tom",), ("eileen",))]
    held = ingest(ctx, school["office1"], event_photo(("eileen", "tom"), exif=False)).photo_id
    for i in ids[:2]:
        scan_photo(ctx=ctx, photo_id=i)
    with ctx.uow() as uow:  # an older upload, so that the months differ
        uow.session.get(Photo, ids[2]).created_at = datetime(2025, 10, 3, 9, 0)
        uow.commit()
    approve(ctx=ctx, photo_id=ids[1], channels=[Channel.ONLINE], user=school["editor1"])
    publish_approved(ctx=ctx)
    consent(ctx, "TOM", granted="no")  # withdrawn: the live copy comes down
    recheck_live(ctx=ctx)
    erase_person(ctx=ctx, external_id="EIL", user=school["dpo1"])  # a run with a certificate
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
    with ctx.uow() as uow:
        s = uow.session
        by_month = Counter((p.created_at.strftime("%Y-%m"), stage_of(p).stage.value)
                           for p in s.scalars(select(Photo)))
        held_or_blocked = s.scalar(select(func.count(Photo.id)).where(
            Photo.status.in_(["held", "blocked"])))
        certificates = list(s.scalars(select(AuditEvent).where(
            AuditEvent.action == "certificate.issued")))
        downs = s.scalar(select(func.count(Publication.id)).where(
            Publication.taken_down_at.is_not(None)))
    assert {(r["month"], r["stage"]): r["photos"] for r in board.stage_months} == by_month
    assert {m for m, _stage in by_month} == {"2025-10", utcnow().strftime("%Y-%m")}
    assert by_month[(utcnow().strftime("%Y-%m"), "held")] == 1 and held
    assert sum(board.blocked_reasons.values()) == held_or_blocked == 1
    assert sum(board.takedown_bands().values()) == len(board.takedown_hours) == downs == 1
    assert [r["certificate"] for r in board.runs] == [c.id for c in certificates]
    [run] = board.runs
    assert run["kind"] == "erasure" and run["people"] == 1 and run["photos_covered"] == 1
    assert run["photos_deleted"] == len(certificates[0].details["photos_deleted"])
    assert board.erasures == 1 and board.purges == 0
    text = dashboard_csv(board)
    assert "GivenTOM" not in text and "TOM" not in text
    report = re.sub(r'src="data:[^"]*"', "", governors_html(ctx=ctx))  # charts are base64
    assert "TOM" not in report and "Given" not in report and "EIL" not in report
    assert f"<td>{run['certificate']}</td>" in report and "2025-10" in report


def test_dashboard_page_and_charts_for_a_governor(ctx, school):
    from web.app import create_app

    erase_person(ctx=ctx, external_id="EIL", user=school["dpo1"])  # one certificate
    [cert] = certificates(ctx=ctx)
    app = create_app(ctx.settings, ctx)
    with TestClient(app):
        client, dpo = TestClient(app), TestClient(app)
        for who, name in ((client, "gov1"), (dpo, "dpo1")):
            token = re.search(r'name="csrf" value="([^"]+)"', who.get("/signin").text).group(1)
            who.post("/signin", data={"username": name, "password": PASSWORD, "csrf": token})
        page = client.get("/reports").text
        assert "consent-table" in page and "GivenTOM" not in page and "TOM," not in page
        for name in CHARTS:
            svg = client.get(f"/reports/charts/{name}.svg")
            assert svg.status_code == 200 and svg.text.lstrip().startswith("<svg"), name
            assert f'src="/reports/charts/{name}.svg"' in page
        assert client.get("/reports/charts/nothing.svg").status_code == 404
        assert client.get("/reports/governors.csv").text.startswith("section,key,value")
        pdf = client.get("/reports/governors.pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-") and 'id="governors-pdf"' in page
        # aggregates only: no subject access export, no certificate with its record ids
        assert client.get("/people/TOM/export").status_code == 403
        assert client.get(f"/certificates/{cert['id']}.pdf").status_code == 403
        listed = client.get("/certificates").text
        assert "erasure" in listed and ".pdf" not in listed  # counts only
        assert f'href="/certificates/{cert["id"]}.pdf"' in dpo.get("/certificates").text
        download = dpo.get(f"/certificates/{cert['id']}.pdf")
        assert download.status_code == 200 and download.content.startswith(b"%PDF-")


def test_the_re_consent_list_names_pupils_without_a_decision(ctx, school):
    from gatekeeper.services.consent.people import missing_decisions, missing_decisions_csv

    rows = {r.external_id: r.kinds for r in missing_decisions(ctx=ctx)}
    assert rows["TOM"] == ("display", "print", "retain")  # online was recorded
    first = int(academic_year(ctx.today())[:4]) + 1  # next September: nothing recorded yet
    next_year = f"{first}/{(first + 1) % 100:02d}"
    assert {r.external_id for r in missing_decisions(ctx=ctx, year=next_year)} == {"TOM", "EIL"}
    assert missing_decisions_csv(missing_decisions(ctx=ctx)).startswith("external_id,")
