"""``python -m autograder``: grade (regrade, shard and merge) submissions, find similar ones,
build the Gradescope zip, sync the lessons, start a new chapter from its templates."""
from __future__ import annotations

import argparse
import glob
import json
import os
import secrets
import sys
from pathlib import Path

from .files import write_atomic
from .sandbox.limits import MEMORY_MB, SUBMISSION_TIMEOUT, TIMEOUT
from .sandbox.bubblewrap import ISOLATIONS, IsolationError, resolve_isolation
from .sandbox.limits import Limits
from .sandbox.subject import prestart


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
    write_atomic(path, text + "\n")


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _lateness(args, paths, roster=None):
    """submission -> Lateness under the late policy of the options (a student's own deadline from
    the roster), or None without a deadline."""
    from .instructor.gradebook import roster_deadlines
    from .instructor.late import LatePolicy, lateness_of, parse_duration, parse_fraction, parse_time, read_times
    deadlines = roster_deadlines(roster)
    if args.deadline is None:
        if args.grace or args.late_penalty or args.late_cap or args.submission_times or deadlines:
            raise ValueError("the late policy options (and the roster's deadline column) need --deadline, "
                             "the class's deadline")
        return None
    policy = LatePolicy(parse_time(args.deadline), parse_duration(args.grace or "0"),
                        parse_fraction(args.late_penalty or "0"), parse_fraction(args.late_cap or "100%"))
    times = read_times(args.submission_times) if args.submission_times else None
    print(f"late policy: {policy.describe()}; submission times from "
          f"{args.submission_times or 'the files modification times'}", file=sys.stderr)
    lateness = lateness_of(paths, policy, times, deadlines)
    if deadlines:
        print(f"own deadlines (roster) for {len(deadlines)} student(s)", file=sys.stderr)
    unknown = [p for p, late in lateness.items() if late.submitted is None]
    if unknown:
        from .instructor.report import printable
        print(f"warning: no submission time (no late penalty) for {printable(', '.join(unknown))}", file=sys.stderr)
    return lateness


def _shard(spec: str) -> tuple[int, int]:
    k, sep, n = spec.partition("/")
    if not (sep and k.isdigit() and n.isdigit()):
        raise ValueError(f"--shard takes K/N (the K-th of N slices, 1 <= K <= N), not {spec!r}")
    return int(k), int(n)


def _roster(args):
    """The roster of ``--roster`` (read before grading, so that a bad one stops nothing midway)."""
    from .instructor.gradebook import read_roster
    return read_roster(args.roster) if args.roster else None


def _write_canvas(rows, args, roster) -> None:
    from .framework import load_exercises
    from .instructor.gradebook import write_canvas
    if roster is not None:
        missing = [r.submission for r in rows if r.submission not in roster and Path(r.submission).name not in roster]
        if missing:
            print(f"warning: not in the roster (named by file instead): {', '.join(missing)}", file=sys.stderr)
    write_canvas(rows, args.canvas, load_exercises(), roster=roster, prefix=args.canvas_prefix)
    print(f"Canvas gradebook written to {args.canvas}", file=sys.stderr)


