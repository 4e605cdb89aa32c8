"""Running a graded test: the subject's result against the reference's, and naming the mistake.

When a result is wrong, the scenario is run once more for each registered *mistake*
(a deliberately wrong implementation); if the submission's result matches one, the
feedback names the mistake and links the book section that explains it.
"""
from __future__ import annotations

from typing import Any

from .compare import compare
from .namespace import Failure, LocalSubject, Namespace, NotAttempted, StudentError
from .registry import FAILED, NOT_ATTEMPTED, PASSED, Exercise, Outcome, Test


def _scenario_result(test: Test, subject, seed: int):
    """Run a scenario; return ("ok", result) or ("failure", message) — never raises for Failures."""
    try:
        return "ok", test.scenario(Namespace(subject, test.exercise), test.rng(seed))
    except Failure as exc:
        return "failure", str(exc)


def run_test(test: Test, subject, seed: int) -> Outcome:
    """Grade one test: the subject's result against the reference's, with a diagnosis."""
    ex = test.exercise
    fail = lambda msg, status=FAILED: Outcome(ex.id, test.title, 0.0, test.points, status, msg)  # noqa: E731
    kind, expected = _scenario_result(test, ex.reference(), seed)
    if kind != "ok":
        raise RuntimeError(f"the reference fails its own test {test.title}: {expected}")
    try:
        kind, got = _scenario_result(test, subject, seed)
    except NotAttempted:
        return fail("not attempted: the stub still raises NotImplementedError", NOT_ATTEMPTED)
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
