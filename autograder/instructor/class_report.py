"""The class at a glance (``grade ... --class-report class.html``): one offline HTML page and
the same data as JSON beside it (``class.json``).

What an instructor looks at after grading, for the whole class:

* the distribution of the scores (a histogram of what students get, after any late penalty);
* each exercise's pass rate (the share of the class with full marks), hardest first;
* for each exercise, the registered mistakes most students made, each with how many students
  made it and the link to the section of the book that explains it (what to re-teach);
* exercises nobody attempted (every student's function a stub or missing), submissions that
  could not be read or loaded, late submissions;
* after a regrade, every student whose score changed.

The figures are drawn with matplotlib as SVG and embedded as ``data:`` URIs, so the page has
no external resource and opens offline. :func:`summarize` computes everything (plain data,
what the JSON holds); :func:`to_html` only draws it.
"""
from __future__ import annotations

import base64
import html
import io
import json
import statistics
from collections import Counter
from pathlib import Path

from ..files import write_atomic
from ..engine.registry import FAILED, NOT_ATTEMPTED, PASSED
from .report import points

_MISTAKE = "This matches a known mistake: "
_MISSING = "is not defined in the submission"        # autograder.engine.namespace: the function is missing


def _attempted(outcomes) -> bool:
    """Whether a student attempted an exercise: some test neither met the stub nor a missing function."""
    return any(o.status != NOT_ATTEMPTED and _MISSING not in (o.message or "") for o in outcomes)


def _mistakes_of(outcome, ex) -> list:
    """The registered mistakes of ``ex`` that ``outcome``'s feedback names."""
    if outcome.passed or _MISTAKE not in (outcome.message or ""):
        return []
    return [m for m in ex.mistakes if f"{_MISTAKE}{m.description}." in outcome.message]


def _unreadable(report) -> str | None:
    """Why a submission could not be read or loaded, or None."""
    if report.error:
        return report.error
    for note in report.notes:
        if note.startswith("loading the submission failed"):
            return note
    return None


def summarize(reports, exercises, *, lateness=None, changes=None, top: int = 5) -> dict:
    """The class report as plain data (what ``class.json`` holds).

    Parameters
    ----------
    reports : list of autograder.grade.Report
    exercises : dict
        exercise id -> :class:`~autograder.engine.registry.Exercise` (the graded ones, for titles,
        mistakes and book links).
    lateness : dict, optional
        submission -> :class:`~autograder.instructor.late.Lateness`; scores are then after the penalty.
    changes : list of autograder.instructor.regrade.Change, optional
        What a regrade changed.
    top : int
        Mistakes listed per exercise.
    """
    lateness = lateness or {}
    n = len(reports)
    students = []
    per_ex: dict[str, dict] = {}
    mistakes: dict[str, Counter] = {}
    for r in reports:
        late = lateness.get(r.submission)
        final = late.apply(r.score) if late is not None else r.score
        students.append({"submission": r.submission, "score": round(r.score, 4), "final": round(final, 4),
                         "max_score": r.max_score, "days_late": late.days if late is not None else 0,
                         "unreadable": _unreadable(r)})
        for ex_id, (score, top_score, status) in r.by_exercise().items():
            entry = per_ex.setdefault(ex_id, {"students": 0, "attempted": 0, "passed": 0, "points": 0.0,
                                              "max_score": top_score})
            entry["students"] += 1
            entry["attempted"] += not r.error and _attempted(o for o in r.outcomes if o.exercise == ex_id)
            entry["passed"] += status == PASSED
            entry["points"] += score
        for ex_id in r.exercises:
            ex = exercises.get(ex_id)
            if ex is None:
                continue
            mine = [o for o in r.outcomes if o.exercise == ex_id]
            named = {m.description for o in mine for m in _mistakes_of(o, ex)}
            mistakes.setdefault(ex_id, Counter()).update(named)
            if not named and any(o.status == FAILED for o in mine) and not _unreadable(r):
                per_ex[ex_id]["unnamed"] = per_ex[ex_id].get("unnamed", 0) + 1
    table = []
    for ex_id, e in per_ex.items():
        ex = exercises.get(ex_id)
        by_description = {m.description: m for m in ex.mistakes} if ex is not None else {}
        table.append({
            "id": ex_id, "title": ex.title if ex is not None else ex_id,
            "url": ex.url() if ex is not None else None,
            "max_score": e["max_score"], "students": e["students"], "attempted": e["attempted"],
            "passed": e["passed"], "pass_rate": round(e["passed"] / e["students"], 4) if e["students"] else 0.0,
            "mean_score": round(e["points"] / e["students"], 4) if e["students"] else 0.0,
            "failed_unnamed": e.get("unnamed", 0),
            "mistakes": [{"description": d, "students": c, "url": ex.url(by_description[d].anchor)}
                         for d, c in mistakes.get(ex_id, Counter()).most_common(top)],
        })
    table.sort(key=lambda t: (t["pass_rate"], t["mean_score"] / (t["max_score"] or 1), t["id"]))
    finals = [s["final"] for s in students]
    max_score = max((s["max_score"] for s in students), default=0.0)
    return {
        "students": n,
        "max_score": max_score,
        "seeds": sorted({r.seed for r in reports}),
        "mean": round(sum(finals) / n, 4) if n else 0.0,
        "median": round(statistics.median(finals), 4) if n else 0.0,
        "late_policy": any(r.submission in lateness for r in reports),
        "exercises": table,
        "nobody_attempted": [t["id"] for t in table if t["attempted"] == 0],
        "unreadable": [{"submission": s["submission"], "reason": s["unreadable"]} for s in students if s["unreadable"]],
        "late": [{"submission": s["submission"], "days_late": s["days_late"], "score": s["score"], "final": s["final"]}
                 for s in students if s["days_late"]],
        "changes": None if changes is None else [
            {"submission": c.submission, "old": c.old, "new": c.new,
             "tests": [{"name": name, "old": a, "new": b} for name, a, b in c.parts]}
            for c in changes if c.changed],
        "scores": [{"submission": s["submission"], "score": s["score"], "final": s["final"]} for s in students],
    }