def cmd_grade(args) -> int:
    if args.jobs <= 1:       # the first worker starts before numpy and the tests are imported
        prestart(Limits(timeout=args.timeout, memory_mb=args.memory, user=args.sandbox_user, isolation=args.isolation,
                        total=args.submission_timeout))
    from .instructor.batch import Progress, chapters_of, grade_many, shard
    from .framework import load_exercises, select
    from .instructor.gradebook import rows_from_reports, write_csv
    from .instructor.html_report import to_html
    from .instructor.regrade import changes_since, match, previous_lateness, previous_seed, read_previous
    from .instructor.regrade import to_csv as changes_csv, to_text as changes_text
    from .instructor.report import to_json, to_text
    from .engine.visibility import check_overrides, parse_overrides
    exercises = load_exercises()
    paths = _expand(args.submissions)
    try:
        visibility = parse_overrides(args.visibility)
        previous = read_previous(args.previous) if args.previous else None
        if args.exercise:
            patterns = args.exercise
        elif previous:      # regrade: each student's exercises as the previous grading recorded them
            recorded = {s: p.exercises for s, p in match(previous, paths).items() if p.exercises}
            own = chapters_of(paths, exercises)
            patterns = {p: recorded.get(p) or own[p] for p in paths}
        else:
            patterns = chapters_of(paths, exercises)   # each submission its own chapters
        check_overrides(visibility, select(exercises, args.exercise or None))
        for chosen in (patterns.values() if isinstance(patterns, dict) else [patterns]):
            select(exercises, chosen)
        seed = args.seed if args.seed is not None else previous_seed(previous) if previous else None
        if args.shard:
            k, n = _shard(args.shard)
            if seed is None:
                raise ValueError("--shard needs --seed: every shard of a class is graded with the same seed")
            paths = shard(paths, k, n)
        roster = _roster(args)
        lateness = _lateness(args, paths, roster)
        if lateness is None and previous:       # regrade: each student's lateness as recorded before
            lateness = previous_lateness(previous, paths)
    except (ValueError, OSError) as exc:
        return _error(str(exc))
    if seed is None:
        seed = secrets.randbelow(2**31)
    print(f"grading {len(paths)} submission(s), seed {seed} (reproduce with --seed {seed})"
          + (f", shard {args.shard}" if args.shard else ""), file=sys.stderr)
    progress = Progress(len(paths)) if len(paths) > 1 else None
    limits = Limits(timeout=args.timeout, memory_mb=args.memory, user=args.sandbox_user, isolation=args.isolation,
                    total=args.submission_timeout)
    if limits.user is not None and os.geteuid() != 0:
        return _error("--sandbox-user needs the grader to run as root")
    try:
        resolve_isolation(limits.isolation, limits.user)
    except (IsolationError, KeyError) as exc:
        return _error(f"grading refused: {exc}" if isinstance(exc, IsolationError) else f"no user {limits.user!r}")
    reports = grade_many(paths, patterns, seed=seed, jobs=args.jobs, limits=limits, progress=progress,
                         visibility=visibility)
    late = lateness or {}
    rows = rows_from_reports(reports, lateness)
    if args.csv:
        write_csv(rows, args.csv)
        print(f"gradebook written to {args.csv}", file=sys.stderr)
    if args.canvas:
        _write_canvas(rows, args, roster)
    if args.reports:
        from .instructor.report import report_names
        names = report_names(r.submission for r in reports)
        for r in reports:
            base = Path(args.reports) / names[r.submission]
            _write(to_json(r, lateness=late.get(r.submission)), f"{base}.json")
            _write(to_html(r, stage=args.reveal, lateness=late.get(r.submission)), f"{base}.html")
        print(f"reports written to {args.reports} (JSON, and HTML showing what students see at {args.reveal})",
              file=sys.stderr)
        from .engine.registry import BOOK_URL
        if not BOOK_URL:
            print("note: the feedback's links into the book are paths inside it (lessons/…), not clickable from "
                  "the reports: set OLF_BOOK_URL to the published book's address to make them links", file=sys.stderr)
    changes = changes_since(previous, reports, lateness) if previous is not None else None
    if args.class_report:
        from .instructor.class_report import write as write_class_report
        page, data = write_class_report(args.class_report, reports, exercises, lateness=lateness, changes=changes)
        print(f"class report written to {page} (its data: {data})", file=sys.stderr)
    if previous is not None:
        if args.changes:
            write_atomic(args.changes, changes_csv(changes))
        _write(changes_text(changes), args.output)
    elif args.format == "text":
        _write("\n\n".join(to_text(r, late.get(r.submission)) for r in reports), args.output)
    else:
        extended = args.format == "json"
        docs = [json.loads(to_json(r, extended=extended, lateness=late.get(r.submission) if extended else None))
                for r in reports]
        _write(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2, ensure_ascii=False), args.output)
    return 0


def cmd_merge(args) -> int:
    from .instructor.gradebook import merge, write_csv
    try:
        rows = merge(args.gradebooks)
        roster = _roster(args)
    except (ValueError, OSError) as exc:
        return _error(str(exc))
    write_csv(rows, args.csv)
    print(f"{len(rows)} submission(s) from {len(args.gradebooks)} gradebook(s) written to {args.csv}", file=sys.stderr)
    if args.canvas:
        _write_canvas(rows, args, roster)
    return 0


def cmd_similar(args) -> int:
    import time
    from .framework import load_exercises, select
    from .instructor.similarity import find_similar, to_html, to_text
    import importlib.util
    if importlib.util.find_spec("copydetect") is None:
        return _error("`similar` needs the copydetect package: pip install -e '.[instructor]' (or pip install copydetect)")
    try:
        exercises = select(load_exercises(), args.exercise)
    except ValueError as exc:
        return _error(str(exc))
    paths = _expand(args.submissions)
    start = time.monotonic()
    result = find_similar(paths, exercises, min_length=args.min_length, common=args.common,
                          include_reference=not args.no_reference)
    print(f"compared {len(paths)} submission(s) in {time.monotonic() - start:.1f} s", file=sys.stderr)
    if args.html:
        write_atomic(args.html, to_html(result, top=args.top))
        print(f"side-by-side page written to {args.html}", file=sys.stderr)
    _write(to_text(result, top=args.top), None)
    return 0


