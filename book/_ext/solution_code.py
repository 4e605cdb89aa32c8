"""``solution-code``: the code that solves an exercise, read from ``solutions/`` at build time.

A folded reference solution shows the functions' code without their docstrings (the
stub above it already shows them) and, after it, every private helper (``_name``) of the
same module that the code calls, recursively, so that nothing the solution relies on is
left unseen. It is never a copy: the book reads the module when it is built.

A lesson's solution cell (written by :func:`autograder.lessons.solution_source`) asks for it
with a MyST comment line, followed by a sentence that points to the file::

    % solution-code ../solutions/adaptive.py adam_init, adam_update
    The reference solution is `adam_init`, `adam_update` in `solutions/adaptive.py` (...).

The book puts the code in place of the comment and of the sentence after it. JupyterLab
(jupyterlab-myst) knows none of the book's Sphinx directives and would draw one as a red
"Unknown Directive" box; it hides the comment and shows the sentence. A page of the book
may use the same as a directive::

    ```{solution-code} ../solutions/adaptive.py
    :functions: adam_init, adam_update
    ```

The code is chosen by :func:`autograder.lessons.solution_code`.
"""
from __future__ import annotations

import re

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.transforms import SphinxTransform
from sphinx.util.docutils import SphinxDirective

from autograder.lessons import solution_code    # the one implementation (solved lessons use it too)

COMMENT = re.compile(r"solution-code\s+(?P<path>\S+)\s+(?P<names>\S.*)")


def _code_block(env, document, source: str, names: str, node: nodes.Node) -> nodes.Node:
    """The literal block of the solution, or the warning that says why there is none."""
    rel, path = env.relfn2path(source, env.docname)
    env.note_dependency(rel)
    try:
        code = solution_code(path, [n.strip() for n in names.split(",") if n.strip()])
    except (OSError, ValueError, SyntaxError) as exc:
        return document.reporter.warning(f"solution-code: {exc}", base_node=node)
    block = nodes.literal_block(code, code, language="python")
    block.source, block.line = node.source, node.line
    return block


class SolutionCode(SphinxDirective):
    required_arguments = 1
    option_spec = {"functions": directives.unchanged_required}

    def run(self):
        anchor = nodes.Element()
        self.set_source_info(anchor)
        return [_code_block(self.env, self.state.document, self.arguments[0], self.options.get("functions", ""), anchor)]


class SolutionCodeComments(SphinxTransform):
    """Each ``% solution-code <path> <names>`` comment becomes the code, and the paragraph
    right after it (the pointer for JupyterLab) goes."""
    default_priority = 200

    def apply(self, **kwargs) -> None:
        for comment in list(self.document.findall(nodes.comment)):
            match = COMMENT.fullmatch(comment.astext().strip())
            if match is None:
                continue
            parent = comment.parent
            index = parent.index(comment)
            if index + 1 < len(parent) and isinstance(parent[index + 1], nodes.paragraph):
                parent.remove(parent[index + 1])
            comment.replace_self(_code_block(self.env, self.document, match["path"], match["names"], comment))


def setup(app):
    app.add_directive("solution-code", SolutionCode)
    app.add_transform(SolutionCodeComments)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
