"""Fairness meta-test: correct code written differently never loses points.

Every exercise has at least two *equivalent* implementations in ``tests/grader/equivalents/<module>.py``
(``VARIANTS``: exercise id -> list of ``{function name: implementation}``; the functions a
variant leaves out come from the reference): other associations of the floating-point
operations, loops instead of vectorised code, the arrangements of torch's kernels, optax,
scikit-learn, textbooks. Each variant is graded in this process (like the reference in
tests/grader/test_meta.py) on many seeds and must get full marks every time: a graded test whose
scenario is chaotic (a trajectory that amplifies a one-ulp difference beyond its tolerance)
or whose tolerance is tighter than rounding fails here, not in a student's grade.

A *question* (an answer written as a literal, :class:`autograder.engine.questions.Question`) needs
no variant file: the answers a student may write for it are generated (the value rounded to
the graded number of significant digits and to more, the exact value; a choice in capitals
with spaces; a whole number written as a float) and each must get full marks through the
grader's own reading of the literal.

``OLF_EQUIVALENCE_SEEDS`` sets the number of seeds (default 50, about two minutes on one
core; issue 13's report used 300). A scenario that draws nothing from its ``rng`` is the
same at every seed and runs once.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from autograder.framework import LocalSubject, Namespace, Question, compare, load_exercises, run_test

EQUIVALENTS = Path(__file__).resolve().parent / "equivalents"
SEEDS = range(int(os.environ.get("OLF_EQUIVALENCE_SEEDS", "50")))
EXERCISES = load_exercises()


def _load(path: Path) -> dict:
    spec = importlib.util.spec_from_file_location(f"equivalents_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.VARIANTS


VARIANT_FILES = {path.stem: _load(path) for path in sorted(EQUIVALENTS.glob("[!_]*.py"))}
VARIANTS = {ex_id: variants for variants_of in VARIANT_FILES.values() for ex_id, variants in variants_of.items()}


def _label(variant: dict) -> str:
    return " + ".join(f.__name__ for f in variant.values())


QUESTIONS = {ex_id: ex for ex_id, ex in EXERCISES.items() if isinstance(ex, Question)}


def test_every_exercise_has_two_equivalent_implementations():
    lacking = [ex_id for ex_id in EXERCISES if ex_id not in QUESTIONS and len(VARIANTS.get(ex_id, [])) < 2]
    assert lacking == [], f"add at least two variants to tests/grader/equivalents/<module>.py for {lacking}"


def test_each_exercise_has_its_variants_in_one_file():
    owners = [ex_id for variants_of in VARIANT_FILES.values() for ex_id in variants_of]
    assert sorted({x for x in owners if owners.count(x) > 1}) == []


@pytest.mark.parametrize("module", sorted(VARIANT_FILES))
def test_variant_files_name_real_exercises_and_functions(module):
    for ex_id, variants in VARIANT_FILES[module].items():
        assert ex_id in EXERCISES, f"{module}.py: no exercise {ex_id}"
        ex = EXERCISES[ex_id]
        assert ex.module == module, f"{module}.py: {ex_id} belongs in {ex.module}.py"
        for variant in variants:
            assert variant and set(variant) <= set(ex.functions), f"{ex_id}: {set(variant) - set(ex.functions)}"
            assert all(variant[name] is not ex.functions[name] for name in variant), f"{ex_id}: the reference itself"


def _passes(test, functions: dict, expected, seed: int) -> bool:
    """The pass criterion of :func:`run_test`, with the reference's result computed once."""
    try:
        got = test.scenario(Namespace(LocalSubject(functions), test.exercise), test.rng(seed))
    except Exception:  # noqa: BLE001 - a Failure or an error: not full marks
        return False
    return compare(got, expected, rtol=test.rtol, atol=test.atol) is None


@pytest.mark.slow
@pytest.mark.parametrize("ex_id", [ex_id for ex_id in EXERCISES if ex_id in VARIANTS])
def test_equivalent_implementations_get_full_marks_at_every_seed(ex_id):
    ex = EXERCISES[ex_id]
    subjects = [(_label(v), {**ex.functions, **v}) for v in VARIANTS[ex_id]]
    failures = []
    for test in ex.tests:
        for seed in SEEDS:
            rng = test.rng(seed)
            drawn_from = rng.bit_generator.state
            expected = test.scenario(Namespace(ex.reference(), ex), rng)
            for label, functions in subjects:
                if not _passes(test, functions, expected, seed):
                    outcome = run_test(test, LocalSubject(functions), seed)     # the grader's own words
                    failures.append(f"{label}, seed {seed}: {outcome.title}: {outcome.message or 'passed'}")
            if rng.bit_generator.state == drawn_from:          # a fixed scenario: every seed is the same
                break
    assert failures == [], f"{len(failures)} lost points:\n" + "\n".join(failures[:10])
    # the shortcut above agrees with the grader itself
    for label, functions in subjects:
        outcomes = [run_test(t, LocalSubject(functions), SEEDS[-1]) for t in ex.tests]
        assert [o.message for o in outcomes if not o.passed] == [], label


def _significant(x: float, digits: int) -> float:
    return float(f"{x:.{digits - 1}e}")


def written_answers(q: Question) -> list[str]:
    """Right answers to question ``q`` as a student may write them (the line of the answer cell)."""
    expected = q.expected()
    if q.choices:
        forms = [expected, f"  {expected.upper()} "]
    elif isinstance(expected, tuple):
        forms = [expected] + ([tuple(_significant(v, d) if isinstance(v, float) else v for v in expected)
                               for d in (q.digits, q.digits + 2)] if q.digits else [])
    elif isinstance(expected, float):
        forms = [expected] + ([_significant(expected, q.digits), _significant(expected, q.digits + 2)]
                              if q.digits else []) + ([int(expected)] if expected.is_integer() else [])
    else:
        forms = [expected, float(expected)] if isinstance(expected, int) else [expected]
    return list(dict.fromkeys(f"{q.name} = {form!r}" for form in forms))


@pytest.mark.parametrize("ex_id", list(QUESTIONS))
def test_right_answers_to_questions_get_full_marks_however_written(ex_id):
    q = QUESTIONS[ex_id]
    for line in written_answers(q):
        outcome = run_test(q.tests[0], q.subject_from([line]), 0)
        assert outcome.passed, f"{line}: {outcome.message}"
