"""Whole-file imports run one at a time and all-or-nothing, even when started together.

`people import`, `consent import` and `parents import` read what exists, then write what is new.
Run at the same time (two terminals, a cron job and the web page) they used to collide on a
unique key and end with "unexpected IntegrityError". Each now takes the database's writer lock
before its first read, so the second waits for the first; should the database still refuse a
transaction (a lock wait that times out, a writer that does not take the lock), the whole import
is rolled back and run again from the start, and after a few tries refused in one line.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from consent_db.locks import lock_for_writing
from gatekeeper.errors import InvalidState
from gatekeeper.services.context import Context

T = TypeVar("T")
ATTEMPTS = 4


def collision(exc: IntegrityError | OperationalError) -> str:
    """Which table and key a refused transaction collided on, without the values (they may be
    names): "people.external_id", or the engine's reason ("database is locked")."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)  # psycopg: the constraint's name, no values
    if diag is not None and getattr(diag, "constraint_name", None):
        return f"{diag.table_name or 'a table'} ({diag.constraint_name})"
    reason = str(orig).splitlines()[0] if orig is not None else type(exc).__name__
    return reason.removeprefix("UNIQUE constraint failed: ")


def run_import(*, ctx: Context, work: Callable[[Session], T], commit: bool, what: str,
               after_commit: Callable[[T], None] | None = None) -> T:
    """Run `work` in one unit of work holding the writer lock, commit when asked, and start it
    again from nothing if the database refuses the transaction, so that imports started
    together each apply whole, one after the other. A preview (commit=False) only reads and
    rolls back: it takes no lock and is never retried."""
    for attempt in range(1, ATTEMPTS + 1):
        with ctx.uow() as uow:
            try:
                if commit:
                    lock_for_writing(uow.session)
                result = work(uow.session)
                if not commit:
                    return result
                uow.commit()
            except (IntegrityError, OperationalError) as exc:
                if not commit or attempt == ATTEMPTS:
                    raise InvalidState(
                        f"{what} collided with another change made at the same time, on "
                        f"{collision(exc)}; nothing was imported: run it again") from None
                uow.session.rollback()
            else:
                if after_commit is not None:
                    after_commit(result)
                return result
        time.sleep(random.uniform(0.1, 0.3) * attempt)  # jitter: two retries do not meet again
    raise AssertionError("unreachable")  # pragma: no cover
