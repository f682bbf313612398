"""Build the hand-checked detection truth, bench/labels/detection_truth.json.

The shared `groups_truth.json` was partly made by CenterFace, the detector under test, so it is
only a starting point. This script merges it with the decisions taken by looking at crops,
kept in bench/labels/corrections.json (faces removed as not faces, faces added that no detector
listed, regions too dense to label one by one), and with the face crops used by the generated
composites (their boxes checked on a contact sheet). Composite faces need no labelling: their
boxes are where they were pasted.

    uv run python -m bench.label_detection            # write detection_truth.json
    uv run python -m bench.label_detection --review D # also write contact sheets into D

Review sheets: for every group photo, the truth faces (green index) and the boxes the current
engine finds that match no truth face (red index), each as an enlarged crop, so a person can
decide per crop. Photos are only read from ../shared, never copied.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from gatekeeper.domain.images import decode

from .common import ROOT, require_faces

LABELS = ROOT / "bench" / "labels"
TRUTH = LABELS / "detection_truth.json"
CORRECTIONS = LABELS / "corrections.json"

# Generated scenes: (name, width, height, seed, face sizes in px). 2, 12 and 24 MP.
SIZES_SMALL = [8, 9, 10, 11, 12, 13, 14, 16, 18, 20, 24, 28, 32, 40, 50, 60]
COMPOSITES = [
    ("scene_2mp_a", 1732, 1155, 21, SIZES_SMALL * 2),
    ("scene_2mp_b", 1155, 1732, 22, SIZES_SMALL * 2),
    ("scene_12mp_a", 4243, 2828, 121, SIZES_SMALL * 4),
    ("scene_12mp_b", 4000, 3000, 122, SIZES_SMALL * 4),
    ("scene_24mp", 6000, 4000, 241, [round(s * 1.5) for s in SIZES_SMALL] * 4),
]
# Crowd photos rescaled so that their faces land at other sizes (factor, photo).
RESCALED = [
    (0.55, "groups/ultra-light-face-detector__imgs_img8.jpeg"),
    (0.45, "groups/ultra-light-face-detector__imgs_img4.jpeg"),
    (0.5, "groups/ultra-light-face-detector__imgs_11.jpg"),
    (2.0, "groups/ultra-light-face-detector__imgs_img5.jpeg"),
    (3.0, "groups/ultra-light-face-detector__imgs_24.jpg"),
]


def size_of(box) -> float:
    """A face's size: the long side of its box (top, right, bottom, left)."""
    t, r, b, left = box
    return max(r - left, b - t)


def load_image(faces_dir: Path, rel: str, scale: float = 1.0) -> Image.Image:
    img = decode((faces_dir / rel).read_bytes(), 200_000_000).pixels.convert("RGB")
    if scale != 1.0:
        img = img.resize((round(img.width * scale), round(img.height * scale)),
                         Image.Resampling.LANCZOS)
    return img


def build(faces_dir: Path) -> dict:
    groups = json.loads((faces_dir / "groups_truth.json").read_text())["photos"]
    fixes = json.loads(CORRECTIONS.read_text())
    photos = {}
    for rel, faces in sorted(groups.items()):
        fix = fixes["photos"].get(rel, {})
        doubtful = set(fix.get("to_ignore", []))
        boxes = [[round(v, 1) for v in f["box"]] for i, f in enumerate(faces) if i not in doubtful]
        ignore = [[round(v, 1) for v in faces[i]["box"]] for i in sorted(doubtful)]
        photos[rel] = {"faces": boxes + fix.get("add", []), "ignore": ignore + fix.get("ignore", []),
                       "checked": fix.get("checked", "unmatched boxes looked at: none a face")}
    crops = [c for c in fixes["crops"] if c.get("ok", True)]
    return {
        "about": ("Hand-checked detection truth. Group photos: groups_truth.json corrected by "
                  "looking at crops (corrections.json); 'ignore' regions hold faces too small or "
                  "dense to box one by one, where neither a miss nor a box counts. Composites: "
                  "real face crops pasted by bench/composites.py at known boxes. Boxes are "
                  "[top, right, bottom, left] in pixels of the (rescaled) photo."),
        "photos": photos,
        "rescaled": [{"file": rel, "scale": k} for k, rel in RESCALED],
        "composites": [{"name": n, "width": w, "height": h, "seed": s, "sizes": sz}
                       for n, w, h, s, sz in COMPOSITES],
        "crops": crops,
    }


