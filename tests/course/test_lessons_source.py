"""The lessons' sources, read as files: what no build, nbval run or browser notices.

* Every lesson stores the kernelspec JupyterLab 4 installs ("Python 3 (ipykernel)",
  name ``python3``): a notebook that stores another display name is rewritten by Lab when
  opened, so it shows as modified and a student's ``git pull`` conflicts.
* No cell holds a control character: a ``\\t``, ``\\b``, ``\\r`` or ``\\f`` in a cell is
  almost always the start of ``\\theta``, ``\\bar``, ``\\rVert`` or ``\\frac`` eaten by a
  Python string that wrote the cell (or its output) without ``r"..."``.
* No markdown table has an empty header row (``| | |``): a screen reader announces its
  columns by their headers, and JupyterLab draws the table as written (the book's
  ``accessibility`` extension drops such a row, Lab cannot).
* A number that the prose quotes from a run is printed by that run: see
  :func:`unbacked_numbers`.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")      # every control character but the newline
TEXT_MIMES = ("text/plain", "text/markdown", "text/latex", "text/html")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else (value or "")


def _outputs_text(cell: dict) -> str:
    """The stored text of a code cell's outputs (streams, and the text forms of results)."""
    parts = []
    for out in cell.get("outputs", []):
        parts.append(_text(out.get("text")))
        for mime in TEXT_MIMES:
            parts.append(_text(out.get("data", {}).get(mime)))
    return "\n".join(parts)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_kernelspec_is_the_one_jupyterlab_installs(path):
    metadata = json.loads(path.read_text(encoding="utf-8"))["metadata"]
    assert metadata.get("kernelspec") == KERNELSPEC


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_no_control_characters(path):
    found = []
    for i, cell in enumerate(_cells(path)):
        for where, text in (("source", _text(cell["source"])), ("outputs", _outputs_text(cell))):
            for m in CONTROL.finditer(text):
                context = text[max(0, m.start() - 25):m.end() + 10]
                found.append(f"cell {i} {where}: {m.group()!r} in {context!r}")
    if found:
        pytest.fail("a Python string ate a backslash (write LaTeX in r\"...\" strings):\n" + "\n".join(found))


EMPTY_HEADER = re.compile(r"^\s*\|(?:\s*\|)+\s*\n\s*\|?\s*:?-{3,}", re.M)   # | | | over |---|---|


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_no_table_with_an_empty_header_row(path):
    found = [i for i, cell in enumerate(_cells(path))
             if cell["cell_type"] == "markdown" and EMPTY_HEADER.search(_text(cell["source"]))]
    assert not found, f"{path.name}: cells {found} have a table whose header row is empty: name its columns"


# ---- A number the prose quotes from a run is printed by that run -------------------------

# A decimal number (point required) or a number in scientific notation, with an optional sign
# (ASCII or Unicode minus), an optional exponent written e-5, ×10^{-5}, \times 10^{-5} or ·10⁻⁵,
# and an optional per cent sign.
NUMBER = re.compile(r"""
    (?<![\w.])(?P<sign>[-−])?
    (?P<mantissa>\d+\.\d+|\d+(?=[eE][-+−]?\d))
    (?:[eE](?P<e>[-+−]?\d+)
      |\s*(?:\\times|×|\\cdot|·)\s*10\s*\^\s*\{?(?P<p>[-+−]?\d+)\}?)?
    (?P<percent>\s*\\?%)?
    (?![\w.]*\d)
""", re.X)

# Constants the prose may quote without a run printing them, each with its reason.
CONSTANTS = {
    "3.14": "pi",
    "3.14159": "pi",
    "2.718": "e",
    "0.577": "1/sqrt(3)",
    "0.447": "1/sqrt(5)",
    "1.414": "sqrt(2)",
    "0.999": "Adam's default beta2, a setting (solutions.adaptive.adam_update)",
}


def _significant_digits(mantissa: str) -> int:
    return len(mantissa.replace(".", "").lstrip("0"))


def _value(m: re.Match) -> tuple[Decimal, Decimal]:
    """The number's absolute value and half a unit of its last written digit."""
    mantissa = m.group("mantissa")
    exponent = int((m.group("e") or m.group("p") or "0").replace("−", "-"))
    decimals = len(mantissa.partition(".")[2])
    scale = Decimal(10) ** exponent
    return Decimal(mantissa) * scale, Decimal(5) * Decimal(10) ** (exponent - decimals - 1)


def _numbers(text: str) -> list[Decimal]:
    found = []
    for m in NUMBER.finditer(text.replace(",", "")):
        try:
            value, _ = _value(m)
        except ArithmeticError:
            continue
        found.append(value)
    return found


def _quoted(prose: str) -> list[tuple[str, Decimal, Decimal, bool]]:
    """The numbers of the prose written with at least 3 significant digits."""
    quoted = []
    for m in NUMBER.finditer(prose):
        if _significant_digits(m.group("mantissa")) < 3:
            continue
        value, half_unit = _value(m)
        quoted.append((m.group(0).strip(), value, half_unit, bool(m.group("percent"))))
    return quoted


HEADING = re.compile(r"^#{1,6} ", re.M)

