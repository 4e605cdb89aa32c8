"""Reading a submission and choosing what of it runs.

A submission is a notebook (``.ipynb``), a module (``.py``) or a folder of them. The
rule for what is executed when grading (documented in the book's "How to use" page):

* every code cell, in order (a ``.py`` file is one cell; a folder's files in name order,
  each file in a namespace of its own, like separate notebooks; a graded function is
  taken from the last file that defines it, an untouched stub only if no other file
  attempts it: :func:`prefer_attempted`);
* IPython magics and shell lines (``%…``, ``!…``) are dropped;
* of each cell, only the top-level ``import`` statements, ``def`` and ``class``
  definitions, and *cheap assignments* are kept — plots, training loops, prints and
  ``check(...)`` calls are skipped; of the imports, those of a library other than numpy
  and the standard library whose names no kept code uses are left out
  (:func:`libraries_used`);
* a cheap assignment binds plain names (``EPS = 1e-8``, ``HALF, TWO = 1 / 2, 2.0``) to an
  expression that needs nothing but what is kept before it (imports, definitions, earlier
  cheap assignments, builtins) and nothing that a skipped statement mentions (a loop may
  have filled ``paths = {}``), has no comprehension or generator (they loop), and calls
  only a few cheap builtins (``float``, ``len``, ``max`` …) or functions imported from the
  standard modules and numpy listed in :data:`CHEAP_MODULES`, not their file readers
  (:data:`FILE_FUNCTIONS`), and not the submission's own functions: ``LOG2 = np.log(2)``,
  ``AdamState = namedtuple("AdamState", "t m v")`` run; ``X = design_matrix(x)``,
  ``traj = run(...)``, ``fig, ax = plt.subplots()`` and ``model = MyNet()`` do not (a call
  of the submission's own code, or of a heavy library, is where training loops hide); a
  table that only *names* the submission's functions or classes (``ACT = {"relu": ReLU}``)
  runs none of their code and is kept;
* a skipped assignment whose name a graded function reads, itself or through a helper
  function or class of the submission, is named in the notes with its line (the function
  would fail with a ``NameError``);
* a cell with a syntax error is skipped whole (only its own definitions are missing).

Everything here runs in the grader and only *reads* the submission; nothing of it is
executed until the worker gets the selected code.
"""
from __future__ import annotations

import ast
import builtins
import errno
import functools
import json
import os
import re
import stat
import symtable
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Collection

MAX_BYTES = 20 * 1024 * 1024         # one file of a submission (a notebook with its images)
MAX_TOTAL_BYTES = 40 * 1024 * 1024   # all the files of a submission together
MAX_FILES = 200                      # .ipynb and .py files in a submission
MAX_CODE_BYTES = 2 * 1024 * 1024     # code cells parsed (a complete course is about 0.2 MB)
MAX_NOTES = 50                       # notes kept about what was skipped

#: The modules whose functions a kept assignment may call (cheap to import, no training in them).
CHEAP_MODULES = frozenset({"numpy", "math", "cmath", "collections", "typing", "functools", "operator",
                           "fractions", "decimal", "dataclasses", "enum", "numbers", "string", "types"})
#: The builtins a kept assignment may call.
CHEAP_BUILTINS = frozenset({"abs", "bool", "complex", "dict", "divmod", "float", "frozenset", "int", "len",
                            "list", "max", "min", "pow", "range", "round", "set", "slice", "str", "tuple",
                            "type", "zip", "enumerate", "sorted", "reversed", "isinstance", "object"})
#: Functions of those modules that read or write files: not run (the data is not there when grading).
FILE_FUNCTIONS = frozenset({"load", "loadtxt", "genfromtxt", "fromfile", "fromregex", "memmap", "save",
                            "savez", "savez_compressed", "savetxt", "tofile", "open"})
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
_LOOPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Await, ast.Yield, ast.YieldFrom,
          ast.NamedExpr)


class SubmissionError(Exception):
    """The submission cannot be read at all (not a notebook, not UTF-8, empty ...)."""


