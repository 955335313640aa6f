"""Import cycles and layering of the ``nalr_theory`` package, from the source alone.

Every ``.py`` file of the package is parsed with :mod:`ast` (nothing is imported) and each
``import``/``from ... import`` statement is resolved to the package modules it loads.

Rules of the module graph
    * A module is a node; a package is the node of its ``__init__`` (``nalr_theory.problems``
      is ``problems/__init__.py``).
    * Every import statement counts, wherever it is: module level, inside functions and
      methods, inside ``try``/``if`` blocks (moving an import into a function hides a cycle
      from the interpreter, not from this test). Only the bodies of ``if TYPE_CHECKING:``
      (or ``typing.TYPE_CHECKING``) are skipped: they never run.
    * ``import a.b.c`` and ``from a.b.c import name`` are edges to ``a.b.c``; in
      ``from a.b import name``, when ``a.b.name`` is a module of the package the edge goes to
      that submodule (``from . import noise`` depends on ``noise``, not on the package
      ``__init__``), otherwise to ``a.b`` itself (the name comes from ``a/b/__init__.py``).
      Relative imports are resolved against the importing module's package.
    * Importing ``a.b.c`` also runs ``a/__init__`` and ``a/b/__init__``. Those implicit
      edges are added only to packages that are *not* ancestors of the importing module:
      when ``a.b.x`` runs, ``a`` and ``a.b`` are already in ``sys.modules`` (being
      initialised or done), so their ``__init__`` is no dependency of ``a.b.x``.

How a package ``__init__`` is handled
    A package ``__init__`` that imports its own submodules to re-export them has edges
    ``pkg -> pkg.child``; the children importing each other directly (``from .sibling
    import f``) go to ``pkg.sibling``, never back to ``pkg``, so the usual re-export pattern
    forms no cycle. A submodule that takes a name *from its own package's* ``__init__``
    (``from . import name`` where ``name`` is not a submodule, or ``from nalr_theory.pkg
    import name`` inside ``pkg``) does create ``pkg.child -> pkg -> pkg.child`` and is
    reported: it works only if ``__init__`` happens to bind the name before importing the
    child, which is exactly the fragile ordering a cycle means.

A cycle is a strongly connected component of more than one module. ``cycles(subpackage)``
returns the components that contain a module of ``subpackage``; the tests are parametrised
per subpackage so that each one can be checked (and fixed) on its own.

Layering
    Each subpackage may import only the subpackages listed in :data:`ALLOWED` (itself is
    always allowed): ``geometry`` nothing; ``problems``, ``optimizers`` and ``theory`` only
    ``geometry``; ``engine`` geometry/optimizers/problems; ``experiments`` those plus engine
    and theory; ``cli`` anything. The top-level ``nalr_theory/__init__.py`` may import
    anything, and nothing but ``cli`` may import it (the cycle test catches the rest). A new
    subpackage or top-level module must be declared in :data:`ALLOWED`.

Not seen: ``importlib.import_module`` / ``__import__`` with computed names (the problems'
numba kernel modules are loaded that way, by their own family only).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import nalr_theory

ROOT = "nalr_theory"
PACKAGE_DIR = Path(nalr_theory.__file__).resolve().parent

#: Which subpackages each subpackage (or top-level module) may import; ``None``: anything.
ALLOWED: dict[str, set[str] | None] = {
    "geometry": set(),
    "problems": {"geometry"},
    "optimizers": {"geometry"},
    "theory": {"geometry"},
    "engine": {"geometry", "optimizers", "problems"},
    "experiments": {"geometry", "optimizers", "problems", "engine", "theory"},
    "cli": None,
}


# --------------------------------------------------------------------------- the graph

def _module_files(package_dir: Path = PACKAGE_DIR, root: str = ROOT) -> dict[str, Path]:
    """``{dotted module name: file}`` for every ``.py`` file under the package."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir).with_suffix("")
        parts = [root, *relative.parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(not part.isidentifier() for part in parts):
            continue
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST):
    """Every ``Import``/``ImportFrom`` node, skipping ``if TYPE_CHECKING:`` bodies."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _ancestors(name: str) -> list[str]:
    """Proper ancestor packages of a dotted name (``a.b.c`` -> ``a``, ``a.b``)."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _targets(module: str, is_package: bool, node, modules, root: str = ROOT) -> list[tuple[str, int]]:
    """Package modules loaded by one import statement, with its line number."""
    found: list[str] = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name == root or alias.name.startswith(root + "."):
                found.append(alias.name)
    else:
        if node.level:
            package = module if is_package else module.rpartition(".")[0]
            parts = package.split(".")
            if node.level - 1 >= len(parts):
                return []
            base = ".".join(parts[: len(parts) - (node.level - 1)])
            base = f"{base}.{node.module}" if node.module else base
        else:
            base = node.module or ""
        if base != root and not base.startswith(root + "."):
            return []
        for alias in node.names:
            child = f"{base}.{alias.name}"
            found.append(child if alias.name != "*" and child in modules else base)
    edges = []
    own = set(_ancestors(module))
    for target in found:
        # An unknown dotted name (a missing module) is attributed to its nearest known parent.
        while target not in modules and "." in target:
            target = target.rpartition(".")[0]
        for implicit in _ancestors(target):
            if implicit in modules and implicit not in own:
                edges.append((implicit, node.lineno))
        if target != module:
            edges.append((target, node.lineno))
    return edges


