r"""Chapter 7: Newton's method.

Newton's method minimises the local quadratic model

.. math:: J(\theta + d) \approx J(\theta) + g^\top d + \tfrac12 d^\top H d,
          \qquad g = \nabla J(\theta),\quad H = \nabla^2 J(\theta),

whose minimiser, for a positive-definite :math:`H`, is the *Newton direction*
:math:`d = -H^{-1} g`, computed by solving :math:`H d = -g` (never by forming
:math:`H^{-1}`). Damped Newton scales it by a step :math:`t \in (0, 1]` chosen by
backtracking (chapter 2's :func:`~solutions.gradient_descent.backtracking_line_search`);
the *Newton decrement* :math:`\lambda(\theta) = (g^\top H^{-1} g)^{1/2}` measures the
distance to the optimum and stops it (Boyd & Vandenberghe, §9.5).

Conventions: ``params`` is :math:`\theta = (b, w_1, \dots, w_d)` and ``X`` the design
matrix with its column of ones (:func:`solutions.common.design_matrix`), as in chapter 2.
The logistic loss is the mean binary cross-entropy from the logits (chapter 1's stable
:func:`~solutions.losses.binary_cross_entropy_with_logits`) plus
:math:`\tfrac\gamma2\lVert w\rVert^2` with :math:`\gamma` = ``l2``, the bias not
penalised; scikit-learn's ``LogisticRegression(C=C)`` is the same problem with
:math:`\gamma = 1/(nC)`.

Exercises: ``ex7_1`` :func:`newton_step`, ``ex7_2`` :func:`newton_decrement`, ``ex7_3``
:func:`logistic_loss` + :func:`logistic_grad` + :func:`logistic_hess`, ``ex7_4``
:func:`damped_newton`, ``ex7_5`` :func:`modified_hessian`, ``ex7_6``
:func:`bfgs_update`, ``ex7_9`` :func:`lbfgs_direction`. The other functions are helpers of
the lesson: test functions with their Hessians, BFGS and L-BFGS drivers and the
breast-cancer data set. Question (a value to
derive, see ``autograder/engine/questions.py``): ``ex7_7`` :func:`newton_quartic_ratio_answer`, ``ex7_8``
:func:`newton_decrement_example_answer`.
"""
from typing import Callable, NamedTuple

import numpy as np

from solutions.common import design_matrix
from solutions.gradient_descent import backtracking_line_search
from solutions.losses import (binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_grad,
                              l2_penalty, sigmoid)

__all__ = [
    "NewtonTrajectory", "newton_step", "newton_decrement", "logistic_loss", "logistic_grad",
    "logistic_hess", "damped_newton", "modified_hessian", "bfgs_update", "lbfgs_direction", "bfgs", "lbfgs",
    "rosenbrock_hess", "four_wells", "four_wells_grad", "four_wells_hess", "breast_cancer",
    "newton_quartic_ratio_answer",
    "DECREMENT_SETTING", "newton_decrement_example_answer",
]


class NewtonTrajectory(NamedTuple):
    r"""The run of :func:`damped_newton` (or :func:`bfgs`): ``k`` steps, ``k + 1`` iterates.

    Attributes
    ----------
    params : ndarray, shape (k + 1, d)
        ``params[i]`` is the iterate after ``i`` steps; ``params[0]`` is the start.
    losses : ndarray, shape (k + 1,)
        The objective at each iterate.
    decrements : ndarray, shape (k + 1,)
        The Newton decrement :math:`\lambda` at each iterate (for :func:`bfgs`, its
        estimate :math:`(g^\top H_k g)^{1/2}` with the current inverse-Hessian
        approximation). The last one is the one that stopped the run.
    step_sizes : ndarray, shape (k,)
        The step :math:`t` accepted by the line search at each step.
    """

    params: np.ndarray
    losses: np.ndarray
    decrements: np.ndarray
    step_sizes: np.ndarray


