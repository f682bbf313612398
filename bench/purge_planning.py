"""Purge planning time with 100 000 photos and 5 000 people in PostgreSQL (target < 10 s)."""

from __future__ import annotations

import os
import tempfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, insert, text

from .common import timer, write

PG = os.environ.get("GATEKEEPER_BENCH_DATABASE_URL",
                    "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def populate(engine, n_people: int, n_photos: int, faces_per_photo: int, rng) -> int:
    from consent_db.models import ConsentRecord, Event, Face, Person, Photo

    today = date(2026, 11, 26)
    people = []
    for i in range(n_people):
        left = None
        if i % 5 == 0:  # a fifth have left, some long ago
            left = today - timedelta(days=int(rng.integers(1, 6 * 365)))
        people.append({"id": i + 1, "external_id": f"UPN{i:06d}", "given_name": "G",
                       "family_name": "F", "kind": "pupil", "left_on": left,
                       "biometric_consent": True, "safeguarding_no_photo": False})
    with engine.begin() as conn:
        conn.execute(insert(Person), people)
        conn.execute(insert(ConsentRecord), [
            {"person_id": p["id"], "academic_year": "2023/24", "channel": "retain",
             "granted": True, "recorded_on": date(2023, 9, 10), "evidence": ""}
            for p in people if p["id"] % 2 == 0])
        conn.execute(insert(Event), [{"id": 1, "name": "Bench", "slug": "bench", "next_number": 1}])
        for start in range(0, n_photos, 10_000):
            photos, faces = [], []
            for pid in range(start + 1, min(n_photos, start + 10_000) + 1):
                photos.append({"id": pid, "sha256": f"{pid:064x}", "event_id": 1, "number": pid,
                               "original_key": f"originals/{pid}", "format": "JPEG",
                               "width": 4000, "height": 3000, "provenance": "school_device",
                               "status": "awaiting_review"})
                for person in rng.integers(1, n_people + 1, faces_per_photo):
                    faces.append({"photo_id": pid, "top": 0, "right": 50, "bottom": 50, "left": 0,
                                  "score": 0.9, "quality": "ok", "person_id": int(person),
                                  "near_person_ids": [], "decided_by": "auto"})
            conn.execute(insert(Photo), photos)
            conn.execute(insert(Face), faces)
    return n_photos * faces_per_photo


def run() -> dict:
    from consent_db.db import migrate
    from gatekeeper.config import Settings
    from gatekeeper.services.context import Context
    from gatekeeper.services.dpo.purge import plan_purge

    engine = create_engine(PG)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    migrate(engine)
    rng = np.random.default_rng(3)
    with timer() as t_fill:
        n_faces = populate(engine, 5_000, 100_000, 3, rng)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    with tempfile.TemporaryDirectory() as home:
        ctx = Context(Settings(home=Path(home), database_url=PG))
        plan_purge(ctx=ctx, today=date(2026, 11, 26))  # warm
        with timer() as t_plan:
            plan = plan_purge(ctx=ctx, today=date(2026, 11, 26))
        ctx.close()
    result = {"people": 5_000, "photos": 100_000, "faces": n_faces,
              "plan_seconds": round(t_plan["s"], 2), "fill_seconds": round(t_fill["s"], 1),
              "expired_people": len(plan.people), "photos_to_delete": len(plan.photos_to_delete),
              "photos_to_cover": len(plan.photos_to_cover)}
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    write("purge_planning", result)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=1))
