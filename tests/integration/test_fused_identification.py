"""The fused (dlib + SFace) decision on the shared real photos: a PAIRS.csv look-alike of an
enrolled person and a person left out of the gallery are never identified; enrolled people still
are. Photos are read from GATEKEEPER_TEST_FACES (default ../shared/data/faces), skipped when absent."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from gatekeeper.config import Settings
from gatekeeper.domain.fusion import Gallery, identify_fused
from gatekeeper.domain.images import decode
from gatekeeper.services.consent.gallery import rule_from_settings

pytestmark = pytest.mark.slow

_cache: dict = {}


def encode(engine, path):
    """The main face's (dlib, SFace, width), once per photo for the whole test session."""
    if path not in _cache:
        img = decode(path.read_bytes(), 200_000_000).pixels
        faces = [f for f in engine.find_faces(img, False) if f.encoding is not None]
        face = max(faces, key=lambda f: f.box.width) if faces else None
        _cache[path] = None if face is None else (face.encoding, face.sface_encoding, face.box.width)
    return _cache[path]


def decide(gallery_rows, probe) -> int | None:
    g = Gallery(np.stack([r[1][0] for r in gallery_rows]),
                np.stack([r[1][1] for r in gallery_rows]).astype(np.float32),
                np.array([r[0] for r in gallery_rows]))
    [m] = identify_fused(probe[0][None], probe[1][None], np.array([float(probe[2])]), g,
                         rule_from_settings(Settings()))
    return m.person_id


def test_fused_never_identifies_a_lookalike(faces_dir, face_engine):
    rows = [r for r in csv.DictReader((faces_dir / "PAIRS.csv").open())
            if r["same_identity"] == "0" and float(r["fr_distance"]) < 0.6
            and not r["path_a"].endswith(".gif") and not r["path_b"].endswith(".gif")]
    assert rows, "PAIRS.csv lists look-alikes under face_recognition's default tolerance"
    for row in rows:
        enrolled = encode(face_engine, faces_dir / row["path_a"])
        stranger = encode(face_engine, faces_dir / row["path_b"])
        assert enrolled is not None and stranger is not None, row
        assert decide([(1, enrolled)], stranger) is None, row


def test_fused_leave_one_out(faces_dir, face_engine):
    """People with three or more photos: two enrolled, the rest probes. Each probe is identified
    as its own person or covered, never as someone else; with its person left out of the gallery
    it is never identified; and most probes are recognised."""
    people = {}
    for folder in sorted((faces_dir / "people").iterdir()):
        photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        if folder.name != "unnamed" and len(photos) >= 3:
            people[folder.name] = photos[:5]  # lean: at most three probes each
    assert len(people) >= 5
    encoded = {name: [e for e in (encode(face_engine, p) for p in photos) if e is not None]
               for name, photos in people.items()}
    names = sorted(n for n, e in encoded.items() if len(e) >= 3)
    rows = [(i, e) for i, n in enumerate(names) for e in encoded[n][:2]]
    recognised = probes = 0
    for i, name in enumerate(names):
        for probe in encoded[name][2:]:
            probes += 1
            got = decide(rows, probe)
            assert got in (i, None), (name, got)
            recognised += got == i
            assert decide([r for r in rows if r[0] != i], probe) is None, name
    assert recognised >= 0.8 * probes
