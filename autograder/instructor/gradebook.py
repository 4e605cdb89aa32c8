"""Gradebooks: the course's CSV (one row per submission), merging shards, Canvas's import CSV.

The course's CSV has the columns ``submission``, one per exercise, ``total``, ``max_score``,
with a late policy ``deadline`` (the one applied: a student's own, from the roster, or the
class's), ``submitted``, ``days_late``, ``late_penalty`` and ``final`` (the total after the penalty), then ``seed``, ``isolation`` (how student code was isolated) and
``error``. It is what ``grade --csv`` writes and what ``merge`` reads back.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..files import write_atomic
from .report import points

LATE_COLUMNS = ("deadline", "submitted", "days_late", "late_penalty", "final")

#: Canvas's gradebook CSV: the student columns it matches rows by, then one column per assignment.
CANVAS_STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?([eE][+-]?\d+)?")


def cell(value) -> str:
    """A CSV cell that no spreadsheet reads as a formula: text beginning with ``= + - @``, a tab
    or a carriage return gets a leading ``'`` (OWASP's advice against CSV injection); numbers
    (``-0.5``, ``+2``) stay numbers."""
    text = str(value)
    if text.startswith(_FORMULA) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def uncell(text: str) -> str:
    """The text :func:`cell` neutralised, as it was."""
    return text[1:] if text.startswith("'") and text[1:2] and text[1:].startswith(_FORMULA) else text


@dataclass
class Row:
    submission: str
    scores: dict[str, float]                # exercise id -> points earned
    total: float
    max_score: float
    seed: str = ""
    error: str = ""
    late: dict[str, str] = field(default_factory=dict)    # LATE_COLUMNS -> text, if a policy applied
    isolation: str = ""                     # how the worker was isolated: bwrap | process

    @property
    def penalty(self) -> float:
        return float(self.late.get("late_penalty") or 0.0)


def rows_from_reports(reports, lateness=None) -> list[Row]:
    """One :class:`Row` per report; ``lateness``: submission -> :class:`~autograder.instructor.late.Lateness`."""
    rows = []
    for r in reports:
        late = {}
        if lateness is not None:
            info = lateness.get(r.submission)
            if info is not None:
                late = {"deadline": info.deadline.isoformat(timespec="seconds") if info.deadline else "",
                        "submitted": info.submitted.isoformat(timespec="seconds") if info.submitted else "",
                        "days_late": str(info.days), "late_penalty": points(info.penalty),
                        "final": points(info.apply(r.score))}
        rows.append(Row(r.submission, {e: s for e, (s, _m, _st) in r.by_exercise().items()}, r.score,
                        r.max_score, str(r.seed), r.error or "", late, getattr(r, "isolation", "")))
    return rows


def _exercise_columns(rows: list[Row]) -> list[str]:
    return list(dict.fromkeys(e for r in rows for e in r.scores))


def to_csv(rows: list[Row]) -> str:
    exercises = _exercise_columns(rows)
    late = any(r.late for r in rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", *exercises, "total", "max_score", *(LATE_COLUMNS if late else ()), "seed", "isolation",
                     "error"])
    for r in rows:
        writer.writerow(map(cell, [r.submission, *[points(r.scores[e]) if e in r.scores else "" for e in exercises],
                        points(r.total), points(r.max_score), *([r.late.get(c, "") for c in LATE_COLUMNS] if late else ()),
                        r.seed, r.isolation, r.error]))
    return buffer.getvalue()


def write_csv(rows: list[Row], path) -> None:
    """The course's gradebook CSV, written atomically."""
    write_atomic(path, to_csv(rows))


def read_csv(path) -> list[Row]:
    """Read a gradebook written by :func:`write_csv`.

    Raises
    ------
    ValueError
        If it is not such a gradebook.
    """
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        if not {"submission", "total", "max_score"} <= set(header):
            raise ValueError(f"{path} is not a gradebook written by `grade --csv` (columns: {', '.join(header)})")
        exercises = header[1:header.index("total")]
        rows = []
        for i, rec in enumerate(reader, 2):
            try:
                rows.append(Row(uncell(rec["submission"]), {e: float(rec[e]) for e in exercises if rec.get(e)},
                                float(rec["total"]), float(rec["max_score"]), rec.get("seed") or "",
                                uncell(rec.get("error") or ""), {c: rec[c] for c in LATE_COLUMNS if c in rec},
                                rec.get("isolation") or ""))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{path}, line {i}: {exc}") from exc
    return rows


