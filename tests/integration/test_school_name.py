"""The school's own name (GATEKEEPER_SCHOOL_NAME) where parents meet Gatekeeper: the sender and
subject of the invitations they receive, and the portal's title, so a link from "Gatekeeper"
does not look like a phishing message."""

from __future__ import annotations

import email
import email.policy

import pytest
from fastapi.testclient import TestClient

from gatekeeper.config import Settings
from gatekeeper.services.context import Context
from gatekeeper.services.portal import invitations
from gatekeeper.services.portal.invitations import Audience
from tests.integration.test_portal import links_by_recipient, setup_school

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SCHOOL = "Hillside Primary"


def named(ctx, **more) -> Context:
    settings = Settings(**{**ctx.settings.model_dump(), "school_name": SCHOOL, **more})
    return Context(settings, stores=ctx.stores, faces=ctx.faces)


def test_the_sender_takes_the_school_name_unless_one_is_set():
    assert Settings(school_name=SCHOOL).mail_from == f"{SCHOOL} <gatekeeper@localhost>"
    own = Settings(school_name=SCHOOL, mail_from="School Office <office@hillside.example>")
    assert own.mail_from == "School Office <office@hillside.example>"
    assert Settings().mail_from == "Gatekeeper <gatekeeper@localhost>"


@SQLITE_ONLY
def test_invitations_and_the_portal_carry_the_school_name(ctx):
    from web.app import create_app

    setup_school(ctx)
    school = named(ctx)
    report = invitations.invite(ctx=school, audience=Audience.ALL, actor_id=None)
    [eml] = [p for p in (ctx.settings.home / "outbox").iterdir()
             if "ann@example.org" in p.read_text()]
    mail = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert mail["From"].addresses[0].display_name == SCHOOL
    assert mail["Subject"].startswith(f"{SCHOOL}: ")
    app = create_app(school.settings, school)
    with TestClient(app) as parent:
        token = links_by_recipient(report)["C1"]
        page = parent.get(f"/portal/welcome/{token}").text
    flat = " ".join(page.split())
    assert f"<title>Welcome · {SCHOOL}</title>" in flat
    assert f"{SCHOOL} · photo consent</span>" in flat
    school.close()


@SQLITE_ONLY
def test_the_name_the_dpo_recorded_reaches_mail_pdfs_and_page_titles(ctx):
    """No setting: the first line of the controller's details (up to a comma) names the school
    in the invitations' sender and subject, the governors' report and every page title."""
    from gatekeeper.services.dpo.compliance import record_processing_details
    from gatekeeper.services.governors.reports import governors_html
    from tests.integration.test_web_roles import signed_in
    from web.app import create_app

    u = setup_school(ctx)
    assert ctx.settings.school_name is None
    record_processing_details(ctx=ctx, user=u["dpo1"], bases={},
                              controller="Oakfield Academy, 1 High Street\nDPO: dpo@oak.example")
    invitations.invite(ctx=ctx, audience=Audience.ALL, actor_id=None)
    [eml] = [p for p in (ctx.settings.home / "outbox").iterdir()
             if "ann@example.org" in p.read_text()]
    mail = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert mail["From"].addresses[0].display_name == "Oakfield Academy"
    assert mail["Subject"] == "Oakfield Academy: photo consent: your answers"
    report = " ".join(governors_html(ctx=ctx).split())
    assert "· Oakfield Academy</title>" in report and "Oakfield Academy - governors report" in report
    app = create_app(ctx.settings, ctx)
    with TestClient(app):
        dpo, _ = signed_in(app, "dpo1")
        assert "<title>Users · Oakfield Academy · Gatekeeper</title>" in dpo.get("/users").text
