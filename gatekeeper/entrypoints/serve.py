"""`gatekeeper serve` (web app + queue consumer in one process tree) and `gatekeeper worker`."""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import logging
import os
import signal
import socket
import subprocess
import sys
from typing import IO

import uvicorn

from gatekeeper.config import Settings
from gatekeeper.errors import InvalidInput
from gatekeeper.services.accounts.instance import ensure_initialised
from web.app import create_app
from workers.tasks import make_huey

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1


def serve(settings: Settings, host: str | None = None, port: int | None = None,
          with_worker: bool = True) -> int:
    """Run the web app; on the embedded default also a consumer process beside it, which is
    told to stop with the web app and dies with it if the web process is killed."""
    ensure_initialised(settings)
    host, port = host or settings.host, port or settings.port
    _check_port_free(host, port)
    worker = None
    if with_worker:
        env = {**os.environ, "GATEKEEPER_HOME": str(settings.home),
               "GATEKEEPER_PARENT_PID": str(os.getpid())}
        worker = subprocess.Popen([sys.executable, "-m", "gatekeeper", "worker"], env=env,
                                  preexec_fn=_die_with_parent)
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


def _check_port_free(host: str, port: int) -> None:
    """Refuse before printing anything when another program already listens there."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InvalidInput(f"cannot listen on {host}:{port}: {exc.strerror} "
                               "(another program uses it; choose --port)") from None


def _die_with_parent() -> None:
    """In the worker child, before exec: the kernel sends SIGTERM when `serve` dies, even by
    SIGKILL, so no orphaned consumer keeps running beside a restarted one."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def scheduler_lock(settings: Settings) -> IO[bytes] | None:
    """An exclusive lock on the instance's scheduler file, or None when another consumer on
    this machine already runs the periodic schedule (exactly one scheduler)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    handle = open(settings.home / "scheduler.lock", "ab")  # noqa: SIM115 (held for the process)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def run_worker(settings: Settings, workers: int | None = None) -> int:
    """Consume the queue with N processes, each loading the face engine once; only the holder
    of the scheduler lock runs the periodic tasks."""
    ensure_initialised(settings)
    logging.getLogger("huey").setLevel(logging.WARNING)
    huey = make_huey(settings)
    lock = scheduler_lock(settings)
    consumer = huey.create_consumer(workers=workers or settings.workers, worker_type="process",
                                    periodic=lock is not None, check_worker_health=True)
    try:
        consumer.run()
    finally:
        if lock is not None:
            lock.close()
    return 0
