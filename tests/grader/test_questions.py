"""Questions (autograder/engine/questions.py): an answer written as a literal, read without running it.

The meta-tests (tests/grader/test_meta.py) check every question of the course: the reference answer
and a correctly rounded one get full marks, every registered wrong answer loses the points
and is named, and anything but a literal scores zero with a clear message. Here: the rule
for reading an answer, ``check()`` in a notebook, ``grade`` and the pytest path.
"""
import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import autograder
from autograder.grade import grade_submission
from autograder.engine.questions import ANSWERED, INVALID, MISSING, UNANSWERED, Question, read_answer
from autograder.engine.registry import load_exercises

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = load_exercises()
STABLE = EXERCISES["ex2_5"]          # largest_stable_lr, a number to 3 significant digits
CHOICE = EXERCISES["ex3_8"]          # robbins_monro_schedule, one of 'a' .. 'd'


@pytest.mark.parametrize("cells,status,value", [
    (["largest_stable_lr = 0.25"], ANSWERED, 0.25),
    (["largest_stable_lr = -1e-3  # a comment"], ANSWERED, -1e-3),
    (["largest_stable_lr: float = 3"], ANSWERED, 3),
    (["largest_stable_lr = (1, 2.5)"], ANSWERED, (1, 2.5)),
    (["largest_stable_lr = [1, 2.5]"], ANSWERED, (1, 2.5)),
    (["largest_stable_lr = 0.1", "x = 2", "largest_stable_lr = 0.2"], ANSWERED, 0.2),     # the last one
    (["largest_stable_lr = 0.1", "largest_stable_lr = 0.2 +"], ANSWERED, 0.1),           # a broken cell is passed over
    (["def f():\n    largest_stable_lr = 0.3\n", "largest_stable_lr = None"], UNANSWERED, None),   # top level only
    (["largest_stable_lr = ..."], UNANSWERED, None),
    (["largest_stable_lr = 2 / 6"], INVALID, None),
    (["largest_stable_lr = np.sqrt(2)"], INVALID, None),
    (["largest_stable_lr = __import__('os').system('true')"], INVALID, None),
    (["largest_stable_lr = {1, 2}"], INVALID, None),
    (["largest_stable_lr = 1j"], INVALID, None),
    (["largest_stable_lr = " + "9" * 400], INVALID, None),
    (["stable = 0.3"], MISSING, None),
    (["%matplotlib inline\nlargest_stable_lr = 0.5\n!ls"], ANSWERED, 0.5),          # magics, as the loader drops them
])
def test_an_answer_is_the_last_top_level_literal(cells, status, value):
    answer = read_answer(cells, "largest_stable_lr")
    assert answer.status == status, answer
    if status == ANSWERED:
        assert answer.value == value and type(answer.value) is type(value)
    if status in (INVALID, MISSING):
        assert "largest_stable_lr" in answer.message


def test_a_choice_ignores_case_and_spaces():
    assert read_answer(["robbins_monro_schedule = ' B '"], CHOICE.name, CHOICE.choices).value == "b"


def test_reading_an_answer_never_runs_it(tmp_path):
    marker = tmp_path / "ran"
    read_answer([f"largest_stable_lr = open({str(marker)!r}, 'w')"], "largest_stable_lr")
    assert not marker.exists()


def test_a_question_needs_an_answer_function_and_one_graded_test():
    with pytest.raises(ValueError, match="_answer"):
        Question("ex9_1", test_a_choice_ignores_case_and_spaces)
    with pytest.raises(ValueError, match="one graded test"):
        STABLE.graded(points=1, digits=3)


def test_the_feedback_on_a_wrong_choice_names_the_choices():
    outcome = CHOICE.tests[0]
    from autograder.engine.diagnosis import run_test
    wrong = run_test(outcome, CHOICE.subject_from(["robbins_monro_schedule = 'e'"]), 0)
    assert wrong.score == 0 and "not one of the choices 'a', 'b', 'c', 'd'" in wrong.message
    number = run_test(outcome, CHOICE.subject_from(["robbins_monro_schedule = 2"]), 0)
    assert number.score == 0 and "not one of the choices" in number.message


# --- check() in a notebook: the same rule, applied to the cells the student ran ---------------

class FakeShell:
    def __init__(self, history):
        self.user_ns = {"In": ["", *history]}


@pytest.fixture
def kernel(monkeypatch):
    import IPython

    def run(*history):
        monkeypatch.setattr(IPython, "get_ipython", lambda: FakeShell(history))
    return run


