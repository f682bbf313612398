"""A recall check beyond the benchmark's photos, for comparing engine options: 18 more generated
scenes (other seeds and sizes, 30 real faces each at 10-160 px at publication scale) and the
labelled crowd photos shrunk so their faces are 10.5, 15 and 25 px. Prints, for each set of
options, the faces of 10 px or more (publication scale) left uncovered.

A tuning tool, so it draws on the benchmark's tuning part only (bench/split.py): crops of
tuning people, crowd photos of the tuning part. The held-back part never goes into a choice.

    uv run python -m bench.extra_composites "gate_floor=0" "gate_floor=0.01"

Each argument is the inside of an `EngineOptions(...)` call; "" is the defaults.
"""

from __future__ import annotations

import json
import os
import random
import sys
from collections.abc import Iterator

import numpy as np

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from gatekeeper.adapters.faces import EngineOptions, FaceEngine  # noqa: E402

from .common import require_faces  # noqa: E402
from .composites import clutter_images, composite  # noqa: E402
from .detection import PUBLISH_SIDE, crops_by_part, score  # noqa: E402
from .label_detection import TRUTH, load_image, size_of  # noqa: E402
from .split import TUNING, part_of  # noqa: E402

SIDES = [(2000, 1400), (3600, 2400), (4000, 3000), (6000, 4000), (1600, 1067), (1000, 700)]


def photos(faces_dir, truth) -> Iterator[tuple[str, object, list]]:
    """(name, image, truth boxes) of every extra photo."""
    crops = crops_by_part(faces_dir, truth)[TUNING]
    clutter = clutter_images(faces_dir)
    for seed in range(301, 319):
        rng = random.Random(seed)
        width, height = SIDES[seed % len(SIDES)]
        pub = min(1.0, PUBLISH_SIDE / max(width, height))
        sizes = [round(10 * (16 ** rng.random()) / pub, 1) for _ in range(30)]
        img, pasted = composite(width, height, crops, sizes, seed, clutter)
        yield f"seed{seed}", img, [list(p.box) for p in pasted]
    for rel, entry in truth["photos"].items():
        if len(entry["faces"]) < 25 or part_of(rel) != TUNING:
            continue
        median = float(np.median([size_of(f) for f in entry["faces"]]))
        for target in (10.5, 15, 25):
            k = target / median
            if k < 1:
                yield (f"{rel}@{k:.2f}", load_image(faces_dir, rel, k),
                       [[v * k for v in f] for f in entry["faces"]])


def options_from(text: str) -> EngineOptions:
    """EngineOptions from "name=value, ..." (values are Python literals)."""
    fields = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, value = part.split("=", 1)
        fields[name.strip()] = json.loads(value.strip())
    return EngineOptions(**fields)


def main(args: list[str]) -> dict[str, list]:
    faces_dir = require_faces()
    truth = json.loads(TRUTH.read_text())
    engines = {a: FaceEngine(options_from(a)) for a in (args or [""])}
    missed: dict[str, list] = {a: [] for a in engines}
    total = 0
    for name, img, faces in photos(faces_dir, truth):
        pub = min(1.0, PUBLISH_SIDE / max(img.size))
        big = [f for f in faces if size_of(f) * pub >= 10]
        total += len(big)
        for args_text, engine in engines.items():
            found = engine.find_faces(img, look_sideways=True, encode=False)
            boxes = [(f.box.top, f.box.right, f.box.bottom, f.box.left) for f in found]
            hit, _, _ = score(big, [], boxes, img.size)
            missed[args_text] += [(name, round(size_of(f) * pub, 1))
                                  for f, h in zip(big, hit, strict=True) if not h]
        print(name, {a: len(m) for a, m in missed.items()}, flush=True)
    print(f"{total} faces of 10 px or more; uncovered:")
    print(json.dumps(missed, indent=1))
    return missed


if __name__ == "__main__":
    main(sys.argv[1:])