def _sheet(img: Image.Image, boxes, colours, path: Path, cell: int = 128) -> None:
    """Each box as an enlarged crop with some context, numbered, in a grid."""
    if not boxes:
        return
    cols = 10
    rows = -(-len(boxes) // cols)
    sheet = Image.new("RGB", (cols * cell, rows * cell), (40, 40, 40))
    draw = ImageDraw.Draw(sheet)
    for i, (box, colour) in enumerate(zip(boxes, colours, strict=True)):
        t, r, b, left = box
        m = 0.4 * max(r - left, b - t)
        crop = img.crop((int(left - m), int(t - m), int(r + m), int(b + m)))
        k = cell / crop.width
        crop = crop.resize((cell, cell))
        ImageDraw.Draw(crop).rectangle((m * k, m * k, cell - m * k, cell - m * k), outline=colour)
        x, y = (i % cols) * cell, (i // cols) * cell
        sheet.paste(crop, (x, y))
        draw.text((x + 2, y + 2), str(i), fill=colour)
    sheet.save(path)


def review(faces_dir: Path, truth: dict, out: Path) -> None:
    """Contact sheets: truth crops and unmatched detections per photo, plus the crops."""
    from gatekeeper.adapters.faces import FaceEngine

    from .detection import covered_fraction

    out.mkdir(parents=True, exist_ok=True)
    engine = FaceEngine()
    extras = {}
    for rel, entry in truth["photos"].items():
        img = load_image(faces_dir, rel)
        found = engine.find_faces(img, look_sideways=False)
        dets = [(f.box.top, f.box.right, f.box.bottom, f.box.left) for f in found]
        extra = [d for d in dets if not any(covered_fraction(t, [d], img.size) > 0.3
                                            for t in entry["faces"])]
        stem = Path(rel).stem
        extras[rel] = [[round(float(v), 1) for v in d] for d in extra]
        _sheet(img, entry["faces"], ["lime"] * len(entry["faces"]), out / f"{stem}_truth.png")
        _sheet(img, extra, ["red"] * len(extra), out / f"{stem}_extra.png")
        overlay = img.copy()
        draw = ImageDraw.Draw(overlay)
        for t, r, b, left in entry["faces"]:
            draw.rectangle((left, t, r, b), outline="lime")
        for t, r, b, left in extra:
            draw.rectangle((left, t, r, b), outline="red")
        overlay.save(out / f"{stem}_overlay.jpg", quality=85)
    (out / "extras.json").write_text(json.dumps(extras, indent=1))
    for i, c in enumerate(truth["crops"]):
        img = load_image(faces_dir, c["file"])
        x0, y0, x1, y1 = c["crop"]
        fx0, fy0, fx1, fy1 = c["box"]
        piece = img.crop((x0, y0, x1, y1))
        ImageDraw.Draw(piece).rectangle((fx0 - x0, fy0 - y0, fx1 - x0, fy1 - y0), outline="lime")
        piece.thumbnail((160, 160))
        piece.save(out / f"crop_{i:02d}.png")


def propose_crops(faces_dir: Path) -> list[dict]:
    """Crop proposals for the corrections file: the one sure large face per people/ photo."""
    from gatekeeper.adapters.detector import CenterFace

    from .composites import crop_boxes

    return crop_boxes(faces_dir, CenterFace())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--review", type=Path, help="write contact sheets into this folder")
    ap.add_argument("--propose-crops", action="store_true",
                    help="print crop proposals (JSON) to check and paste into corrections.json")
    args = ap.parse_args()
    faces_dir = require_faces()
    if args.propose_crops:
        print(json.dumps(propose_crops(faces_dir), indent=1))
        return
    truth = build(faces_dir)
    TRUTH.write_text(json.dumps(truth, indent=1))
    n = sum(len(p["faces"]) for p in truth["photos"].values())
    print(f"{TRUTH}: {len(truth['photos'])} photos, {n} faces, {len(truth['crops'])} crops")
    if args.review:
        review(faces_dir, truth, args.review)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
