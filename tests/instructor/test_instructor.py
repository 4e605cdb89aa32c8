"""The instructor's tools on a generated class (see ``tests/instructor/instructor_class.py``): similar
submissions, visibility, regrading, late policy, gradebooks (Canvas), HTML feedback, shards.

Grading is the slow part (about a second per exercise and submission), so the batches graded
here are small and grade one or two exercises; the similarity report runs on the whole class.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from autograder.instructor.batch import grade_many, shard
from autograder.instructor.gradebook import merge, read_csv, rows_from_reports, to_canvas
from autograder.instructor.gradescope import build_zip
from autograder.instructor.html_report import to_html
from autograder.lessons import solved_notebook
from autograder.instructor.late import LatePolicy, lateness_of, parse_duration, parse_fraction, parse_time
from autograder.instructor.regrade import changes_since, read_previous
from autograder.engine.registry import load_exercises, select
from autograder.instructor.similarity import REFERENCE, find_similar
from autograder.engine.visibility import parse_overrides, visibility_of

sys.path.insert(0, str(Path(__file__).parent))
from instructor_class import LESSON, make_class

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = load_exercises()
CH5 = select(EXERCISES, ["ex5_*"])
N = 24

# A student who forgot Adam's bias correction (a registered mistake of ex5_3).
NO_BIAS_CORRECTION = """\
import numpy as np
from solutions.adaptive import AdamState


def adam_init(params):
    z = np.zeros_like(np.asarray(params, dtype=float))
    return AdamState(0, z, z.copy())


def adam_update(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    g = np.asarray(grads, dtype=float)
    m = beta1 * state.m + (1 - beta1) * g
    v = beta2 * state.v + (1 - beta2) * g * g
    return params - lr * m / (np.sqrt(v) + eps), AdamState(state.t + 1, m, v)
"""


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=900, env=env)


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    if not LESSON.exists():
        pytest.skip("chapter 5 lesson missing")
    return make_class(tmp_path_factory.mktemp("class"), N, seed=0)


@pytest.fixture(scope="module")
def mistaken(tmp_path_factory):
    path = tmp_path_factory.mktemp("bob") / "bob.py"
    path.write_text(NO_BIAS_CORRECTION, encoding="utf-8")
    return path


# --- similar submissions ------------------------------------------------------------------------

def _key(a, b):
    return frozenset(Path(x).name if x != REFERENCE else x for x in (a, b))


def _planted(planted):
    return {_key(a, b if b else REFERENCE) for a, b in planted.values()}


@pytest.mark.slow
def test_planted_pairs_rank_first_and_independent_solutions_do_not(klass):
    paths, planted = klass
    start = time.monotonic()
    result = find_similar(paths, CH5)
    seconds = time.monotonic() - start
    print(f"similarity of a class of {len(paths)} (+ the book's solution) on chapter 5: {seconds:.1f} s")
    ranked = [(_key(p.a, p.b), p.score) for p in result.pairs]
    want = _planted(planted)
    assert {k for k, _ in ranked[:len(want)]} == want
    scores = dict(ranked)
    best_independent = max(s for k, s in ranked if k not in want)
    # The renamed copy and the copied book are identical to the detector; the reformatted copy
    # and the partial copy (two exercises of four) still stand clear of every independent pair.
    assert scores[_key(*planted["renamed"])] > 0.95
    assert scores[_key(planted["book"][0], REFERENCE)] > 0.95
    assert min(scores[_key(*planted["reformatted"])], scores[_key(*planted["partial"])]) > best_independent + 0.08
    assert best_independent < 0.45
    # This class writes AdamW as a call of adam_update, in a few forms: too alike to tell apart.
    assert "ex5_4" in result.skipped and "too alike" in result.skipped["ex5_4"]
    assert result.exercises == ["ex5_1", "ex5_2", "ex5_3"]
    partial = next(p for p in result.pairs if _key(p.a, p.b) == _key(*planted["partial"]))
    assert {m.exercise for m in partial.matches if m.similarity > 0.5} == {"ex5_2", "ex5_3"}


@pytest.mark.slow
def test_similarity_is_the_same_in_every_process(klass):
    """copydetect hashes with Python's salted ``hash``: the ranking must not depend on the salt."""
    paths, _ = klass
    runs = [cli("similar", *paths[:12], "--exercise", "ex5_*", env={**os.environ, "PYTHONHASHSEED": salt})
            for salt in ("1", "2")]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[0].stdout == runs[1].stdout and "%" in runs[0].stdout


def test_stubs_and_shared_boilerplate_are_not_similarity(tmp_path):
    """Two untouched lessons (the stubs) share nothing; the signature and docstring in two
    different answers are not counted."""
    a, b = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    shutil.copy(LESSON, a)
    shutil.copy(LESSON, b)
    assert find_similar([a, b], CH5, include_reference=False).pairs == []
    loop = tmp_path / "loop.py"
    loop.write_text('''import numpy as np
from solutions.adaptive import AdamState


def adam_init(params):
    """Initial state of Adam."""
    return AdamState(0, np.zeros(np.shape(params)), np.zeros(np.shape(params)))


def adam_update(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One step of Adam."""
    out = np.array(params, dtype=float)
    m, v = np.array(state.m, dtype=float), np.array(state.v, dtype=float)
    t = state.t + 1
    for i in np.ndindex(out.shape):
        m[i] += (1 - beta1) * (grads[i] - m[i])
        v[i] += (1 - beta2) * (grads[i] ** 2 - v[i])
        out[i] -= lr / (1 - beta1 ** t) * m[i] / ((v[i] / (1 - beta2 ** t)) ** 0.5 + eps)
    return out, AdamState(t, m, v)
''', encoding="utf-8")
    result = find_similar([loop, LESSON], select(CH5, ["ex5_3"]))
    pair = [p for p in result.pairs if REFERENCE in (p.a, p.b)]
    assert not pair or pair[0].score < 0.05       # 0.09 if the signatures counted


def _no_errors(browser):
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]]


