"""`gatekeeper serve` (web app + queue consumer in one process group) and `gatekeeper worker`."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys

from .config import Settings

log = logging.getLogger(__name__)


def serve(settings: Settings, host: str | None = None, port: int | None = None,
          with_worker: bool = True) -> int:
    """Run the web app; on the embedded default also a consumer process beside it."""
    import uvicorn

    from web.app import create_app

    from .commands import ensure_initialised

    ensure_initialised(settings)
    worker = None
    if with_worker:
        env = {**os.environ, "GATEKEEPER_HOME": str(settings.home)}
        worker = subprocess.Popen([sys.executable, "-m", "gatekeeper", "worker"], env=env)
    host, port = host or settings.host, port or settings.port
    print(f"Gatekeeper is running on http://{host}:{port}/  (Ctrl+C stops it)", flush=True)
    try:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGINT)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
    return 0


def run_worker(settings: Settings, workers: int | None = None) -> int:
    """Consume the queue with N processes, each loading the face engine once."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from workers.tasks import make_huey

    from .commands import ensure_initialised

    ensure_initialised(settings)
    logging.getLogger("huey").setLevel(logging.WARNING)
    huey = make_huey(settings)
    consumer = huey.create_consumer(workers=workers or settings.workers, worker_type="process",
                                    periodic=True, check_worker_health=True)
    consumer.run()
    return 0