def merge(paths) -> list[Row]:
    """Join the gradebooks of shards (``grade --shard K/N --csv ...``) into one, sorted by submission.

    Raises
    ------
    ValueError
        If a submission is in two of them, or they were graded with different seeds or exercises.
    """
    rows: list[Row] = []
    seen: dict[str, str] = {}
    columns = None
    for p in paths:
        part = read_csv(p)
        exercises = _exercise_columns(part)
        if part and columns is not None and exercises != columns:
            raise ValueError(f"{p} grades the exercises {', '.join(exercises)}, the others {', '.join(columns)}")
        columns = exercises if part else columns
        for r in part:
            if r.submission in seen:
                raise ValueError(f"{r.submission} is in both {seen[r.submission]} and {p}")
            seen[r.submission] = str(p)
        rows += part
    seeds = {r.seed for r in rows if r.seed}
    if len(seeds) > 1:
        raise ValueError(f"the gradebooks were graded with different seeds ({', '.join(sorted(seeds))}); "
                         "grade every shard with the same --seed")
    return sorted(rows, key=lambda r: r.submission)


def read_roster(path) -> dict[str, dict[str, str]]:
    """submission (path or file name) -> Canvas's student columns and ``deadline``, from a CSV with
    a ``submission`` column and any of :data:`CANVAS_STUDENT_COLUMNS` or ``deadline`` (a student's
    own deadline, ISO 8601, that replaces ``--deadline`` for them; empty: the class's).

    Raises
    ------
    ValueError
        On a roster without those columns, or a deadline that is not an ISO 8601 time.
    """
    from .late import parse_time
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        if "submission" not in header or not set(header) & {*CANVAS_STUDENT_COLUMNS[:4], "deadline"}:
            raise ValueError(f"{path}: a roster needs a 'submission' column and one of "
                             f"{', '.join(CANVAS_STUDENT_COLUMNS[:4])} or deadline")
        out = {}
        for i, rec in enumerate(reader, 2):
            deadline = (rec.get("deadline") or "").strip()
            if deadline:
                try:
                    parse_time(deadline)
                except ValueError as exc:
                    raise ValueError(f"{path}, line {i}: {exc}") from exc
            out[(rec["submission"] or "").strip()] = {**{c: rec.get(c) or "" for c in CANVAS_STUDENT_COLUMNS},
                                                      "deadline": deadline}
        return out


def roster_deadlines(roster) -> dict:
    """submission -> the student's own deadline (aware datetime), for those the roster gives one."""
    from .late import parse_time
    return {k: parse_time(v["deadline"]) for k, v in (roster or {}).items() if v.get("deadline")}


def to_canvas(rows: list[Row], exercises, *, roster=None, prefix: str = "") -> str:
    """Canvas's gradebook import CSV: the student columns, then one assignment column per exercise
    (``"<prefix>ex5_3 adam_init, adam_update"``), the second row ``Points Possible``; scores after
    any late penalty. Canvas matches a row to a student by name, ID, SIS User ID or SIS Login ID
    (from ``roster``; without one, the submission's file name stands for the student's name)."""
    ids = _exercise_columns(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(map(cell, [*CANVAS_STUDENT_COLUMNS, *[f"{prefix}{e} {exercises[e].title}" if e in exercises
                                                          else f"{prefix}{e}" for e in ids]]))
    writer.writerow(["Points Possible", "", "", "", "",
                     *[points(exercises[e].max_score) if e in exercises else "" for e in ids]])
    for r in rows:
        student = (roster or {}).get(r.submission) or (roster or {}).get(Path(r.submission).name)
        if student is None:
            student = {"Student": Path(r.submission).stem}
        keep = 1.0 - r.penalty
        writer.writerow(map(cell, [*[student.get(c, "") for c in CANVAS_STUDENT_COLUMNS],
                                   *[points(r.scores[e] * keep) if e in r.scores else "" for e in ids]]))
    return buffer.getvalue()


def write_canvas(rows: list[Row], path, exercises, *, roster=None, prefix: str = "") -> None:
    write_atomic(path, to_canvas(rows, exercises, roster=roster, prefix=prefix))
