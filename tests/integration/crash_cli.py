"""Run the `gatekeeper` command and kill it with SIGKILL at its Nth crash point: a write or
delete in the local store, or a database commit (`python -m tests.integration.crash_cli N
erase EIL --by dpo1`). The kill is real: no `finally`, no rollback, no exit handler runs.

`--serve` imports Gatekeeper once and then, for each JSON line {"n", "argv", "env", "log"} on
stdin, forks a process that runs the command (its output to "log"), answering one JSON line
{"signal", "code"}: dozens of rounds without paying the imports each time."""

from __future__ import annotations

import json
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


def serve() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the command's process
            fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.environ.update(request["env"])
            arm(request["n"])
            code = main(request["argv"])
            sys.stdout.flush()
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                          "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}),
              flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        arm(int(sys.argv[1]))
        sys.exit(main(sys.argv[2:]))
