"""Composition root: a service Context wired to the task queue, for the CLI and the web app."""

from __future__ import annotations

from gatekeeper.config import Settings
from gatekeeper.services.context import Context
from workers.queue import HueyJobQueue
from workers.tasks import make_huey


def build_context(settings: Settings) -> Context:
    """A Context whose follow-up work (scan, publish, enrol) goes to the configured queue."""
    return Context(settings, jobs=HueyJobQueue(make_huey(settings)))
