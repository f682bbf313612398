"""Issue 26: every file the CLI writes with --out (or --csv) holds personal data or the school's
own figures, so it is readable by the service's user only (0600), whatever the umask and
whatever mode an older file of that name had."""

from __future__ import annotations

import os
import stat

import pytest

from gatekeeper.adapters.filemodes import write_private
from gatekeeper.entrypoints.cli import main
from gatekeeper.services.auditing import certificates
from gatekeeper.services.dpo.purge import erase_person

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("data", ["text", b"bytes"])
def test_write_private_is_0600_whatever_the_umask_and_the_old_file(tmp_path, data):
    target = tmp_path / "out.csv"
    target.write_text("old and longer than the new content")
    target.chmod(0o644)
    old = os.umask(0)
    try:
        write_private(target, data)
    finally:
        os.umask(old)
    assert mode(target) == 0o600
    assert target.read_bytes() == (data.encode() if isinstance(data, str) else data)


@SQLITE_ONLY
def test_every_out_file_of_the_cli_is_0600(ctx, school, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GATEKEEPER_DATABASE_URL", ctx.settings.resolved_database_url)
    monkeypatch.setenv("GATEKEEPER_PUBLIC_URL", "https://consent.school.example")
    home = ["--home", str(ctx.settings.home)]
    erase_person(ctx=ctx, external_id="EIL", user=school["dpo1"])
    cert = certificates(ctx=ctx)[0]["id"]
    out = tmp_path / "exports"
    out.mkdir()
    commands = {
        "sar.zip": ["sar", "TOM", "--by", "dpo1", "--out"],
        "cert.pdf": ["audit", "certificate", str(cert), "--out"],
        "missing.csv": ["consent", "missing", "--out"],
        "report.pdf": ["report", "governors", "--out"],
        "figures.csv": ["report", "governors", "--out"],
        "dpia.html": ["records", "dpia", "--out"],
        "ropa.pdf": ["records", "ropa", "--out"],
        "links.csv": ["parents", "invite", "--all", "--by", "dpo1", "--csv"],
    }
    old = os.umask(0o022)
    try:
        for name, argv in commands.items():
            (out / name).write_text("an older file, world-readable")
            (out / name).chmod(0o644)
            assert main([*argv, str(out / name), *home]) == 0, capsys.readouterr().err
    finally:
        os.umask(old)
    assert {name: mode(out / name) for name in commands} == dict.fromkeys(commands, 0o600)
    assert (out / "sar.zip").read_bytes().startswith(b"PK")
    assert (out / "cert.pdf").read_bytes().startswith(b"%PDF-")
