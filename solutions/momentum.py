r"""Chapter 4: momentum (heavy ball) and Nesterov's accelerated gradient.

Both rules keep a *velocity* (PyTorch's ``momentum_buffer``) :math:`v`, a running sum of
past gradients, and follow the conventions of :class:`torch.optim.SGD`. Update number
:math:`t` uses :math:`g_t = \nabla J(\theta_{t-1})`:

* heavy ball, ``SGD(momentum=beta, dampening=dampening)``:
  :math:`v_1 = g_1`, :math:`v_t = \beta v_{t-1} + (1-\tau) g_t` for :math:`t \ge 2`,
  :math:`\theta_t = \theta_{t-1} - \eta v_t`;
* Nesterov, ``SGD(momentum=beta, nesterov=True)``: the same velocity (no dampening) and
  the step :math:`\theta_t = \theta_{t-1} - \eta (g_t + \beta v_t)`.

The source articles write momentum in its *EMA form*
:math:`u_t = \beta u_{t-1} + (1-\beta) g_t`, :math:`u_0 = 0`
(:func:`ema_momentum_update`). It is the same method as heavy ball with a rescaled
learning rate: :math:`u_t = (1-\beta) v_t`, so the EMA form with rate :math:`\eta`
makes exactly the steps of heavy ball with rate :math:`(1-\beta)\eta`.

Exercises: ``ex4_1`` :func:`momentum_init` + :func:`momentum_update`, ``ex4_2``
:func:`nesterov_init` + :func:`nesterov_update`. The other functions are helpers of the
lesson: the EMA form, the optimal heavy-ball hyperparameters on a quadratic and the
linear convergence rate of both methods on a quadratic.
Questions (a value to derive, see ``autograder/engine/questions.py``): ``ex4_3``
:func:`heavy_ball_terminal_step_answer`, ``ex4_4`` :func:`heavy_ball_rate_answer`.
"""
from typing import NamedTuple

import numpy as np

__all__ = [
    "MomentumState", "momentum_init", "momentum_update", "nesterov_init", "nesterov_update",
    "ema_momentum_update", "heavy_ball_optimal", "nesterov_parameters", "momentum_rate",
    "RATE_QUESTION_CURVATURES", "TERMINAL_STEP_SETTING", "heavy_ball_rate_answer",
    "heavy_ball_terminal_step_answer",
]


class MomentumState(NamedTuple):
    """State of heavy ball and of Nesterov's method.

    Attributes
    ----------
    t : int
        The number of updates taken: 0 after ``init``, 1 after the first update.
    v : ndarray
        The velocity (momentum buffer), the same shape as ``params``; zeros after ``init``.
    """

    t: int
    v: np.ndarray


def momentum_init(params):
    r"""Initial state of heavy-ball momentum: no step taken, zero velocity.

    Parameters
    ----------
    params : ndarray
        The starting point :math:`\theta_0` (only its shape is used).

    Returns
    -------
    MomentumState
        ``MomentumState(t=0, v=zeros)`` with ``v`` a float array of the shape of ``params``.
    """
    return MomentumState(t=0, v=np.zeros(np.shape(params)))


def momentum_update(params, grads, state, *, lr, beta=0.9, dampening=0.0):
    r"""One step of heavy-ball momentum, as ``torch.optim.SGD(momentum=beta, dampening=dampening)``.

    .. math::

        v_t = \begin{cases} g_t & t = 1 \text{ (the first update)},\\
                            \beta\, v_{t-1} + (1 - \tau)\, g_t & t \ge 2, \end{cases}
        \qquad
        \theta_t = \theta_{t-1} - \eta\, v_t ,

    where :math:`\tau` is ``dampening``. With the default :math:`\tau = 0` this is
    Polyak's heavy ball :math:`v_t = \beta v_{t-1} + g_t` started from :math:`v_0 = 0`.
    On the first update the velocity is the gradient itself, *whatever* the dampening
    (PyTorch's convention): it is **not** :math:`(1-\tau) g_1`.

    Parameters
    ----------
    params : ndarray
        The current iterate :math:`\theta_{t-1}`.
    grads : ndarray, same shape as ``params``
        The gradient :math:`g_t = \nabla J(\theta_{t-1})`.
    state : MomentumState
        ``(t, v)``: the number of updates taken so far and the velocity :math:`v_{t-1}`.
    lr : float
        The learning rate :math:`\eta`.
    beta : float
        The momentum coefficient :math:`\beta \in [0, 1)`.
    dampening : float
        :math:`\tau`: from the second update on, the new gradient enters the velocity
        with weight :math:`1 - \tau`.

    Returns
    -------
    new_params : ndarray
        :math:`\theta_t` (a new array; the inputs are not modified).
    new_state : MomentumState
        ``MomentumState(t + 1, v_t)``.

    Examples
    --------
    >>> s = momentum_init(np.zeros(2))
    >>> p, s = momentum_update(np.zeros(2), np.array([1.0, -2.0]), s, lr=0.1)
    >>> p, s.v
    (array([-0.1,  0.2]), array([ 1., -2.]))
    >>> p, s = momentum_update(p, np.array([1.0, -2.0]), s, lr=0.1)
    >>> p, s.t, s.v
    (array([-0.29,  0.58]), 2, array([ 1.9, -3.8]))
    """
    params, grads = np.asarray(params, dtype=float), np.asarray(grads, dtype=float)
    if state.t == 0:
        v = grads.copy()
    else:
        v = beta * state.v + (1.0 - dampening) * grads
    return params - lr * v, MomentumState(state.t + 1, v)


