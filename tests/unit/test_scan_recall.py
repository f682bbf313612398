"""The recall the scan must keep, on the benchmark's tuning part (bench/split.py; the held-back
part is for reporting only): every face of 10 px or more in the online copy is hidden by the
scan's covers, and every face of 10 px or more in the display copy by the covers of the scan
and the deeper search together (services/photos/depth.py). The event scenes (12-24 MP) are left
to `make bench` (bench/scan_speed.py) to keep this lean."""

from __future__ import annotations

import json

import pytest

from bench.detection import photo_set, score
from bench.label_detection import TRUTH, size_of
from bench.split import TUNING
from gatekeeper.services.photos.depth import SCAN_MARGIN

pytestmark = pytest.mark.slow
ONLINE, DISPLAY = 2048, 4096  # the copies' sides; the scan searches with its margin


def _boxes(found) -> list[tuple[int, int, int, int]]:
    return [(f.box.top, f.box.right, f.box.bottom, f.box.left) for f in found]


def test_scan_and_deeper_search_keep_the_recall_on_the_tuning_part(face_engine, faces_dir):
    tally = {ONLINE: [0, 0], DISPLAY: [0, 0]}
    missed = []
    for name, img, faces, _ignore, _kind, _part in photo_set(
            faces_dir, json.loads(TRUTH.read_text()), (TUNING,)):
        if name.startswith("event_"):
            continue
        scan = _boxes(face_engine.find_faces(img, look_sideways=True, encode=False,
                                             publish_side=round(ONLINE * SCAN_MARGIN)))
        both = scan
        if max(img.size) > ONLINE:  # below it both searches are the same search
            both = scan + _boxes(face_engine.find_faces(img, look_sideways=True, encode=False,
                                                        publish_side=DISPLAY))
        for side, boxes in ((ONLINE, scan), (DISPLAY, both)):
            k = min(1.0, side / max(img.size))
            hit, _, _ = score(faces, [], boxes, img.size)
            for face, h in zip(faces, hit, strict=True):
                if size_of(face) * k >= 10:
                    tally[side][0] += h
                    tally[side][1] += 1
                    if not h:
                        missed.append((name, side, round(size_of(face) * k, 1)))
    for side, (hit, n) in tally.items():
        assert n > 400  # the part holds 441 faces of 10 px or more in the online copy
        assert hit / n >= 0.995, (side, hit, n, missed)
