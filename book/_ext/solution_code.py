"""``solution-code``: the code that solves an exercise, read from ``solutions/`` at build time.

A folded reference solution shows the functions' code without their docstrings (the
stub above it already shows them) and, after it, every private helper (``_name``) of the
same module that the code calls, recursively, so that nothing the solution relies on is
left unseen. It is never a copy: the book reads the module when it is built::

    ```{solution-code} ../solutions/adaptive.py
    :functions: adam_init, adam_update
    ```

The code is chosen by :func:`autograder.lessons.solution_code`.
"""
from __future__ import annotations

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from autograder.lessons import solution_code    # the one implementation (solved lessons use it too)


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
