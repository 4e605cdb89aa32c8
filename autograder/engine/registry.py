"""The exercises of the course, their graded tests and their known mistakes.

A graded test file (``autograder/tests/test_<module>.py``) creates one :class:`Exercise`
per exercise and registers, next to it, its tests (``@ex.test``) and its known mistakes
(``@ex.mistake``). :func:`load_exercises` imports every such file and returns them all.
"""
from __future__ import annotations

import fnmatch
import functools
import importlib
import inspect
import os
import pkgutil
import sys
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .namespace import LocalSubject

# Where the built book is published; feedback links point into it. Unset: the path of the
# page inside the book (``lessons/05_adaptive.html#adam``), which an instructor can publish.
BOOK_URL = os.environ.get("OLF_BOOK_URL", "").rstrip("/")

# The status of a graded test (Outcome.status) and of an exercise (grade.Report.by_exercise).
PASSED, FAILED, NOT_ATTEMPTED, PARTIAL = "passed", "failed", "not attempted", "partial"

# Who sees a graded test's result, and when (Gradescope's ``visibility`` of a test): always;
# never (the instructor only); once the due date has passed; once the grades are published.
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def _visibility(value: str | None) -> str | None:
    if value is not None and value not in VISIBILITIES:
        raise ValueError(f"visibility is one of {', '.join(VISIBILITIES)}, not {value!r}")
    return value

EXERCISES: dict[str, "Exercise"] = {}


@dataclass
class Mistake:
    """A known wrong implementation of the function ``replaces``, and where the book explains it."""

    replaces: str
    description: str
    function: Callable
    anchor: str | None = None


@dataclass
class Test:
    """A graded test: a scenario ``scenario(ns, rng)`` worth ``points``, compared at ``rtol``/``atol``."""

    exercise: "Exercise"
    scenario: Callable
    points: float
    rtol: float
    atol: float
    visibility: str | None = None    # one of VISIBILITIES; None: the exercise's

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
    status: str                  # PASSED | FAILED | NOT_ATTEMPTED
    message: str = ""
    visibility: str = "visible"  # one of VISIBILITIES (set by autograder.engine.visibility.label)

    @property
    def passed(self) -> bool:
        return self.status == PASSED


class Exercise:
    """One exercise: an id, the reference function(s) it asks for, tests and known mistakes.

    Parameters
    ----------
    id : str
        ``ex<chapter>_<n>``; unique in the course.
    *functions : callable
        The reference functions (from ``solutions``) the student writes, e.g.
        ``ref.adam_init, ref.adam_update``; their names are unique in the course.
    anchor : str, optional
        The MyST label of the section of the lesson that teaches it.
    visibility : str
        When students see its tests' results (one of :data:`VISIBILITIES`); a test may
        set its own.

    Raises
    ------
    ValueError
        If the id is malformed, a function is not a function (a class, say), or the id or a
        function name is already taken by another exercise.
    """

    def __init__(self, id: str, *functions: Callable, anchor: str | None = None, visibility: str = "visible"):
        chapter, _, number = id.removeprefix("ex").partition("_")
        if not (id.startswith("ex") and chapter.isdigit() and number.isdigit() and functions):
            raise ValueError(f"an exercise is Exercise('ex<chapter>_<n>', function, ...), not {id!r}")
        for f in functions:
            if not inspect.isfunction(f):
                raise ValueError(f"{id}: {f!r} is not a function; an exercise asks for functions over plain "
                                 "data (a class cannot be an exercise: see CONTRIBUTING.md)")
        self.id, self.anchor, self.chapter = id, anchor, int(chapter)
        self.visibility = _visibility(visibility)
        self.functions = {f.__name__: f for f in functions}
        self.module = functions[0].__module__.rsplit(".", 1)[-1]
        self.tests: list[Test] = []
        self.mistakes: list[Mistake] = []
        caller = sys._getframe(1)
        while caller.f_code.co_name == "__init__" and isinstance(caller.f_locals.get("self"), Exercise):
            caller = caller.f_back                 # a subclass's constructor: where it was called
        self.defined_at = f"{caller.f_code.co_filename}:{caller.f_lineno}"
        _register(self)

    @property
    def title(self) -> str:
        return ", ".join(self.functions)

    #: What a not-attempted exercise still is (the feedback says so).
    untouched = "the stub still raises NotImplementedError"

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
        fn = self.functions[name]
        try:
            return list(_parameter_names(fn))
        except TypeError:                 # an unhashable callable: not kept
            return list(inspect.signature(fn).parameters)

    def test(self, points: float = 1, *, rtol: float = 1e-6, atol: float = 1e-9, visibility: str | None = None):
        """Register a scenario ``test_x(ns, rng)`` as a graded test worth ``points``
        (``visibility``: one of :data:`VISIBILITIES`, default the exercise's)."""
        _visibility(visibility)

        def register(scenario: Callable):
            test = Test(self, scenario, points, rtol, atol, visibility)
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

    def explain(self, message: str, got, expected) -> str:
        """The feedback on a wrong result (``message``: what :func:`compare` found)."""
        return message

    def reference(self) -> LocalSubject:
        return LocalSubject(self.functions)


