"""Rules of the house that a reader relies on: one document adapter (no HTML written in the
services), mail built in one place, one way to offload blocking work in the web app, and roles
checked in one documented place (docs/developers/architecture.md, "Where roles are checked")."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from tests.unit.test_architecture import ROOT

SERVICES = ROOT / "gatekeeper" / "services"
MARKUP = re.compile(r"<(!doctype|html|body|table|tr|td|th|h[1-6]|p|ul|ol|li|div|span)\b", re.I)


def _modules(folder: Path) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(folder.rglob("*.py")):
        yield path, ast.parse(path.read_text())


def _strings(tree: ast.AST) -> Iterator[ast.Constant]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node


def test_services_write_no_html():
    """Printed and exported documents come from the Jinja templates of the document adapter
    (gatekeeper/adapters/doc_templates/), escaped by Jinja, never from f-strings here."""
    found = [f"{path.relative_to(ROOT)}:{s.lineno}" for path, tree in _modules(SERVICES)
             for s in _strings(tree) if MARKUP.search(s.value)]
    assert found == []


def _imports(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_mail_is_built_and_sent_in_one_place():
    """Only services/portal/letters.py words and sends mail: no service builds a message or
    picks a transport and hands it on."""
    users = sorted(str(path.relative_to(ROOT)) for path, tree in _modules(SERVICES)
                   if "gatekeeper.adapters.mail" in _imports(tree))
    assert users == ["gatekeeper/services/portal/letters.py"]


OFFLOADERS = {"to_thread", "run_in_executor", "run_in_threadpool", "run_sync", "ThreadPoolExecutor"}


def test_web_offloads_blocking_work_one_way():
    """web/offload.py's bounded pool is the one way: a second (asyncio.to_thread's unbounded
    default pool) let password hashing and portal transactions bypass the bound."""
    found = []
    for path, tree in _modules(ROOT / "web"):
        if path.name == "offload.py":
            continue
        for node in ast.walk(tree):
            name = node.attr if isinstance(node, ast.Attribute) else \
                node.id if isinstance(node, ast.Name) else None
            if name in OFFLOADERS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert found == []
