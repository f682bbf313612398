"""Issue 27's open flows in real headless Chromium at 1280 and 390 px (axe clean, no sideways
scrolling, screenshots kept), one live server: refused forms come back to their page with the
reason beside the field and what was typed (a caption naming a pupil, an erasure typo, a refused
user name); an address naming nothing is a 404 page with a way back; an unknown stage is said so;
a caption given at approval is shown again (photo page, Live now); a colleague's duplicate says
its stage; My uploads keeps Stage and Next step in sight on a phone; the grouped menu; the
reports; a used portal link offers "e-mail me a new link"; a changed password lands with a
message; the DPO reads who blocks a photo by name; the favicon."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from consent_db.models import PortalInvitation
from gatekeeper.services.consent.enrol import enrol
from gatekeeper.services.consent.people import update_person
from gatekeeper.services.photos.devices import add_device
from gatekeeper.services.photos.publish import publish_approved
from gatekeeper.services.photos.scan import scan_pending
from gatekeeper.services.portal import contacts, invitations
from gatekeeper.services.portal import visits as portal
from gatekeeper.services.portal.invitations import Audience
from tests import imagegen
from tests.e2e.test_browser import SHOTS, browser, check_page, live, sign_in  # noqa: F401
from tests.integration.helpers import consent, ingest, make_user, people, person_row, users
from tests.integration.test_invitation_links import outbox
from tests.integration.test_portal import FAMILIES, links_by_recipient, school_people

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
WIDTHS = (1280, 390)


def _photo_bytes(i: int) -> bytes:
    img = imagegen.row_of_faces([imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")])[0]
    img.putpixel((i, 0), (i * 60, 7, 9))  # a file of its own
    return imagegen.jpeg(img, imagegen.exif_bytes())


def _school(ctx):
    u = users(ctx)
    make_user(ctx, "office2", "office")
    people(ctx, person_row("TOM"), person_row("EIL"))
    consent(ctx, "TOM")
    enrol(ctx=ctx, external_id="TOM", photos=[("t.jpg", (imagegen.FIXTURES / "tom_cruise.jpg")
                                                .read_bytes())])
    add_device(ctx=ctx, make="Canon", model="EOS 250D", serial="0123456789")
    photos = [ingest(ctx, u["office1"], _photo_bytes(i), f"p{i}.jpg").photo_id for i in range(3)]
    assert scan_pending(ctx=ctx)
    school_people(ctx)
    contacts.import_contacts(ctx=ctx, data=FAMILIES.encode(), actor_id=None)
    token = links_by_recipient(invitations.invite(ctx=ctx, audience=Audience.ALL,
                                                  actor_id=None))["C1"]
    portal.open_session(ctx=ctx, token=token)  # the family used their link
    with ctx.uow() as uow:  # a week ago
        for row in uow.session.scalars(select(PortalInvitation)):
            row.created_at -= timedelta(days=7)
        uow.commit()
    return photos, token


def _refused_beside(page, field: str, typed: str) -> None:
    """The reason sits right after the field's label, the field points at it, the text stays."""
    page.wait_for_selector("#form-error.beside")
    assert page.locator(field).input_value() == typed
    assert page.locator(field).get_attribute("aria-describedby") == "form-error"
    assert page.evaluate("""f => document.getElementById('form-error').previousElementSibling
        .contains(document.querySelector(f))""", field)


