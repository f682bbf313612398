"""`uv run python -m bench.run_children_proxy`: the children's proxy and each route on it.
GATEKEEPER_BENCH_CACHE keeps the collected encodings between runs (a directory outside the
project: they are face encodings); without it they are collected again."""

import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bench.proxy_routes import run  # noqa: E402
from gatekeeper.adapters.faces import FaceEngine  # noqa: E402


def cache_dir() -> Path:
    return Path(os.environ.get("GATEKEEPER_BENCH_CACHE") or tempfile.mkdtemp(prefix="proxy-"))


if __name__ == "__main__":
    result = run(FaceEngine, cache_dir())
    print(json.dumps({level: {route: {part: (r["recognised_60px"], r["genuine_60px"],
                                             r["wrong_person"], r["unenrolled_shown"])
                                      for part, r in parts.items()}
                              for route, parts in result[level]["routes"].items()}
                      for level in ("class", "harsh")}, indent=1))
