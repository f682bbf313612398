"""`gatekeeper erase` and `gatekeeper purge --apply` killed with SIGKILL at every crash point
(each store write or delete and each commit, in turn): after each kill no row points at a missing
object and nothing public is left without a live row or a queued deletion; the re-run completes,
and its certificate lists everything deleted across both runs."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from consent_db.db import migrate
from gatekeeper.config import Settings
from gatekeeper.errors import NotFound
from gatekeeper.services.auditing import certificates
from gatekeeper.services.context import Context
from tests.conftest import ROOT
from tests.integration.deletions import PURGE_DAY, build, consistent, finished

pytestmark = pytest.mark.slow
URL = "http://127.0.0.1:8000"


class Runner:
    """The crash harness (`crash_cli --serve`): one import, a fork per command."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.integration.crash_cli",
                                      "--serve"], cwd=ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def run(self, home: Path, n: int, *argv: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        env = {"GATEKEEPER_HOME": str(home), "GATEKEEPER_PUBLIC_URL": URL}
        self.proc.stdin.write(json.dumps({"n": n, "argv": list(argv), "env": env,
                                          "log": str(home.parent / f"{home.name}.log")}) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def runner() -> Iterator[Runner]:
    r = Runner()
    yield r
    r.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    """One SQLite instance with published photos, copied afresh for every round."""
    home = tmp_path_factory.mktemp("kill9") / "template"
    home.mkdir()
    ctx = Context(Settings(home=home, public_url=URL))
    migrate(ctx.engine)
    photos = build(ctx)
    ctx.close()
    return home, photos


def _round(template: Path, n: int) -> tuple[Path, Context]:
    home = template.parent / f"round-{n}"
    shutil.copytree(template, home)
    return home, Context(Settings(home=home, public_url=URL))


def kill_at_every_point(runner: Runner, template: Path, argv: tuple[str, ...],
                        expect_deleted: list[int], expect_covered: list[int]) -> int:
    """Kill the command at crash point 1, 2, ... until it runs to its end; returns the kills."""
    kills = 0
    for n in range(1, 400):
        home, ctx = _round(template, n)
        try:
            outcome = runner.run(home, n, *argv)
            if outcome["signal"] is None:  # past its last crash point: the run completed
                assert outcome["code"] == 0, (home.parent / f"{home.name}.log").read_text()
                finished(ctx)
                print(f"{argv[0]}: killed at {kills} points, then ran to its end")
                return kills
            assert outcome["signal"] == signal.SIGKILL
            kills += 1
            consistent(ctx)  # old state or new state, at every point
            done_before = bool(certificates(ctx=ctx))  # killed after the last commit
            again = runner.run(home, 0, *argv)
            # an erasure already certified finds no such person (and still empties the outbox)
            code = NotFound.exit_code if done_before and argv[0] == "erase" else 0
            assert again == {"signal": None, "code": code}, \
                (home.parent / f"{home.name}.log").read_text()
            finished(ctx)
            certs = [c for c in certificates(ctx=ctx) if c["people"]]  # daily runs: empty ones
            assert len(certs) == 1, f"killed at point {n}: {len(certs)} certificates"
            assert certs[0]["photos_deleted"] == expect_deleted, f"killed at point {n}"
            assert certs[0]["photos_covered"] == expect_covered, f"killed at point {n}"
        finally:
            ctx.close()
            shutil.rmtree(home, ignore_errors=True)
    raise AssertionError("the command never ran to its end")  # pragma: no cover


def test_erase_killed_at_every_point(runner, template):
    home, photos = template
    kills = kill_at_every_point(
        runner, home, ("erase", "EIL", "--by", "dpo1"),
        expect_deleted=sorted([photos["eil_alone"], photos["eil_again"]]),
        expect_covered=sorted([photos["eil_tom"], photos["eil_ann"]]))
    assert kills >= 10


def test_purge_apply_killed_at_every_point(runner, template):
    home, photos = template
    kills = kill_at_every_point(
        runner, home, ("purge", "--apply", "--today", PURGE_DAY.isoformat()),
        expect_deleted=sorted([photos["eil_alone"], photos["eil_ann"], photos["eil_again"]]),
        expect_covered=sorted([photos["eil_tom"], photos["ann_tom"]]))
    assert kills >= 10
