"""The grader's half of the worker's ``solutions`` façade: it describes names and runs the
reference for the worker, which never holds any of it (its other half: :mod:`autograder.worker.facades`).

A lesson's setup cell imports helpers from ``solutions`` (``design_matrix``, a state
NamedTuple, a plotting function, an earlier chapter's ``linreg_grad`` ...) and a graded
test hands the student's function an objective from ``solutions`` or from a test module.
In the worker each such name is a stub; calling it sends plain data here, the function
runs in the grader and plain data goes back. Nothing else crosses: no source, no code
object, no expected value — and the answers that the exercise being graded may not build
on are refused: every exercise's function of its own chapter and of later ones, and any
helper that runs one of them inside (``bfgs`` runs ``bfgs_update``); using them scores
zero. A chapter builds on the answers of the chapters before it, as its lesson does
(``tests/grader/test_isolation.py`` checks that every lesson imports only those).

The exception is :data:`OPEN`: objectives whose code is no secret (test functions such as
Rosenbrock's, none of them an exercise's answer, nothing but numpy inside). The worker
gets their source and runs its own copy, instead of asking the grader at every call.
``tests/grader/test_isolation.py`` holds them to that.
"""
from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import inspect
import sys
import types
from functools import lru_cache

import numpy as np

from ..worker.plain import Opaque, dumps, loads, to_plain

REFERENCE = "solutions"
TESTS = "autograder.tests"


#: ``(module, name)`` of the functions whose source the worker receives (see the module docstring).
OPEN = frozenset({
    ("solutions.common", "rosenbrock"), ("solutions.common", "rosenbrock_grad"),
    ("solutions.newton", "four_wells"), ("solutions.newton", "four_wells_grad"),
    ("autograder.tests.test_gradient_descent", "quadratic_loss"),
    ("autograder.tests.test_gradient_descent", "quadratic_grad"),
    ("autograder.tests.test_backprop", "wavy"),
    ("autograder.tests.test_newton", "quadratic_hess"),
})


@lru_cache(maxsize=None)
def open_source(module: str, name: str) -> str:
    """The source of an :data:`OPEN` function, as the worker compiles it."""
    return inspect.getsource(getattr(importlib.import_module(module), name))


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@lru_cache(maxsize=None)
def _top_level_functions(module: str) -> frozenset:
    """The names of the ``def`` statements at the top of a module's source, without importing it."""
    try:
        spec = importlib.util.find_spec(module)
        with open(spec.origin, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except Exception:  # noqa: BLE001 - no source: the module gets imported instead
        return frozenset()
    return frozenset(n.name for n in tree.body if isinstance(n, ast.FunctionDef))


def describe(module: str, name: str) -> dict:
    """What ``module.name`` is, for the worker's façade (never its code or, for tests, its data)."""
    if (module, name) == ("autograder", "tests"):
        return {"kind": "module"}
    if not isinstance(module, str) or not isinstance(name, str) or name.startswith("__") \
            or not (_within(module, REFERENCE) or _within(module, TESTS)):
        return {"kind": "missing"}
    if (module, name) in OPEN:
        return {"kind": "open", "source": open_source(module, name)}
    if module not in sys.modules and name in _top_level_functions(module):
        return {"kind": "function"}          # e.g. solutions.plotting: no matplotlib import for a name
    try:
        obj = getattr(importlib.import_module(module), name, None)
        if obj is None and importlib.util.find_spec(f"{module}.{name}") is not None:
            return {"kind": "module"}
    except Exception:  # noqa: BLE001 - ImportError, a module that fails to import ...
        return {"kind": "missing"}
    if obj is None:
        return {"kind": "missing"}
    if isinstance(obj, types.ModuleType):        # a submodule, or a library it imported (numpy as np)
        if obj.__name__ == f"{module}.{name}":
            return {"kind": "module"}
        library = obj.__name__.partition(".")[0]
        if library in ("solutions", "autograder"):
            return {"kind": "missing"}
        return {"kind": "library", "name": obj.__name__}
    if isinstance(obj, type):
        if issubclass(obj, tuple) and hasattr(obj, "_fields"):
            fields = [str(f) for f in obj._fields]
            defaults = [to_plain(obj._field_defaults[f]) for f in fields if f in obj._field_defaults]
            return {"kind": "namedtuple", "fields": fields, "defaults": dumps(defaults)}
        return {"kind": "unavailable"}
    if callable(obj):
        return {"kind": "function"}
    if _within(module, TESTS):               # a test module's data may be expected values
        return {"kind": "missing"}
    plain = to_plain(obj)
    return {"kind": "unavailable"} if isinstance(plain, Opaque) else {"kind": "value", "value": dumps(plain)}


@lru_cache(maxsize=None)
def _callable(module: str, name: str):
    """The function (or NamedTuple type) ``module.name`` that the worker may call, else None."""
    if describe(module, name)["kind"] not in ("function", "namedtuple"):
        return None
    return getattr(importlib.import_module(module), name)


def functions_sent(tree) -> set:
    """``(module, qualname)`` of every function the grader itself sends by name in an
    :func:`plain.encode` tree (a test's request: its objectives, its partials)."""
    found, todo = set(), [tree]
    while todo:
        x = todo.pop()
        if isinstance(x, list):
            todo.extend(x)
        elif isinstance(x, dict):
            if len(x) == 1 and "__function__" in x and isinstance(x["__function__"], list):
                found.add(tuple(x["__function__"]))
            else:
                todo.extend(x.values())
    return found


def _functions_within(obj, limit: int = 100_000) -> list:
    """Every function and type inside decoded arguments (lists, tuples, dicts, partials)."""
    found, todo, seen = [], [obj], 0
    while todo:
        x = todo.pop()
        seen += 1
        if seen > limit:
            raise ValueError("arguments too large")
        if isinstance(x, (types.FunctionType, type)):
            found.append(x)
        elif isinstance(x, functools.partial):
            todo += [x.func, *x.args, *x.keywords.values()]
        elif isinstance(x, (list, tuple)):
            todo.extend(x)
        elif isinstance(x, dict):
            todo.extend(x.values())
    return found


def _code_names(code: types.CodeType) -> set:
    """The global and attribute names a code object and every code nested in it mention."""
    names, todo = set(), [code]
    while todo:
        c = todo.pop()
        names.update(c.co_names)
        todo += [k for k in c.co_consts if isinstance(k, types.CodeType)]
    return names


@lru_cache(maxsize=None)
def _reach(fn) -> tuple:
    """The functions of ``solutions`` that ``fn`` may run, checked whole: the globals that its
    code and every function nested in it mention (and, through a module of ``solutions``,
    that module's names), its closure, its defaults, and the methods of the ``solutions``
    classes among them, transitively."""
    found, todo, seen = [], [fn], set()
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, (classmethod, staticmethod)):
            todo.append(obj.__func__)
        elif isinstance(obj, property):
            todo += [f for f in (obj.fget, obj.fset, obj.fdel) if f is not None]
        elif isinstance(obj, functools.partial):
            todo += [obj.func, *obj.args, *obj.keywords.values()]
        elif isinstance(obj, (list, tuple, set, frozenset)):
            todo.extend(obj)
        elif isinstance(obj, dict):
            todo.extend(obj.values())
        elif isinstance(obj, type) and _within(getattr(obj, "__module__", ""), REFERENCE):
            todo.extend(vars(obj).values())
        elif isinstance(obj, types.MethodType):
            todo.append(obj.__func__)
        elif isinstance(obj, types.FunctionType):
            if _within(str(obj.__module__), REFERENCE) and obj is not fn:
                found.append(obj)
            names = _code_names(obj.__code__)
            scope = dict(obj.__globals__)
            scope.update((n, c.cell_contents) for n, c in zip(obj.__code__.co_freevars, obj.__closure__ or ())
                         if _has_contents(c))
            for name in names | set(obj.__code__.co_freevars):
                g = scope.get(name)
                if isinstance(g, types.ModuleType):
                    if _within(g.__name__, REFERENCE):          # ``losses.mse_loss``
                        todo += [getattr(g, n) for n in names if hasattr(g, n)]
                elif g is not None:
                    todo.append(g)
            todo += [*(obj.__defaults__ or ()), *(obj.__kwdefaults__ or {}).values()]
    return tuple(found)


