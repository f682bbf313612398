"""What every use case needs, built once per process from Settings: database, stores, face engine."""

from __future__ import annotations

import os
from datetime import date
from functools import cached_property

from consent_db.db import UnitOfWork, make_engine, session_factory

from ..config import Settings
from ..storage import Stores, build_stores


class Context:
    """Holds the engine and stores; the face engine is loaded on first use (never in web workers)."""

    def __init__(self, settings: Settings, stores: Stores | None = None) -> None:
        self.settings = settings
        self.engine = make_engine(settings.resolved_database_url)
        self.sessions = session_factory(self.engine)
        self._stores = stores

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    @cached_property
    def stores(self) -> Stores:
        return self._stores or build_stores(self.settings)

    @cached_property
    def faces(self):
        """The face engine, loaded once per process."""
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        from ..faces import EngineOptions, FaceEngine

        s = self.settings
        return FaceEngine(EngineOptions(
            detect_threshold=s.detect_threshold, detect_max_side=s.detect_max_side,
            min_face_px=s.min_face_px, min_sharpness=s.min_sharpness,
        ))

    @property
    def year_start(self) -> tuple[int, int]:
        return (self.settings.academic_year_start_month, self.settings.academic_year_start_day)

    def today(self) -> date:
        return date.today()

    def close(self) -> None:
        self.engine.dispose()
