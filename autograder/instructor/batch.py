"""Grading many submissions: deterministic shards, parallel jobs, a progress bar, a CSV gradebook."""
from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from ..framework import load_exercises, select
from ..grade import Report, failed_report, grade_submission
from ..sandbox.limits import Limits
from ..engine.visibility import label


def shard(paths: list[str], k: int, n: int) -> list[str]:
    """The ``k``-th (1-based) of ``n`` deterministic slices of a class: every ``n``-th
    submission in sorted order, so the slices are disjoint, cover the class, and do not
    depend on the order the paths were given in."""
    if not 1 <= k <= n:
        raise ValueError(f"--shard K/N needs 1 <= K <= N, not {k}/{n}")
    return sorted(paths)[k - 1::n]


def chapters_of(paths: list[str], exercises) -> dict[str, list[str]]:
    """Each submission's own exercises: the chapters whose exercise functions it defines
    itself (``ex5_*``; names it imports from ``solutions`` are not its definitions). A
    submission that defines none (an empty file, a broken notebook) gets the chapters of
    the rest of the class — every chapter if nobody defines any — so a student who uploads
    another chapter's notebook changes nobody else's grade."""
    from ..loader import SubmissionError, read_submission
    own: dict[str, list[str]] = {}
    for p in paths:
        try:
            names = read_submission(p).defined
        except (SubmissionError, OSError):
            names = set()
        own[p] = [f"ex{c}_*" for c in sorted({ex.chapter for ex in exercises.values() if names & set(ex.functions)})]
    rest = sorted({pattern for patterns in own.values() for pattern in patterns}, key=lambda x: int(x[2:-2]))
    return {p: patterns or rest or ["ex*"] for p, patterns in own.items()}


def _bind_job(counter, jobs: int) -> None:
    """A batch job's first act: take a CPU of its own (the ``k``-th job the ``k``-th CPU), when
    there are CPUs enough for every job; see :func:`autograder.sandbox.cpus.one_cpu`."""
    with counter.get_lock():
        k = counter.value
        counter.value += 1
    try:
        allowed = sorted(os.sched_getaffinity(0))
        if jobs <= len(allowed):
            os.sched_setaffinity(0, {allowed[k % len(allowed)]})
    except (AttributeError, OSError):
        pass


def _grade_one(args) -> Report:
    path, patterns, seed, limits, visibility = args
    exercises = select(load_exercises(), patterns)
    try:
        report = grade_submission(path, exercises, seed=seed, limits=limits)
    except Exception as exc:  # noqa: BLE001 - a grader bug must not stop the batch; it is reported
        report = failed_report(path, exercises, seed, f"internal grader error ({type(exc).__name__}: {exc})")
    label(report, exercises, visibility)
    return report


class Progress:
    """A one-line progress bar on a terminal, one line per submission otherwise."""

    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.done, self.stream, self.start = total, 0, stream, time.monotonic()
        self.tty = getattr(stream, "isatty", lambda: False)()

    def update(self, report: Report) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        from .report import printable          # a file name or an error must not drive the terminal
        name = printable(Path(report.submission).name)
        if self.tty:
            width = 30
            filled = int(width * self.done / self.total)
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                              f"{elapsed:.0f}s elapsed, ~{eta:.0f}s left  {name[:30]:<30}")
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"[{self.done}/{self.total}] {name}: {report.score:g}/{report.max_score:g}"
                              + (f" ({printable(report.error)})" if report.error else "") + "\n")
        self.stream.flush()


def grade_many(paths: list[str], patterns, *, seed: int, jobs: int = 1, limits: Limits = Limits(),
               progress: Progress | None = None, visibility=()) -> list[Report]:
    """Grade every submission, ``jobs`` at a time; reports come back in the order of ``paths``.
    ``patterns``: the exercises of every submission (globs), or a dict submission -> its own
    (see :func:`chapters_of`). ``visibility``: overrides from :func:`autograder.engine.visibility.parse_overrides`."""
    work = [(p, patterns[p] if isinstance(patterns, dict) else patterns, seed, limits, tuple(visibility))
            for p in paths]
    reports: list[Report | None] = [None] * len(work)
    if jobs <= 1:
        for i, item in enumerate(work):
            reports[i] = _grade_one(item)
            if progress:
                progress.update(reports[i])
        return reports
    context = get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_bind_job,
                             initargs=(context.Value("i", 0), jobs)) as pool:
        futures = {pool.submit(_grade_one, item): i for i, item in enumerate(work)}
        for future in as_completed(futures):
            i = futures[future]
            try:
                reports[i] = future.result()
            except Exception as exc:  # noqa: BLE001 - the grading process itself died
                exercises = select(load_exercises(), work[i][1])
                reports[i] = failed_report(work[i][0], exercises, seed, f"the grading process died: {exc}")
                label(reports[i], exercises, visibility)
            if progress:
                progress.update(reports[i])
    return reports


def write_csv(reports: list[Report], path: str | Path, lateness=None) -> None:
    """The course's gradebook CSV (see :mod:`autograder.instructor.gradebook`), written atomically."""
    from .gradebook import rows_from_reports, write_csv as write_rows
    write_rows(rows_from_reports(reports, lateness), path)
