"""The layers hold: no import cycles between modules, and imports inside functions only where
they defer a heavy model load (and say so)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gatekeeper", "consent_db", "workers", "web")


def _cycle(graph: grimp.ImportGraph) -> list[str] | None:
    """One import cycle between our modules, or None."""
    ours = sorted(m for m in graph.modules if m.split(".")[0] in PACKAGES)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for nxt in sorted(graph.find_modules_directly_imported_by(module)):
            if nxt.split(".")[0] not in PACKAGES:
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[module] = 2
        return None

    for module in ours:
        if module not in state and (found := visit(module)):
            return found
    return None


def test_no_import_cycles():
    graph = grimp.build_graph(*PACKAGES)
    assert _cycle(graph) is None


def test_local_imports_only_defer_heavy_loads():
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            source = path.read_text()
            lines = source.splitlines()
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    for inner in ast.walk(node):
                        if isinstance(inner, ast.Import | ast.ImportFrom):
                            text = " ".join(lines[inner.lineno - 1:inner.lineno + 1])
                            if "deferred" not in text:
                                offenders.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert offenders == []


START = """
import sys
from pathlib import Path
from gatekeeper.config import Settings
from gatekeeper.entrypoints import cli  # noqa: F401
from gatekeeper.entrypoints.compose import build_context
build_context(Settings(home=Path(sys.argv[1])))
print(sorted(m for m in ("altair", "huey", "boto3", "redis") if m in sys.modules))
"""


def test_cli_start_loads_no_library_it_may_not_need(tmp_path):
    """Every CLI command starts by importing the CLI and building its context; the chart
    library, the task queue and the S3 client load only in the commands that use them
    (~1 s of every start, paid before a scan's workers can begin)."""
    out = subprocess.run([sys.executable, "-c", START, str(tmp_path)], capture_output=True,
                         text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