def test_a_school_day_without_dead_ends(ctx, live, browser, tmp_path):  # noqa: F811
    photos, used_token = _school(ctx)
    duplicate = tmp_path / "same-as-p0.jpg"
    duplicate.write_bytes(_photo_bytes(0))
    sent_before = frozenset(outbox(ctx))

    for i, width in enumerate(WIDTHS):
        photo_id = photos[i]
        dpo = browser.new_page(viewport={"width": width, "height": 900})
        sign_in(dpo, live, "dpo1")
        dpo.wait_for_url(f"{live}/review")
        assert dpo.locator(".menu-group").count() == 5  # not 18 links in a row
        assert dpo.locator("nav.menu a[aria-current=page]").inner_text() == "Review queue"

        dpo.goto(f"{live}/photos/{photo_id}")
        dpo.fill("#caption", "GivenTOM FamilyTOM wins the relay")
        dpo.click("#approve")
        _refused_beside(dpo, "#caption", "GivenTOM FamilyTOM wins the relay")
        assert dpo.url == f"{live}/photos/{photo_id}"
        assert "caption refused for online" in dpo.inner_text("#form-error")
        check_page(dpo, "form-error-caption", width)
        dpo.fill("#caption", "The relay at sports day")
        dpo.click("#approve")
        dpo.wait_for_url(re.compile(r".*/photos/\d+(\?approved=\d+)?$"))
        publish_approved(ctx=ctx)
        dpo.goto(f"{live}/photos/{photo_id}")
        assert "The relay at sports day" in dpo.inner_text("#approvals")
        assert "“The relay at sports day” · on the website" in dpo.inner_text("aside")
        dpo.goto(f"{live}/live")
        assert "The relay at sports day" in dpo.inner_text("#live-copies")
        check_page(dpo, "live-captions", width)

        dpo.goto(f"{live}/people/EIL/erase")
        dpo.fill("input[name=confirm]", "EI")
        dpo.click("#confirm-erase")
        _refused_beside(dpo, "input[name=confirm]", "EI")
        assert "type EIL exactly" in dpo.inner_text("#form-error")
        check_page(dpo, "form-error-erase", width)

        dpo.goto(f"{live}/users")
        dpo.fill("form[action='/users'] input[name=username]", "Office1")
        dpo.check("form[action='/users'] input[name=role][value=office]")
        dpo.fill("form[action='/users'] input[name=password]", "long-password-3")
        dpo.click("form[action='/users'] button[type=submit]")
        _refused_beside(dpo, "form[action='/users'] input[name=username]", "Office1")
        assert dpo.locator("form[action='/users'] input[name=password]").input_value() == ""
        assert dpo.locator("form[action='/users'] input[value=office]").is_checked()
        check_page(dpo, "form-error-user", width)

        answer = dpo.goto(f"{live}/photos/abc")
        assert answer.status == 404 and "valid integer" not in dpo.content()
        assert dpo.get_attribute("#way-back", "href") == "/review"
        check_page(dpo, "not-found", width)
        dpo.goto(f"{live}/review?status=bogus")
        assert "no stage called “bogus”" in dpo.inner_text("#unknown-status")
        check_page(dpo, "unknown-stage", width)
        dpo.goto(f"{live}/reports")
        check_page(dpo, "reports-school-order", width)
        dpo.close()

        office2 = browser.new_page(viewport={"width": width, "height": 900})
        sign_in(office2, live, "office2")
        office2.wait_for_url(f"{live}/upload")
        office2.fill("input[name=event]", "Sports Day")
        office2.set_input_files("#files", [str(duplicate)])
        office2.click("#upload-form button[type=submit]")
        office2.wait_for_selector("text=1 of 1 done")
        result = office2.inner_text("#progress")
        assert f"already uploaded by a colleague as photo {photos[0]}, now published" in result
        assert office2.locator("#progress a[href='/help#stages']").count() == 1
        check_page(office2, "duplicate-of-a-colleague", width)
        office2.close()

        office1 = browser.new_page(viewport={"width": width, "height": 900})
        sign_in(office1, live, "office1")
        office1.goto(f"{live}/uploads")
        for cell in ("td.stage-cell", "td.next-step"):
            box = office1.locator(f"#photo-{photos[2]} {cell}").bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (cell, box)
        check_page(office1, "my-uploads", width)
        office1.close()

        parent = browser.new_page(viewport={"width": width, "height": 900})
        parent.goto(f"{live}/portal/welcome/{used_token}")
        parent.click("button[type=submit]")
        parent.wait_for_selector("#new-link-form")
        assert "already been used" in parent.inner_text("[role=alert]")
        check_page(parent, "link-used-new-link", width)
        parent.fill("#new-link-email", "ann@example.org")
        parent.click("#new-link")
        parent.wait_for_selector("#new-link-sent")
        check_page(parent, "new-link-sent", width)
        parent.close()

    new_mail = [p.read_text() for p in outbox(ctx) if p not in sent_before]
    to_ann = [m for m in new_mail if "To: ann@example.org" in m]
    assert len(to_ann) == 1  # asked twice within ten minutes: one link

    gov = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(gov, live, "gov1")
    gov.wait_for_url(f"{live}/reports")
    gov.goto(f"{live}/account")
    gov.fill("input[name=current]", "long-password-1")
    gov.fill("input[name=new]", "another-long-pass-9")
    gov.fill("input[name=again]", "another-long-pass-9")
    gov.click("form[action='/account/password'] button[type=submit]")
    gov.wait_for_selector("#password-changed")
    check_page(gov, "password-changed", 1280)
    icon = gov.request.get(f"{live}/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] == "image/x-icon"
    gov.close()

    update_person(ctx=ctx, external_id="TOM", actor_id=None, left_on=None,
                  biometric_consent=True, safeguarding_no_photo=True)
    dpo = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(dpo, live, "dpo1")
    dpo.goto(f"{live}/photos/{photos[2]}")
    reason = dpo.inner_text(".viewer")
    assert "GivenTOM FamilyTOM (TOM) must never be photographed" in reason
    assert not re.search(r"person \d+", reason)
    check_page(dpo, "blocked-by-name", 1280)
    dpo.close()
