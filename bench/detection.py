"""Detection recall per face size on the shared group photos, Gatekeeper's scan against
face_recognition's default `face_locations(img)` in the same run."""

from __future__ import annotations

import json

import numpy as np

from gatekeeper.domain.images import decode

from .common import require_faces, timer, write

BUCKETS = [(0, 20, "<20"), (20, 40, "20-40"), (40, 80, "40-80"), (80, 10**6, ">=80")]


def matches(truth: list[float], det: tuple[float, float, float, float]) -> bool:
    """A detection (top, right, bottom, left) finds a truth face when its centre lies inside
    the truth box and its size is within a factor 2 of the truth's."""
    top, right, bottom, left = truth
    dt, dr, db, dl = det
    cx, cy = (dl + dr) / 2, (dt + db) / 2
    size_t, size_d = max(right - left, bottom - top), max(dr - dl, db - dt)
    return left <= cx <= right and top <= cy <= bottom and 0.5 <= size_d / max(size_t, 1) <= 2.0


def score(truth_faces, detections):
    found = [any(matches(f["box"], d) for d in detections) for f in truth_faces]
    false = sum(1 for d in detections if not any(matches(f["box"], d) for f in truth_faces))
    return found, false


def run(engine_factory) -> dict:
    faces_dir = require_faces()
    truth = json.loads((faces_dir / "groups_truth.json").read_text())["photos"]
    import face_recognition

    engine = engine_factory()
    systems = {"gatekeeper": [], "face_recognition_default": []}
    totals = {k: {"seconds": 0.0, "megapixels": 0.0, "false": 0} for k in systems}
    per_bucket = {k: {b[2]: [0, 0] for b in BUCKETS} for k in systems}
    photos = []
    for rel, faces in sorted(truth.items()):
        data = (faces_dir / rel).read_bytes()
        decoded = decode(data, 200_000_000)
        img = decoded.pixels
        mp = img.width * img.height / 1e6
        with timer() as t_gk:
            found = engine.find_faces(img, look_sideways=decoded.orientation_tag is None)
        gk = [(f.box.top, f.box.right, f.box.bottom, f.box.left) for f in found]
        with timer() as t_fr:
            fr = face_recognition.face_locations(np.asarray(img))
        row = {"photo": rel, "faces": len(faces), "megapixels": round(mp, 2)}
        for name, dets, t in (("gatekeeper", gk, t_gk), ("face_recognition_default", fr, t_fr)):
            hit, false = score(faces, dets)
            totals[name]["seconds"] += t["s"]
            totals[name]["megapixels"] += mp
            totals[name]["false"] += false
            for f, h in zip(faces, hit, strict=True):
                bucket = next(b[2] for b in BUCKETS if b[0] <= f["size_px"] < b[1])
                per_bucket[name][bucket][0] += h
                per_bucket[name][bucket][1] += 1
            row[name] = {"recall": round(sum(hit) / max(1, len(faces)), 3), "false": false,
                         "seconds": round(t["s"], 3)}
        photos.append(row)
    summary = {}
    for name in systems:
        hits = sum(v[0] for v in per_bucket[name].values())
        n = sum(v[1] for v in per_bucket[name].values())
        summary[name] = {
            "recall_all": round(hits / n, 4),
            "recall_by_size": {k: (round(v[0] / v[1], 4) if v[1] else None, v[1])
                               for k, v in per_bucket[name].items()},
            "false_boxes_per_photo": round(totals[name]["false"] / len(photos), 2),
            "seconds_per_megapixel": round(totals[name]["seconds"] / totals[name]["megapixels"], 3),
        }
    write("detection", {"summary": summary, "photos": photos})
    return summary
