"""Alembic from empty to head on SQLite and PostgreSQL, and the models match the migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from consent_db.db import current_revision, make_engine, migrate
from consent_db.models import Base


def test_empty_to_head_matches_models(database_url):
    engine = make_engine(database_url)
    assert current_revision(engine) is None
    migrate(engine)
    migrate(engine)  # idempotent
    assert current_revision(engine) == "0003"
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    engine.dispose()