def nesterov_init(params):
    r"""Initial state of Nesterov's method: no step taken, zero velocity.

    Parameters
    ----------
    params : ndarray
        The starting point :math:`\theta_0` (only its shape is used).

    Returns
    -------
    MomentumState
        ``MomentumState(t=0, v=zeros)`` with ``v`` a float array of the shape of ``params``.
    """
    return MomentumState(t=0, v=np.zeros(np.shape(params)))


def nesterov_update(params, grads, state, *, lr, beta=0.9):
    r"""One step of Nesterov momentum, as ``torch.optim.SGD(momentum=beta, nesterov=True)``.

    .. math::

        v_t = \begin{cases} g_t & t = 1,\\ \beta\, v_{t-1} + g_t & t \ge 2, \end{cases}
        \qquad
        \theta_t = \theta_{t-1} - \eta\,(g_t + \beta\, v_t).

    The velocity is heavy ball's (without dampening); the step adds to the current
    gradient :math:`\beta v_t`, the velocity *after* this update. That is the
    "look-ahead": :math:`g_t + \beta v_t = g_t + \beta^2 v_{t-1} + \beta g_t`, whereas heavy
    ball steps along :math:`v_t = \beta v_{t-1} + g_t`. The first step is
    :math:`\eta (1 + \beta) g_1`.

    Parameters
    ----------
    params : ndarray
        The current iterate :math:`\theta_{t-1}`.
    grads : ndarray, same shape as ``params``
        The gradient :math:`g_t = \nabla J(\theta_{t-1})`.
    state : MomentumState
        ``(t, v)``: the number of updates taken so far and the velocity :math:`v_{t-1}`.
    lr : float
        The learning rate :math:`\eta`.
    beta : float
        The momentum coefficient :math:`\beta \in [0, 1)`.

    Returns
    -------
    new_params : ndarray
        :math:`\theta_t` (a new array; the inputs are not modified).
    new_state : MomentumState
        ``MomentumState(t + 1, v_t)``.

    Examples
    --------
    >>> s = nesterov_init(np.zeros(2))
    >>> p, s = nesterov_update(np.zeros(2), np.array([1.0, -2.0]), s, lr=0.1)
    >>> p, s.v
    (array([-0.19,  0.38]), array([ 1., -2.]))
    """
    params, grads = np.asarray(params, dtype=float), np.asarray(grads, dtype=float)
    if state.t == 0:
        v = grads.copy()
    else:
        v = beta * state.v + grads
    return params - lr * (grads + beta * v), MomentumState(state.t + 1, v)


# --- helpers for the lesson (not exercises) ------------------------------------------------

def ema_momentum_update(params, grads, state, *, lr, beta=0.9):
    r"""One step of momentum in the *EMA form* of the source articles (not PyTorch's).

    .. math:: u_t = \beta u_{t-1} + (1-\beta) g_t, \quad u_0 = 0, \qquad
              \theta_t = \theta_{t-1} - \eta\, u_t .

    Starts from :func:`momentum_init`. By induction :math:`u_t = (1-\beta) v_t` where
    :math:`v_t` is heavy ball's velocity (:func:`momentum_update`, dampening 0), so this
    rule with rate :math:`\eta` is heavy ball with rate :math:`(1-\beta)\eta`: the same
    iterates, step for step. It is *not* ``torch.optim.SGD(dampening=beta)``, whose first
    velocity is :math:`g_1`, not :math:`(1-\beta) g_1`.

    Returns
    -------
    new_params : ndarray
    new_state : MomentumState
        ``MomentumState(t + 1, u_t)``.
    """
    params, grads = np.asarray(params, dtype=float), np.asarray(grads, dtype=float)
    u = beta * state.v + (1.0 - beta) * grads
    return params - lr * u, MomentumState(state.t + 1, u)


def heavy_ball_optimal(mu: float, L: float) -> tuple[float, float]:
    r"""Polyak's optimal heavy-ball hyperparameters for a quadratic with curvatures in :math:`[\mu, L]`.

    .. math:: \eta = \frac{4}{(\sqrt L + \sqrt\mu)^2}, \qquad
              \beta = \Big(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\Big)^2, \quad \kappa = L/\mu .

    With them every eigen-direction contracts at the rate
    :math:`\sqrt\beta = (\sqrt\kappa - 1)/(\sqrt\kappa + 1)` per step
    (see :func:`momentum_rate`), against :math:`(\kappa-1)/(\kappa+1)` for gradient
    descent with its best constant step :math:`2/(L+\mu)`.

    Returns
    -------
    (lr, beta) : (float, float)
    """
    sqrt_mu, sqrt_L = np.sqrt(mu), np.sqrt(L)
    lr = 4.0 / (sqrt_L + sqrt_mu) ** 2
    beta = ((sqrt_L - sqrt_mu) / (sqrt_L + sqrt_mu)) ** 2
    return float(lr), float(beta)


