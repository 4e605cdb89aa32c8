"""A generated class for the instructor tools' tests: chapter 5 notebooks by ``n`` students.

Every student writes the four exercises of chapter 5 (AdaGrad, RMSprop, Adam, AdamW) in
their own style: each line of each function is drawn from correct alternatives (another
expression order, ``g * g`` or ``g ** 2`` or ``np.square(g)``, a helper variable or not,
torch's form of Adam's bias correction, a loop ...) and the variable names from pools. On
top of that, planted pairs:

* ``renamed``: a copy with every local variable renamed;
* ``reformatted``: a copy run through ``ast.unparse``, with comments and blank lines added;
* ``partial``: a renamed and reformatted copy of two exercises, the others written anew;
* ``book``: the book's solution copied (pairs with the reference).
"""
from __future__ import annotations

import ast
import io
import json
import random
import re
import tokenize
from pathlib import Path

from autograder.lessons import _header_and_docstring, solved_notebook
from autograder.engine.registry import load_exercises

ROOT = Path(__file__).resolve().parents[2]
LESSON = ROOT / "lessons" / "05_adaptive.ipynb"
EXERCISES = ("ex5_1", "ex5_2", "ex5_3", "ex5_4")

NAMES = {
    "g": ["g", "grad", "gr", "gt", "g_arr", "grads_f"],
    "s": ["s", "acc", "sum_sq", "G", "accum", "total_sq"],
    "a": ["sq_avg", "avg", "v", "ms", "run_avg", "e_g2"],
    "m": ["m", "m_new", "mom", "first", "m1", "mt"],
    "v": ["v", "v_new", "sec", "second", "m2", "vt"],
    "t": ["t", "step", "k", "n", "it", "tt"],
    "new": ["new_params", "theta", "p_new", "out", "x_new", "updated"],
    "d": ["denom", "den", "scale", "root", "div", "q"],
    "z": ["zeros", "z", "zero", "blank", "init", "empty"],
}


def _pick(rng, options):
    return options[rng.randrange(len(options))]


def _init(rng, state: str, fields: int) -> list[str]:
    z = _pick(rng, NAMES["z"])
    zeros = [_pick(rng, ["np.zeros_like(np.asarray(params, dtype=float))", "np.zeros(np.shape(params))",
                         "np.zeros_like(params, dtype=float)", "0.0 * np.asarray(params, dtype=float)"])]
    copies = ", ".join([z] + [f"{z}.copy()"] * (fields - 1))
    t = _pick(rng, NAMES["t"])
    return _pick(rng, [
        [f"{z} = {zeros[0]}", f"return {state}(0, {copies})"],
        [f"return {state}(0, {', '.join([zeros[0]] * fields)})"],
        [f"{z} = {zeros[0]}", f"{t}0 = 0", f"return {state}({t}0, {copies})"],
    ])


def _to_float(rng, g: str) -> list[str]:
    return [_pick(rng, [f"{g} = np.asarray(grads, dtype=float)", f"{g} = np.array(grads, dtype=float)",
                        f"{g} = grads.astype(float)", f"{g} = np.asarray(grads) * 1.0"])]


def _square(rng, g: str) -> str:
    return _pick(rng, [f"{g} * {g}", f"{g} ** 2", f"np.square({g})", f"np.power({g}, 2)"])


def _step(rng, new: str, num: str, acc: str, d: str) -> list[str]:
    """params - lr * num / (sqrt(acc) + eps), in one of several forms."""
    return _pick(rng, [
        [f"{new} = params - lr * {num} / (np.sqrt({acc}) + eps)"],
        [f"{d} = np.sqrt({acc}) + eps", f"{new} = params - lr * ({num} / {d})"],
        [f"{d} = eps + np.sqrt({acc})", f"{new} = params - (lr / {d}) * {num}"],
        [f"{new} = np.asarray(params, dtype=float).copy()", f"for i in np.ndindex({new}.shape):",
         f"    {new}[i] -= lr * {num}[i] / ({acc}[i] ** 0.5 + eps)"],
    ])