def newton_step(params: np.ndarray, grads: np.ndarray, hess: np.ndarray) -> np.ndarray:
    r"""One pure Newton step: :math:`\theta - H^{-1} g`, by solving :math:`H d = g`.

    .. math:: \theta_{k+1} = \theta_k - H(\theta_k)^{-1}\, \nabla J(\theta_k)

    The inverse is never formed: :func:`numpy.linalg.solve` (an LU factorisation) is
    cheaper and backward stable, so that :math:`H d` reproduces :math:`g` to rounding
    error even when :math:`H` is ill-conditioned, which :math:`H^{-1}g` computed through
    ``inv(H)`` does not.

    Parameters
    ----------
    params : ndarray, shape (d,)
        The current iterate :math:`\theta_k` (not modified).
    grads : ndarray, shape (d,)
        The gradient :math:`g = \nabla J(\theta_k)`.
    hess : ndarray, shape (d, d)
        The Hessian :math:`H = \nabla^2 J(\theta_k)`, nonsingular.

    Returns
    -------
    ndarray, shape (d,)
        :math:`\theta_{k+1}`; on a quadratic with positive-definite Hessian, its minimiser.

    Examples
    --------
    >>> newton_step(np.array([1.0, 1.0]), np.array([0.2, 4.0]), np.diag([0.2, 4.0]))
    array([0., 0.])
    """
    params = np.asarray(params, dtype=float)
    return params - np.linalg.solve(np.asarray(hess, dtype=float), np.asarray(grads, dtype=float))


def newton_decrement(grads: np.ndarray, hess: np.ndarray) -> float:
    r"""The Newton decrement :math:`\lambda = (g^\top H^{-1} g)^{1/2}` (Boyd & Vandenberghe §9.5.1).

    With the Newton direction :math:`d = -H^{-1}g`, :math:`\lambda^2 = -g^\top d` is the
    slope of :math:`J` along :math:`d` and :math:`\lambda^2/2` the decrease the quadratic
    model predicts for the full step, an estimate of :math:`J(\theta) - J^\star` near the
    optimum. Unlike :math:`\lVert g\rVert` it does not change under a linear change of
    coordinates.

    Parameters
    ----------
    grads : ndarray, shape (d,)
        The gradient :math:`g`.
    hess : ndarray, shape (d, d)
        The Hessian :math:`H`, positive definite (for an indefinite one
        :math:`g^\top H^{-1} g` can be negative and there is no decrement).

    Returns
    -------
    float
        :math:`\lambda \ge 0` (not its square).

    Examples
    --------
    >>> newton_decrement(np.array([0.2, 4.0]), np.diag([0.2, 4.0]))     # sqrt(0.2 + 4)
    2.04939015319192
    """
    g = np.asarray(grads, dtype=float)
    return float(np.sqrt(g @ np.linalg.solve(np.asarray(hess, dtype=float), g)))


def logistic_loss(params: np.ndarray, X: np.ndarray, y: np.ndarray, *, l2: float = 0.0) -> float:
    r"""Mean binary cross-entropy of logistic regression, with an L2 penalty on the weights.

    .. math:: J(\theta) = \frac1n \sum_{i=1}^n \bigl[\max(z_i, 0) - z_i y_i
              + \log(1 + e^{-|z_i|})\bigr] + \frac\gamma2 \lVert w\rVert^2,
              \qquad z = X\theta,\ \theta = (b, w),

    the stable form of chapter 1 (:func:`~solutions.losses.binary_cross_entropy_with_logits`).

    Parameters
    ----------
    params : ndarray, shape (d + 1,)
        :math:`\theta = (b, w_1, \dots, w_d)`.
    X : ndarray, shape (n, d + 1)
        The design matrix, whose first column is all ones.
    y : ndarray, shape (n,)
        The labels, 0 or 1.
    l2 : float
        :math:`\gamma \ge 0`, the penalty coefficient. The bias :math:`b` is not penalised.

    Returns
    -------
    float

    Examples
    --------
    >>> X = np.array([[1.0, 2.0], [1.0, -1.0]])
    >>> round(logistic_loss(np.zeros(2), X, np.array([1.0, 0.0])), 6)     # log 2
    0.693147
    """
    params = np.asarray(params, dtype=float)
    z = np.asarray(X, dtype=float) @ params
    return binary_cross_entropy_with_logits(z, y) + l2_penalty(params[1:], l2)


