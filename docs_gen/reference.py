"""The generated parts of the documentation, each from its one source in the code:

- `<!-- generated: cli -->`: every `gatekeeper` command's --help, walked from `build_parser`;
- `<!-- generated: settings -->`: every setting of `gatekeeper/config.py`, with its default and
  the comment beside it in the source;
- `<!-- generated: pages -->`: every web page, the route function that serves it, the services
  it calls and its template, read from `web/routes_*.py`.

MkDocs calls `on_page_markdown` (mkdocs.yml `hooks:`); tests call the functions directly."""

from __future__ import annotations

import argparse
import ast
import io
import os
import re
import tokenize
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"<!-- generated: (\w+) -->")
HELP_WIDTH = "100"


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """The parser and every subparser below it, with the words that reach it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from walk(child, (*path, name))


def cli_reference() -> str:
    """One section per command, its --help as `gatekeeper ... --help` prints it."""
    from gatekeeper.entrypoints.cli import build_parser

    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_WIDTH  # argparse wraps to the terminal: fixed for the page
    try:
        parts = []
        for path, parser in walk(build_parser()):
            title = " ".join(("gatekeeper", *path))
            parts.append(f"### `{title}`\n\n```text\n{parser.format_help().rstrip()}\n```\n")
        return "\n".join(parts)
    finally:
        if before is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = before


def _comments(source: str) -> dict[int, str]:
    """Line number -> the comment on that line."""
    return {tok.start[0]: tok.string.lstrip("# ").strip()
            for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type == tokenize.COMMENT}


def _field_notes(source: str, cls: str) -> dict[str, str]:
    """Each field of class `cls`: the comment beside it, or the comment block just above it."""
    comments = _comments(source)
    lines = source.splitlines()
    notes: dict[str, str] = {}
    [klass] = [n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == cls]
    for node in klass.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            note = comments.get(node.end_lineno or node.lineno, "")
            above, row = [], node.lineno - 1
            while row >= 1 and lines[row - 1].strip().startswith("#"):
                above.insert(0, comments[row])
                row -= 1
            notes[node.target.id] = " ".join([*above, note]).strip()
    return notes


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, Enum):
        return f"`{value.value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`" if str(value) != "" else '`""`'


def _kind(annotation: Any) -> str:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " / ".join(f"`{m.value}`" for m in annotation)
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    text = text or str(annotation).replace("pathlib.", "")
    return text.replace(" | None", " (optional)")


def settings_reference() -> str:
    """A table of every setting: variable, values, default, and the source's own note."""
    from gatekeeper.config import Settings

    source = (ROOT / "gatekeeper" / "config.py").read_text()
    notes = _field_notes(source, "Settings")
    rows = ["| variable | type | default | note (from `gatekeeper/config.py`) |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        note = notes.get(name, "").replace("|", "\\|")
        rows.append(f"| `GATEKEEPER_{name.upper()}` | {_kind(field.annotation)} | "
                    f"{_shown(field.default)} | {note} |")
    return "\n".join(rows) + "\n"


def _route_of(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, str] | None:
    for dec in fn.decorator_list:
        if isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) \
                and dec.func.attr in ("get", "post") and dec.args \
                and isinstance(dec.args[0], ast.Constant):
            return dec.func.attr.upper(), str(dec.args[0].value)
    return None


