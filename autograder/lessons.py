"""Keeping the lessons in step with the reference library.

In a lesson, each exercise owns three cells, found by their tags and rewritten here
from ``solutions/`` (never edited by hand):

* a code cell tagged ``ex5_3`` — the stub: the reference's signature and docstring,
  with a body that raises ``NotImplementedError("ex5_3")``;
* a code cell tagged ``check-ex5_3`` —
  ``adam_init, adam_update = check(adam_init, adam_update)``, shown in the book with its
  output, so that a reader sees what a check says;
* a markdown cell tagged ``solution-ex5_3`` — the reference solution, folded: its code
  without the docstring, with the private helpers it calls, read from ``solutions/`` by
  the book's ``solution-code`` extension (``book/_ext/solution_code.py``, which calls
  :func:`solution_code`) when the book is built. The cell holds a MyST comment line
  ``% solution-code ../solutions/adaptive.py adam_init, adam_update`` and a sentence that
  points to the file and the functions: JupyterLab shows the sentence, the book shows the
  code in place of both.

A question (:class:`autograder.engine.questions.Question`) has the same three cells: the answer
cell ``largest_stable_lr = None  # ex2_5: your answer, ...``, the check
``check(largest_stable_lr=largest_stable_lr)``, and the folded derivation (the source of
``largest_stable_lr_answer``).

A new exercise needs only its heading: a markdown cell whose first line is
``### Exercise ex5_3: <title>`` (any heading level). :func:`sync_notebook` creates the
missing cells right after it, in that order; the notebook must then be re-executed.
"""
from __future__ import annotations

import ast
import hashlib
import inspect
import json
import re
from pathlib import Path

from .files import write_atomic
from .engine import questions
from .engine.questions import Question
from .engine.registry import Exercise, load_exercises

KINDS = ("", "check", "solution")        # stub, check, solution: the tag is f"{kind}-{id}" or the id


def _header_and_docstring(fn) -> str:
    source = inspect.getsource(fn)
    node = ast.parse(source).body[0]
    lines = source.splitlines()
    body = node.body
    has_doc = isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant)
    end = body[0].end_lineno if has_doc else body[0].lineno - 1
    return "\n".join(lines[:end])


def stub_source(ex: Exercise) -> str:
    """The stub cell of an exercise: signature and docstring of each function, no body
    (a question's: ``<name> = None  # <id>: your answer, <what kind>``)."""
    if isinstance(ex, Question):
        return questions.stub_source(ex)
    parts = [f"{_header_and_docstring(fn)}\n    raise NotImplementedError(\"{ex.id}\")" for fn in ex.functions.values()]
    return "\n\n\n".join(parts)


def check_source(ex: Exercise) -> str:
    if isinstance(ex, Question):
        return questions.check_source(ex)
    names = ", ".join(ex.functions)
    return f"{names} = check({names})"


def solution_source(ex: Exercise) -> str:
    path = f"../solutions/{ex.module}.py"
    names = ", ".join(ex.functions)          # no backticks: a fence's info string may not hold any
    if isinstance(ex, Question):             # the derivation is the docstring of <name>_answer: show it whole
        includes = "\n".join(f"```{{literalinclude}} {path}\n:pyobject: {name}\n```" for name in ex.functions)
        return (f"````{{admonition}} Answer and derivation ({ex.id}: {ex.name})\n:class: dropdown\n"
                f"{includes}\n````")
    # The code that solves it, without the docstring the stub shows, with the private helpers it
    # calls: the book's solution-code extension puts it in place of the comment line and of the
    # pointer after it. JupyterLab (jupyterlab-myst) hides the comment and shows the pointer;
    # it knows no Sphinx directive of the book's and would draw one as an error.
    functions = ", ".join(f"`{name}`" for name in ex.functions)
    pointer = (f"The reference solution is {functions} in `solutions/{ex.module}.py` "
               f"(open it from JupyterLab's file browser; the book shows the code here).")
    return (f"````{{admonition}} Reference solution ({ex.id}: {names})\n:class: dropdown\n"
            f"% solution-code {path} {names}\n{pointer}\n````")


def _tag(kind: str, ex_id: str) -> str:
    return f"{kind}-{ex_id}" if kind else ex_id


def _source(kind: str, ex: Exercise) -> str:
    return {"": stub_source, "check": check_source, "solution": solution_source}[kind](ex)


def _new_cell(kind: str, ex: Exercise) -> dict:
    tags = [_tag(kind, ex.id)]
    cell = {"cell_type": "markdown" if kind == "solution" else "code",
            "id": hashlib.sha1(_tag(kind, ex.id).encode()).hexdigest()[:8],
            "metadata": {"tags": tags}, "source": _source(kind, ex).splitlines(keepends=True)}
    if kind != "solution":
        cell.update(execution_count=None, outputs=[])
    return cell


def _heading(cells: list[dict], ex: Exercise) -> int:
    """The index of the markdown cell that starts with the heading ``### Exercise <id>: ...``
    (a question's: ``### Question <id>: ...``)."""
    pattern = re.compile(rf"#+ (Exercise|Question) {re.escape(ex.id)}\b")
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "markdown" and pattern.match("".join(cell["source"]).lstrip()):
            return i
    word = "Question" if isinstance(ex, Question) else "Exercise"
    raise ValueError(f"{ex.id} has no cells and no heading to put them under: add a markdown cell "
                     f"starting with '### {word} {ex.id}: <title>' where they belong")


