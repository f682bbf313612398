"""Real look-alikes from the shared PAIRS.csv: an unknown look-alike of an enrolled person stays
covered, while the enrolled person's own other photo is identified."""

from __future__ import annotations

import csv

import numpy as np

from gatekeeper.config import Settings
from gatekeeper.domain.images import decode
from gatekeeper.domain.matching import identify


def encode(engine, path):
    img = decode(path.read_bytes(), 200_000_000).pixels
    face = max(engine.find_faces(img, False), key=lambda f: f.box.width)
    return face.encoding


def test_lookalike_pairs_stay_unknown(faces_dir, face_engine):
    s = Settings()
    rows = [r for r in csv.DictReader((faces_dir / "PAIRS.csv").open())
            if r["same_identity"] == "0" and float(r["fr_distance"]) < 0.6
            and not r["path_b"].endswith(".gif") and not r["path_a"].endswith(".gif")]
    assert rows, "PAIRS.csv lists look-alikes under face_recognition's default tolerance"
    for row in rows:
        enrolled = encode(face_engine, faces_dir / row["path_a"])
        stranger = encode(face_engine, faces_dir / row["path_b"])
        [m] = identify(stranger[None], enrolled[None], np.array([1]), s.match_tolerance,
                       s.match_margin)
        assert m.person_id is None, row


def test_enrolled_person_is_still_recognised(faces_dir, face_engine):
    s = Settings()
    folder = faces_dir / "people" / "angelina_jolie"
    refs = [encode(face_engine, folder / n) for n in ("deepface__dataset_img2.jpg",
                                                       "deepface__dataset_img5.jpg")]
    probe = encode(face_engine, folder / "deepface__dataset_img10.jpg")
    [m] = identify(probe[None], np.stack(refs), np.array([1, 1]), s.match_tolerance, s.match_margin)
    assert m.person_id == 1
