"""`make bench`: every benchmark, results in bench/results/*.json and bench/results/README.md."""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bench import (  # noqa: E402
    cleaning,
    detection,
    identification,
    import_scale,
    live_follow,
    portal,
    proxy_routes,
    purge_planning,
    queue_throughput,
    report,
    review_queue,
    sar_export,
    scan_speed,
    template_pooling,
    throughput,
    video,
    video_length,
    video_real,
    web_memory,
)
from bench.run_children_proxy import cache_dir  # noqa: E402
from gatekeeper.adapters.faces import FaceEngine  # noqa: E402
from gatekeeper.config import Settings  # noqa: E402


def main() -> None:
    s = Settings()
    print("whole scan against HOG, interleaved, and the recall of each depth ...", flush=True)
    scan_speed.run(FaceEngine)
    print("detection ...", flush=True)
    detection.run(FaceEngine)
    print("identification ...", flush=True)
    identification.run(FaceEngine, (s.match_tolerance, s.match_margin))
    print("children's proxy (tuning and held-back parts) ...", flush=True)
    proxy_routes.run(FaceEngine, cache_dir())
    print("several templates per person ...", flush=True)
    template_pooling.run(FaceEngine)
    print("throughput ...", flush=True)
    throughput.run(FaceEngine)
    print("queue throughput ...", flush=True)
    queue_throughput.run()
    print("review queue ...", flush=True)
    review_queue.run()
    print("changes of fact reaching the public store ...", flush=True)
    live_follow.run()
    print("web memory ...", flush=True)
    web_memory.run()
    print("consent portal ...", flush=True)
    portal.run()
    print("subject access export ...", flush=True)
    sar_export.run()
    print("cleaning vs mat2 ...", flush=True)
    cleaning.run()
    print("large MIS files through the CLI ...", flush=True)
    import_scale.run()
    print("video against deface ...", flush=True)
    video.run()
    video_length.run()
    video_real.run()  # real clips from GATEKEEPER_BENCH_REAL_CLIP; skips when absent
    print("purge planning on PostgreSQL ...", flush=True)
    try:
        purge_planning.run()
    except Exception as exc:  # no PostgreSQL here: the other results still stand
        print(f"purge planning skipped: {type(exc).__name__}: {exc}")
    print(report.write_readme())


if __name__ == "__main__":
    main()