@dataclass
class Submission:
    path: Path
    cells: list[tuple[str, str, str]] = field(default_factory=list)   # (file, label, selected code)
    notes: list[str] = field(default_factory=list)                 # what was skipped and why
    defined: set[str] = field(default_factory=set)                 # top-level function names


def _read_text(path: Path, dir_fd: int | None = None) -> str:
    """The text of a regular file of the submission, read without following a symbolic link
    (``O_NOFOLLOW``) or blocking on a named pipe (``O_NONBLOCK``); at most ``MAX_BYTES``."""
    name = path.name if dir_fd is not None else str(path)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as exc:
        why = "a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
        raise SubmissionError(f"{path.name} cannot be read ({why}): submit regular files") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionError(f"{path.name} is not a regular file: submit regular files")
        if info.st_size > MAX_BYTES:
            raise SubmissionError(f"{path.name} is larger than {MAX_BYTES // 2**20} MB")
        chunks, left = [], MAX_BYTES + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > MAX_BYTES:
        raise SubmissionError(f"{path.name} is larger than {MAX_BYTES // 2**20} MB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"{path.name} is not UTF-8 text (byte {exc.start}); save it again from Jupyter") from exc


def _notebook_cells(path: Path, text: str | None = None) -> list[tuple[str, str]]:
    text = _read_text(path) if text is None else text
    if not text.strip():
        raise SubmissionError(f"{path.name} is empty (0 bytes of notebook): save it again from Jupyter and resubmit")
    try:
        nb = json.loads(text)
        cells = nb["cells"]
        out = []
        for i, cell in enumerate(cells, 1):
            if cell.get("cell_type") == "code":
                source = cell.get("source", "")
                if isinstance(source, list):
                    source = "".join(s if isinstance(s, str) else str(s)[:1000] for s in source)
                out.append((f"{path.name} cell {i}", source if isinstance(source, str) else str(source)[:1000]))
        return out
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise SubmissionError(f"{path.name} is not a valid Jupyter notebook "
                              f"({type(exc).__name__}: {str(exc)[:200]})") from exc


def _is_submitted(rel: Path) -> bool:
    return rel.suffix in (".ipynb", ".py") and not any(part.startswith(".") or part == "__pycache__"
                                                       for part in rel.parts)


def submission_files(path: str | Path, notes: list[str] | None = None) -> list[tuple[Path, str]]:
    """``(name, text)`` of each file a submission is made of, in name order: the file itself,
    or a folder's ``.ipynb`` and ``.py`` files (hidden ones and ``__pycache__`` left out).

    Only regular files inside the submission are read: a symbolic link (to the reference, to
    the graded tests ...) is neither followed nor read, a named pipe or a device is refused,
    a folder is walked through its own descriptors (``O_NOFOLLOW``: no link swapped in while
    it is read), and the submission holds at most ``MAX_FILES`` files of at most
    ``MAX_BYTES`` each and ``MAX_TOTAL_BYTES`` together. What is left out of a folder for
    being no regular file is named in ``notes``.
    """
    path = Path(path)
    try:
        info = os.lstat(path)
    except OSError:
        raise SubmissionError(f"{path} does not exist") from None
    if stat.S_ISLNK(info.st_mode):
        raise SubmissionError(f"{path.name} is a symbolic link: submit the files themselves")
    if not stat.S_ISDIR(info.st_mode):
        if path.suffix not in (".ipynb", ".py"):
            raise SubmissionError(f"{path.name}: submit a .ipynb notebook or a .py file")
        return [(Path(path.name), _read_text(path))]
    found: list[tuple[Path, str]] = []
    total = 0
    top = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    todo = [(top, Path())]
    try:
        while todo:
            fd, rel = todo.pop()
            try:
                with os.scandir(fd) as entries:
                    listed = sorted((e.name, e.is_dir(follow_symlinks=False), e.is_file(follow_symlinks=False),
                                 e.is_symlink()) for e in entries)
                for name, is_dir, is_file, is_link in listed:
                    child = rel / name
                    if notes is not None and not (is_dir or is_file) and _is_submitted(child):
                        notes.append(f"{child} is not read: it is {'a symbolic link' if is_link else 'no regular file'}")
                    if is_dir and not (name.startswith(".") or name == "__pycache__"):
                        if len(todo) + len(found) > MAX_FILES:
                            raise SubmissionError(f"{path.name} holds too many folders and files")
                        todo.append((os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                                             dir_fd=fd), child))
                    elif is_file and _is_submitted(child):
                        if len(found) >= MAX_FILES:
                            raise SubmissionError(f"{path.name} holds more than {MAX_FILES} .ipynb/.py files")
                        text = _read_text(child, dir_fd=fd)
                        total += len(text)
                        if total > MAX_TOTAL_BYTES:
                            raise SubmissionError(f"{path.name} holds more than {MAX_TOTAL_BYTES // 2**20} MB "
                                                  "of .ipynb/.py files")
                        found.append((child, text))
            finally:
                os.close(fd)
    finally:
        for fd, _ in todo:
            os.close(fd)
    if not found:
        raise SubmissionError(f"{path} holds no .ipynb or .py file")
    return sorted(found, key=lambda item: item[0])


