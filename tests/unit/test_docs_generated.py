"""The reference sections generated at build time (docs_gen/reference.py) cover everything their
source holds, and the pages carry the markers that pull them in."""

from __future__ import annotations

import ast

from docs_gen import reference
from gatekeeper.config import Settings
from tests.cli_help import help_texts
from tests.unit.test_architecture import ROOT

DOCS = ROOT / "docs"


def test_every_command_is_on_the_cli_page():
    text = reference.cli_reference()
    for command, help_text in help_texts().items():
        assert f"### `{command}`" in text
        assert help_text.rstrip() in text  # exactly what --help prints
    assert "<!-- generated: cli -->" in (DOCS / "reference" / "cli.md").read_text()


def test_every_setting_is_on_the_configuration_page():
    text = reference.settings_reference()
    rows = [line for line in text.splitlines() if line.startswith("| `GATEKEEPER_")]
    assert len(rows) == len(Settings.model_fields)
    assert "| `GATEKEEPER_INVITATION_DAYS` | int | `7` | a portal link expires" in text
    assert "<!-- generated: settings -->" in (DOCS / "reference" / "configuration.md").read_text()


def test_every_route_is_in_the_pages_table():
    text = reference.pages_reference()
    for path in sorted((ROOT / "web").glob("routes_*.py")):
        for fn in ast.parse(path.read_text()).body:
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) and reference._route_of(fn):
                assert f"`{path.stem}.{fn.name}`" in text
    assert "| GET | `/api/photos` | `routes_api.list_photos` | `photos.read.list_photos` |" in text


def test_the_feature_picture_follows_the_contract():
    svg = reference.features_diagram()
    for feature in ("governors", "dpo", "portal", "photos", "video", "consent", "accounts"):
        assert f"services/{feature}/" in svg
    assert svg.index("services/governors/") < svg.index("services/accounts/") < svg.index("kernel")
    assert "letters" in svg  # a module added to a feature appears without editing the page
    assert "<!-- generated: features -->" in (DOCS / "developers" / "architecture.md").read_text()


def test_benchmark_page_is_the_results_as_generated():
    """docs/developers/benchmarks.md includes bench/results/README.md, which is made from the
    JSON results alone: a figure edited by hand, or results not re-rendered, fails here."""
    from bench.report import render_readme

    assert (ROOT / "bench" / "results" / "README.md").read_text() == render_readme()
    assert '--8<-- "bench/results/README.md' in (DOCS / "developers" / "benchmarks.md").read_text()
