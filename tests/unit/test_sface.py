"""The second embedding: landmark alignment, and SFace vectors from the face engine."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
from PIL import Image

from gatekeeper.adapters.faces import FaceQuality
from gatekeeper.adapters.sface import (
    CROP,
    TEMPLATE,
    WEIGHTS,
    SFaceEncoder,
    _load_float32,
    aligned_crop,
    similarity_transform,
    widened_model,
)
from tests import imagegen


def test_similarity_transform_undoes_a_turn_scale_and_shift():
    angle, scale, shift = 0.4, 2.5, np.array([300.0, 120.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    seen = TEMPLATE @ (scale * rot).T + shift
    m = similarity_transform(seen, TEMPLATE)
    back = seen @ m[:, :2].T + m[:, 2]
    assert np.allclose(back, TEMPLATE, atol=1e-9)


def test_aligned_crop_puts_the_landmarks_on_the_template():
    img = np.zeros((400, 400, 3), np.uint8)
    marks = TEMPLATE * 3 + [20, 30]  # a face three times the crop's size, shifted
    for x, y in marks:
        img[int(y) - 2:int(y) + 3, int(x) - 2:int(x) + 3] = 255
    crop = aligned_crop(Image.fromarray(img), marks)
    assert crop.shape == (CROP, CROP, 3)
    for x, y in TEMPLATE:
        assert crop[int(round(y)), int(round(x))].max() > 100


def test_engine_gives_unit_sface_vectors_that_tell_people_apart(face_engine):
    tom = imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")
    eileen = imagegen.load(imagegen.FIXTURES / "eileen_collins.png")

    def vec(img):
        face = max(face_engine.find_faces(img, False), key=lambda f: f.box.width)
        assert face.quality is FaceQuality.OK and face.landmarks is not None
        assert face.sface_encoding.shape == (128,)
        assert abs(float(np.linalg.norm(face.sface_encoding)) - 1) < 1e-4
        return face.sface_encoding

    t, e = vec(tom), vec(eileen)
    smaller = tom.resize((tom.width // 3, tom.height // 3), Image.Resampling.LANCZOS)
    turned = vec(tom.rotate(12, expand=True, fillcolor=(128, 128, 128)))
    assert float(t @ vec(smaller)) > 0.6 and float(t @ turned) > 0.6
    assert float(t @ e) < 0.3


def test_unusable_faces_carry_no_second_vector(face_engine):
    tom = imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")
    tiny = tom.resize((tom.width // 20, tom.height // 20))
    for face in face_engine.find_faces(tiny, False):
        assert face.quality is not FaceQuality.OK and face.sface_encoding is None


def test_prelu_rewrite_gives_the_vectors_of_the_published_network():
    """The PRelu activations are rewritten for speed (sface._prelu_as_convolutions); the vectors
    must stay those of the vendored network as published, run with its own PRelu nodes."""
    model = widened_model(WEIGHTS)
    assert any(n.op_type == "PRelu" for n in model.graph.node)
    published = onnxruntime.InferenceSession(model.SerializeToString(),
                                             providers=["CPUExecutionProvider"])
    encoder = SFaceEncoder()
    assert not any(n.op_type == "PRelu" for n in onnx.load_from_string(
        _load_float32(WEIGHTS)).graph.node)
    crops = np.random.default_rng(5).integers(0, 256, (3, 112, 112, 3), dtype=np.uint8)
    raw = published.run(None, {encoder.input_name: crops.astype(np.float32).transpose(0, 3, 1, 2)})[0]
    expected = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    assert np.abs(encoder.encode(list(crops)) - expected).max() < 1e-5
