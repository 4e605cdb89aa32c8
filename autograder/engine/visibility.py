"""Which graded tests a student sees, and when.

A test's visibility is one of :data:`~autograder.engine.registry.VISIBILITIES` (Gradescope's
``visibility`` of a test): set on the test (``@ex.test(2, visibility="hidden")``), else on
its exercise (``Exercise(..., visibility="after_due_date")``), else ``visible``. An
instructor overrides it for one run with ``--visibility PATTERN=LEVEL`` (``ex5_*=hidden``,
or ``ex5_3::test_bias_correction=after_due_date`` for one test).

Every test is graded and counts in the score whatever its visibility; visibility decides
only what a student-facing report shows, at a *stage* of the assignment:

* ``before_due`` — only ``visible`` tests (what ``check()`` shows in the lesson);
* ``after_due_date`` — and the ``after_due_date`` ones;
* ``after_published`` — everything but ``hidden``;
* ``instructor`` — everything.
"""
from __future__ import annotations

import fnmatch

from .registry import VISIBILITIES

STAGES = ("before_due", "after_due_date", "after_published", "instructor")
_SHOWN = {"before_due": {"visible"}, "after_due_date": {"visible", "after_due_date"},
          "after_published": {"visible", "after_due_date", "after_published"}, "instructor": set(VISIBILITIES)}


def parse_overrides(specs) -> list[tuple[str, str | None, str]]:
    """``["ex5_*=hidden", "ex5_3::test_x=after_due_date"]`` -> ``[(exercise glob, test glob or None, level)]``.

    Raises
    ------
    ValueError
        On a malformed spec or an unknown level.
    """
    out = []
    for spec in specs or ():
        target, sep, level = spec.partition("=")
        if not sep or not target or level not in VISIBILITIES:
            raise ValueError(f"--visibility takes EXERCISE[::TEST]=LEVEL with LEVEL one of "
                             f"{', '.join(VISIBILITIES)}, not {spec!r}")
        exercise, _, test = target.partition("::")
        out.append((exercise, test or None, level))
    return out


def check_overrides(overrides, exercises) -> None:
    """Refuse an override that matches no graded test (``ex9_1=hidden``, a misspelt test name):
    a typo would leave visible a test meant to be hidden.

    Raises
    ------
    ValueError
        Naming the override and what it could have matched.
    """
    for exercise, name, level in overrides:
        ids = [e for e in exercises if fnmatch.fnmatch(e, exercise)]
        if not ids:
            raise ValueError(f"--visibility {exercise}{'::' + name if name else ''}={level}: no graded exercise "
                             f"matches {exercise!r} (graded: {', '.join(exercises)})")
        tests = [t.name for e in ids for t in exercises[e].tests]
        if name is not None and not any(fnmatch.fnmatch(t, name) for t in tests):
            raise ValueError(f"--visibility {exercise}::{name}={level}: no test of {', '.join(ids)} matches "
                             f"{name!r} (its tests: {', '.join(tests)})")


def visibility_of(test, overrides=()) -> str:
    """The visibility of a registered test: the last matching override, else the test's, else its exercise's."""
    level = test.visibility or test.exercise.visibility or "visible"
    for exercise, name, value in overrides:
        if fnmatch.fnmatch(test.exercise.id, exercise) and (name is None or fnmatch.fnmatch(test.name, name)):
            level = value
    return level


def label(report, exercises, overrides=()) -> None:
    """Set each outcome's ``visibility`` from its test (outcomes come in the order of ``ex.tests``)."""
    for ex_id, ex in exercises.items():
        mine = [o for o in report.outcomes if o.exercise == ex_id]
        for outcome, test in zip(mine, ex.tests):
            outcome.visibility = visibility_of(test, overrides)


def shown(visibility: str, stage: str) -> bool:
    """Whether a student sees a test of this visibility at this stage."""
    return visibility in _SHOWN[stage]


def withheld_note(count: int, points: float) -> str | None:
    """"3 more tests (5 points) are graded when you submit; ...", or None if nothing is withheld."""
    if not count:
        return None
    many = count != 1
    return (f"{count} more test{'s' if many else ''} ({points:g} point{'s' if points != 1 else ''}) "
            f"{'are' if many else 'is'} graded when you submit; "
            f"{'their results are' if many else 'its result is'} not shown here.")


def withheld(outcomes, stage: str) -> str | None:
    """The :func:`withheld_note` of the outcomes a student does not see at ``stage``."""
    hidden = [o for o in outcomes if not shown(o.visibility, stage)]
    return withheld_note(len(hidden), sum(o.max_score for o in hidden))


_WHEN = {"after_due_date": "shown after the due date", "after_published": "shown once the grades are published",
         "hidden": "graded but never shown"}


def schedule_note(outcomes) -> str | None:
    """What is not shown before the due date and when it will be, e.g.
    "2 tests (5 points) are shown after the due date."; None if every test is visible."""
    parts = []
    for level, when in _WHEN.items():
        mine = [o for o in outcomes if o.visibility == level]
        if mine:
            n, points = len(mine), sum(o.max_score for o in mine)
            parts.append(f"{n} test{'s' if n != 1 else ''} ({points:g} point{'s' if points != 1 else ''}) "
                         f"{'are' if n != 1 else 'is'} {when}")
    return "; ".join(parts) + "." if parts else None