def cmd_sync(args) -> int:
    from .framework import load_exercises
    from .lessons import sync_notebook
    paths = args.notebooks or sorted(glob.glob("lessons/*.ipynb"))
    exercises = load_exercises()
    for p in paths:
        try:
            changes = sync_notebook(p, exercises)
        except ValueError as exc:              # a new exercise with no heading to put its cells under
            return _error(str(exc))
        for change in changes:
            print(f"updated {change}")
    return 0


def cmd_new_chapter(args) -> int:
    from .templates import new_chapter
    try:
        paths = new_chapter(".", args.number, args.name, args.title, args.function)
    except ValueError as exc:
        return _error(str(exc))
    for path in paths:
        print(f"created {path}")
    print("next: CONTRIBUTING.md, 'Add a chapter' (register the chapter, then sync-lessons)")
    return 0


def cmd_gradescope(args) -> int:
    from .instructor.gradescope import build_zip
    try:
        path = build_zip(args.out, args.exercise, timeout=args.timeout, memory_mb=args.memory,
                         book_url=args.book_url, sandbox_user=args.sandbox_user, visibility=args.visibility,
                         isolation=args.isolation)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


def _canvas_options(p) -> None:
    p.add_argument("--canvas", metavar="FILE", help="also write Canvas's gradebook import CSV (a column per exercise)")
    p.add_argument("--roster", metavar="CSV", help="columns submission and Student, ID, SIS User ID, SIS Login ID, "
                                                   "Section: who each submission is, for Canvas")
    p.add_argument("--canvas-prefix", default="", metavar="TEXT",
                   help="prefix of the Canvas assignment names (e.g. 'Chapter 5: ')")


