"""Grading one submission: read it, run each exercise's tests against a worker, report."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .engine.diagnosis import run_exercise
from .loader import SubmissionError, read_submission, sources_by_file
from .engine.questions import Question
from .engine.registry import EXERCISES, FAILED, NOT_ATTEMPTED, PARTIAL, PASSED, Exercise, Outcome
from .sandbox.refusals import Refusals
from .sandbox.cpus import one_cpu
from .sandbox.limits import Limits
from .sandbox.subject import WorkerSubject


@dataclass
class Report:
    """Everything a grading run found about one submission."""

    submission: str
    seed: int
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None          # the submission could not be graded at all
    seconds: float = 0.0
    exercises: list[str] = field(default_factory=list)
    isolation: str = ""               # the worker's isolation: bwrap | process ("" if no worker ran)
    isolation_detail: str = ""        # what that isolation held, in words

    @property
    def score(self) -> float:
        return sum(o.score for o in self.outcomes)

    @property
    def max_score(self) -> float:
        return sum(o.max_score for o in self.outcomes)

    def by_exercise(self) -> dict[str, tuple[float, float, str]]:
        """exercise id -> (score, max score, status: passed | partial | failed | not attempted)."""
        out: dict[str, tuple[float, float, str]] = {}
        for ex in self.exercises:
            mine = [o for o in self.outcomes if o.exercise == ex]
            score, top = sum(o.score for o in mine), sum(o.max_score for o in mine)
            if mine and all(o.status == NOT_ATTEMPTED for o in mine):
                status = NOT_ATTEMPTED
            else:
                status = PASSED if mine and score == top else PARTIAL if score > 0 else FAILED
            out[ex] = (score, top, status)
        return out


def _zero(ex: Exercise, message: str) -> list[Outcome]:
    return [Outcome(ex.id, t.title, 0.0, t.points, FAILED, message) for t in ex.tests]


def answered_file(by_file: list[list[str]], q: Question) -> list[str] | None:
    """Of a folder's files (``by_file``: each file's code cells, in name order), the sources of
    the last file that answers ``q`` (an untouched copy of the lesson beside it, whose answer is
    still ``None``, does not shadow it); None for a single file, or when no file answers."""
    from .engine.questions import ANSWERED, read_answer
    if len(by_file) < 2:
        return None
    found = None
    for sources in by_file:
        if read_answer(sources, q.name, q.choices).status == ANSWERED:
            found = sources
    return found


def lesson_imports(ex: Exercise, status: dict[str, str], defined: set[str]) -> str | None:
    """Why ``ex`` is not attempted when the submission only imports its functions from ``solutions``
    the way a later chapter's lesson does (chapter 5's setup cell imports chapter 4's
    ``momentum_init``): those are the lesson's names, not the student's — no accusation. None
    otherwise (an exercise of the submission's own chapter imported from solutions scores zero
    as the reference)."""
    imported = [name for name in ex.functions if status.get(name) == "reference"]
    own = {other.chapter for other in EXERCISES.values() if defined & set(other.functions)}
    if not imported or not own or ex.chapter >= min(own):
        return None
    names = ", ".join(f"`{name}`" for name in imported)
    return (f"not attempted: {names} is imported from solutions, as the lesson of chapter {min(own)} does "
            "(the reference of an earlier chapter), not defined by your code")


def refusals(exercises: dict[str, Exercise]) -> Refusals:
    """The reference functions of ``exercises`` (every registered one) that the worker may not
    have the grader run for it. While the submission loads: every exercise's function, the
    questions' answers included (no answer may come back at load time). While exercise ``ex``
    is graded: every function of its chapter and of the later ones (see
    :mod:`autograder.sandbox.served`), and every question's answer (a question is answered by a
    literal, never built on)."""
    at_load = {n: f for ex in exercises.values() for n, f in getattr(ex, "functions", {}).items()}
    by_exercise = {ex.id: {n: f for other in exercises.values()
                           if other.chapter >= ex.chapter or isinstance(other, Question)
                           for n, f in getattr(other, "functions", {}).items()}
                   for ex in exercises.values()}
    return Refusals(at_load, by_exercise)


def failed_report(path, exercises: dict[str, Exercise], seed: int, error: str, seconds: float = 0.0) -> Report:
    """A report of zeros for a submission that could not be graded, with the reason."""
    report = Report(str(path), seed, exercises=list(exercises), error=error, seconds=seconds)
    for ex in exercises.values():
        report.outcomes += _zero(ex, error)
    return report


def grade_submission(path: str | Path, exercises: dict[str, Exercise], *, seed: int,
                     limits: Limits = Limits()) -> Report:
    """Grade one submission on ``exercises``; never raises for anything the submission does."""
    start = time.monotonic()
    report = Report(str(path), seed, exercises=list(exercises))
    try:
        sub = read_submission(path, {name for ex in EXERCISES.values() for name in ex.functions})
    except SubmissionError as exc:
        return failed_report(path, exercises, seed, f"the submission could not be read: {exc}",
                             time.monotonic() - start)
    report.notes += sub.notes
    graded = {name: ex.module for ex in exercises.values() if not isinstance(ex, Question)
              for name in ex.functions}
    if graded and not sub.defined & set(graded):
        report.notes.append("no exercise function is defined in the submission "
                            f"(looked for {', '.join(sorted(graded))})")
    with one_cpu(), WorkerSubject(sub.cells, graded, limits, refusals=refusals(EXERCISES)) as worker:
        report.isolation, report.isolation_detail = worker.isolation.kind, worker.isolation.detail
        worker.start()
        if worker.load_failure:
            report.notes.append(f"loading the submission failed: {worker.load_failure}")
        report.notes += [f"{e} (its definitions may be missing)" for e in worker.load_errors]
        try:                                    # the files are read once, not once per question
            by_file = sources_by_file(path) if any(isinstance(ex, Question) for ex in exercises.values()) else []
        except SubmissionError:                 # read once already: only a file changed meanwhile
            by_file = [[code for _, _, code in sub.cells]]
        sources = [code for cells in by_file for code in cells]
        for ex in exercises.values():
            if isinstance(ex, Question):        # a literal answer, read here: no code of it runs
                report.outcomes += run_exercise(ex, ex.subject_from(answered_file(by_file, ex) or sources), seed)
                continue
            imported = lesson_imports(ex, getattr(worker, "functions", {}), sub.defined)
            if imported:
                report.outcomes += [Outcome(ex.id, t.title, 0.0, t.points, NOT_ATTEMPTED, imported) for t in ex.tests]
                continue
            worker.begin_exercise(ex.id)
            if worker.failure:
                report.outcomes += _zero(ex, f"your code could not be loaded: {worker.failure}")
                continue
            report.outcomes += run_exercise(ex, worker, seed)
            printed, text = worker.printed()
            if printed:
                shown = text[:500] + ("…" if printed > 500 else "")
                report.notes.append(f"{ex.id}: your code printed {printed} bytes while graded: {shown!r}")
    report.seconds = time.monotonic() - start
    return report
