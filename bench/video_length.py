"""A long video's track work: linking the sampled boxes into tracks and asking, frame by frame,
which tracks to cover (issue 25's limit is ten minutes).

No network runs here: the boxes of a ten-minute crowd clip are made by code (seeded), as the
search would hand them over: people drifting across the picture, lost on a few samples,
turning away for longer (their track ends and a new one starts), leaving and coming in at the
edges, and strangers passing. Two seeds, the tuning part and a held-back one never tuned on.
Measured in CPU seconds: `link` over every sample, the names' ambiguity check, and a render's
per-frame work (`covered_frames` over every frame, on small frames so that the pixels cost
nothing beside the tracks).
"""

from __future__ import annotations

import random
import time

import numpy as np

from .common import write

FPS, MINUTES, STEP = 25, 10, 5
W, H = 320, 180  # the geometry of a 1920x1080 picture at a sixth: pixels cost nothing here
PEOPLE = 60  # in the picture at once
PARTS = {"tuning": 1, "held_back": 2}


def sampled_boxes(seed: int) -> list[tuple[int, list[tuple[int, int, int, int]]]]:
    """(frame, boxes) of every sample of the clip."""
    rng = random.Random(seed)
    frames = FPS * 60 * MINUTES

    def person():
        size = rng.uniform(5, 22)
        return {"x": rng.uniform(0, W - size), "y": rng.uniform(0, H - size), "s": size,
                "vx": rng.uniform(-0.3, 0.3), "vy": rng.uniform(-0.05, 0.05),
                "away": 0}

    people = [person() for _ in range(PEOPLE)]
    out = []
    for frame in range(0, frames, STEP):
        boxes = []
        for k, p in enumerate(people):
            p["x"] += p["vx"] * STEP
            p["y"] += p["vy"] * STEP
            if not (-p["s"] < p["x"] < W and -p["s"] < p["y"] < H) or rng.random() < 0.002:
                people[k] = person()  # left the picture; someone else comes in
                continue
            if p["away"] > 0:  # turned away: not found
                p["away"] -= 1
                continue
            if rng.random() < 0.01:
                p["away"] = rng.randint(4, 40)
            if rng.random() < 0.1:  # missed on this sample
                continue
            x, y, s = p["x"], p["y"], p["s"]
            boxes.append((round(y), round(x + s), round(y + s), round(x)))
        out.append((frame, boxes))
    return out


def run_part(seed: int) -> dict:
    from gatekeeper.domain.tracks import ambiguous_pairs, link
    from gatekeeper.domain.vocabulary import CoverMode
    from gatekeeper.services.video.publish import covered_frames
    from gatekeeper.services.video.scan import edge_hold, pad_frames

    samples = sampled_boxes(seed)
    start = time.process_time()
    tracks = link(samples, max_gap=3 * STEP)
    link_s = time.process_time() - start
    rng = random.Random(seed)
    start = time.process_time()
    ambiguous_pairs([(t.first, t.last, rng.choice([None, None, None, 1, 2, 3]))
                     for t in tracks])
    ambiguous_s = time.process_time() - start
    hidden = [[(f, b) for f, b, _ in t.sightings] for t in tracks]
    frame = np.zeros((H, W, 3), np.uint8)
    frames = FPS * 60 * MINUTES
    start = time.process_time()
    for _ in covered_frames((frame for _ in range(frames)), hidden, [], pad_frames(STEP),
                            CoverMode.SOLID, hold=edge_hold(FPS), shown=[], step=STEP):
        pass
    render_s = time.process_time() - start
    return {"samples": len(samples), "boxes": sum(len(b) for _, b in samples),
            "tracks": len(tracks), "frames": frames, "link_cpu_s": round(link_s, 2),
            "ambiguity_cpu_s": round(ambiguous_s, 2),
            "render_track_work_cpu_s": round(render_s, 2)}


def run() -> dict:
    result = {"clip": f"{MINUTES} minutes at {FPS} fps, searched every {STEP}th frame, "
                      f"{PEOPLE} people in the picture",
              "parts": {part: run_part(seed) for part, seed in PARTS.items()}}
    write("video_length", result)
    return result


if __name__ == "__main__":
    print(run())
