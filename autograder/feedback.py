"""Instant feedback in a notebook: :func:`check` runs an exercise's graded tests in place."""
from __future__ import annotations

import sys

from .engine.diagnosis import run_tests
from .engine.namespace import LocalSubject
from .engine.questions import AnswerSubject, Question, answer_in_kernel, questions
from .engine.registry import NOT_ATTEMPTED, Exercise, load_exercises
from .engine.visibility import visibility_of, withheld_note


def exercise_of(names: list[str]) -> Exercise:
    """The exercise whose functions are exactly ``names``."""
    for ex in load_exercises().values():
        if names[0] in ex.functions:
            if sorted(names) != sorted(ex.functions):
                raise TypeError(f"check() takes the functions of {ex.id} together: "
                                f"check({', '.join(ex.functions)})")
            return ex
    raise TypeError(f"{names[0]} is not an exercise function of this course")


def question_of(answers: dict) -> Question:
    """The question whose answer ``answers`` (one ``name=value``) gives."""
    if len(answers) != 1:
        raise TypeError("check() takes one answer at a time: check(name=name)")
    name = next(iter(answers))
    for ex in questions(load_exercises()).values():
        if ex.name == name:
            return ex
    raise TypeError(f"{name} is not a question of this course")


def _reference(fn) -> bool:
    """Whether ``fn`` is (or wraps) a function of the reference library."""
    return str(getattr(fn, "__module__", "") or "").split(".")[0] == "solutions"


def as_graded(functions: tuple) -> tuple[dict, list[str]]:
    """The functions ``grade`` would grade (None for one imported from ``solutions``, which
    ``grade`` refuses), and the loader's notes about them.

    In a notebook, the kernel's names can differ from what ``grade`` loads from the saved
    notebook: a check cell re-run after a failed attempt receives the reference it returned;
    a function may read a global that a skipped line (a training loop, a plot) set. So the
    code the kernel ran (IPython's input history) goes through the loader's selection, as a
    submission does, and runs in a fresh namespace; the functions are taken from there. Out
    of IPython (no history), or where the history does not define a name, the function
    given is used as it is.
    """
    from .loader import Scope, select_code
    names = [f.__name__ for f in functions]
    history = _kernel_history(functions)
    given = {f.__name__: f for f in functions}
    if not isinstance(history, list) or not history:
        return given, []
    notes: list[str] = []
    scope, defined, namespace = Scope(), set(), {"__name__": "__submission__"}
    for i, source in enumerate(history):
        code = select_code(f"input {i}", source, [], defined, scope) if isinstance(source, str) else None
        if not code:
            continue
        try:
            exec(compile(code, f"<input {i}>", "exec"), namespace)
        except Exception:  # noqa: BLE001 - that cell failed in the kernel as well
            continue
    scope.explain_skipped(notes, set(names))
    graded = {}
    for name, fn in given.items():
        found = namespace.get(name)
        if callable(found) and _reference(found) and name not in defined:
            graded[name] = None               # imported from solutions: grade refuses it
        else:
            graded[name] = found if callable(found) and name in defined else fn
    return graded, [n.replace("input ", "cell run ") for n in notes]


def _kernel_history(functions: tuple) -> list | None:
    """IPython's input history (``_ih``) of the kernel that calls check(), if any: from the running
    shell (a name the last check bound to the reference has the reference module's globals)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    namespace = getattr(shell, "user_ns", None)
    if namespace is None and functions:
        namespace = getattr(functions[0], "__globals__", {})
    return namespace.get("_ih") if isinstance(namespace, dict) else None


class RefusedSubject:
    """What ``grade`` makes of functions imported from ``solutions``: each call scores zero."""

    def __init__(self, names: list[str]):
        self.names = names

    def invoke(self, name: str, request) -> dict:
        return {"status": "error",
                "error": f"`{name}` is the reference solution imported from solutions, which scores zero"}


def check(*functions, seed: int = 0, **answers):
    """See :func:`autograder.check`."""
    if answers and functions:
        raise TypeError("check() takes either functions or one answer (check(name=name)), not both")
    notes: list[str] = []
    if answers:
        ex = question_of(answers)
        subject = AnswerSubject(ex, answer_in_kernel(ex, next(iter(answers.values()))))
    else:
        ex = exercise_of([f.__name__ for f in functions])
        graded, notes = as_graded(functions)
        refused = [name for name, fn in graded.items() if fn is None]
        subject = LocalSubject(graded) if not refused else RefusedSubject(refused)
    later = [t for t in ex.tests if visibility_of(t) != "visible"]       # graded, not shown before the due date
    outcomes = run_tests([t for t in ex.tests if t not in later], subject, seed)
    score, top = sum(o.score for o in outcomes), sum(o.max_score for o in outcomes)
    passed = score == top
    if not outcomes:
        lines = [f"{ex.id} {ex.title}: no test of this exercise is shown before you submit."]
    elif all(o.status == NOT_ATTEMPTED for o in outcomes):
        lines = [f"{ex.id} {ex.title}: not attempted yet (0/{top:g} points)."]
    else:
        lines = [f"{ex.id} {ex.title}: {score:g}/{top:g} points" + (" — all tests pass ✓" if passed else "")]
        for o in outcomes:
            lines.append(f"  {'✓' if o.passed else '✗'} {o.title.split(': ', 1)[-1]}")
            lines += [f"      {line}" for line in o.message.splitlines()]
    if later:
        lines.append(f"  {withheld_note(len(later), sum(t.points for t in later))}")
    if not answers:
        lines += [f"  Note: {note}" for note in notes]
    if not passed and not answers:
        lines.append("  The cells below use the reference solution until yours passes.")
    print("\n".join(lines))                     # one write: re-executed notebooks stay byte-identical
    if answers:
        return None
    chosen = tuple(graded.values()) if passed and not refused else tuple(ex.functions[f.__name__] for f in functions)
    return chosen[0] if len(chosen) == 1 else chosen
