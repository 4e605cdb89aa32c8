"""A new chapter's four files from the templates beside this module (as otter-grader keeps its
generated files as templates): the lesson, the reference module, the graded tests and the
reference tests. ``{{name}}``-style placeholders are replaced; nothing existing is overwritten."""
import json
import keyword
from pathlib import Path

HERE = Path(__file__).parent
# template -> where it goes, relative to the project's root
FILES = {
    "lesson.ipynb": "lessons/{NN}_{name}.ipynb",
    "solution.py.tmpl": "solutions/{name}.py",
    "graded_test.py.tmpl": "autograder/tests/test_{name}.py",
    "ref_test.py.tmpl": "tests/reference/test_ref_{name}.py",
}


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def _fill_json(node, values):
    """The notebook's strings filled in one by one, so that a title with quotes stays valid JSON."""
    if isinstance(node, str):
        return _fill(node, values)
    if isinstance(node, list):
        return [_fill_json(x, values) for x in node]
    if isinstance(node, dict):
        return {k: _fill_json(v, values) for k, v in node.items()}
    return node


def new_chapter(root: str | Path, number: int, name: str, title: str, function: str | None = None) -> list[Path]:
    """Create chapter ``number``'s files (module ``name``) under ``root``; return their paths.

    ``function`` (default ``<name>_step``) is the stub exercise ``ex<number>_1``. Raises
    :class:`ValueError` on a bad name or if any of the four files exists (none is written then).
    """
    function = function or f"{name}_step"
    for word in (name, function):
        if not word.isidentifier() or keyword.iskeyword(word) or word != word.lower():
            raise ValueError(f"{word!r} is not a lower-case Python identifier")
    if not 1 <= number <= 99:
        raise ValueError(f"chapter {number} is not between 1 and 99")
    values = {"number": str(number), "NN": f"{number:02d}", "name": name, "title": title,
              "function": function, "anchor": function.replace("_", "-")}
    targets = {t: Path(root) / dest.format(NN=values["NN"], name=name) for t, dest in FILES.items()}
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing:
        raise ValueError(f"refusing to overwrite {', '.join(existing)}")
    for template, path in targets.items():
        text = (HERE / template).read_text(encoding="utf-8")
        if template.endswith(".ipynb"):
            text = json.dumps(_fill_json(json.loads(text), values), indent=1, ensure_ascii=False) + "\n"
        else:
            text = _fill(text, values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(targets.values())
