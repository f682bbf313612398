"""A parent on a phone: opens the link, answers from the keyboard and by touch, sees the
history; the DPO's parents pages. axe-clean at phone and desktop width, screenshots kept."""

from __future__ import annotations

import pytest

from gatekeeper.services.portal import contacts, invitations
from tests.e2e.test_browser import SHOTS, browser, check_page, live, sign_in  # noqa: F401
from tests.integration.helpers import users
from tests.integration.test_portal import FAMILIES, school_people

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def test_a_parent_answers_on_a_phone_and_the_dpo_sees_it(ctx, live, browser):  # noqa: F811
    users(ctx)
    school_people(ctx)
    contacts.import_contacts(ctx=ctx, data=FAMILIES.encode(), actor_id=None)
    report = invitations.invite(ctx=ctx, audience=invitations.Audience.ALL, actor_id=None)
    links = {link.recipient: link.url.replace("http://127.0.0.1:8000", live)
             for link in report.links}

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                             has_touch=True)
    phone.goto(links["C1"])
    check_page(phone, "portal-welcome", 390)
    phone.get_by_role("button", name="Open my consent page").click()
    phone.wait_for_url(f"{live}/portal")
    check_page(phone, "portal-home", 390)
    assert phone.locator("img").count() == 0  # never a photo
    card = phone.locator("section.child", has_text="GivenP1")
    card.get_by_label("I give consent").first.check()  # display
    # keyboard: the online use's "I do not consent", then sign and save
    online = card.locator("fieldset", has_text="Website and social media")
    online.get_by_label("I do not consent").focus()
    phone.keyboard.press("Space")
    card.get_by_label("Type your full name to sign").fill("Ann Family1")
    card.get_by_label("Type your full name to sign").press("Enter")
    phone.wait_for_url("**/portal?saved=*")
    assert "Your answers are saved" in phone.locator("[role=status]").inner_text()
    check_page(phone, "portal-saved", 390)
    fieldset = phone.locator("section.child", has_text="GivenP1").locator(
        "fieldset", has_text="Website and social media")
    assert "School record now: not given" in fieldset.inner_text()
    phone.get_by_role("link", name="History").click()
    check_page(phone, "portal-history", 390)
    assert phone.locator("ol.history li", has_text="Website and social media").count() == 1
    phone.get_by_role("button", name="Finish").click()
    check_page(phone, "portal-finished", 390)
    phone.goto(links["C1"])  # used once already
    phone.get_by_role("button", name="Open my consent page").click()
    assert "already been used" in phone.locator("[role=alert]").inner_text()
    check_page(phone, "portal-error", 390)
    phone.close()

    for width in (1280, 390):
        dpo = browser.new_page(viewport={"width": width, "height": 900})
        sign_in(dpo, live, "dpo1")
        dpo.wait_for_url(f"{live}/review")
        dpo.goto(f"{live}/parents")
        check_page(dpo, "parents", width)
        assert "4 links sent, 1 used" in " ".join(dpo.locator("ul.figures").inner_text().split())
        dpo.goto(f"{live}/parents/consent?attention=1")
        check_page(dpo, "parents-consent", width)
        dpo.close()
