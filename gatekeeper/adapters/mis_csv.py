"""Reading the school MIS exports (people and consent CSVs) into validated rows.

Columns may come in any order; unknown or missing required columns reject the file. Every value
is checked, and an error names the row (file line), column and reason; the importer writes in one
transaction, so a bad row anywhere imports nothing.

Files are read as a stream (`iter_people`, `iter_consent`, `iter_contacts`): one row is decoded,
checked and handed on at a time, so a large file costs memory for one row, not the whole file
decoded and split into dictionaries (a 68 MB file took 1.6 GB that way).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Container, Iterator
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO, Literal, overload

from email_validator import EmailNotValidError, validate_email

from gatekeeper.domain.vocabulary import ConsentKind, PersonKind
from gatekeeper.errors import InvalidInput, TooLarge

PEOPLE_COLUMNS = ("external_id", "given_name", "family_name", "kind", "year_group", "joined_on",
                  "left_on", "biometric_consent", "safeguarding_no_photo", "email")
PEOPLE_OPTIONAL = {"year_group", "joined_on", "left_on", "email"}
CONSENT_COLUMNS = ("external_id", "academic_year", "channel", "granted", "recorded_on", "evidence")
CONSENT_OPTIONAL = {"evidence"}
CONSENT_KINDS = tuple(k.value for k in ConsentKind)
CONTACT_COLUMNS = ("contact_id", "external_id", "given_name", "family_name", "email",
                   "parental_responsibility", "no_contact")
_YEAR = re.compile(r"^(\d{4})/(\d{2})$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_UK_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
DATE_FORMS = "YYYY-MM-DD or DD/MM/YYYY"


MAX_LENGTH = {"external_id": 64, "contact_id": 64, "year_group": 32, "evidence": 255,
              "email": 254}  # the columns' sizes


class ImportRejected(InvalidInput):
    """A CSV import refused as a whole; the message names the row, column and reason."""


def parse_day(text: str) -> date:
    """A date as a UK school office writes it: ISO `2026-09-01` or `01/09/2026` (`1/9/2026`).

    Anything else is refused rather than guessed: a two-digit year or a US-style month first
    would put a leaving date (and so a retention date) in the wrong year or month.
    """
    value = text.strip()
    iso, uk = _ISO_DAY.match(value), _UK_DAY.match(value)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif uk:
        day, month, year = (int(g) for g in uk.groups())
    else:
        raise ValueError(f"not a date: use {DATE_FORMS} (got {value!r})")
    try:
        return date(year, month, day)
    except ValueError:
        hint = (f"; month {month} does not exist: US-style MM/DD/YYYY dates are not accepted"
                if uk and month > 12 and day <= 12 else "")
        raise ValueError(f"not a date: no such day {value!r} ({DATE_FORMS}){hint}") from None


def parse_academic_year(text: str) -> str:
    """Validate 'YYYY/YY' with consecutive years; returns the canonical form."""
    m = _YEAR.match(text.strip())
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise ValueError(f"academic year must look like 2026/27, got {text!r}")
    return f"{m.group(1)}/{m.group(2)}"


@dataclass(frozen=True)
class PersonRow:
    line: int
    external_id: str
    given_name: str
    family_name: str
    kind: str
    year_group: str | None
    joined_on: date | None
    left_on: date | None
    biometric_consent: bool
    safeguarding_no_photo: bool
    email: str | None = None


@dataclass(frozen=True)
class ContactRow:
    line: int
    contact_id: str
    external_id: str
    given_name: str
    family_name: str
    email: str
    parental_responsibility: bool
    no_contact: bool


@dataclass(frozen=True)
class ConsentRow:
    line: int
    external_id: str
    academic_year: str
    channel: str
    granted: bool
    recorded_on: date
    evidence: str


# line and paragraph separators, zero-width and direction marks, bidirectional embeddings,
# overrides and isolates: refused in every text value (names above all)
INVISIBLE = frozenset("\u2028\u2029" + "".join(map(chr, range(0x200B, 0x2010)))
                      + "".join(map(chr, range(0x202A, 0x202F)))
                      + "".join(map(chr, range(0x2066, 0x206A))))


class _Row:
    """One CSV record with typed getters that raise ImportRejected naming line and column."""

    def __init__(self, line: int, values: dict[str, str]) -> None:
        self.line, self.values = line, values

    def fail(self, column: str, reason: str) -> ImportRejected:
        if self.line == 0:  # one answer typed into a form, not a file
            return ImportRejected(f"{column.replace('_', ' ')}: {reason}")
        return ImportRejected(f"row {self.line}, column {column}: {reason}; nothing was imported")

    @overload
    def text(self, column: str, required: Literal[True] = True) -> str: ...

    @overload
    def text(self, column: str, required: bool) -> str | None: ...

    def text(self, column: str, required: bool = True) -> str | None:
        raw = self.values.get(column) or ""
        value = raw.strip()  # strip() takes U+2028 and U+2029 too: they are looked for in raw
        if not value:
            if required:
                raise self.fail(column, "value is missing")
            return None
        limit = MAX_LENGTH.get(column, 128)
        if len(value) > limit:
            raise self.fail(column, f"value is longer than {limit} characters")
        if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value):
            raise self.fail(column, "value contains control characters")
        hidden = next((ch for ch in raw if ch in INVISIBLE), None)
        if hidden is not None:  # a name that reads differently than it sorts, matches or prints
            raise self.fail(column, f"value contains an invisible, direction or line-breaking "
                                    f"character (U+{ord(hidden):04X})")
        return value

    def email(self, column: str, required: bool = True) -> str | None:
        value = self.text(column, required)
        if value is None:
            return None
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise self.fail(column, f"not a valid e-mail address ({exc})") from None

    def choice(self, column: str, options: tuple[str, ...]) -> str:
        value = self.text(column).lower()
        if value not in options:
            raise self.fail(column, f"must be one of {', '.join(options)} (got {value!r})")
        return value

    def yes_no(self, column: str) -> bool:
        return self.choice(column, ("yes", "no")) == "yes"

    @overload
    def day(self, column: str, required: Literal[True] = True) -> date: ...

    @overload
    def day(self, column: str, required: bool) -> date | None: ...

    def day(self, column: str, required: bool = True) -> date | None:
        value = self.text(column, required)
        if value is None:
            return None
        try:
            return parse_day(value)
        except ValueError as exc:
            raise self.fail(column, str(exc)) from None


# A whole file in memory (the web's staged upload) or an open binary file (the CLI).
Source = bytes | BinaryIO


def source_size(data: Source) -> int:
    """Bytes in a whole file or in an open one (read from where it starts)."""
    if isinstance(data, bytes):
        return len(data)
    size = data.seek(0, io.SEEK_END)
    data.seek(0)
    return size


def check_csv_size(data: Source, limit: int) -> None:
    """Every door (the web page, the CLI, the API) refuses a file over the limit before parsing."""
    if source_size(data) > limit:
        raise TooLarge(f"CSV files may be at most {limit:,} bytes: split the file")


def _read(source: Source, columns: tuple[str, ...], optional: set[str],
          what: str) -> Iterator[_Row]:
    """The file's non-blank rows, one at a time, decoded as they are read."""
    binary = io.BytesIO(source) if isinstance(source, bytes) else source
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    try:
        yield from _records(reader, columns, optional, what)
    except UnicodeDecodeError:
        raise ImportRejected(f"{what} file is not UTF-8 text (near line {reader.line_num + 1}); "
                             "nothing was imported") from None
    except csv.Error as exc:  # a stray quote swallowing the file, a NUL byte, ...
        raise ImportRejected(
            f"{what} file is not valid CSV near line {reader.line_num} ({exc}); an opening quote "
            "without its closing quote is the usual cause; nothing was imported") from None
    finally:
        text.detach()  # the caller's file stays open: it is theirs to close


