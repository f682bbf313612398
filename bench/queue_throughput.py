"""Scan throughput through the task queue: 1 and 2 worker processes, SQLite queue (embedded
default) and Redis, each on a fresh instance; model loading included, as a worker start pays it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import BENCH_PASSWORD, write
from .throughput import class_photo

REDIS = os.environ.get("GATEKEEPER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def one_run(processes: int, queue_url: str | None, n_photos: int = 16) -> float:
    from consent_db.db import migrate
    from gatekeeper.config import Settings
    from gatekeeper.services.accounts.users import add_user, find_actor
    from gatekeeper.services.context import Context
    from gatekeeper.services.photos.ingest import ingest_bytes
    from gatekeeper.services.photos.review import release
    from workers.tasks import make_huey

    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), queue_url=queue_url)
        ctx = Context(settings)
        migrate(ctx.engine)
        add_user(ctx=ctx, username="dpo", roles="dpo,office", password=BENCH_PASSWORD)
        dpo = find_actor(ctx=ctx, username="dpo")
        ids = []
        for i in range(n_photos):
            r = ingest_bytes(ctx=ctx, data=class_photo(2448, 1632, 12, 110, seed=i), name="p.jpg",
                             event_name="Bench", actor_id=dpo.id)
            release(ctx=ctx, photo_id=r.photo_id, user=dpo)
            ids.append(r.photo_id)
        huey = make_huey(settings)
        if queue_url:
            huey.flush()
        for pid in ids:
            huey.gatekeeper_tasks.scan_photo(pid)
        env = {**os.environ, "GATEKEEPER_HOME": home, "OPENBLAS_NUM_THREADS": "1",
               **({"GATEKEEPER_QUEUE_URL": queue_url} if queue_url else {})}
        start = time.perf_counter()
        worker = subprocess.Popen([sys.executable, "-m", "gatekeeper", "worker", "--processes",
                                   str(processes)], env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            from sqlalchemy import func, select

            from consent_db.models import Photo

            while True:
                with ctx.uow() as uow:
                    left = uow.session.scalar(select(func.count()).select_from(Photo).where(
                        Photo.status != "awaiting_review"))
                if left == 0:
                    break
                time.sleep(0.2)
            elapsed = time.perf_counter() - start
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)
            if queue_url:
                huey.flush()
            ctx.close()
        return round(60 * n_photos / elapsed, 1)


def run() -> dict:
    result = {"photo": "4 MP, 12 faces", "photos": 16, "sqlite_queue": {}, "redis_queue": {}}
    for processes in (1, 2):
        result["sqlite_queue"][f"{processes}_process"] = one_run(processes, None)
        try:
            import redis

            redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
            result["redis_queue"][f"{processes}_process"] = one_run(processes, REDIS)
        except Exception as exc:  # Redis not reachable: say so in the results
            result["redis_queue"][f"{processes}_process"] = f"skipped: {type(exc).__name__}"
    write("queue_throughput", result)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=1))