def import_graph(package_dir: Path = PACKAGE_DIR, root: str = ROOT) -> dict[str, dict[str, int]]:
    """``{module: {imported module: first line of the import}}`` over the whole package."""
    files = _module_files(package_dir, root)
    graph: dict[str, dict[str, int]] = {name: {} for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in _import_nodes(tree):
            for target, line in _targets(name, is_package, node, files, root):
                graph[name].setdefault(target, line)
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each sorted, in sorted order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return sorted(components)


def _in(module: str, subpackage: str | None) -> bool:
    if subpackage is None:
        return True
    prefix = f"{ROOT}.{subpackage}"
    return module == prefix or module.startswith(prefix + ".")


def cycles(subpackage: str | None = None, graph=None) -> list[list[str]]:
    """Import cycles (components of > 1 module) touching ``subpackage`` (``None``: all)."""
    graph = import_graph() if graph is None else graph
    return [c for c in strongly_connected(graph) if len(c) > 1 and any(_in(m, subpackage) for m in c)]


def describe_cycle(component: list[str], graph) -> str:
    members = set(component)
    edges = [f"    {a} -> {b} (line {graph[a][b]})" for a in component for b in sorted(graph[a]) if b in members]
    return " <-> ".join(component) + "\n" + "\n".join(edges)


def _layer(module: str) -> str | None:
    """Top-level part of the package a module belongs to (``None``: ``nalr_theory/__init__``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def layering_violations(subpackage: str | None = None, graph=None) -> list[str]:
    graph = import_graph() if graph is None else graph
    found = []
    for module in sorted(graph):
        layer = _layer(module)
        if subpackage is not None and layer != subpackage:
            continue
        if layer is not None and layer not in ALLOWED:
            found.append(f"{module}: subpackage {layer!r} has no declared layer in ALLOWED")
            continue
        allowed = ALLOWED[layer] if layer is not None else None
        for target, line in sorted(graph[module].items()):
            other = _layer(target)
            if other == layer or allowed is None:
                continue
            if other is None:
                found.append(f"{module}:{line} imports the top-level package {ROOT}")
            elif other not in allowed:
                found.append(f"{module}:{line} imports {target} ({layer} may import only "
                                f"{sorted(allowed) or 'nothing else from the package'})")
    return found


# --------------------------------------------------------------------------- tests

SUBPACKAGES = sorted(path.parent.name for path in PACKAGE_DIR.glob("*/__init__.py"))
TOP_LEVEL = sorted(path.stem for path in PACKAGE_DIR.glob("*.py") if path.stem != "__init__")


@pytest.mark.parametrize("subpackage", SUBPACKAGES + TOP_LEVEL)
def test_no_import_cycles(subpackage):
    graph = import_graph()
    found = cycles(subpackage, graph)
    assert not found, f"import cycles touching {ROOT}.{subpackage}:\n" + "\n".join(
        describe_cycle(c, graph) for c in found)


@pytest.mark.parametrize("subpackage", SUBPACKAGES + TOP_LEVEL + [None])
def test_layering(subpackage):
    found = layering_violations(subpackage)
    assert not found, "layering violations:\n" + "\n".join(found)


# ---- the checker itself, on a synthetic package

def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_checker_finds_hidden_cycle_and_accepts_reexports(tmp_path):
    package = _write(tmp_path / "pkg", {
        "__init__.py": "from .a import f\nfrom .b import g\nfrom . import c\n",
        "a.py": "from .b import g\n",                      # sibling import: fine
        "b.py": "def g():\n    from .c import h\n",        # cycle hidden in a function
        "c.py": "from pkg.b import g\n",
        "d.py": "from . import f\n",                        # takes a name from pkg/__init__ ...
        "e.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import f\n",
        "sub/__init__.py": "from .x import y\n",
        "sub/x.py": "from .. import a\ny = 1\n",
    })
    graph = import_graph(package, "pkg")
    assert graph["pkg.a"] == {"pkg.b": 1}
    assert graph["pkg.d"] == {"pkg": 1}
    assert graph["pkg.e"] == {}
    assert graph["pkg.sub.x"] == {"pkg.a": 1}             # pkg is an ancestor: no implicit edge
    assert strongly_connected(graph) and [c for c in strongly_connected(graph) if len(c) > 1] == [
        ["pkg.b", "pkg.c"]]                                  # pkg.d is not imported by pkg
    _write(package, {"__init__.py": "from .a import f\nfrom . import d\n"})
    graph = import_graph(package, "pkg")
    assert [c for c in strongly_connected(graph) if len(c) > 1] == [["pkg", "pkg.d"], ["pkg.b", "pkg.c"]]


def test_checker_implicit_parent_packages(tmp_path):
    package = _write(tmp_path / "pkg", {
        "__init__.py": "",
        "one/__init__.py": "from ..two import z\n",
        "two/__init__.py": "from .w import z\n",
        "two/w.py": "from pkg.one import q\nz = 1\n",
    })
    graph = import_graph(package, "pkg")
    assert graph["pkg.two.w"] == {"pkg.one": 1}
    assert graph["pkg.one"] == {"pkg.two": 1}
    assert [c for c in strongly_connected(graph) if len(c) > 1] == [["pkg.one", "pkg.two", "pkg.two.w"]]


def test_layering_rules_on_a_synthetic_graph():
    graph = {
        "nalr_theory": {"nalr_theory.theory": 1},                      # the root may import anything
        "nalr_theory.cli": {"nalr_theory": 1, "nalr_theory.theory.x": 2},
        "nalr_theory.geometry.a": {"nalr_theory.problems.b": 3, "nalr_theory.geometry": 4},
        "nalr_theory.problems.b": {"nalr_theory.geometry": 1, "nalr_theory.theory.x": 5},
        "nalr_theory.theory.x": {"nalr_theory": 2},
        "nalr_theory.gadgets.y": {},
    }
    found = layering_violations(None, graph)
    assert [entry.split(" ")[0] for entry in found] == [
        "nalr_theory.gadgets.y:", "nalr_theory.geometry.a:3", "nalr_theory.problems.b:5", "nalr_theory.theory.x:2"]
    assert layering_violations("problems", graph) == [found[2]]