def adagrad(rng) -> tuple[list[str], list[str]]:
    g, s, new, d = (_pick(rng, NAMES[k]) for k in ("g", "s", "new", "d"))
    body = _to_float(rng, g)
    body += [_pick(rng, [f"{s} = state.sum_sq + {_square(rng, g)}", f"{s} = {_square(rng, g)} + state.sum_sq",
                         f"{s} = np.add(state.sum_sq, {_square(rng, g)})"])]
    body += _step(rng, new, g, s, d)
    body += [_pick(rng, [f"return {new}, AdagradState(state.t + 1, {s})",
                         f"return {new}, AdagradState(t=state.t + 1, sum_sq={s})",
                         f"{d}_state = AdagradState(1 + state.t, {s})\nreturn {new}, {d}_state"])]
    return _init(rng, "AdagradState", 1), body


def rmsprop(rng) -> tuple[list[str], list[str]]:
    g, a, new, d = (_pick(rng, NAMES[k]) for k in ("g", "a", "new", "d"))
    body = _to_float(rng, g)
    body += [_pick(rng, [f"{a} = rho * state.sq_avg + (1.0 - rho) * {_square(rng, g)}",
                         f"{a} = state.sq_avg * rho + {_square(rng, g)} * (1 - rho)",
                         f"{a} = state.sq_avg + (1 - rho) * ({_square(rng, g)} - state.sq_avg)"])]
    body += _step(rng, new, g, a, d)
    body += [_pick(rng, [f"return {new}, RMSpropState(state.t + 1, {a})",
                         f"return {new}, RMSpropState(t=state.t + 1, sq_avg={a})"])]
    return _init(rng, "RMSpropState", 1), body


def adam(rng) -> tuple[list[str], list[str]]:
    g, m, v, t, new, d = (_pick(rng, NAMES[k]) for k in ("g", "m", "v", "t", "new", "d"))
    body = _to_float(rng, g) + [_pick(rng, [f"{t} = state.t + 1", f"{t} = 1 + state.t"])]
    body += [_pick(rng, [f"{m} = beta1 * state.m + (1.0 - beta1) * {g}", f"{m} = state.m * beta1 + {g} * (1 - beta1)",
                         f"{m} = state.m + (1 - beta1) * ({g} - state.m)"])]
    body += [_pick(rng, [f"{v} = beta2 * state.v + (1.0 - beta2) * {_square(rng, g)}",
                         f"{v} = state.v * beta2 + (1 - beta2) * {_square(rng, g)}",
                         f"{v} = state.v + (1 - beta2) * ({_square(rng, g)} - state.v)"])]
    style = rng.randrange(3)
    if style == 0:
        body += [f"{m}_hat = {m} / (1.0 - beta1 ** {t})", f"{v}_hat = {v} / (1.0 - beta2 ** {t})"]
        body += _step(rng, new, f"{m}_hat", f"{v}_hat", d)
    elif style == 1:
        body += [f"bc1 = 1 - beta1**{t}", f"bc2 = 1 - beta2**{t}",
                 f"{d} = np.sqrt({v} / bc2) + eps", f"{new} = params - lr * ({m} / bc1) / {d}"]
    else:
        body += [f"{d} = np.sqrt({v}) / np.sqrt(1.0 - beta2 ** {t}) + eps",
                 f"{new} = params - (lr / (1.0 - beta1 ** {t})) * {m} / {d}"]
    body += [_pick(rng, [f"return {new}, AdamState({t}, {m}, {v})", f"return {new}, AdamState(t={t}, m={m}, v={v})"])]
    return _init(rng, "AdamState", 2), body


def adamw(rng) -> tuple[list[str], list[str]]:
    p = _pick(rng, ["decayed", "shrunk", "p", "params_wd", "w"])
    init = _pick(rng, [["return adam_init(params)"], _init(rng, "AdamState", 2)])
    body = _pick(rng, [
        [f"{p} = np.asarray(params, dtype=float) * (1.0 - lr * weight_decay)",
         f"return adam_update({p}, grads, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)"],
        [f"{p} = params - lr * weight_decay * params",
         f"return adam_update({p}, grads, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)"],
        [f"{p} = (1 - weight_decay * lr) * np.asarray(params, dtype=float)",
         f"new, st = adam_update({p}, grads, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)", "return new, st"],
    ])
    return init, body


WRITERS = {"ex5_1": adagrad, "ex5_2": rmsprop, "ex5_3": adam, "ex5_4": adamw}


