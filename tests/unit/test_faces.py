"""The face engine on real faces: orientation, size and blur gates, encoding consistency."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from gatekeeper.adapters.faces import FaceQuality
from gatekeeper.errors import EnrolmentRefused
from tests import imagegen


def tom() -> Image.Image:
    return imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")


def main_face(faces):
    return max(faces, key=lambda f: f.box.width)


def test_finds_and_encodes_a_face(face_engine):
    face = main_face(face_engine.find_faces(tom(), False))
    assert face.quality is FaceQuality.OK and face.encoding.shape == (128,)
    assert face.box.width > 300


def test_sideways_photo_without_orientation_is_found_and_matches(face_engine):
    upright = main_face(face_engine.find_faces(tom(), False))
    for turn in (Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270):
        sideways = tom().transpose(turn)
        found = main_face(face_engine.find_faces(sideways, look_sideways=True))
        assert found.rotation in (90, 270)
        assert found.encoding is not None
        assert np.linalg.norm(found.encoding - upright.encoding) < 0.25


def test_tiny_face_is_found_but_not_identifiable(face_engine):
    small = tom().resize((35, 50))  # a face about 27 px wide
    canvas = Image.new("RGB", (400, 300), (120, 140, 160))
    canvas.paste(small, (150, 100))
    faces = face_engine.find_faces(canvas, False)
    assert faces, "a 27-px face must still be detected (it will be covered)"
    assert all(f.quality is FaceQuality.TOO_SMALL and f.encoding is None for f in faces)


def test_blurred_face_is_not_identifiable(face_engine):
    blurred = tom().filter(ImageFilter.GaussianBlur(14))
    faces = face_engine.find_faces(blurred, False)
    assert faces and all(f.encoding is None for f in faces if f.box.width > 200)
    assert main_face(faces).quality is FaceQuality.TOO_BLURRED


def test_a_little_blurred_face_is_soft_identifiable_but_no_template(face_engine):
    """Between min_sharpness and sharp_from a face is soft: encoded by both models (it may be
    identified under a stricter margin), but refused as a reference photo as too blurred."""
    soft = tom().filter(ImageFilter.GaussianBlur(7.5))
    face = main_face(face_engine.find_faces(soft, False))
    assert face.quality is FaceQuality.SOFT
    assert face.encoding is not None and face.sface_encoding is not None
    sharp = main_face(face_engine.find_faces(tom(), False))
    assert np.linalg.norm(face.encoding - sharp.encoding) < 0.4  # still the same person
    with pytest.raises(EnrolmentRefused, match="too blurred"):
        face_engine.encode_single(soft)
    b = face.box  # nor as a face an editor confirms (encode_at, the confirmed-template path)
    with pytest.raises(EnrolmentRefused, match="too_blurred"):
        face_engine.encode_at(soft, (b.top, b.right, b.bottom, b.left))


def test_no_face_in_a_plain_image(face_engine):
    assert face_engine.find_faces(Image.new("RGB", (300, 200), (200, 200, 200)), True) == []


def test_one_sideways_face_among_upright_ones_is_found(face_engine):
    """A child lying on the grass in an upright photo without an orientation tag."""
    eileen = imagegen.load(imagegen.FIXTURES / "eileen_collins.png").crop((120, 20, 330, 230))
    lying = tom().resize((283, 400)).transpose(Image.Transpose.ROTATE_90)
    canvas, (e_box, t_box) = imagegen.row_of_faces([eileen, lying], height=300)
    faces = face_engine.find_faces(canvas, look_sideways=True)
    centres = [((f.box.left + f.box.right) / 2, f.rotation) for f in faces]
    assert any(t_box[0] <= x <= t_box[2] and rot in (90, 270) for x, rot in centres), centres
    assert any(e_box[0] <= x <= e_box[2] and rot == 0 for x, rot in centres), centres


def test_no_encodings_when_asked_for_none(face_engine):
    faces = face_engine.find_faces(tom(), False, encode=False)
    face = main_face(faces)
    assert face.quality is FaceQuality.OK
    assert all(f.encoding is None and f.sface_encoding is None for f in faces)


def _probe_sides(face_engine, monkeypatch, img):
    sides = []
    turns = face_engine._sideways_turns

    def spy(rgb, probe_side=800):
        sides.append(probe_side)
        return turns(rgb, probe_side)

    monkeypatch.setattr(face_engine, "_sideways_turns", spy)
    faces = face_engine.find_faces(img, look_sideways=True)
    return sides, faces


def test_quick_sideways_look_is_smaller_only_once_a_sure_upright_face_is_found(
        face_engine, monkeypatch):
    o = face_engine.options
    sides, _ = _probe_sides(face_engine, monkeypatch, tom())  # stands upright
    assert sides == [o.probe_side_upright] and o.probe_side_upright < o.probe_side
    turned = tom().transpose(Image.Transpose.ROTATE_90)  # no upright face: orientation unknown
    sides, faces = _probe_sides(face_engine, monkeypatch, turned)
    assert sides == [o.probe_side]
    assert main_face(faces).rotation in (90, 270)
    sides, _ = _probe_sides(face_engine, monkeypatch, Image.new("RGB", (900, 600), (90, 90, 90)))
    assert sides == [o.probe_side]


def test_a_soft_mirror_is_not_averaged_into_a_template():
    """A reference photo's mirror image can measure a little softer than the photo: its
    vectors must not be averaged into the template (a soft face is never a template)."""
    from types import SimpleNamespace

    from gatekeeper.adapters.engine.found import Box, FoundFace
    from gatekeeper.adapters.engine.references import flip_averaged

    img = Image.new("RGB", (200, 200))
    sharp = FoundFace(box=Box(50, 150, 150, 50), score=0.9, rotation=0,
                      quality=FaceQuality.OK, encoding=np.ones(128),
                      sface_encoding=np.ones(128, np.float32) / np.sqrt(128))

    def mirrored(quality):
        face = FoundFace(box=Box(50, 150, 150, 50), score=0.9, rotation=0, quality=quality,
                         encoding=np.full(128, 3.0),
                         sface_encoding=np.ones(128, np.float32) / np.sqrt(128))
        return SimpleNamespace(options=None, find_faces=lambda *a, **k: [face])

    assert flip_averaged(mirrored(FaceQuality.SOFT), img, sharp) is sharp
    assert not np.array_equal(flip_averaged(mirrored(FaceQuality.OK), img, sharp).encoding,
                              sharp.encoding)
