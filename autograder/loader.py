"""Reading a submission and choosing what of it runs.

A submission is a notebook (``.ipynb``), a module (``.py``) or a folder of them. The
rule for what is executed when grading (documented in the book's "How to use" page):

* every code cell, in order (a ``.py`` file is one cell; a folder's files in name order,
  each file in a namespace of its own, like separate notebooks; a graded function is
  taken from the last file that defines it);
* IPython magics and shell lines (``%…``, ``!…``) are dropped;
* of each cell, only the top-level ``import`` statements, ``def`` and ``class``
  definitions, and assignments of literal constants (``EPS = 1e-8``) are kept —
  plots, training loops, prints and ``check(...)`` calls are skipped;
* a cell with a syntax error is skipped whole (only its own definitions are missing).

Everything here runs in the grader and only *reads* the submission; nothing of it is
executed until the worker gets the selected code.
"""
from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

MAX_BYTES = 20 * 1024 * 1024


class SubmissionError(Exception):
    """The submission cannot be read at all (not a notebook, not UTF-8, empty ...)."""


@dataclass
class Submission:
    path: Path
    cells: list[tuple[str, str, str]] = field(default_factory=list)   # (file, label, selected code)
    notes: list[str] = field(default_factory=list)                 # what was skipped and why
    defined: set[str] = field(default_factory=set)                 # top-level function names


def _read_text(path: Path) -> str:
    if path.stat().st_size > MAX_BYTES:
        raise SubmissionError(f"{path.name} is larger than {MAX_BYTES // 2**20} MB")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"{path.name} is not UTF-8 text (byte {exc.start}); save it again from Jupyter") from exc


def _notebook_cells(path: Path) -> list[tuple[str, str]]:
    text = _read_text(path)
    try:
        nb = json.loads(text)
        cells = nb["cells"]
        out = []
        for i, cell in enumerate(cells, 1):
            if cell.get("cell_type") == "code":
                source = cell.get("source", "")
                out.append((f"{path.name} cell {i}", "".join(source) if isinstance(source, list) else str(source)))
        return out
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SubmissionError(f"{path.name} is not a valid Jupyter notebook ({type(exc).__name__}: {exc})") from exc


def _is_literal(node: ast.AST | None) -> bool:
    if node is None:
        return False
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def _keep(node: ast.stmt) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, ast.Assign):
        return all(isinstance(t, ast.Name) for t in node.targets) and _is_literal(node.value)
    if isinstance(node, ast.AnnAssign):
        return isinstance(node.target, ast.Name) and _is_literal(node.value)
    return False


def select_code(label: str, source: str, notes: list[str], defined: set[str]) -> str | None:
    """The part of one cell that grading runs (see the module docstring), or None."""
    lines = [ln if not ln.lstrip().startswith(("%", "!")) else "" for ln in source.splitlines()]
    text = "\n".join(lines)
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        notes.append(f"{label} has a syntax error (line {exc.lineno}: {exc.msg}); its definitions are missing")
        return None
    except (ValueError, RecursionError, MemoryError) as exc:
        notes.append(f"{label} cannot be parsed ({type(exc).__name__}); its definitions are missing")
        return None
    kept = [node for node in tree.body if _keep(node)]
    if not kept:
        return None
    for node in kept:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.add(node.name)
    # Keep the original line numbers so that tracebacks point into the student's cell.
    return "\n".join(_with_lines(text, kept))


def _with_lines(text: str, kept: list[ast.stmt]):
    """The kept statements' source, padded with blank lines so line numbers stay right."""
    src = text.splitlines()
    out: list[str] = []
    for node in kept:
        start = (node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno) - 1
        out.extend([""] * (start - len(out)))
        out.extend(src[start:node.end_lineno])
    return out


def read_submission(path: str | Path) -> Submission:
    """Read a notebook, a ``.py`` file or a folder of them and select the code grading runs."""
    path = Path(path)
    if not path.exists():
        raise SubmissionError(f"{path} does not exist")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in (".ipynb", ".py") and p.is_file()
                       and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(path).parts))
        if not files:
            raise SubmissionError(f"{path} holds no .ipynb or .py file")
    elif path.suffix in (".ipynb", ".py"):
        files = [path]
    else:
        raise SubmissionError(f"{path.name}: submit a .ipynb notebook or a .py file")
    sub = Submission(path)
    for file in files:
        raw = _notebook_cells(file) if file.suffix == ".ipynb" else [(file.name, _read_text(file))]
        for label, source in raw:
            code = select_code(label, source, sub.notes, sub.defined)
            if code:
                sub.cells.append((str(file.relative_to(path) if path.is_dir() else file.name), label, code))
    return sub
