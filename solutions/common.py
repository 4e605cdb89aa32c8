"""What every chapter shares: the optimiser driver, test problems and datasets.

Every optimiser in this library is a pair of pure functions (like optax):

``<rule>_init(params) -> state``
    the initial state (``None`` for a stateless rule);
``<rule>_update(params, grads, state, **hyper) -> (new_params, new_state)``
    one step; it never mutates its inputs.

:func:`run` drives such a pair on a problem and returns the whole trajectory.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

__all__ = [
    "Trajectory", "run", "Quadratic", "rosenbrock", "rosenbrock_grad",
    "seed_data_000", "seed_data_001", "seed_data_003", "design_matrix",
]


class Trajectory(NamedTuple):
    """The iterates of an optimiser run.

    Attributes
    ----------
    params : ndarray, shape ``(steps + 1, *params.shape)``
        ``params[k]`` is the iterate after ``k`` steps; ``params[0]`` is the start.
    losses : ndarray, shape (steps + 1,)
        The loss at each iterate (``nan`` when no loss function was given).
    states : list
        The optimiser state after each step (``states[0]`` is the initial state).
    """

    params: np.ndarray
    losses: np.ndarray
    states: list


def run(init: Callable[[np.ndarray], Any] | None,
        update: Callable[..., tuple[np.ndarray, Any]],
        params: np.ndarray,
        grad_fn: Callable[[np.ndarray], np.ndarray],
        *,
        steps: int,
        loss_fn: Callable[[np.ndarray], float] | None = None,
        **hyper: Any) -> Trajectory:
    r"""Run an optimiser for ``steps`` steps and record the trajectory.

    .. math:: \theta_{k+1}, s_{k+1} = \mathrm{update}(\theta_k, \nabla J(\theta_k), s_k),
              \qquad s_0 = \mathrm{init}(\theta_0).

    Parameters
    ----------
    init : callable or None
        ``init(params) -> state``; ``None`` for a stateless rule (state is ``None``).
    update : callable
        ``update(params, grads, state, **hyper) -> (new_params, new_state)``.
    params : array_like
        The starting point :math:`\theta_0` (copied, never modified).
    grad_fn : callable
        ``grad_fn(params) -> grads``, the (possibly stochastic) gradient oracle.
    steps : int
        Number of updates.
    loss_fn : callable, optional
        ``loss_fn(params) -> float``, evaluated at every iterate.
    **hyper
        Passed to ``update`` (``lr=...``, ``beta=...``).

    Returns
    -------
    Trajectory
        The ``steps + 1`` iterates, their losses and the states.

    Examples
    --------
    >>> from solutions.gradient_descent import gd_init, gd_update
    >>> q = Quadratic.diagonal([0.2, 4.0])
    >>> traj = run(gd_init, gd_update, np.array([1.0, 1.0]), q.grad, steps=3, lr=0.1)
    >>> traj.params.shape
    (4, 2)
    """
    params = np.array(params, dtype=float)
    state = init(params) if init is not None else None
    iterates, states = [params], [state]
    for _ in range(steps):
        params, state = update(params, grad_fn(params), state, **hyper)
        iterates.append(np.asarray(params, dtype=float))
        states.append(state)
    losses = np.array([loss_fn(p) if loss_fn is not None else np.nan for p in iterates], dtype=float)
    return Trajectory(np.stack(iterates), losses, states)


class Quadratic(NamedTuple):
    r"""The quadratic :math:`f(\theta) = \tfrac12 \theta^\top A \theta - b^\top \theta`.

    Its gradient is :math:`A\theta - b`, its Hessian :math:`A`; for symmetric positive
    definite :math:`A` the minimiser is :math:`A^{-1}b`, the smoothness constant
    :math:`L = \lambda_{\max}(A)` and the condition number
    :math:`\kappa = \lambda_{\max}/\lambda_{\min}`.

    The course's running example :math:`f(x) = 0.1 x_1^2 + 2 x_2^2` is
    ``Quadratic.diagonal([0.2, 4.0])``.
    """

    A: np.ndarray
    b: np.ndarray

    @classmethod
    def diagonal(cls, curvatures, b=None) -> "Quadratic":
        """The quadratic with Hessian ``diag(curvatures)`` (and linear term ``b``, default 0)."""
        d = np.asarray(curvatures, dtype=float)
        return cls(np.diag(d), np.zeros_like(d) if b is None else np.asarray(b, dtype=float))

    def loss(self, theta: np.ndarray) -> float:
        r""":math:`\tfrac12 \theta^\top A \theta - b^\top \theta`."""
        theta = np.asarray(theta, dtype=float)
        return float(0.5 * theta @ self.A @ theta - self.b @ theta)

    def grad(self, theta: np.ndarray) -> np.ndarray:
        r""":math:`A\theta - b`."""
        return self.A @ np.asarray(theta, dtype=float) - self.b

    def minimizer(self) -> np.ndarray:
        r""":math:`A^{-1} b`."""
        return np.linalg.solve(self.A, self.b)

    def smoothness(self) -> float:
        r"""The smoothness constant :math:`L = \lambda_{\max}(A)`."""
        return float(np.linalg.eigvalsh(self.A).max())

    def condition_number(self) -> float:
        r""":math:`\kappa = \lambda_{\max}(A) / \lambda_{\min}(A)`."""
        eig = np.linalg.eigvalsh(self.A)
        return float(eig.max() / eig.min())


def rosenbrock(theta: np.ndarray, a: float = 1.0, b: float = 100.0) -> float:
    r"""Rosenbrock's banana :math:`f(x, y) = (a - x)^2 + b (y - x^2)^2`, minimum at :math:`(a, a^2)`."""
    x, y = theta
    return float((a - x) ** 2 + b * (y - x**2) ** 2)