def _insert_missing(cells: list[dict], ex: Exercise) -> list[str]:
    """Create the exercise's missing cells after its heading (or after its previous cell)."""
    created, after = [], None
    for kind in KINDS:
        at = next((i for i, c in enumerate(cells) if _tag(kind, ex.id) in c.get("metadata", {}).get("tags", [])), None)
        if at is None:
            at = (after if after is not None else _heading(cells, ex)) + 1
            cells.insert(at, _new_cell(kind, ex))
            created.append(f"created {_tag(kind, ex.id)}")
        after = at
    return created


def sync_notebook(path: str | Path, exercises: dict[str, Exercise] | None = None) -> list[str]:
    """Rewrite the tagged exercise cells of one notebook, creating missing ones; return what changed.

    The exercises of the notebook are those of its chapter (``lessons/05_adaptive.ipynb``:
    chapter 5). Raises :class:`ValueError` if an exercise has neither cells nor heading.
    """
    exercises = exercises or load_exercises()
    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    changed = []
    chapter = int(path.name[:2]) if path.name[:2].isdigit() else None
    for ex in exercises.values():
        if ex.chapter == chapter:
            changed += [f"{path.name}: {c}" for c in _insert_missing(nb["cells"], ex)]
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        for tag in tags:
            kind, _, ex_id = tag.rpartition("-") if tag.startswith(("check-", "solution-")) else ("", "", tag)
            ex = exercises.get(ex_id)
            if ex is None:
                continue
            want = _source(kind, ex)
            if kind == "check" and "remove-cell" in tags:     # the book shows what a check says
                tags.remove("remove-cell")
                changed.append(f"{path.name}: {tag} shown")
            if "".join(cell["source"]) != want:
                cell["source"] = want.splitlines(keepends=True)
                changed.append(f"{path.name}: {tag}")
    if changed:
        write_atomic(path, json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return changed


def _docstring_lines(node: ast.AST) -> tuple[int, int] | None:
    """The 0-based [start, end) lines of a function's or class's docstring, if it has one."""
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first.lineno - 1, first.end_lineno
    return None


def solution_code(path: str | Path, names: list[str], *, docstrings: bool = False) -> str:
    """The code of the functions ``names`` of the module at ``path`` (docstrings removed
    unless ``docstrings``), followed by the private helpers (``_name``) of the module that
    they call, directly or through another helper, each once.

    The book's ``solution-code`` extension shows it as a folded reference solution
    (``book/_ext/solution_code.py``); :func:`solved_source` writes it into a solved lesson,
    as a student's complete solution would hold its own helpers.
    """
    source = Path(path).read_text(encoding="utf-8")
    lines = source.splitlines()
    defs = {n.name: n for n in ast.parse(source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    missing = [n for n in names if n not in defs]
    if missing:
        raise ValueError(f"{path} defines no {', '.join(missing)}")
    order = list(dict.fromkeys(names))       # the functions asked for, then the helpers, each once
    for name in order:                         # (``order`` grows while it is walked)
        for node in ast.walk(defs[name]):
            if isinstance(node, ast.Name) and node.id.startswith("_") and node.id in defs and node.id not in order:
                order.append(node.id)
    blocks = []
    for name in order:
        node = defs[name]
        start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
        doc = None if docstrings else _docstring_lines(node)
        keep = lines[start:doc[0]] + lines[doc[1]:node.end_lineno] if doc else lines[start:node.end_lineno]
        blocks.append("\n".join(keep))
    return "\n\n\n".join(blocks)


def solved_source(ex: Exercise) -> str:
    """The stub cell filled in with the reference solution (for tests and benchmarks).

    Like a student's complete solution, the cell defines the exercise's functions and the
    private helpers they call (:func:`solution_code`, docstrings kept); the module's
    public names they use (state types, other chapters' functions, ``np``) are imported
    from ``solutions``, except the functions of the module's exercises, which the lesson
    defines in their own cells.
    """
    if isinstance(ex, Question):
        return questions.solved_source(ex)
    import importlib
    module = importlib.import_module(f"solutions.{ex.module}")
    code = solution_code(inspect.getsourcefile(module), list(ex.functions), docstrings=True)
    defined = {n.name for n in ast.parse(code).body}
    used = {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}
    own = {name for other in load_exercises().values() if other.module == ex.module for name in other.functions}
    imported = sorted(n for n in vars(module) if not n.startswith("__") and n not in own and n not in defined
                      and (not n.startswith("_") or n in used))
    imports = f"from solutions.{ex.module} import {', '.join(imported)}\n\n" if imported else ""
    return imports + code


def solved_notebook(path: str | Path, exercises: dict[str, Exercise] | None = None) -> dict:
    """A lesson with every stub cell replaced by :func:`solved_source` (the notebook as JSON)."""
    exercises = exercises or load_exercises()
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        for tag in cell.get("metadata", {}).get("tags", []):
            if tag in exercises and cell["cell_type"] == "code":
                cell["source"] = solved_source(exercises[tag]).splitlines(keepends=True)
    return nb
