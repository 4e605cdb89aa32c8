r"""Chapter 2: gradient descent.

Plain (full-batch) gradient descent as a pure optimiser pair, least-squares linear
regression as its first real problem, and backtracking (Armijo) line search.

Conventions of the course:

* the loss of linear regression is the **mean** squared error
  :math:`J(\theta) = \tfrac1n \lVert A\theta - y\rVert^2` (not the "half-MSE"
  :math:`\tfrac1{2n}\lVert A\theta - y\rVert^2` of some texts, whose gradient is half as big);
* ``X`` is always the design matrix :math:`A = [\mathbf 1, x]` **with** its column of ones
  (:func:`solutions.common.design_matrix`), so ``params = (b, w_1, ..., w_d)``.

Exercises: ``ex2_1`` :func:`gd_init` + :func:`gd_update`, ``ex2_2`` :func:`linreg_loss`,
``ex2_3`` :func:`linreg_grad`, ``ex2_4`` :func:`backtracking_line_search`.
Questions (a value to derive, see ``autograder/engine/questions.py``): ``ex2_5``
:func:`largest_stable_lr_answer`, ``ex2_6`` :func:`largest_stable_lr_half_mse_answer`.
The other functions are helpers used by the lesson.
"""
from typing import Callable

import numpy as np

__all__ = [
    "gd_init", "gd_update", "linreg_loss", "linreg_grad", "backtracking_line_search",
    "least_squares", "linreg_smoothness", "gd_contraction", "optimal_lr",
    "STABILITY_HESSIAN", "largest_stable_lr_answer", "largest_stable_lr_half_mse_answer",
]


def gd_init(params: np.ndarray) -> None:
    """Initial state of plain gradient descent: it has none.

    Parameters
    ----------
    params : ndarray
        The starting point (unused; the signature is the one every optimiser shares).

    Returns
    -------
    None
        Gradient descent is stateless.
    """
    return None


def gd_update(params: np.ndarray, grads: np.ndarray, state: None, *, lr: float):
    r"""One step of gradient descent.

    .. math:: \theta_{k+1} = \theta_k - \eta\, \nabla J(\theta_k)

    Parameters
    ----------
    params : ndarray
        The current iterate :math:`\theta_k`.
    grads : ndarray, same shape as ``params``
        The gradient :math:`\nabla J(\theta_k)`.
    state : None
        The (empty) state returned by :func:`gd_init`.
    lr : float
        The learning rate (step size) :math:`\eta > 0`.

    Returns
    -------
    new_params : ndarray
        :math:`\theta_{k+1}`, a new array: ``params`` and ``grads`` are not modified.
    new_state : None

    Examples
    --------
    >>> gd_update(np.array([1.0, 1.0]), np.array([0.2, 4.0]), None, lr=0.1)
    (array([0.98, 0.6 ]), None)
    """
    return np.asarray(params, dtype=float) - lr * np.asarray(grads, dtype=float), state


