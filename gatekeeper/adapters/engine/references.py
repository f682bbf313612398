"""Templates from reference photos and from faces editors confirm: the same engine, stricter
gates (one sure, large, sharp, frontal face), and a refusal that says what the DPO can do."""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

import numpy as np
from PIL import Image, ImageOps

from gatekeeper.adapters.engine.found import Box, FaceQuality, FoundFace, overlap
from gatekeeper.adapters.engine.options import EngineOptions
from gatekeeper.errors import EnrolmentRefused


class Finder(Protocol):
    """What enrolment needs of the engine."""

    options: EngineOptions

    def find_faces(self, img: Image.Image, look_sideways: bool,
                   encode: bool = True) -> list[FoundFace]: ...


def encode_single(engine: Finder, img: Image.Image) -> tuple[np.ndarray, FoundFace]:
    """The one usable face of a reference photo; EnrolmentRefused otherwise, saying why and
    what the DPO can do about it (reference_refusal)."""
    o = engine.options
    found = engine.find_faces(img, look_sideways=False)
    # Only sure faces count: the weaker boxes kept to cover small or masked faces in
    # published photos would otherwise refuse a portrait for a speck in its background.
    faces = [f for f in found if f.score >= o.detect_threshold]
    if not faces:
        # A face too small for a sure score is still worth naming as such.
        small = [f for f in found if f.quality is FaceQuality.TOO_SMALL]
        raise EnrolmentRefused(reference_refusal(
            "too_small" if small else "no_face",
            width=round(max((f.box.width for f in small), default=0) / o.small_box_growth),
            min_px=o.min_face_px))
    if len(faces) > 1:
        raise EnrolmentRefused(reference_refusal("several_faces", count=len(faces)))
    face = faces[0]
    if face.encoding is None or face.quality is not FaceQuality.OK:
        # a soft face is identified under a stricter rule, but a template must be sharp
        why = FaceQuality.TOO_BLURRED if face.quality is FaceQuality.SOFT else face.quality
        raise EnrolmentRefused(reference_refusal(why.value, width=face.box.width,
                                                 min_px=o.min_face_px))
    if o.flip_references:
        face = flip_averaged(engine, img, face)
    assert face.encoding is not None
    return face.encoding, face


def flip_averaged(engine: Finder, img: Image.Image, face: FoundFace) -> FoundFace:
    """`face` of `img` with each model's vector averaged with that of its mirror image (the
    face found again in the mirrored photo) and brought back to the originals' length (dlib)
    or unit length (SFace); `face` itself where the mirror gives no usable face there."""
    if face.encoding is None:
        return face
    b = face.box
    cx, cy = img.width - (b.left + b.right) / 2, (b.top + b.bottom) / 2
    near = [f for f in engine.find_faces(ImageOps.mirror(img), look_sideways=False)
            if f.encoding is not None and f.quality is FaceQuality.OK  # a template: sharp
            and abs((f.box.left + f.box.right) / 2 - cx) < b.width / 3
            and abs((f.box.top + f.box.bottom) / 2 - cy) < b.height / 3]
    if not near:
        return face
    other = max(near, key=lambda f: f.box.width)
    assert other.encoding is not None
    dlib = (face.encoding + other.encoding) / 2
    dlib *= (np.linalg.norm(face.encoding) + np.linalg.norm(other.encoding)) / 2 / max(
        float(np.linalg.norm(dlib)), 1e-12)
    sface = face.sface_encoding
    if sface is not None and other.sface_encoding is not None:
        sface = sface + other.sface_encoding
        sface = (sface / max(float(np.linalg.norm(sface)), 1e-12)).astype(np.float32)
    return replace(face, encoding=dlib, sface_encoding=sface)


def encode_at(engine: Finder, img: Image.Image, where: tuple[int, int, int, int],
              rotation: int = 0) -> FoundFace:
    """The face found again at `box` of an upright photo (a face an editor confirmed), through
    the same gates as a reference photo (sure, large, sharp and frontal enough);
    EnrolmentRefused otherwise. `where` is (top, right, bottom, left); only a crop around it
    is searched."""
    box = Box(*where)
    pad = int(0.6 * max(box.width, box.height))
    x0, y0 = max(0, box.left - pad), max(0, box.top - pad)
    x1, y1 = min(img.width, box.right + pad), min(img.height, box.bottom + pad)
    crop = img.crop((x0, y0, x1, y1))
    found = [f for f in engine.find_faces(crop, look_sideways=rotation != 0)
             if f.score >= engine.options.detect_threshold]
    target = Box(box.top - y0, box.right - x0, box.bottom - y0, box.left - x0)
    best = max(found, key=lambda f: overlap(f.box, target), default=None)
    if best is None or overlap(best.box, target) < 0.4:
        raise EnrolmentRefused("the face was not found again in the photo")
    if best.encoding is None or best.quality is not FaceQuality.OK:
        why = FaceQuality.TOO_BLURRED if best.quality is FaceQuality.SOFT else best.quality
        raise EnrolmentRefused(f"the face is not usable as a template ({why.value})")
    return best


_COUNTS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def reference_refusal(why: str, *, count: int = 0, width: int = 0, min_px: int = 40) -> str:
    """Why a reference photo gives no template, and what the DPO can do: `why` is "no_face",
    "several_faces" or a FaceQuality value other than "ok"."""
    if why == "several_faces":
        return (f"{_COUNTS.get(count, str(count))} faces: crop the photo to the pupil alone "
                "(one face) and enrol it again")
    if why == FaceQuality.TOO_SMALL:
        size = f" ({width} px wide; at least {min_px} px needed)" if width else ""
        return (f"face too small{size}: use a closer photo, or crop around the face without "
                "shrinking it")
    if why == FaceQuality.TOO_BLURRED:
        return "face too blurred: use a sharp, well-lit photo (not a screenshot or a scan)"
    if why == FaceQuality.TOO_TURNED:
        return "face too turned: use a photo of the pupil looking at the camera"
    return ("no face found: use a photo of the pupil's face from the front, upright, "
            "not covered")
