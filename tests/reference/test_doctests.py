"""The examples in the reference library's docstrings run, and print what they say.

Each ``solutions`` module documents its functions with ``>>>`` examples (numpydoc's Examples
section); an example that no test runs drifts from the code. This runs every one of them.
"""
import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import solutions

MODULES = sorted(m.name for m in pkgutil.iter_modules(solutions.__path__, "solutions."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    with np.printoptions(legacy=False):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                                 verbose=False, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} fail (run: python -m doctest -v {module.__file__})"


def test_the_library_has_examples():
    """A module without examples is allowed; the library as a whole is not (guards a silent skip)."""
    attempted = sum(doctest.testmod(importlib.import_module(n), report=False).attempted for n in MODULES)
    assert attempted >= 30