def linreg_loss(params: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    r"""Mean squared error of the linear model :math:`\hat y = X\theta`.

    .. math:: J(\theta) = \frac1n \sum_{i=1}^n (x_i^\top\theta - y_i)^2
              = \frac1n \lVert X\theta - y \rVert^2

    Parameters
    ----------
    params : ndarray, shape (d + 1,)
        :math:`\theta = (b, w_1, \dots, w_d)`.
    X : ndarray, shape (n, d + 1)
        The design matrix, whose first column is all ones (the bias).
    y : ndarray, shape (n,)
        The targets.

    Returns
    -------
    float
        The mean (over the ``n`` samples) of the squared residuals; not the vector of
        squared errors and not the "half-MSE" :math:`\tfrac1{2n}\lVert X\theta - y\rVert^2`.

    Examples
    --------
    >>> X = np.array([[1.0, 1.0], [1.0, 2.0]])
    >>> linreg_loss(np.array([0.0, 1.0]), X, np.array([2.0, 3.0]))
    1.0
    """
    r = np.asarray(X, dtype=float) @ np.asarray(params, dtype=float) - np.asarray(y, dtype=float)
    return float(np.mean(r**2))


def linreg_grad(params: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""Gradient of :func:`linreg_loss` with respect to ``params``.

    .. math:: \nabla J(\theta) = \frac2n X^\top (X\theta - y)

    Parameters
    ----------
    params : ndarray, shape (d + 1,)
    X : ndarray, shape (n, d + 1)
        The design matrix (with its column of ones).
    y : ndarray, shape (n,)

    Returns
    -------
    ndarray, shape (d + 1,)
        One number per parameter: the per-sample gradients
        :math:`2 x_i (x_i^\top\theta - y_i)` averaged over the ``n`` samples.

    Examples
    --------
    >>> X = np.array([[1.0, 1.0], [1.0, 2.0]])
    >>> linreg_grad(np.array([0.0, 1.0]), X, np.array([2.0, 3.0]))
    array([-2., -3.])
    """
    X = np.asarray(X, dtype=float)
    r = X @ np.asarray(params, dtype=float) - np.asarray(y, dtype=float)
    return 2.0 / len(r) * (X.T @ r)


def backtracking_line_search(f: Callable[[np.ndarray], float],
                             grad_f: Callable[[np.ndarray], np.ndarray],
                             params: np.ndarray,
                             direction: np.ndarray | None = None,
                             *, lr0: float = 1.0, shrink: float = 0.5, c: float = 1e-4) -> float:
    r"""Step size by backtracking until Armijo's sufficient-decrease condition holds.

    Try :math:`\alpha = \alpha_0, \alpha_0\rho, \alpha_0\rho^2, \dots` and return the
    first (so the largest of them) that satisfies

    .. math:: f(\theta + \alpha d) \le f(\theta) + c\, \alpha\, \nabla f(\theta)^\top d .

    For a descent direction (:math:`\nabla f^\top d < 0`) and a smooth :math:`f` this
    holds for every small enough :math:`\alpha`, so the loop ends.

    Parameters
    ----------
    f : callable
        ``f(params) -> float``, the objective.
    grad_f : callable
        ``grad_f(params) -> ndarray``, its gradient (called once, at ``params``).
    params : ndarray
        The current point :math:`\theta` (not modified).
    direction : ndarray, optional
        The search direction :math:`d`; default the steepest-descent direction
        :math:`-\nabla f(\theta)`.
    lr0 : float
        The first step size tried, :math:`\alpha_0 > 0`.
    shrink : float
        The factor :math:`\rho \in (0, 1)` applied after each rejected step.
    c : float
        The sufficient-decrease constant :math:`c \in (0, 1)`.

    Returns
    -------
    float
        The accepted step size :math:`\alpha = \alpha_0 \rho^k` with the smallest ``k``.

    Raises
    ------
    ValueError
        If ``direction`` is an ascent direction (:math:`\nabla f^\top d > 0`), if
        :math:`f(\theta)` or :math:`\nabla f^\top d` is not finite, or if a constant is
        out of range.

    Examples
    --------
    >>> f = lambda x: float(x @ x)
    >>> backtracking_line_search(f, lambda x: 2 * x, np.array([1.0, -2.0]))
    0.5
    """
    if not (lr0 > 0 and 0 < shrink < 1 and 0 < c < 1):
        raise ValueError("need lr0 > 0, 0 < shrink < 1 and 0 < c < 1")
    params = np.asarray(params, dtype=float)
    g = np.asarray(grad_f(params), dtype=float)
    d = -g if direction is None else np.asarray(direction, dtype=float)
    slope = float(np.sum(g * d))
    f0 = float(f(params))
    if not (np.isfinite(slope) and np.isfinite(f0)):
        raise ValueError("f(params) or grad . direction is not finite")
    if slope > 0:
        raise ValueError("the direction is not a descent direction (grad . direction > 0)")
    alpha = float(lr0)
    # alpha reaches 0.0 after ~1100 halvings at most; then params + 0 * d == params and
    # the condition f0 <= f0 holds, so the loop always ends.
    while not f(params + alpha * d) <= f0 + c * alpha * slope:
        alpha *= shrink
    return alpha


# --- helpers for the lesson (not exercises) ------------------------------------------------

def least_squares(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""The minimiser of :func:`linreg_loss`: :math:`\theta^\star = \arg\min \lVert X\theta - y\rVert^2`.

    Solved by :func:`numpy.linalg.lstsq` (an SVD, more accurate than forming the normal
    equations :math:`X^\top X\theta = X^\top y`).
    """
    return np.linalg.lstsq(np.asarray(X, dtype=float), np.asarray(y, dtype=float), rcond=None)[0]


def linreg_smoothness(X: np.ndarray) -> tuple[float, float]:
    r"""Curvatures of the MSE of linear regression: :math:`(\mu, L)`.

    The Hessian of :func:`linreg_loss` is the constant :math:`H = \tfrac2n X^\top X`;
    its smallest and largest eigenvalues are the strong-convexity constant :math:`\mu` and
    the smoothness constant :math:`L`. Gradient descent is stable for
    :math:`0 < \eta < 2/L`.

    Returns
    -------
    (float, float)
        :math:`\mu = \lambda_{\min}(H)` and :math:`L = \lambda_{\max}(H)`.
    """
    X = np.asarray(X, dtype=float)
    eig = np.linalg.eigvalsh(2.0 / len(X) * (X.T @ X))
    return float(eig[0]), float(eig[-1])


def gd_contraction(lr: float, eigenvalues) -> float:
    r"""Worst-case contraction factor of gradient descent on a quadratic.

    On :math:`f(\theta) = \tfrac12(\theta-\theta^\star)^\top H (\theta-\theta^\star)` one
    step multiplies the error's component along the eigenvector of eigenvalue
    :math:`\lambda` by :math:`1 - \eta\lambda`, so

    .. math:: \lVert\theta_k - \theta^\star\rVert \le
              \Big(\max_\lambda \lvert 1 - \eta\lambda\rvert\Big)^k \lVert\theta_0 - \theta^\star\rVert .

    A factor above 1 means divergence (this happens when :math:`\eta > 2/L`).
    """
    lam = np.asarray(eigenvalues, dtype=float)
    return float(np.max(np.abs(1.0 - lr * lam)))


def optimal_lr(mu: float, L: float) -> float:
    r"""The constant step that minimises :func:`gd_contraction` on a quadratic: :math:`2/(L+\mu)`.

    Its factor is :math:`(L-\mu)/(L+\mu) = (\kappa-1)/(\kappa+1)` with :math:`\kappa = L/\mu`.
    """
    return 2.0 / (L + mu)


# --- questions (answers written as literals; see autograder/engine/questions.py) ---------------------

#: The Hessian of the quadratic of question ``ex2_5``, :math:`f(\theta) = \tfrac12\theta^\top H\theta`.
STABILITY_HESSIAN = np.array([[5.0, 2.0], [2.0, 2.0]])


def largest_stable_lr_answer() -> float:
    r"""``ex2_5``: the largest stable learning rate of gradient descent on :math:`\tfrac12\theta^\top H\theta`.

    With :math:`H` = ``STABILITY_HESSIAN`` :math:`= \begin{pmatrix}5&2\\2&2\end{pmatrix}`, one step
    multiplies the error's component along the eigenvector :math:`u_i` by :math:`1-\eta\lambda_i`.
    All components shrink iff :math:`\lvert1-\eta\lambda_i\rvert<1` for every :math:`i`, that is
    :math:`\eta < 2/L` with :math:`L=\lambda_{\max}(H)`. The eigenvalues solve
    :math:`\lambda^2 - 7\lambda + 6 = 0` (trace 7, determinant 6): :math:`\lambda = 1, 6`, so
    the answer is :math:`2/6 = 0.333`.
    """
    L = np.linalg.eigvalsh(STABILITY_HESSIAN).max()
    return float(2.0 / L)


def largest_stable_lr_half_mse_answer() -> float:
    r"""``ex2_6``: the largest stable learning rate of source article 001's half-MSE on article 000's data.

    The data are :func:`solutions.common.seed_data_000` (:math:`x = 1, \dots, 6`) with the
    column of ones. The MSE's Hessian is :math:`\tfrac2n X^\top X`, with largest eigenvalue
    :math:`L` (:func:`linreg_smoothness`); the half-MSE :math:`\tilde J = J/2` has half of it,
    :math:`\tilde L = L/2`, so gradient descent on :math:`\tilde J` is stable for
    :math:`\alpha < 2/\tilde L = 4/L`. Here :math:`\tfrac2n X^\top X =
    \begin{pmatrix}2&7\\7&91/3\end{pmatrix}` (trace :math:`97/3`, determinant :math:`35/3`),
    :math:`L = 31.97`, and the answer is :math:`4/L = 0.125`. The smallest curvature
    :math:`\tilde\mu = \mu/2 = 0.182` is a different number: stability is set by the largest.
    """
    from .common import design_matrix, seed_data_000
    x, _ = seed_data_000()
    _, L = linreg_smoothness(design_matrix(x))
    return 4.0 / L