# --- drawing ------------------------------------------------------------------------------------

def _svg(fig) -> str:
    """A matplotlib figure as an ``<img>`` with an SVG ``data:`` URI (text kept as text: small)."""
    import matplotlib
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "class-report"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _histogram(data: dict) -> str:
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6, 2.6))
    ax = fig.add_subplot()
    top = data["max_score"] or 1.0
    finals = [s["final"] for s in data["scores"]]
    bins = min(20, max(1, int(round(top)))) if top >= 1 else 10
    ax.hist(finals, bins=bins, range=(0, top), color="#4a6fb3", edgecolor="white")
    ax.set_xlabel("score" + (" after the late penalty" if data["late_policy"] else "") + f" (of {points(top)})")
    ax.set_ylabel("students")
    ax.axvline(data["median"], color="#b42318", linestyle="--", linewidth=1, label=f"median {points(data['median'])}")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def _pass_rates(data: dict) -> str:
    from matplotlib.figure import Figure
    table = data["exercises"]
    fig = Figure(figsize=(6, 0.3 * len(table) + 0.9))
    ax = fig.add_subplot()
    rows = list(reversed(table))             # hardest at the top
    ax.barh([t["id"] for t in rows], [100 * t["pass_rate"] for t in rows], color="#1a7f37")
    ax.barh([t["id"] for t in rows], [100 * (t["attempted"] - t["passed"]) / (t["students"] or 1) for t in rows],
            left=[100 * t["pass_rate"] for t in rows], color="#f0b429", label="attempted, not full marks")
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of the class with full marks (green)")
    ax.legend(frameon=False, loc="lower right", fontsize="small")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 62em; margin: 1.5em auto; padding: 0 1em; color: #222; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: .5em 0; max-width: 100%; }
