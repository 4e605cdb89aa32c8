r"""Chapter 3 — stochastic and mini-batch gradient descent.

Mini-batch SGD on a loss that is a mean over samples,
:math:`J(\theta) = \frac1n\sum_{i=1}^n \ell_i(\theta)`, replaces the full gradient by
the mean gradient of a *mini-batch* :math:`\mathcal B \subset \{1, \dots, n\}` of :math:`B` samples:

.. math:: \theta \leftarrow \theta - \eta\, g_{\mathcal B}(\theta), \qquad
          g_{\mathcal B}(\theta) = \frac1{B}\sum_{i \in \mathcal B} \nabla\ell_i(\theta).

An *epoch* is one pass over a freshly shuffled dataset, cut into consecutive batches
(the last one partial); an *iteration* is one update. ``batch_size = n`` is full-batch
gradient descent, ``batch_size = 1`` single-sample SGD.

Conventions of the course (as in chapter 2): linear regression with the design matrix
``X`` (its first column all ones) and the mean squared error, whose gradient
:func:`solutions.gradient_descent.linreg_grad` is :math:`\frac2n X^\top(X\theta - y)`
— on a batch, ``n`` is the batch size.

=====================================  =========  =====================================================
function                               exercise   what
=====================================  =========  =====================================================
:func:`minibatch_indices`              ex3_1      one shuffled epoch cut into batches
:func:`sgd_epoch`                      ex3_2      one epoch of mini-batch SGD on linear regression
:func:`clip_by_global_norm`            ex3_3      :math:`g \cdot \min(1, c/\lVert g\rVert)`
:func:`step_decay`                     ex3_4      :math:`\eta_0\, \gamma^{\lfloor t/s\rfloor}`
:func:`inverse_time_decay`             ex3_5      :math:`\eta_0 / (1 + k t)`
:func:`cosine_with_warmup`             ex3_6      linear warm-up, then half a cosine down to ``lr_min``
:func:`minibatch_noise_ratio_answer`   ex3_7      question: the noise of a batch of 25 out of 100
:func:`robbins_monro_schedule_answer`  ex3_8      question: which schedule meets Robbins–Monro
=====================================  =========  =====================================================

Not exercises (used by the lesson): :func:`per_sample_grads` and
:func:`minibatch_grad_variance`, the exact variance of the mini-batch gradient.
"""
import math

import numpy as np

from solutions.gradient_descent import linreg_grad

__all__ = [
    "minibatch_indices", "sgd_epoch", "clip_by_global_norm",
    "step_decay", "inverse_time_decay", "cosine_with_warmup",
    "per_sample_grads", "minibatch_grad_variance",
    "NOISE_RATIO_SETTING", "minibatch_noise_ratio_answer",
    "robbins_monro_schedule_answer",
]


