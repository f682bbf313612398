"""Run the `gatekeeper` command and kill it with SIGKILL at its Nth crash point: a write or
delete in the local store, or a database commit (`python -m tests.integration.crash_cli N
erase EIL --by dpo1`). The kill is real: no `finally`, no rollback, no exit handler runs."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from gatekeeper.adapters.storage import LocalStore
from gatekeeper.entrypoints.cli import main


def arm(n: int) -> None:
    """Kill this process just before the nth store put/delete or commit (never when n < 1)."""
    seen = 0

    def hook(original: Callable[..., Any]) -> Callable[..., Any]:
        def crash_point(*args: Any, **kwargs: Any) -> Any:
            nonlocal seen
            seen += 1
            if seen == n:
                os.kill(os.getpid(), signal.SIGKILL)
            return original(*args, **kwargs)
        return crash_point

    LocalStore.put = hook(LocalStore.put)  # type: ignore[method-assign]
    LocalStore.delete = hook(LocalStore.delete)  # type: ignore[method-assign]
    Session.commit = hook(Session.commit)  # type: ignore[method-assign]


if __name__ == "__main__":
    arm(int(sys.argv[1]))
    sys.exit(main(sys.argv[2:]))
