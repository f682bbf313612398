"""Every `gatekeeper ... --help` text, walked from the parser, so a refactor of the parser can be
compared with the help it printed before (tests/fixtures/cli_help.json)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from docs_gen.reference import walk

FIXTURE = Path(__file__).parent / "fixtures" / "cli_help.json"
WIDTH = "100"  # argparse wraps to $COLUMNS: fixed, so the texts do not depend on the terminal


def help_texts() -> dict[str, str]:
    """`gatekeeper WORDS` -> its --help text, for every command and subcommand."""
    from gatekeeper.entrypoints.cli import build_parser

    os.environ["COLUMNS"] = WIDTH
    return {" ".join(("gatekeeper", *path)): p.format_help() for path, p in walk(build_parser())}


if __name__ == "__main__":  # regenerate the fixture: only from code whose CLI is the reference
    FIXTURE.write_text(json.dumps(help_texts(), indent=1, sort_keys=True) + "\n")
    print(f"{FIXTURE}: {len(help_texts())} help texts", file=sys.stderr)
