"""One way to open an ONNX model for the scanning networks (CenterFace, YuNet, SFace)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # onnxruntime ships no type hints: mypy sees its session as an unknown class
    from onnxruntime import InferenceSession


def cpu_session(model: bytes | Path, threads: int = 1) -> InferenceSession:
    """The model on the CPU with `threads` threads for each operator and none beside: a scanning
    worker gets one core, and the processes do not fight over cores. Warnings (the exporters'
    unused initializers) are silenced."""
    import onnxruntime  # deferred: the runtime loads only in processes that scan

    onnxruntime.set_default_logger_severity(3)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    source = str(model) if isinstance(model, Path) else model
    return onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])