def sources_by_file(path) -> list[list[str]]:
    """The code cells of each file of a submission, as written, file by file in name order (a
    notebook's code cells, a ``.py`` file as one cell), read as :func:`read_submission` reads
    them (a question's answer is read from these). Raises ``SubmissionError`` as it does."""
    return [[code for _, code in _notebook_cells(file, text)] if file.suffix == ".ipynb" else [text]
            for file, text in submission_files(path)]


def submission_sources(path) -> list[str]:
    """Every code cell of a submission, as written, in the order of :func:`sources_by_file`."""
    return [code for sources in sources_by_file(path) for code in sources]


class Scope:
    """What the kept code of one file binds so far, shared by its cells in order.

    One per file of a submission (a folder's files run in namespaces of their own). Besides
    the names that kept statements bind (and the module each imported name comes from), it
    remembers the skipped assignments, to name those that a graded function needs
    (:meth:`explain_skipped`).
    """

    def __init__(self):
        self.imported: dict[str, str] = {}           # name -> top-level module it comes from
        self.bound: set[str] = set()                 # names whose value the kept code alone decides
        self.own: set[str] = set()                   # the submission's functions and classes
        self.skipped: dict[str, tuple[str, int, str, str]] = {}   # name -> (label, line, code, why)
        self.uses: dict[str, set[str]] = {}          # kept function -> global names it reads

    def keep(self, node: ast.stmt, label: str, text: str) -> bool:
        """Whether grading runs the top-level statement ``node``; remember what it binds."""
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    continue
                if isinstance(node, ast.Import):
                    name, module = alias.asname or alias.name.partition(".")[0], alias.name
                else:
                    name, module = alias.asname or alias.name, "" if node.level else (node.module or "")
                self._bind(name)
                self.imported[name] = module.partition(".")[0]
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._bind(node.name)
            self.own.add(node.name)
            self.uses[node.name] = _globals_read(node, text)
            return True
        names = _target_names(node) if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value else []
        why = self.why_not_cheap(node.value) if names else None
        if names and why is None:
            for name in names:
                self._bind(name)
            return True
        for name in names:
            code = " ".join(_segment(text, node).split())
            self.skipped[name] = (label, node.lineno, code if len(code) <= 60 else code[:57] + "...", why)
        # A skipped statement may rebind or change what it mentions (``paths[k] = ...`` in a
        # loop, ``history.append(...)``): a kept assignment that read it could fail.
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and n.id not in self.imported and n.id not in self.own:
                self.bound.discard(n.id)
        return False

    def _bind(self, name: str) -> None:
        self.bound.add(name)
        self.own.discard(name)
        self.imported.pop(name, None)
        self.skipped.pop(name, None)

    def why_not_cheap(self, value: ast.expr) -> str | None:
        """``None`` if ``value`` is a cheap expression here, else why it is not."""
        local = {a.arg for n in ast.walk(value) if isinstance(n, ast.Lambda)
                 for a in n.args.posonlyargs + n.args.args + n.args.kwonlyargs
                 + [x for x in (n.args.vararg, n.args.kwarg) if x]}
        for n in ast.walk(value):
            if isinstance(n, _LOOPS):
                return "it loops (a comprehension or a generator)"
            if isinstance(n, ast.Call):
                root = n.func
                while isinstance(root, ast.Attribute):
                    root = root.value
                if not isinstance(root, ast.Name):
                    return "it calls the result of an expression"
                module = self.imported.get(root.id)
                if module is None and not (root.id in CHEAP_BUILTINS and root.id not in self.bound):
                    return (f"it calls `{root.id}`, which is neither a cheap builtin nor imported from "
                            "numpy or the standard modules allowed")
                if module is not None and module not in CHEAP_MODULES:
                    return (f"it calls `{ast.unparse(n.func)}` (from {module or 'a relative import'}), "
                            "not from numpy or the standard modules allowed")
                if isinstance(n.func, ast.Attribute) and n.func.attr in FILE_FUNCTIONS:
                    return f"it calls `{ast.unparse(n.func)}` (files are not there when grading)"
            if isinstance(n, ast.Name) and n.id in self.own and not _only_named(value, n):
                return f"it uses `{n.id}`, the submission's own code (which could train a model)"
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in self.bound \
                    and n.id not in local and not hasattr(builtins, n.id):
                return (f"it uses `{n.id}`, which is not defined by the code that runs "
                        "(or is changed by code that does not)")
        return None

    def callers(self, graded: set[str]) -> dict[str, set[str]]:
        """Own function or class -> the ``graded`` functions that use it (itself included), directly
        or through others."""
        callers: dict[str, set[str]] = {}
        for fn in graded & set(self.uses):
            stack, seen = [fn], {fn}
            while stack:
                for used in self.uses.get(stack.pop(), set()) & set(self.uses) - seen:
                    seen.add(used)
                    stack.append(used)
            for reached in seen:
                callers.setdefault(reached, set()).add(fn)
        return callers

    def explain_skipped(self, notes: list[str], graded: set[str]) -> None:
        """A note for each skipped assignment whose name a ``graded`` function reads, itself or
        through the submission's own functions and classes it uses (a helper, a layer class)."""
        callers = self.callers(graded)
        for name, (label, line, code, why) in self.skipped.items():
            if name in self.bound:
                continue
            readers = sorted(fn for fn, names in self.uses.items() if name in names and fn in callers)
            if not readers:
                continue
            who = ", ".join(f"`{r}`" if r in graded else
                            f"`{r}` (used by {', '.join(f'`{g}`' for g in sorted(callers[r]))})" for r in readers)
            notes.append(f"{label}, line {line}: `{code}` is not run when grading ({why}; only imports, "
                         f"definitions and cheap assignments are), so `{name}` is undefined for "
                         f"{who}: define it inside the function, or as a "
                         "literal or a call of numpy / math / collections at the top of a cell")