def logistic_grad(params: np.ndarray, X: np.ndarray, y: np.ndarray, *, l2: float = 0.0) -> np.ndarray:
    r"""Gradient of :func:`logistic_loss`.

    .. math:: \nabla J(\theta) = \frac1n X^\top\bigl(\sigma(X\theta) - y\bigr) + \gamma\,(0, w)

    Parameters
    ----------
    params : ndarray, shape (d + 1,)
    X : ndarray, shape (n, d + 1)
    y : ndarray, shape (n,)
    l2 : float

    Returns
    -------
    ndarray, shape (d + 1,)
        The bias component has no penalty term.
    """
    params = np.asarray(params, dtype=float)
    X = np.asarray(X, dtype=float)
    penalty = l2 * params
    penalty[0] = 0.0
    return X.T @ binary_cross_entropy_with_logits_grad(X @ params, y) + penalty


def logistic_hess(params: np.ndarray, X: np.ndarray, y: np.ndarray, *, l2: float = 0.0) -> np.ndarray:
    r"""Hessian of :func:`logistic_loss`.

    .. math:: \nabla^2 J(\theta) = \frac1n X^\top D X + \gamma\,\operatorname{diag}(0, 1, \dots, 1),
              \qquad D = \operatorname{diag}\bigl(\sigma(z_i)(1 - \sigma(z_i))\bigr),\ z = X\theta .

    It does not depend on ``y``; it is positive semi-definite (positive definite when
    ``X`` has full column rank or :math:`\gamma > 0` and the bias is determined), so the
    loss is convex. Forming it costs :math:`O(n d^2)`.

    Parameters
    ----------
    params : ndarray, shape (d + 1,)
    X : ndarray, shape (n, d + 1)
    y : ndarray, shape (n,)
        Unused (kept so that the three functions share a signature).
    l2 : float

    Returns
    -------
    ndarray, shape (d + 1, d + 1)
        Symmetric.
    """
    X = np.asarray(X, dtype=float)
    p = sigmoid(X @ np.asarray(params, dtype=float))
    H = X.T @ (X * (p * (1.0 - p))[:, None]) / len(X)
    penalty = np.full(X.shape[1], float(l2))
    penalty[0] = 0.0
    return H + np.diag(penalty)


def damped_newton(f: Callable[[np.ndarray], float],
                  grad: Callable[[np.ndarray], np.ndarray],
                  hess: Callable[[np.ndarray], np.ndarray],
                  x0: np.ndarray,
                  *, tol: float = 1e-10, max_iter: int = 50,
                  alpha: float = 0.25, beta: float = 0.5) -> NewtonTrajectory:
    r"""Damped Newton's method with backtracking line search (Boyd & Vandenberghe, Algorithm 9.5).

    At each iterate :math:`\theta_k`:

    1. the Newton direction :math:`d_k = -H_k^{-1} g_k` and the decrement
       :math:`\lambda_k = (g_k^\top H_k^{-1} g_k)^{1/2}`;
    2. stop if :math:`\lambda_k^2/2 \le` ``tol`` (or after ``max_iter`` steps);
    3. the step :math:`t_k`: the first of :math:`1, \beta, \beta^2, \dots` with
       :math:`f(\theta_k + t d_k) \le f(\theta_k) - \alpha\, t\, \lambda_k^2`
       (Armijo's condition, since :math:`g_k^\top d_k = -\lambda_k^2`), found by
       :func:`~solutions.gradient_descent.backtracking_line_search`;
    4. :math:`\theta_{k+1} = \theta_k + t_k d_k`.

    Near the optimum of a self-concordant or strongly convex function with Lipschitz
    Hessian the full step :math:`t = 1` is accepted and :math:`\lambda_k` converges to 0
    quadratically.

    Parameters
    ----------
    f, grad, hess : callable
        ``f(x) -> float``, ``grad(x) -> ndarray (d,)``, ``hess(x) -> ndarray (d, d)``.
        ``hess`` must return positive-definite matrices (see :func:`modified_hessian`).
    x0 : ndarray, shape (d,)
        The starting point (not modified).
    tol : float
        Stop when :math:`\lambda^2/2 \le` ``tol``.
    max_iter : int
        At most this many steps.
    alpha : float
        Armijo's constant, in :math:`(0, 1/2)`.
    beta : float
        The backtracking factor, in :math:`(0, 1)`.

    Returns
    -------
    NewtonTrajectory
        All ``k + 1`` iterates, their losses and decrements, and the ``k`` step sizes.

    Examples
    --------
    >>> q = lambda x: float(x @ x)
    >>> run = damped_newton(q, lambda x: 2 * x, lambda x: 2 * np.eye(2), np.array([1.0, -2.0]))
    >>> run.params[-1], run.step_sizes
    (array([0., 0.]), array([1.]))
    """
    x = np.array(x0, dtype=float)
    iterates, losses, decrements, steps = [x], [float(f(x))], [], []
    for k in range(max_iter + 1):
        g, H = np.asarray(grad(x), dtype=float), np.asarray(hess(x), dtype=float)
        decrements.append(newton_decrement(g, H))
        if decrements[-1] ** 2 / 2 <= tol or k == max_iter:
            break
        direction = newton_step(np.zeros_like(x), g, H)          # -H^{-1} g
        t = backtracking_line_search(f, grad, x, direction, lr0=1.0, shrink=beta, c=alpha)
        x = x + t * direction
        iterates.append(x)
        losses.append(float(f(x)))
        steps.append(t)
    return NewtonTrajectory(np.stack(iterates), np.array(losses), np.array(decrements), np.array(steps, dtype=float))


