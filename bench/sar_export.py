"""Subject access export of a person identified in 200 photos of 12 MP (target: at most 60 s on
2 cores). The instance is seeded directly: generated 4000x3000 JPEGs (a gradient scene with
noise, the person's face and five other faces pasted from the test fixtures) in the private
store, and Face rows with their person set, so no face engine is needed."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image

from .common import ROOT, peak_rss_mb, timer, write

N_PHOTOS = 200
SIZE = (4000, 3000)
OTHERS = 5  # other faces per photo, covered in the export
FACE = ROOT / "tests" / "fixtures" / "tom_cruise.jpg"
OTHER_FACE = ROOT / "tests" / "fixtures" / "eileen_collins.png"


def _scene(seed: int) -> tuple[bytes, list[tuple[int, int, int, int]]]:
    """One 12 MP photo and its face boxes (top, right, bottom, left); the first is the person's."""
    rng = np.random.default_rng(seed)
    w, h = SIZE
    x = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    tint = rng.uniform(40, 200, (1, 1, 3)).astype(np.float32)
    grain = np.tile(rng.normal(0, 12, (250, 250, 3)).astype(np.float32), (h // 250, w // 250, 1))
    pixels = tint + 50 * x - 30 * y + grain
    img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    faces = [Image.open(FACE).convert("RGB"), Image.open(OTHER_FACE).convert("RGB")]
    boxes = []
    for i in range(1 + OTHERS):
        side = int(rng.integers(180, 420))
        face = faces[0 if i == 0 else 1].resize((side, side))
        left, top = int(rng.integers(0, w - side)), int(rng.integers(0, h - side))
        img.paste(face, (left, top))
        boxes.append((top, left + side, top + side, left))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue(), boxes


def seed(ctx, n_photos: int) -> None:
    from consent_db.models import Event, Face, Person, Photo
    from gatekeeper.services.photos.ingest import original_key

    with ctx.uow() as uow:
        s = uow.session
        people = [Person(external_id=f"SAR{i:03d}", given_name=f"Given{i}", family_name=f"Family{i}",
                         kind="pupil", year_group="Year 5", biometric_consent=True,
                         safeguarding_no_photo=False) for i in range(1 + OTHERS)]
        event = Event(name="Sports Day", slug="sports-day", next_number=n_photos + 1)
        s.add_all([*people, event])
        s.flush()
        with Pool(2) as pool:
            for number, (data, boxes) in enumerate(pool.imap(_scene, range(n_photos)), 1):
                sha = hashlib.sha256(data).hexdigest()
                ctx.stores.private.put(original_key(sha), data, "image/jpeg")
                photo = Photo(sha256=sha, event_id=event.id, number=number,
                              original_key=original_key(sha), format="JPEG", width=SIZE[0],
                              height=SIZE[1], orientation=1, provenance="school_device",
                              status="awaiting_review")
                photo.faces = [Face(top=t, right=r, bottom=b, left=lf, score=0.9, quality="ok",
                                    person_id=people[i].id, near_person_ids=[], decided_by="auto")
                               for i, (t, r, b, lf) in enumerate(boxes)]
                s.add(photo)
        uow.commit()


def run(n_photos: int = N_PHOTOS) -> dict:
    from consent_db.db import migrate
    from gatekeeper.config import Settings
    from gatekeeper.services.accounts.users import add_user, find_actor
    from gatekeeper.services.context import Context
    from gatekeeper.services.dpo.register import RENDER_THREADS, subject_access_export

    with tempfile.TemporaryDirectory() as home:
        ctx = Context(Settings(home=Path(home)))
        migrate(ctx.engine)
        with timer() as t_seed:
            seed(ctx, n_photos)
        add_user(ctx=ctx, username="dpo", roles="dpo", password="bench-password-1")
        dpo = find_actor(ctx=ctx, username="dpo")
        cpu0 = os.times()
        with timer() as t_export:
            export = subject_access_export(ctx=ctx, external_id="SAR000", user=dpo)
        cpu1 = os.times()
        names = zipfile.ZipFile(io.BytesIO(export.data)).namelist()
        assert export.photos == n_photos and "summary.pdf" in names, (export.photos, names[-5:])
        ctx.close()
    result = {"photos": n_photos, "megapixels": SIZE[0] * SIZE[1] / 1e6, "other_faces": OTHERS,
              "export_seconds": round(t_export["s"], 1),
              "cpu_seconds": round((cpu1.user + cpu1.system) - (cpu0.user + cpu0.system), 1),
              "render_threads": RENDER_THREADS, "zip_mb": round(len(export.data) / 1e6, 1),
              "files": export.files, "seed_seconds": round(t_seed["s"], 1),
              "peak_rss_mb": round(peak_rss_mb(), 1), "target_seconds": 60}
    write("sar_export", result)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=1))
