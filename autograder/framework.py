"""Exercises, their graded tests and their known mistakes.

A graded test is a *scenario*: ``scenario(ns, rng)`` calls the exercise's functions
through a namespace ``ns`` and returns plain data. The grader runs the same scenario
on the reference solution and on the submission with identically seeded generators and
compares the two results; the submission's functions run wherever its *subject* runs
them (a sandboxed worker process when grading, the student's own kernel for
:func:`autograder.check`). A scenario may also raise :class:`Failure` for a property.

When a result is wrong, the scenario is run once more for each registered *mistake*
(a deliberately wrong implementation); if the submission's result matches one, the
feedback names the mistake and links the book section that explains it.
"""
from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .calling import invoke
from .plain import Opaque, Record, describe, dumps, loads, to_plain

# Where the built book is published; feedback links point into it. Unset: the path of the
# page inside the book (``lessons/05_adaptive.html#adam``), which an instructor can publish.
BOOK_URL = os.environ.get("OLF_BOOK_URL", "").rstrip("/")

EXERCISES: dict[str, "Exercise"] = {}


# --- errors -------------------------------------------------------------------------------------

class Failure(AssertionError):
    """A graded check failed; the message is the feedback the student reads."""


class NotAttempted(Exception):
    """The exercise's stub still raises ``NotImplementedError(<exercise id>)``."""


class StudentError(Exception):
    """The submission's function raised, timed out, crashed its worker or is missing."""


# --- subjects: who runs the functions -----------------------------------------------------------

class LocalSubject:
    """Functions called in this process (the reference, a mistake, or a live notebook function)."""

    def __init__(self, functions: dict[str, Callable], label: str = "your code"):
        self.functions, self.label, self.objects = dict(functions), label, {}

    def invoke(self, name: str, request: str) -> dict:
        fn = self.functions.get(name)
        if fn is None:
            return {"status": "missing"}
        return invoke(fn, self.objects, request)


class Value:
    """What a call through a namespace returns: plain data, and a handle to the raw object."""

    __slots__ = ("_ns", "_handle", "_path", "plain", "origin")

    def __init__(self, ns: "Namespace", handle: int, path: tuple, plain: Any, origin: str):
        self._ns, self._handle, self._path, self.plain, self.origin = ns, handle, path, plain, origin

    def __plain_handle__(self) -> dict:
        return {"id": self._handle, "path": list(self._path)}

    def _sequence(self) -> tuple:
        if not isinstance(self.plain, (list, tuple)):
            raise Failure(f"{self.origin} returned {describe(self.plain)}; expected a tuple")
        return tuple(self.plain)

    def __getitem__(self, i: int) -> "Value":
        items = self._sequence()
        if not -len(items) <= i < len(items):
            raise Failure(f"{self.origin} returned {describe(self.plain)}; expected at least {i + 1} items")
        return Value(self._ns, self._handle, self._path + (i,), items[i], f"{self.origin}[{i}]")

    def __iter__(self):
        return (self[i] for i in range(len(self._sequence())))

    def __len__(self) -> int:
        return len(self._sequence())

    def array(self) -> np.ndarray:
        """The value as a float ndarray, or :class:`Failure` with a precise message."""
        p = self.plain
        if isinstance(p, np.ndarray) and p.dtype.kind in "biuf":
            return p.astype(float)
        if isinstance(p, (int, float)) and not isinstance(p, bool):
            return np.array(float(p))
        raise Failure(f"{self.origin} returned {describe(p)}; expected an ndarray")

    def __float__(self) -> float:
        p = self.plain
        if isinstance(p, np.ndarray) and p.size == 1:
            return float(p.reshape(()))
        if isinstance(p, (int, float)) and not isinstance(p, bool):
            return float(p)
        raise Failure(f"{self.origin} returned {describe(p)}; expected a number")

    def __repr__(self) -> str:
        return f"Value({self.plain!r})"


