r"""Chapter 5: adaptive methods — AdaGrad, RMSprop, Adam and AdamW.

Each method gives every coordinate its own step size, computed from the squared
gradients seen so far: accumulated (AdaGrad) or exponentially averaged (RMSprop, Adam,
AdamW). All squares, square roots and divisions are element-wise.

Conventions of the course (the same as ``torch.optim``, whose defaults are used):

* ``eps`` is added **outside** the square root, :math:`g / (\sqrt{s} + \epsilon)`
  (TensorFlow's raw ``ApplyRMSProp`` op uses :math:`\sqrt{s + \epsilon}` instead);
* ``t`` counts the steps taken: 0 in the initial state, 1 after the first update, so
  Adam's bias correction of the first step divides by :math:`1 - \beta^1`;
* RMSprop's decay is called ``rho`` (torch calls it ``alpha``).

Exercises: ``ex5_1`` :func:`adagrad_init` + :func:`adagrad_update`, ``ex5_2``
:func:`rmsprop_init` + :func:`rmsprop_update`, ``ex5_3`` :func:`adam_init` +
:func:`adam_update`, ``ex5_4`` :func:`adamw_init` + :func:`adamw_update`.
Questions (a value to derive, see ``autograder/engine/questions.py``): ``ex5_5``
:func:`rmsprop_step_answer`, ``ex5_6`` :func:`adam_first_step_no_correction_answer`.
The other functions are helpers used by the lesson: the source articles' "adaptive
learning rate" rule of seed 000, :math:`\eta \leftarrow \eta / (1 + \alpha\lVert g\rVert^2)`,
in its compounding form (:func:`shrinking_lr_update`) and in its display-formula form
(:func:`gradnorm_lr_update`), kept so that the lesson can examine it — they are not
methods to use.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "AdagradState", "RMSpropState", "AdamState",
    "adagrad_init", "adagrad_update", "rmsprop_init", "rmsprop_update",
    "adam_init", "adam_update", "adamw_init", "adamw_update",
    "ShrinkingLRState", "shrinking_lr_init", "shrinking_lr_update", "gradnorm_lr_update",
    "ADAM_FIRST_STEP_SETTING", "RMSPROP_STEP_SETTING", "adam_first_step_no_correction_answer",
    "rmsprop_step_answer",
]


class AdagradState(NamedTuple):
    """State of AdaGrad.

    Attributes
    ----------
    t : int
        Steps taken (0 after :func:`adagrad_init`).
    sum_sq : ndarray
        :math:`G_t = \\sum_{\\tau \\le t} g_\\tau^2`, the sum of the squared gradients (element-wise).
    """

    t: int
    sum_sq: np.ndarray


class RMSpropState(NamedTuple):
    """State of RMSprop.

    Attributes
    ----------
    t : int
        Steps taken (0 after :func:`rmsprop_init`).
    sq_avg : ndarray
        :math:`s_t`, the exponential moving average of the squared gradients.
    """

    t: int
    sq_avg: np.ndarray


class AdamState(NamedTuple):
    """State of Adam and AdamW.

    Attributes
    ----------
    t : int
        Steps taken (0 after :func:`adam_init`, 1 after the first update).
    m : ndarray
        :math:`m_t`, the moving average of the gradients (first moment), *not* bias-corrected.
    v : ndarray
        :math:`v_t`, the moving average of the squared gradients (second raw moment),
        *not* bias-corrected.
    """

    t: int
    m: np.ndarray
    v: np.ndarray


def _as_float(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


# --- AdaGrad (ex5_1) -----------------------------------------------------------------------

def adagrad_init(params):
    """Initial state of AdaGrad: no steps, no squared gradients yet.

    Parameters
    ----------
    params : ndarray
        The starting point; only its shape is used.

    Returns
    -------
    AdagradState
        ``AdagradState(t=0, sum_sq=zeros like params)``.
    """
    return AdagradState(0, np.zeros_like(_as_float(params)))


def adagrad_update(params, grads, state, *, lr=1e-2, eps=1e-10):
    r"""One step of AdaGrad (Duchi et al., 2011), as ``torch.optim.Adagrad``.

    .. math::
        G_t = G_{t-1} + g_t \odot g_t, \qquad
        \theta_{t} = \theta_{t-1} - \eta\, \frac{g_t}{\sqrt{G_t} + \epsilon}

    Every coordinate's step is :math:`\eta` divided by the root of the sum of *all* its
    squared gradients so far, so the steps only ever shrink (roughly like
    :math:`\eta/\sqrt t` when the gradients keep their size).

    Parameters
    ----------
    params : ndarray
        The current iterate :math:`\theta_{t-1}`.
    grads : ndarray, same shape as ``params``
        The gradient :math:`g_t` at ``params``.
    state : AdagradState
        The state returned by :func:`adagrad_init` or by the previous update.
    lr : float
        The learning rate :math:`\eta`.
    eps : float
        :math:`\epsilon`, added **outside** the square root (torch's convention); it only
        prevents a division by zero.

    Returns
    -------
    new_params : ndarray
        :math:`\theta_t` (new array; the inputs are not modified).
    new_state : AdagradState
        ``(t + 1, G_t)``.

    Examples
    --------
    >>> p, s = adagrad_update(np.array([1.0, 1.0]), np.array([0.2, 4.0]),
    ...                       adagrad_init(np.zeros(2)), lr=0.1)
    >>> p          # the first step is lr * sign(g) in every coordinate
    array([0.9, 0.9])
    """
    g = _as_float(grads)
    sum_sq = state.sum_sq + g * g
    return _as_float(params) - lr * g / (np.sqrt(sum_sq) + eps), AdagradState(state.t + 1, sum_sq)


# --- RMSprop (ex5_2) -----------------------------------------------------------------------

def rmsprop_init(params):
    """Initial state of RMSprop: no steps, a zero moving average.

    Parameters
    ----------
    params : ndarray
        The starting point; only its shape is used.

    Returns
    -------
    RMSpropState
        ``RMSpropState(t=0, sq_avg=zeros like params)``.
    """
    return RMSpropState(0, np.zeros_like(_as_float(params)))


def rmsprop_update(params, grads, state, *, lr=1e-2, rho=0.99, eps=1e-8):
    r"""One step of RMSprop (Tieleman & Hinton, 2012), as ``torch.optim.RMSprop(alpha=rho)``.

    .. math::
        s_t = \rho\, s_{t-1} + (1 - \rho)\, g_t \odot g_t, \qquad
        \theta_{t} = \theta_{t-1} - \eta\, \frac{g_t}{\sqrt{s_t} + \epsilon}

    Unlike AdaGrad's sum, the moving average forgets old gradients (over about
    :math:`1/(1-\rho)` steps): the per-coordinate learning rate
    :math:`\eta/(\sqrt{s_t}+\epsilon)` follows the current size of the gradients instead
    of shrinking towards zero as AdaGrad's does.

    Parameters
    ----------
    params : ndarray
        The current iterate :math:`\theta_{t-1}`.
    grads : ndarray, same shape as ``params``
        The gradient :math:`g_t` at ``params``.
    state : RMSpropState
        The state returned by :func:`rmsprop_init` or by the previous update.
    lr : float
        The learning rate :math:`\eta`.
    rho : float
        The decay :math:`\rho \in [0, 1)` of the moving average (torch's ``alpha``).
    eps : float
        :math:`\epsilon`, added **outside** the square root (torch's convention).

    Returns
    -------
    new_params : ndarray
        :math:`\theta_t` (new array; the inputs are not modified).
    new_state : RMSpropState
        ``(t + 1, s_t)``.

    Examples
    --------
    >>> p, s = rmsprop_update(np.array([1.0]), np.array([2.0]), rmsprop_init(np.zeros(1)),
    ...                       lr=0.01, rho=0.99)
    >>> s.sq_avg   # (1 - 0.99) * 2**2
    array([0.04])
    """
    g = _as_float(grads)
    sq_avg = rho * state.sq_avg + (1.0 - rho) * g * g
    return _as_float(params) - lr * g / (np.sqrt(sq_avg) + eps), RMSpropState(state.t + 1, sq_avg)


# --- Adam (ex5_3) --------------------------------------------------------------------------

def adam_init(params):
    """Initial state of Adam: ``t = 0`` and both moving averages zero.

    Parameters
    ----------
    params : ndarray
        The starting point; only its shape is used.

    Returns
    -------
    AdamState
        ``AdamState(t=0, m=zeros like params, v=zeros like params)``.
    """
    zeros = np.zeros_like(_as_float(params))
    return AdamState(0, zeros, zeros.copy())


def adam_update(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    r"""One step of Adam (Kingma & Ba, 2015), with bias correction, as ``torch.optim.Adam``.

    With :math:`t` the number of this step (1 on the first update):

    .. math::
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t \odot g_t \\
        \hat m_t &= \frac{m_t}{1 - \beta_1^t}, \qquad \hat v_t = \frac{v_t}{1 - \beta_2^t} \\
        \theta_t &= \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    Because :math:`m_0 = v_0 = 0`, the raw averages are biased towards zero in the first
    steps; dividing by :math:`1-\beta^t` removes that bias, so the first step has size
    about :math:`\eta` in every coordinate (without it, about
    :math:`\eta(1-\beta_1)/\sqrt{1-\beta_2} \approx 3.16\,\eta` with the defaults).

    Parameters
    ----------
    params : ndarray
        The current iterate :math:`\theta_{t-1}`.
    grads : ndarray, same shape as ``params``
        The gradient :math:`g_t` at ``params``.
    state : AdamState
        The state returned by :func:`adam_init` or by the previous update.
    lr : float
        The learning rate :math:`\eta`.
    beta1, beta2 : float
        The decays of the first- and second-moment averages, in :math:`[0, 1)`.
    eps : float
        :math:`\epsilon`, added **outside** the square root of :math:`\hat v_t` (torch's
        convention).

    Returns
    -------
    new_params : ndarray
        :math:`\theta_t` (new array; the inputs are not modified).
    new_state : AdamState
        ``(t, m_t, v_t)`` with the *uncorrected* averages.

    Examples
    --------
    >>> p, s = adam_update(np.array([1.0, 1.0]), np.array([0.2, 4.0]),
    ...                    adam_init(np.zeros(2)), lr=0.1)
    >>> p          # first step: lr * sign(g) (up to eps)
    array([0.9, 0.9])
    >>> s.t
    1
    """
    g = _as_float(grads)
    t = state.t + 1
    m = beta1 * state.m + (1.0 - beta1) * g
    v = beta2 * state.v + (1.0 - beta2) * g * g
    m_hat = m / (1.0 - beta1**t)
    v_hat = v / (1.0 - beta2**t)
    return _as_float(params) - lr * m_hat / (np.sqrt(v_hat) + eps), AdamState(t, m, v)


# --- AdamW (ex5_4) -------------------------------------------------------------------------

def adamw_init(params):
    """Initial state of AdamW: the same as Adam's (``t = 0``, ``m = v = 0``).

    Parameters
    ----------
    params : ndarray
        The starting point; only its shape is used.

    Returns
    -------
    AdamState
        ``AdamState(t=0, m=zeros like params, v=zeros like params)``.
    """
    return adam_init(params)


def adamw_update(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                 weight_decay=1e-2):
    r"""One step of AdamW (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    Decoupled weight decay: the parameters shrink by the factor :math:`1 - \eta\lambda`
    *first*, then the ordinary Adam step (:func:`adam_update`, computed from the gradient
    of the loss alone) is applied:

    .. math::
        \theta' = (1 - \eta\lambda)\, \theta_{t-1}, \qquad
        \theta_t = \theta' - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    with :math:`m_t, v_t, \hat m_t, \hat v_t` as in Adam. The decay is *not* added to the
    gradient (that would be Adam with an L2 penalty, whose decay is then divided by
    :math:`\sqrt{\hat v_t}` like the rest of the gradient, differently per coordinate).

    Parameters
    ----------
    params : ndarray
        The current iterate :math:`\theta_{t-1}`.
    grads : ndarray, same shape as ``params``
        The gradient :math:`g_t` of the loss (without any penalty) at ``params``.
    state : AdamState
        The state returned by :func:`adamw_init` or by the previous update.
    lr : float
        The learning rate :math:`\eta` (it also scales the decay).
    beta1, beta2, eps : float
        As in :func:`adam_update`.
    weight_decay : float
        The decoupled decay :math:`\lambda \ge 0`.

    Returns
    -------
    new_params : ndarray
        :math:`\theta_t` (new array; the inputs are not modified).
    new_state : AdamState
        ``(t, m_t, v_t)``.

    Examples
    --------
    >>> p, s = adamw_update(np.array([1.0]), np.array([0.0]), adamw_init(np.zeros(1)),
    ...                     lr=0.1, weight_decay=0.5)
    >>> p          # zero gradient: only the decay, 1 * (1 - 0.1 * 0.5)
    array([0.95])
    """
    decayed = _as_float(params) * (1.0 - lr * weight_decay)
    return adam_update(decayed, grads, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)


# --- the source articles' "adaptive learning rate" (not a method to use) -------------------

class ShrinkingLRState(NamedTuple):
    """State of :func:`shrinking_lr_update`.

    Attributes
    ----------
    t : int
        Steps taken.
    lr_scale : float
        :math:`\\prod_{s \\le t} (1 + \\alpha \\lVert g_s\\rVert^2)^{-1}`; the current learning
        rate is ``lr * lr_scale``.
    """

    t: int
    lr_scale: float


def shrinking_lr_init(params):
    """Initial state of :func:`shrinking_lr_update`: ``t = 0`` and the full learning rate.

    Returns
    -------
    ShrinkingLRState
        ``ShrinkingLRState(t=0, lr_scale=1.0)``.
    """
    return ShrinkingLRState(0, 1.0)


def shrinking_lr_update(params, grads, state, *, lr, alpha):
    r"""Source 000's "adaptive learning rate" (§3.5, step 3): a rate that only ever shrinks.

    .. math::
        \eta_t = \frac{\eta_{t-1}}{1 + \alpha \lVert g_t\rVert^2}, \qquad
        \theta_t = \theta_{t-1} - \eta_t\, g_t, \qquad \eta_0 = \texttt{lr}

    so :math:`\eta_t = \eta_0 \prod_{s \le t} (1 + \alpha\lVert g_s\rVert^2)^{-1}`. The
    product keeps falling while the gradients are large, and once it is small the iterates
    freeze wherever they are: the sum of the steps can stay finite, so the rule can stall
    before the minimum. It is one global rate (not per coordinate) and not a standard
    method; it is here only so that the lesson can run it.

    Parameters
    ----------
    params : ndarray
        The current iterate.
    grads : ndarray
        The gradient at ``params``.
    state : ShrinkingLRState
        From :func:`shrinking_lr_init` or the previous update.
    lr : float
        The initial learning rate :math:`\eta_0`.
    alpha : float
        The shrink constant :math:`\alpha > 0`.

    Returns
    -------
    new_params : ndarray
    new_state : ShrinkingLRState
        The current rate is ``lr * new_state.lr_scale``.
    """
    g = _as_float(grads)
    scale = state.lr_scale / (1.0 + alpha * float(np.sum(g * g)))
    return _as_float(params) - lr * scale * g, ShrinkingLRState(state.t + 1, scale)


def gradnorm_lr_update(params, grads, state, *, alpha):
    r"""Source 000's display formula of the same rule: :math:`\eta_t = 1/(1 + \alpha\lVert g_t\rVert^2)`.

    .. math:: \theta_t = \theta_{t-1} - \frac{g_t}{1 + \alpha\lVert g_t\rVert^2}

    The formula has no :math:`\eta_0`: as the gradient vanishes near a minimum the rate
    tends to 1, which diverges on any problem whose smoothness constant exceeds 2. A
    stateless rule (``init=None`` in :func:`solutions.common.run`); for the lesson only.

    Parameters
    ----------
    params, grads : ndarray
    state : None
    alpha : float

    Returns
    -------
    new_params : ndarray
    new_state : None
    """
    g = _as_float(grads)
    return _as_float(params) - g / (1.0 + alpha * float(np.sum(g * g))), state


# --- questions (answers written as literals; see autograder/engine/questions.py) ---------------------

#: The setting of question ``ex5_6``: Adam's hyperparameters and the first gradient.
ADAM_FIRST_STEP_SETTING = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "grad": 0.5}
#: The setting of question ``ex5_5``: RMSprop's learning rate and decay, the constant gradient, the step.
RMSPROP_STEP_SETTING = {"lr": 0.1, "rho": 0.99, "grad": 2.0, "step": 100}


def adam_first_step_no_correction_answer() -> float:
    r"""``ex5_6``: the length of Adam's first step *without* bias correction.

    From :math:`m_0 = v_0 = 0`, the first gradient :math:`g` gives
    :math:`m_1 = (1-\beta_1) g` and :math:`v_1 = (1-\beta_2) g^2`. Without the corrections,
    the step is :math:`\eta\, m_1/(\sqrt{v_1} + \epsilon) \approx \eta (1-\beta_1)/\sqrt{1-\beta_2}
    = 10^{-3} \cdot 0.1/0.0316 = 0.00316`, whatever :math:`g`: :math:`3.16` times the
    corrected step :math:`\eta`.
    """
    s = ADAM_FIRST_STEP_SETTING
    m = (1 - s["beta1"]) * s["grad"]
    v = (1 - s["beta2"]) * s["grad"] ** 2
    return s["lr"] * abs(m) / (np.sqrt(v) + s["eps"])


def rmsprop_step_answer() -> float:
    r"""``ex5_5``: the length of RMSprop's 100th step when every gradient is the same.

    From :math:`s_0 = 0`, :math:`t` equal gradients :math:`g` give
    :math:`s_t = (1 - \rho^t)\, g^2`: the average has not reached :math:`g^2` yet, and RMSprop
    has no bias correction. Step :math:`t` has length
    :math:`\eta\lvert g\rvert/(\sqrt{s_t} + \epsilon) \approx \eta/\sqrt{1 - \rho^t}
    = 0.1/\sqrt{1 - 0.99^{100}} = 0.126`, whatever :math:`g`: larger than :math:`\eta`.
    Computed here by running :func:`rmsprop_update`.
    """
    s = RMSPROP_STEP_SETTING
    params, g = np.zeros(1), np.full(1, s["grad"])
    state = rmsprop_init(params)
    for _ in range(s["step"]):
        previous = params
        params, state = rmsprop_update(params, g, state, lr=s["lr"], rho=s["rho"])
    return float(np.abs(params - previous)[0])
