"""Composition root: a service Context wired to the task queue, for the CLI and the web app."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

from gatekeeper.config import Settings
from gatekeeper.services.context import Context
from workers.queue import HueyJobQueue

if TYPE_CHECKING:
    from huey import Huey


def build_context(settings: Settings) -> Context:
    """A Context whose follow-up work (scan, publish, enrol) goes to the configured queue, and
    whose audit events without a `--by` user name the operator running the command."""
    operator = settings.operator or f"cli:{getpass.getuser()}"

    def queue() -> Huey:  # built at the first job: see HueyJobQueue
        from workers.tasks import make_huey  # deferred: huey and the task modules

        return make_huey(settings)

    return Context(settings, jobs=HueyJobQueue(queue), operator=operator)
