"""The services' JobQueue port, backed by huey: enqueue only, the workers consume."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from gatekeeper.domain.vocabulary import Channel

if TYPE_CHECKING:
    from huey import Huey

    from workers.tasks import GatekeeperTasks


class HueyJobQueue:
    """Hands follow-up work to the huey tasks registered by `workers.tasks.make_huey`.

    Given a factory instead of a queue, it builds the queue at the first job: most CLI commands
    (a scan, a report) enqueue nothing and need not load huey and redis (0.4 s a start)."""

    def __init__(self, huey: Huey | Callable[[], Huey]) -> None:
        self._source = huey

    @cached_property
    def _tasks(self) -> GatekeeperTasks:
        """The task functions registered on the queue (the queue built here if need be)."""
        source = self._source
        huey = source if hasattr(source, "gatekeeper_tasks") else source()
        tasks: GatekeeperTasks = huey.gatekeeper_tasks
        return tasks

    def scan(self, photo_id: int) -> None:
        self._tasks.scan_photo(photo_id)

    def publish(self, photo_id: int, channel: Channel) -> None:
        self._tasks.publish_photo(photo_id, channel.value)

    def enrol_reference(self, external_id: str, key: str, actor_id: int | None) -> None:
        self._tasks.enrol_reference(external_id, key, actor_id)

    def reconcile(self, photo_ids: list[int]) -> None:
        if photo_ids:  # nothing to send for a change that touched no photo
            self._tasks.reconcile_photos(sorted(set(photo_ids)))

    def confirmed_template(self, face_id: int, actor_id: int | None) -> None:
        self._tasks.confirmed_template(face_id, actor_id)

    def video_preview(self, photo_id: int, channel: Channel) -> None:
        self._tasks.video_preview(photo_id, channel.value)
