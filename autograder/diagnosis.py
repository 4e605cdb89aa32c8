"""Running a graded test: the subject's result against the reference's, and naming the mistake.

When a result is wrong, the scenario is run once more for each registered *mistake*
(a deliberately wrong implementation); if the submission's result matches one, the
feedback names the mistake and links the book section that explains it.

The reference's result of a scenario, and each mistake's, depends only on the test and
the seed (the scenario draws everything from ``test.rng(seed)``), so it is computed once
per process and kept (:func:`_known_result`): in a batch every submission is graded at
the same seed, and the reference then runs once per test, not once per submission. A
kept result is frozen (its arrays read-only), so no later use can change it.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from .compare import compare
from .namespace import Failure, LocalSubject, Namespace, NotAttempted, StudentError, Value
from .registry import FAILED, NOT_ATTEMPTED, PASSED, Exercise, Outcome, Test


def _scenario_result(test: Test, subject, seed: int):
    """Run a scenario; return ("ok", result) or ("failure", message) — never raises for Failures."""
    try:
        return "ok", test.scenario(Namespace(subject, test.exercise), test.rng(seed))
    except Failure as exc:
        return "failure", str(exc)


CACHE_SIZE = 4096           # results kept per process (a batch needs one per test and mistake)
_RESULTS: OrderedDict = OrderedDict()


def _freeze(x: Any) -> Any:
    """Make every array in a result read-only (in place), so that a kept result cannot change."""
    if isinstance(x, Value):
        _freeze(x.plain)
    elif isinstance(x, np.ndarray):
        x.setflags(write=False)
    elif isinstance(x, (list, tuple)):          # a Record is a tuple
        for item in x:
            _freeze(item)
    elif isinstance(x, dict):
        for item in x.values():
            _freeze(item)
    return x


def _known_result(test: Test, functions: dict, seed: int):
    """:func:`_scenario_result` of the in-process ``functions`` (the reference, or a mistake),
    computed once per (test, functions, seed) in this process; an exception it raises is
    raised again each time."""
    key = (test.scenario, test.exercise.id, tuple(functions.items()), seed)
    try:
        _RESULTS.move_to_end(key)
        found = _RESULTS[key]
    except KeyError:
        try:
            kind, result = _scenario_result(test, LocalSubject(functions), seed)
            found = ("returned", (kind, _freeze(result)))
        except Exception as exc:  # noqa: BLE001 - kept, and raised to every caller
            found = ("raised", exc)
        _RESULTS[key] = found
        if len(_RESULTS) > CACHE_SIZE:
            _RESULTS.popitem(last=False)
    how, value = found
    if how == "raised":
        raise value.with_traceback(None)
    return value


def run_test(test: Test, subject, seed: int) -> Outcome:
    """Grade one test: the subject's result against the reference's, with a diagnosis."""
    ex = test.exercise
    fail = lambda msg, status=FAILED: Outcome(ex.id, test.title, 0.0, test.points, status, msg)  # noqa: E731
    kind, expected = _known_result(test, ex.functions, seed)
    if kind != "ok":
        raise RuntimeError(f"the reference fails its own test {test.title}: {expected}")
    try:
        kind, got = _scenario_result(test, subject, seed)
    except NotAttempted:
        return fail(f"not attempted: {ex.untouched}", NOT_ATTEMPTED)
    except StudentError as exc:
        return fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - e.g. unpacking a result of the wrong length
        return fail(f"could not use what your function returned ({type(exc).__name__}: {exc})")
    if kind == "ok":
        message = compare(got, expected, rtol=test.rtol, atol=test.atol)
        if message is None:
            return Outcome(ex.id, test.title, float(test.points), test.points, PASSED)
        message = ex.explain(message, got, expected)
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
            m_kind, m_result = _known_result(test, functions, seed)
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