def _cell(ex_id: str, init: list[str], body: list[str]) -> str:
    ex = load_exercises()[ex_id]
    parts = []
    for fn, lines in zip(ex.functions.values(), (init, body)):
        code = "\n".join("    " + ln for block in lines for ln in block.split("\n"))
        parts.append(f"{_header_and_docstring(fn)}\n{code}")
    return "\n\n\n".join(parts)


def student_cells(rng) -> dict[str, str]:
    return {ex_id: _cell(ex_id, *WRITERS[ex_id](rng)) for ex_id in EXERCISES}


def _assigned(code: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def renamed(code: str, rng) -> str:
    """Every locally assigned name replaced by another, the layout kept (attributes and keyword
    arguments of the same spelling left alone)."""
    names = sorted(_assigned(code))
    new = {name: f"{_pick(rng, ['tmp', 'val', 'res', 'w', 'u', 'arr'])}_{i}" for i, name in enumerate(names)}
    tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    spots, depth = [], 0
    for i, tok in enumerate(tokens):
        depth += tok.string in "([{" and tok.type == tokenize.OP
        depth -= tok.string in ")]}" and tok.type == tokenize.OP
        after = tokens[i + 1].string if i + 1 < len(tokens) else ""
        if tok.type == tokenize.NAME and tok.string in new and tokens[i - 1].string != "." \
                and not (depth and after == "="):
            spots.append(tok.start)
    lines = code.splitlines(keepends=True)
    for row, col in sorted(spots, reverse=True):
        line = lines[row - 1]
        name = re.match(r"\w+", line[col:])[0]
        lines[row - 1] = line[:col] + new[name] + line[col + len(name):]
    return "".join(lines)


def reformatted(code: str, rng) -> str:
    """``ast.unparse`` (other parentheses, quotes and spacing), comments and blank lines added."""
    lines = []
    for ln in ast.unparse(ast.parse(code)).splitlines():
        lines.append(ln)
        stripped = ln.strip()
        if stripped.startswith(("return", "for")) or "=" in stripped and rng.random() < 0.5:
            indent = ln[: len(ln) - len(stripped)] + ("    " if stripped.endswith(":") else "")
            lines.append(f"{indent}# {_pick(rng, ['update', 'as in the lesson', 'see the book', 'step'])}")
            if rng.random() < 0.3:
                lines.append("")
    return "\n".join(lines)


def _notebook(cells: dict[str, str]) -> dict:
    nb = json.loads(LESSON.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        for tag in cell.get("metadata", {}).get("tags", []):
            if tag in cells and cell["cell_type"] == "code":
                cell["source"] = cells[tag].splitlines(keepends=True)
    return nb


def make_class(folder, n: int = 24, seed: int = 0) -> tuple[list[Path], dict[str, tuple[str, str]]]:
    """Write ``n`` notebooks ``s01.ipynb`` ... into ``folder``.

    Returns
    -------
    paths : list of Path
    planted : dict
        kind -> (original, copy): file names of the planted pairs (``book``: (copy, None)).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    cells = {f"s{i:02d}.ipynb": student_cells(rng) for i in range(1, n + 1)}
    planted = {"renamed": ("s03.ipynb", "s17.ipynb"), "reformatted": ("s05.ipynb", "s11.ipynb"),
               "partial": ("s08.ipynb", "s21.ipynb")}
    a, b = planted["renamed"]
    cells[b] = {k: renamed(c, rng) for k, c in cells[a].items()}
    a, b = planted["reformatted"]
    cells[b] = {k: reformatted(c, rng) for k, c in cells[a].items()}
    a, b = planted["partial"]
    cells[b] = {k: (reformatted(renamed(c, rng), rng) if k in ("ex5_2", "ex5_3") else cells[b][k])
                for k, c in cells[a].items()}
    paths = []
    for name, student in cells.items():
        path = folder / name
        path.write_text(json.dumps(_notebook(student), indent=1), encoding="utf-8")
        paths.append(path)
    book = folder / f"s{n + 1:02d}.ipynb"
    book.write_text(json.dumps(solved_notebook(LESSON), indent=1), encoding="utf-8")
    paths.append(book)
    planted["book"] = (book.name, None)
    return paths, planted
