"""The review queue page with 10 000 photos waiting (target < 200 ms), on the embedded SQLite."""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from .common import BENCH_PASSWORD, write
from .purge_planning import populate


def run() -> dict:
    from fastapi.testclient import TestClient

    from consent_db.db import migrate
    from gatekeeper.config import Settings
    from gatekeeper.services.accounts.users import add_user
    from gatekeeper.services.context import Context
    from web.app import create_app

    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home))
        ctx = Context(settings)
        migrate(ctx.engine)
        populate(ctx.engine, 2_000, 10_000, 3, np.random.default_rng(1))
        add_user(ctx=ctx, username="editor", roles="editor", password=BENCH_PASSWORD)
        app = create_app(settings, ctx)
        timings = {}
        with TestClient(app) as client:
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text).group(1)
            client.post("/signin", data={"username": "editor", "password": BENCH_PASSWORD,
                                         "csrf": token})
            for label, url in (("first_page", "/review"), ("page_100", "/review?page=100"),
                               ("filtered_by_event", "/review?event=1&page=50")):
                runs = []
                for _ in range(12):
                    start = time.perf_counter()
                    resp = client.get(url)
                    runs.append(time.perf_counter() - start)
                    assert resp.status_code == 200 and "10000" in resp.text
                timings[label] = {"median_ms": round(1000 * statistics.median(runs[2:]), 1),
                                  "max_ms": round(1000 * max(runs[2:]), 1)}
        ctx.close()
    result = {"photos_waiting": 10_000, "pages": timings}
    write("review_queue", result)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=1))