@pytest.mark.browser
def test_similarity_page_in_a_real_browser(klass, tmp_path, browser):
    from selenium.webdriver.common.by import By
    paths, planted = klass
    page = tmp_path / "similar.html"
    proc = cli("similar", str(paths[0].parent / "*.ipynb"), "--exercise", "ex5_*", "--html", page, "--top", "10")
    assert proc.returncode == 0, proc.stderr
    assert "s03.ipynb ~ s17.ipynb" in proc.stdout and "compared 25 submission(s)" in proc.stderr
    browser.get(page.as_uri())
    rows = browser.find_elements(By.CSS_SELECTOR, "#ranking tbody tr")
    assert len(rows) == 10
    top = [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows[:4]]
    assert {frozenset(t.split(" ~ ")) for t in top} == _planted(planted)
    # Each pair's code side by side: two columns at the same height, the shared code marked.
    link = rows[0].find_element(By.TAG_NAME, "a")
    target = link.get_attribute("href").split("#")[1]
    link.click()
    section = browser.find_element(By.ID, target)
    left, right = section.find_element(By.CSS_SELECTOR, "pre.left"), section.find_element(By.CSS_SELECTOR, "pre.right")
    assert left.is_displayed() and right.is_displayed()
    assert left.location["y"] == right.location["y"] and left.location["x"] + left.size["width"] <= right.location["x"]
    assert left.find_elements(By.TAG_NAME, "mark") and right.find_elements(By.TAG_NAME, "mark")
    assert "def " in left.text and "def " in right.text
    assert _no_errors(browser) == []


# --- visibility ---------------------------------------------------------------------------------

def test_visibility_is_checked_and_overridden():
    adam = EXERCISES["ex5_3"]
    with pytest.raises(ValueError, match="visibility is one of"):
        adam.test(1, visibility="sometimes")
    for bad in ("ex5_3", "ex5_3=secret", "=hidden"):
        with pytest.raises(ValueError, match="--visibility takes"):
            parse_overrides([bad])
    overrides = parse_overrides(["ex5_*=after_due_date", "ex5_3::*trajectory=hidden"])
    levels = {t.name: visibility_of(t, overrides) for t in adam.tests}
    assert levels.pop("test_adam_trajectory") == "hidden"
    assert set(levels.values()) == {"after_due_date"}
    assert {visibility_of(t) for t in adam.tests} == {"visible"}


