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
from .registry import FAILED, NOT_ATTEMPTED, PASSED, Exercise, Mistake, Outcome, Test


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


def _graded(test: Test, subject, seed: int) -> tuple[Outcome, str | None, Any]:
    """Grade one test without a diagnosis: the outcome, and the subject's (kind, result) when
    it returned one that differs from the reference's (``kind`` None otherwise)."""
    ex = test.exercise
    fail = lambda msg, status=FAILED: Outcome(ex.id, test.title, 0.0, test.points, status, msg)  # noqa: E731
    kind, expected = _known_result(test, ex.functions, seed)
    if kind != "ok":
        raise RuntimeError(f"the reference fails its own test {test.title}: {expected}")
    try:
        kind, got = _scenario_result(test, subject, seed)
    except NotAttempted:
        return fail(f"not attempted: {ex.untouched}", NOT_ATTEMPTED), None, None
    except StudentError as exc:
        return fail(str(exc)), None, None
    except Exception as exc:  # noqa: BLE001 - e.g. unpacking a result of the wrong length
        return fail(f"could not use what your function returned ({type(exc).__name__}: {exc})"), None, None
    if kind == "ok":
        message = compare(got, expected, rtol=test.rtol, atol=test.atol)
        if message is None:
            return Outcome(ex.id, test.title, float(test.points), test.points, PASSED), None, None
        message = ex.explain(message, got, expected)
    else:
        message = got
    return fail(message), kind, got


def _mistake_result(test: Test, mistake: Mistake, seed: int):
    """The mistake's (kind, result) on this test, or None if it cannot run the scenario."""
    try:
        return _known_result(test, {**test.exercise.functions, mistake.replaces: mistake.function}, seed)
    except Exception:  # noqa: BLE001 - a mistake that cannot run this scenario matches nothing
        return None


def _same(test: Test, mine, kind: str, got: Any) -> bool:
    """Whether a (kind, result) of a mistake equals the submission's."""
    if mine is None:
        return False
    m_kind, m_result = mine
    try:
        return (m_kind == kind == "failure" and m_result == got) or (
            m_kind == kind == "ok" and compare(got, m_result, rtol=test.rtol, atol=test.atol) is None)
    except Exception:  # noqa: BLE001 - a diagnosis must never break grading
        return False


def matching_mistakes(test: Test, seed: int, kind: str, got: Any) -> list[Mistake]:
    """The registered mistakes whose result on this test equals the submission's."""
    return [m for m in test.exercise.mistakes if _same(test, _mistake_result(test, m, seed), kind, got)]


def _naming(test: Test, mistakes: list[Mistake]) -> str:
    ex = test.exercise
    if not mistakes:
        return ""
    if len(mistakes) == 1:
        return f"This matches a known mistake: {mistakes[0].description}. See {ex.url(mistakes[0].anchor)}"
    return "This matches one of these known mistakes: " + "; ".join(
        f"{m.description} (see {ex.url(m.anchor)})" for m in mistakes)


def diagnose(test: Test, seed: int, kind: str, got: Any) -> str:
    """Name the registered mistakes whose result equals the submission's, if any."""
    return _naming(test, matching_mistakes(test, seed, kind, got))


def run_test(test: Test, subject, seed: int) -> Outcome:
    """Grade one test: the subject's result against the reference's, with a diagnosis."""
    outcome, kind, got = _graded(test, subject, seed)
    diagnosis = diagnose(test, seed, kind, got) if kind is not None else ""
    if diagnosis:
        outcome.message += f"\n{diagnosis}"
    return outcome


def run_tests(tests: list[Test], subject, seed: int) -> list[Outcome]:
    """Grade several tests of one exercise; a mistake is named only where it explains everything
    seen: its result equals the submission's on that test, and on every other test the
    submission passed or returned a wrong result, the mistake did the same (a submission that
    passes a test the mistake fails, or differs from it elsewhere, is not that mistake). So a
    diagnosis is right or silent, and names every mistake it cannot tell apart."""
    graded = [(test, *_graded(test, subject, seed)) for test in tests]
    failed = [(test, outcome, kind, got) for test, outcome, kind, got in graded if kind is not None]
    if not failed:
        return [outcome for _, outcome, _, _ in graded]

    def consistent(mistake: Mistake) -> bool:
        for test, outcome, kind, got in graded:
            mine = _mistake_result(test, mistake, seed)
            if mine is None:
                continue
            if outcome.passed:
                reference = _known_result(test, test.exercise.functions, seed)
                if not _same(test, mine, *reference):
                    return False
            elif kind is not None and not _same(test, mine, kind, got):
                return False
        return True

    suspects = [m for m in failed[0][0].exercise.mistakes if consistent(m)]
    for test, outcome, kind, got in failed:
        diagnosis = _naming(test, [m for m in suspects if _same(test, _mistake_result(test, m, seed), kind, got)])
        if diagnosis:
            outcome.message += f"\n{diagnosis}"
    return [outcome for _, outcome, _, _ in graded]


def run_exercise(ex: Exercise, subject, seed: int) -> list[Outcome]:
    """Grade every test of one exercise (see :func:`run_tests`)."""
    return run_tests(ex.tests, subject, seed)
