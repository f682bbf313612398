"""Shared helpers for the benchmarks: the face set, timing, peak memory, result files."""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FACES = Path(os.environ.get("GATEKEEPER_TEST_FACES", ROOT.parent / "shared" / "data" / "faces"))
RESULTS = ROOT / "bench" / "results"
BENCH_PASSWORD = "bench-password-1"  # passes the password rule; the instances are temporary


def require_faces() -> Path:
    if not (FACES / "MANIFEST.csv").is_file():
        raise SystemExit(f"benchmark needs the face set at {FACES} (GATEKEEPER_TEST_FACES)")
    return FACES


@contextmanager
def timer():
    box = {}
    start = time.perf_counter()
    yield box
    box["s"] = time.perf_counter() - start


def peak_rss_mb() -> float:
    """This process's own peak resident memory. Linux keeps getrusage's maximum across exec,
    so a spawned worker's ru_maxrss is at least its parent's size when it was started (a
    benchmark holding a long generated clip made a 1.1 GB worker read 1.6 GB); the memory
    map's own high-water mark (VmHWM) starts again at exec."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "processor": platform.machine()}, **data}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=float))
    return path
