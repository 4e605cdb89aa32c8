"""Every lesson prints the same text whatever BLAS kernel and thread count the machine uses.

OpenBLAS picks its kernels by processor (Haswell, SkylakeX on AVX-512 machines,
Sandybridge without FMA, ...) and splits some operations over threads, so the same numpy
code can round differently on another machine; an ill-conditioned or chaotic computation
then prints other digits, and nbval fails there. This guard re-executes every lesson
(``lessons/[0-9][0-9]_*.ipynb``, so new chapters are included automatically) with
``OPENBLAS_CORETYPE`` and ``OPENBLAS_NUM_THREADS`` forced in the kernel's environment and
compares the text outputs with the stored ones as nbval does: nbval's stream coalescing,
the sanitize rules of ``tests/nbval_sanitize.cfg``, images not compared. The machine's
default configuration is already covered by nbval itself (``make test``).

The kernel reports which OpenBLAS core and thread count it really used (threadpoolctl),
so the test cannot pass vacuously on a numpy that ignores the variables.
"""
from __future__ import annotations

import difflib
import json
import os
import platform
import re
from collections import defaultdict
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
nbval_plugin = pytest.importorskip("nbval.plugin")

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"



def cpu_flags() -> set[str]:
    """The processor's feature flags (``/proc/cpuinfo``; empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    return next((set(line.split(":", 1)[1].split()) for line in text.splitlines() if line.startswith("flags")), set())


#: (OPENBLAS_CORETYPE, OPENBLAS_NUM_THREADS). Three kernels that round differently (FMA or
#: not, AVX2 or AVX-512 blocking), one and two threads; nbval covers the machine's default.
#: A forced kernel must be one the processor can execute: OpenBLAS does not check, and
#: SkylakeX's AVX-512 instructions kill the kernel on a processor without them (an AMD EPYC
#: here). There the SSE4-only Nehalem kernel takes its place (no FMA, no AVX: other rounding
#: again).
CONFIGS = [("Haswell", 1), ("SkylakeX" if "avx512f" in cpu_flags() else "Nehalem", 2), ("Sandybridge", 1)]

#: Output keys nbval does not compare (its ``skip_compare``, images included).
SKIP_COMPARE = {"metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
                "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg"}

#: Run before and after the lesson's cells, removed before comparing: the OpenBLAS libraries
#: loaded in the kernel, with the core type and the number of threads they really use.
PROBE = ("import json as _json, numpy as _np, threadpoolctl as _tpc\n"
         "print(_json.dumps([{k: i.get(k) for k in ('filepath', 'architecture', 'num_threads')}"
         " for i in _tpc.threadpool_info() if i['internal_api'] == 'openblas']))")


def sanitize_patterns(path: Path = SANITIZE) -> list[tuple[str, str]]:
    """The (regex, replacement) pairs of an nbval sanitize file, read as nbval reads them."""
    return nbval_plugin.get_sanitize_patterns(path.read_text())


def comparable(outputs, patterns) -> dict[str, list]:
    """A cell's outputs as nbval compares them: ``{key: [sanitized values, in order]}``.

    Streams of one name are merged (``\\r`` and ``\\b`` applied) and keyed by the stream's
    name; ``data`` is flattened to its MIME types; the keys of :data:`SKIP_COMPARE`
    (images, metadata, counters) are left out.
    """
    def clean(value):
        if isinstance(value, str):
            for regex, replace in patterns:
                value = re.sub(regex, replace, value)
        return value

    outputs = nbval_plugin.coalesce_streams([nbformat.from_dict(json.loads(json.dumps(o))) for o in outputs])
    table = defaultdict(list)
    for out in nbval_plugin.transform_streams_for_comparison(outputs):
        for key, value in out.items():
            if key in SKIP_COMPARE:
                continue
            if key == "data":
                for mime, content in value.items():
                    if mime not in SKIP_COMPARE:
                        table[mime].append(clean(content))
            else:
                table[key].append(clean(value))
    return dict(table)


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=1, sort_keys=True)


def differences(stored, executed, patterns=None) -> list[str]:
    """Every code cell whose text output differs between two versions of a notebook.

    Parameters
    ----------
    stored, executed : NotebookNode
        The notebook as committed and the same notebook re-executed (same cells).
    patterns : list of (str, str), optional
        Sanitize rules; by default those of ``tests/nbval_sanitize.cfg``.

    Returns
    -------
    list of str
        One readable report per differing cell: its number as nbval counts it ("Cell N",
        code cells only), its first source line, and a diff of the stored (``-``) and the
        computed (``+``) text. Empty when every cell agrees.
    """
    patterns = sanitize_patterns() if patterns is None else patterns
    reports = []
    code = [(i, c) for i, c in enumerate(stored.cells) if c.cell_type == "code"]
    new = [c for c in executed.cells if c.cell_type == "code"]
    assert len(code) == len(new), "the executed notebook has other cells than the stored one"
    for number, ((index, old), cell) in enumerate(zip(code, new)):
        ref, test = comparable(old.get("outputs", []), patterns), comparable(cell.get("outputs", []), patterns)
        if ref == test:
            continue
        first = old.source.strip().splitlines()[0] if old.source.strip() else ""
        lines = [f"Cell {number} (notebook cell {index}: {first[:70]!r})"]
        for key in sorted(set(ref) | set(test)):
            a, b = ref.get(key, []), test.get(key, [])
            if a == b:
                continue
            if len(a) != len(b):
                lines.append(f"  {key}: {len(a)} stored output(s), {len(b)} computed")
            diff = difflib.unified_diff("\n".join(map(_text, a)).splitlines(), "\n".join(map(_text, b)).splitlines(),
                                        "stored", "computed", lineterm="", n=0)
            lines += [f"  {key}:"] + [f"    {line}" for line in list(diff)[2:]]
        reports.append("\n".join(lines))
    return reports


def execute(path: Path, coretype: str, threads: int, timeout: int = 900):
    """Execute a copy of a lesson with ``OPENBLAS_CORETYPE`` and ``OPENBLAS_NUM_THREADS`` forced.

    Returns the executed notebook (without the probe cells) and what the kernel's OpenBLAS
    libraries reported about themselves (threadpoolctl), before the lesson's first cell and
    after its last: ``{"start": [...], "end": [...]}``.
    """
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(PROBE))
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    env = {**os.environ, "OPENBLAS_CORETYPE": coretype, "OPENBLAS_NUM_THREADS": str(threads),
           "OMP_NUM_THREADS": str(threads), "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=env)
    report = {}
    for when, probe in (("start", nb.cells.pop(0)), ("end", nb.cells.pop())):
        text = "".join(o.get("text", "") for o in probe.outputs if o.get("output_type") == "stream")
        report[when] = json.loads(text.strip().splitlines()[-1])
    return nb, report


@pytest.mark.slow
@pytest.mark.parametrize("coretype, threads", CONFIGS, ids=[f"{c}-{t}thread" for c, t in CONFIGS])
@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_prints_the_same_on_every_blas_kernel(lesson, coretype, threads):
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("OPENBLAS_CORETYPE names x86-64 kernels")
    stored = nbformat.read(lesson, as_version=4)
    unexecuted = [i for i, c in enumerate(stored.cells) if c.cell_type == "code" and c.source.strip()
                  and c.get("execution_count") is None]
    assert not unexecuted, f"{lesson.name}: code cells never executed (nbval would not compare them): {unexecuted}"
    executed, blas = execute(lesson, coretype, threads)
    if not blas["start"]:
        pytest.skip("numpy does not use OpenBLAS here")
    # numpy's OpenBLAS got the configuration; every OpenBLAS loaded later (scipy's) got the
    # same kernel. (A lesson may lower the thread count itself, e.g. threadpool_limits(1).)
    assert all(b["architecture"].lower() == coretype.lower() and b["num_threads"] == threads for b in blas["start"]), (
        f"the kernel ignored OPENBLAS_CORETYPE={coretype}, OPENBLAS_NUM_THREADS={threads}: {blas}")
    assert all(b["architecture"].lower() == coretype.lower() for b in blas["end"]), (
        f"an OpenBLAS ignored OPENBLAS_CORETYPE={coretype}: {blas}")
    diffs = differences(stored, executed)
    name = lesson.relative_to(ROOT) if lesson.is_relative_to(ROOT) else lesson
    assert not diffs, (
        f"{name} prints other text with OPENBLAS_CORETYPE={coretype} "
        f"OPENBLAS_NUM_THREADS={threads} than the stored outputs (- stored, + computed). Print only "
        f"what is robust to rounding (see the 'Deterministic and portable notebooks' standard):\n\n"
        + "\n\n".join(diffs))


def _notebook(*outputs_per_cell):
    cells = [nbformat.v4.new_markdown_cell("text")]
    for i, outputs in enumerate(outputs_per_cell):
        cells.append(nbformat.v4.new_code_cell(f"cell_{i}()", outputs=[nbformat.from_dict(o) for o in outputs],
                                               execution_count=i + 1))
    return nbformat.v4.new_notebook(cells=cells)


def _stream(text, name="stdout"):
    return {"output_type": "stream", "name": name, "text": text}


def _figure(png, text="<Figure size 640x480 with 1 Axes>"):
    return {"output_type": "display_data", "metadata": {}, "data": {"image/png": png, "text/plain": text}}


def test_differences_compares_text_as_nbval_does():
    stored = _notebook([_stream("same\n")], [_stream("x = 0.1234\n"), _figure("AAAA")],
                       [_stream("<Line2D at 0x7f00aa>\n")])
    # Other digits are flagged, with the cell's number as nbval counts it and both versions.
    changed = _notebook([_stream("same\n")], [_stream("x = 0.1235\n"), _figure("AAAA")],
                        [_stream("<Line2D at 0x7f00aa>\n")])
    (report,) = differences(stored, changed)
    assert report.startswith("Cell 1 (notebook cell 2: 'cell_1()')")
    assert "-x = 0.1234" in report and "+x = 0.1235" in report
    # Not flagged: another PNG, a memory address (sanitized), a stream split differently.
    same = _notebook([_stream("sa"), _stream("me\n")], [_stream("x = 0.1234\n"), _figure("BBBB")],
                     [_stream("<Line2D at 0x55aa01>\n")])
    assert differences(stored, same) == []
    # A missing output or another figure size is flagged.
    assert differences(stored, _notebook([_stream("same\n")], [_stream("x = 0.1234\n")],
                                         [_stream("<Line2D at 0x7f00aa>\n")]))
    resized = _figure("AAAA", "<Figure size 1x1>")
    assert differences(stored, _notebook([_stream("same\n")], [_stream("x = 0.1234\n"), resized],
                                         [_stream("<Line2D at 0x7f00aa>\n")]))
