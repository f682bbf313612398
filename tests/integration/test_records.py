"""The DPIA and RoPA drafts: written from the instance's real configuration and the lawful basis
the DPO records; DPO only on the web. Database-independent: SQLite only."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from consent_db.models import AuditEvent
from gatekeeper.domain.fusion import FusionRule
from gatekeeper.domain.vocabulary import StoreBackend
from gatekeeper.errors import InvalidInput, PermissionDenied
from gatekeeper.services.dpo.compliance import (
    NOT_RECORDED,
    processing_document,
    processing_records,
    record_processing_details,
)
from gatekeeper.services.photos.devices import add_device
from tests.integration.helpers import PASSWORD, context_like, people, person_row, users

BASIS = "Consent, UK GDPR Article 6(1)(a), given per use each year"


@pytest.fixture
def database_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def configured(ctx):
    """An instance on S3 with a longer retention and PNG for print: the drafts must say so."""
    configured = context_like(ctx, retention_years_with_consent=5, retention_grace_days=45,
                              png_channels="print", publish_max_side=1600,
                              store_backend=StoreBackend.S3, s3_endpoint_url="https://minio.school.example:9000",
                              s3_private_bucket="school-originals", s3_public_bucket="school-public")
    people(configured, person_row("A1"), person_row("A2", bio="no"), person_row("A3", left="2025-07-20"))
    add_device(ctx=configured, make="Canon", model="EOS", serial="111")
    yield configured
    configured.close()


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_drafts_are_written_from_the_configuration_and_the_recorded_basis(configured):
    staff = users(configured)
    before = processing_document(ctx=configured, which="ropa")
    assert "DRAFT" in before.html and NOT_RECORDED in before.html
    with pytest.raises(PermissionDenied):
        record_processing_details(ctx=configured, user=staff["editor1"], bases={"online": BASIS})
    with pytest.raises(InvalidInput, match="no lawful basis is kept for web"):
        record_processing_details(ctx=configured, user=staff["dpo1"], bases={"web": BASIS})
    assert record_processing_details(ctx=configured, user=staff["dpo1"], bases={"online": BASIS},
                                     controller="Hillside Primary, DPO dpo@hillside.example")
    facts = processing_records(ctx=configured)
    assert facts.bases["online"] == BASIS and facts.bases["display"] == NOT_RECORDED
    assert facts.counts["pupils_on_roll"] == 2 and facts.counts["people_left"] == 1
    assert facts.counts["biometric_consent"] == 2 and facts.counts["cameras_active"] == 1
    for which in ("dpia", "ropa"):
        text = _text(processing_document(ctx=configured, which=which).html)
        assert "DRAFT" in text and BASIS in text and "Hillside Primary" in text
        for channel, side in (("display", "4096"), ("print", "4096"), ("online", "1600")):
            assert channel in text and f"{side} px" in text
        assert "PNG" in text and "5 years" in text and "45 days" in text
        assert "school-originals" in text and "minio.school.example" in text
        assert NOT_RECORDED in text  # display, print, recognition and records are still open
        assert "GivenA1" not in text and "A1," not in text  # counts only, never a name or id
    # the DPIA states the rule a pupil is recognised by (stricter than an adult's), not only
    # the adults' one
    rule = FusionRule()
    dpia = _text(processing_document(ctx=configured, which="dpia").html)
    assert f"for a pupil a fused score of at least {rule.child_threshold}" in dpia
    assert f"at least {rule.child_second} against a second of their reference photos" in dpia
    assert f"for staff and visitors at least {rule.threshold}" in dpia
    # and that a slightly blurred face may be recognised, under the stricter margin
    assert (f"under {rule.small_face_px} px or slightly blurred only with a margin "
            f"{rule.small_face_factor} times as large") in dpia
    with configured.uow() as uow:
        changes = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "option.set"))
        assert {e.details["key"] for e in changes} == {"lawful_basis", "controller_details"}


def test_draft_pdfs_render_without_fetching_anything(configured):
    from gatekeeper.adapters.pdf import RefusedFetch, html_to_pdf

    pdf = processing_document(ctx=configured, which="dpia").pdf()
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-64:]
    with pytest.raises(RefusedFetch):
        html_to_pdf('<img src="file:///etc/passwd">')


def test_records_pages_for_the_dpo_only(configured):
    from web.app import create_app

    users(configured)
    app = create_app(configured.settings, configured)
    with TestClient(app):
        for name, allowed in (("office1", False), ("editor1", False), ("gov1", False),
                              ("dpo1", True)):
            client = TestClient(app, follow_redirects=False)
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text).group(1)
            client.post("/signin", data={"username": name, "password": PASSWORD, "csrf": token})
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/account").text).group(1)
            page = client.get("/dpo/records")
            saved = client.post("/dpo/records", data={"csrf": token, "basis_print": BASIS,
                                                      "controller": "Hillside Primary"})
            if not allowed:
                assert page.status_code == saved.status_code == 403, name
                continue
            assert page.status_code == 200 and "Lawful basis of each use" in page.text
            assert saved.status_code == 303
            page = client.get("/dpo/records").text
            assert BASIS in page and 'id="dpia"' in page and "school-originals" in page
            assert "style=" not in page  # the CSP forbids inline styles
    assert processing_records(ctx=configured).bases["print"] == BASIS


def test_the_commands_write_drafts_reports_and_certificates(tmp_path, capsys):
    import json

    from gatekeeper.entrypoints.cli import main
    from tests.integration.helpers import PEOPLE_HEADER

    home = ["--home", str(tmp_path / "h")]
    pw, roll = tmp_path / "pw", tmp_path / "people.csv"
    pw.write_text(PASSWORD)
    roll.write_text(PEOPLE_HEADER + person_row("A1") + person_row("A2"))
    assert main(["init", *home]) == 0
    assert main(["users", "add", "dpo1", "--role", "dpo", "--password-file", str(pw), *home]) == 0
    assert main(["people", "import", str(roll), *home]) == 0
    assert main(["records", "basis", "online", BASIS, "--by", "dpo1", *home]) == 0
    assert main(["records", "ropa", "--out", str(tmp_path / "ropa.html"), *home]) == 0
    ropa = (tmp_path / "ropa.html").read_text()
    assert BASIS in ropa and "DRAFT" in ropa and "2 pupils" in _text(ropa)
    for args, start in ((["records", "dpia"], b"%PDF-"), (["report", "governors"], b"%PDF-")):
        out = tmp_path / f"{args[1]}.pdf"
        assert main([*args, "--out", str(out), *home]) == 0 and out.read_bytes().startswith(start)
    assert main(["report", "governors", "--out", str(tmp_path / "g.csv"), *home]) == 0
    assert (tmp_path / "g.csv").read_text().startswith("section,key,value")
    assert main(["erase", "A2", "--by", "dpo1", *home]) == 0  # a run with a certificate
    capsys.readouterr()
    assert main(["certificates", "--json", *home]) == 0
    [cert] = json.loads(capsys.readouterr().out)
    out = tmp_path / "certificate.pdf"
    assert main(["audit", "certificate", str(cert["id"]), "--out", str(out), *home]) == 0
    assert out.read_bytes().startswith(b"%PDF-")
    assert main(["audit", "certificate", "1", "--out", str(out), *home]) == 1
    assert main(["records", "dpia", "--out", str(tmp_path / "dpia.docx"), *home]) == 1
    assert main(["records", "basis", "web", BASIS, "--by", "dpo1", *home]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == ["gatekeeper: no deletion certificate 1",
                   f"gatekeeper: {tmp_path / 'dpia.docx'}: the file name must end in .pdf or .html",
                   "gatekeeper: no lawful basis is kept for web (one of display, print, online, "
                   "recognition, records)"]
    assert main(["audit", *home]) == 0  # the plain check still works