@pytest.fixture
def adam_partly_hidden():
    """ex5_3 with its trajectory test after the due date and its magnitudes test hidden (registered)."""
    tests = {t.name: t for t in EXERCISES["ex5_3"].tests}
    tests["test_adam_trajectory"].visibility = "after_due_date"
    tests["test_adam_magnitudes"].visibility = "hidden"
    yield tests
    tests["test_adam_trajectory"].visibility = tests["test_adam_magnitudes"].visibility = None


def test_check_shows_only_visible_tests_and_says_more_is_graded(adam_partly_hidden, capsys):
    from autograder.feedback import check
    from solutions.adaptive import adam_init, adam_update
    assert check(adam_init, adam_update) == (adam_init, adam_update)
    out = capsys.readouterr().out
    hidden = [adam_partly_hidden[n] for n in ("test_adam_trajectory", "test_adam_magnitudes")]
    shown = [t for t in EXERCISES["ex5_3"].tests if t not in hidden]
    assert f"{sum(t.points for t in shown):g}/{sum(t.points for t in shown):g} points" in out
    for t in hidden:
        assert t.title.split(": ", 1)[1] not in out
    points = sum(t.points for t in hidden)
    assert f"2 more tests ({points:g} points) are graded when you submit" in out


@pytest.mark.slow
def test_gradescope_zip_carries_visibility(tmp_path):
    from test_gradescope import check_results_spec, run_autograder, unpack
    zip_file = build_zip(tmp_path / "autograder.zip", ["ex5_3", "ex5_1"], visibility=["ex5_1=after_published"])
    root = unpack(zip_file, tmp_path / "autograder")
    (root / "submission" / "05_adaptive.ipynb").write_text(json.dumps(solved_notebook(LESSON)), encoding="utf-8")
    doc, proc = run_autograder(root)
    check_results_spec(doc)
    got = {(t["name"].split()[0], t["visibility"]) for t in doc["tests"]}
    # The override baked into run_autograder is what the grader of the zip applies.
    assert got == {("ex5_1", "after_published"), ("ex5_3", "visible")}
    assert "4 tests (7 points) are shown once the grades are published" in doc["output"]
    with pytest.raises(ValueError, match="--visibility takes"):
        build_zip(tmp_path / "bad.zip", ["ex5_3"], visibility=["ex5_3=soon"])


# --- HTML feedback, visibility in the local reports --------------------------------------------

@pytest.fixture(scope="module")
def graded(klass, mistaken):
    """Three students and the mistaken one, graded on ex5_3 with registered visibilities in place."""
    paths, _ = klass
    subs = [str(p) for p in paths[:3]] + [str(mistaken)]
    tests = {t.name: t for t in EXERCISES["ex5_3"].tests}
    tests["test_adam_trajectory"].visibility = "after_due_date"
    try:
        reports = grade_many(subs, ["ex5_3"], seed=4, jobs=2)
    finally:
        tests["test_adam_trajectory"].visibility = None
    return reports


def test_reports_carry_visibility(graded):
    bob = graded[-1]
    levels = {o.title.split(": ", 1)[1][:20]: o.visibility for o in bob.outcomes}
    assert list(levels.values()).count("after_due_date") == 1
    assert all(r.score == r.max_score == EXERCISES["ex5_3"].max_score for r in graded[:3])
    assert 0 < bob.score < bob.max_score


