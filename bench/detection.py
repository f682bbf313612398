"""Detection on the hand-checked truth (bench/labels/detection_truth.json): group photos, crowd
photos rescaled, generated 2/12/24 MP scenes with real faces pasted at 8-60 px, and generated
12-24 MP event scenes with 8-40 faces of 10-160 px. Gatekeeper's scan against
face_recognition's default `face_locations(img)` in the same run, reported for the tuning part
and the held-back part separately (bench/split.py): every engine choice is made on the tuning
part; the held-back part says whether it holds on photos it was not made on.

Since issue 28 the scan searches for the online copy's size and a display copy waits for the
deeper search: the engine's recall here is that of the deeper search (the display copy's, as
every scan was before), while the whole `gatekeeper scan` timed here is the online one.
bench/scan_speed.py measures both depths and times the scan against HOG interleaved.

A face counts as found when the areas the publisher would cover (redact.head_region of every
box) hide at least 80% of its truth box: what matters is the pixels, not box overlap. Sizes are
bucketed at publication scale (the largest published side, 4096 px), where the targets are
recall >= 0.995 for faces of 10 px or more and 1.000 for 20 px or more. A box hiding no face is
a false box; covered area is the share of the photo the covers take.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gatekeeper.domain.redact import head_region

from .common import require_faces, write
from .composites import clutter_images, composite, event_scenes, load_crops
from .label_detection import TRUTH, load_image, size_of
from .split import PARTS, SALT, crop_part, part_of
from .whole_scan import save_photo, timed_scans

PUBLISH_SIDE = 4096
BUCKETS = [(0, 10, "<10"), (10, 20, "10-20"), (20, 40, "20-40"), (40, 80, "40-80"),
           (80, 10**6, ">=80")]


def _mask(dets, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    mask = np.zeros((h, w), dtype=bool)
    for t, r, b, left in dets:
        reg = head_region(int(t), int(r), int(b), int(left), w, h)
        mask[reg.y0 : reg.y1, reg.x0 : reg.x1] = True
    return mask


def covered_fraction(truth, dets, size, mask: np.ndarray | None = None) -> float:
    """Share of the truth box (top, right, bottom, left) that the covers of `dets` hide."""
    mask = _mask(dets, size) if mask is None else mask
    t, r, b, left = (int(round(v)) for v in truth)
    patch = mask[max(0, t) : max(0, b), max(0, left) : max(0, r)]
    return float(patch.mean()) if patch.size else 1.0


def _inside(box, region) -> bool:
    t, r, b, left = box
    rt, rr, rb, rl = region
    cx, cy = (left + r) / 2, (t + b) / 2
    return rl <= cx <= rr and rt <= cy <= rb


def score(faces, ignore, dets, size) -> tuple[list[bool], list, float]:
    """Which truth faces are hidden, the boxes that hide no face, and the covered share."""
    mask = _mask(dets, size)
    hit = [covered_fraction(f, dets, size, mask) >= 0.8 for f in faces]
    grown = [(t - 0.5 * (b - t), r + 0.5 * (r - left), b + 0.5 * (b - t), left - 0.5 * (r - left))
             for t, r, b, left in faces]
    false = [d for d in dets if not any(_inside(d, g) for g in list(ignore) + grown)
             and not any(_inside(f, d) for f in faces)]
    return hit, false, float(mask.mean())


def photo_set(faces_dir, truth, parts=PARTS):
    """(name, image, faces, ignore, kind, part) for every labelled photo, rescaled crowd and
    generated scene of `parts` (bench/split.py); a scene pastes only crops of its own part."""
    for rel, entry in truth["photos"].items():
        if part_of(rel) in parts:
            kind = "crowd" if len(entry["faces"]) >= 25 else "group"
            yield (rel, load_image(faces_dir, rel), entry["faces"], entry["ignore"], kind,
                   part_of(rel))
    for r in truth["rescaled"]:
        if part_of(r["file"]) not in parts:
            continue
        entry = truth["photos"][r["file"]]
        k = r["scale"]
        img = load_image(faces_dir, r["file"], k)
        yield (f"{r['file']}@{k}", img, [[v * k for v in f] for f in entry["faces"]],
               [[v * k for v in g] for g in entry["ignore"]], "crowd rescaled", part_of(r["file"]))
    crops = crops_by_part(faces_dir, truth)
    clutter = clutter_images(faces_dir)
    for c, family in ([(c, "scene") for c in truth["composites"]]
                      + [(c, "event") for c in event_scenes(PUBLISH_SIDE)]):
        part = part_of(c["name"])
        if part not in parts:
            continue
        img, pasted = composite(c["width"], c["height"], crops[part], c["sizes"], c["seed"], clutter)
        kind = f"{family} {round(c['width'] * c['height'] / 1e6)} MP"
        yield c["name"], img, [list(p.box) for p in pasted], [], kind, part


def crops_by_part(faces_dir, truth) -> dict[str, list]:
    """The labelled face crops of each part (by person, bench/split.py)."""
    crops = load_crops(faces_dir, truth["crops"])
    return {part: [c for c in crops if crop_part(c.source) == part] for part in PARTS}


def _bucket(size_pub: float) -> str:
    return next(b[2] for b in BUCKETS if b[0] <= size_pub < b[1])


class _Tally:
    """One system's figures over one part."""

    def __init__(self) -> None:
        self.buckets = {b[2]: [0, 0] for b in BUCKETS}
        self.seconds = self.cpu = self.covered = self.false_covered = 0.0
        self.false = self.photos = 0
        self.encoding_s = self.encoding_cpu = 0.0

    def add(self, faces, hit, pub, false_dets, covered, size, secs, cpu) -> None:
        self.photos += 1
        self.seconds += secs
        self.cpu += cpu
        self.false += len(false_dets)
        self.covered += covered
        self.false_covered += float(_mask(false_dets, size).mean()) if false_dets else 0.0
        for f, h in zip(faces, hit, strict=True):
            b = self.buckets[_bucket(size_of(f) * pub)]
            b[0] += h
            b[1] += 1

    def summary(self) -> dict:
        b = self.buckets
        n10 = sum(v[1] for k, v in b.items() if k != "<10")
        h10 = sum(v[0] for k, v in b.items() if k != "<10")
        n20 = sum(v[1] for k, v in b.items() if k not in ("<10", "10-20"))
        h20 = sum(v[0] for k, v in b.items() if k not in ("<10", "10-20"))
        n = max(1, self.photos)
        return {
            "recall_ge10": round(h10 / max(1, n10), 4), "faces_ge10": n10,
            "uncovered_ge10": n10 - h10,
            "recall_ge20": round(h20 / max(1, n20), 4), "faces_ge20": n20,
            "uncovered_ge20": n20 - h20,
            "recall_by_size": {k: (round(v[0] / v[1], 4) if v[1] else None, v[1])
                               for k, v in b.items()},
            "false_boxes": self.false,
            "false_boxes_per_photo": round(self.false / n, 2),
            "covered_share_per_photo": round(self.covered / n, 4),
            "false_covered_share_per_photo": round(self.false_covered / n, 5),
            "seconds": round(self.seconds, 2),
            "cpu_seconds": round(self.cpu, 2),
        }


