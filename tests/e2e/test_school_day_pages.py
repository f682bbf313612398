"""The pages issue 27 changed, in real headless Chromium at 1280 and 390 px (axe clean, no
sideways scrolling, screenshots kept): the DPO deletes a held photo from its page, previews a
people.csv with UK dates and a new person's flags, finds one family and sends them a new link."""

from __future__ import annotations

import pytest

from gatekeeper.services.portal import contacts
from tests import imagegen
from tests.e2e.test_browser import SHOTS, browser, check_page, live, sign_in  # noqa: F401
from tests.integration.helpers import PEOPLE_HEADER, ingest, users
from tests.integration.test_portal import FAMILIES, school_people

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def test_the_dpo_deals_with_a_held_photo_an_import_and_one_family(ctx, live, browser,  # noqa: F811
                                                                  tmp_path):
    u = users(ctx)
    school_people(ctx)
    contacts.import_contacts(ctx=ctx, data=FAMILIES.encode(), actor_id=None)
    base = imagegen.row_of_faces([imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")])[0]
    held = []
    for i in range(2):
        img = base.copy()
        img.putpixel((i, 0), (i * 90, 3, 4))
        held.append(ingest(ctx, u["office1"], imagegen.jpeg(img, imagegen.exif_bytes()),
                           f"{i}.jpg").photo_id)
    csv_path = tmp_path / "people.csv"
    csv_path.write_text(PEOPLE_HEADER + "P9,Ann,Lee,pupil,Year 4,01/09/2021,20/07/2027,yes,yes\n")

    for width, photo_id in zip((1280, 390), held, strict=True):
        page = browser.new_page(viewport={"width": width, "height": 900})
        sign_in(page, live, "dpo1")
        page.wait_for_url(f"{live}/review")
        page.goto(f"{live}/photos/{photo_id}")
        check_page(page, "held-photo", width)
        page.fill("#delete-reason", "taken on a personal phone")
        page.click("#delete")  # the box is not ticked: the browser asks for it first
        assert page.url == f"{live}/photos/{photo_id}"
        page.check("#delete-confirm")
        page.click("#delete")
        page.wait_for_selector("#deleted-notice")
        assert f"Photo {photo_id} deleted" in page.inner_text("#deleted-notice")
        check_page(page, "held-deleted", width)

        page.goto(f"{live}/people")
        page.set_input_files("input[name=file]", str(csv_path))
        page.click("form[action='/people/import'] button[type=submit]")
        page.wait_for_selector("#import-changes")
        changes = page.inner_text("#import-changes")
        for field, value in (("year group", "Year 4"), ("left on", "2027-07-20"),
                             ("face recognition (biometric) consent", "yes"),
                             ("safeguarding: never photograph", "yes")):
            assert field in changes and value in changes, (field, changes)
        check_page(page, "import-preview-new-person", width)

        page.goto(f"{live}/parents")
        assert "only on this computer" in page.inner_text("#link-base-local")
        page.fill("input[name=family]", "Family1")
        page.click("#families button[type=submit]")
        page.wait_for_selector("#new-link-C1")
        check_page(page, "parents-families", width)
        page.click("#new-link-C1")
        page.wait_for_selector("text=C1: 1 parent/carer and 0 pupil invitation(s)")
        check_page(page, "parents-new-link", width)

        page.goto(f"{live}/help#csv")
        assert "DD/MM/YYYY" in page.inner_text("#csv-dates")
        page.close()
    assert SHOTS.is_dir()