@pytest.mark.browser
def test_html_feedback_in_a_real_browser(graded, tmp_path, browser):
    from selenium.webdriver.common.by import By
    bob = graded[-1]
    trajectory = next(o for o in bob.outcomes if o.visibility == "after_due_date")
    late = LatePolicy(parse_time("2026-01-10T12:00+00:00"), per_day=0.1).lateness(
        parse_time("2026-01-11T13:00+00:00"), "times CSV")
    before = tmp_path / "before.html"
    before.write_text(to_html(bob, stage="before_due", lateness=late), encoding="utf-8")
    browser.get(before.as_uri())
    text = browser.find_element(By.TAG_NAME, "body").text
    assert trajectory.title.split(": ", 1)[1] not in text
    assert f"1 more test ({trajectory.max_score:g} points) is graded when you submit" in text
    shown = [o for o in bob.outcomes if o.visibility == "visible"]
    assert f"Score: {sum(o.score for o in shown):g}/{sum(o.max_score for o in shown):g} points (of the tests shown)" in text
    assert "2 days late, 20% of the points deducted" in text
    feedback = browser.find_elements(By.CSS_SELECTOR, "pre.feedback")
    assert feedback and all(f.is_displayed() for f in feedback)
    assert any("This matches a known mistake" in f.text for f in feedback)
    links = [a.get_attribute("href") for f in feedback for a in f.find_elements(By.TAG_NAME, "a")]
    assert links and all(h.endswith("lessons/05_adaptive.html#adam-bias-correction") for h in links)
    rows = browser.find_elements(By.CSS_SELECTOR, "#summary tbody tr")
    assert [r.get_attribute("class") for r in rows] == ["partial"]
    assert _no_errors(browser) == []
    after = tmp_path / "after.html"
    after.write_text(to_html(bob, stage="after_due_date"), encoding="utf-8")
    browser.get(after.as_uri())
    text = browser.find_element(By.TAG_NAME, "body").text
    assert trajectory.title.split(": ", 1)[1] in text and "more test" not in text
    assert f"Score: {bob.score:g}/{bob.max_score:g} points\n" in text + "\n"


# --- late policy --------------------------------------------------------------------------------

def test_late_policy_arithmetic():
    deadline = parse_time("2026-03-01T23:59+00:00")
    policy = LatePolicy(deadline, grace=parse_duration("15m"), per_day=parse_fraction("10%"), cap=parse_fraction("25%"))
    at = lambda **kw: policy.lateness(deadline + timedelta(**kw))  # noqa: E731
    assert (at(minutes=-5).days, at(minutes=14).days) == (0, 0)          # on time, within the grace
    assert (at(minutes=16).days, at(minutes=16).penalty) == (1, 0.1)     # a day started counts
    assert (at(hours=24, minutes=15).days, at(hours=24, minutes=16).days) == (1, 2)
    assert at(days=2, minutes=16).penalty == pytest.approx(0.25)         # 3 days, capped at 25%
    assert at(days=2, minutes=16).apply(8.0) == pytest.approx(6.0)
    assert policy.lateness(None).penalty == 0
    assert parse_time("2026-03-01T23:59Z") == deadline
    for bad, fn in (("tomorrow", parse_time), ("1 week", parse_duration), ("120%", parse_fraction)):
        with pytest.raises(ValueError):
            fn(bad)


def test_submission_times_from_files_and_from_a_csv(tmp_path):
    deadline = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    policy = LatePolicy(deadline, per_day=0.5)
    early, late, folder = tmp_path / "early.py", tmp_path / "late.py", tmp_path / "team"
    folder.mkdir()
    for p, hours in ((early, -1), (late, 30), (folder / "a.py", -3), (folder / "b.py", 2)):
        p.write_text("x = 1\n")
        stamp = (deadline + timedelta(hours=hours)).timestamp()
        os.utime(p, (stamp, stamp))
    got = lateness_of([early, late, folder], policy)
    assert [got[str(p)].days for p in (early, late, folder)] == [0, 2, 1]     # a folder: its newest file
    assert got[str(late)].penalty == 1.0 and got[str(late)].source == "file time"
    times = {"early.py": deadline + timedelta(days=3)}
    got = lateness_of([early, late], policy, times)
    assert got[str(early)].days == 3 and got[str(late)].submitted is None and got[str(late)].penalty == 0


# --- gradebooks: CSV with late columns, Canvas, regrading, shards -------------------------------