def python_lines(text: str) -> list[str]:
    """The lines of ``text`` as Python's tokenizer sees them: broken at ``\\n``, ``\\r\\n`` and
    ``\\r`` only (not at U+2028, ``\\x1c`` or ``\\x85``, where :meth:`str.splitlines` breaks: a
    string or comment holding one is one line, as in the student's own kernel)."""
    lines = _LINE_BREAKS.split(text)
    return lines[:-1] if lines and lines[-1] == "" else lines


@functools.lru_cache(maxsize=4)
def _encoded_lines(text: str) -> tuple[bytes, ...]:
    """The lines of a cell's text (joined with ``\\n`` only), UTF-8 encoded as AST offsets count."""
    return tuple(line.encode() for line in text.split("\n"))


def _segment(text: str, node: ast.stmt) -> str:
    """The source of the top-level statement ``node`` of ``text`` (:func:`ast.get_source_segment`,
    without splitting the whole cell again for each statement)."""
    lines = _encoded_lines(text)
    first, last = node.lineno - 1, node.end_lineno - 1
    if first == last:
        return lines[first][node.col_offset:node.end_col_offset].decode()
    return b"\n".join([lines[first][node.col_offset:], *lines[first + 1:last],
                       lines[last][:node.end_col_offset]]).decode()