def _prefix(tree: ast.Module) -> str:
    """The `APIRouter(prefix=...)` of a routes module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "APIRouter":
            for kw in node.keywords:
                if kw.arg == "prefix" and isinstance(kw.value, ast.Constant):
                    return str(kw.value.value)
    return ""


def _service_names(tree: ast.Module) -> dict[str, str]:
    """Local name -> the gatekeeper.services module (or function) it stands for."""
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gatekeeper.services"):
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _callee(node: ast.expr, services: dict[str, str]) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
            and node.value.id in services:
        return f"{services[node.value.id]}.{node.attr}"
    if isinstance(node, ast.Name) and node.id in services:
        return services[node.id]
    return None


def _uses(fn: ast.AST, services: dict[str, str]) -> list[str]:
    """The service functions `fn` calls (directly, or handed to `offload`)."""
    used: set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            targets = [node.func, *node.args[:1]] if isinstance(node.func, ast.Name) \
                and node.func.id == "offload" else [node.func]
            used |= {c for t in targets if (c := _callee(t, services))}
    return sorted(u.removeprefix("gatekeeper.services.") for u in used
                  if u.rsplit(".", 1)[-1][:1].islower())


def _templates(fn: ast.AST, helpers: dict[str, ast.AST]) -> list[str]:
    found = {n.value for n in ast.walk(fn) if isinstance(n, ast.Constant)
             and isinstance(n.value, str) and n.value.endswith(".html")}
    for node in ast.walk(fn):  # a page drawn by a helper of the same module
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in helpers:
            found |= {n.value for n in ast.walk(helpers[node.func.id])
                      if isinstance(n, ast.Constant) and isinstance(n.value, str)
                      and n.value.endswith(".html")}
    return sorted(found)


def pages_reference() -> str:
    """Every web page and form: where its code lives, from route to service to template."""
    rows = ["| method | path | route (`web/`) | services it calls (`gatekeeper/services/`) | "
            "template (`web/templates/`) |", "|---|---|---|---|---|"]
    for path in sorted((ROOT / "web").glob("routes_*.py")):
        tree = ast.parse(path.read_text())
        services, prefix = _service_names(tree), _prefix(tree)
        functions = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        helpers: dict[str, ast.AST] = {f.name: f for f in functions if _route_of(f) is None}
        for fn in functions:
            route = _route_of(fn)
            if route is None:
                continue
            used = set(_uses(fn, services))
            for node in ast.walk(fn):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                        and node.func.id in helpers:
                    used |= set(_uses(helpers[node.func.id], services))
            calls = ", ".join(f"`{u}`" for u in sorted(used)) or "(none)"
            drawn = ", ".join(f"`{t}`" for t in _templates(fn, helpers)) \
                or "(JSON, a file or a redirect)"
            rows.append(f"| {route[0]} | `{prefix}{route[1]}` | `{path.stem}.{fn.name}` | "
                        f"{calls} | {drawn} |")
    return "\n".join(rows) + "\n"


def _contract_layers() -> list[str]:
    """The service features, top to bottom, as the import-linter contract orders them."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for contract in config["tool"]["importlinter"]["contracts"]:
        layers = contract.get("layers", [])
        if layers and all(m.startswith("gatekeeper.services.") for m in layers):
            return [m.removeprefix("gatekeeper.services.") for m in layers]
    raise LookupError("no import-linter contract layers the service features")


def _modules_of(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")


def features_diagram() -> str:
    """An SVG of the feature packages in the order imports may point (down only), each with
    its modules, over the shared kernel: drawn from the contract and the folders themselves."""
    services = ROOT / "gatekeeper" / "services"
    boxes = [(f"services/{name}/", ", ".join(_modules_of(services / name)))
             for name in _contract_layers()]
    boxes.append(("shared kernel (services/*.py)", ", ".join(_modules_of(services))))
    width, height, gap, x = 760, 46, 18, 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} '
             f'{len(boxes) * (height + gap)}" width="100%" '
             'aria-label="Service features, top to bottom: each may import only those below it">',
             "<title>Service features: imports point down only</title>"]
    for i, (title, modules) in enumerate(boxes):
        y = i * (height + gap) + 4
        kernel = i == len(boxes) - 1
        parts.append(f'<rect x="{x}" y="{y}" width="{width - 2 * x}" height="{height}" rx="6" '
                     f'fill="{"#eef1f6" if kernel else "#ffffff"}" stroke="#3f51b5"/>')
        parts.append(f'<text x="{x + 12}" y="{y + 19}" font-family="sans-serif" font-size="14" '
                     f'font-weight="bold" fill="#1d2433">{title}</text>')
        parts.append(f'<text x="{x + 12}" y="{y + 37}" font-family="monospace" font-size="11.5" '
                     f'fill="#3b4252">{modules}</text>')
        if not kernel:
            ax, ay = width // 2, y + height
            parts.append(f'<path d="M{ax} {ay} L{ax} {ay + gap - 2} M{ax - 5} {ay + gap - 8} '
                         f'L{ax} {ay + gap - 2} L{ax + 5} {ay + gap - 8}" stroke="#3f51b5" '
                         'fill="none" stroke-width="1.5"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


GENERATORS: dict[str, Callable[[], str]] = {
    "cli": cli_reference, "settings": settings_reference, "pages": pages_reference,
    "features": features_diagram}


def expand(markdown: str) -> str:
    """Every `<!-- generated: NAME -->` marker replaced by what NAME's generator makes."""
    return MARKER.sub(lambda m: GENERATORS[m.group(1)](), markdown)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """MkDocs hook."""
    return expand(markdown)
