"""A takedown's reason names nobody (probe): when one pupil's consent ends, the copy showing two
pupils comes down, and the reason was "consent withdrawn or lapsed: EIL", which reached the
uploader (the office sees no identities), the other pupil's subject access export and the
photo's stage. Whose consent ended is the DPO's to see, in the audit trail, by person id. The
office's view of a publication also carried the server's path of the public file."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from consent_db.models import AuditEvent, Person
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services.dpo.register import subject_access_export
from gatekeeper.services.photos import read as photo_read
from gatekeeper.services.photos.live import recheck_all
from gatekeeper.services.photos.publish import CONSENT_LOST, publish_approved
from gatekeeper.services.photos.review import approve
from gatekeeper.services.photos.scan import scan_photo
from tests.integration.helpers import consent, event_photo, ingest


def test_a_takedown_for_ended_consent_names_nobody_to_the_office_or_in_exports(ctx, school):
    office = school["office1"]
    photo_id = ingest(ctx, office, event_photo(("tom", "eileen"))).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"])
    [published] = publish_approved(ctx=ctx)
    assert published.location
    consent(ctx, "EIL", granted="no")  # withdrawn: the copy showing her comes down
    assert recheck_all(ctx=ctx)

    seen = photo_read.photo_detail(ctx=ctx, photo_id=photo_id, viewer=office)
    [pub] = seen["publications"]
    assert pub["taken_down_reason"] == CONSENT_LOST and pub["taken_down_at"]
    text = json.dumps(seen)
    assert "EIL" not in text and str(published.location) not in text
    assert "location" not in pub and "key" not in pub
    [row] = photo_read.my_uploads(ctx=ctx, viewer=office).rows
    assert row.reason == CONSENT_LOST

    export = subject_access_export(ctx=ctx, external_id="TOM", user=school["dpo1"])
    with zipfile.ZipFile(io.BytesIO(export.data)) as zf:
        for name in zf.namelist():
            if name.endswith((".json", ".html", ".csv", ".txt")):
                assert b"EIL" not in zf.read(name), name

    with ctx.uow() as uow:  # the DPO's record says whose consent it was, by id
        eil = uow.session.scalar(select(Person.id).where(Person.external_id == "EIL"))
        [event] = uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "publication.taken_down")).all()
        assert event.details["reason"] == CONSENT_LOST
        assert event.details["person_ids"] == [eil]


def test_migration_0015_rewrites_the_reasons_that_named_people(ctx, school):
    """Reasons written before this change named whose consent ended: the migration leaves the
    plain reason (on SQLite and PostgreSQL), and every other reason as it was."""
    from alembic import command

    from consent_db.db import _alembic_config, current_revision, head_revision
    from consent_db.models import Publication

    photo_id = ingest(ctx, school["office1"], event_photo(("tom", "eileen"))).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE, Channel.DISPLAY],
            user=school["editor1"])
    publish_approved(ctx=ctx)
    with ctx.uow() as uow:
        online, display = sorted(uow.session.scalars(select(Publication)),
                                 key=lambda p: p.channel != "online")
        online.taken_down_reason = f"{CONSENT_LOST}: EIL, TOM"
        display.taken_down_reason = "replaced by a corrected copy"
        uow.commit()
    cfg = _alembic_config()
    with ctx.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0014")
        command.upgrade(cfg, "head")
    assert current_revision(ctx.engine) == head_revision()
    with ctx.uow() as uow:
        reasons = {p.channel: p.taken_down_reason for p in uow.session.scalars(select(Publication))}
    assert reasons == {"online": CONSENT_LOST, "display": "replaced by a corrected copy"}
