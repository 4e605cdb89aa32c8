"""Regrading: what changed for each student since a previous grading of the same batch.

The previous grading is a folder of JSON reports (``grade --reports DIR``: per test) or a
gradebook (``grade --csv FILE``: per exercise). A submission is matched by its path, else by its
file name when only one previous submission has it. A regrade reuses what the previous grading
recorded: its exercises, its seed and each student's lateness (so the late penalty stays, without
repeating the options); it compares the scores students see (after the late penalty).
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from .gradebook import cell
from .report import points, printable, report_names


@dataclass
class Previous:
    score: float                     # what the student saw: after the late penalty, if any
    parts: dict[str, float]          # test title (from JSON reports) or exercise id (from a CSV) -> points
    seed: int | None = None
    exercises: list[str] = field(default_factory=list)    # the exercises it was graded on
    lateness: object = None          # its autograder.instructor.late.Lateness, if a late policy applied


@dataclass
class Change:
    submission: str
    old: float | None                # None: not in the previous grading
    new: float
    parts: list[tuple[str, float | None, float | None]] = field(default_factory=list)   # (test, old, new)

    @property
    def changed(self) -> bool:
        return self.old is None or abs(self.new - self.old) > 1e-9 or bool(self.parts)


def _lateness_from(late: dict | None):
    """The :class:`~autograder.instructor.late.Lateness` a report or gradebook row recorded, or None."""
    from .late import Lateness, parse_time
    if not late or late.get("days") in (None, ""):
        return None
    when = lambda t: parse_time(t) if t else None  # noqa: E731
    return Lateness(when(late.get("submitted")), late.get("source") or "previous grading", int(late["days"]),
                    float(late.get("penalty") or 0.0), when(late.get("deadline")), bool(late.get("extended")),
                    late.get("policy") or "")


def read_previous(path) -> dict[str, Previous]:
    """submission (as the previous grading named it) -> its :class:`Previous`.

    Raises
    ------
    ValueError
        If ``path`` is neither a folder of JSON reports nor a gradebook CSV.
    """
    path = Path(path)
    out: dict[str, Previous] = {}
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise ValueError(f"{path} holds no JSON report (written by grade --reports)")
        for f in files:
            try:
                doc = json.loads(f.read_text(encoding="utf-8"))
                late = doc.get("late")
                score = float(late["score_after_penalty"]) if late else float(doc["score"])
                out[doc.get("submission") or f.stem] = Previous(
                    score, {t["name"]: float(t["score"]) for t in doc["tests"]}, doc.get("seed"),
                    list(doc.get("exercises") or ()), _lateness_from(late))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{f} is not a report written by grade --reports ({exc})") from exc
        return out
    from .gradebook import read_csv
    for row in read_csv(path):
        late = {"submitted": row.late.get("submitted"), "deadline": row.late.get("deadline"),
                "days": row.late.get("days_late"), "penalty": row.late.get("late_penalty")} if row.late else None
        lateness = _lateness_from(late)
        score = float(row.late["final"]) if row.late.get("final") else row.total
        out[row.submission] = Previous(score, dict(row.scores), int(row.seed) if row.seed else None,
                                       list(row.scores), lateness)
    return out


def previous_seed(previous: dict[str, Previous]) -> int | None:
    """The seed of the previous grading, if it used one seed."""
    seeds = {p.seed for p in previous.values() if p.seed is not None}
    return seeds.pop() if len(seeds) == 1 else None


def match(previous: dict[str, Previous], submissions) -> dict[str, Previous]:
    """submission -> its previous grading: the same path, else the only previous one with its file name."""
    by_name: dict[str, list[str]] = {}
    for k in previous:
        by_name.setdefault(Path(k).name, []).append(k)
    out = {}
    for s in submissions:
        if s in previous:
            out[s] = previous[s]
        elif len(by_name.get(Path(s).name, [])) == 1:
            out[s] = previous[by_name[Path(s).name][0]]
    return out


def previous_lateness(previous: dict[str, Previous], submissions) -> dict | None:
    """submission -> the lateness the previous grading recorded for it (None: no late policy then)."""
    found = {s: p.lateness for s, p in match(previous, submissions).items() if p.lateness is not None}
    return found or None


def changes_since(previous: dict[str, Previous], reports, lateness=None) -> list[Change]:
    """One :class:`Change` per new report, in the order of ``reports``: the score the student sees
    (after the late penalty of ``lateness``, submission -> Lateness) against the previous one."""
    matched = match(previous, [r.submission for r in reports])
    names = report_names(r.submission for r in reports)
    out = []
    for r in reports:
        name = names[r.submission]
        late = (lateness or {}).get(r.submission)
        score = late.apply(r.score) if late is not None else r.score
        old = matched.get(r.submission)
        if old is None:
            out.append(Change(name, None, score))
            continue
        by_test = any(k in old.parts for k in (o.title for o in r.outcomes))
        new = ({o.title: o.score for o in r.outcomes} if by_test or not old.parts
               else {e: s for e, (s, _m, _st) in r.by_exercise().items()})
        parts = [(k, old.parts.get(k), new.get(k)) for k in dict.fromkeys([*old.parts, *new])
                 if old.parts.get(k) is None or new.get(k) is None or abs(old.parts[k] - new[k]) > 1e-9]
        out.append(Change(name, old.score, score, parts))
    return out


def _pts(x: float | None) -> str:
    return "—" if x is None else points(x)


def to_text(changes: list[Change]) -> str:
    changed = [c for c in changes if c.changed]
    lines = [f"regrade: {len(changed)} of {len(changes)} submission(s) changed"]
    for c in changed:
        delta = "" if c.old is None else f" ({c.new - c.old:+g})"
        lines.append(f"  {printable(c.submission)}: {_pts(c.old)} -> {_pts(c.new)}{delta}"
                     + (" (not in the previous grading)" if c.old is None else ""))
        lines += [f"      {printable(name)}: {_pts(a)} -> {_pts(b)}" for name, a, b in c.parts]
    return "\n".join(lines)


def to_csv(changes: list[Change]) -> str:
    """One row per submission: ``submission, old_score, new_score, change, changed_tests``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", "old_score", "new_score", "change", "changed_tests"])
    for c in changes:
        writer.writerow(map(cell, [c.submission, "" if c.old is None else _pts(c.old), _pts(c.new),
                                   "" if c.old is None else f"{c.new - c.old:+g}",
                                   "; ".join(f"{n}: {_pts(a)} -> {_pts(b)}" for n, a, b in c.parts)]))
    return buffer.getvalue()
