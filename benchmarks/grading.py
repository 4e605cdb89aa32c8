"""How fast the autograder grades: one submission, a class in batch, a lesson, a ``check()``.

    python benchmarks/grading.py [--n 20] [--repeat 3] [--jobs 1 2] [--lessons lessons/]
                                 [--isolation auto|bwrap|process]

Measures, on the lessons that exist (each one's stubs filled in with the reference by
:func:`autograder.lessons.solved_notebook`), with the isolation that grades here:

* a solved chapter 1–2 submission (the issue's first goal: ≤ 0.65 s): the median wall
  time of ``--repeat`` runs, and the CPU seconds of the grader and (with ``process``
  isolation, whose worker is the grader's own child) of the worker;
* one complete submission (a folder with every solved lesson, every exercise graded
  through the sandboxed worker): the median of ``--repeat`` runs, and where its time goes
  (round trips to the worker, exercises, CPU of the grader and of the exercises' children);
* a batch of ``--n`` copies of it through :func:`autograder.instructor.batch.grade_many` with each
  ``--jobs`` value: seconds, submissions per second, speed-up over the first;
* one untouched lesson (every exercise "not attempted"): the median of ``--repeat`` runs,
  and how much of it is starting the worker and running the lesson's imports;
* :func:`autograder.check` (the in-process ``LocalSubject`` grading of a lesson's check
  cell) on the reference of every exercise: the median over runs, per exercise.

It prints figures only; times depend on the machine and its load (printed with them: on a
shared machine, the CPU seconds are the steadier figure).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from autograder.instructor.batch import grade_many  # noqa: E402
from autograder.feedback import check  # noqa: E402
from autograder.framework import load_exercises  # noqa: E402
from autograder.grade import grade_submission, refusals  # noqa: E402
from autograder.lessons import solved_notebook  # noqa: E402
from autograder.loader import read_submission  # noqa: E402
from autograder.sandbox.bubblewrap import ISOLATIONS, resolve_isolation  # noqa: E402
from autograder.sandbox.conversation import TOTALS  # noqa: E402
from autograder.sandbox.limits import Limits  # noqa: E402
from autograder.sandbox.subject import WorkerSubject  # noqa: E402


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def timed_cpu(fn, repeat: int) -> tuple[float, float, float, object]:
    """Medians of wall time, grader CPU and child-process CPU over ``repeat`` calls, and the last result."""
    rows, result = [], None
    for _ in range(repeat):
        (own, kids), start = _cpu(), time.perf_counter()
        result = fn()
        wall = time.perf_counter() - start
        own2, kids2 = _cpu()
        rows.append((wall, own2 - own, kids2 - kids))
    return (*(statistics.median(r[i] for r in rows) for i in range(3)), result)


def timed(fn, repeat: int) -> tuple[float, object]:
    """The median wall-clock time of ``repeat`` calls of ``fn()``, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def lessons_with_exercises(folder: Path, exercises) -> dict[int, Path]:
    """chapter -> lesson notebook, for the chapters that have both a lesson and graded exercises."""
    chapters = {ex.chapter for ex in exercises.values()}
    found = {int(p.name[:2]): p for p in sorted(folder.glob("[0-9][0-9]_*.ipynb"))}
    return {c: p for c, p in found.items() if c in chapters}


def start_worker(cells, graded, limits=Limits()) -> None:
    """Start a worker on ``cells`` (it runs their imports and definitions) and stop it."""
    names = {name: ex.module for ex in graded.values() for name in ex.functions}
    with WorkerSubject(cells, names, limits, refusals=refusals(load_exercises())) as worker:
        worker.start()


def write_complete_submission(folder: Path, lessons: dict[int, Path], exercises) -> Path:
    folder.mkdir(parents=True)
    for path in lessons.values():
        nb = solved_notebook(path, exercises)
        (folder / path.name).write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return folder