def _records(reader: csv.DictReader[str], columns: tuple[str, ...], optional: set[str],
             what: str) -> Iterator[_Row]:
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise ImportRejected(f"{what} file is empty; nothing was imported")
    unknown = [h for h in header if h not in columns]
    missing = [c for c in columns if c not in header and c not in optional]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if unknown or missing or dupes:
        parts = [f"unknown column(s): {', '.join(unknown)}" if unknown else "",
                 f"missing column(s): {', '.join(missing)}" if missing else "",
                 f"repeated column(s): {', '.join(dupes)}" if dupes else ""]
        raise ImportRejected(f"{what} header rejected: {'; '.join(p for p in parts if p)}")
    reader.fieldnames = header
    for record in reader:
        if None in record:
            raise ImportRejected(
                f"row {reader.line_num}: more values than columns; nothing was imported")
        if not any((v or "").strip() for v in record.values()):
            continue
        yield _Row(reader.line_num, record)


def parse_people(data: Source) -> list[PersonRow]:
    """Validated people rows, or ImportRejected for the first bad row."""
    return list(iter_people(data))


def iter_people(data: Source) -> Iterator[PersonRow]:
    """Validated people rows as the file is read; ImportRejected at the first bad row."""
    seen: dict[str, int] = {}
    for r in _read(data, PEOPLE_COLUMNS, PEOPLE_OPTIONAL, "people"):
        ext = r.text("external_id")
        if ext in seen:
            raise r.fail("external_id", f"same person as row {seen[ext]}")
        seen[ext] = r.line
        row = PersonRow(
            line=r.line, external_id=ext, given_name=r.text("given_name"),
            family_name=r.text("family_name"), kind=r.choice("kind", tuple(k.value for k in PersonKind)),
            year_group=r.text("year_group", required=False), joined_on=r.day("joined_on", False),
            left_on=r.day("left_on", False), biometric_consent=r.yes_no("biometric_consent"),
            safeguarding_no_photo=r.yes_no("safeguarding_no_photo"),
            email=r.email("email", required=False),
        )
        if row.joined_on and row.left_on and row.left_on < row.joined_on:
            raise r.fail("left_on", "leaving date is before the joining date")
        yield row


