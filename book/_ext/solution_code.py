"""``solution-code``: the code that solves an exercise, read from ``solutions/`` at build time.

A folded reference solution shows the functions' code without their docstrings (the
stub above it already shows them) and, after it, every private helper (``_name``) of the
same module that the code calls, recursively, so that nothing the solution relies on is
left unseen. It is never a copy: the book reads the module when it is built::

    ```{solution-code} ../solutions/adaptive.py
    :functions: adam_init, adam_update
    ```
"""
from __future__ import annotations

import ast
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective


def _docstring_lines(node: ast.AST) -> tuple[int, int] | None:
    """The 0-based [start, end) lines of a function's or class's docstring, if it has one."""
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first.lineno - 1, first.end_lineno
    return None


def solution_code(path: str | Path, names: list[str]) -> str:
    """The code of the functions ``names`` of the module at ``path``, docstrings removed,
    followed by the private helpers they call, directly or through another helper."""
    source = Path(path).read_text(encoding="utf-8")
    lines = source.splitlines()
    defs = {n.name: n for n in ast.parse(source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    missing = [n for n in names if n not in defs]
    if missing:
        raise ValueError(f"{path} defines no {', '.join(missing)}")
    order = list(dict.fromkeys(names))       # the functions asked for, then the helpers, each once
    for name in order:                         # (``order`` grows while it is walked)
        for node in ast.walk(defs[name]):
            if isinstance(node, ast.Name) and node.id.startswith("_") and node.id in defs and node.id not in order:
                order.append(node.id)
    blocks = []
    for name in order:
        node = defs[name]
        start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
        doc = _docstring_lines(node)
        keep = lines[start:doc[0]] + lines[doc[1]:node.end_lineno] if doc else lines[start:node.end_lineno]
        blocks.append("\n".join(keep))
    return "\n\n\n".join(blocks)


class SolutionCode(SphinxDirective):
    required_arguments = 1
    option_spec = {"functions": directives.unchanged_required}

    def run(self):
        rel, path = self.env.relfn2path(self.arguments[0])
        self.env.note_dependency(rel)
        names = [n.strip() for n in self.options.get("functions", "").split(",") if n.strip()]
        try:
            code = solution_code(path, names)
        except (OSError, ValueError, SyntaxError) as exc:
            return [self.state.document.reporter.warning(f"solution-code: {exc}", line=self.lineno)]
        block = nodes.literal_block(code, code, language="python")
        self.set_source_info(block)
        return [block]


def setup(app):
    app.add_directive("solution-code", SolutionCode)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
