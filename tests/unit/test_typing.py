"""The type checks hold across the product: mypy is strict on every package, the queue's task
payloads are typed ids, and no database session or service context is typed `Any` (exactly
where a reader would lose what a function works on)."""

from __future__ import annotations

import ast
import re
import tomllib
import typing

from tests.unit.test_architecture import PACKAGES, ROOT

STRICT = ("disallow_untyped_defs", "disallow_incomplete_defs", "disallow_untyped_calls",
          "disallow_untyped_decorators", "disallow_any_generics", "warn_return_any")
# Relaxed while the face engine is split into its passes (issue 30); nothing else may be.
RELAXED_ALLOWED = {"gatekeeper.adapters.faces"}


def _overrides() -> list[dict[str, typing.Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["mypy"]["overrides"])


def test_mypy_is_strict_on_every_package():
    strict = [o for o in _overrides() if all(o.get(flag) is True for flag in STRICT)]
    covered = {m for o in strict for m in o["module"]}
    assert {f"{p}.*" for p in PACKAGES} <= covered


def test_only_the_engine_being_split_is_relaxed():
    relaxed = {m for o in _overrides() for m in o["module"]
               if any(o.get(flag) is False for flag in STRICT)}
    assert relaxed <= RELAXED_ALLOWED


def _mentions_any(hint: object) -> bool:
    if hint is typing.Any:
        return True
    return any(_mentions_any(arg) for arg in typing.get_args(hint))


def test_task_payloads_are_typed():
    from workers.tasks import GatekeeperTasks

    hints = typing.get_type_hints(GatekeeperTasks)
    assert hints and not [name for name, hint in hints.items() if _mentions_any(hint)]
    assert typing.get_args(hints["scan_photo"])[0] == [int]  # a photo id
    assert typing.get_args(hints["reconcile_photos"])[0] == [list[int]]  # photo ids


SESSION_NAMES = {"s", "session", "db", "uow", "ctx", "conn", "connection"}


def test_no_session_or_context_is_typed_any():
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    for arg in node.args.args + node.args.kwonlyargs:
                        if arg.arg in SESSION_NAMES and isinstance(arg.annotation, ast.Name) \
                                and arg.annotation.id == "Any":
                            offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {arg.arg}")
    assert offenders == []


IGNORE = re.compile(r"#\s*type:\s*ignore(\[[a-z-, ]+\])?(.*)$")


def test_every_type_ignore_has_a_code_and_a_reason():
    """A silenced check says which one and why: beside it, or in the comment line above."""
    bare = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            lines = path.read_text().splitlines()
            for i, line in enumerate(lines):
                m = IGNORE.search(line)
                if not m:
                    continue
                reason = m.group(2).strip(" #") or lines[i - 1].strip().startswith("#")
                if not m.group(1) or not reason:
                    bare.append(f"{path.relative_to(ROOT)}:{i + 1}")
    assert bare == []
