"""Issue 27's small rules: year groups in school order, whole-number ticks, a camera named once,
plain words in a person's history, throttle waits in the Retry-After's units, and a menu where
a DPO with every role finds each page once, in a few groups."""

from __future__ import annotations

import re

from gatekeeper.domain.deciders import school_order
from gatekeeper.domain.vocabulary import Role
from gatekeeper.services.accounts.users import Actor
from gatekeeper.services.dpo.read import event_words
from gatekeeper.services.governors.charts import consent_chart, count_ticks, stages_chart
from gatekeeper.services.governors.dashboard import Dashboard
from gatekeeper.services.photos.read import WHERE_LIVE, camera_name
from web.menu import menu_for
from web.security import LinkAttemptsThrottled, NewLinksThrottled, SignInThrottled


def test_year_groups_sort_as_a_school_lists_them():
    groups = ["Year 10", "Reception", "Year 3", "Year 13", "Nursery", "Year 1", "Staff room",
              "Y2"]
    assert sorted(groups, key=school_order) == [
        "Nursery", "Reception", "Year 1", "Y2", "Year 3", "Year 10", "Year 13", "Staff room"]


def test_count_axes_have_whole_distinct_ticks():
    assert count_ticks(0) == [0, 1]
    assert count_ticks(2) == [0, 1, 2]
    assert count_ticks(13) == [0, 3, 6, 9, 12, 15]
    board = Dashboard(academic_year="2026/27", stages={"published": 2, "held": 1})
    for group in ("Year 10", "Reception", "Year 3"):
        board.consent.append({"year_group": group, "kind": "online", "pupils": 2, "granted": 1,
                              "refused": 0, "withdrawn": 0, "missing": 1})
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", stages_chart(board))
    numbers = [t for t in texts if t.strip().isdigit()]
    assert numbers == ["0", "1", "2"], texts  # not "0 1 1 2 2"
    consent = re.findall(r"<text[^>]*>([^<]*)</text>", consent_chart(board))
    shown = [t for t in consent if t in ("Year 10", "Reception", "Year 3")]
    assert shown == ["Reception", "Year 3", "Year 10"]


def test_a_camera_is_named_once():
    assert camera_name("Canon", "Canon EOS 250D") == "Canon EOS 250D"
    assert camera_name("NIKON CORPORATION", "NIKON Z 6") == "NIKON CORPORATION NIKON Z 6"
    assert camera_name("Apple", "iPhone 13") == "Apple iPhone 13"
    assert camera_name(None, None) is None


def test_only_online_copies_are_on_the_website():
    assert WHERE_LIVE["online"] == "on the website"
    assert "website" not in WHERE_LIVE["display"] and "website" not in WHERE_LIVE["print"]


def test_history_reads_as_plain_words():
    assert event_words("consent.granted") == "consent given"
    assert event_words("consent.withdrawn") == "consent withdrawn"
    assert "." not in event_words("person.something_new")


def test_throttle_pages_say_the_wait_their_retry_after_gives():
    for cls, seconds, words in ((SignInThrottled, 2, "2 seconds"), (SignInThrottled, 1, "1 second"),
                                (LinkAttemptsThrottled, 30, "30 seconds"),
                                (NewLinksThrottled, 60, "1 minute"),
                                (SignInThrottled, 61, "2 minutes")):
        exc = cls(seconds)
        assert exc.retry_after == seconds and words in str(exc), (cls, seconds, str(exc))


def test_a_dpo_with_every_role_finds_each_page_once_in_a_few_groups():
    everyone = Actor(1, "dpo1", frozenset(Role))
    groups = menu_for(everyone)
    hrefs = [link.href for _name, links in groups for link in links]
    assert len(hrefs) == len(set(hrefs)) == 18 and len(groups) == 5
    assert all(len(links) <= 6 for _name, links in groups)
    office = Actor(2, "office1", frozenset({Role.OFFICE}))
    mine = {link.href for _name, links in menu_for(office) for link in links}
    assert mine == {"/upload", "/uploads", "/events", "/reports", "/account", "/help"}