def minibatch_indices(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    r"""The mini-batches of one epoch: a random permutation of the samples, cut in order.

    With :math:`\pi` = ``rng.permutation(n)`` (drawn once per epoch), the batches are

    .. math:: \mathcal B_j = \{\pi_s : jB \le s < \min((j+1)B,\ n)\}, \qquad j = 0, \dots, \lceil n/B\rceil - 1,

    so every sample is used exactly once per epoch; all batches have ``batch_size``
    samples except the last, which holds the remaining :math:`n - B(\lceil n/B\rceil - 1)`.

    Parameters
    ----------
    n : int
        The number of samples (``n >= 0``).
    batch_size : int
        The batch size :math:`B \ge 1`; ``batch_size >= n`` gives one batch of all samples.
    rng : numpy.random.Generator
        The source of randomness; exactly one call ``rng.permutation(n)`` is made.

    Returns
    -------
    list of ndarray of int
        :math:`\lceil n/B\rceil` index arrays, ``perm[s:s + batch_size]`` for
        ``s in range(0, n, batch_size)`` (an empty list when ``n == 0``).

    Examples
    --------
    >>> batches = minibatch_indices(7, 3, np.random.default_rng(0))
    >>> [len(b) for b in batches]
    [3, 3, 1]
    >>> sorted(np.concatenate(batches).tolist())
    [0, 1, 2, 3, 4, 5, 6]
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    perm = rng.permutation(n)
    return [perm[s:s + batch_size] for s in range(0, n, batch_size)]


def sgd_epoch(params: np.ndarray, X: np.ndarray, y: np.ndarray, *, lr: float, batch_size: int,
              rng: np.random.Generator) -> np.ndarray:
    r"""One epoch of mini-batch SGD on linear regression with the mean squared error.

    For each batch :math:`\mathcal B` of :func:`minibatch_indices` ``(n, batch_size, rng)``, in order,

    .. math:: \theta \leftarrow \theta - \eta\, \frac{2}{B} X_{\mathcal B}^\top (X_{\mathcal B}\theta - y_{\mathcal B}),

    the gradient of the batch's *mean* squared error (``linreg_grad(params, X[idx], y[idx])``,
    divided by the batch size, not by ``n``). Each batch's gradient is taken at the current
    parameters, so one epoch makes :math:`\lceil n/B\rceil` updates.

    Parameters
    ----------
    params : ndarray, shape (d + 1,)
        The starting point :math:`\theta = (b, w_1, \dots)` (not modified).
    X : ndarray, shape (n, d + 1)
        The design matrix (with its column of ones).
    y : ndarray, shape (n,)
        The targets.
    lr : float
        The learning rate :math:`\eta`, constant during the epoch.
    batch_size : int
        :math:`B`; ``1`` is single-sample SGD, ``n`` (or more) one full-batch GD step.
    rng : numpy.random.Generator
        Shuffles the epoch (through :func:`minibatch_indices`, one ``rng.permutation(n)``).

    Returns
    -------
    ndarray, shape (d + 1,)
        The parameters after the epoch (a new array).

    Examples
    --------
    >>> X = np.array([[1.0, 1.0], [1.0, 2.0]])
    >>> sgd_epoch(np.zeros(2), X, np.array([2.0, 3.0]), lr=0.1, batch_size=2,
    ...           rng=np.random.default_rng(0))        # one full-batch step
    array([0.5, 0.8])
    """
    params = np.array(params, dtype=float)
    for idx in minibatch_indices(len(y), batch_size, rng):
        params = params - lr * linreg_grad(params, X[idx], y[idx])
    return params


def clip_by_global_norm(grads, max_norm: float):
    r"""Rescale gradients so that their global Euclidean norm is at most ``max_norm``.

    .. math:: g \leftarrow g \cdot \min\!\Big(1, \frac{c}{\lVert g\rVert}\Big), \qquad
              \lVert g\rVert = \Big(\sum_{\text{arrays } a}\ \sum_j a_j^2\Big)^{1/2},

    one factor for all arrays together (so the direction of the whole gradient is kept).
    Gradients already within the norm are returned unchanged (never scaled up), and zero
    gradients stay zero. This is the exact formula; ``torch.nn.utils.clip_grad_norm_``
    divides by :math:`\lVert g\rVert + 10^{-6}` instead, a difference that only shows for
    norms near :math:`10^{-6}`.

    The norm is computed without overflow: each array is divided by the largest absolute
    entry before squaring, so gradients of size :math:`10^{200}` (whose squares are
    ``inf``) are still clipped correctly.

    Parameters
    ----------
    grads : ndarray or list/tuple of ndarray
        One gradient array, or the gradients of several parameter arrays.
    max_norm : float
        The largest allowed global norm :math:`c > 0`.

    Returns
    -------
    ndarray or list/tuple of ndarray
        The same structure as ``grads`` (a list for a list, a tuple for a tuple), new
        float arrays; the inputs are not modified.

    Examples
    --------
    >>> clip_by_global_norm(np.array([3.0, 4.0]), 1.0)
    array([0.6, 0.8])
    >>> clip_by_global_norm([np.array([3.0]), np.array([4.0])], 10.0)
    [array([3.]), array([4.])]
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    arrays = [np.asarray(g, dtype=float) for g in grads] if isinstance(grads, (list, tuple)) \
        else [np.asarray(grads, dtype=float)]
    scale = max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)
    norm = scale * math.sqrt(sum(float(np.sum((a / scale) ** 2)) for a in arrays)) if scale > 0 else 0.0
    factor = min(1.0, max_norm / norm) if norm > 0 else 1.0
    clipped = [a * factor for a in arrays]
    if isinstance(grads, tuple):
        return tuple(clipped)
    return clipped if isinstance(grads, list) else clipped[0]


