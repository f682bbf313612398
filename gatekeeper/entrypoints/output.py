"""Printing results and reading passwords for the command line."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Any

from gatekeeper.errors import InvalidInput


def emit(data: Any, as_json: bool, lines: list[str]) -> None:
    """JSON for scripts (--json), readable lines otherwise."""
    if as_json:
        print(json.dumps(data, indent=2, sort_keys=True, default=str))
    else:
        print("\n".join(lines))


def read_password(path: Path | None) -> str:
    """From a file, from stdin when piped, or prompted twice on a terminal."""
    if path is not None:
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise InvalidInput(f"{path}: cannot read ({exc.strerror})") from None
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise InvalidInput("the two passwords differ")
    return first
