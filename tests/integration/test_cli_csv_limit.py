"""Issue 26, finding 10: the CLI honours the CSV size limit the web has, and refuses an
oversized file before reading it (a 68 MB people.csv ran for 9+ minutes at 1.6 GB)."""

from __future__ import annotations

import pytest

from gatekeeper.entrypoints.cli import main
from gatekeeper.services.consent import people
from tests.integration.helpers import PEOPLE_HEADER, person_row

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@SQLITE
@pytest.mark.parametrize("command", [["people", "import"], ["consent", "import"],
                                     ["parents", "import"]])
def test_an_oversized_csv_is_refused_by_the_cli_in_one_line(ctx, school, tmp_path, monkeypatch,
                                                            capsys, command):
    monkeypatch.setattr(people, "MAX_CSV_BYTES", 1_000)
    from gatekeeper.services.portal import contacts

    monkeypatch.setattr(contacts, "MAX_CONTACTS_BYTES", 1_000)
    monkeypatch.setenv("GATEKEEPER_DATABASE_URL", ctx.settings.resolved_database_url)
    big = tmp_path / "big.csv"
    big.write_text(PEOPLE_HEADER + "".join(person_row(f"P{i:04d}") for i in range(100)))
    extra = ["--by", "dpo1"] if command[0] == "parents" else []
    rc = main([*command, str(big), *extra, "--home", str(ctx.settings.home)])
    err = capsys.readouterr().err
    assert rc != 0 and "larger than 1,000 bytes" in err and len(err.strip().splitlines()) == 1


@SQLITE
def test_the_service_refuses_an_oversized_import_whatever_the_door(ctx, monkeypatch):
    from gatekeeper.errors import TooLarge

    monkeypatch.setattr(people, "MAX_CSV_BYTES", 1_000)
    data = (PEOPLE_HEADER + "".join(person_row(f"P{i:04d}") for i in range(100))).encode()
    with pytest.raises(TooLarge):
        people.import_csv(ctx=ctx, kind="people", data=data)