def row(*cells, widths=(28, 10, 16, 10)) -> str:
    return "  ".join(f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(cells, widths)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20, help="submissions in the batch (default 20)")
    parser.add_argument("--repeat", type=int, default=3, help="runs whose median is reported (default 3)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="--jobs values of the batch")
    parser.add_argument("--lessons", type=Path, default=ROOT / "lessons", help="folder of the lessons")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--isolation", choices=ISOLATIONS, default="auto")
    args = parser.parse_args(argv)
    limits = Limits(isolation=args.isolation)
    isolation = resolve_isolation(args.isolation)

    exercises = load_exercises()
    lessons = lessons_with_exercises(args.lessons, exercises)
    if not lessons:
        print(f"no lesson in {args.lessons} has graded exercises yet: nothing to measure")
        return 0
    graded = {k: ex for k, ex in exercises.items() if ex.chapter in lessons}
    missing = sorted(k for k, ex in exercises.items() if ex.chapter not in lessons)
    n_tests = sum(len(ex.tests) for ex in graded.values())
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPU(s), "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"isolation: {isolation.detail}")
    print(f"lessons: {', '.join(p.name for p in lessons.values())}")
    print(f"graded: {len(graded)} exercises, {n_tests} tests, "
          f"{sum(ex.max_score for ex in graded.values()):g} points"
          + (f" (no lesson yet for {', '.join(missing)})" if missing else ""))

    tmp = Path(tempfile.mkdtemp(prefix="olf-bench-"))
    try:
        complete = write_complete_submission(tmp / "complete", lessons, exercises)
        worker_cpu = "worker CPU {:.2f} s" if isolation.kind == "process" else "worker CPU not measured under bwrap"

        # (a0) a solved chapter 1-2 submission, then (a) one complete submission
        early = {c: p for c, p in lessons.items() if c <= 2}
        if early:
            first = write_complete_submission(tmp / "chapters-1-2", early, exercises)
            mine = {k: ex for k, ex in graded.items() if ex.chapter in early}
            grade_submission(first, mine, seed=args.seed, limits=limits)          # warm caches
            wall, own, kids, report = timed_cpu(lambda: grade_submission(first, mine, seed=args.seed, limits=limits),
                                                args.repeat)
            print(f"\na solved chapter 1-2 submission ({len(mine)} exercises, "
                  f"{sum(len(ex.tests) for ex in mine.values())} tests): {wall:.2f} s (median of {args.repeat}); "
                  f"grader CPU {own:.2f} s, {worker_cpu.format(kids)}; score {report.score:g}/{report.max_score:g}")
        wall, own, kids, report = timed_cpu(lambda: grade_submission(complete, graded, seed=args.seed, limits=limits),
                                            args.repeat)
        print(f"\none complete submission ({len(lessons)} lesson(s)): {wall:.2f} s "
              f"(median of {args.repeat}); grader CPU {own:.2f} s, {worker_cpu.format(kids)}; "
              f"score {report.score:g}/{report.max_score:g}"
              + (f", error: {report.error}" if report.error else ""))

        # where the time of one complete submission goes
        before, (own, kids) = dict(TOTALS), _cpu()
        start = time.perf_counter()
        grade_submission(complete, graded, seed=args.seed, limits=limits)
        wall = time.perf_counter() - start
        own2, kids2 = _cpu()
        done = {k: TOTALS[k] - before[k] for k in TOTALS}
        started, _ = timed(lambda: start_worker([], graded, limits), args.repeat)
        print(f"  where the time goes: {done['calls']} calls of submitted functions and {done['callbacks']} "
              f"callbacks (a reference helper run for the worker), each a round trip; "
              f"{done['exercises']} exercises, each in a fresh child of the worker, using "
              f"{done['exercise_cpu']:.2f} s of CPU; the grader {own2 - own:.2f} s of CPU"
              + (f", the worker in all {kids2 - kids:.2f} s" if isolation.kind == "process" else "")
              + f"; starting a worker {started:.2f} s; {wall:.2f} s in all")

        # (b) a batch of n copies
        paths = []
        for i in range(args.n):
            shutil.copytree(complete, tmp / f"student{i:03d}")
            paths.append(str(tmp / f"student{i:03d}"))
        print(f"\nbatch of {args.n} complete submissions (autograder.instructor.batch.grade_many):")
        print(row("jobs", "seconds", "submissions/s", "speed-up"))
        base = None
        for jobs in args.jobs:
            start = time.perf_counter()
            reports = grade_many(paths, list(graded), seed=args.seed, jobs=jobs, limits=limits)
            seconds = time.perf_counter() - start
            base = base or seconds
            full = sum(r.score == r.max_score > 0 for r in reports)
            print(row(f"--jobs {jobs}" + ("" if full == len(reports) else f" ({full}/{args.n} full marks)"),
                      f"{seconds:.2f}", f"{args.n / seconds:.2f}", f"{base / seconds:.2f}x")
                  + f"   (300 at this rate: {300 * seconds / args.n / 60:.1f} min)")

        # an untouched lesson, chapter by chapter
        print(f"\nuntouched lesson (median of {args.repeat}):")
        for chapter, path in lessons.items():
            mine = {k: ex for k, ex in graded.items() if ex.chapter == chapter}
            seconds, report = timed(lambda: grade_submission(path, mine, seed=args.seed, limits=limits), args.repeat)
            statuses = {o.status for o in report.outcomes}
            print(f"  {path.name}: {seconds:.2f} s, score {report.score:g}/{report.max_score:g} "
                  f"({', '.join(sorted(statuses))})")
            cells = read_submission(path).cells
            loaded, _ = timed(lambda: start_worker(cells, mine, limits), args.repeat)
            print(f"    of which starting the worker and loading the lesson's code: {loaded:.2f} s")
        bare, _ = timed(lambda: start_worker([], graded, limits), args.repeat)
        print(f"  (starting a worker with no code: {bare:.2f} s)")

        # check() in the notebook's own process, on the reference
        print(f"\ncheck(...) on the reference, in process (LocalSubject; median of {args.repeat}):")
        per = {}
        for ex_id, ex in graded.items():
            with contextlib.redirect_stdout(io.StringIO()):
                per[ex_id], _ = timed(lambda: check(*ex.functions.values(), seed=args.seed), args.repeat)
        values = sorted(per.values())
        print(f"  {len(per)} exercises: median {statistics.median(values) * 1e3:.1f} ms, "
              f"min {values[0] * 1e3:.1f} ms, max {values[-1] * 1e3:.1f} ms")
        for ex_id in sorted(per, key=per.get, reverse=True)[:3]:
            print(f"  slowest: {ex_id} ({graded[ex_id].title}, {len(graded[ex_id].tests)} tests): "
                  f"{per[ex_id] * 1e3:.1f} ms")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
