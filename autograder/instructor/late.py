"""Late submissions: a deadline, a grace period, a penalty per late day and a cap.

A submission handed in ``d`` after its deadline, with ``d > grace``, is late by
``ceil((d - grace) / 1 day)`` days (a day started counts) and loses ``min(cap, per_day * days)``
of the points it earned (so a late score never goes below zero). Its time is taken from a
CSV of submission times (columns ``submission``, ``time``; the submission matched by path
or by file name) or, failing that, from the file's modification time (a folder's newest
file). A student's own deadline (an extension: the roster's ``deadline`` column) replaces
the class's for that student; the grace, penalty and cap stay the class's.
"""
from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (``2026-12-01T23:59``, ``2026-12-01 23:59:00+01:00``, ``...Z``);
    without an offset, the machine's local time."""
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 time (e.g. 2026-12-01T23:59+01:00): {text!r}") from exc
    return t if t.tzinfo else t.astimezone()


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``2h``, ``1d`` (a bare number is minutes)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not m:
        raise ValueError(f"not a duration like 15m, 2h or 1d: {text!r}")
    return timedelta(seconds=float(m[1]) * _UNITS[m[2] or "m"])


def parse_fraction(text: str) -> float:
    """``10%`` or ``0.1`` -> 0.1, between 0 and 1."""
    t = text.strip()
    try:
        value = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError as exc:
        raise ValueError(f"not a fraction like 10% or 0.1: {text!r}") from exc
    if not 0 <= value <= 1:
        raise ValueError(f"a fraction between 0% and 100%, not {text!r}")
    return value


@dataclass(frozen=True)
class Lateness:
    """How late one submission is, and what it costs."""

    submitted: datetime | None     # None: its time is unknown (no penalty)
    source: str                    # "file time" | "times CSV" | "unknown"
    days: int
    penalty: float                 # fraction of the points earned that is lost
    deadline: datetime | None = None   # the deadline applied to this submission
    extended: bool = False             # a deadline of the student's own (the roster's), not the class's
    policy: str = ""                   # the policy applied, in words (LatePolicy.describe)

    def apply(self, score: float) -> float:
        return score * (1.0 - self.penalty)

    def describe(self) -> str:
        own = (f" (your deadline: {self.deadline.isoformat(timespec='minutes')})"
               if self.extended and self.deadline is not None else "")
        if self.submitted is None:
            return f"submission time unknown: no late penalty applied{own}"
        when = self.submitted.isoformat(timespec="minutes")
        if not self.days:
            return f"submitted {when} ({self.source}): on time{own}"
        return (f"submitted {when} ({self.source}): {self.days} day{'s' if self.days != 1 else ''} late{own}, "
                f"{self.penalty:.0%} of the points deducted")


@dataclass(frozen=True)
class LatePolicy:
    """Parameters
    ----------
    deadline : datetime
        Timezone-aware.
    grace : timedelta
        Submissions up to this long after the deadline are on time.
    per_day : float
        Fraction of the earned points lost per late day (a day started counts).
    cap : float
        At most this fraction is lost (1: a very late submission gets 0).
    """

    deadline: datetime
    grace: timedelta = timedelta(0)
    per_day: float = 0.0
    cap: float = 1.0

    def lateness(self, submitted: datetime | None, source: str = "file time",
                 deadline: datetime | None = None) -> Lateness:
        """How late ``submitted`` is against ``deadline`` (a student's own), else the policy's."""
        own = deadline if deadline is not None else self.deadline
        extended = deadline is not None and deadline != self.deadline
        if submitted is None:
            return Lateness(None, "unknown", 0, 0.0, own, extended, self.describe())
        over = (submitted - own - self.grace).total_seconds()
        days = math.ceil(over / 86400) if over > 0 else 0
        return Lateness(submitted, source, days, min(self.cap, self.per_day * days), own, extended, self.describe())

    def describe(self) -> str:
        return (f"deadline {self.deadline.isoformat(timespec='minutes')}, grace {self.grace}, "
                f"{self.per_day:.0%} per late day, at most {self.cap:.0%}")


def file_time(path) -> datetime:
    """The modification time of a file, or of the newest file in a folder (aware, UTC)."""
    path = Path(path)
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    stamp = max((p.stat().st_mtime for p in files), default=path.stat().st_mtime)
    return datetime.fromtimestamp(stamp, timezone.utc)


def read_times(path) -> dict[str, datetime]:
    """A CSV of submission times: columns ``submission`` and ``time`` (ISO 8601)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if rows and not {"submission", "time"} <= set(rows[0]):
        raise ValueError(f"{path}: needs the columns 'submission' and 'time', has {', '.join(rows[0])}")
    out = {}
    for i, row in enumerate(rows, 2):
        try:
            out[row["submission"].strip()] = parse_time(row["time"])
        except ValueError as exc:
            raise ValueError(f"{path}, line {i}: {exc}") from exc
    return out


def lateness_of(paths, policy: LatePolicy, times: dict[str, datetime] | None = None,
                deadlines: dict[str, datetime] | None = None) -> dict[str, Lateness]:
    """submission path -> its :class:`Lateness` (times from ``times`` by path or name, else the file;
    ``deadlines``: a student's own deadline by path or name, else the policy's)."""
    out = {}
    deadlines = deadlines or {}
    for p in map(str, paths):
        own = deadlines.get(p, deadlines.get(Path(p).name))
        if times is not None:
            t = times.get(p, times.get(Path(p).name))
            out[p] = policy.lateness(t, "times CSV", own)
        else:
            try:
                out[p] = policy.lateness(file_time(p), "file time", own)
            except OSError:
                out[p] = policy.lateness(None, deadline=own)
    return out