def test_check_grades_the_literal_the_student_ran(kernel, capsys):
    right = repr(STABLE.expected())
    kernel(f"largest_stable_lr = {right}", "check(largest_stable_lr=largest_stable_lr)")
    assert autograder.check(largest_stable_lr=float(right)) is None
    assert "1/1 points" in capsys.readouterr().out

    kernel("largest_stable_lr = 1 / 6", "check(largest_stable_lr=largest_stable_lr)")
    autograder.check(largest_stable_lr=1 / 6)
    out = capsys.readouterr().out
    assert "0/1 points" in out and "is not a literal" in out and "reference solution" not in out

    kernel("largest_stable_lr = 0.1667", "print(1)", "check(largest_stable_lr=largest_stable_lr)")
    autograder.check(largest_stable_lr=0.1667)
    assert "This matches a known mistake: 1/L" in capsys.readouterr().out

    kernel("largest_stable_lr = None  # ex2_5: your answer", "check(largest_stable_lr=largest_stable_lr)")
    autograder.check(largest_stable_lr=None)
    assert "not attempted yet (0/1 points)" in capsys.readouterr().out


def test_check_outside_ipython_uses_the_value(monkeypatch, capsys):
    import IPython
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    autograder.check(robbins_monro_schedule="a")
    assert "step decay" in capsys.readouterr().out
    with pytest.raises(TypeError, match="not a question"):
        autograder.check(no_such_answer=1)
    with pytest.raises(TypeError, match="one answer at a time"):
        autograder.check(robbins_monro_schedule="a", largest_stable_lr=1.0)


# --- grading a submission, by `grade` and by pytest --------------------------------------------

def _answers(tmp_path, text: str) -> Path:
    path = tmp_path / "answers.py"
    path.write_text(text, encoding="utf-8")
    return path


def test_grade_reads_the_answers_without_running_them(tmp_path):
    marker = tmp_path / "ran"
    path = _answers(tmp_path, f"largest_stable_lr = {STABLE.expected()!r}\n"
                              f"robbins_monro_schedule = open({str(marker)!r}, 'w').name\n")
    report = grade_submission(path, {"ex2_5": STABLE, "ex3_8": CHOICE}, seed=0)
    by = report.by_exercise()
    assert by["ex2_5"] == (1.0, 1, "passed") and by["ex3_8"][0] == 0
    assert "is not a literal" in [o for o in report.outcomes if o.exercise == "ex3_8"][0].message
    assert not any("no exercise function" in n for n in report.notes)


@pytest.mark.slow
def test_pytest_grades_a_question(tmp_path):
    right = _answers(tmp_path, f"largest_stable_lr = {float(f'{STABLE.expected():.3g}')}\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "autograder/tests/test_gradient_descent.py", "-m", "ex2_5", "--submission", str(right)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr
    wrong = _answers(tmp_path, "largest_stable_lr = 0.4\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "autograder/tests/test_gradient_descent.py", "-m", "ex2_5", "--submission", str(wrong)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 1 and "largest diagonal entry" in run.stdout, run.stdout


# --- the lesson's cells ------------------------------------------------------------------------

def test_sync_creates_a_questions_cells_under_its_heading(tmp_path):
    from autograder.lessons import check_source, solved_source, stub_source, sync_notebook
    lesson = ROOT / "lessons" / "02_gradient_descent.ipynb"
    nb = json.loads(lesson.read_text(encoding="utf-8"))
    tags = {"ex2_5", "check-ex2_5", "solution-ex2_5"}
    nb["cells"] = [c for c in nb["cells"] if not tags & set(c["metadata"].get("tags", []))]
    copy = tmp_path / lesson.name
    copy.write_text(json.dumps(nb), encoding="utf-8")
    assert sync_notebook(copy) == [f"{lesson.name}: created {t}" for t in ("ex2_5", "check-ex2_5", "solution-ex2_5")]
    cells = json.loads(copy.read_text(encoding="utf-8"))["cells"]
    at = next(i for i, c in enumerate(cells) if "".join(c["source"]).startswith("### Question ex2_5:"))
    assert ["".join(c["source"]) for c in cells[at + 1:at + 3]] == [stub_source(STABLE), check_source(STABLE)]
    assert ":pyobject: largest_stable_lr_answer" in "".join(cells[at + 3]["source"])
    assert ast.literal_eval(solved_source(STABLE).split("=", 1)[1].strip()) == STABLE.expected()
