"""The grader's half of the worker's ``solutions`` façade: it describes names and runs the
reference for the worker, which never holds any of it (see :mod:`autograder.worker`).

A lesson's setup cell imports helpers from ``solutions`` (``design_matrix``, a state
NamedTuple, a plotting function, an earlier chapter's ``linreg_grad`` ...) and a graded
test hands the student's function an objective from ``solutions`` or from a test module.
In the worker each such name is a stub; calling it sends plain data here, the function
runs in the grader and plain data goes back. Nothing else crosses: no source, no code
object, no expected value — and the answers that the exercise being graded may not build
on are refused: every exercise's function of its own chapter and of later ones, and any
helper that runs one of them inside (``bfgs`` runs ``bfgs_update``); using them scores
zero. A chapter builds on the answers of the chapters before it, as its lesson does
(``tests/test_isolation.py`` checks that every lesson imports only those).

The exception is :data:`OPEN`: objectives whose code is no secret (test functions such as
Rosenbrock's, none of them an exercise's answer, nothing but numpy inside). The worker
gets their source and runs its own copy, instead of asking the grader at every call (about
760 round trips a complete submission). ``tests/test_isolation.py`` holds them to that.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import re
import importlib.util
import sys
import types
from functools import lru_cache

import numpy as np

from .plain import Opaque, dumps, loads, to_plain

FUNCTION_TAG = re.compile(r'"__function__":\["([^"]*)","([^"]*)"\]')   # how plain.dumps sends a function
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


def functions_in(encoded: str) -> set:
    """``(module, name)`` of every function sent by name in a :func:`plain.dumps` text."""
    return set(FUNCTION_TAG.findall(encoded))


@lru_cache(maxsize=None)
def _reference_used(fn) -> tuple:
    """The functions of ``solutions`` that ``fn`` calls, directly or through one another."""
    found, todo = [], [fn]
    while todo:
        try:
            names = inspect.getclosurevars(todo.pop()).globals.values()
        except TypeError:                     # not Python code (a class, a builtin)
            continue
        for g in names:
            if isinstance(g, types.FunctionType) and _within(g.__module__, REFERENCE) and g not in found:
                found.append(g)
                todo.append(g)
    return tuple(found)


def _refusal(module: str, name: str, refused: dict, sent: set) -> str | None:
    if (module, name) in sent:                # the test itself handed it over (an objective, say)
        return None
    if _within(module, REFERENCE):
        fn = _callable(module, name)
        if name in refused or any(fn is f for f in refused.values() if f is not None):   # by name or alias
            return f"`{name}` called the reference solution {module}.{name}, which scores zero"
        inside = [g for g in _reference_used(fn) if any(g is f for f in refused.values())] if fn else []
        if inside:                            # a helper that runs an answer the submission must write
            return (f"`{name}` called {module}.{name}, which runs the reference solution "
                    f"`{inside[0].__name__}`, which scores zero")
    if _within(module, TESTS) and (module, name) not in sent:
        return f"{module}.{name} is not available while grading"
    return None


def call(module: str, name: str, args: str, *, refused: dict, sent: set) -> dict:
    """Run ``module.name`` on the worker's plain arguments; plain data back.

    ``refused``: name -> reference function that the submission may not use now (those, under
    any name, score zero): while an exercise is graded, every exercise's function of its
    chapter and of later chapters (:meth:`autograder.sandbox.WorkerSubject.begin_exercise`);
    ``sent``: ``(module, name)`` of functions handed to the submission by the current test —
    always allowed, and the only functions of ``autograder.tests`` it may call.
    """
    for mod, fn_name in [(module, name), *functions_in(args)]:     # the function, and any passed to it
        why = _refusal(mod, fn_name, refused, sent)
        if why:
            return {"status": "refused", "error": why}
    fn = _callable(module, name)
    if fn is None:
        return {"status": "error", "error": f"{module}.{name} is not available while grading"}
    try:
        positional, keywords = loads(args)
        with np.errstate(all="ignore"):
            result = fn(*positional, **keywords)
        return {"status": "ok", "value": dumps(to_plain(result))}
    except Exception as exc:  # noqa: BLE001 - the student's arguments made the reference fail
        return {"status": "error", "error": f"{module}.{name} raised {type(exc).__name__}: {exc}"[:500]}
