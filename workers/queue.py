"""The services' JobQueue port, backed by huey: enqueue only, the workers consume."""

from __future__ import annotations

from huey import Huey

from gatekeeper.domain.vocabulary import Channel


class HueyJobQueue:
    """Hands follow-up work to the huey tasks registered by `workers.tasks.make_huey`."""

    def __init__(self, huey: Huey) -> None:
        self._tasks = huey.gatekeeper_tasks

    def scan(self, photo_id: int) -> None:
        self._tasks.scan_photo(photo_id)

    def publish(self, photo_id: int, channel: Channel) -> None:
        self._tasks.publish_photo(photo_id, channel.value)

    def enrol_reference(self, external_id: str, key: str, actor_id: int | None) -> None:
        self._tasks.enrol_reference(external_id, key, actor_id)

    def recheck(self, person_id: int) -> None:
        self._tasks.recheck_person(person_id)

    def confirmed_template(self, face_id: int, actor_id: int | None) -> None:
        self._tasks.confirmed_template(face_id, actor_id)