def run(engine_factory, with_hog: bool = True, parts=PARTS, quick: bool = False) -> dict:
    """Both parts, each with its own recall, false boxes, s/MP and whole-scan ratio to
    face_recognition's HOG detection. Written to bench/results only for both parts with HOG.

    While tuning, look at the tuning part only: `parts=("tuning",)`, and without `with_hog`
    recall and engine time only. `quick`: the whole scan once per part instead of twice, and
    no memory measurement (about 2 minutes less); the result says so."""
    faces_dir = require_faces()
    truth = json.loads(TRUTH.read_text())
    start = time.perf_counter()
    cpu0 = time.process_time()
    engine = engine_factory()
    load_s, load_cpu = time.perf_counter() - start, time.process_time() - cpu0
    encoding = _time_encodings(engine)
    systems = ["gatekeeper"] + (["face_recognition_default"] if with_hog else [])
    tallies = {(p, s): _Tally() for p in parts for s in systems}
    by_kind: dict[str, dict[str, dict]] = {p: {} for p in parts}
    megapixels = dict.fromkeys(parts, 0.0)
    photos: list[dict] = []
    missed: dict[str, list] = {p: [] for p in parts}
    jpegs = Path(tempfile.mkdtemp(prefix="gk-bench-photos-"))
    for n, (name, img, faces, ignore, kind, part) in enumerate(photo_set(faces_dir, truth, parts)):
        save_photo(img, jpegs / part, f"photo{n:03d}")
        mp = img.width * img.height / 1e6
        megapixels[part] += mp
        pub = min(1.0, PUBLISH_SIDE / max(img.size))
        arr = np.asarray(img)
        runs = {}
        enc0 = dict(encoding)
        t0, c0 = time.perf_counter(), time.process_time()
        found = engine.find_faces(img, look_sideways=True)  # as for photos without EXIF turn
        runs["gatekeeper"] = ([(f.box.top, f.box.right, f.box.bottom, f.box.left) for f in found],
                              time.perf_counter() - t0, time.process_time() - c0)
        tallies[(part, "gatekeeper")].encoding_s += encoding["s"] - enc0["s"]
        tallies[(part, "gatekeeper")].encoding_cpu += encoding["cpu"] - enc0["cpu"]
        if with_hog:
            import face_recognition

            t0, c0 = time.perf_counter(), time.process_time()
            fr = face_recognition.face_locations(arr)
            runs["face_recognition_default"] = (fr, time.perf_counter() - t0,
                                                time.process_time() - c0)
        row = {"photo": name, "part": part, "kind": kind, "faces": len(faces),
               "megapixels": round(mp, 2)}
        for system, (dets, secs, cpu) in runs.items():
            hit, false_dets, covered = score(faces, ignore, dets, img.size)
            tallies[(part, system)].add(faces, hit, pub, false_dets, covered, img.size, secs, cpu)
            if system == "gatekeeper":
                missed[part] += [{"photo": name, "box": [round(v, 1) for v in f],
                                  "size_pub_px": round(size_of(f) * pub, 1)}
                                 for f, h in zip(faces, hit, strict=True)
                                 if not h and size_of(f) * pub >= 10]
            k = by_kind[part].setdefault(f"{kind} / {system}", {"seconds": 0.0, "megapixels": 0.0})
            k["seconds"] += secs
            k["megapixels"] += mp
            row[system] = {"recall": round(sum(hit) / max(1, len(faces)), 3),
                           "false": len(false_dets), "covered_share": round(covered, 4),
                           "seconds": round(secs, 3)}
        photos.append(row)
        print(f"  [{part}] {name}: " + ", ".join(
            f"{s} {row[s]['recall']} ({row[s]['seconds']} s)" for s in runs), flush=True)
    result_parts = {}
    for part in parts:
        summary = {s: tallies[(part, s)].summary() for s in systems}
        gk, t = summary["gatekeeper"], tallies[(part, "gatekeeper")]
        gk["model_loading_s"] = round(load_s, 2)
        gk["encoding_s"] = round(t.encoding_s, 2)  # included in seconds: both embeddings
        gk["encoding_cpu_s"] = round(t.encoding_cpu, 2)
        for s in systems:
            summary[s]["seconds_per_megapixel"] = round(
                summary[s]["seconds"] / max(1e-9, megapixels[part]), 3)
        whole: dict = {}
        if with_hog:
            whole = timed_scans(faces_dir, jpegs / part, runs=1 if quick else 2)
            fr = summary["face_recognition_default"]
            # the target: the real `gatekeeper scan` command against face_recognition's detection
            whole["ratio_to_face_recognition"] = round(whole["seconds"] / fr["seconds"], 3)
            whole["runs_ratio_to_face_recognition"] = [round(r / fr["seconds"], 3)
                                                       for r in whole["runs_seconds"]]
            whole["cpu_ratio_to_face_recognition"] = round(
                whole["cpu_seconds"] / fr["cpu_seconds"], 3)
            # the engine alone, in this process, one core
            gk["engine_ratio"] = round((gk["seconds"] + load_s) / fr["seconds"], 3)
            gk["engine_cpu_ratio"] = round((gk["cpu_seconds"] + load_cpu) / fr["cpu_seconds"], 3)
            # what a scan costs while nobody has a template (scan.py then asks for no encodings)
            gk["engine_ratio_without_encodings"] = round(
                (gk["seconds"] - t.encoding_s + load_s) / fr["seconds"], 3)
        result_parts[part] = {
            "photos": t.photos, "megapixels": round(megapixels[part], 1), "summary": summary,
            "whole_scan": whole, "missed_ge10": missed[part],
            "seconds_per_megapixel": {k: round(v["seconds"] / v["megapixels"], 3)
                                      for k, v in sorted(by_kind[part].items())}}
    shutil.rmtree(jpegs)
    result = {"parts": result_parts, "publish_side": PUBLISH_SIDE, "photos": photos,
              "quick": quick,
              "split": {"rule": "bench/split.py: held back when int(sha256('" + SALT
                        + "' + key)[:8], 16) % 5 < 2; key = photo path, scene name, "
                        "or a crop's person",
                        "crops": {p: len(v) for p, v in crops_by_part(faces_dir, truth).items()}},
              "peak_rss_mb_24mp": (peak_memory_mb(faces_dir, truth)
                                   if with_hog and not quick else None)}
    if with_hog and tuple(parts) == PARTS:
        write("detection", result)
    return result


