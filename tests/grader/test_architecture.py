"""The grader's dependency rule, read from its code: every import statement of every module
under ``autograder/`` (at the top, inside functions, under ``TYPE_CHECKING``), except the
graded tests (``autograder/tests``) and the chapter templates.

* ``worker`` (what runs inside the sandbox) imports only ``worker``, numpy and the standard
  library — and the sandbox is given exactly that folder;
* ``engine`` (the grading model) and ``sandbox`` (the grader's side of the worker) never
  import each other; both may use ``worker`` (its plain data and its one calling convention);
* the modules at the top of ``autograder/`` (``grade``, ``loader``, ``framework`` ...) join
  them; ``instructor`` sits above those, and ``cli`` above everything: nothing below imports
  what is above it;
* no two modules import each other, directly or round a circle.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "autograder"
OUTSIDE = ("tests", "templates")              # the graded tests and the templates: content, not the grader

# What each layer may import (besides itself, the standard library and installed packages).
ALLOWED = {
    "worker": set(),
    "engine": {"worker"},
    "sandbox": {"worker"},
    "grader": {"engine", "sandbox", "worker", "content"},
    "instructor": {"grader", "engine", "sandbox", "worker", "content"},
    "cli": {"instructor", "grader", "engine", "sandbox", "worker", "content"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the grader: dotted name -> file."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))
            if p.relative_to(PACKAGE).parts[0] not in OUTSIDE}


def layer(name: str) -> str:
    parts = name.split(".")
    if len(parts) == 1:
        return "grader"                                   # autograder/__init__.py
    if parts[1] in ("worker", "engine", "sandbox", "instructor"):
        return parts[1]
    if parts[1] in OUTSIDE:
        return "content"
    return "cli" if parts[1] in ("cli", "__main__") else "grader"


def _outside(name: str) -> bool:
    return name.split(".")[:2] in (["autograder", o] for o in OUTSIDE)


def imports(path: Path, known) -> list[tuple[str, int]]:
    """``(imported name, line)`` for every import statement of ``path``: a module of the grader
    where it names one (``from . import confinement`` names ``...sandbox.confinement``),
    else the top-level name (``numpy``). The worker's ``olfworker`` is ``autograder.worker``."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in known or _outside(f"{module}.{a.name}")
                       else module for a in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] == "olfworker":
                target = "autograder.worker" + target[len("olfworker"):]
            if target.split(".")[0] == "autograder":
                while target not in known and "." in target and not _outside(target):
                    target = target.rpartition(".")[0]
            else:
                target = target.split(".")[0]
            out.append((target, node.lineno))
    return out


def graph() -> dict[str, dict[str, int]]:
    """module -> {imported module or package: first line}."""
    known = modules()
    out = {}
    for name, path in known.items():
        edges = {}
        for target, line in imports(path, known):
            edges.setdefault(target, line)
        out[name] = edges
    return out


def where(module: str, line: int) -> str:
    return f"{modules()[module].relative_to(ROOT)}:{line}"


def test_the_walk_sees_every_kind_of_import():
    """In-function and TYPE_CHECKING imports count: the walk finds the known ones."""
    edges = graph()
    assert "autograder.cli" in edges and "autograder.worker.main" in edges
    assert "autograder.worker.channel" in edges["autograder.worker.main"]          # relative, in a function
    assert "autograder.instructor.batch" in edges["autograder.cli"]                # in a function


def test_each_layer_imports_only_what_is_below_it():
    wrong = []
    for module, edges in graph().items():
        mine = layer(module)
        for target, line in edges.items():
            if target.split(".")[0] != "autograder":
                continue
            theirs = layer(target)
            if theirs != mine and theirs not in ALLOWED[mine]:
                wrong.append(f"{where(module, line)}: {mine} module {module} imports {theirs} module {target}")
    assert not wrong, "\n".join(wrong)


def test_the_worker_imports_only_itself_numpy_and_the_standard_library():
    allowed = set(sys.stdlib_module_names) | {"numpy", "__future__"}
    wrong = [f"{where(m, line)}: {m} imports {t}" for m, edges in graph().items() if layer(m) == "worker"
             for t, line in edges.items() if not t.startswith("autograder.worker") and t not in allowed]
    assert not wrong, "\n".join(wrong)


def test_the_sandbox_is_given_the_whole_worker_folder():
    from autograder.sandbox.bubblewrap import WORKER_DIR, WORKER_FILES
    assert WORKER_DIR == PACKAGE / "worker"
    assert sorted(WORKER_FILES) == sorted(p.name for p in WORKER_DIR.glob("*.py"))


def cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    edges = graph()
    found = cycles(edges)
    assert not found, "\n".join(
        " <-> ".join(found_cycle) + ": " + ", ".join(f"{a} -> {b} ({where(a, edges[a][b])})"
                                                    for a in found_cycle for b in found_cycle if b in edges[a])
        for found_cycle in found)


def test_a_planted_cycle_is_found():
    assert cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [["a", "b", "c"]]