@pytest.fixture(scope="module")
def batch(klass, mistaken, tmp_path_factory):
    """Five submissions graded on ex5_3 by the command line, with a late policy and reports."""
    paths, _ = klass
    out = tmp_path_factory.mktemp("batch")
    subs = [paths[0], paths[1], paths[2], paths[-1], mistaken]
    times = out / "times.csv"
    times.write_text("submission,time\n" + "\n".join(
        f"{p.name},2026-05-0{d}T10:00+02:00" for p, d in zip(subs, (1, 1, 3, 2, 5))) + "\n", encoding="utf-8")
    roster = out / "roster.csv"
    # The third student has an extension to 2026-05-04 (handed in on the 3rd: on time).
    roster.write_text("submission,Student,ID,SIS User ID,SIS Login ID,Section,deadline\n"
                      + "\n".join(f"{p.name},\"Doe, {p.stem}\",{100 + i},S{i},{p.stem}@uni,A,"
                                  + ("2026-05-04T12:00+02:00" if i == 2 else "") for i, p in enumerate(subs[:4]))
                      + "\n", encoding="utf-8")
    proc = cli("grade", *subs, "--exercise", "ex5_3", "--seed", "11", "--jobs", "2", "--csv", out / "grades.csv",
               "--canvas", out / "canvas.csv", "--roster", roster, "--canvas-prefix", "Ch5: ", "--reports", out / "reports",
               "--deadline", "2026-05-01T12:00+02:00", "--grace", "1h", "--late-penalty", "10%", "--late-cap", "30%",
               "--submission-times", times, "--visibility", "ex5_3::test_adam_trajectory=after_due_date")
    assert proc.returncode == 0, proc.stderr
    return subs, out, proc


def test_gradebook_has_the_late_columns(batch):
    subs, out, proc = batch
    rows = {Path(r["submission"]).name: r for r in csv.DictReader((out / "grades.csv").open())}
    top = EXERCISES["ex5_3"].max_score
    days = {name: int(r["days_late"]) for name, r in rows.items()}
    assert list(days.values()) == [0, 0, 0, 1, 4]          # the third has an extension
    deadlines = [r["deadline"] for r in rows.values()]
    assert deadlines[2] == "2026-05-04T12:00:00+02:00" and set(deadlines) - {deadlines[2]} == {"2026-05-01T12:00:00+02:00"}
    for r in rows.values():
        assert float(r["final"]) == pytest.approx(float(r["total"]) * (1 - min(0.3, 0.1 * int(r["days_late"]))))
        assert r["seed"] == "11" and float(r["max_score"]) == top
    assert float(rows["bob.py"]["late_penalty"]) == 0.3
    assert "late policy: deadline 2026-05-01T12:00+02:00" in proc.stderr
    assert (out / "reports" / "bob.py.html").is_file() and (out / "reports" / "bob.py.json").is_file()
    doc = json.loads((out / "reports" / "bob.py.json").read_text())
    assert doc["late"]["days"] == 4 and doc["late"]["score_after_penalty"] == pytest.approx(0.7 * doc["score"])
    extended = subs[2].name
    page = (out / "reports" / f"{extended}.html").read_text()
    assert "on time (your deadline: 2026-05-04T12:00+02:00)" in page
    assert json.loads((out / "reports" / f"{extended}.json").read_text())["late"]["extended"] is True
    assert "own deadlines (roster) for 1 student(s)" in proc.stderr


def test_roster_deadline_replaces_the_class_s(tmp_path):
    from autograder.instructor.gradebook import read_roster, roster_deadlines
    roster = tmp_path / "roster.csv"
    roster.write_text("submission,deadline\nann.py,2026-03-05T12:00Z\nben.py,\n")
    own = roster_deadlines(read_roster(roster))
    assert list(own) == ["ann.py"]
    policy = LatePolicy(parse_time("2026-03-01T12:00Z"), per_day=0.1)
    for name in ("ann.py", "ben.py"):
        (tmp_path / name).write_text("x = 1\n")
    times = {"ann.py": parse_time("2026-03-04T12:00Z"), "ben.py": parse_time("2026-03-04T12:00Z")}
    got = lateness_of([tmp_path / "ann.py", tmp_path / "ben.py"], policy, times, own)
    ann, ben = got[str(tmp_path / "ann.py")], got[str(tmp_path / "ben.py")]
    assert (ann.days, ann.penalty, ann.extended) == (0, 0.0, True) and (ben.days, ben.extended) == (3, False)
    assert "your deadline: 2026-03-05T12:00+00:00" in ann.describe()
    roster.write_text("submission,deadline\nann.py,next friday\n")
    with pytest.raises(ValueError, match="line 2"):
        read_roster(roster)
    roster.write_text("submission,deadline\nann.py,2026-03-05T12:00Z\n")
    proc = cli("grade", tmp_path / "ann.py", "--exercise", "ex5_1", "--roster", roster)
    assert proc.returncode == 2 and "need --deadline" in proc.stderr


