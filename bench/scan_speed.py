"""The whole scan against face_recognition's HOG detection, per part of the benchmark and on the
many-faces event scenes, timed interleaved in one run (issue 28), and the recall of each depth
of the face search at the size it serves.

Speed: for each group of photos (the tuning part, the held-back part, the event scenes of
12-24 MP with 8-40 faces of 10-160 px), each run times HOG's default `face_locations` over the
photos in this process and the real `gatekeeper scan` command (fresh instance, 6 people
enrolled, one worker per core) over the same JPEGs, alternating which goes first: the machine
is shared and its speed drifts, so each run's ratio compares like with like, and the spread
over runs is reported.

Recall: the scan searches for every face that will be 10 px in the online copy (2048 px); a
display or print copy (4096 px) is written only after the deeper search (services/photos/
depth.py), whose new faces join the scan's. So the scan's recall is measured with sizes at the
online copy's scale, and the deeper search's (the scan's faces and its own, as the display copy
covers them) at the display copy's; each against the 0.995 target for faces of 10 px or more
there. The deeper search's time is what approving a photo for display costs, once.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from .common import require_faces, write
from .detection import BUCKETS, photo_set, score
from .label_detection import TRUTH, size_of
from .split import PARTS
from .whole_scan import save_photo, timed_scan

ONLINE_SIDE, DISPLAY_SIDE = 2048, 4096
GROUPS = ("tuning", "held_back", "event scenes")


def _group_of(name: str, part: str) -> list[str]:
    return [part] + (["event scenes"] if name.startswith("event_") else [])


def _hog_seconds(arrays: list) -> tuple[float, float]:
    import face_recognition

    t0, c0 = time.perf_counter(), time.process_time()
    for arr in arrays:
        face_recognition.face_locations(arr)
    return time.perf_counter() - t0, time.process_time() - c0


class _Recall:
    """Faces of 10 px or more (at one copy's scale) hidden by the covers, by size bucket."""

    def __init__(self, side: int) -> None:
        self.side = side
        self.buckets = {b[2]: [0, 0] for b in BUCKETS}
        self.seconds = 0.0
        self.missed: list[dict] = []

    def add(self, name, faces, hit, size) -> None:
        pub = min(1.0, self.side / max(size))
        for f, h in zip(faces, hit, strict=True):
            px = size_of(f) * pub
            b = self.buckets[next(b[2] for b in BUCKETS if b[0] <= px < b[1])]
            b[0] += h
            b[1] += 1
            if not h and px >= 10:
                self.missed.append({"photo": name, "size_px": round(px, 1)})

    def summary(self) -> dict:
        n = sum(v[1] for k, v in self.buckets.items() if k != "<10")
        hit = sum(v[0] for k, v in self.buckets.items() if k != "<10")
        return {"copy_side": self.side, "recall_ge10": round(hit / max(1, n), 4),
                "faces_ge10": n, "uncovered_ge10": n - hit, "missed_ge10": self.missed,
                "recall_by_size": {k: (round(v[0] / v[1], 4) if v[1] else None, v[1])
                                   for k, v in self.buckets.items()},
                "engine_seconds": round(self.seconds, 2)}


def recall(engine, photos) -> dict:
    """Each group's recall: the scan (online side) and the scan with the deeper search (its
    faces and the scan's, display side), with the engine's time for each (one process)."""
    out = {g: {"scan": _Recall(ONLINE_SIDE), "with_deeper_search": _Recall(DISPLAY_SIDE)}
           for g in GROUPS}
    for name, img, faces, _ignore, _kind, part in photos:
        t0 = time.perf_counter()
        scan = engine.find_faces(img, look_sideways=True, encode=False, publish_side=ONLINE_SIDE)
        t1 = time.perf_counter()
        deep = engine.find_faces(img, look_sideways=True, encode=False, publish_side=DISPLAY_SIDE)
        t2 = time.perf_counter()
        boxes = [(f.box.top, f.box.right, f.box.bottom, f.box.left) for f in scan]
        both = boxes + [(f.box.top, f.box.right, f.box.bottom, f.box.left) for f in deep]
        for group in _group_of(name, part):
            for key, dets, secs in (("scan", boxes, t1 - t0), ("with_deeper_search", both, t2 - t1)):
                hit, _, _ = score(faces, [], dets, img.size)
                out[group][key].add(name, faces, hit, img.size)
                out[group][key].seconds += secs
        print(f"  {name}: scan {t1 - t0:.1f} s, deeper search {t2 - t1:.1f} s", flush=True)
    return {g: {k: r.summary() for k, r in v.items()} for g, v in out.items()}


def speed(faces_dir: Path, folders: dict[str, Path], arrays: dict[str, list], runs: int) -> dict:
    """Each group's whole scan and HOG time in `runs` interleaved runs, and their ratios."""
    out = {}
    for group, folder in folders.items():
        each = []
        for r in range(runs):
            order = ("hog", "scan") if r % 2 == 0 else ("scan", "hog")
            got: dict[str, dict] = {}
            for what in order:
                if what == "hog":
                    secs, cpu = _hog_seconds(arrays[group])
                    got["hog"] = {"seconds": round(secs, 2), "cpu_seconds": round(cpu, 2)}
                else:
                    got["scan"] = timed_scan(faces_dir, folder)
            ratio = got["scan"]["seconds"] / got["hog"]["seconds"]
            cpu_ratio = got["scan"]["cpu_seconds"] / got["hog"]["cpu_seconds"]
            each.append({"first": order[0], "scan_seconds": got["scan"]["seconds"],
                         "scan_cpu_seconds": got["scan"]["cpu_seconds"],
                         "hog_seconds": got["hog"]["seconds"],
                         "hog_cpu_seconds": got["hog"]["cpu_seconds"],
                         "ratio": round(ratio, 3), "cpu_ratio": round(cpu_ratio, 3)})
            print(f"  {group} run {r + 1}: scan {got['scan']['seconds']} s, HOG "
                  f"{got['hog']['seconds']} s, {ratio:.2f}x", flush=True)
        ratios = [e["ratio"] for e in each]
        out[group] = {"photos": len(arrays[group]), "runs": each,
                      "ratio_median": round(statistics.median(ratios), 3),
                      "ratio_min": min(ratios), "ratio_max": max(ratios),
                      "cpu_ratio_median": round(statistics.median(
                          [e["cpu_ratio"] for e in each]), 3)}
    return out


def run(engine_factory, runs: int = 3, groups: tuple[str, ...] = GROUPS,
        with_recall: bool = True, with_speed: bool = True) -> dict:
    """Both measures; written to bench/results/scan_speed.json when every group is measured."""
    faces_dir = require_faces()
    truth = json.loads(TRUTH.read_text())
    tmp = Path(tempfile.mkdtemp(prefix="gk-scan-speed-"))
    folders = {g: tmp / g.replace(" ", "_") for g in groups}
    arrays: dict[str, list] = {g: [] for g in groups}
    megapixels = dict.fromkeys(groups, 0.0)
    import numpy as np

    for n, (name, img, *_rest, part) in enumerate(photo_set(faces_dir, truth, PARTS)):
        arr = np.asarray(img.convert("RGB"))  # one copy, shared by the photo's groups
        for group in _group_of(name, part):
            if group in groups:
                save_photo(img, folders[group], f"photo{n:03d}")
                arrays[group].append(arr)
                megapixels[group] += img.width * img.height / 1e6
    result: dict = {"groups": {g: {"photos": len(arrays[g]), "megapixels": round(megapixels[g], 1)}
                               for g in groups},
                    "online_side": ONLINE_SIDE, "display_side": DISPLAY_SIDE}
    try:
        if with_speed:
            result["speed"] = speed(faces_dir, folders, arrays, runs)
        if with_recall:
            arrays.clear()  # the photos are drawn again, one at a time
            kept = (p for p in photo_set(faces_dir, truth, PARTS)
                    if any(g in groups for g in _group_of(p[0], p[5])))
            result["recall"] = {g: v for g, v in recall(engine_factory(), kept).items()
                                if g in groups}
    finally:
        shutil.rmtree(tmp)
    if tuple(groups) == GROUPS and with_recall and with_speed:
        write("scan_speed", result)
    return result


if __name__ == "__main__":
    import os
    import sys

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from gatekeeper.adapters.faces import FaceEngine

    args = sys.argv[1:]
    chosen = tuple(a for a in args if a in GROUPS) or GROUPS
    out = run(FaceEngine, runs=int(os.environ.get("BENCH_RUNS", "3")), groups=chosen,
              with_recall="--no-recall" not in args, with_speed="--no-speed" not in args)
    print(json.dumps({k: v for k, v in out.items() if k != "recall"}, indent=1))
    for g, r in out.get("recall", {}).items():
        print(g, {k: (v["recall_ge10"], v["faces_ge10"], v["engine_seconds"])
                  for k, v in r.items()})