# Numbers the prose computes by hand from a formula written next to them (a reader checks them
# with a pen, not against a run), each with its reason.
DERIVED = {
    ("01_losses", "16.1"): "-log 10^-7, written next to it",
    ("02_gradient_descent", "1.74"): "1 + 2 eta (1 + 36) with eta = 0.01, written next to it",
    ("04_momentum", "1.36"): "2(1 + beta)/(1 + 2 beta) at beta = 0.9, written next to it",
}


def _sections(cells: list[dict]) -> list[tuple[int, int]]:
    """For each cell, the [first, last] cells of its section: a markdown cell with a heading
    starts a section (the text of a cell before its first heading belongs to the one above)."""
    starts = [0] + [i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                    and HEADING.search(_text(c["source"])) and i > 0]
    bounds = []
    for i in range(len(cells)):
        first = max(s for s in starts if s <= i)
        after = [s for s in starts if s > i]
        bounds.append((first, after[0] if after else len(cells) - 1))
    return bounds


def unbacked_numbers(path: Path) -> list[str]:
    """The numbers quoted by prose that follows a run and that no run of its section prints.

    The rule (pragmatic, and precise about what it checks): in a markdown cell that directly
    follows a code cell, every number written with a decimal point or an exponent and at
    least three significant digits (``16.5``, ``0.174``, ``2.47 ms``, ``1.41e-3``; not
    ``1.5``, ``1e-8`` or integers, which are settings and counts far more often than
    measurements) must be, to the precision it is written with, a number that occurs in the
    stored text output, or in the source (a setting), of a code cell of the same section
    (from the previous heading to the next; a figure's numbers must be printed beside it),
    one of the ``CONSTANTS`` or one of the ``DERIVED`` values. Only the text of the cell
    before its first heading is read.
    """
    cells = _cells(path)
    bounds = _sections(cells)
    flagged = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown" or i == 0 or cells[i - 1]["cell_type"] != "code":
            continue
        source = _text(cell["source"])
        prose = "" if HEADING.match(source) else HEADING.split(source, maxsplit=1)[0]
        first, last = bounds[i - 1][0], bounds[i][1]
        printed = [n for c in cells[first:last + 1] if c["cell_type"] == "code"
                   for n in _numbers(_outputs_text(c) + "\n" + _text(c["source"]))]
        for written, value, half_unit, percent in _quoted(prose):
            number = written.lstrip("-−").rstrip("%\\ ")
            if number in CONSTANTS or (path.stem, number) in DERIVED:
                continue
            candidates = [(value, half_unit)] + ([(value / 100, half_unit / 100)] if percent else [])
            if not any(abs(abs(n) - v) <= tolerance for n in printed for v, tolerance in candidates):
                flagged.append(f"cell {i}: {written}")
    return flagged


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_numbers_in_prose_are_printed_by_the_run_above(path):
    flagged = unbacked_numbers(path)
    if flagged:
        pytest.fail("the prose quotes numbers that no code cell of its section prints; print them, "
                    "or word the claim from what is printed:\n" + "\n".join(flagged))


def test_the_number_rule(tmp_path):
    """The rule flags a number no run prints, and accepts one printed at a higher precision,
    a per cent of a printed fraction, a setting of the code and one printed further down the
    section; a heading starts a new section."""
    def cell(kind, source, output=""):
        c = {"cell_type": kind, "metadata": {}, "source": source}
        if kind == "code":
            c["outputs"] = [{"output_type": "stream", "name": "stdout", "text": output}]
        return c
    cells = [cell("markdown", "## A run"),
             cell("code", "lr = 0.125\nprint(...)", "ratio 0.17403, accuracy 0.9712\n"),
             cell("markdown", "The ratio is 0.174 at $\\eta = 0.125$, the accuracy 97.1%; about 1.5 (two digits)."),
             cell("code", "x = 1", "5.7431\n"),
             cell("markdown", "It falls by 5.74, then 0.175 and 3.1416."),
             cell("markdown", "## Another section"),
             cell("code", "y = 2", ""),
             cell("markdown", "Here 5.74 is not printed.")]
    path = tmp_path / "99_rule.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}}), encoding="utf-8")
    assert unbacked_numbers(path) == ["cell 4: 0.175", "cell 4: 3.1416", "cell 7: 5.74"]


def _exercise_ids(cells: list[dict]) -> set[str]:
    """The ids of a lesson's exercises and questions: the tags of their cells."""
    return {tag for cell in cells for tag in cell.get("metadata", {}).get("tags", [])
            if re.fullmatch(r"ex\d+_\d+", tag)}


def _named(text: str) -> set[str]:
    """The ids an introduction names, ranges (```ex3_4`–`ex3_6```, ```ex1_1` … `ex1_9```) included."""
    named = set(re.findall(r"ex\d+_\d+", text))
    for chapter, first, last in re.findall(r"`ex(\d+)_(\d+)`\s*(?:–|…|\.\.\.|-)\s*`ex\1_(\d+)`", text):
        named |= {f"ex{chapter}_{n}" for n in range(int(first), int(last) + 1)}
    return named


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_the_introduction_names_every_exercise_and_question(path):
    """A student plans the chapter from its first cell: a list missing the questions is stale."""
    cells = _cells(path)
    missing = _exercise_ids(cells) - _named(_text(cells[0]["source"]))
    assert not missing, f"{path.name}: the introduction does not name {sorted(missing)}"
