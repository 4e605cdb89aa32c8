"""What a screen reader reads: figures' alt text, tables without an empty header row, the bibliography.

* A figure that a lesson's code cell draws comes out of myst-nb as an image without alt
  text, and docutils' HTML writer then writes the image's file path as its alt
  (``alt="../_images/3f2a….png"``). Each such image gets an alt text taken from the figure
  itself: the titles the cell gives its axes (``set_title``, ``suptitle``, ``title=``),
  else its axis labels ("loss against step"), else the first sentence of the text that
  follows the cell, which describes the figure.
* A Markdown table must have a header row; a table written without one (``| | |``) gets an
  empty header row, which a screen reader announces as a table with empty column headers.
  The book drops such a row.
* docutils marks the bibliography as an ARIA list whose entries are not list items: the
  list's role goes.
"""
from __future__ import annotations

import ast
import re

from docutils import nodes

TITLE_CALLS = {"set_title": "title", "suptitle": "title", "title": "title",
               "set_xlabel": "x", "xlabel": "x", "set_ylabel": "y", "ylabel": "y"}
TITLE_KEYWORDS = {"title": "title", "xlabel": "x", "ylabel": "y"}


def _string(node: ast.AST) -> str | None:
    """A string literal's text; an f-string's with each replacement field as "…"."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "…" for v in node.values)
    return None


GREEK = dict(zip("alpha beta gamma delta epsilon varepsilon eta theta kappa lambda mu nu rho sigma tau phi "
                 "varphi psi omega Delta Sigma Theta cdot times".split(), "αβγδεεηθκλμνρστφφψωΔΣΘ·×"))


def _plain(text: str) -> str:
    """TeX made readable: Greek letters as letters, no dollars, backslashes or braces."""
    text = re.sub(r"\\(?:mathrm|text|operatorname|mathbf|boldsymbol)\b", "", text)
    text = re.sub(r"\\([A-Za-z]+)", lambda m: GREEK.get(m[1], " " + m[1]), text)
    return re.sub(r"\s+", " ", re.sub(r"[${}\\]", "", text)).strip()


def figure_labels(source: str) -> dict[str, list[str]]:
    """The titles and axis labels that a cell's code gives its figures, in order."""
    found: dict[str, list[str]] = {"title": [], "x": [], "y": []}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return found
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name in TITLE_CALLS and node.args:
            text = _string(node.args[0])
            if text:
                found[TITLE_CALLS[name]].append(_plain(text))
        for keyword in node.keywords:
            if keyword.arg in TITLE_KEYWORDS:
                text = _string(keyword.value)
                if text:
                    found[TITLE_KEYWORDS[keyword.arg]].append(_plain(text))
    return {k: list(dict.fromkeys(v for v in vs if v)) for k, vs in found.items()}


def _first_sentence(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    match = re.match(r"(.{20,}?[.:!?])(?:\s|$)", text)
    return (match.group(1) if match else text)[:200]


def figure_alt(source: str | None, following: str) -> str:
    """The alt text of a figure drawn by a cell with code ``source``."""
    labels = figure_labels(source or "")
    if labels["title"]:
        return "Figure: " + "; ".join(labels["title"])
    if labels["y"] and labels["x"]:
        return f"Figure: {', '.join(labels['y'])} against {', '.join(labels['x'])}"
    if following:
        return "Figure: " + _first_sentence(following)
    return "Figure"


def _classes(node: nodes.Node) -> list[str]:
    return node.get("classes", []) if isinstance(node, nodes.Element) else []


def _following_text(cell: nodes.Element) -> str:
    """The text of the first paragraph after a cell (the prose that comments on its figure)."""
    for node in cell.findall(nodes.paragraph, include_self=False, descend=False, siblings=True):
        return node.astext()
    return ""


def add_figure_alt(app, doctree: nodes.document, docname: str) -> None:
    for image in list(doctree.findall(nodes.image)):
        if image.get("alt"):
            continue
        cell = image.parent
        while cell is not None and "cell" not in _classes(cell):
            cell = cell.parent
        if cell is None:
            continue                       # an image of a page's Markdown has the alt its author wrote
        source = next((block.astext() for block in cell.findall(nodes.literal_block)
                       if any("cell_input" in _classes(a) for a in _ancestors(block))), None)
        image["alt"] = figure_alt(source, _following_text(cell))


def _ancestors(node: nodes.Node):
    while node is not None:
        yield node
        node = node.parent


def drop_empty_table_headers(app, doctree: nodes.document, docname: str) -> None:
    for thead in list(doctree.findall(nodes.thead)):
        if not thead.astext().strip():
            thead.parent.remove(thead)


def citation_list_role(app, pagename, templatename, context, doctree) -> None:
    """docutils writes the bibliography as ``<div role="list">`` whose entries have the role
    ``doc-biblioentry``, not ``listitem``: an ARIA list without items (axe-core:
    aria-required-children, critical). The entries keep their role; the list loses its own."""
    if "body" in context:
        context["body"] = context["body"].replace('<div role="list" class="citation-list">',
                                                  '<div class="citation-list">')


def setup(app):
    app.connect("html-page-context", citation_list_role)
    app.connect("doctree-resolved", add_figure_alt)
    app.connect("doctree-resolved", drop_empty_table_headers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
