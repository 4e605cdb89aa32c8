"""Reports: text for people, JSON in the shape of Gradescope's ``results.json``."""
from __future__ import annotations

import json

from .grade import Report


def to_results(report: Report, *, extended: bool = True) -> dict:
    """The report as Gradescope's results.json (``score``, ``tests`` with ``name``, ``score``,
    ``max_score``, ``status``, ``output``); ``extended`` adds ``max_score``, the seed,
    per-exercise totals and notes."""
    header = [f"Seed {report.seed} (reproduce with --seed {report.seed})."]
    if report.error:
        header.append(f"The submission could not be graded: {report.error}")
    header += [f"Note: {n}" for n in report.notes]
    results = {
        "score": round(report.score, 4),
        "execution_time": round(report.seconds, 2),
        "output": "\n".join(header),
        "tests": [{"name": o.title, "score": o.score, "max_score": o.max_score,
                   "status": "passed" if o.passed else "failed",
                   "output": o.message or "passed", "visibility": "visible"} for o in report.outcomes],
    }
    if extended:
        results.update({
            "max_score": report.max_score,
            "submission": report.submission,
            "seed": report.seed,
            "exercises": {ex: {"score": s, "max_score": m, "status": st}
                          for ex, (s, m, st) in report.by_exercise().items()},
            "notes": report.notes,
        })
    return results


def to_json(report: Report, *, extended: bool = True) -> str:
    return json.dumps(to_results(report, extended=extended), indent=2, ensure_ascii=False)


def _points(x: float) -> str:
    return f"{x:g}"


def to_text(report: Report) -> str:
    """A readable report: one line per exercise, the failed tests with their feedback."""
    lines = [f"{report.submission}: {_points(report.score)}/{_points(report.max_score)} points "
             f"(seed {report.seed}, {report.seconds:.1f} s)"]
    if report.error:
        lines.append(f"  could not be graded: {report.error}")
    for note in report.notes:
        lines.append(f"  note: {note}")
    for ex, (score, top, status) in report.by_exercise().items():
        mark = {"passed": "✓", "not attempted": "·"}.get(status, "✗")
        outcomes = [o for o in report.outcomes if o.exercise == ex]
        title = outcomes[0].title.split(":")[0] if outcomes else ex
        lines.append(f"{mark} {title}: {_points(score)}/{_points(top)}" + (f" ({status})" if status != "passed" else ""))
        if status == "not attempted":
            continue
        for o in outcomes:
            if not o.passed:
                lines.append(f"    ✗ {o.title.split(': ', 1)[-1]} ({_points(o.max_score)} pt)")
                lines += [f"      {line}" for line in o.message.splitlines()]
    return "\n".join(lines)
