"""Reports: text for people, JSON in the shape of Gradescope's ``results.json``."""
from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

from ..grade import Report
from ..engine.registry import NOT_ATTEMPTED, PASSED
from ..engine.visibility import schedule_note


def to_results(report: Report, *, extended: bool = True, lateness=None) -> dict:
    """The report as Gradescope's results.json (``score``, ``tests`` with ``name``, ``score``,
    ``max_score``, ``status``, ``output``, ``visibility``); ``extended`` adds ``max_score``, the seed,
    per-exercise totals, notes and, with ``lateness`` (:class:`~autograder.instructor.late.Lateness`),
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
        # Gradescope renders output as "simple_format" (some HTML) by default: a student's own code
        # and values in the feedback must show as written, so every output is plain text.
        "output_format": "text",
        "test_output_format": "text",
        "tests": [{"name": o.title, "score": o.score, "max_score": o.max_score,
                   "status": "passed" if o.passed else "failed",
                   "output": _output(report, o), "visibility": o.visibility} for o in report.outcomes],
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
                               "deadline": lateness.deadline.isoformat() if lateness.deadline else None,
                               "extended": lateness.extended, "policy": lateness.policy, "source": lateness.source, "days": lateness.days, "penalty": lateness.penalty,
                               "score_after_penalty": round(lateness.apply(report.score), 4)}
    return results


def _output(report: Report, o) -> str:
    """A test's output: its feedback, short when it is the submission's error (said once, in the
    top-level output, as the text and HTML reports do)."""
    if report.error and o.message == report.error:
        return "not graded: the submission could not be graded (the reason is above)"
    return o.message or "passed"


def to_json(report: Report, *, extended: bool = True, lateness=None) -> str:
    return json.dumps(to_results(report, extended=extended, lateness=lateness), indent=2, ensure_ascii=False)


def printable(text: str, *, newlines: bool = False) -> str:
    """``text`` safe for a terminal: control characters (escape sequences, carriage returns),
    invisible format characters (bidirectional overrides) and line separators written as
    escapes (``\\x1b``, ``\\u202e``); ``newlines`` keeps ``\\n`` as a line break."""
    out = []
    for ch in str(text):
        if ch == "\n" and newlines:
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch != "\t":
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def report_names(submissions) -> dict[str, str]:
    """submission -> the base name of its report files in ``--reports`` (``NAME.json``, ``NAME.html``).

    The submission's file name (``bob.py``), unless another submission of the batch has the same
    one: then as many of its folders as it takes to tell them apart, joined by ``__``
    (``alice__submission.py``, ``bob__submission.py``), so reports never overwrite each other and
    a submission's name does not depend on the order of the batch.
    """
    paths = {s: Path(os.path.normpath(s)).parts for s in dict.fromkeys(map(str, submissions))}
    names = {}
    for s, parts in paths.items():
        parts = [p for p in parts if p not in ("/", "..", ".")] or ["submission"]
        for k in range(1, len(parts) + 1):
            tail = parts[-k:]
            if all(list(o[-k:]) != tail for t, o in paths.items() if t != s and o[-1:] == tuple(parts[-1:])):
                break
        names[s] = "__".join(tail)
    seen: dict[str, int] = {}
    for s in sorted(names, key=lambda s: (names[s], s)):     # a name made of folders that is also a file's
        n = seen[names[s]] = seen.get(names[s], 0) + 1
        if n > 1:
            names[s] = f"{names[s]}~{n}"
    return names


def points(x: float) -> str:
    """Points as people write them: ``7``, ``2.5``, ``0.3333``."""
    return f"{round(x, 4):g}"


def to_text(report: Report, lateness=None) -> str:
    """A readable report for the instructor: one line per exercise, the failed tests with their
    feedback (tests not visible to students marked with their visibility)."""
    lines = [f"{printable(report.submission)}: {points(report.score)}/{points(report.max_score)} points "
             f"(seed {report.seed}, {report.seconds:.1f} s"
             + (f", isolation {report.isolation})" if report.isolation else ")")]
    if lateness is not None:
        lines.append(f"  late policy: {lateness.describe()}"
                     + (f"; {points(lateness.apply(report.score))} after the penalty" if lateness.days else ""))
    if report.error:
        lines.append(f"  could not be graded: {printable(report.error)}")
    for note in report.notes:
        lines.append(f"  note: {printable(note)}")
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
                if report.error and o.message == report.error:
                    continue                    # said once above, not once per test
                lines += [f"      {line}" for line in printable(o.message, newlines=True).split("\n")]
    return "\n".join(lines)