def step_decay(step: int, *, lr0: float, drop: float = 0.5, every: int = 10) -> float:
    r"""Step (staircase) decay: multiply the learning rate by ``drop`` every ``every`` steps.

    .. math:: \eta_t = \eta_0\, \gamma^{\lfloor t / s \rfloor}

    with :math:`\gamma` = ``drop`` and :math:`s` = ``every``; :math:`\eta_0` for
    :math:`0 \le t < s`, :math:`\eta_0\gamma` for :math:`s \le t < 2s`, ... (as
    ``torch.optim.lr_scheduler.StepLR(step_size=every, gamma=drop)`` after ``t`` steps).

    Parameters
    ----------
    step : int
        :math:`t \ge 0`, the number of steps (or epochs) taken.
    lr0 : float
        The initial learning rate :math:`\eta_0`.
    drop : float
        The factor :math:`\gamma` applied at each drop.
    every : int
        The number of steps :math:`s` between drops.

    Returns
    -------
    float

    Examples
    --------
    >>> [step_decay(t, lr0=1.0, every=2) for t in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    return float(lr0 * drop ** (step // every))


def inverse_time_decay(step: int, *, lr0: float, k: float) -> float:
    r"""Inverse-time (:math:`1/t`) decay.

    .. math:: \eta_t = \frac{\eta_0}{1 + k t}

    :math:`\eta_0` at :math:`t = 0`. It satisfies the Robbins–Monro conditions
    :math:`\sum_t \eta_t = \infty` and :math:`\sum_t \eta_t^2 < \infty` (for
    :math:`k > 0`), under which SGD converges to the minimiser instead of stalling in a
    noise ball.

    Parameters
    ----------
    step : int
        :math:`t \ge 0`.
    lr0 : float
        :math:`\eta_0`.
    k : float
        The decay rate :math:`k \ge 0` (``0`` is a constant learning rate).

    Returns
    -------
    float

    Examples
    --------
    >>> [inverse_time_decay(t, lr0=1.0, k=0.5) for t in range(4)]
    [1.0, 0.6666666666666666, 0.5, 0.4]
    """
    return float(lr0 / (1.0 + k * step))


def cosine_with_warmup(step: int, *, lr0: float, warmup_steps: int, total_steps: int,
                       lr_min: float = 0.0) -> float:
    r"""Linear warm-up to ``lr0``, then cosine annealing down to ``lr_min`` at ``total_steps``.

    With :math:`w` = ``warmup_steps`` and :math:`T` = ``total_steps``,

    .. math::
        \eta_t = \begin{cases}
          \eta_0\, \dfrac{t + 1}{w} & 0 \le t < w \\[1ex]
          \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})
              \Big(1 + \cos\big(\pi\, \tfrac{t - w}{T - w}\big)\Big) & w \le t < T \\[1ex]
          \eta_{\min} & t \ge T
        \end{cases}

    The warm-up starts at :math:`\eta_0/w` (not 0) and reaches :math:`\eta_0` at
    :math:`t = w - 1`; the cosine starts at :math:`\eta_0` at :math:`t = w`, reaches
    :math:`\eta_{\min}` at :math:`t = T` and stays there. ``warmup_steps = 0`` is plain
    cosine annealing (``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=T)``).
    ``warmup_steps == total_steps`` has no cosine phase (the cosine's
    :math:`\tfrac{t - w}{T - w}` would be :math:`0/0`): the warm-up ends at :math:`\eta_0`
    at :math:`t = T - 1` and from :math:`t = T` on the value is :math:`\eta_{\min}`.

    Parameters
    ----------
    step : int
        :math:`t \ge 0`.
    lr0 : float
        The peak learning rate :math:`\eta_0`.
    warmup_steps : int
        :math:`w \ge 0`.
    total_steps : int
        :math:`T \ge w`, where the cosine reaches ``lr_min``.
    lr_min : float
        The final learning rate :math:`\eta_{\min}`.

    Returns
    -------
    float

    Examples
    --------
    >>> [cosine_with_warmup(t, lr0=1.0, warmup_steps=2, total_steps=4) for t in range(6)]
    [0.5, 1.0, 1.0, 0.5, 0.0, 0.0]
    """
    if not 0 <= warmup_steps <= total_steps:
        raise ValueError(f"need 0 <= warmup_steps <= total_steps, got {warmup_steps}, {total_steps}")
    if step < warmup_steps:
        return float(lr0 * (step + 1) / warmup_steps)
    if step >= total_steps:
        return float(lr_min)
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return float(lr_min + 0.5 * (lr0 - lr_min) * (1.0 + math.cos(math.pi * progress)))


# --- helpers for the lesson (not exercises) ------------------------------------------------

def per_sample_grads(params: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""The gradient of each sample's squared error, one row per sample.

    .. math:: \nabla\ell_i(\theta) = 2\, x_i\, (x_i^\top\theta - y_i),

    whose mean over the rows is :func:`~solutions.gradient_descent.linreg_grad`.

    Returns
    -------
    ndarray, shape (n, d + 1)
    """
    X = np.asarray(X, dtype=float)
    r = X @ np.asarray(params, dtype=float) - np.asarray(y, dtype=float)
    return 2.0 * X * r[:, None]