@functools.lru_cache(maxsize=1024)
def _parameter_names(fn: Callable) -> tuple[str, ...]:
    """The parameter names of a reference function (asked at every call a scenario makes)."""
    return tuple(inspect.signature(fn).parameters)


def _register(ex: Exercise) -> None:
    """Add ``ex`` to :data:`EXERCISES`; a module imported again re-registers its own exercises."""
    old = EXERCISES.get(ex.id)
    if old is not None and old.defined_at != ex.defined_at:
        raise ValueError(f"exercise {ex.id} is defined twice: at {old.defined_at} and at {ex.defined_at}")
    for other in EXERCISES.values():
        shared = set(other.functions) & set(ex.functions)
        if other.id != ex.id and shared:
            raise ValueError(f"{ex.id} and {other.id} both ask for {', '.join(sorted(shared))}: "
                             "function names are unique in the course")
    EXERCISES[ex.id] = ex


def _pytest_wrapper(test: Test):
    """The scenario as a pytest test with the fixtures ``student``, ``seed`` and ``run_test``
    (:func:`autograder.engine.diagnosis.run_test`, handed over by the pytest plugin)."""
    def wrapper(student, seed, run_test):
        outcome = run_test(test, student, seed)
        if not outcome.passed:
            raise AssertionError(f"{outcome.title}: {outcome.message}")
    wrapper.__name__ = wrapper.__qualname__ = test.name
    wrapper.__doc__ = test.scenario.__doc__
    wrapper.__module__ = test.scenario.__module__
    wrapper.graded_test = test
    pytest = sys.modules.get("pytest")      # under pytest, marks select tests (-m ex5_3); the CLI never imports it
    if pytest is not None:
        wrapper = getattr(pytest.mark, test.exercise.id)(pytest.mark.points(test.points)(wrapper))
    return wrapper


def load_exercises(package: str = "autograder.tests") -> dict[str, Exercise]:
    """Import every ``test_*.py`` module of the graded tests' ``package`` (which registers its
    exercises): the course's graded tests are named, never imported by a statement here."""
    tests = importlib.import_module(package)
    for info in pkgutil.iter_modules(tests.__path__):
        if info.name.startswith("test_"):
            importlib.import_module(f"{tests.__name__}.{info.name}")
    return dict(sorted(EXERCISES.items(), key=lambda kv: (kv[1].chapter, int(kv[0].split("_")[1]))))


def select(exercises: dict[str, Exercise], patterns) -> dict[str, Exercise]:
    """The exercises whose id matches one of the glob ``patterns`` (``ex5_*``), all if none."""
    if not patterns:
        return dict(exercises)
    chosen = {k: v for k, v in exercises.items() if any(fnmatch.fnmatch(k, p) for p in patterns)}
    if not chosen:
        raise ValueError(f"no exercise matches {', '.join(patterns)} (known: {', '.join(exercises)})")
    return chosen
