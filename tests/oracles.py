"""Independent checks used by tests: exiftool's view of a file, faces found in a region, faces
left uncovered by the publisher's covering."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def exiftool_groups(path: Path) -> set[str]:
    """The family-1 groups exiftool reports for a file (-a -G1)."""
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool not installed (Debian libimage-exiftool-perl)")
    out = subprocess.run(["exiftool", "-a", "-G1", "-j", str(path)], capture_output=True,
                         text=True, check=True).stdout
    tags = json.loads(out)[0]
    return {k.split(":", 1)[0] for k in tags if ":" in k}


def exiftool_tags(path: Path) -> dict:
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool not installed (Debian libimage-exiftool-perl)")
    out = subprocess.run(["exiftool", "-a", "-G1", "-j", str(path)], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)[0]


def faces_in_region(engine, img: Image.Image, box) -> list:
    """Faces found by Gatekeeper's engine AND face_recognition (HOG, upsample 2) inside `box`."""
    import face_recognition
    import numpy as np

    x0, y0, x1, y1 = box
    crop = img.crop((x0, y0, x1, y1))
    found = engine.find_faces(crop, look_sideways=False)
    hog = face_recognition.face_locations(np.asarray(crop), number_of_times_to_upsample=2)
    return found + hog


def uncovered_faces(img: Image.Image, found, faces) -> list:
    """The truth `faces` (top, right, bottom, left) of which less than 80 % of the box pixels
    are changed when the publisher covers the `found` faces (redact.cover, solid fill)."""
    from gatekeeper.domain.redact import cover, head_region
    from gatekeeper.domain.vocabulary import CoverMode

    regions = [(head_region(f.box.top, f.box.right, f.box.bottom, f.box.left, img.width,
                            img.height), True) for f in found]
    published = np.asarray(cover(img, regions, CoverMode.SOLID), dtype=np.int16)
    before = np.asarray(img, dtype=np.int16)
    out = []
    for face in faces:
        t, r, b, left = (int(round(v)) for v in face)
        if (np.abs(published[t:b, left:r] - before[t:b, left:r]).sum(axis=2) > 0).mean() < 0.8:
            out.append([round(v) for v in face])
    return out
