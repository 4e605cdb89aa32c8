"""One HTML feedback page per submission (``grade --reports DIR``), for the student to read.

The page is self-contained (no script, no external resource): the points per exercise,
each test shown with its result, and each failed test's feedback — the diagnosis of a
known mistake with its link into the book. Tests that the student may not see yet at the
chosen *stage* (see :mod:`autograder.engine.visibility`) are left out, and the page says how many
tests and points are not shown; the score shown is then the score of the tests shown.
"""
from __future__ import annotations

import html
import re

from ..engine.registry import BOOK_URL, FAILED, NOT_ATTEMPTED, PARTIAL, PASSED
from .report import points
from ..engine.visibility import shown, withheld

_LINK = re.compile(r"(https?://[^\s<>\"']+[^\s<>\"'.,;:)])|the book, (lessons/[\w./-]+\.html(?:#[\w-]+)?)")

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60em; margin: 1.5em auto; padding: 0 1em; color: #222; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: .5em 0; max-width: 100%; } td, th { padding: .25em .6em; border-bottom: 1px solid #ddd; text-align: left; }
ul { padding-left: 1.2em; } pre, code { overflow-wrap: anywhere; }
.passed { color: #1a7f37; } .failed, .partial { color: #b42318; } .not-attempted { color: #777; }
pre.feedback { background: #fff6f5; border-left: 3px solid #b42318; padding: .5em; white-space: pre-wrap; margin: .2em 0 .8em 0; }
.note { background: #f3f6fc; padding: .5em .8em; border-left: 3px solid #4a6fb3; }
"""


def _linked(text: str) -> str:
    """Escape ``text`` and turn the book links of the feedback into anchors."""
    out, last = [], 0
    for m in _LINK.finditer(text):
        out.append(html.escape(text[last:m.start()]))
        if m[1]:
            out.append(f'<a href="{html.escape(m[1])}">{html.escape(m[1])}</a>')
        else:
            out.append(f'the book, <a href="{html.escape(m[2])}">{html.escape(m[2])}</a>')
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def to_html(report, *, stage: str = "before_due", lateness=None) -> str:
    """The feedback page of one :class:`~autograder.grade.Report`.

    Parameters
    ----------
    stage : str
        What the student may see (:data:`autograder.engine.visibility.STAGES`).
    lateness : autograder.instructor.late.Lateness, optional
        Shown, with the score after the penalty.
    """
    visible = [o for o in report.outcomes if shown(o.visibility, stage)]
    note = withheld(report.outcomes, stage)
    if note and stage != "before_due":         # submitted already: "graded when you submit" is untrue
        note = note.replace("are graded when you submit; their results are",
                            "count in your score; their results are").replace(
                            "is graded when you submit; its result is", "counts in your score; its result is")
    score, top = sum(o.score for o in visible), sum(o.max_score for o in visible)
    name = html.escape(report.submission.rsplit("/", 1)[-1])
    head = [f"<p class='score'>Score: <strong>{points(score)}/{points(top)}</strong> points"
            + (" (of the tests shown)" if note else "") + "</p>"]
    if lateness is not None:
        head.append(f"<p class='late'>{html.escape(lateness.describe())}"
                    + (f"; score after the penalty: <strong>{points(lateness.apply(score))}/{points(top)}</strong>"
                       if lateness.days else "") + "</p>")
    if note:
        head.append(f"<p class='note withheld'>{html.escape(note)}</p>")
    if report.error:
        head.append(f"<p class='note'>This submission could not be graded: {html.escape(report.error)}</p>")
    head += [f"<p class='note'>Note: {html.escape(n)}</p>" for n in report.notes]
    summary, sections = [], []
    for ex in report.exercises:
        mine = [o for o in visible if o.exercise == ex]
        if not mine:
            continue
        s, m = sum(o.score for o in mine), sum(o.max_score for o in mine)
        status = (NOT_ATTEMPTED if all(o.status == NOT_ATTEMPTED for o in mine)
                  else PASSED if s == m else PARTIAL if s > 0 else FAILED)
        title = html.escape(mine[0].title.split(":")[0])
        css = status.replace(" ", "-")
        summary.append(f"<tr class='{css}'><td><a href='#{ex}'>{title}</a></td><td>{points(s)}/{points(m)}</td>"
                       f"<td>{status}</td></tr>")
        items = []
        for o in mine:
            mark = "✓" if o.passed else "✗"
            items.append(f"<li class='{o.status.replace(' ', '-')}'>{mark} {html.escape(o.title.split(': ', 1)[-1])} "
                         f"({points(o.score)}/{points(o.max_score)})"
                         + (f"<pre class='feedback'>{_linked(o.message)}</pre>"
                            if not o.passed and o.message and o.message != report.error else "")
                         + "</li>")
        sections.append(f"<section id='{ex}'><h2>{title}: {points(s)}/{points(m)}</h2><ul>{''.join(items)}</ul></section>")
    relative = not BOOK_URL and any("the book, lessons/" in o.message for o in visible if not o.passed)
    links = ("<p class='note' id='book-links'>The links into the book are paths inside the book "
             "(<code>lessons/…</code>): open them in the published book. (Instructor: set "
             "<code>OLF_BOOK_URL</code> to the book's address before grading, or <code>gradescope --book-url</code>, "
             "to make them links.)</p>" if relative else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Feedback: {name}</title><style>{_STYLE}</style></head>
<body><h1>Feedback on {name}</h1>
{''.join(head)}
<table id="summary"><thead><tr><th>exercise</th><th>points</th><th>status</th></tr></thead><tbody>{''.join(summary)}</tbody></table>
{''.join(sections)}
{links}
<p><small>Seed {report.seed}: the instructor reproduces this grading with <code>--seed {report.seed}</code>.</small></p>
</body></html>
"""