def _has_contents(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def _refusal(fn, refused: dict, sent: set) -> str | None:
    """Why the grader may not run ``fn`` for the worker now, else None: it runs only the
    functions the test itself sent in this exercise and the helpers of ``solutions`` that
    neither are nor run (by any route) an answer the submission must write."""
    module, name = str(getattr(fn, "__module__", "")), str(getattr(fn, "__qualname__", ""))
    if isinstance(fn, types.FunctionType) and (module, name) in sent:
        return None                           # the test itself handed it over (an objective, say)
    if not _within(module, REFERENCE):
        return f"{module}.{name} is not available while grading"
    if isinstance(fn, type):
        return None if issubclass(fn, tuple) and hasattr(fn, "_fields") else \
            f"{module}.{name} is not available while grading"
    answers = [f for f in refused.values() if f is not None]
    if any(fn is f for f in answers):         # by name or alias
        return f"`{fn.__name__}` called the reference solution {module}.{name}, which scores zero"
    inside = [g for g in _reach(fn) if any(g is f for f in answers)]
    if inside:                                # a helper that runs an answer the submission must write
        return (f"`{fn.__name__}` called {module}.{name}, which runs the reference solution "
                f"`{inside[0].__name__}`, which scores zero")
    return None


def call(module: str, name: str, args: str, *, refused: dict, sent: set) -> dict:
    """Run ``module.name`` on the worker's plain arguments; plain data back.

    ``refused``: name -> reference function that the submission may not use now (those, under
    any name, score zero): while an exercise is graded, every exercise's function of its
    chapter and of later chapters (:meth:`autograder.sandbox.subject.WorkerSubject.begin_exercise`);
    ``sent``: ``(module, qualname)`` of functions handed to the submission by the current test —
    always allowed, and the only functions of ``autograder.tests`` it may call. The decision
    is taken on the decoded objects — the function itself and every function among its
    arguments — never on the text the worker sent.
    """
    if not (isinstance(module, str) and isinstance(name, str)) or _within(module, TESTS) and (module, name) not in sent:
        return {"status": "refused", "error": f"{module}.{name} is not available while grading"}
    fn = _callable(module, name)
    if fn is None:
        return {"status": "error", "error": f"{module}.{name} is not available while grading"}
    try:
        positional, keywords = loads(args)
        if not (isinstance(positional, list) and isinstance(keywords, dict)):
            raise ValueError("not (args, kwargs)")
        inside = _functions_within((positional, keywords))
    except Exception as exc:  # noqa: BLE001 - whatever a patched worker sends
        return {"status": "error", "error": f"{module}.{name}: unreadable arguments ({type(exc).__name__})"}
    for f in [fn, *inside]:                   # the function, and any passed to it
        why = _refusal(f, refused, sent)
        if why:
            return {"status": "refused", "error": why}
    try:
        with np.errstate(all="ignore"):
            result = fn(*positional, **keywords)
        return {"status": "ok", "value": dumps(to_plain(result))}
    except Exception as exc:  # noqa: BLE001 - the student's arguments made the reference fail
        return {"status": "error", "error": f"{module}.{name} raised {type(exc).__name__}: {exc}"[:500]}
