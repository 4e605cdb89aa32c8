"""``python -m autograder``: grade submissions, build the Gradescope zip, sync the lessons."""
from __future__ import annotations

import argparse
import glob
import json
import os
import secrets
import sys
from pathlib import Path

from .framework import load_exercises, select
from .sandbox import Limits


def _expand(paths: list[str]) -> list[str]:
    out: list[str] = []
    for p in paths:
        matches = sorted(glob.glob(p)) if any(c in p for c in "*?[") else [p]
        out += matches or [p]
    return out


def _write(text: str, path: str | None) -> None:
    if path is None:
        sys.stdout.write(text + "\n")
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, target)


def _chapters_present(paths: list[str], exercises) -> list[str]:
    """Patterns for the chapters whose exercise functions the submissions define (all if none)."""
    from .loader import SubmissionError, read_submission
    names: set[str] = set()
    for p in paths:
        try:
            names |= read_submission(p).defined
        except (SubmissionError, OSError):
            continue
    chapters = sorted({ex.chapter for ex in exercises.values() if names & set(ex.functions)})
    return [f"ex{c}_*" for c in chapters]


def cmd_grade(args) -> int:
    from .batch import Progress, grade_many, write_csv
    from .report import to_json, to_text
    exercises = load_exercises()
    paths = _expand(args.submissions)
    patterns = args.exercise or _chapters_present(paths, exercises)
    try:
        select(exercises, patterns)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    print(f"grading {len(paths)} submission(s), seed {seed} (reproduce with --seed {seed})", file=sys.stderr)
    progress = Progress(len(paths)) if len(paths) > 1 else None
    limits = Limits(timeout=args.timeout, memory_mb=args.memory, user=args.sandbox_user)
    if limits.user is not None and os.geteuid() != 0:
        print("error: --sandbox-user needs the grader to run as root", file=sys.stderr)
        return 2
    reports = grade_many(paths, patterns, seed=seed, jobs=args.jobs, limits=limits, progress=progress)
    if args.csv:
        write_csv(reports, args.csv)
        print(f"gradebook written to {args.csv}", file=sys.stderr)
    if args.reports:
        for r in reports:
            _write(to_json(r), str(Path(args.reports) / (Path(r.submission).name + ".json")))
    if args.format == "text":
        _write("\n\n".join(to_text(r) for r in reports), args.output)
    else:
        extended = args.format == "json"
        docs = [json.loads(to_json(r, extended=extended)) for r in reports]
        _write(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2, ensure_ascii=False), args.output)
    return 0


def cmd_sync(args) -> int:
    from .lessons import sync_notebook
    paths = args.notebooks or sorted(glob.glob("lessons/*.ipynb"))
    exercises = load_exercises()
    for p in paths:
        for change in sync_notebook(p, exercises):
            print(f"updated {change}")
    return 0


def cmd_gradescope(args) -> int:
    from .gradescope import build_zip
    try:
        path = build_zip(args.out, args.exercise, timeout=args.timeout, memory_mb=args.memory,
                         book_url=args.book_url, sandbox_user=args.sandbox_user)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade one or many submissions (.ipynb, .py, or a folder of them)")
    g.add_argument("submissions", nargs="+", help="each PATH (or glob) is one submission")
    g.add_argument("--exercise", action="append", metavar="ID",
                   help="grade only these exercises (globs like 'ex5_*'; repeatable). "
                        "Default: every chapter the submission has exercise functions of")
    g.add_argument("--format", choices=["text", "json", "gradescope"], default="text")
    g.add_argument("--output", metavar="FILE", help="write the report here (atomically) instead of stdout")
    g.add_argument("--seed", type=int, help="seed of the random test cases (default: fresh, printed)")
    g.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel")
    g.add_argument("--csv", metavar="FILE", help="write a gradebook: one row per submission")
    g.add_argument("--reports", metavar="DIR", help="write one JSON report per submission into DIR")
    g.add_argument("--timeout", type=float, default=10.0, help="seconds per exercise (default 10)")
    g.add_argument("--memory", type=int, default=2048, help="memory limit of student code in MB (default 2048)")
    g.add_argument("--sandbox-user", metavar="USER",
                   help="when grading as root (Gradescope), run student code as this unprivileged user, e.g. nobody")
    g.set_defaults(func=cmd_grade)

    s = sub.add_parser("sync-lessons", help="rewrite the stub/check/solution cells of lessons from solutions/")
    s.add_argument("notebooks", nargs="*")
    s.set_defaults(func=cmd_sync)

    z = sub.add_parser("gradescope", help="build the Gradescope autograder zip")
    z.add_argument("--out", default="autograder.zip")
    z.add_argument("--exercise", action="append", metavar="ID", help="exercises graded (globs; default all)")
    z.add_argument("--timeout", type=float, default=10.0)
    z.add_argument("--memory", type=int, default=2048)
    z.add_argument("--book-url", help="where the built book is published (feedback links start there)")
    z.add_argument("--sandbox-user", metavar="USER", help="run submissions as this unprivileged user (e.g. nobody)")
    z.set_defaults(func=cmd_gradescope)

    args = parser.parse_args(argv)
    return args.func(args)
