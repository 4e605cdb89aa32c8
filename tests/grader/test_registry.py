"""The registries: one list of chapters (``solutions.CHAPTERS``) that every other list of
chapters (README, _toc.yml, book/intro.md, book/api.md, book/errata.md, pyproject.toml,
the solutions docstring, the lessons' titles) is checked against, and the exercise
registry's rules (unique ids and function names, functions only)."""
import re
import tomllib
from pathlib import Path

import pytest

from autograder.engine import registry
from autograder.engine.registry import Exercise
from solutions import CHAPTERS
from solutions import losses as ref

ROOT = Path(__file__).resolve().parents[2]


def _text(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


def _lesson(c) -> str:
    return f"lessons/{c.number:02d}_{c.module}"


def test_chapters_are_numbered_from_one():
    assert [c.number for c in CHAPTERS] == list(range(1, len(CHAPTERS) + 1))
    assert len({c.module for c in CHAPTERS}) == len(CHAPTERS)


@pytest.mark.parametrize("c", CHAPTERS, ids=[c.module for c in CHAPTERS])
def test_chapter_files_exist(c):
    for path in (f"{_lesson(c)}.ipynb", f"solutions/{c.module}.py", f"autograder/tests/test_{c.module}.py",
                 f"tests/reference/test_ref_{c.module}.py"):
        assert (ROOT / path).is_file(), f"chapter {c.number} ({c.module}): {path} is missing"


def test_toc_lists_the_chapters_in_order():
    toc = _text("_toc.yml")
    assert re.findall(r"file: (lessons/\S+)", toc) == [_lesson(c) for c in CHAPTERS]


def test_readme_table_lists_the_chapters():
    rows = re.findall(r"^\| (\d+) \| (.+?) \| `(lessons/\S+)\.ipynb` \| `solutions/(\w+)\.py` \|$",
                      _text("README.md"), re.MULTILINE)
    assert [(int(n), lesson, module) for n, _, lesson, module in rows] == [
        (c.number, _lesson(c), c.module) for c in CHAPTERS]
    for (_, title, _, _), c in zip(rows, CHAPTERS):
        assert title.startswith(c.title), f"README chapter {c.number}: {title!r} does not start with {c.title!r}"


def test_solutions_docstring_lists_the_chapters():
    import solutions
    rows = re.findall(r"^:mod:`solutions\.(\w+)`\s+(\d+)\. (.+?)\s*$", solutions.__doc__, re.MULTILINE)
    assert rows == [(c.module, str(c.number), c.title) for c in CHAPTERS]


def test_api_page_documents_every_chapter_module():
    rows = re.findall(r"^## `solutions\.(\w+)`: chapter (\d+), (.+)$", _text("book/api.md"), re.MULTILINE)
    assert [(m, int(n)) for m, n, _ in rows] == [(c.module, c.number) for c in CHAPTERS]
    for (_, _, title), c in zip(rows, CHAPTERS):
        assert c.title.lower().startswith(title.lower()), f"api.md chapter {c.number}: {title!r} vs {c.title!r}"


def test_intro_lists_the_chapters():
    intro = _text("book/intro.md")
    numbered = re.findall(r"^(\d+)\. \{doc\}`\.\./(lessons/\S+)`", intro, re.MULTILINE)
    assert [(int(n), lesson) for n, lesson in numbered] == [(c.number, _lesson(c)) for c in CHAPTERS]
    overview = intro.split("```{list-table}", 1)[1].split("```", 1)[0]
    assert len(re.findall(r"^\* - \*\*", overview, re.MULTILINE)) == len(CHAPTERS), "intro's overview table"


def test_errata_has_a_section_per_chapter():
    rows = re.findall(r"^## Chapter (\d+): (.+)$", _text("book/errata.md"), re.MULTILINE)
    assert [int(n) for n, _ in rows] == [c.number for c in CHAPTERS]
    for (_, title), c in zip(rows, CHAPTERS):
        assert c.title.lower().startswith(title.lower()), f"errata chapter {c.number}: {title!r} vs {c.title!r}"


def test_project_description_names_the_chapters():
    description = tomllib.loads(_text("pyproject.toml"))["project"]["description"]
    names = description.split(": ", 1)[1].rstrip(".").split(", ")
    assert names == [c.short for c in CHAPTERS]


def test_lesson_titles_start_with_the_chapter_title():
    import json
    for c in CHAPTERS:
        path = ROOT / f"{_lesson(c)}.ipynb"
        if not path.is_file():
            continue                                   # test_chapter_files_exist reports it
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        heading = next(line for cell in cells if cell["cell_type"] == "markdown"
                       for line in "".join(cell["source"]).splitlines() if line.startswith("# "))
        assert heading[2:].startswith(c.title), f"{path.name}: {heading!r}"


# --- the exercise registry ----------------------------------------------------------------------

@pytest.fixture
def scratch_registry(monkeypatch):
    """An empty exercise registry for the duration of a test."""
    monkeypatch.setattr(registry, "EXERCISES", {})
    return registry.EXERCISES


def test_duplicate_exercise_id_raises(scratch_registry):
    Exercise("ex1_1", ref.mse_loss)
    with pytest.raises(ValueError, match="ex1_1 is defined twice"):
        Exercise("ex1_1", ref.mse_loss_grad)
    assert scratch_registry["ex1_1"].functions == {"mse_loss": ref.mse_loss}


def test_a_module_imported_again_registers_its_exercises_again(scratch_registry):
    for _ in range(2):
        ex = Exercise("ex1_1", ref.mse_loss)                # same line: the same definition
    assert scratch_registry == {"ex1_1": ex}


def test_function_names_are_unique_across_exercises(scratch_registry):
    Exercise("ex1_1", ref.mse_loss)
    with pytest.raises(ValueError, match="function names are unique"):
        Exercise("ex1_2", ref.mse_loss, ref.mse_loss_grad)


@pytest.mark.parametrize("bad", ["1_1", "ex1", "exA_1", "ex1_x"])
def test_malformed_exercise_id_raises(scratch_registry, bad):
    with pytest.raises(ValueError, match="ex<chapter>_<n>"):
        Exercise(bad, ref.mse_loss)


def test_a_class_cannot_be_an_exercise(scratch_registry):
    class Value:
        def __init__(self, data):
            self.data = data

    with pytest.raises(ValueError, match="a class cannot be an exercise"):
        Exercise("ex6_9", Value)


def test_feedback_links_point_to_labels_of_the_lessons():
    """Every ``anchor=`` of an exercise or a mistake is a MyST label ``(anchor)=`` in its lesson."""
    import json
    from autograder.engine.registry import load_exercises
    missing = []
    for ex in load_exercises().values():
        path = ROOT / "lessons" / f"{ex.chapter:02d}_{ex.module}.ipynb"
        if not path.is_file():
            continue                                   # test_chapter_files_exist reports it
        text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                       if c["cell_type"] == "markdown")
        labels = set(re.findall(r"^\(([\w-]+)\)=\s*$", text, re.MULTILINE))
        missing += [f"{ex.id}: {a}" for a in {ex.anchor, *(m.anchor for m in ex.mistakes)} - {None} - labels]
    assert missing == [], f"anchors with no label in the lesson: {missing}"
