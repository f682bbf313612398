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


CHECKS = {"require_role", "require_user_role"}
# Use cases any signed-in user may run on their own account (no role to check).
ANY_SIGNED_IN = {"sign_in", "sign_out", "change_own_password", "session_actor"}


def _service_functions() -> dict[str, ast.FunctionDef]:
    found: dict[str, ast.FunctionDef] = {}
    for _path, tree in _modules(SERVICES):
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                found.setdefault(node.name, node)
    return found


def _called(node: ast.AST) -> set[str]:
    return {c.func.attr if isinstance(c.func, ast.Attribute) else c.func.id
            for c in ast.walk(node) if isinstance(c, ast.Call)
            and isinstance(c.func, ast.Attribute | ast.Name)}


def _checks_role(fn: ast.FunctionDef, services: dict[str, ast.FunctionDef], depth: int = 2) -> bool:
    called = _called(fn)
    return bool(called & CHECKS) or depth > 0 and any(
        _checks_role(services[name], services, depth - 1)
        for name in called if name in services and name != fn.name)


def _people_doors() -> Iterator[tuple[str, str]]:
    """(where, service function) for every call a web route or CLI command makes on behalf of
    a signed-in or named person (it passes `user=` or `actor_id=`)."""
    doors = [*sorted((ROOT / "web").glob("routes_*.py")),
             ROOT / "gatekeeper" / "entrypoints" / "commands.py"]
    for path in doors:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and {k.arg for k in node.keywords} & {"user", "actor_id"}:
                passed = [k.value for k in node.keywords if k.arg in ("user", "actor_id")]
                if all(isinstance(v, ast.Constant) and v.value is None for v in passed):
                    continue  # the operator on the server, no --by: full authority
                target = node.args[0] if isinstance(node.func, ast.Name) and \
                    node.func.id == "offload" and node.args else node.func
                name = target.attr if isinstance(target, ast.Attribute) else \
                    target.id if isinstance(target, ast.Name) else ""
                yield f"{path.relative_to(ROOT)}:{node.lineno}", name


def test_services_check_the_roles_of_the_people_they_act_for():
    """docs/developers/architecture.md, "Where roles are checked": the service checks, so every
    door (web page, API, CLI, a door yet to come) gets the same rule; doors only say who."""
    services = _service_functions()
    unchecked = sorted({f"{where} {name}" for where, name in _people_doors()
                        if name in services and name not in ANY_SIGNED_IN
                        and not _checks_role(services[name], services)})
    assert unchecked == []


def test_the_cli_checks_no_role_itself():
    tree = ast.parse((ROOT / "gatekeeper" / "entrypoints" / "commands.py").read_text())
    assert "require_role" not in _called(tree)
