"""Independent checks used by tests: exiftool's view of a file, faces found in a region."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

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
