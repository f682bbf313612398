"""The whole scan against face_recognition's HOG detection, per part of the benchmark and on the
many-faces event scenes, timed interleaved in one run (issue 28), and the recall of each depth
of the face search at the size it serves.

Speed: for each group of photos (the tuning part, the held-back part, the event scenes of
12-24 MP with 8-40 faces of 10-160 px; timed as four disjoint groups and summed), each run
times HOG's default `face_locations` over the
photos in this process and the real `gatekeeper scan` command (fresh instance, 6 people
enrolled, one worker per core) over the same JPEGs, alternating which goes first: the machine
is shared and its speed drifts, so each run's ratio compares like with like, and the spread
over runs is reported.

Recall: the scan searches for every face that will be 10 px in the online copy (2048 px), with
a margin (it searches for 2560 px, depth.SCAN_MARGIN); a
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

from gatekeeper.services.photos.depth import SCAN_MARGIN

from .common import RESULTS, require_faces, write
from .detection import BUCKETS, photo_set, score
from .label_detection import TRUTH, size_of
from .split import PARTS
from .whole_scan import save_photo, timed_scan

ONLINE_SIDE, DISPLAY_SIDE = 2048, 4096
# Timed apart (each its own `gatekeeper scan`, so its own start and model loading: the sums
# below count them twice, against the scan); reported as the parts and the event scenes.
TIMED = ("tuning: photos and scenes", "tuning: event scenes",
         "held_back: photos and scenes", "held_back: event scenes")
GROUPS = ("tuning", "held_back", "event scenes")
SUMS = {"tuning": TIMED[:2], "held_back": TIMED[2:],
        "event scenes": (TIMED[1], TIMED[3])}


def _group_of(name: str, part: str) -> list[str]:
    return [part] + (["event scenes"] if name.startswith("event_") else [])


def _timed_of(name: str, part: str) -> str:
    return f"{part}: " + ("event scenes" if name.startswith("event_") else "photos and scenes")


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
    out = {g: {"scan": _Recall(ONLINE_SIDE), "with_deeper_search": _Recall(DISPLAY_SIDE),
               "before": _Recall(DISPLAY_SIDE)} for g in GROUPS}
    for name, img, faces, _ignore, _kind, part in photos:
        t0 = time.perf_counter()
        scan = engine.find_faces(img, look_sideways=True, encode=False,
                                 publish_side=round(ONLINE_SIDE * SCAN_MARGIN))
        t1 = time.perf_counter()
        # Up to the online side both searches are one search (the photo's own size)
        deep = scan if max(img.size) <= round(ONLINE_SIDE * SCAN_MARGIN) else engine.find_faces(
            img, look_sideways=True, encode=False, publish_side=DISPLAY_SIDE)
        t2 = time.perf_counter()
        boxes = [(f.box.top, f.box.right, f.box.bottom, f.box.left) for f in scan]
        alone = [(f.box.top, f.box.right, f.box.bottom, f.box.left) for f in deep]
        both = boxes + alone
        for group in _group_of(name, part):
            # "before": every scan searched for the display copy (the deeper search alone)
            for key, dets, secs in (("scan", boxes, t1 - t0), ("with_deeper_search", both, t2 - t1),
                                    ("before", alone, t1 - t0 + t2 - t1 if deep is scan
                                     else t2 - t1)):
                hit, _, _ = score(faces, [], dets, img.size)
                out[group][key].add(name, faces, hit, img.size)
                out[group][key].seconds += secs
        print(f"  {name}: scan {t1 - t0:.1f} s, deeper search {t2 - t1:.1f} s", flush=True)
    return {g: {k: r.summary() for k, r in v.items()} for g, v in out.items()}


def speed(faces_dir: Path, folders: dict[str, Path], arrays: dict[str, list], runs: int) -> dict:
    """Each timed group's whole scan and HOG time in `runs` runs, interleaved (HOG first in odd
    runs, the scan first in even ones), then each reported group's ratio in every run (sums of
    its timed groups of that run) and their spread."""
    timed: dict[str, list[dict]] = {g: [] for g in folders if arrays[g]}
    for r in range(runs):
        order = ("hog", "scan") if r % 2 == 0 else ("scan", "hog")
        for group in timed:
            folder = folders[group]
            got: dict[str, float] = {}
            for what in order:
                if what == "hog":
                    got["hog"], got["hog_cpu"] = _hog_seconds(arrays[group])
                else:
                    scan = timed_scan(faces_dir, folder)
                    got["scan"], got["scan_cpu"] = scan["seconds"], scan["cpu_seconds"]
            timed[group].append({"first": order[0], **{k: round(v, 2) for k, v in got.items()}})
            print(f"  run {r + 1}, {group}: scan {got['scan']:.1f} s, HOG {got['hog']:.1f} s",
                  flush=True)
        if r + 1 < runs:  # what the runs so far say, should a later one not finish
            _merge({"speed": _summaries(timed, arrays, r + 1), "runs": r + 1})
    return _summaries(timed, arrays, runs)


def _summaries(timed: dict[str, list[dict]], arrays: dict[str, list], runs: int) -> dict:
    """Each reported group's ratio in every run (sums of its timed groups) and their spread."""
    out: dict = {"timed": timed}
    for name, members in SUMS.items():
        members = tuple(m for m in members if m in timed)
        if not members:
            continue
        each = []
        for r in range(runs):
            total = {k: sum(timed[m][r][k] for m in members)
                     for k in ("scan", "hog", "scan_cpu", "hog_cpu")}
            each.append({"scan_seconds": round(total["scan"], 2),
                         "hog_seconds": round(total["hog"], 2),
                         "ratio": round(total["scan"] / total["hog"], 3),
                         "cpu_ratio": round(total["scan_cpu"] / total["hog_cpu"], 3)})
        ratios = [e["ratio"] for e in each]
        out[name] = {"photos": sum(len(arrays[m]) for m in members), "runs": each,
                     "ratio_median": round(statistics.median(ratios), 3),
                     "ratio_min": min(ratios), "ratio_max": max(ratios),
                     "cpu_ratio_median": round(statistics.median(
                         [e["cpu_ratio"] for e in each]), 3)}
    return out