def _globals_read(node: ast.FunctionDef | ast.AsyncFunctionDef, text: str) -> set[str]:
    """The global names a function (and the functions nested in it) reads."""
    try:
        table = symtable.symtable(_segment(text, node), "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError):
        return set()
    names: set[str] = set()
    stack = list(table.get_children())
    while stack:
        t = stack.pop()
        names |= {s.get_name() for s in t.get_symbols() if s.is_global() and s.is_referenced()}
        stack.extend(t.get_children())
    return names


def _only_named(value: ast.expr, name: ast.Name) -> bool:
    """Whether ``name`` (the submission's own function or class) is only *named* in ``value``:
    the whole value, or an item or key of a literal list, tuple, set or dict in it
    (``ACT = {"relu": ReLU}``), so that evaluating ``value`` runs none of its code."""
    parents = {id(child): parent for parent in ast.walk(value) for child in ast.iter_child_nodes(parent)}
    node = name
    while id(node) in parents:
        parent = parents[id(node)]
        if not isinstance(parent, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
            return False
        node = parent
    return True


def _target_names(node: ast.stmt) -> list[str]:
    """The plain names an assignment binds; [] if it assigns anything else (an attribute, an item)."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    names: list[str] = []
    for target in targets:
        stack = [target]
        while stack:
            t = stack.pop()
            if isinstance(t, ast.Starred):
                t = t.value
            if isinstance(t, ast.Name):
                names.append(t.id)
            elif isinstance(t, (ast.Tuple, ast.List)):
                stack.extend(t.elts)
            else:
                return []
    return names


def select_code(label: str, source: str, notes: list[str], defined: set[str],
                scope: Scope | None = None) -> str | None:
    """The part of one cell that grading runs (see the module docstring), or None.

    ``scope`` carries what the earlier cells of the same file keep (a fresh one if omitted).
    """
    scope = Scope() if scope is None else scope
    lines = [ln if not ln.lstrip().startswith(("%", "!")) else "" for ln in python_lines(source)]
    text = "\n".join(lines)
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        notes.append(f"{label} has a syntax error (line {exc.lineno}: {exc.msg}); its definitions are missing")
        return None
    except (ValueError, RecursionError, MemoryError) as exc:
        notes.append(f"{label} cannot be parsed ({type(exc).__name__}); its definitions are missing")
        return None
    kept = [node for node in tree.body if scope.keep(node, label, text)]
    if not kept:
        return None
    for node in kept:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Lambda):
            defined.update(_target_names(node))         # mse_loss = lambda y_pred, y: ...
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id in defined:
            defined.update(_target_names(node))         # mse_loss = my_mse: one of its own functions
    # Keep the original line numbers so that tracebacks point into the student's cell.
    return "\n".join(_with_lines(text, kept))


def _with_lines(text: str, kept: list[ast.stmt]):
    """The kept statements' source, padded with blank lines so line numbers stay right."""
    src = python_lines(text)
    out: list[str] = []
    for node in kept:
        start = (node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno) - 1
        out.extend([""] * (start - len(out)))
        out.extend(src[start:node.end_lineno])
    return out


def read_submission(path: str | Path, graded: Collection[str] = frozenset()) -> Submission:
    """Read a notebook, a ``.py`` file or a folder of them and select the code grading runs.

    ``graded`` names the functions that will be graded (the grader passes every registered
    exercise's); a skipped assignment that one of them reads is named in the notes.
    """
    path = Path(path)
    sub = Submission(path)
    code_bytes = 0
    for file, text in submission_files(path, sub.notes):
        raw = _notebook_cells(file, text) if file.suffix == ".ipynb" else [(file.name, text)]
        scope = Scope()
        name = str(file)                               # relative to the submission
        kept = []
        for label, source in raw:
            code_bytes += len(source)
            if code_bytes > MAX_CODE_BYTES:
                sub.notes.append(f"{label} and what follows are not graded: the submission holds more "
                                 f"than {MAX_CODE_BYTES // 2**20} MB of code")
                break
            code = select_code(label, source, sub.notes, sub.defined, scope)
            if code:
                kept.append((name, label, code))
        sub.cells += libraries_used(kept, set(scope.callers(graded)))
        scope.explain_skipped(sub.notes, graded)
        if code_bytes > MAX_CODE_BYTES:
            break
    if len({file for file, _, _ in sub.cells}) > 1:
        sub.cells = prefer_attempted(sub.cells, sub.notes, graded)
    if len(sub.notes) > MAX_NOTES:
        sub.notes[MAX_NOTES:] = [f"… and {len(sub.notes) - MAX_NOTES} more notes like these"]
    sub.notes = [n if len(n) <= 1000 else n[:1000] + "…" for n in sub.notes]
    return sub


def _is_stub(node: ast.stmt) -> bool:
    """Whether a function definition is an untouched stub: a docstring at most, then
    ``raise NotImplementedError(...)``."""
    body = node.body[1:] if (node.body and isinstance(node.body[0], ast.Expr)
                             and isinstance(node.body[0].value, ast.Constant)) else node.body
    return (len(body) == 1 and isinstance(body[0], ast.Raise) and body[0].exc is not None
            and "NotImplementedError" in {n.id for n in ast.walk(body[0].exc) if isinstance(n, ast.Name)})


def prefer_attempted(cells: list[tuple[str, str, str]], notes: list[str], graded: set[str]):
    """Of the files of a submission that define the same graded function, grade the last one
    whose definition is attempted (not an untouched stub): the stubs elsewhere are left out
    (else a solved notebook uploaded with an untouched copy of the lesson would score zero),
    and a note names the file graded and the files shadowed."""
    files_of: dict[str, set[str]] = {}                # a quick look first: most folders define each name once
    for file, _, code in cells:
        for match in re.finditer(r"^(?:async\s+)?def\s+(\w+)", code, re.MULTILINE):
            if match.group(1) in graded:
                files_of.setdefault(match.group(1), set()).add(file)
    if all(len(files) < 2 for files in files_of.values()):
        return cells
    trees = []
    for _, _, code in cells:
        try:
            trees.append(ast.parse(code))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return cells
    last: dict[str, dict[str, bool]] = {}            # name -> file -> its last definition is a stub
    for (file, _, _), tree in zip(cells, trees):
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in graded:
                last.setdefault(node.name, {})[file] = _is_stub(node)
    drop: dict[str, list[str]] = {}                   # file -> its stubs that another file attempts
    shadowed: dict[tuple[str, str], list[str]] = {}   # (graded file, shadowed file and why) -> names
    for name, files in sorted(last.items()):
        if len(files) < 2:
            continue
        attempted = [f for f, stub in files.items() if not stub]
        chosen = attempted[-1] if attempted else list(files)[-1]
        for f in files:
            if f == chosen:
                continue
            if attempted and files[f]:
                drop.setdefault(f, []).append(name)
            why = "an untouched stub" if files[f] else "also attempted"
            shadowed.setdefault((chosen, f"{f} ({why})"), []).append(name)
    for (chosen, other), names in shadowed.items():
        notes.append(f"{', '.join(f'`{n}`' for n in names)} {'is' if len(names) == 1 else 'are'} defined in "
                     f"several files: {chosen} is graded, not {other}")
    if not drop:
        return cells
    out = []
    for i, cell in enumerate(cells):
        out.append(cell)
        file = cell[0]
        if file in drop and (i + 1 == len(cells) or cells[i + 1][0] != file):
            # after the file's own code ran (a table may name the stub): its name no longer defines it
            out.append((file, SHADOWED_LABEL, "".join(f"globals().pop({n!r}, None)\n" for n in drop[file])))
    return out


SHADOWED_LABEL = "stubs that another file attempts"


# -- the libraries a file imports ----------------------------------------------------------------

#: Imports that always run: numpy, the standard library, the façades of the course.
LIGHT_MODULES = frozenset({"numpy", "solutions", "autograder", "__future__"}) | frozenset(sys.stdlib_module_names)
#: Names through which code can reach a global without naming it.
_DYNAMIC = frozenset({"globals", "vars", "locals", "eval", "exec", "__import__", "__builtins__", "sys"})
WARM_LABEL = "libraries imported inside functions"
_IMPORTED = re.compile(r"^[ \t]*(?:from|import)[ \t]+([A-Za-z_]\w*)", re.MULTILINE)


def _library(node: ast.Import | ast.ImportFrom, alias: ast.alias) -> str | None:
    """The top-level library an import alias comes from, if it is neither light nor relative."""
    if isinstance(node, ast.ImportFrom):
        if node.level or not node.module:
            return None
        top = node.module.partition(".")[0]
    else:
        top = alias.name.partition(".")[0]
    return None if top in LIGHT_MODULES else top


def libraries_used(cells: list[tuple[str, str, str]], graded: set[str]) -> list[tuple[str, str, str]]:
    """The kept ``cells`` of one file, without the top-level imports of libraries its code never
    mentions, and with a last cell importing the libraries that the ``graded`` functions (and
    the functions and classes they use) import inside.

    Every import the worker runs is real (submitted code only ever sees real modules), so a
    library that costs a second to import (a setup cell's ``matplotlib.pyplot``, ``torch``)
    is imported only when kept code names something imported from it (in a function body, a
    default argument, a table ...). Code that can reach a global without naming it
    (``globals()``, ``eval`` ...) keeps every import. A library imported *inside* a graded
    function (or a helper of one) is imported once when loading (each exercise then finds it
    imported), never per exercise; one that only an ungraded function of the lesson imports
    (a comparison with scikit-learn) costs nothing.
    """
    trees: dict[int, ast.Module] = {}       # only the cells that import a library are parsed again
    for i, (_, _, code) in enumerate(cells):
        if any(top not in LIGHT_MODULES for top in _IMPORTED.findall(code)):
            try:
                trees[i] = ast.parse(code)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return cells
    if not trees:
        return cells
    inner: dict[str, None] = {}
    in_imports: dict[str, int] = {}         # a bound name -> its occurrences inside import statements
    for i, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                segment = _segment(cells[i][2], node)
                for word in re.findall(r"\w+", segment):
                    in_imports[word] = in_imports.get(word, 0) + 1
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in graded:
                for n in ast.walk(node):
                    if isinstance(n, (ast.Import, ast.ImportFrom)):
                        inner.update((top, None) for top in (_library(n, a) for a in n.names) if top)
    everything = "\n".join(code for _, _, code in cells)

    def named(name: str) -> bool:           # anywhere but in an import (a string or a comment counts too)
        return len(re.findall(rf"\b{re.escape(name)}\b", everything)) > in_imports.get(name, 0)

    bound = lambda node, a: a.asname or (a.name if isinstance(node, ast.ImportFrom) else a.name.partition(".")[0])  # noqa: E731
    if any(named(name) for name in _DYNAMIC):
        used = None
    else:
        used = {_library(node, a) for tree in trees.values() for node in tree.body
                if isinstance(node, (ast.Import, ast.ImportFrom))
                for a in node.names if _library(node, a) and (a.name == "*" or named(bound(node, a)))}
    out = []
    for i, (file, label, code) in enumerate(cells):
        lines = code.split("\n")
        changed = False
        for node in trees[i].body if i in trees else ():
            if used is None or not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            keep = [a for a in node.names if not _library(node, a) or _library(node, a) in used]
            if len(keep) == len(node.names):
                continue
            changed = True
            first, last = node.lineno - 1, node.end_lineno - 1
            if node.col_offset or any(other is not node and other.lineno - 1 in (first, last) for other in trees[i].body):
                return cells                   # `import a; import b` on one line: left as it is
            node.names = keep
            lines[first:last + 1] = [ast.unparse(node) if keep else ""] + [""] * (last - first)
        text = "\n".join(lines) if changed else code
        if text.strip():
            out.append((file, label, text))
    if inner and cells:
        code = "".join(f"try:\n    __import__({top!r})\nexcept Exception:\n    pass\n" for top in inner)
        out.append((cells[-1][0], WARM_LABEL, code))
    return out