def parse_consent(data: Source, known_ids: Container[str] | None = None) -> list[ConsentRow]:
    """Validated consent rows, or ImportRejected for the first bad row (a person not in
    `known_ids` included)."""
    return list(iter_consent(data, known_ids))


def iter_consent(data: Source, known_ids: Container[str] | None = None) -> Iterator[ConsentRow]:
    """Validated consent rows as the file is read; ImportRejected at the first bad row."""
    seen: dict[tuple[str, str, str], int] = {}
    for r in _read(data, CONSENT_COLUMNS, CONSENT_OPTIONAL, "consent"):
        row = _consent_row(r, known_ids)
        key = (row.external_id, row.academic_year, row.channel)
        if key in seen:
            raise r.fail("channel", f"same person, year and channel as row {seen[key]}")
        seen[key] = r.line
        yield row


def consent_answer(values: dict[str, str], known_ids: Container[str]) -> ConsentRow:
    """One written answer typed into the DPO's form, checked by exactly the rules of a
    consent.csv row (an error names the field)."""
    return _consent_row(_Row(0, {k: " ".join(v.split()) for k, v in values.items()}), known_ids)


def _consent_row(r: _Row, known_ids: Container[str] | None) -> ConsentRow:
    if known_ids is not None and r.text("external_id") not in known_ids:
        raise r.fail("external_id", "no such person (import people first)")
    try:
        year = parse_academic_year(r.text("academic_year"))
    except ValueError as exc:
        raise r.fail("academic_year", str(exc)) from None
    return ConsentRow(
        line=r.line, external_id=r.text("external_id"), academic_year=year,
        channel=r.choice("channel", CONSENT_KINDS), granted=r.yes_no("granted"),
        recorded_on=r.day("recorded_on"), evidence=r.text("evidence", required=False) or "",
    )


def parse_contacts(data: Source, known_ids: Container[str]) -> list[ContactRow]:
    """Validated parent contacts (one row per contact and child), or ImportRejected for the first
    bad row: an unknown child, a malformed address, the same contact named two ways."""
    return list(iter_contacts(data, known_ids))


def iter_contacts(data: Source, known_ids: Container[str]) -> Iterator[ContactRow]:
    """Validated contact rows as the file is read; ImportRejected at the first bad row."""
    seen: dict[tuple[str, str], int] = {}
    who: dict[str, tuple[str, str, str, int]] = {}
    for r in _read(data, CONTACT_COLUMNS, set(), "contacts"):
        row = ContactRow(
            line=r.line, contact_id=r.text("contact_id"), external_id=r.text("external_id"),
            given_name=r.text("given_name"), family_name=r.text("family_name"),
            email=r.email("email") or "", parental_responsibility=r.yes_no(
                "parental_responsibility"), no_contact=r.yes_no("no_contact"))
        if row.external_id not in known_ids:
            raise r.fail("external_id", "no such child (import people first)")
        key = (row.contact_id, row.external_id)
        if key in seen:
            raise r.fail("external_id", f"same contact and child as row {seen[key]}")
        seen[key] = r.line
        same = (row.given_name, row.family_name, row.email.lower())
        earlier = who.setdefault(row.contact_id, (*same, r.line))
        if earlier[:3] != same:
            raise r.fail("contact_id", f"same contact as row {earlier[3]} with a different name "
                         "or e-mail address")
        yield row
