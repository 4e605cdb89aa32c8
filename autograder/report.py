"""Reports: text for people, JSON in the shape of Gradescope's ``results.json``."""
from __future__ import annotations

import json

from .grade import Report
from .registry import NOT_ATTEMPTED, PASSED
from .visibility import schedule_note


def to_results(report: Report, *, extended: bool = True, lateness=None) -> dict:
    """The report as Gradescope's results.json (``score``, ``tests`` with ``name``, ``score``,
    ``max_score``, ``status``, ``output``, ``visibility``); ``extended`` adds ``max_score``, the seed,
    per-exercise totals, notes and, with ``lateness`` (:class:`~autograder.policy.Lateness`),
    the late penalty and the score after it."""
    header = [f"Seed {report.seed} (reproduce with --seed {report.seed})."]
    if report.isolation:
        header.append(f"Isolation: {report.isolation_detail or report.isolation}.")
    if report.error:
        header.append(f"The submission could not be graded: {report.error}")
    header += [f"Note: {n}" for n in report.notes]
    later = schedule_note(report.outcomes)
    if later:
        header.append(f"Not every test is shown yet: {later}")
    if lateness is not None:
        header.append(f"Late policy: {lateness.describe()}.")
    results = {
        "score": round(report.score, 4),
        "execution_time": round(report.seconds, 2),
        "output": "\n".join(header),
        "tests": [{"name": o.title, "score": o.score, "max_score": o.max_score,
                   "status": "passed" if o.passed else "failed",
                   "output": o.message or "passed", "visibility": o.visibility} for o in report.outcomes],
    }
    if extended:
        results.update({
            "max_score": report.max_score,
            "submission": report.submission,
            "seed": report.seed,
            "isolation": report.isolation,
            "isolation_detail": report.isolation_detail,
            "exercises": {ex: {"score": s, "max_score": m, "status": st}
                          for ex, (s, m, st) in report.by_exercise().items()},
            "notes": report.notes,
        })
        if lateness is not None:
            results["late"] = {"submitted": lateness.submitted.isoformat() if lateness.submitted else None,
                               "source": lateness.source, "days": lateness.days, "penalty": lateness.penalty,
                               "score_after_penalty": round(lateness.apply(report.score), 4)}
    return results


def to_json(report: Report, *, extended: bool = True, lateness=None) -> str:
    return json.dumps(to_results(report, extended=extended, lateness=lateness), indent=2, ensure_ascii=False)


def points(x: float) -> str:
    """Points as people write them: ``7``, ``2.5``, ``0.3333``."""
    return f"{round(x, 4):g}"


def to_text(report: Report, lateness=None) -> str:
    """A readable report for the instructor: one line per exercise, the failed tests with their
    feedback (tests not visible to students marked with their visibility)."""
    lines = [f"{report.submission}: {points(report.score)}/{points(report.max_score)} points "
             f"(seed {report.seed}, {report.seconds:.1f} s"
             + (f", isolation {report.isolation})" if report.isolation else ")")]
    if lateness is not None:
        lines.append(f"  late policy: {lateness.describe()}"
                     + (f"; {points(lateness.apply(report.score))} after the penalty" if lateness.days else ""))
    if report.error:
        lines.append(f"  could not be graded: {report.error}")
    for note in report.notes:
        lines.append(f"  note: {note}")
    for ex, (score, top, status) in report.by_exercise().items():
        mark = {PASSED: "✓", NOT_ATTEMPTED: "·"}.get(status, "✗")
        outcomes = [o for o in report.outcomes if o.exercise == ex]
        title = outcomes[0].title.split(":")[0] if outcomes else ex
        lines.append(f"{mark} {title}: {points(score)}/{points(top)}" + (f" ({status})" if status != PASSED else ""))
        if status == NOT_ATTEMPTED:
            continue
        for o in outcomes:
            if not o.passed:
                tag = "" if o.visibility == "visible" else f" [{o.visibility}]"
                lines.append(f"    ✗ {o.title.split(': ', 1)[-1]} ({points(o.max_score)} pt){tag}")
                lines += [f"      {line}" for line in o.message.splitlines()]
    return "\n".join(lines)
