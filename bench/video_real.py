"""Video against deface on real clips (issue 25), judged by an independent detector.

bench/video.py's clips are generated (real faces pasted over a real crowd photo) and carry a
per-frame truth. This module runs the same two tools on real footage of real people, which has
no truth: dlib's HOG detector (face_recognition.face_locations), which neither tool uses, is the
judge. Gatekeeper's own detector (YuNet) and deface's (CenterFace) are not independent enough.

The clips are not in the project: they are read from ``GATEKEEPER_BENCH_REAL_CLIP`` (a file, or a
folder of clips), by default ``../shared/data/video``; the benchmark skips with a message when
none is there. ``SOURCES`` names the clips the results were made on, with their public origin
and licence, so anyone can fetch the same bytes (their sha256 is checked and reported).

For each clip:

- a clip that is not an MP4/MOV (Gatekeeper takes what school cameras and phones write) or is
  longer than ``MAX_SECONDS`` is remuxed to MOV by stream copy (no pixel re-encoded), cut at
  ``MAX_SECONDS``; both tools get the same bytes;
- the judge: dlib HOG on every SOURCE frame (every 2nd when the clip has more than
  ``EVERY_FRAME_UP_TO`` frames), upsample 1 and 2 (the union; a box found at both counted once);
- Gatekeeper runs as a worker would (a spawned process, engine loaded, nobody enrolled, so every
  face must be covered): ingest, then scan, approve and publish online, CPU-timed; deface runs as
  its CLI (``--replacewith solid``) on the same file in the same run;
- for each output and each source face-frame: visible by pixels (less than 80 % of the dlib box
  flat, bench/video.py's ``_flat_share``) and still found by dlib at the same place (HOG on the
  box's neighbourhood at the upsample that found it in the source; the same check on the source
  itself is reported as its calibration);
- exiftool tags left (bench/video.py's list of telling tags, and any date that is not zero),
  sound streams, CPU seconds of scan + publish against deface's, peak memory of each.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from .common import BENCH_PASSWORD, ROOT, peak_rss_mb, write
from .video import (
    Clip,
    _exif,
    _flat_share,
    _same_share,
    _share_inside,
    run_deface,
    scan_and_publish_online,
)

ENV = "GATEKEEPER_BENCH_REAL_CLIP"
DEFAULT = ROOT.parent / "shared" / "data" / "video"
MAX_SECONDS = 10.0
EVERY_FRAME_UP_TO = 150
TELLING = ("Make", "Model", "SerialNumber", "Title", "Comment", "GPSCoordinates", "GPSPosition",
           "Encoder", "Author", "Artist", "LocationInformation")
_MPF = "openmpf/openmpf"
_MPF_SAMPLES = "trunk/mpf-system-tests/src/test/resources/samples"
_MPF_COMMIT = "61ea998658ee97079493bde5552faf4e61285c6f"  # added all three; unchanged to 1f9b0dd
SOURCES = {  # file name -> where it is published and under which licence
    "video_01.mp4": {
        "sha256": "5eacf0a11d51413300ee0f4719b7ac7b52b47310a49320703c1d2639ebbc9fea",
        "scene": "reception in a hall: a woman speaking, people filming and photographing",
        "repository": _MPF, "path": f"{_MPF_SAMPLES}/face/video_01.mp4", "commit": _MPF_COMMIT,
        "licence": "CC BY 2.0 (https://creativecommons.org/licenses/by/2.0/)",
        "author": 'Copyright 2012 Aaron "tango" Tang',
        "original": "https://www.flickr.com/photos/hahatango/7484510910/",
        "evidence": f"{_MPF_SAMPLES}/face/NOTICE: video_01.mp4 ... Creative Commons Attribution "
                    "2.0 Generic License ... No changes made to video_01.mp4."},
    "video_02.mp4": {
        "sha256": "6d794a2d5be1645b605c61d89c26d00b4e326fea2cf62035d78ceda82539d32a",
        "scene": "a group of walkers coming up a woodland path towards the camera",
        "repository": _MPF, "path": f"{_MPF_SAMPLES}/person/video_02.mp4", "commit": _MPF_COMMIT,
        "licence": "CC BY 2.0 (https://creativecommons.org/licenses/by/2.0/)",
        "author": "Copyright 2009 Peter Stevens",
        "original": "https://www.flickr.com/photos/nordique/4094034478/",
        "evidence": f"{_MPF_SAMPLES}/person/NOTICE: video_02.mp4 ... Creative Commons Attribution "
                    "2.0 Generic License ... No changes made."},
    "five-second-marathon-clip.mkv": {
        "sha256": "b807f7077e7b2a845ec1a2a9bb12712a050d0c54cc5cf0faeb1660111ad78c4d",
        "scene": "a city marathon: a dense field of runners coming towards the camera",
        "repository": _MPF, "path": f"{_MPF_SAMPLES}/motion/five-second-marathon-clip.mkv",
        "commit": _MPF_COMMIT, "licence": "public domain (as the NOTICE says; no author named)",
        "author": None, "original": None,
        "evidence": f"{_MPF_SAMPLES}/motion/NOTICE: five-second-marathon-clip.mkv / Public Domain"},
}


def clip_files() -> list[Path]:
    """The clips to run: the file or the folder's video files named by the environment."""
    where = Path(os.environ.get(ENV, str(DEFAULT)))
    if where.is_file():
        return [where]
    if where.is_dir():
        return sorted(p for p in where.iterdir()
                      if p.suffix.lower() in (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi"))
    return []


def prepare(path: Path, out: Path) -> tuple[bytes, str | None]:
    """The bytes both tools get and what was done to them: the file itself when it is an MP4/MOV
    of at most MAX_SECONDS, else its streams copied (not re-encoded) into MOV up to MAX_SECONDS."""
    import av

    from gatekeeper.domain.movie import sniff

    data = path.read_bytes()
    with av.open(str(path)) as src:
        seconds = float(src.duration or 0) / 1e6
    if sniff(data) is not None and seconds <= MAX_SECONDS + 0.05:
        return data, None
    with av.open(str(path)) as src, av.open(str(out), "w", format="mov") as dst:
        dst.metadata.update(src.metadata)
        pairs = {s.index: dst.add_stream_from_template(s) for s in src.streams
                 if s.type in ("video", "audio")}
        for packet in src.demux(*[s for s in src.streams if s.index in pairs]):
            if packet.size == 0:  # the demuxer's flush packet
                continue
            if packet.pts is not None and float(packet.pts * packet.time_base) >= MAX_SECONDS:
                continue
            packet.stream = pairs[packet.stream.index]
            dst.mux(packet)
    done = f"streams copied into MOV{f', cut at {MAX_SECONDS:g} s' if seconds > MAX_SECONDS else ''}"
    return out.read_bytes(), done


def _size(data: bytes) -> tuple[int, int]:
    import io

    import av

    with av.open(io.BytesIO(data)) as c:
        cc = c.streams.video[0].codec_context
        return cc.width, cc.height


def _frames(data: bytes, w: int, h: int) -> list[np.ndarray]:
    from gatekeeper.adapters.video import read_frames

    return list(read_frames(data, w, h))


def find_faces(frames: list[np.ndarray], step: int) -> dict[int, list[tuple[tuple, int]]]:
    """dlib HOG on every `step`-th frame, upsample 1 and 2: frame -> [(box x0 y0 x1 y1, up)];
    a box found at upsample 2 that overlaps one found at 1 is the same face."""
    import face_recognition

    found: dict[int, list[tuple[tuple, int]]] = {}
    for i in range(0, len(frames), step):
        boxes: list[tuple[tuple, int]] = []
        for up in (1, 2):
            for top, right, bottom, left in face_recognition.face_locations(frames[i], up):
                box = (left, top, right, bottom)
                if not any(_share_inside(box, b) > 0.3 or _share_inside(b, box) > 0.3
                           for b, _ in boxes):
                    boxes.append((box, up))
        found[i] = boxes
    return found


def _found_again(frame: np.ndarray, box: tuple, up: int) -> bool:
    """Whether dlib finds a face at `box` in `frame`, searching the box's neighbourhood."""
    import face_recognition

    h, w = frame.shape[:2]
    x0, y0, x1, y1 = box
    m = max(x1 - x0, y1 - y0)
    ex0, ey0 = max(0, x0 - m), max(0, y0 - m)
    crop = np.ascontiguousarray(frame[ey0:min(h, y1 + m), ex0:min(w, x1 + m)])
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    for top, right, bottom, left in face_recognition.face_locations(crop, up):
        if _share_inside((cx0, cy0, cx1, cy1), (left + ex0, top + ey0, right + ex0,
                                                bottom + ey0)) > 0.3:
            return True
    return False


def source_crops(frames: list[np.ndarray], faces: dict[int, list[tuple[tuple, int]]]
                 ) -> dict[tuple[int, int], np.ndarray]:
    """The source's pixels in every judged face box (kept instead of the whole frames)."""
    out = {}
    for i, boxes in faces.items():
        h, w = frames[i].shape[:2]
        for k, (box, _) in enumerate(boxes):
            x0, y0, x1, y1 = max(0, box[0]), max(0, box[1]), min(w, box[2]), min(h, box[3])
            if x1 > x0 and y1 > y0:
                out[(i, k)] = frames[i][y0:y1, x0:x1].copy()
    return out


def judge(frames: list[np.ndarray], faces: dict[int, list[tuple[tuple, int]]],
          offset: int = 0, source: dict[tuple[int, int], np.ndarray] | None = None) -> dict:
    """Of the source's face-frames: how many this output leaves visible by pixels (and of those,
    how many have less than 20 % of the box flat: not covered at all, and, given the `source`
    crops, how many keep a fifth of the box as in the source: the seam where two solid covers of
    different colours meet is not flat, but is no face), and how many dlib still finds at the
    same place; per face size (the box's larger side). Source frame i is output frame
    i + offset."""
    n = visible = bare = found = both = as_source = 0
    by_size: dict[str, list[int]] = {}
    for i, boxes in faces.items():
        if not 0 <= i + offset < len(frames):
            continue
        frame = frames[i + offset]
        h, w = frame.shape[:2]
        for k, (box, up) in enumerate(boxes):
            x0, y0, x1, y1 = max(0, box[0]), max(0, box[1]), min(w, box[2]), min(h, box[3])
            if x1 <= x0 or y1 <= y0:
                continue
            n += 1
            flat = _flat_share(frame[y0:y1, x0:x1])
            shown = flat < 0.8
            bare += flat < 0.2
            if shown and source is not None and (i, k) in source:
                as_source += _same_share(frame[y0:y1, x0:x1], source[(i, k)]) >= 0.2
            again = _found_again(frame, box, up)
            visible += shown
            found += again
            both += shown and again
            side = max(box[2] - box[0], box[3] - box[1])
            key = "<40px" if side < 40 else "40-80px" if side < 80 else ">=80px"
            row = by_size.setdefault(key, [0, 0, 0])
            row[0] += 1
            row[1] += shown
            row[2] += again
    return {"face_frames": n, "visible_pixels": visible, "visible_not_covered_at_all": bare,
            **({"visible_as_source": as_source} if source is not None else {}),
            "found_by_dlib": found,
            "visible_and_found": both,
            "by_face_size": {k: dict(zip(("face_frames", "visible_pixels", "found_by_dlib"), v,
                                         strict=True)) for k, v in sorted(by_size.items())}}


def _small(frame: np.ndarray) -> np.ndarray:
    return frame[::8, ::8].astype(np.float32)


def align(source: list[np.ndarray], output: list[np.ndarray]) -> int:
    """The offset k for which output frame i + k shows source frame i (a tool may add or drop
    frames at the start, e.g. to fill a stream's late start): the k, within a few frames of the
    counts' difference, where every 5th frame's pixels differ least. Covers change little."""
    extra = len(output) - len(source)
    best, best_k = float("inf"), 0
    for k in range(min(0, extra) - 3, max(0, extra) + 4):
        pairs = [(a, output[i + k]) for i, a in enumerate(source)
                 if i % 5 == 0 and 0 <= i + k < len(output)]
        if len(pairs) < max(3, len(source) // 10):
            continue
        d = float(np.mean([np.abs(a - _small(b)).mean() for a, b in pairs]))
        if d < best:
            best, best_k = d, k
    return best_k


def _tags(path: Path) -> list[str]:
    tags = _exif(path)
    return sorted(k for k, v in tags.items() if k.split(":")[-1] in TELLING
                  or (k.endswith("Date") and not k.startswith(("System:", "File:"))
                      and not str(v).startswith("0000:00:00")))


def _sound(data: bytes) -> int:
    import io

    import av

    with av.open(io.BytesIO(data)) as c:
        return len(c.streams.audio)


def _worker(clip_path: str, name: str, home: str, out_path: str, queue) -> None:
    try:
        _work(clip_path, name, home, out_path, queue)
    except Exception as exc:  # the parent waits on the queue: tell it, never leave it hanging
        queue.put({"error": f"{type(exc).__name__}: {exc}"})
        raise


def _work(clip_path: str, name: str, home: str, out_path: str, queue) -> None:
    """One worker process: a fresh instance with nobody enrolled, the clip ingested, then scan,
    approve and publish online, CPU-timed; its own peak memory at the end."""
    from consent_db.db import migrate
    from consent_db.models import Photo
    from gatekeeper.adapters.faces import FaceEngine
    from gatekeeper.config import Settings
    from gatekeeper.services.accounts.users import add_user, find_actor
    from gatekeeper.services.context import Context
    from gatekeeper.services.photos.ingest import ingest_bytes
    from gatekeeper.services.photos.review import release

    settings = Settings(home=Path(home), database_url=f"sqlite:///{home}/bench.db",
                        public_url="http://127.0.0.1:8000")
    settings.home.mkdir(parents=True, exist_ok=True)
    ctx = Context(settings, faces=FaceEngine())
    migrate(ctx.engine)
    for user, roles in (("office1", "office"), ("editor1", "editor"), ("dpo1", "dpo")):
        add_user(ctx=ctx, username=user, roles=roles, password=BENCH_PASSWORD)
    office, editor, dpo = (find_actor(ctx=ctx, username=n) for n in ("office1", "editor1", "dpo1"))
    result = ingest_bytes(ctx=ctx, data=Path(clip_path).read_bytes(), name=name,
                          event_name="Real clip", actor_id=office.id)
    if result.photo_id is None:
        queue.put({"ingest": str(result.outcome), "reason": result.reason})
        return
    with ctx.uow() as uow:
        held = uow.session.get(Photo, result.photo_id).status_reason
    if held:  # not from a registered school camera: the DPO releases it, as the product asks
        release(ctx=ctx, photo_id=result.photo_id, user=dpo)
    timed = scan_and_publish_online(ctx, result.photo_id, editor, out_path)
    stage, published = timed.stage, timed.published
    scan_cpu, cpu, seconds = timed.scan_cpu_s, timed.cpu_s, timed.seconds
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, result.photo_id)
        tracks = len(photo.faces)
    queue.put({"held_at_ingest": held, "stage": str(stage), "tracks": tracks, "refused": published.refused,
               "scan_cpu_s": round(scan_cpu, 2), "cpu_s": round(cpu, 2),
               "wall_s": round(seconds, 2), "peak_rss_mb": round(peak_rss_mb(), 1)})


def run_gatekeeper(src: Path, name: str, tmp: Path) -> tuple[dict, Path]:
    out = tmp / "gatekeeper.mp4"
    mp = multiprocessing.get_context("spawn")
    queue = mp.Queue()
    proc = mp.Process(target=_worker, args=(str(src), name, str(tmp / "home"), str(out), queue))
    proc.start()
    figures = queue.get(timeout=3600)
    proc.join()
    return figures, out


def run_clip(path: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="gk-bench-video-real-") as tmp_name:
        tmp = Path(tmp_name)
        raw = path.read_bytes()
        data, done = prepare(path, tmp / "prepared.mov")
        src = tmp / "clip.mp4"  # run_deface writes the same bytes to this name
        src.write_bytes(data)
        w, h = _size(data)
        frames = _frames(data, w, h)
        step = 1 if len(frames) <= EVERY_FRAME_UP_TO else 2
        cache = Path(tempfile.gettempdir()) / (
            f"gk-bench-video-real-dlib-{hashlib.sha256(data).hexdigest()[:16]}-{step}.json")
        if cache.is_file():  # the same bytes judged before: dlib is deterministic
            kept = json.loads(cache.read_text())
            faces = {int(i): [(tuple(b), up) for b, up in v] for i, v in kept["faces"].items()}
            judge_cpu = kept["cpu_s"]
        else:
            cpu0 = time.process_time()
            faces = find_faces(frames, step)
            judge_cpu = time.process_time() - cpu0
            cache.write_text(json.dumps({"cpu_s": judge_cpu, "faces": faces}))
        up1 = sum(1 for b in faces.values() for _, up in b if up == 1)
        source = {"file": path.name, "sha256": hashlib.sha256(raw).hexdigest(),
                  "bytes": len(raw), "prepared": done, "size": [w, h], "frames": len(frames),
                  "frames_judged": len(faces), "every_nth_frame": step,
                  "dlib_face_frames": sum(len(b) for b in faces.values()),
                  "dlib_face_frames_upsample_1": up1,
                  "dlib_frames_with_a_face": sum(1 for b in faces.values() if b),
                  "dlib_most_faces_in_a_frame": max((len(b) for b in faces.values()), default=0),
                  "dlib_source_cpu_s": round(judge_cpu, 1),
                  "recheck_on_source": judge(frames, faces),
                  "exiftool_tags": _tags(src), "sound_streams": _sound(data)}
        known = SOURCES.get(path.name, {})
        source["sha256_matches_published"] = known.get("sha256") == source["sha256"]
        small = [_small(f) for f in frames]
        crops = source_crops(frames, faces)
        del frames
        d_fig, d_out = run_deface(Clip(data), tmp)
        g_fig, g_out = run_gatekeeper(src, "real-clip.mp4", tmp)
        result: dict = {"origin": {k: v for k, v in known.items() if k != "sha256"} or None,
                        "source": source}
        for tool, fig, out in (("gatekeeper", g_fig, g_out), ("deface", d_fig, d_out)):
            if not out.exists():
                result[tool] = {**fig, "output": None}
                continue
            made = out.read_bytes()
            got = _frames(made, w, h)
            k = align(small, got)
            result[tool] = {**fig, "frames": len(got), "aligned_offset_frames": k,
                            **judge(got, faces, k, crops),
                            "exiftool_tags_left": _tags(out), "sound_streams": _sound(made)}
    g, d = result["gatekeeper"], result["deface"]
    if g.get("cpu_s") and d.get("cpu_s"):
        result["cpu_ratio_to_deface"] = round(g["cpu_s"] / d["cpu_s"], 3)
    return result


def run() -> dict | None:
    files = clip_files()
    if not files:
        print(f"  real video clips skipped: none at {os.environ.get(ENV, str(DEFAULT))} "
              f"({ENV}: a clip or a folder of clips; bench/video_real.py names their sources)")
        return None
    clips = {}
    for path in files:
        print(f"  real video clip {path.name} ...", flush=True)
        clips[path.name] = run_clip(path)
    result = {"judge": "dlib HOG (face_recognition.face_locations), upsample 1 and 2",
              "max_seconds": MAX_SECONDS, "clips": clips,
              "cpu_note": "CPU seconds (process time; deface: its process's rusage)"}
    write("video_real", result)
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, default=str))