def _grading_options(g) -> None:
    """The options of ``grade`` (and ``regrade``)."""
    from .engine.visibility import STAGES
    g.add_argument("--exercise", action="append", metavar="ID",
                   help="grade only these exercises (globs like 'ex5_*'; repeatable). "
                        "Default: each submission the chapters it defines exercise functions of")
    g.add_argument("--format", choices=["text", "json", "gradescope"], default="text")
    g.add_argument("--output", metavar="FILE", help="write the report here (atomically) instead of stdout")
    g.add_argument("--seed", type=int, help="seed of the random test cases (default: fresh, printed; "
                                            "regrade: the previous grading's)")
    g.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel")
    g.add_argument("--shard", metavar="K/N", help="grade only the K-th of N deterministic slices of the "
                                                  "submissions (needs --seed; join the gradebooks with merge)")
    g.add_argument("--csv", metavar="FILE", help="write a gradebook: one row per submission")
    _canvas_options(g)
    g.add_argument("--reports", metavar="DIR", help="write one JSON report and one HTML feedback page per submission into DIR")
    g.add_argument("--class-report", metavar="HTML",
                   help="write the class at a glance (scores, pass rates, frequent mistakes, late and unreadable "
                        "submissions, a regrade's changes) as one offline HTML page, its data as JSON beside it")
    g.add_argument("--reveal", choices=STAGES, default="before_due",
                   help="what the HTML feedback shows: tests visible before the due date (default), after it, "
                        "once published, or everything (instructor)")
    g.add_argument("--visibility", action="append", metavar="EX[::TEST]=LEVEL",
                   help="override who sees a test: LEVEL visible, hidden, after_due_date or after_published "
                        "(e.g. 'ex5_*=after_due_date'; repeatable)")
    g.add_argument("--deadline", metavar="TIME", help="late policy: the deadline (ISO 8601, e.g. 2026-12-01T23:59+01:00)")
    g.add_argument("--grace", metavar="DURATION", help="late policy: grace period (e.g. 15m, 2h)")
    g.add_argument("--late-penalty", metavar="FRACTION", help="late policy: share of the points lost per late day (e.g. 10%%)")
    g.add_argument("--late-cap", metavar="FRACTION", help="late policy: at most this share is lost (default 100%%)")
    g.add_argument("--submission-times", metavar="CSV",
                   help="late policy: columns submission, time (default: the files modification times)")
    g.add_argument("--timeout", type=float, default=TIMEOUT, help=f"seconds per exercise (default {TIMEOUT:g})")
    g.add_argument("--submission-timeout", type=float, default=SUBMISSION_TIMEOUT,
                   help=f"wall-clock seconds for a whole submission (default {SUBMISSION_TIMEOUT:g})")
    g.add_argument("--memory", type=int, default=MEMORY_MB, help=f"memory limit of student code in MB (default {MEMORY_MB})")
    g.add_argument("--sandbox-user", metavar="USER",
                   help="when grading as root (Gradescope), run student code as this unprivileged user, e.g. nobody")
    g.add_argument("--isolation", choices=ISOLATIONS, default="auto",
                   help="how student code is isolated: bwrap (bubblewrap namespaces; grading refuses to run "
                        "where they are not available), process (Landlock, seccomp, --sandbox-user), "
                        "auto (bwrap where it works, else process; the default). Every report names it")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade one or many submissions (.ipynb, .py, or a folder of them)")
    g.add_argument("submissions", nargs="+", help="each PATH (or glob) is one submission")
    _grading_options(g)
    g.set_defaults(func=cmd_grade, previous=None, changes=None)

    r = sub.add_parser("regrade", help="grade a batch again (after a test or the reference changed) and "
                                       "report what changed for each student")
    r.add_argument("previous", help="the previous grading: its --reports folder (per test) or its --csv gradebook")
    r.add_argument("submissions", nargs="+", help="each PATH (or glob) is one submission")
    r.add_argument("--changes", metavar="FILE", help="write the changes as CSV (old score, new score, tests)")
    _grading_options(r)
    r.set_defaults(func=cmd_grade)

    m = sub.add_parser("merge", help="join the gradebooks of shards (grade --shard K/N --csv ...) into one")
    m.add_argument("gradebooks", nargs="+", help="the shards' CSV gradebooks")
    m.add_argument("--csv", metavar="FILE", required=True, help="the merged gradebook")
    _canvas_options(m)
    m.set_defaults(func=cmd_merge)

    d = sub.add_parser("similar", help="rank pairs of submissions by the code they share (copydetect), "
                                       "with an HTML page of the pairs side by side")
    d.add_argument("submissions", nargs="+", help="each PATH (or glob) is one submission")
    d.add_argument("--exercise", action="append", metavar="ID", help="compare only these exercises (globs)")
    d.add_argument("--html", metavar="FILE", help="write the side-by-side page here")
    d.add_argument("--top", type=int, default=30, help="pairs listed (default 30)")
    d.add_argument("--min-length", type=int, default=40,
                   help="skip exercises whose answers keep fewer k-grams (the class's median) beyond the stub "
                        "and the code much of the class shares (default 40)")
    d.add_argument("--common", type=float, default=0.25,
                   help="ignore code found in more than this fraction of the class (default 0.25)")
    d.add_argument("--no-reference", action="store_true", help="do not compare with the book's solution")
    d.set_defaults(func=cmd_similar)

    s = sub.add_parser("sync-lessons", help="rewrite the stub/check/solution cells of lessons from solutions/")
    s.add_argument("notebooks", nargs="*")
    s.set_defaults(func=cmd_sync)

    n = sub.add_parser("new-chapter", help="create a chapter's lesson, reference module, graded tests and "
                                           "reference tests from autograder/templates/ (never overwrites)")
    n.add_argument("number", type=int, help="the chapter's number N (exercises exN_1, ...)")
    n.add_argument("name", help="its module: solutions/NAME.py, lessons/NN_NAME.ipynb")
    n.add_argument("title", help="its title, e.g. 'Learning-rate schedules'")
    n.add_argument("--function", help="the first exercise's function (default NAME_step)")
    n.set_defaults(func=cmd_new_chapter)

    z = sub.add_parser("gradescope", help="build the Gradescope autograder zip")
    z.add_argument("--out", default="autograder.zip")
    z.add_argument("--exercise", action="append", metavar="ID", help="exercises graded (globs; default all)")
    z.add_argument("--timeout", type=float, default=TIMEOUT)
    z.add_argument("--memory", type=int, default=MEMORY_MB)
    z.add_argument("--book-url", help="where the built book is published (feedback links start there)")
    z.add_argument("--sandbox-user", metavar="USER", help="run submissions as this unprivileged user (e.g. nobody)")
    z.add_argument("--isolation", choices=ISOLATIONS, default="auto",
                   help="isolation of student code on Gradescope (bwrap: refuse to grade without it; default auto)")
    z.add_argument("--visibility", action="append", metavar="EX[::TEST]=LEVEL",
                   help="override who sees a test on Gradescope (as for grade; repeatable)")
    z.set_defaults(func=cmd_gradescope)

    args = parser.parse_args(argv)
    return args.func(args)
