"""The HTTP layer sits below both servers, and no module of the servers or of the layer
takes part in an import cycle -- not even one hidden by an import inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import primordia

PACKAGE = Path(primordia.__file__).parent
CHECKED = ("http", "web", "distributed")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every project module ``path`` imports, at module level or inside a function."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            out.add(target)
            out |= {f"{target}.{a.name}" for a in node.names}
    return {m for m in out if m.startswith("primordia.")}


def graph() -> dict[str, set[str]]:
    paths = [p for sub in CHECKED for p in (PACKAGE / sub).rglob("*.py")
             if "migrations" not in p.parts]
    names = {module_name(p): p for p in paths}
    return {n: {m for m in imports_of(p) if m in names and m != n} for n, p in names.items()}


def test_the_http_layer_imports_neither_server():
    for name, deps in graph().items():
        if name.startswith("primordia.http"):
            assert not {d for d in deps if d.startswith(("primordia.web", "primordia.distributed"))}, name


def test_no_module_of_the_servers_or_the_http_layer_is_in_an_import_cycle():
    g = graph()
    for start in g:
        seen, todo = set(), list(g[start])
        while todo:
            m = todo.pop()
            assert m != start, f"{start} imports itself through {sorted(seen)}"
            if m not in seen:
                seen.add(m)
                todo.extend(g[m])
