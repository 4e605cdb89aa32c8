"""The book's ``solution-code`` directive (and the solved lessons): a folded solution is the
code, not the docstring, and it shows the private helpers the code calls."""
import ast
from pathlib import Path

import pytest

from autograder.lessons import solution_code

ROOT = Path(__file__).resolve().parents[2]


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
    from autograder.engine.questions import Question
    for ex in load_exercises().values():
        if isinstance(ex, Question):
            continue
        code = solution_code(ROOT / "solutions" / f"{ex.module}.py", list(ex.functions))
        tree = ast.parse(code)
        assert [n.name for n in tree.body][:len(ex.functions)] == list(ex.functions)
        assert ast.get_docstring(tree.body[0]) is None, ex.id


def test_docstrings_are_kept_when_asked(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(MODULE)
    code = solution_code(path, ["shown"], docstrings=True)
    assert '"""Twice x."""' in code and "on two lines." in code
    assert [n.name for n in ast.parse(code).body] == ["shown", "_scale", "_shift"]


def test_a_solved_lesson_defines_the_private_helpers_it_calls_instead_of_importing_them():
    """Like a student's complete solution: the helpers are the cell's own code."""
    from autograder.framework import load_exercises
    from autograder.lessons import solved_source
    from autograder.engine.questions import Question
    for ex in load_exercises().values():
        if isinstance(ex, Question):
            continue
        tree = ast.parse(solved_source(ex))
        imported = {a.name for n in tree.body if isinstance(n, ast.ImportFrom) for a in n.names}
        defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert not {n for n in imported if n.startswith("_") and not n.startswith("__")}, ex.id
        assert set(ex.functions) <= defined, ex.id
        called = {n.func.id for n in ast.walk(tree)
                  if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id.startswith("_")}
        assert called <= defined, (ex.id, called - defined)
