"""The office's "My uploads" read model: own photos only, stage and next step, reasons masked."""

from __future__ import annotations

from gatekeeper.services.accounts.access import MASKED_SAFEGUARDING
from gatekeeper.services.consent.people import update_person
from gatekeeper.services.photos import read as photo_read
from gatekeeper.services.photos.scan import scan_photo
from tests.integration.helpers import event_photo, ingest


def test_my_uploads_lists_own_photos_with_stage_next_step_and_masked_reason(ctx, school):
    office, dpo = school["office1"], school["dpo1"]  # another uploader (editors may not upload)
    blocked = ingest(ctx, office, event_photo(("tom",)), "a.jpg").photo_id
    held = ingest(ctx, office, event_photo(("eileen",), exif=False), "b.jpg").photo_id
    other = ingest(ctx, dpo, event_photo(("tom", "eileen")), "c.jpg").photo_id
    scan_photo(ctx=ctx, photo_id=blocked)
    update_person(ctx=ctx, external_id="TOM", actor_id=None, left_on=None,
                  biometric_consent=True, safeguarding_no_photo=True)
    page = photo_read.my_uploads(ctx=ctx, viewer=office)
    rows = {r.id: r for r in page.rows}
    assert set(rows) == {blocked, held} and other not in rows and page.total == 2
    assert rows[blocked].stage == "blocked" and rows[blocked].reason == MASKED_SAFEGUARDING
    assert rows[held].stage == "held" and not rows[held].reason.startswith("held:")
    assert rows[held].next_step == "ask the DPO to release it from Held photos"
    assert page.counts == {"blocked": 1, "held": 1}