def run(engine_factory, runs: int = 2, with_recall: bool = True,
        with_speed: bool = True, parts: tuple[str, ...] = PARTS) -> dict:
    """Both measures, over every photo of the detection benchmark's `parts`; each is written
    into bench/results/scan_speed.json as it is done (the two can run in separate processes:
    on a machine shared by others, `--no-recall` in one and `--no-speed` in the other)."""
    faces_dir = require_faces()
    truth = json.loads(TRUTH.read_text())
    result: dict = {"online_side": ONLINE_SIDE, "display_side": DISPLAY_SIDE}
    if with_speed:
        result.update(_speed_of_all(faces_dir, truth, runs, parts))
        _merge(result)
    if with_recall:
        got = recall(engine_factory(), photo_set(faces_dir, truth, parts))
        result["recall"] = {g: v for g, v in got.items() if v["scan"]["faces_ge10"]}
        _merge({"recall": result["recall"]})
    return result


def _speed_of_all(faces_dir: Path, truth: dict, runs: int, parts: tuple[str, ...]) -> dict:
    import numpy as np

    tmp = Path(tempfile.mkdtemp(prefix="gk-scan-speed-"))
    folders = {g: tmp / str(i) for i, g in enumerate(TIMED)}
    arrays: dict[str, list] = {g: [] for g in TIMED}
    megapixels = dict.fromkeys(GROUPS, 0.0)
    photos = dict.fromkeys(GROUPS, 0)
    try:
        for n, (name, img, *_rest, part) in enumerate(photo_set(faces_dir, truth, parts)):
            group = _timed_of(name, part)
            save_photo(img, folders[group], f"photo{n:03d}")
            arrays[group].append(np.asarray(img.convert("RGB")))
            for g in _group_of(name, part):
                megapixels[g] += img.width * img.height / 1e6
                photos[g] += 1
        groups = {g: {"photos": photos[g], "megapixels": round(megapixels[g], 1)}
                  for g in GROUPS if photos[g]}
        _merge({"groups": groups, "online_side": ONLINE_SIDE, "display_side": DISPLAY_SIDE})
        return {"groups": groups, "speed": speed(faces_dir, folders, arrays, runs),
                "runs": runs}
    finally:
        shutil.rmtree(tmp)


def _merge(part: dict) -> None:
    """Write `part` into bench/results/scan_speed.json, keeping what another process wrote."""
    path = RESULTS / "scan_speed.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    old.pop("machine", None)
    write("scan_speed", {**old, **part})


if __name__ == "__main__":
    import os
    import sys

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from gatekeeper.adapters.faces import FaceEngine

    args = sys.argv[1:]
    out = run(FaceEngine, runs=int(os.environ.get("BENCH_RUNS", "2")),
              with_recall="--no-recall" not in args, with_speed="--no-speed" not in args,
              parts=tuple(a for a in args if a in PARTS) or PARTS)
    print(json.dumps({k: v for k, v in out.items() if k != "recall"}, indent=1))
    for g, r in out.get("recall", {}).items():
        print(g, {k: (v["recall_ge10"], v["faces_ge10"], v["engine_seconds"])
                  for k, v in r.items()})
