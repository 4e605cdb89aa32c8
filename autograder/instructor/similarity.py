"""Similar submissions: pairs ranked by how much of each exercise's code they share.

The detector is ``copydetect`` (winnowing, as in MOSS: Schleimer, Wilkerson and Aiken,
"Winnowing: local algorithms for document fingerprinting", SIGMOD 2003). Its tokenizer
replaces every name by one symbol and drops whitespace and comments, so renamed
variables and reformatted code leave the fingerprints unchanged.

For each exercise the code compared is the exercise's functions as the submission
defines them (the last definition of each, as grading takes it), docstrings removed.
Left out as what every answer shares:

* the stub's fingerprints (the signatures and docstrings handed out in the lesson);
* fingerprints found in more than ``common`` of the class (what every correct answer
  converges to; MOSS's ``-m``);
* exercises whose answers keep fewer than ``min_length`` k-grams (the median over the
  class's submissions) once the stub's and the class's common fingerprints are removed: a
  one-line formula, or one call of another exercise's function, written the same way by
  everybody says nothing. It is measured on the submissions, never on the reference (whose
  AdamW is one call of its Adam, while students often write Adam out again);
* stubs still raising ``NotImplementedError``.

The book's own solution takes part as one more "submission" (named
:data:`REFERENCE`), so that code copied from the book shows as such.

A pair's score weighs each fingerprint it shares by its rarity in the class,
``log(1 + n / d)`` for a fingerprint found in ``d`` of the ``n`` submissions (as
inverse document frequency does in text retrieval): code that two students alone share
says more than code a fifth of the class wrote alike. The score of an exercise is the
weight shared over the mean weight of the two sides; a pair's score sums both over the
exercises.

Every k-gram is a fingerprint (a winnowing window of 1): an exercise's code is a few
hundred characters, so there is nothing to save, and with a wider window the fingerprints
kept would depend on Python's ``hash``, salted per process, and the scores would change
from run to run.
"""
from __future__ import annotations

import ast
import html
import inspect
import io
import math
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from ..loader import SubmissionError, read_submission
from .report import printable, report_names

REFERENCE = "(the book's solution)"

#: An exercise's code longer than this (characters) is compared on its first MAX_CHARS only:
#: fingerprinting costs time and memory in proportion (a 4.9 MB function took 67 s and 2 GB),
#: and the longest honest answers are a few thousand characters.
MAX_CHARS = 20_000
#: A cell longer than this is not even parsed (parsing 5 MB costs seconds and most of a GB).
MAX_CELL = 200_000


@dataclass
class Match:
    """What two submissions share in one exercise."""

    exercise: str
    similarity: float          # weight of the shared fingerprints / mean weight of the two sides'
    left: object               # the two sides' copydetect fingerprints
    right: object

    def sides(self) -> tuple[str, str]:
        """The two sides' code as HTML, the shared parts in ``<mark>``."""
        from copydetect import compare_files
        _overlap, _shares, (a, b) = compare_files(self.left, self.right)
        return _highlight(self.left.raw_code, a), _highlight(self.right.raw_code, b)


@dataclass
class Pair:
    a: str
    b: str
    matches: list[Match] = field(default_factory=list)
    compared: float = 0.0      # mean weight of the two sides' fingerprints, over the exercises
    shared: float = 0.0        # weight of the fingerprints they share

    @property
    def score(self) -> float:
        return self.shared / self.compared if self.compared else 0.0


@dataclass
class Result:
    pairs: list[Pair]                       # most similar first
    exercises: list[str]                    # compared
    skipped: dict[str, str]                 # exercise -> why it was not compared
    notes: list[str]                        # submissions that could not be read


def _strip_docstring(source: str, node: ast.FunctionDef) -> str:
    """The function's source (decorators to last line) without its docstring."""
    lines = source.splitlines()
    start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        keep = lines[start:body[0].lineno - 1] + lines[body[0].end_lineno:node.end_lineno]
    else:
        keep = lines[start:node.end_lineno]
    return "\n".join(keep)


def _is_stub(node: ast.FunctionDef) -> bool:
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return (len(body) == 1 and isinstance(body[0], ast.Raise) and body[0].exc is not None
            and "NotImplementedError" in ast.unparse(body[0].exc))


def exercise_code(path, exercises, notes: list | None = None) -> dict[str, str]:
    """exercise id -> the source of its functions in the submission (docstrings removed).

    Exercises not attempted (a function missing or still the stub) are left out, and so are
    cells longer than :data:`MAX_CELL` characters (said in ``notes``).

    Raises
    ------
    SubmissionError
        If the submission cannot be read.
    """
    found: dict[str, str] = {}
    stubs: set[str] = set()
    for _file, label, code in read_submission(path).cells:
        if len(code) > MAX_CELL:
            if notes is not None:
                notes.append(f"{path}: {label} not compared ({len(code)} characters, more than {MAX_CELL})")
            continue
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[node.name] = _strip_docstring(code, node)
                (stubs.add if _is_stub(node) else stubs.discard)(node.name)
    out = {}
    for ex in exercises.values():
        if all(name in found and name not in stubs for name in ex.functions):
            out[ex.id] = "\n\n".join(found[name] for name in ex.functions)
    return out


