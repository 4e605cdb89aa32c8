"""Random problems and the trajectory driver that the graded tests (and the reference tests) share.

Not a graded test file (no ``test_`` prefix): :func:`autograder.engine.registry.load_exercises`
and pytest skip it. Every helper draws from the ``rng`` it is given, in a fixed order,
so a scenario sees the same data for the reference and for the submission.
"""
from __future__ import annotations

import numpy as np

from solutions.common import design_matrix


def random_regression(rng: np.random.Generator, n: int, d: int, scale: float = 1.0):
    """A design matrix ``X`` (n, d) with its column of ones and noisy linear targets ``y`` (n,).

    ``X = [1, scale * N(0, 1)]``, ``y = X w + 0.3 * N(0, 1)`` for a random ``w``.
    """
    X = design_matrix(scale * rng.normal(size=(n, d - 1)))
    y = X @ rng.normal(size=d) + 0.3 * rng.normal(size=n)
    return X, y


def random_spd(rng: np.random.Generator, d: int, kappa: float, largest: float = 1.0) -> np.ndarray:
    """A random symmetric positive-definite ``d × d`` matrix ``Q diag(λ) Qᵀ``.

    Its eigenvalues are spaced geometrically from ``largest / kappa`` to ``largest`` (so its
    condition number is ``kappa``); ``Q`` is a random orthogonal matrix.
    """
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return Q @ np.diag(np.geomspace(largest / kappa, largest, d)) @ Q.T


def trajectory(init, update, params, grad_fn, steps: int, **hyper) -> dict:
    """Run a subject's optimiser pair for ``steps`` steps: ``{"init": state, "step k": (params, state)}``.

    ``init`` and ``update`` are a namespace's functions (``ns.adam_init``, ``ns.adam_update``);
    ``grad_fn`` runs in the grader. Unlike :func:`solutions.common.run` it keeps the
    subject's values as they came back and labels each step, so that feedback can say
    which step went wrong.
    """
    state = init(params)
    out = {"init": state}
    for k in range(1, steps + 1):
        with np.errstate(all="ignore"):          # a diverging submission must not flood the output
            grads = grad_fn(params)
        params, state = update(params, grads, state, **hyper)
        params = params.array()
        out[f"step {k}"] = (params, state)
    return out