class Namespace:
    """``ns.<function>(...)`` for scenarios: encodes arguments, checks for mutation, wraps results."""

    def __init__(self, subject, exercise: "Exercise"):
        self._subject, self._exercise = subject, exercise

    def __getattr__(self, name: str):
        if name.startswith("_") or name not in self._exercise.functions:
            raise AttributeError(f"{name} is not a function of exercise {self._exercise.id}")
        return lambda *args, **kwargs: self._call(name, args, kwargs)

    def _call(self, name: str, args: tuple, kwargs: dict) -> Value:
        response = self._subject.invoke(name, dumps((list(args), kwargs)))
        status = response["status"]
        if status == "missing":
            raise StudentError(f"`{name}` is not defined in the submission")
        if status == "not-implemented":
            if response["error"] == self._exercise.id:
                raise NotAttempted(name)
            raise StudentError(f"`{name}` raised NotImplementedError: {response['error']}")
        if status != "ok":
            raise StudentError(f"`{name}` {response['error']}" if status == "raised" else response["error"])
        self._check_mutation(name, args, kwargs, loads(response["after"]))
        return Value(self, response["handle"], (), loads(response["value"]), f"`{name}`")

    def _check_mutation(self, name: str, args: tuple, kwargs: dict, after: tuple) -> None:
        params = self._exercise.parameters(name)
        args_after, kwargs_after = after
        pairs = [(params[i] if i < len(params) else f"argument {i + 1}", a, args_after[i])
                 for i, a in enumerate(args)]
        pairs += [(k, kwargs[k], kwargs_after.get(k)) for k in kwargs]
        for label, before, now in pairs:
            if isinstance(before, np.random.Generator):
                continue
            before = before.plain if isinstance(before, Value) else to_plain(before)
            if not _identical(before, now):
                raise Failure(f"`{name}` modified its input `{label}` in place; "
                              "return new arrays instead (e.g. `params - lr * grads`, not `params -= ...`)")