def modified_hessian(hess: np.ndarray, *, beta: float = 1e-3) -> np.ndarray:
    r"""Make a symmetric matrix positive definite by adding a multiple of the identity.

    Nocedal & Wright, Algorithm 3.3 (Cholesky with added multiple of the identity): with
    :math:`a = \min_i H_{ii}`, start from :math:`\tau_0 = 0` if :math:`a > 0`, else
    :math:`\tau_0 = -a + \beta`; try a Cholesky factorisation of :math:`H + \tau_k I` and,
    while it fails, set :math:`\tau_{k+1} = \max(2\tau_k, \beta)`. The first
    :math:`H + \tau_k I` that factorises is returned: the Newton direction computed with it
    is a descent direction.

    Parameters
    ----------
    hess : ndarray, shape (d, d)
        A symmetric matrix, for instance an indefinite Hessian (not modified).
    beta : float
        :math:`\beta > 0`, the smallest shift tried after the first.

    Returns
    -------
    ndarray, shape (d, d)
        :math:`H + \tau I` with the first :math:`\tau` of the sequence that makes it positive
        definite (``H`` itself, as a new array, when it already is and its diagonal is positive).

    Examples
    --------
    >>> modified_hessian(np.array([[1.0, 2.0], [2.0, 1.0]]))   # eigenvalues -1, 3: tau = 1e-3 * 2**10
    array([[2.024, 2.   ],
           [2.   , 2.024]])
    """
    H = np.array(hess, dtype=float)
    a = float(np.min(np.diag(H)))
    tau = 0.0 if a > 0 else -a + beta
    eye = np.eye(len(H))
    while True:
        try:
            np.linalg.cholesky(H + tau * eye)
            return H + tau * eye
        except np.linalg.LinAlgError:
            tau = max(2.0 * tau, beta)


