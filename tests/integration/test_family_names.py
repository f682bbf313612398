"""Two parents with the same initial and family name are told apart where the DPO sees their
answers: "Mark Bennett" and "Mary Bennett", not "M. Bennett" twice."""

from __future__ import annotations

import pytest

from gatekeeper.services.consent import decisions
from gatekeeper.services.portal import contacts, invitations
from gatekeeper.services.portal.invitations import Audience
from tests.integration.helpers import users
from tests.integration.test_portal import (
    CONTACTS_HEADER,
    answer,
    links_by_recipient,
    open_as,
    school_people,
)

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_parents_who_disagree_are_named_in_full(ctx):
    users(ctx)
    school_people(ctx)
    contacts.import_contacts(ctx=ctx, data=(
        CONTACTS_HEADER + "M1,P1,Mark,Bennett,mark@example.org,yes,no\n"
        "M2,P1,Mary,Bennett,mary@example.org,yes,no\n").encode(), actor_id=None)
    tokens = links_by_recipient(invitations.invite(ctx=ctx, audience=Audience.ALL,
                                                   actor_id=None))
    answer(ctx, open_as(ctx, tokens["M1"]), "P1", online=True)
    answer(ctx, open_as(ctx, tokens["M2"]), "P1", online=False)
    _year, rows = decisions.overview(ctx=ctx)
    p1 = next(r for r in rows if r.external_id == "P1")
    assert p1.disagreement
    reason = p1.uses["online"].reason
    assert "Mark Bennett" in reason and "Mary Bennett" in reason, reason
