"""CSV that a spreadsheet opens as data, never as formulas (OWASP "CSV injection").

Every CSV Gatekeeper hands out (re-consent lists, templates to refresh, the governors' figures,
portal links) holds text that came from outside: names from the MIS, contacts from parents.
Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-` or `@` (and some
read one after a tab or carriage return) as a formula, so a pupil named `=HYPERLINK(...)` could
leak the sheet or start a program on the office PC. Such a cell is written with a leading `'`,
which every spreadsheet shows as text; plain numbers (`-3`, `+12`, `2.5`) and dates stay as they
are, so figures still add up.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

Cell = str | int | float | None


def neutralise(cell: Cell) -> str | int | float:
    """The cell as a spreadsheet should show it: text that would start a formula gets a `'`."""
    if cell is None:
        return ""
    if not isinstance(cell, str):
        return cell
    if cell.startswith(_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def to_csv(rows: Iterable[Iterable[Cell]]) -> str:
    """Rows (the header first) as CSV text, every cell neutralised."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return buf.getvalue()
