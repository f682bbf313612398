"""`serve` and its worker live and die together; exactly one scheduler per instance."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gatekeeper.config import Settings
from gatekeeper.entrypoints.serve import scheduler_lock

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_worker_dies_with_a_killed_serve(tmp_path):
    env = {**os.environ, "GATEKEEPER_HOME": str(tmp_path / "home")}
    subprocess.run([sys.executable, "-m", "gatekeeper", "init"], env=env, check=True,
                   capture_output=True)
    port = _free_port()
    serve = subprocess.Popen([sys.executable, "-m", "gatekeeper", "serve", "--port", str(port)],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline and not workers:
            workers = _children(serve.pid)
            time.sleep(0.2)
        assert workers, "serve started no worker"
        serve.send_signal(signal.SIGKILL)
        serve.wait(timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.2)
        assert not any(_alive(w) for w in workers), "the worker outlived serve"
    finally:
        if serve.poll() is None:
            serve.kill()
        for w in _children(serve.pid):
            os.kill(w, signal.SIGKILL)


def test_only_one_consumer_runs_the_schedule(tmp_path):
    settings = Settings(home=tmp_path)
    first = scheduler_lock(settings)
    assert first is not None
    assert scheduler_lock(settings) is None  # a second consumer runs tasks, not the schedule
    first.close()
    again = scheduler_lock(settings)
    assert again is not None
    again.close()