def rosenbrock_grad(theta: np.ndarray, a: float = 1.0, b: float = 100.0) -> np.ndarray:
    r"""Gradient of :func:`rosenbrock`: :math:`(-2(a-x) - 4bx(y-x^2),\; 2b(y-x^2))`."""
    x, y = theta
    return np.array([-2.0 * (a - x) - 4.0 * b * x * (y - x**2), 2.0 * b * (y - x**2)])


def design_matrix(x: np.ndarray) -> np.ndarray:
    r"""The design matrix :math:`A = [\mathbf 1, X]` of a linear model with a bias.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)

    Returns
    -------
    ndarray, shape (n, d + 1)
        A column of ones followed by the features, so that :math:`\hat y = A\theta`
        with :math:`\theta = (b, w_1, \dots, w_d)`.
    """
    x = np.asarray(x, dtype=float)
    x = x.reshape(len(x), -1)
    return np.column_stack([np.ones(len(x)), x])


def seed_data_000() -> tuple[np.ndarray, np.ndarray]:
    """The six points of source article 000: ``y = x + 1`` for ``x = 1..6`` (optimum w = 1, b = 1)."""
    x = np.arange(1.0, 7.0)
    return x, x + 1.0


def seed_data_001() -> tuple[np.ndarray, np.ndarray]:
    """The five points of source article 001: ``y = 2x`` for ``x = 1..5`` (optimum w = 2, b = 0)."""
    x = np.arange(1.0, 6.0)
    return x, 2.0 * x


def seed_data_003(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The noisy line of source article 003: ``y = 3x + 2 + 0.5 ε``, 100 points, x ~ U(0, 1).

    Reproduces the article's ``np.random.seed(0); X = rand(100, 1); y = 3X + 2 + 0.5 randn(100, 1)``
    (the legacy global generator, so the numbers are the article's own); returned flat, shape (100,).
    With an intercept the least-squares optimum is (b, w) = (2.111, 2.968).
    """
    rng = np.random.RandomState(seed)
    x = rng.rand(100, 1)
    y = 3 * x + 2 + 0.5 * rng.randn(100, 1)
    return x.ravel(), y.ravel()