td, th { padding: .25em .6em; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.empty { color: #777; }
"""


def _link(text: str, url: str | None) -> str:
    if url and url.startswith(("http://", "https://")):
        return f'<a href="{html.escape(url)}">{html.escape(text)}</a>'
    if url:
        path = url.removeprefix("the book, ")
        return f'{html.escape(text)} (the book, <code>{html.escape(path)}</code>)'
    return html.escape(text)


def _list(items: list[str], empty: str) -> str:
    return f"<ul>{''.join(f'<li>{i}</li>' for i in items)}</ul>" if items else f"<p class='empty'>{empty}</p>"


def to_html(data: dict) -> str:
    """The class report page of :func:`summarize`'s data."""
    e = html.escape
    n, top = data["students"], data["max_score"]
    rows = []
    for t in data["exercises"]:
        rows.append(f"<tr><td>{_link(t['id'] + ' ' + t['title'], t['url'])}</td>"
                    f"<td class='n'>{100 * t['pass_rate']:.0f}%</td><td class='n'>{t['passed']}/{t['students']}</td>"
                    f"<td class='n'>{t['attempted']}</td><td class='n'>{t['mean_score']:.1f}/{points(t['max_score'])}</td></tr>")
    mistakes = []
    for t in data["exercises"]:
        if t["mistakes"] or t["failed_unnamed"]:
            items = "".join(f"<li><strong>{m['students']}</strong> student{'s' if m['students'] != 1 else ''}: "
                            f"{_link(m['description'], m['url'])}</li>" for m in t["mistakes"])
            other = t["failed_unnamed"]
            items += (f"<li class='empty'>{other} other student{'s' if other != 1 else ''} failed a test with no "
                      "named mistake</li>" if other else "")
            mistakes.append(f"<h3>{e(t['id'] + ' ' + t['title'])}</h3><ul>{items}</ul>")
    late = [f"{e(s['submission'])}: {s['days_late']} day{'s' if s['days_late'] != 1 else ''} late, "
            f"{points(s['score'])} → {points(s['final'])}" for s in data["late"]]
    unreadable = [f"{e(u['submission'])}: {e(u['reason'])}" for u in data["unreadable"]]
    changes = ""
    if data["changes"] is not None:
        items = []
        for c in data["changes"]:
            old = "—" if c["old"] is None else points(c["old"])
            tests = "".join(f"<li>{e(t['name'])}: {'—' if t['old'] is None else points(t['old'])} → "
                            f"{'—' if t['new'] is None else points(t['new'])}</li>" for t in c["tests"])
            items.append(f"{e(c['submission'])}: {old} → {points(c['new'])}" + (f"<ul>{tests}</ul>" if tests else ""))
        changes = ("<section id='changes'><h2>What the regrade changed</h2>"
                   + _list(items, "No student's score changed.") + "</section>")
    histogram = (f"<img id='histogram' alt='histogram of the scores of {n} students' src='{_histogram(data)}'>"
                 if n else "")
    rates = (f"<img id='pass-rates' alt='pass rate per exercise, hardest first' src='{_pass_rates(data)}'>"
             if data["exercises"] else "")
    seeds = ", ".join(map(str, data["seeds"]))
    relative = any(m["url"] and not m["url"].startswith(("http://", "https://"))
                   for t in data["exercises"] for m in t["mistakes"])
    book = ("<p class='empty' id='book-links'>Book sections are given as paths inside the book; set "
            "<code>OLF_BOOK_URL</code> to the published book's address before grading to make them links.</p>"
            if relative else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Class report</title><style>{_STYLE}</style></head>
<body><h1>Class report</h1>
<p id="summary">{n} submission{'s' if n != 1 else ''}, scored out of {points(top)}: mean {data['mean']:.1f},
median {points(data['median'])}{' (after the late penalty)' if data['late_policy'] else ''}; seed {e(seeds)}.</p>
<section id="scores"><h2>Scores</h2>{histogram}</section>
<section id="exercises"><h2>Exercises, hardest first</h2>{rates}
<table><thead><tr><th>exercise</th><th>full marks</th><th>students</th><th>attempted</th><th>mean</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table></section>
<section id="mistakes"><h2>The most frequent mistakes</h2>
{''.join(mistakes) or "<p class='empty'>No registered mistake was recognised.</p>"}{book}</section>
<section id="nobody"><h2>Exercises nobody attempted</h2>{_list([e(x) for x in data['nobody_attempted']], 'None.')}</section>
<section id="unreadable"><h2>Submissions that could not be read or loaded</h2>{_list(unreadable, 'None.')}</section>
<section id="late"><h2>Late submissions</h2>{_list(late, 'None.' if data['late_policy'] else 'No late policy was given.')}</section>
{changes}
</body></html>
"""


def write(path, reports, exercises, *, lateness=None, changes=None) -> tuple[Path, Path]:
    """Write the page to ``path`` and its data beside it (same name, ``.json``); both atomically."""
    data = summarize(reports, exercises, lateness=lateness, changes=changes)
    path = Path(path)
    data_path = path.with_suffix(".json") if path.suffix != ".json" else path.with_name(path.name + ".data.json")
    write_atomic(data_path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    write_atomic(path, to_html(data))
    return path, data_path