def test_cli_reports_carry_the_visibility_override(batch):
    subs, out, proc = batch
    trajectory = next(t for t in EXERCISES["ex5_3"].tests if t.name == "test_adam_trajectory")
    doc = json.loads((out / "reports" / "bob.py.json").read_text())
    assert {t["name"]: t["visibility"] for t in doc["tests"]}[trajectory.title] == "after_due_date"
    assert f"1 test ({trajectory.points:g} points) is shown after the due date" in doc["output"]
    page = (out / "reports" / "bob.py.html").read_text()
    assert trajectory.title.split(": ", 1)[1] not in page and "1 more test" in page
    # The instructor's text report shows every test, marking those students do not see yet.
    assert f"{trajectory.title.split(': ', 1)[1]} ({trajectory.points:g} pt) [after_due_date]" in proc.stdout


def test_canvas_gradebook(batch):
    subs, out, _ = batch
    lines = list(csv.reader((out / "canvas.csv").open()))
    assert lines[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Ch5: ex5_3 adam_init, adam_update"]
    assert lines[1][0] == "Points Possible" and float(lines[1][5]) == EXERCISES["ex5_3"].max_score
    students = {row[0]: row for row in lines[2:]}
    assert students[f"Doe, {subs[0].stem}"][1:5] == ["100", "S0", f"{subs[0].stem}@uni", "A"]
    assert "bob" in students                      # not in the roster: named by the file
    grades = {Path(r["submission"]).stem: float(r["final"]) for r in csv.DictReader((out / "grades.csv").open())}
    assert float(students["bob"][5]) == pytest.approx(grades["bob"])
    assert float(students[f"Doe, {subs[2].stem}"][5]) == pytest.approx(grades[subs[2].stem])


@pytest.mark.slow
def test_regrade_reports_what_changed(batch, tmp_path):
    subs, out, _ = batch
    # Nothing changed: the previous seed is reused, no student changes.
    proc = cli("regrade", out / "reports", *subs, "--exercise", "ex5_3", "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    assert "seed 11" in proc.stderr and f"regrade: 0 of {len(subs)} submission(s) changed" in proc.stdout
    # A previous grading that differed (its reports edited): the student and the test are named.
    old = tmp_path / "old"
    shutil.copytree(out / "reports", old)
    doc = json.loads((old / "bob.py.json").read_text())
    failed = next(t for t in doc["tests"] if t["status"] == "failed")
    failed["score"] = failed["max_score"]
    doc["score"] += failed["max_score"]
    keep = 1 - doc["late"]["penalty"]                  # bob is late: he sees his score after the penalty
    doc["late"]["score_after_penalty"] += keep * failed["max_score"]
    (old / "bob.py.json").write_text(json.dumps(doc))
    proc = cli("regrade", old, *subs, "--exercise", "ex5_3", "--changes", tmp_path / "changes.csv")
    assert f"regrade: 1 of {len(subs)} submission(s) changed" in proc.stdout
    assert f"{failed['name']}: {failed['max_score']:g} -> 0" in proc.stdout
    rows = list(csv.DictReader((tmp_path / "changes.csv").open()))
    bob = next(r for r in rows if r["submission"] == "bob.py")
    assert float(bob["change"]) == pytest.approx(-keep * failed["max_score"]) and failed["name"] in bob["changed_tests"]
    assert [r["change"] for r in rows if r["submission"] != "bob.py"] == ["+0"] * (len(subs) - 1)
    # From a gradebook the comparison is per exercise.
    with (out / "grades.csv").open() as f:
        book = list(csv.DictReader(f))
    top = EXERCISES["ex5_3"].max_score
    for row in book:
        if row["submission"].endswith("bob.py"):
            row["ex5_3"] = row["total"] = f"{top:g}"
            row["final"] = f"{keep * top:g}"
    with (tmp_path / "old.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(book[0]))
        writer.writeheader()
        writer.writerows(book)
    proc = cli("regrade", tmp_path / "old.csv", *subs, "--exercise", "ex5_3")
    assert f"regrade: 1 of {len(subs)} submission(s) changed" in proc.stdout and "seed 11" in proc.stderr
    now = doc["score"] - failed["max_score"]
    assert f"bob.py: {keep * top:g} -> {keep * now:g}" in proc.stdout
    assert f"ex5_3: {top:g} -> {now:g}" in proc.stdout


def test_regrade_after_a_test_changed(graded, tmp_path):
    """A test worth more points now: every student who passes it gains them, the others do not."""
    from autograder.instructor.report import to_json
    for r in graded:
        (tmp_path / f"{Path(r.submission).name}.json").write_text(to_json(r))
    previous = read_previous(tmp_path)
    test = next(t for t in EXERCISES["ex5_3"].tests if t.name == "test_adam_first_step")
    test.points += 2
    try:
        again = grade_many([r.submission for r in graded], ["ex5_3"], seed=4, jobs=2)
    finally:
        test.points -= 2
    changes = changes_since(previous, again)
    for c, r in zip(changes, graded):
        outcome = next(o for o in r.outcomes if o.title == test.title)
        assert c.new - c.old == (2 if outcome.passed else 0)
        assert [p[0] for p in c.parts] == ([test.title] if outcome.passed else [])


@pytest.mark.slow
def test_shards_cover_the_class_and_merge_back(klass, tmp_path):
    paths, _ = klass
    names = [str(p) for p in paths]
    slices = [shard(names, k, 3) for k in (1, 2, 3)]
    assert sorted(sum(slices, [])) == sorted(names) and shard(names[::-1], 2, 3) == slices[1]
    with pytest.raises(ValueError):
        shard(names, 4, 3)
    subs = [str(p) for p in paths[:5]]
    whole = cli("grade", *subs, "--exercise", "ex5_1", "--seed", "3", "--csv", tmp_path / "all.csv")
    parts = [cli("grade", *subs, "--exercise", "ex5_1", "--seed", "3", "--shard", f"{k}/2",
                 "--csv", tmp_path / f"part{k}.csv") for k in (1, 2)]
    assert whole.returncode == 0 and all(p.returncode == 0 for p in parts), parts[0].stderr
    assert "grading 3 submission(s)" in parts[0].stderr and "grading 2 submission(s)" in parts[1].stderr
    merged = cli("merge", tmp_path / "part2.csv", tmp_path / "part1.csv", "--csv", tmp_path / "merged.csv",
                 "--canvas", tmp_path / "canvas.csv")
    assert merged.returncode == 0, merged.stderr
    strip = lambda rows: [(r.submission, r.scores, r.total) for r in rows]  # noqa: E731
    assert strip(read_csv(tmp_path / "merged.csv")) == strip(sorted(read_csv(tmp_path / "all.csv"), key=lambda r: r.submission))
    assert list(csv.reader((tmp_path / "canvas.csv").open()))[1][5] == f"{EXERCISES['ex5_1'].max_score:g}"
    # Mistakes an instructor makes: no seed, a slice graded twice, shards with different seeds.
    assert cli("grade", *subs, "--shard", "1/2").returncode == 2
    twice = cli("merge", tmp_path / "part1.csv", tmp_path / "all.csv", "--csv", tmp_path / "x.csv")
    assert twice.returncode == 2 and "is in both" in twice.stderr
    other = tmp_path / "other.csv"
    other.write_text((tmp_path / "part2.csv").read_text().replace(",3,", ",4,"))
    seeds = cli("merge", tmp_path / "part1.csv", other, "--csv", tmp_path / "x.csv")
    assert seeds.returncode == 2 and "different seeds" in seeds.stderr


def test_canvas_without_roster_and_rows_from_reports(graded):
    rows = rows_from_reports(graded)
    text = to_canvas(rows, EXERCISES)
    lines = list(csv.reader(text.splitlines()))
    assert [ln[0] for ln in lines[2:]] == [Path(r.submission).stem for r in graded]
    assert [float(ln[5]) for ln in lines[2:]] == [r.score for r in graded]
    assert merge([]) == []
