"""The book's ``solution-code`` directive: a folded solution is the code, not the docstring,
and it shows the private helpers the code calls."""
import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from solution_code import solution_code  # noqa: E402


MODULE = '''
def _scale(x):
    """Twice x."""
    return 2 * x


def _unused():
    return 0


@staticmethod
def shown(x):
    """A long docstring
    on two lines."""
    y = _scale(x)
    return _shift(y)


def _shift(y):
    return y + _scale(1)
'''


def test_code_without_docstrings_and_with_the_helpers_it_calls(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(MODULE)
    code = solution_code(path, ["shown"])
    assert '"""' not in code
    assert "@staticmethod\ndef shown(x):\n    y = _scale(x)" in code
    names = [n.name for n in ast.parse(code).body]
    assert names == ["shown", "_scale", "_shift"]          # each helper once, after the functions asked for


def test_an_unknown_function_is_an_error(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(MODULE)
    with pytest.raises(ValueError, match="defines no missing"):
        solution_code(path, ["missing"])


def test_every_folded_solution_of_the_course_is_valid_code_without_docstrings():
    from autograder.framework import load_exercises
    from autograder.questions import Question
    for ex in load_exercises().values():
        if isinstance(ex, Question):
            continue
        code = solution_code(ROOT / "solutions" / f"{ex.module}.py", list(ex.functions))
        tree = ast.parse(code)
        assert [n.name for n in tree.body][:len(ex.functions)] == list(ex.functions)
        assert ast.get_docstring(tree.body[0]) is None, ex.id
