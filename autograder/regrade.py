"""Regrading: what changed for each student since a previous grading of the same batch.

The previous grading is a folder of JSON reports (``grade --reports DIR``: per test) or a
gradebook (``grade --csv FILE``: per exercise). Submissions are matched by file name.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from .report import points


@dataclass
class Previous:
    score: float
    parts: dict[str, float]          # test title (from JSON reports) or exercise id (from a CSV) -> points
    seed: int | None = None


@dataclass
class Change:
    submission: str
    old: float | None                # None: not in the previous grading
    new: float
    parts: list[tuple[str, float | None, float | None]] = field(default_factory=list)   # (test, old, new)

    @property
    def changed(self) -> bool:
        return self.old is None or abs(self.new - self.old) > 1e-9 or bool(self.parts)


def read_previous(path) -> dict[str, Previous]:
    """file name of the submission -> its previous :class:`Previous`.

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
                name = Path(doc.get("submission") or f.stem).name
                out[name] = Previous(float(doc["score"]), {t["name"]: float(t["score"]) for t in doc["tests"]},
                                     doc.get("seed"))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{f} is not a report written by grade --reports ({exc})") from exc
        return out
    from .gradebook import read_csv
    for row in read_csv(path):
        out[Path(row.submission).name] = Previous(row.total, dict(row.scores), int(row.seed) if row.seed else None)
    return out


def previous_seed(previous: dict[str, Previous]) -> int | None:
    """The seed of the previous grading, if it used one seed."""
    seeds = {p.seed for p in previous.values() if p.seed is not None}
    return seeds.pop() if len(seeds) == 1 else None


def changes_since(previous: dict[str, Previous], reports) -> list[Change]:
    """One :class:`Change` per new report, in the order of ``reports``."""
    out = []
    for r in reports:
        name = Path(r.submission).name
        old = previous.get(name)
        if old is None:
            out.append(Change(name, None, r.score))
            continue
        by_test = any(k in old.parts for k in (o.title for o in r.outcomes))
        new = ({o.title: o.score for o in r.outcomes} if by_test or not old.parts
               else {e: s for e, (s, _m, _st) in r.by_exercise().items()})
        parts = [(k, old.parts.get(k), new.get(k)) for k in dict.fromkeys([*old.parts, *new])
                 if old.parts.get(k) is None or new.get(k) is None or abs(old.parts[k] - new[k]) > 1e-9]
        out.append(Change(name, old.score, r.score, parts))
    return out


def _pts(x: float | None) -> str:
    return "—" if x is None else points(x)


def to_text(changes: list[Change]) -> str:
    changed = [c for c in changes if c.changed]
    lines = [f"regrade: {len(changed)} of {len(changes)} submission(s) changed"]
    for c in changed:
        delta = "" if c.old is None else f" ({c.new - c.old:+g})"
        lines.append(f"  {c.submission}: {_pts(c.old)} -> {_pts(c.new)}{delta}"
                     + (" (not in the previous grading)" if c.old is None else ""))
        lines += [f"      {name}: {_pts(a)} -> {_pts(b)}" for name, a, b in c.parts]
    return "\n".join(lines)


def to_csv(changes: list[Change]) -> str:
    """One row per submission: ``submission, old_score, new_score, change, changed_tests``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", "old_score", "new_score", "change", "changed_tests"])
    for c in changes:
        writer.writerow([c.submission, "" if c.old is None else _pts(c.old), _pts(c.new),
                         "" if c.old is None else f"{c.new - c.old:+g}",
                         "; ".join(f"{n}: {_pts(a)} -> {_pts(b)}" for n, a, b in c.parts)])
    return buffer.getvalue()