def reference_code(ex) -> str:
    """The reference functions' source, docstrings removed."""
    parts = []
    for fn in ex.functions.values():
        source = inspect.getsource(fn)
        parts.append(_strip_docstring(source, ast.parse(source).body[0]))
    return "\n\n".join(parts)


def _fingerprint(code: str, k: int, window: int, boilerplate=()):
    from copydetect import CodeFingerprint
    return CodeFingerprint("code.py", k, window, boilerplate=list(boilerplate), fp=io.StringIO(code),
                           language="python")


def _hashes(fp) -> set[int]:
    return {int(h) for h in fp.hashes}


def _tokens(code: str) -> int:
    from copydetect.utils import filter_code
    return len(filter_code(code, "code.py", "python")[0])


def _highlight(code: str, slices) -> str:
    from copydetect.utils import highlight_overlap
    if len(slices) == 0 or slices.shape[-1] == 0:
        return html.escape(code)
    marked, _ = highlight_overlap(code, slices, "<mark>", "</mark>", escape_html=True)
    return marked


def find_similar(paths, exercises, *, k: int = 20, window: int = 1, min_length: int = 40,
                 common: float = 0.25, include_reference: bool = True) -> Result:
    """Rank every pair of submissions by the code they share.

    Parameters
    ----------
    paths : list of str
        The submissions (notebooks, ``.py`` files or folders).
    exercises : dict
        The exercises compared (id -> :class:`~autograder.framework.Exercise`).
    k : int
        Length of the fingerprinted k-grams (``copydetect``'s noise threshold), in characters
        of the tokenized code, where every name is one character: shared runs shorter than
        this are never seen.
    window : int
        Winnowing window: any shared run of ``k + window - 1`` characters is seen (1: every
        k-gram is kept, and the result does not depend on the process's hash salt).
    min_length : int
        Exercises whose answers keep fewer k-grams than this (the median over the class), once
        the stub and the code more than ``common`` of the class shares are removed, are skipped:
        what is left is too little to tell answers apart.
    common : float
        Fingerprints found in more than this fraction of the submissions (and in at least
        three) are what correct answers share, and are ignored.
    include_reference : bool
        Compare with the book's solution too.
    """
    from ..lessons import stub_source

    codes: dict[str, dict[str, str]] = {}
    notes: list[str] = []
    for p in paths:
        try:
            codes[str(p)] = exercise_code(p, exercises, notes)
        except (SubmissionError, OSError, RecursionError, MemoryError) as exc:
            notes.append(f"{p}: not compared ({type(exc).__name__}: {exc})"[:500])
            continue
        for ex_id, code in codes[str(p)].items():
            if len(code) > MAX_CHARS:
                codes[str(p)][ex_id] = code[:MAX_CHARS]
                notes.append(f"{p}: {ex_id} compared on its first {MAX_CHARS} characters of {len(code)}")
    attempted = {ex_id for c in codes.values() for ex_id in c}
    exercises = {ex_id: ex for ex_id, ex in exercises.items() if ex_id in attempted}   # by some student
    if include_reference:
        codes[REFERENCE] = {ex_id: reference_code(ex) for ex_id, ex in exercises.items()}
    skipped: dict[str, str] = {}
    order = {name: i for i, name in enumerate(codes)}
    pairs: dict[tuple[str, str], Pair] = {}
    masses: list[dict[str, float]] = []
    compared = []
    for ex_id, ex in exercises.items():
        stub = _fingerprint(stub_source(ex), k, window).hashes
        first = {name: _fingerprint(c[ex_id], k, window, stub) for name, c in codes.items() if ex_id in c}
        counts = Counter(h for fp in first.values() for h in _hashes(fp))
        n, limit = len(first), max(3, common * len(first))
        frequent = [h for h, d in counts.items() if d > limit]
        weight = {h: math.log(1 + n / d) for h, d in counts.items() if d <= limit}
        prints = {name: _fingerprint(codes[name][ex_id], k, window, [*stub, *frequent]) for name in first}
        left = sorted(len(_hashes(fp)) for name, fp in prints.items() if name != REFERENCE)
        length = left[len(left) // 2] if left else 0
        if length < min_length:
            skipped[ex_id] = (f"too alike to tell answers apart: the class's answers keep {length} k-grams (median) "
                              f"beyond the stub and the code much of the class shares, fewer than {min_length}")
            continue
        compared.append(ex_id)
        holders: dict[int, list[str]] = {}
        for name, fp in prints.items():
            for h in _hashes(fp):
                holders.setdefault(h, []).append(name)
        shared: Counter = Counter()          # only pairs that share a fingerprint: at most `limit` per one
        for h, names in holders.items():
            for a, b in combinations(sorted(names, key=order.get), 2):
                shared[a, b] += weight[h]
        mass = {name: sum(weight[h] for h in _hashes(fp)) for name, fp in prints.items()}
        masses.append(mass)
        for (a, b), w in shared.items():
            pair = pairs.setdefault((a, b), Pair(a, b))
            pair.shared += w
            pair.matches.append(Match(ex_id, w / ((mass[a] + mass[b]) / 2), prints[a], prints[b]))
    for pair in pairs.values():
        pair.compared = sum((m[pair.a] + m[pair.b]) / 2 for m in masses if pair.a in m and pair.b in m)
        pair.matches.sort(key=lambda m: (-round(m.similarity, 9), m.exercise))
    ranked = sorted(pairs.values(), key=lambda p: (-p.score, -p.shared, order[p.a], order[p.b]))
    return Result(ranked, compared, skipped, notes)


def to_text(result: Result, top: int = 20) -> str:
    """The most similar pairs, one line each."""
    lines = [f"{len(result.pairs)} pair(s) share code in {len(result.exercises)} exercise(s) compared"
             + (f"; skipped: {', '.join(result.skipped)}" if result.skipped else "")]
    lines += [f"  note: {printable(n)}" for n in result.notes]
    names = report_names(s for pair in result.pairs[:top] for s in (pair.a, pair.b) if s != REFERENCE)
    names[REFERENCE] = REFERENCE
    for pair in result.pairs[:top]:
        exs = ", ".join(f"{m.exercise} {m.similarity:.0%}" for m in pair.matches[:5])
        lines.append(f"{pair.score:6.1%}  {printable(names[pair.a])} ~ {printable(names[pair.b])}  ({exs})")
    return "\n".join(lines)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; } td, th { padding: .25em .6em; border-bottom: 1px solid #ddd; text-align: left; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
pre { background: #f7f7f7; padding: .6em; overflow-x: auto; font-size: 90%; margin: 0; }
mark { background: #ffd24d; }
.book { color: #666; font-style: italic; }
section { margin-top: 2em; border-top: 2px solid #ccc; }
"""


def _name(submission: str) -> str:
    label = html.escape(submission if submission == REFERENCE else Path(submission).name)
    return f'<span class="book">{label}</span>' if submission == REFERENCE else label


def to_html(result: Result, top: int = 50) -> str:
    """A self-contained page: the ranking, then each pair's shared code side by side."""
    shown = result.pairs[:top]
    rows = "\n".join(
        f'<tr><td>{i}</td><td><a href="#pair-{i}">{_name(p.a)} ~ {_name(p.b)}</a></td>'
        f'<td class="score">{p.score:.1%}</td><td>{", ".join(f"{m.exercise} {m.similarity:.0%}" for m in p.matches)}</td></tr>'
        for i, p in enumerate(shown, 1))
    sections = []
    for i, p in enumerate(shown, 1):
        blocks = "\n".join(
            '<h3>{}: {:.0%} shared</h3>\n<div class="side"><pre class="left">{}</pre><pre class="right">{}</pre></div>'
            .format(m.exercise, m.similarity, *m.sides()) for m in p.matches)
        sections.append(f'<section id="pair-{i}"><h2>{i}. {_name(p.a)} ~ {_name(p.b)}: {p.score:.1%}</h2>\n{blocks}</section>')
    skipped = "".join(f"<li>{html.escape(e)}: {html.escape(why)}</li>" for e, why in result.skipped.items())
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in result.notes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Similar submissions</title><style>{_STYLE}</style></head>
<body><h1>Similar submissions</h1>
<p>Pairs ranked by the share of their exercises' code fingerprints that match, each fingerprint
weighted by its rarity in the class (copydetect's k-gram fingerprints; names, whitespace and
comments ignored; the stubs' signatures and docstrings, and code that much of the class
shares, left out). Exercises compared: {", ".join(result.exercises) or "none"}.
A high score is a reason to look, not a verdict.</p>
{f"<p>Not compared:</p><ul>{skipped}</ul>" if skipped else ""}
{f"<ul class='notes'>{notes}</ul>" if notes else ""}
<table id="ranking"><thead><tr><th>#</th><th>pair</th><th>score</th><th>exercises</th></tr></thead>
<tbody>
{rows}
</tbody></table>
{"".join(sections)}
</body></html>
"""
