"""The command line is the same after the parser was split into one function per command group:
every `--help` text equals the one main's parser printed (tests/fixtures/cli_help.json, written
by `python -m tests.cli_help` from that code), and no parser-building function grows back into
one long list."""

from __future__ import annotations

import ast
import json

import pytest

from tests.cli_help import FIXTURE, help_texts
from tests.unit.test_architecture import ROOT

BEFORE: dict[str, str] = json.loads(FIXTURE.read_text())
NOW = help_texts()


def test_the_same_commands():
    assert sorted(NOW) == sorted(BEFORE)


@pytest.mark.parametrize("command", sorted(BEFORE))
def test_help_unchanged(command):
    assert NOW.get(command) == BEFORE[command]


def _statements(fn: ast.FunctionDef) -> int:
    return sum(isinstance(n, ast.stmt) for n in ast.walk(fn)) - 1


def test_parser_functions_are_small():
    tree = ast.parse((ROOT / "gatekeeper" / "entrypoints" / "cli.py").read_text())
    sizes = {fn.name: _statements(fn) for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef)}
    assert {name: n for name, n in sizes.items() if n > 30} == {}
