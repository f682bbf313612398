"""A video's crowd strangers may be settled by one frame only while nobody enrolled carries a
safeguarding flag (services/video/scan.py `_watched`, on a real database)."""

from __future__ import annotations

from gatekeeper.services.consent.enrol import enrol
from gatekeeper.services.consent.gallery import load_gallery
from gatekeeper.services.video import scan
from tests.integration.helpers import TOM, people, person_row


def _watched(ctx) -> bool:
    with ctx.uow() as uow:
        gallery = load_gallery(uow.session)
    return scan._watched(ctx, gallery)


def test_a_flagged_enrolled_person_stops_the_settling(ctx, school):
    assert not _watched(ctx)  # TOM and EIL enrolled, nobody flagged
    people(ctx, person_row("FLAG", flag="yes"))
    assert not _watched(ctx)  # flagged but not enrolled: no template to be near
    enrol(ctx=ctx, external_id="FLAG", photos=[("flag.jpg", TOM.read_bytes())])
    assert _watched(ctx)