def bfgs_update(h_inv: np.ndarray, s: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""The BFGS update of the inverse-Hessian approximation (Nocedal & Wright, (6.17)).

    .. math:: H_{k+1} = (I - \rho\, s y^\top)\, H_k\, (I - \rho\, y s^\top) + \rho\, s s^\top,
              \qquad \rho = \frac{1}{y^\top s},

    with :math:`s = \theta_{k+1} - \theta_k` and :math:`y = \nabla J(\theta_{k+1}) - \nabla J(\theta_k)`.
    The result satisfies the secant equation :math:`H_{k+1} y = s`, is symmetric, and is
    positive definite when :math:`H_k` is and :math:`y^\top s > 0`.

    Parameters
    ----------
    h_inv : ndarray, shape (d, d)
        :math:`H_k`, the current approximation of the *inverse* Hessian (not modified).
    s : ndarray, shape (d,)
        The step.
    y : ndarray, shape (d,)
        The change of the gradient, with :math:`y^\top s > 0`.

    Returns
    -------
    ndarray, shape (d, d)
        :math:`H_{k+1}`.

    Examples
    --------
    >>> bfgs_update(np.eye(2), np.array([1.0, 0.0]), np.array([2.0, 0.0]))
    array([[0.5, 0. ],
           [0. , 1. ]])
    """
    H = np.asarray(h_inv, dtype=float)
    s, y = np.asarray(s, dtype=float), np.asarray(y, dtype=float)
    rho = 1.0 / float(y @ s)
    V = np.eye(len(s)) - rho * np.outer(s, y)
    return V @ H @ V.T + rho * np.outer(s, s)


def lbfgs_direction(grads: np.ndarray, s_list: list[np.ndarray], y_list: list[np.ndarray]) -> np.ndarray:
    r"""The L-BFGS direction :math:`d = -H g` by the two-loop recursion (Nocedal & Wright, Algorithm 7.4).

    :math:`H` is the inverse-Hessian approximation that the :math:`m` BFGS updates
    (:func:`bfgs_update`) with the stored pairs, oldest first, make of :math:`H_0 = \gamma I`:

    .. math:: \gamma = \frac{s_m^\top y_m}{y_m^\top y_m} \quad \text{(the newest pair, Nocedal \& Wright (7.20))},
              \qquad \rho_i = \frac{1}{y_i^\top s_i}.

    It is never formed. With :math:`q = g`, the first loop runs from the newest pair to
    the oldest: :math:`\alpha_i = \rho_i s_i^\top q`, :math:`q \leftarrow q - \alpha_i y_i`;
    then :math:`r = \gamma q`; the second loop runs from the oldest pair to the newest:
    :math:`\beta_i = \rho_i y_i^\top r`, :math:`r \leftarrow r + (\alpha_i - \beta_i) s_i`;
    and :math:`d = -r`. It costs :math:`O(md)` time and memory instead of :math:`O(d^2)`.

    Parameters
    ----------
    grads : ndarray, shape (d,)
        The gradient :math:`g` at the current iterate (not modified).
    s_list : list of ndarray, each of shape (d,)
        The stored steps :math:`s_i = \theta_{i+1} - \theta_i`, **oldest first** (not modified).
    y_list : list of ndarray, each of shape (d,)
        The matching gradient changes :math:`y_i`, oldest first, each with :math:`y_i^\top s_i > 0`.

    Returns
    -------
    ndarray, shape (d,)
        :math:`d = -Hg`. With no stored pair :math:`H_0 = I`, and :math:`d = -g`.

    Examples
    --------
    >>> lbfgs_direction(np.array([2.0, 8.0]), [np.array([1.0, 0.0])], [np.array([2.0, 0.0])])
    array([-1., -4.])
    """
    q = np.array(grads, dtype=float)
    pairs = [(np.asarray(s, dtype=float), np.asarray(y, dtype=float)) for s, y in zip(s_list, y_list)]
    if not pairs:
        return -q
    rhos = [1.0 / float(y @ s) for s, y in pairs]
    alphas = [0.0] * len(pairs)
    for i in reversed(range(len(pairs))):                   # newest to oldest
        s, y = pairs[i]
        alphas[i] = rhos[i] * float(s @ q)
        q = q - alphas[i] * y
    s, y = pairs[-1]
    r = float(s @ y) / float(y @ y) * q                     # H_0 q with H_0 = gamma I
    for i in range(len(pairs)):                             # oldest to newest
        s, y = pairs[i]
        beta = rhos[i] * float(y @ r)
        r = r + (alphas[i] - beta) * s
    return -r


# --- helpers of the lesson (not exercises) -----------------------------------------------------

def bfgs(f: Callable[[np.ndarray], float], grad: Callable[[np.ndarray], np.ndarray], x0: np.ndarray,
         *, gtol: float = 1e-5, max_iter: int = 500, alpha: float = 1e-4, beta: float = 0.5) -> NewtonTrajectory:
    r"""BFGS with backtracking (Armijo) line search, built on :func:`bfgs_update`.

    Direction :math:`d_k = -H_k g_k` with :math:`H_0 = I`, rescaled before the first update
    to :math:`H_0 = \frac{y^\top s}{y^\top y} I` (Nocedal & Wright, (6.20)). Without a
    Wolfe line search :math:`y^\top s > 0` is not guaranteed: the update is skipped when it
    fails. Stops when :math:`\lVert g\rVert_\infty \le` ``gtol`` (SciPy's test).

    Returns
    -------
    NewtonTrajectory
        Its ``decrements`` are the estimates :math:`(g_k^\top H_k g_k)^{1/2}`.
    """
    x = np.array(x0, dtype=float)
    g = np.asarray(grad(x), dtype=float)
    h_inv = np.eye(len(x))
    iterates, losses, decrements, steps = [x], [float(f(x))], [], []
    for k in range(max_iter + 1):
        direction = -h_inv @ g
        decrements.append(float(np.sqrt(max(-(g @ direction), 0.0))))
        if np.max(np.abs(g)) <= gtol or k == max_iter:
            break
        t = backtracking_line_search(f, grad, x, direction, lr0=1.0, shrink=beta, c=alpha)
        x_new = x + t * direction
        g_new = np.asarray(grad(x_new), dtype=float)
        s, y = x_new - x, g_new - g
        if y @ s > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):
            if k == 0:
                h_inv = (y @ s) / (y @ y) * h_inv
            h_inv = bfgs_update(h_inv, s, y)
        x, g = x_new, g_new
        iterates.append(x)
        losses.append(float(f(x)))
        steps.append(t)
    return NewtonTrajectory(np.stack(iterates), np.array(losses), np.array(decrements), np.array(steps, dtype=float))


def lbfgs(f: Callable[[np.ndarray], float], grad: Callable[[np.ndarray], np.ndarray], x0: np.ndarray,
          *, m: int = 10, gtol: float = 1e-5, max_iter: int = 10_000,
          c1: float = 1e-4, c2: float = 0.9) -> NewtonTrajectory:
    r"""L-BFGS: directions from :func:`lbfgs_direction` and a strong Wolfe line search.

    Keeps the last ``m`` pairs :math:`(s_k, y_k)`. The step :math:`t_k` satisfies the strong
    Wolfe conditions (Nocedal & Wright (3.7))

    .. math:: f(\theta_k + t d_k) \le f(\theta_k) + c_1 t\, g_k^\top d_k, \qquad
              \lvert\nabla f(\theta_k + t d_k)^\top d_k\rvert \le c_2 \lvert g_k^\top d_k\rvert,

    found by :func:`scipy.optimize.line_search` (first trial :math:`t = 1`; for the first
    step, whose direction is :math:`-g_0`, :math:`\min(1, 1.01/\lVert g_0\rVert)` as in SciPy's BFGS).
    The curvature condition makes :math:`y_k^\top s_k \ge (1 - c_2)\, t_k \lvert g_k^\top d_k\rvert > 0`,
    so every pair can be stored. Should the search fail (it does only at rounding level), the
    step is chapter 2's Armijo backtracking and a pair with :math:`y^\top s \le 0` is not stored.
    Stops when :math:`\lVert g\rVert_\infty \le` ``gtol`` (the test of SciPy's L-BFGS-B).

    Returns
    -------
    NewtonTrajectory
        Its ``decrements`` are the estimates :math:`(-g_k^\top d_k)^{1/2} = (g_k^\top H_k g_k)^{1/2}`.
    """
    from scipy.optimize import line_search          # imported here: SciPy is slow to import

    x = np.array(x0, dtype=float)
    g = np.asarray(grad(x), dtype=float)
    fx = float(f(x))
    s_list: list[np.ndarray] = []
    y_list: list[np.ndarray] = []
    iterates, losses, decrements, steps = [x], [fx], [], []
    for k in range(max_iter + 1):
        direction = lbfgs_direction(g, s_list, y_list)
        decrements.append(float(np.sqrt(max(-(g @ direction), 0.0))))
        if np.max(np.abs(g)) <= gtol or k == max_iter:
            break
        # SciPy's first trial step is min(1, 2 (f_k - f_{k-1}) / g^T d); f_{k-1} = f_0 + |g_0| / 2 makes it min(1, 1/|g_0|)
        previous = fx + np.linalg.norm(g) / 2 if k == 0 else None
        t, *_ = line_search(f, grad, x, direction, gfk=g, old_fval=fx, old_old_fval=previous, c1=c1, c2=c2)
        if t is None:
            t = backtracking_line_search(f, grad, x, direction, c=c1)
        x_new = x + t * direction
        g_new = np.asarray(grad(x_new), dtype=float)
        s, y = x_new - x, g_new - g
        if y @ s > 0:
            s_list, y_list = (s_list + [s])[-m:], (y_list + [y])[-m:]
        x, g, fx = x_new, g_new, float(f(x_new))
        iterates.append(x)
        losses.append(fx)
        steps.append(t)
    return NewtonTrajectory(np.stack(iterates), np.array(losses), np.array(decrements), np.array(steps, dtype=float))


def rosenbrock_hess(theta: np.ndarray, a: float = 1.0, b: float = 100.0) -> np.ndarray:
    r"""Hessian of :func:`solutions.common.rosenbrock`.

    .. math:: \begin{pmatrix} 2 - 4b(y - x^2) + 8bx^2 & -4bx \\ -4bx & 2b \end{pmatrix}

    Indefinite where :math:`y > x^2 + 1/(2b)`, above the valley's floor.
    """
    x, y = theta
    return np.array([[2.0 - 4.0 * b * (y - x**2) + 8.0 * b * x**2, -4.0 * b * x], [-4.0 * b * x, 2.0 * b]])


def four_wells(theta: np.ndarray) -> float:
    r"""A non-convex test function: :math:`f(\theta) = \sum_i \bigl(\theta_i^4/4 - \theta_i^2/2\bigr)`.

    In two dimensions: a maximum at :math:`(0, 0)`, saddle points at :math:`(\pm1, 0)`
    and :math:`(0, \pm1)`, and four minima at :math:`(\pm1, \pm1)` with value :math:`-1/2`.
    """
    theta = np.asarray(theta, dtype=float)
    return float(np.sum(theta**4 / 4 - theta**2 / 2))


def four_wells_grad(theta: np.ndarray) -> np.ndarray:
    r"""Gradient of :func:`four_wells`: :math:`\theta_i^3 - \theta_i`."""
    theta = np.asarray(theta, dtype=float)
    return theta**3 - theta


def four_wells_hess(theta: np.ndarray) -> np.ndarray:
    r"""Hessian of :func:`four_wells`: :math:`\operatorname{diag}(3\theta_i^2 - 1)`, indefinite for :math:`|\theta_i| < 1/\sqrt3`."""
    theta = np.asarray(theta, dtype=float)
    return np.diag(3 * theta**2 - 1)


def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    r"""scikit-learn's breast-cancer data set (569 tumours, 30 features), standardised.

    Each feature is centred and divided by its standard deviation (so every feature has
    mean 0 and variance 1), and the column of ones is added.

    Returns
    -------
    X : ndarray, shape (569, 31)
        The design matrix :math:`[\mathbf 1, x]`.
    y : ndarray, shape (569,)
        1.0 for a benign tumour, 0.0 for a malignant one (scikit-learn's coding).
    """
    from sklearn.datasets import load_breast_cancer     # imported here: scikit-learn is slow to import

    data = load_breast_cancer()
    x = (data.data - data.data.mean(axis=0)) / data.data.std(axis=0)
    return design_matrix(x), data.target.astype(float)


# --- questions (answers written as literals; see autograder/engine/questions.py) ---------------------

def newton_quartic_ratio_answer() -> float:
    r"""``ex7_7``: the ratio :math:`\theta_{k+1}/\theta_k` of Newton's method on :math:`J(\theta) = \theta^4`.

    :math:`J' = 4\theta^3` and :math:`J'' = 12\theta^2`, so the step is
    :math:`\theta - 4\theta^3/(12\theta^2) = \tfrac23\theta` from every :math:`\theta \ne 0`:
    the error shrinks by :math:`2/3` per step, linear convergence, because the Hessian
    vanishes at the minimiser. Computed with :func:`newton_step` from :math:`\theta = 1`.
    """
    theta = np.array([1.0])
    return float(newton_step(theta, 4 * theta ** 3, np.array([[12 * theta[0] ** 2]]))[0] / theta[0])


#: The setting of question ``ex7_8``: :math:`J(\theta) = \tfrac12\theta^\top\operatorname{diag}(2, 8)\,\theta` at :math:`\theta = (1, 1)`.
DECREMENT_SETTING = {"curvatures": (2.0, 8.0), "theta": (1.0, 1.0)}


def newton_decrement_example_answer() -> float:
    r"""``ex7_8``: the Newton decrement of :math:`J(\theta) = \theta_1^2 + 4\theta_2^2` at :math:`(1, 1)`.

    :math:`g = H\theta = (2, 8)` and :math:`H = \operatorname{diag}(2, 8)`, so
    :math:`\lambda^2 = g^\top H^{-1} g = 4/2 + 64/8 = 10` and :math:`\lambda = \sqrt{10} = 3.16`
    (and :math:`\lambda^2/2 = 5 = J(\theta) - J^\star`, exactly, on a quadratic).
    Computed with :func:`newton_decrement`.
    """
    H = np.diag(DECREMENT_SETTING["curvatures"])
    theta = np.array(DECREMENT_SETTING["theta"])
    return newton_decrement(H @ theta, H)
