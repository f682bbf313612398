"""One writer at a time for work that must not interleave (whole-file imports).

Two imports that run at once each read what exists, then insert what is new: both insert the
same person or contact, and the second fails on a unique key half-way through. Taking the
database's writer lock before the first read makes the second import wait for the first and
then read what the first wrote, on both engines.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# The same key the audit chain takes before appending: everything that writes audit events
# already queues behind it, so an import holding it from its first read cannot fork the chain.
WRITER_LOCK_KEY = 4242


def lock_for_writing(session: Session) -> None:
    """Take the writer lock for the rest of the session's transaction. Call it first, before the
    transaction reads anything: PostgreSQL takes a transaction-scoped advisory lock; SQLite
    starts the transaction with BEGIN IMMEDIATE (the write lock, waiting up to busy_timeout)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK_KEY})
    elif dialect == "sqlite":
        connection = session.connection()
        # the ignore: sqlite3's connection is always there once session.connection() connected
        if not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            connection.exec_driver_sql("BEGIN IMMEDIATE")
