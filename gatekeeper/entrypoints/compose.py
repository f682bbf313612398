"""Composition root: a service Context wired to the task queue, for the CLI and the web app."""

from __future__ import annotations

import getpass

from gatekeeper.config import Settings
from gatekeeper.services.context import Context
from workers.queue import HueyJobQueue


def build_context(settings: Settings) -> Context:
    """A Context whose follow-up work (scan, publish, enrol) goes to the configured queue, and
    whose audit events without a `--by` user name the operator running the command."""
    operator = settings.operator or f"cli:{getpass.getuser()}"

    def queue():  # built at the first job: see HueyJobQueue
        from workers.tasks import make_huey  # deferred: huey and the task modules

        return make_huey(settings)

    return Context(settings, jobs=HueyJobQueue(queue), operator=operator)
