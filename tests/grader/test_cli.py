"""The command line: ``python -m autograder grade`` as an instructor and a student use it."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.framework import load_exercises
from autograder.lessons import solved_notebook

ROOT = Path(__file__).resolve().parents[2]
LESSON = ROOT / "lessons" / "01_losses.ipynb"
CHAPTER_1 = [ex for ex in load_exercises().values() if ex.chapter == 1]


def grade(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "autograder", "grade", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd or ROOT, timeout=600, env=env)


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    if not LESSON.exists():
        pytest.skip("chapter 1 lesson missing")
    path = tmp_path_factory.mktemp("solved") / "alice.ipynb"
    path.write_text(json.dumps(solved_notebook(LESSON)), encoding="utf-8")
    return path


def test_json_report_has_the_gradescope_shape(solved):
    proc = grade(solved, "--format", "json", "--seed", "5")
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert results["score"] == results["max_score"] == sum(ex.max_score for ex in CHAPTER_1)
    assert results["seed"] == 5 and "--seed 5" in results["output"]
    assert {t["status"] for t in results["tests"]} == {"passed"}
    for t in results["tests"]:
        assert set(t) >= {"name", "score", "max_score", "status", "output"}
        assert t["name"].split()[0] in {ex.id for ex in CHAPTER_1}
    assert set(results["exercises"]) == {ex.id for ex in CHAPTER_1}


def test_gradescope_format_keeps_to_the_spec(solved):
    proc = grade(solved, "--format", "gradescope", "--seed", "5", "--exercise", "ex1_1")
    results = json.loads(proc.stdout)
    assert set(results) == {"score", "execution_time", "output", "output_format", "test_output_format", "tests"}
    assert all(t["name"].startswith("ex1_1 ") for t in results["tests"])


def test_untouched_lesson_scores_zero_and_exit_status_is_zero():
    proc = grade(LESSON, "--seed", "1")
    assert proc.returncode == 0, proc.stderr
    assert f"0/{sum(ex.max_score for ex in CHAPTER_1):g} points" in proc.stdout
    assert "not attempted" in proc.stdout
    assert "seed 1" in proc.stderr


def test_text_report_names_the_mistake(tmp_path):
    path = tmp_path / "bob.py"
    path.write_text("import numpy as np\n\ndef mse_loss(y_pred, y):\n"
                    "    return np.sum((np.asarray(y_pred) - y) ** 2)\n", encoding="utf-8")
    proc = grade(path, "--exercise", "ex1_1", "--seed", "3")
    assert proc.returncode == 0
    assert "✗ ex1_1 mse_loss" in proc.stdout
    assert "This matches a known mistake" in proc.stdout and "the book, lessons/01_losses.html#" in proc.stdout
    linked = grade(path, "--exercise", "ex1_1", "--seed", "3", env={**os.environ, "OLF_BOOK_URL": "https://example.org/b/"})
    assert "https://example.org/b/lessons/01_losses.html#" in linked.stdout


def test_batch_writes_a_gradebook(solved, tmp_path):
    broken = tmp_path / "carol.ipynb"
    broken.write_text("{oops", encoding="utf-8")
    book, reports = tmp_path / "grades.csv", tmp_path / "feedback"
    proc = grade(solved, LESSON, broken, "--jobs", "2", "--csv", book, "--reports", reports, "--seed", "9",
                 "--exercise", "ex1_*")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(book.open()))
    assert [Path(r["submission"]).name for r in rows] == ["alice.ipynb", "01_losses.ipynb", "carol.ipynb"]
    top = sum(ex.max_score for ex in CHAPTER_1)
    assert [float(r["total"]) for r in rows] == [top, 0, 0]
    assert "not a valid Jupyter notebook" in rows[2]["error"]
    assert set(rows[0]) >= {ex.id for ex in CHAPTER_1}
    assert sorted(p.name for p in reports.iterdir()) == sorted(
        f"{name}.{kind}" for name in ("01_losses.ipynb", "alice.ipynb", "carol.ipynb") for kind in ("json", "html"))
    assert "not a valid Jupyter notebook" in (reports / "carol.ipynb.html").read_text(encoding="utf-8")


def test_unknown_exercise_is_a_usage_error():
    proc = grade(LESSON, "--exercise", "ex99_*")
    assert proc.returncode == 2 and "no exercise matches" in proc.stderr


def test_glob_expands_to_many_submissions(solved):
    proc = grade(str(solved.parent / "*.ipynb"), "--exercise", "ex1_1", "--seed", "1")
    assert proc.returncode == 0 and "alice.ipynb: " in proc.stdout


@pytest.mark.slow
def test_bad_instructor_options_are_usage_errors(solved, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nalice,a@uni\n", encoding="utf-8")
    for args, message in ((["--canvas", tmp_path / "c.csv", "--roster", roster], "a roster needs a 'submission' column"),
                          (["--visibility", "ex1_1=sometimes"], "--visibility takes"),
                          (["--shard", "2/1", "--seed", "1"], "1 <= K <= N"),
                          (["--shard", "half"], "--shard takes K/N"),
                          (["--late-penalty", "10%"], "need --deadline"),
                          (["--deadline", "friday"], "not an ISO 8601 time"),
                          (["--deadline", "2026-01-01T00:00", "--late-cap", "2"], "between 0% and 100%")):
        proc = grade(solved, "--exercise", "ex1_1", *args)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
    regrade = subprocess.run([sys.executable, "-m", "autograder", "regrade", tmp_path, solved], capture_output=True,
                             text=True, cwd=ROOT, timeout=600)
    assert regrade.returncode == 2 and "holds no JSON report" in regrade.stderr