def minibatch_grad_variance(params: np.ndarray, X: np.ndarray, y: np.ndarray, batch_size: int) -> float:
    r"""The exact variance :math:`\mathbb E\lVert g_{\mathcal B} - \nabla J\rVert^2` of a mini-batch gradient.

    For a batch :math:`\mathcal B` of :math:`B` samples drawn uniformly *without* replacement (one
    batch of a shuffled epoch), :math:`\mathbb E[g_{\mathcal B}] = \nabla J` (unbiased) and

    .. math:: \mathbb E\lVert g_{\mathcal B} - \nabla J\rVert^2 = \frac{\sigma^2}{B}\cdot\frac{n - B}{n - 1},
              \qquad \sigma^2 = \frac1n\sum_{i=1}^n \lVert\nabla\ell_i - \nabla J\rVert^2,

    the :math:`\sigma^2/B` of independent samples times the finite-population correction
    (zero for the full batch :math:`B = n`).

    Parameters
    ----------
    params : ndarray, shape (d + 1,)
    X : ndarray, shape (n, d + 1)
    y : ndarray, shape (n,)
    batch_size : int
        :math:`1 \le B \le n`.

    Returns
    -------
    float
    """
    G = per_sample_grads(params, X, y)
    n = len(G)
    if not 1 <= batch_size <= n:
        raise ValueError(f"need 1 <= batch_size <= n = {n}, got {batch_size}")
    sigma2 = float(np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1)))
    return sigma2 / batch_size * ((n - batch_size) / (n - 1) if n > 1 else 0.0)


# --- questions (answers written as literals; see autograder/engine/questions.py) ---------------------

#: The setting of question ``ex3_7``: ``n`` samples, batches of ``batch_size`` distinct samples.
NOISE_RATIO_SETTING = {"n": 100, "batch_size": 25}

#: The candidate schedules of question ``ex3_8``: letter -> (formula, vectorised :math:`\eta_t`).
ROBBINS_MONRO_CHOICES = {
    "a": ("step decay 0.1 · 0.5^⌊t/100⌋", lambda t: 0.1 * 0.5 ** (t // 100)),
    "b": ("0.1 / (1 + 0.01 t)", lambda t: 0.1 / (1 + 0.01 * t)),
    "c": ("exponential decay 0.1 · 0.999^t", lambda t: 0.1 * 0.999 ** t),
    "d": ("0.1 / (1 + 0.01 t)²", lambda t: 0.1 / (1 + 0.01 * t) ** 2),
}


def minibatch_noise_ratio_answer() -> float:
    r"""``ex3_7``: the mini-batch gradient's typical error over the single sample's, with ``batch_size`` 25.

    The typical error is :math:`\sqrt{\mathbb E\lVert g_{\mathcal B} - \nabla J\rVert^2}`. For a batch of
    :math:`B` distinct samples out of :math:`n` (:func:`minibatch_grad_variance`), its ratio
    to the single-sample one (batch over single sample, so below 1) is
    :math:`\sqrt{\tfrac1B\cdot\tfrac{n-B}{n-1}} = \sqrt{\tfrac{75}{25 \cdot 99}} = 0.174`, whatever
    the data: less than the :math:`1/\sqrt B = 0.2` of independent samples. Computed here on
    random data.
    """
    s = NOISE_RATIO_SETTING
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(s["n"]), rng.normal(size=s["n"])])
    y = rng.normal(size=s["n"])
    theta = np.zeros(2)
    return float(np.sqrt(minibatch_grad_variance(theta, X, y, s["batch_size"])
                         / minibatch_grad_variance(theta, X, y, 1)))


def robbins_monro_schedule_answer() -> str:
    r"""``ex3_8``: the one schedule of ``ROBBINS_MONRO_CHOICES`` that meets Robbins–Monro.

    :math:`\sum_t\eta_t = \infty` and :math:`\sum_t\eta_t^2 < \infty`: only
    :math:`0.1/(1 + 0.01t)` (b), whose sum grows like :math:`10\ln t` while the sum of its squares
    stays below 1.1. Step decay (a) and exponential decay (c) are geometric, with finite
    sums 20 and 100; (d) falls like :math:`1/t^2`, whose sum is finite too. Checked here
    from the partial sums: a divergent sum still grows between :math:`10^5` and :math:`10^6` terms.
    """
    t = np.arange(10 ** 6, dtype=float)

    def grows(terms):
        return terms.sum() > 1.1 * terms[: 10 ** 5].sum()
    meets = [k for k, (_, eta) in ROBBINS_MONRO_CHOICES.items() if grows(eta(t)) and not grows(eta(t) ** 2)]
    assert len(meets) == 1, meets
    return meets[0]
