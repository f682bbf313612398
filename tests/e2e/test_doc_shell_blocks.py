"""Every shell block in the documentation (docs/**/*.md and README.md) is run, page by page, on a
fresh instance, exactly as written; a block that cannot be run says why in the comment right
above it: `<!-- not run: REASON -->`. A command a guide tells a school to type that no longer
works fails here.

Each page gets a new instance (`gatekeeper init`) in a temporary folder holding the files the
guides name (people.csv, consent.csv, contacts.csv, ref1.jpg and ref2.jpg, a sports-day/ folder of
photos), its pupils imported from people.csv (as every guide after the first day assumes; doing
it again changes nothing), the staff users the page does not add itself (dpo1, office1,
editor1), and `uv run`
standing for the project's own environment. Passwords are read from stdin, as when piped."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from gatekeeper.domain.retention import academic_year
from tests import imagegen
from tests.integration.helpers import EILEEN, PEOPLE_HEADER, TOM, event_photo

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
FENCE = re.compile(r"^```(?:sh|bash|shell|console)\n(.*?)^```", re.S | re.M)
NOT_RUN = re.compile(r"<!-- not run: (.+?) -->\s*$")
STAFF = {"dpo1": "dpo", "office1": "office", "editor1": "editor"}
PASSWORD = "long-password-1"


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    script: str
    not_run: str | None  # the reason, when the page says it cannot be run


def blocks(page: Path) -> Iterator[Block]:
    text = page.read_text()
    for m in FENCE.finditer(text):
        before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        reason = NOT_RUN.search(before)
        yield Block(page, text[:m.start()].count("\n") + 1, m.group(1),
                    reason.group(1).strip() if reason else None)


ALL = [b for page in PAGES for b in blocks(page)]
RUN_PAGES = sorted({b.page for b in ALL if b.not_run is None})


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def test_every_block_is_run_or_says_why_not():
    assert ALL, "no shell blocks found: did the fences change?"
    for b in ALL:
        if b.not_run is not None:
            assert len(b.not_run) >= 15, f"{_name(b.page)}:{b.line}: give the reason in words"


def _files(work: Path, today: date) -> None:
    year = academic_year(today)
    (work / "people.csv").write_text(
        PEOPLE_HEADER.strip() + ",email\n"
        "UPN123,Ava,Tester,pupil,Year 7,2020-09-01,,yes,no,\n"
        "UPN124,Ben,Tester,pupil,Year 7,2020-09-01,,yes,no,\n"
        "UPN125,Cal,Other,pupil,Year 9,2020-09-01,,no,no,cal@pupils.example.org\n")
    (work / "consent.csv").write_text(
        "external_id,academic_year,channel,granted,recorded_on,evidence\n"
        f"UPN123,{year},online,yes,{today.isoformat()},form 1\n"
        f"UPN124,{year},display,yes,{today.isoformat()},form 2\n")
    (work / "contacts.csv").write_text(
        "contact_id,external_id,given_name,family_name,email,parental_responsibility,no_contact\n"
        "C123,UPN123,Ann,Tester,ann@example.org,yes,no\n"
        "C124,UPN124,Bob,Tester,bob@example.org,yes,no\n")
    shutil.copy(TOM, work / "ref1.jpg")
    tom = imagegen.load(TOM)  # a second reference: the same face, another size
    (work / "ref2.jpg").write_bytes(imagegen.jpeg(tom.resize((tom.width * 9 // 10,
                                                               tom.height * 9 // 10))))
    (work / "sports-day").mkdir()
    (work / "sports-day" / "race.jpg").write_bytes(event_photo(("tom", "eileen")))
    (work / "sports-day" / "prize.jpg").write_bytes(event_photo(("eileen",)))
    assert EILEEN.exists()


def _env(work: Path) -> dict[str, str]:
    bin_dir = work / "bin"
    bin_dir.mkdir()
    uv = bin_dir / "uv"  # `uv run X` in a guide: X in the project's environment
    uv.write_text('#!/bin/sh\n[ "$1" = run ] && shift\nexec "$@"\n')
    uv.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEKEEPER_")}
    env.update(PATH=f"{bin_dir}:{Path(sys.executable).parent}:{env.get('PATH', '')}",
               GATEKEEPER_HOME=str(work / "gatekeeper-data"),
               GATEKEEPER_PUBLIC_URL="https://consent.school.example",
               GATEKEEPER_SCHOOL_NAME="Test Primary", OPENBLAS_NUM_THREADS="1")
    return env


def _run(script: str, work: Path, env: dict[str, str], stdin: Path) -> subprocess.CompletedProcess[str]:
    with stdin.open() as fh:
        return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=work, env=env,
                              stdin=fh, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("page", RUN_PAGES, ids=_name)
def test_the_page_runs_on_a_fresh_instance(page, tmp_path):
    work = tmp_path / "school"
    work.mkdir()
    _files(work, date.today())
    env = _env(work)
    stdin = tmp_path / "passwords"
    stdin.write_text(f"{PASSWORD}\n" * 100_000)  # every process reads a buffer of it
    mine = [b for b in blocks(page) if b.not_run is None]
    added = set(re.findall(r"users add (\S+)", "".join(b.script for b in mine)))
    prelude = ["gatekeeper init >/dev/null", "gatekeeper people import people.csv >/dev/null"] + [
        f"gatekeeper users add {name} --role {role} >/dev/null"
        for name, role in STAFF.items() if name not in added]
    done = _run("\n".join(prelude), work, env, stdin)
    assert done.returncode == 0, done.stderr
    for b in mine:
        done = _run(b.script, work, env, stdin)
        assert done.returncode == 0, (
            f"{_name(page)}:{b.line} failed (exit {done.returncode}):\n{b.script}\n"
            f"--- stdout\n{done.stdout[-2000:]}\n--- stderr\n{done.stderr[-2000:]}")