def _time_encodings(engine) -> dict[str, float]:
    """Wrap the engine's encoding step to add up its wall and CPU time (part of the scan's)."""
    spent = {"s": 0.0, "cpu": 0.0}
    inner = getattr(engine, "_encode", None)
    if inner is None:
        return spent

    def timed(*args, **kwargs):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent["s"] += time.perf_counter() - t0
            spent["cpu"] += time.process_time() - c0

    engine._encode = timed
    return spent


def peak_memory_mb(faces_dir, truth) -> float:
    """Peak RSS of a fresh worker process that loads the engine and scans the 24 MP scene (a
    JPEG with tiny faces, so the enlarged second look runs too)."""
    spec = next(c for c in truth["composites"] if c["width"] * c["height"] >= 20e6)
    crops = crops_by_part(faces_dir, truth)[part_of(spec["name"])]
    img, _ = composite(spec["width"], spec["height"], crops, spec["sizes"], spec["seed"],
                       clutter_images(faces_dir))
    with tempfile.NamedTemporaryFile(suffix=".jpg", delete=False) as fh:
        img.save(fh, "JPEG", quality=90)
    del img
    code = ("import re,sys;from gatekeeper.adapters.faces import FaceEngine;"
            "from gatekeeper.domain.images import decode;e=FaceEngine();"
            "d=decode(open(sys.argv[1],'rb').read(),200_000_000);"
            "e.find_faces(d.pixels, look_sideways=d.orientation_tag is None);"
            "print(int(re.search(r'VmHWM:\\s+(\\d+)',open('/proc/self/status').read())[1])/1024)")
    out = subprocess.run([sys.executable, "-c", code, fh.name], capture_output=True, text=True,
                         check=True)
    Path(fh.name).unlink()
    return round(float(out.stdout.strip().splitlines()[-1]), 1)
