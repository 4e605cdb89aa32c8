"""Reference library of the course *Optimizing Loss Functions*.

Small, pure numpy functions, one module per chapter:

========================  ======================================================
module                    chapter
========================  ======================================================
:mod:`solutions.losses`            1. Loss functions
:mod:`solutions.gradient_descent`  2. Gradient descent
:mod:`solutions.sgd`               3. Stochastic and mini-batch gradient descent
:mod:`solutions.momentum`          4. Momentum and Nesterov
:mod:`solutions.adaptive`          5. Adaptive methods
:mod:`solutions.backprop`          6. Backpropagation
:mod:`solutions.newton`            7. Newton's method
:mod:`solutions.practice`          8. Training in practice
========================  ======================================================

:mod:`solutions.common` holds what every chapter shares (the optimiser driver, test
problems, the source articles' datasets) and :mod:`solutions.plotting` the figures.
"""
from typing import NamedTuple


class Chapter(NamedTuple):
    """One chapter: its number, its module (``solutions/<module>.py``, ``lessons/NN_<module>.ipynb``,
    ``autograder/tests/test_<module>.py``), its title and the short name the project description uses."""

    number: int
    module: str
    title: str
    short: str


# The one list of chapters. The table above, README.md, _toc.yml, book/intro.md, book/api.md and
# pyproject.toml's description are checked against it by tests/grader/test_registry.py.
CHAPTERS = (
    Chapter(1, "losses", "Loss functions", "losses"),
    Chapter(2, "gradient_descent", "Gradient descent", "gradient descent"),
    Chapter(3, "sgd", "Stochastic and mini-batch gradient descent", "SGD"),
    Chapter(4, "momentum", "Momentum and Nesterov", "momentum"),
    Chapter(5, "adaptive", "Adaptive methods", "adaptive methods"),
    Chapter(6, "backprop", "Backpropagation", "backpropagation"),
    Chapter(7, "newton", "Newton's method", "Newton's method"),
    Chapter(8, "practice", "Training in practice", "training in practice"),
)
