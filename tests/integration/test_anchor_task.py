"""Issue 26: the worker anchors the audit head every five minutes when new events exist, so
cutting the newest events off the chain is found within minutes, not the next day."""

from __future__ import annotations

from datetime import datetime

import pytest

from gatekeeper.services.auditing import anchors_path, check_audit
from tests.integration.helpers import make_user
from workers import tasks

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def anchor_task(huey, at: datetime):
    return next((t for t in huey.read_periodic(at) if t.name == "anchor_audit"), None)


@SQLITE_ONLY
def test_the_anchor_task_runs_every_five_minutes_and_anchors_only_new_events(ctx):
    huey = tasks.make_huey(ctx.settings, immediate=True, ctx=ctx)
    assert anchor_task(huey, datetime(2026, 12, 7, 3, 1)) is None
    for minute in (0, 5, 35, 55):
        assert anchor_task(huey, datetime(2026, 12, 7, 3, minute)) is not None
    task = anchor_task(huey, datetime(2026, 12, 7, 3, 5))
    path = anchors_path(ctx)
    assert huey.execute(task) is None and not path.exists()  # nothing to anchor yet
    make_user(ctx, "office1", "office")
    count, head = huey.execute(task)
    assert path.read_text().split()[:2] == [str(count), head] and count >= 1
    assert huey.execute(task) is None  # nothing new: no second line
    make_user(ctx, "editor1", "editor")
    newer, _ = huey.execute(task)
    assert newer > count and len(path.read_text().splitlines()) == 2
    assert check_audit(ctx=ctx).problem is None
