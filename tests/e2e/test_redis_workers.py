"""Scale-out on Redis: two worker processes scan a batch exactly once; a worker killed with
SIGKILL mid-scan leaves work that reconciliation completes, with no duplicate publication."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from consent_db.models import AuditEvent, Photo, Publication
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services.photos.review import approve
from tests.integration.helpers import context_like, event_photo, ingest
from workers.tasks import make_huey

pytestmark = pytest.mark.slow
REDIS_URL = os.environ.get("GATEKEEPER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_queue(ctx):
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis not reachable at {REDIS_URL} (GATEKEEPER_TEST_REDIS_URL)")
    client.flushdb()
    redis_ctx = context_like(ctx, queue_url=REDIS_URL, scan_stuck_after_s=3)
    yield redis_ctx, make_huey(redis_ctx.settings).gatekeeper_tasks
    client.flushdb()


def start_worker(ctx, stuck_after_s: int = 3) -> subprocess.Popen:
    """A worker process; `stuck_after_s` is when its sweep counts a scan as left by a dead
    worker (short here so the SIGKILL case is quick; long where a loaded machine's slow scan
    must not be mistaken for a dead one)."""
    env = {**os.environ, "GATEKEEPER_HOME": str(ctx.settings.home),
           "GATEKEEPER_DATABASE_URL": ctx.settings.resolved_database_url,
           "GATEKEEPER_QUEUE_URL": REDIS_URL, "GATEKEEPER_SCAN_STUCK_AFTER_S": str(stuck_after_s)}
    return subprocess.Popen([sys.executable, "-m", "gatekeeper", "worker", "--processes", "1"],
                            env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    proc.wait(timeout=30)


def wait_for(predicate, timeout: float = 240.0, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out")


def statuses(ctx, ids) -> dict[int, str]:
    with ctx.uow() as uow:
        return {i: uow.session.get(Photo, i).status for i in ids}


def scans_of(ctx, photo_id: int) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "photo.scanned", AuditEvent.entity_id == photo_id))


def test_two_workers_then_sigkill_and_reconcile(ctx, school, redis_queue):
    ctx, tasks = redis_queue
    shapes = [("tom", "eileen"), ("tom",), ("eileen",), ("eileen", "tom"), ("tom", "tom"),
              ("eileen", "eileen")]
    ids = [ingest(ctx, school["office1"], event_photo(s)).photo_id for s in shapes]
    for pid in ids:
        tasks.scan_photo(pid)
        tasks.scan_photo(pid)  # a duplicated message must not scan twice
    workers = [start_worker(ctx, 300), start_worker(ctx, 300)]
    try:
        wait_for(lambda: set(statuses(ctx, ids).values()) == {"awaiting_review"})
        assert [scans_of(ctx, pid) for pid in ids] == [1] * len(ids)
    finally:
        for w in workers:
            stop(w)

    # kill a worker in the middle of a scan
    victim_id = ingest(ctx, school["office1"], event_photo(("tom", "eileen", "tom"))).photo_id
    tasks.scan_photo(victim_id)
    victim = start_worker(ctx)
    wait_for(lambda: statuses(ctx, [victim_id])[victim_id] == "scanning")
    stop(victim, signal.SIGKILL)
    assert statuses(ctx, [victim_id])[victim_id] == "scanning"
    survivor = start_worker(ctx)
    try:
        time.sleep(3.5)  # past scan_stuck_after_s
        tasks.sweep()  # what the minute schedule does: the reconciler re-queues the photo
        wait_for(lambda: statuses(ctx, [victim_id])[victim_id] == "awaiting_review")
        assert scans_of(ctx, victim_id) == 1
        approve(ctx=ctx, photo_id=victim_id, channels=[Channel.ONLINE], user=school["editor1"])
        tasks.publish_photo(victim_id, "online")
        tasks.publish_photo(victim_id, "online")
        tasks.sweep()

        def published():
            with ctx.uow() as uow:
                return uow.session.scalars(select(Publication).where(
                    Publication.photo_id == victim_id)).all()
        wait_for(published, timeout=60)
        time.sleep(2)
        assert len(published()) == 1
    finally:
        stop(survivor)
