"""Large MIS files through the CLI: time and peak memory of `gatekeeper people import` and
`gatekeeper parents import` on generated files far beyond a school's size (a 68 MB people.csv
once ran 9+ minutes at 1.6 GB). Each size runs in a fresh instance in its own process, so the
peak memory is that import's own."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import write

SIZES = tuple(int(n) for n in os.environ.get("BENCH_IMPORT_ROWS", "20000,100000").split(","))
PEOPLE_HEADER = ("external_id,given_name,family_name,kind,year_group,joined_on,left_on,"
                 "biometric_consent,safeguarding_no_photo,email\n")
CONTACTS_HEADER = ("contact_id,external_id,given_name,family_name,email,parental_responsibility,"
                   "no_contact\n")


def _files(folder: Path, n: int) -> tuple[Path, Path]:
    people, contacts = folder / f"people-{n}.csv", folder / f"contacts-{n}.csv"
    with people.open("w") as out:
        out.write(PEOPLE_HEADER)
        for i in range(n):
            out.write(f"P{i:07d},Given{i},Family{i % 977},pupil,Year {i % 13 + 1},2020-09-01,,"
                      f"{'yes' if i % 3 else 'no'},no,pupil{i}@example.org\n")
    with contacts.open("w") as out:
        out.write(CONTACTS_HEADER)
        for i in range(n):
            out.write(f"C{i:07d},P{i:07d},Parent{i},Family{i % 977},parent{i}@example.org,yes,no\n")
    return people, contacts


def _run(args: list[str], env: dict[str, str]) -> dict[str, float]:
    """Wall time, CPU time (steadier on a shared machine) and the peak resident memory of that
    one command's process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "gatekeeper", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{args[:2]} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return {"s": round(took, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_mb": round(usage.ru_maxrss / 1024)}


def run() -> dict:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in SIZES:
            people, contacts = _files(folder, n)
            home = folder / f"home-{n}"
            env = {**os.environ, "GATEKEEPER_HOME": str(home)}
            env.pop("GATEKEEPER_DATABASE_URL", None)
            subprocess.run([sys.executable, "-m", "gatekeeper", "init"], env=env, check=True,
                           capture_output=True)
            subprocess.run([sys.executable, "-m", "gatekeeper", "users", "add", "bench_dpo",
                            "--role", "dpo"], env=env, check=True,
                           input=b"bench-password-1\n", capture_output=True)
            row = {"rows": n, "people_mb": round(people.stat().st_size / 1e6, 1),
                   "people": _run(["people", "import", str(people)], env),
                   "contacts_mb": round(contacts.stat().st_size / 1e6, 1),
                   "contacts": _run(["parents", "import", str(contacts), "--by", "bench_dpo"], env)}
            results.append(row)
            print(row, flush=True)
    data = {"sizes": results,
            "note": "embedded SQLite; each import in a fresh instance and its own process"}
    write("import_scale", data)
    return data


if __name__ == "__main__":
    run()