def nesterov_parameters(mu: float, L: float) -> tuple[float, float]:
    r"""Nesterov's standard hyperparameters for an :math:`L`-smooth, :math:`\mu`-strongly convex function.

    .. math:: \eta = \frac1L, \qquad \beta = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1} .

    On a quadratic the contraction factor is then :math:`1 - 1/\sqrt\kappa` (a double root
    at :math:`\lambda = \mu`, see :func:`momentum_rate`): slower than heavy ball's optimum
    :math:`\approx 1 - 2/\sqrt\kappa`, but this choice also converges on non-quadratic
    strongly convex functions, where heavy ball's optimal tuning can fail.

    Returns
    -------
    (lr, beta) : (float, float)
    """
    s = np.sqrt(L / mu)
    return float(1.0 / L), float((s - 1.0) / (s + 1.0))


def momentum_rate(lr: float, beta: float, eigenvalues, *, nesterov: bool = False) -> float:
    r"""Asymptotic contraction factor per step of heavy ball or Nesterov on a quadratic.

    Along an eigenvector of the Hessian with eigenvalue :math:`\lambda`, the error and the
    velocity evolve linearly; the error satisfies
    :math:`e_{t+1} = c\, e_t - d\, e_{t-1}` with characteristic polynomial
    :math:`z^2 - c z + d` where

    * heavy ball: :math:`c = 1 + \beta - \eta\lambda`, :math:`d = \beta`;
    * Nesterov: :math:`c = (1 + \beta)(1 - \eta\lambda)`, :math:`d = \beta (1 - \eta\lambda)`.

    The error shrinks like :math:`\rho^t` with :math:`\rho` the largest root modulus over
    all eigenvalues. When the roots are complex, :math:`\rho = \sqrt d`: for heavy ball
    :math:`\sqrt\beta`, whatever :math:`\lambda` (the iterates spiral). :math:`\rho \ge 1`
    means no convergence.

    Parameters
    ----------
    lr, beta : float
        The hyperparameters :math:`\eta`, :math:`\beta` (``beta=0`` gives gradient descent:
        :math:`\max\lvert 1 - \eta\lambda\rvert`).
    eigenvalues : array_like
        The eigenvalues :math:`\lambda` of the Hessian.
    nesterov : bool
        Nesterov's method (:func:`nesterov_update`) instead of heavy ball.

    Returns
    -------
    float
        :math:`\rho = \max_\lambda \max\{\lvert z\rvert : z^2 - c z + d = 0\}`.
    """
    lam = np.asarray(eigenvalues, dtype=float)
    if nesterov:
        c, d = (1.0 + beta) * (1.0 - lr * lam), beta * (1.0 - lr * lam)
    else:
        c, d = 1.0 + beta - lr * lam, np.full_like(lam, beta)
    root = np.sqrt((c * c - 4.0 * d).astype(complex))
    return float(np.max(np.maximum(np.abs((c + root) / 2), np.abs((c - root) / 2))))


# --- questions (answers written as literals; see autograder/engine/questions.py) ---------------------

#: The curvatures :math:`(\mu, L)` of the quadratic of question ``ex4_4``: :math:`\kappa = 400`.
RATE_QUESTION_CURVATURES = (1.0, 400.0)
#: The setting of question ``ex4_3``: learning rate, momentum and the constant gradient.
TERMINAL_STEP_SETTING = {"lr": 0.01, "beta": 0.9, "grad": 1.0}


def heavy_ball_rate_answer() -> float:
    r"""``ex4_4``: the rate of heavy ball at its optimal :math:`(\eta, \beta)` for :math:`\kappa = 400`.

    With :math:`(\eta, \beta)` from :func:`heavy_ball_optimal`, every eigenvalue of
    :math:`[\mu, L]` gives complex roots of modulus :math:`\sqrt\beta`, so
    :math:`\rho = \sqrt\beta = (\sqrt\kappa - 1)/(\sqrt\kappa + 1) = 19/21 = 0.905`
    (:func:`momentum_rate` computes it from the roots).
    """
    mu, L = RATE_QUESTION_CURVATURES
    lr, beta = heavy_ball_optimal(mu, L)
    return momentum_rate(lr, beta, [mu, L])


def heavy_ball_terminal_step_answer() -> float:
    r"""``ex4_3``: the length of heavy ball's steps, in the long run, on a constant gradient.

    With :math:`g_t = g` for every :math:`t`, :math:`v_t = \beta v_{t-1} + g` tends to the
    fixed point :math:`v = g/(1-\beta)`, so each step tends to
    :math:`\eta g/(1-\beta) = 0.01 \cdot 1/0.1 = 0.1`: ten times the plain gradient step.
    """
    s = TERMINAL_STEP_SETTING
    return s["lr"] * s["grad"] / (1.0 - s["beta"])