def _identical(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=True))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_identical(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_identical(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return type(a) is type(b) and a == b


# --- comparison ---------------------------------------------------------------------------------

def _unwrap(x: Any) -> Any:
    if isinstance(x, Value):
        return x.plain
    if isinstance(x, Record):
        return Record(x.type_name, x.fields, [_unwrap(v) for v in x])
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def compare(got: Any, expected: Any, *, rtol: float = 1e-6, atol: float = 1e-9, where: str = "") -> str | None:
    """``None`` if ``got`` matches ``expected`` (the reference's plain result), else what differs."""
    got, expected = _unwrap(got), _unwrap(expected)
    at = f"{where}: " if where else ""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"{at}got {describe(got)}"
        for key in expected:
            if key not in got:
                return f"{at}missing {key!r}"
            msg = compare(got[key], expected[key], rtol=rtol, atol=atol, where=f"{where} → {key}" if where else str(key))
            if msg:
                return msg
        return None
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return f"{at}returned {describe(got)}; expected {describe(expected)}"
        if len(got) != len(expected):
            return f"{at}returned {len(got)} items; expected {len(expected)}"
        fields = expected.fields if isinstance(expected, Record) else None
        for i, (g, e) in enumerate(zip(got, expected)):
            label = fields[i] if fields else f"[{i}]"
            msg = compare(g, e, rtol=rtol, atol=atol, where=f"{where} → {label}" if where else f"result {label}")
            if msg:
                return msg
        return None
    if isinstance(expected, np.ndarray):
        if _is_number(got) and expected.ndim == 0:
            got = np.array(float(got))
        if not isinstance(got, np.ndarray):
            return f"{at}returned {describe(got)}; expected {describe(expected)}"
        if got.shape != expected.shape:
            return f"{at}has shape {got.shape}; expected shape {expected.shape}"
        if expected.dtype.kind == "f" and got.dtype.kind not in "f":
            return f"{at}has dtype {got.dtype}; expected floating-point values"
        if expected.dtype.kind in "iub" and got.dtype.kind not in "iub":
            return f"{at}has dtype {got.dtype}; expected integers"
        return _compare_values(got.astype(float), expected.astype(float), rtol, atol, at)
    if _is_number(expected):
        if isinstance(got, np.ndarray) and got.size == 1 and got.ndim <= 1 and got.dtype.kind in "iuf":
            if got.ndim == 1:
                return f"{at}returned an array of shape (1,); expected a scalar (use float(...) or .item())"
            got = float(got)
        if not _is_number(got):
            return f"{at}returned {describe(got)}; expected a number like {expected!r}"
        if isinstance(expected, int) and isinstance(got, int) and got != expected:
            return f"{at}is {got}; expected {expected}"
        return _compare_values(np.array(float(got)), np.array(float(expected)), rtol, atol, at)
    if isinstance(expected, Opaque) or isinstance(got, Opaque):
        return None if got == expected else f"{at}returned {describe(got)}; expected {describe(expected)}"
    if type(got) is not type(expected) or got != expected:
        return f"{at}returned {describe(got)}; expected {describe(expected)}"
    return None


def _compare_values(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float, at: str) -> str | None:
    bad_got = ~np.isfinite(got) & np.isfinite(expected)
    if bad_got.any():
        idx = tuple(int(i) for i in np.argwhere(bad_got)[0])
        kind = "NaN" if np.isnan(got[idx]) else "inf"
        where = f" at index {idx}" if idx else ""
        return f"{at}contains {kind}{where} (expected {expected[idx]:.6g}); an overflow or a 0/0?"
    close = np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return None
    err = np.where(close, 0.0, np.abs(got - expected))
    err = np.where(np.isnan(err), np.inf, err)        # a NaN expected where a number came back
    idx = tuple(int(i) for i in np.unravel_index(np.argmax(err), err.shape)) if err.ndim else ()
    where = f" at index {idx}" if idx else ""
    g, e = got[idx], expected[idx]
    return (f"{at}wrong value{where}: got {g:.6g}, expected {e:.6g} "
            f"({int((~close).sum())} of {close.size} values differ)")


# --- exercises, tests, mistakes -----------------------------------------------------------------

@dataclass
class Mistake:
    replaces: str
    description: str
    function: Callable
    anchor: str | None = None


@dataclass
class Test:
    exercise: "Exercise"
    scenario: Callable
    points: float
    rtol: float
    atol: float

    @property
    def name(self) -> str:
        return self.scenario.__name__

    @property
    def title(self) -> str:
        doc = (self.scenario.__doc__ or self.name).strip().splitlines()[0]
        return f"{self.exercise.id} {self.exercise.title}: {doc}"

    def rng(self, seed: int) -> np.random.Generator:
        return np.random.default_rng([seed, zlib.crc32(f"{self.exercise.id}:{self.name}".encode())])


@dataclass
class Outcome:
    """The result of one graded test on one submission."""

    exercise: str
    title: str
    score: float
    max_score: float
    status: str                  # "passed" | "failed" | "not attempted"
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"


class Exercise:
    """One exercise: an id, the reference function(s) it asks for, tests and known mistakes.

    Parameters
    ----------
    id : str
        ``ex<chapter>_<n>``.
    *functions : callable
        The reference functions (from ``solutions``) the student writes, e.g.
        ``ref.adam_init, ref.adam_update``.
    anchor : str, optional
        The MyST label of the section of the lesson that teaches it.
    """

    def __init__(self, id: str, *functions: Callable, anchor: str | None = None):
        self.id, self.anchor = id, anchor
        self.chapter = int(id[2:].split("_")[0])
        self.functions = {f.__name__: f for f in functions}
        self.module = functions[0].__module__.rsplit(".", 1)[-1]
        self.tests: list[Test] = []
        self.mistakes: list[Mistake] = []
        EXERCISES[id] = self

    @property
    def title(self) -> str:
        return ", ".join(self.functions)

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tests)

    @property
    def page(self) -> str:
        return f"lessons/{self.chapter:02d}_{self.module}.html"

    def url(self, anchor: str | None = None) -> str:
        anchor = anchor or self.anchor
        path = self.page + (f"#{anchor}" if anchor else "")
        return f"{BOOK_URL}/{path}" if BOOK_URL else f"the book, {path}"

    def parameters(self, name: str) -> list[str]:
        return list(inspect.signature(self.functions[name]).parameters)

    def test(self, points: float = 1, *, rtol: float = 1e-6, atol: float = 1e-9):
        """Register a scenario ``test_x(ns, rng)`` as a graded test worth ``points``."""
        def register(scenario: Callable):
            test = Test(self, scenario, points, rtol, atol)
            self.tests.append(test)
            return _pytest_wrapper(test)
        return register

    def mistake(self, replaces: str, description: str, *, anchor: str | None = None):
        """Register a known wrong implementation of the function ``replaces``."""
        if replaces not in self.functions:
            raise ValueError(f"{replaces} is not a function of {self.id}")

        def register(fn: Callable):
            self.mistakes.append(Mistake(replaces, description, fn, anchor))
            return fn
        return register

    def reference(self) -> LocalSubject:
        return LocalSubject(self.functions, label="the reference")


def _pytest_wrapper(test: Test):
    """The scenario as a pytest test with the fixtures ``student`` and ``seed``."""
    def wrapper(student, seed):
        outcome = run_test(test, student, seed)
        if not outcome.passed:
            raise AssertionError(f"{outcome.title}: {outcome.message}")
    wrapper.__name__ = wrapper.__qualname__ = test.name
    wrapper.__doc__ = test.scenario.__doc__
    wrapper.__module__ = test.scenario.__module__
    wrapper.graded_test = test
    try:
        import pytest
        wrapper = getattr(pytest.mark, test.exercise.id)(pytest.mark.points(test.points)(wrapper))
    except ImportError:  # pragma: no cover - grading without pytest installed
        pass
    return wrapper


def _scenario_result(test: Test, subject, seed: int):
    """Run a scenario; return ("ok", result) or ("failure", message) — never raises for Failures."""
    try:
        return "ok", test.scenario(Namespace(subject, test.exercise), test.rng(seed))
    except Failure as exc:
        return "failure", str(exc)


def run_test(test: Test, subject, seed: int) -> Outcome:
    """Grade one test: the subject's result against the reference's, with a diagnosis."""
    ex = test.exercise
    fail = lambda msg, status="failed": Outcome(ex.id, test.title, 0.0, test.points, status, msg)  # noqa: E731
    kind, expected = _scenario_result(test, ex.reference(), seed)
    if kind != "ok":
        raise RuntimeError(f"the reference fails its own test {test.title}: {expected}")
    try:
        kind, got = _scenario_result(test, subject, seed)
    except NotAttempted:
        return fail("not attempted: the stub still raises NotImplementedError", "not attempted")
    except StudentError as exc:
        return fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - e.g. unpacking a result of the wrong length
        return fail(f"could not use what your function returned ({type(exc).__name__}: {exc})")
    if kind == "ok":
        message = compare(got, expected, rtol=test.rtol, atol=test.atol)
        if message is None:
            return Outcome(ex.id, test.title, float(test.points), test.points, "passed")
    else:
        message = got
    diagnosis = diagnose(test, seed, kind, got)
    return fail(message + (f"\n{diagnosis}" if diagnosis else ""))


def diagnose(test: Test, seed: int, kind: str, got: Any) -> str:
    """Name the registered mistake whose result equals the submission's, if any."""
    ex = test.exercise
    for mistake in ex.mistakes:
        functions = {**ex.functions, mistake.replaces: mistake.function}
        try:
            m_kind, m_result = _scenario_result(test, LocalSubject(functions), seed)
        except Exception:  # noqa: BLE001 - a mistake that cannot run this scenario matches nothing
            continue
        try:
            same = (m_kind == kind == "failure" and m_result == got) or (
                m_kind == kind == "ok" and compare(got, m_result, rtol=test.rtol, atol=test.atol) is None)
        except Exception:  # noqa: BLE001 - a diagnosis must never break grading
            same = False
        if same:
            return f"This matches a known mistake: {mistake.description}. See {ex.url(mistake.anchor)}"
    return ""


def run_exercise(ex: Exercise, subject, seed: int) -> list[Outcome]:
    """Grade every test of one exercise."""
    return [run_test(t, subject, seed) for t in ex.tests]


def load_exercises() -> dict[str, Exercise]:
    """Import every ``autograder/tests/test_*.py`` module (which registers its exercises)."""
    from . import tests
    for info in pkgutil.iter_modules(tests.__path__):
        if info.name.startswith("test_"):
            importlib.import_module(f"{tests.__name__}.{info.name}")
    return dict(sorted(EXERCISES.items(), key=lambda kv: (kv[1].chapter, int(kv[0].split("_")[1]))))


def select(exercises: dict[str, Exercise], patterns) -> dict[str, Exercise]:
    """The exercises whose id matches one of the glob ``patterns`` (``ex5_*``), all if none."""
    import fnmatch
    if not patterns:
        return dict(exercises)
    chosen = {k: v for k, v in exercises.items() if any(fnmatch.fnmatch(k, p) for p in patterns)}
    if not chosen:
        raise ValueError(f"no exercise matches {', '.join(patterns)} (known: {', '.join(exercises)})")
    return chosen
