"""What every use case needs, built once per process from Settings: database, stores, face engine,
and the job queue that hands slow work to the workers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from consent_db.db import UnitOfWork, make_engine, session_factory
from gatekeeper.adapters.storage import Stores, build_stores
from gatekeeper.config import Settings
from gatekeeper.domain.vocabulary import Channel

if TYPE_CHECKING:  # the engine's module loads dlib and onnxruntime: only where it is used
    from gatekeeper.adapters.faces import FaceEngine


class JobQueue(Protocol):
    """Where services hand work to the workers after their commit (the database stays the source
    of truth: the minute sweep finds any job a queue loses)."""

    def scan(self, photo_id: int) -> None: ...

    def publish(self, photo_id: int, channel: Channel) -> None: ...

    def enrol_reference(self, external_id: str, key: str, actor_id: int | None) -> None: ...

    def reconcile(self, photo_ids: list[int]) -> None:
        """Facts of these photos changed (they are in the dirty set): make their live copies
        follow (take down, or re-render covering more)."""

    def confirmed_template(self, face_id: int, actor_id: int | None) -> None: ...

    def video_preview(self, photo_id: int, channel: Channel) -> None:
        """Render the covered preview of a video on `channel` into the private store (the
        editor's page polls for it)."""


class NoJobQueue:
    """No worker to hand work to (CLI batch commands): the sweep or the next command does it."""

    def scan(self, photo_id: int) -> None:
        return None

    def publish(self, photo_id: int, channel: Channel) -> None:
        return None

    def enrol_reference(self, external_id: str, key: str, actor_id: int | None) -> None:
        return None

    def reconcile(self, photo_ids: list[int]) -> None:
        return None

    def confirmed_template(self, face_id: int, actor_id: int | None) -> None:
        return None

    def video_preview(self, photo_id: int, channel: Channel) -> None:
        return None


class Context:
    """Holds the engine, stores and job queue; the face engine loads on first use (never in web
    processes). Tests pass the pieces they want to share (a loaded engine, an S3 store)."""

    def __init__(self, settings: Settings, *, stores: Stores | None = None,
                 faces: FaceEngine | None = None, jobs: JobQueue | None = None,
                 clock: Callable[[], date] = date.today, operator: str | None = None) -> None:
        self.settings = settings
        self.engine: Engine = make_engine(settings.resolved_database_url)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        self._stores = stores
        self._faces = faces
        self.jobs: JobQueue = jobs or NoJobQueue()
        self._clock = clock
        self.operator = operator  # named in audit events that have no signed-in user

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.operator)

    @contextmanager
    def acting_as(self, operator: str) -> Iterator[Context]:
        """Name `operator` ("system:daily") in the audit events of the work done inside."""
        before, self.operator = self.operator, operator
        try:
            yield self
        finally:
            self.operator = before

    @property
    def stores(self) -> Stores:
        if self._stores is None:
            self._stores = build_stores(self.settings)
        return self._stores

    @property
    def faces(self) -> FaceEngine:
        """The face engine, loaded once per process."""
        if self._faces is None:
            os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
            from gatekeeper.adapters.faces import (  # deferred: loads dlib's and CenterFace's models
                EngineOptions,
                FaceEngine,
            )

            s = self.settings
            self._faces = FaceEngine(EngineOptions(
                detect_threshold=s.detect_threshold, detect_max_side=s.detect_max_side,
                min_face_px=s.min_face_px, min_sharpness=s.min_sharpness,
                sharp_from=max(s.sharp_from, s.min_sharpness),
                # every face that will be 10 px in the largest published copy must be found
                publish_max_side=max(s.publish_max_side, s.publish_max_side_other),
            ))
        return self._faces

    @property
    def year_start(self) -> tuple[int, int]:
        return self.settings.year_start

    def today(self) -> date:
        return self._clock()

    def close(self) -> None:
        self.engine.dispose()
