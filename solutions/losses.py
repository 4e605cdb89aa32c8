r"""Chapter 1 — loss functions and their gradients.

Every loss here is a *mean* over the samples (the convention of
``torch.nn.functional`` with ``reduction="mean"``) and takes the model's outputs
first: predictions for the regression losses, *logits* (unnormalised scores) for
the classification losses. Each gradient is taken with respect to that first
argument and has its shape, so that a model's gradient follows by the chain rule.

==================================================  =========  ============================================
function                                            exercise   formula
==================================================  =========  ============================================
:func:`mse_loss`                                    ex1_1      :math:`\frac1n\sum_i(\hat y_i-y_i)^2`
:func:`mse_loss_grad`                               ex1_2      :math:`\frac2n(\hat y-y)`
:func:`huber_loss`                                  ex1_3      quadratic near 0, linear beyond ``delta``
:func:`huber_loss_grad`                             ex1_4      :math:`\frac1n\operatorname{clip}(\hat y-y,-\delta,\delta)`
:func:`softmax`                                     ex1_5      :math:`e^{z_k-\max z}/\sum_j e^{z_j-\max z}`
:func:`softmax_cross_entropy`                       ex1_6      :math:`\frac1n\sum_i(\operatorname{lse}(z_i)-z_{i,y_i})`
:func:`softmax_cross_entropy_grad`                  ex1_7      :math:`\frac1n(\operatorname{softmax}(z)-Y)`
:func:`binary_cross_entropy_with_logits`            ex1_8      :math:`\frac1n\sum\max(z,0)-zy+\log(1+e^{-|z|})`
:func:`binary_cross_entropy_with_logits_grad`       ex1_9      :math:`\frac1n(\sigma(z)-y)`
:func:`huber_gradient_ratio_answer`                 ex1_10     question: an outlier's pull under Huber
:func:`cross_entropy_example_answer`                ex1_11     question: one sample's cross-entropy
==================================================  =========  ============================================

Not exercises: :func:`mae_loss`, :func:`sigmoid`, :func:`log_softmax`,
:func:`l2_penalty` and :func:`l2_penalty_grad`.

Numerical stability: nothing here evaluates :math:`e^{x}` for a positive ``x``, so
logits of any finite size (up to ``1e308``) give finite results without overflow
warnings, except where the exact answer itself exceeds the largest float (for
instance a cross-entropy of :math:`2\cdot10^{308}`), which is returned as ``inf``.
"""

import numpy as np

__all__ = [
    "mse_loss", "mse_loss_grad", "mae_loss", "huber_loss", "huber_loss_grad",
    "sigmoid", "softmax", "log_softmax", "softmax_cross_entropy", "softmax_cross_entropy_grad",
    "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_grad",
    "l2_penalty", "l2_penalty_grad",
    "HUBER_RATIO_SETTING", "huber_gradient_ratio_answer",
    "CROSS_ENTROPY_SETTING", "cross_entropy_example_answer",
]


def _same_shape_floats(y_pred, y) -> tuple[np.ndarray, np.ndarray]:
    """Both arguments as float arrays of the same shape (no silent broadcasting)."""
    y_pred, y = np.asarray(y_pred, dtype=float), np.asarray(y, dtype=float)
    if y_pred.shape != y.shape:
        raise ValueError(f"y_pred has shape {y_pred.shape} but y has shape {y.shape}: "
                         "reshape one of them (broadcasting (n, 1) against (n,) gives (n, n))")
    return y_pred, y


def _checked_logits_labels(logits, labels) -> tuple[np.ndarray, np.ndarray]:
    """Logits of shape (n, k) as floats and integer labels of shape (n,) in 0..k-1."""
    logits = np.asarray(logits, dtype=float)
    labels = np.asarray(labels)
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(f"expected logits (n, k) and labels (n,), got {logits.shape} and {labels.shape}")
    if labels.size and (not np.issubdtype(labels.dtype, np.integer)
                        or labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise ValueError(f"labels must be integers in 0..{logits.shape[1] - 1}")
    return logits, labels


# ----------------------------------------------------------------------------- regression

def mse_loss(y_pred, y) -> float:
    r"""Mean squared error.

    .. math:: L(\hat y, y) = \frac1n \sum_{i=1}^{n} (\hat y_i - y_i)^2,

    where the mean runs over *all* :math:`n` elements (every sample and every output).

    Parameters
    ----------
    y_pred : array_like
        The predictions :math:`\hat y`.
    y : array_like, same shape as ``y_pred``
        The targets.

    Returns
    -------
    float
        The mean of the squared errors — one number, not the vector
        ``(y_pred - y) ** 2`` of squared errors.

    Notes
    -----
    Some texts use the *half* MSE :math:`\frac1{2n}\sum_i(\hat y_i-y_i)^2`, whose
    gradient has no factor 2. It has the same minimiser; this course grades the plain
    mean, as ``torch.nn.functional.mse_loss``.

    Examples
    --------
    >>> mse_loss([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    1.3333333333333333
    """
    y_pred, y = _same_shape_floats(y_pred, y)
    return float(np.mean((y_pred - y) ** 2))


def mse_loss_grad(y_pred, y) -> np.ndarray:
    r"""Gradient of :func:`mse_loss` with respect to the predictions.

    .. math:: \frac{\partial L}{\partial \hat y_i} = \frac{2}{n} (\hat y_i - y_i),

    with :math:`n` the number of elements of ``y_pred``.

    Parameters
    ----------
    y_pred : array_like
        The predictions :math:`\hat y`.
    y : array_like, same shape as ``y_pred``
        The targets.

    Returns
    -------
    ndarray, same shape as ``y_pred``

    Examples
    --------
    >>> mse_loss_grad([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    array([ 0.        ,  0.        , -1.33333333])
    """
    y_pred, y = _same_shape_floats(y_pred, y)
    return 2.0 * (y_pred - y) / y_pred.size


def mae_loss(y_pred, y) -> float:
    r"""Mean absolute error :math:`\frac1n\sum_i |\hat y_i - y_i|` (``torch.nn.functional.l1_loss``).

    Its (sub)gradient is :math:`\operatorname{sign}(\hat y - y)/n`: every error pulls
    with the same force, so an outlier does not dominate the fit, but the gradient
    does not shrink near the minimum.

    Parameters
    ----------
    y_pred, y : array_like of the same shape

    Returns
    -------
    float
    """
    y_pred, y = _same_shape_floats(y_pred, y)
    return float(np.mean(np.abs(y_pred - y)))


def huber_loss(y_pred, y, delta=1.0) -> float:
    r"""Huber loss (Huber, 1964), averaged over the elements.

    With the residual :math:`r = \hat y - y`,

    .. math::

        \ell_\delta(r) = \begin{cases}
            \tfrac12 r^2 & |r| \le \delta,\\
            \delta\,(|r| - \tfrac12\delta) & |r| > \delta,
        \end{cases}
        \qquad L = \frac1n \sum_{i=1}^n \ell_\delta(r_i).

    Quadratic (like half the squared error) for small residuals, linear (like
    :math:`\delta` times the absolute error) for large ones; the two pieces meet with
    the same value and slope at :math:`|r| = \delta`.

    Parameters
    ----------
    y_pred : array_like
        The predictions :math:`\hat y`.
    y : array_like, same shape as ``y_pred``
        The targets.
    delta : float, default 1.0
        The threshold :math:`\delta > 0` between the two pieces.

    Returns
    -------
    float

    Notes
    -----
    This is ``torch.nn.functional.huber_loss`` (and ``torch.nn.HuberLoss``). The
    ``smooth_l1_loss`` of torch is the same loss divided by :math:`\delta`.

    Examples
    --------
    >>> huber_loss([0.5, 3.0], [0.0, 0.0])        # (0.125 + 2.5) / 2
    1.3125
    """
    y_pred, y = _same_shape_floats(y_pred, y)
    r = np.abs(y_pred - y)
    q = np.minimum(r, delta)             # 0.5 q^2 + delta (r - q) is both pieces at once, and never squares a huge r
    return float(np.mean(0.5 * q**2 + delta * (r - q)))


def huber_loss_grad(y_pred, y, delta=1.0) -> np.ndarray:
    r"""Gradient of :func:`huber_loss` with respect to the predictions.

    .. math:: \frac{\partial L}{\partial \hat y_i} = \frac1n \operatorname{clip}(r_i, -\delta, \delta)
              = \frac1n \begin{cases} r_i & |r_i| \le \delta,\\
                                        \delta \operatorname{sign}(r_i) & |r_i| > \delta,\end{cases}

    with :math:`r = \hat y - y` and :math:`n` the number of elements.

    Parameters
    ----------
    y_pred : array_like
        The predictions :math:`\hat y`.
    y : array_like, same shape as ``y_pred``
        The targets.
    delta : float, default 1.0
        The threshold :math:`\delta > 0`.

    Returns
    -------
    ndarray, same shape as ``y_pred``

    Examples
    --------
    >>> huber_loss_grad([0.5, 3.0], [0.0, 0.0])
    array([0.25, 0.5 ])
    """
    y_pred, y = _same_shape_floats(y_pred, y)
    return np.clip(y_pred - y, -delta, delta) / y_pred.size


# ----------------------------------------------------------------------------- classification

def sigmoid(z) -> np.ndarray:
    r"""The logistic function :math:`\sigma(z) = 1/(1 + e^{-z})`, element-wise and stable.

    Computed from :math:`e^{-|z|} \in (0, 1]` only, as :math:`1/(1+e^{-|z|})` for
    :math:`z \ge 0` and :math:`e^{-|z|}/(1+e^{-|z|})` for :math:`z < 0`, so no
    exponential can overflow (``scipy.special.expit``).

    Parameters
    ----------
    z : array_like

    Returns
    -------
    ndarray of floats, same shape as ``z``, values in :math:`[0, 1]`

    Examples
    --------
    >>> sigmoid([-1000.0, 0.0, 1000.0])
    array([0. , 0.5, 1. ])
    """
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(z, axis=-1) -> np.ndarray:
    r"""Softmax along ``axis``, stable for logits of any size.

    .. math:: \operatorname{softmax}(z)_k = \frac{e^{z_k}}{\sum_j e^{z_j}}
              = \frac{e^{z_k - m}}{\sum_j e^{z_j - m}}, \qquad m = \max_j z_j .

    Subtracting the maximum changes nothing mathematically, but every exponent is
    then :math:`\le 0`: no :math:`e^{z}` overflows and the denominator is at least 1.

    Parameters
    ----------
    z : array_like
        Logits; e.g. shape (n, k) for n samples and k classes.
    axis : int, default -1
        The axis of the classes; the result sums to 1 along it.

    Returns
    -------
    ndarray, same shape as ``z``

    Examples
    --------
    >>> softmax([1000.0, 1000.0])
    array([0.5, 0.5])
    """
    z = np.asarray(z, dtype=float)
    with np.errstate(over="ignore"):     # z - m = -inf for a gap beyond 1.8e308: exp(-inf) = 0 is exact
        e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z, axis=-1) -> np.ndarray:
    r"""Logarithm of :func:`softmax`, by the log-sum-exp trick.

    .. math:: \log \operatorname{softmax}(z)_k = z_k - \operatorname{lse}(z), \qquad
              \operatorname{lse}(z) = m + \log\sum_j e^{z_j - m}, \quad m = \max_j z_j .

    Unlike ``np.log(softmax(z))``, this never takes the log of an underflowed 0.

    Parameters
    ----------
    z : array_like
    axis : int, default -1

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = np.asarray(z, dtype=float)
    with np.errstate(over="ignore"):     # a gap beyond 1.8e308 gives -inf: the nearest float
        shifted = z - np.max(z, axis=axis, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax_cross_entropy(logits, labels) -> float:
    r"""Cross-entropy of the softmax of ``logits`` against integer class labels, mean over samples.

    .. math:: L = -\frac1n \sum_{i=1}^n \log \operatorname{softmax}(z_i)_{y_i}
                = \frac1n \sum_{i=1}^n \bigl(\operatorname{lse}(z_i) - z_{i, y_i}\bigr),

    with :math:`\operatorname{lse}(z) = m + \log\sum_j e^{z_j - m}`, :math:`m=\max_j z_j`
    (the log-sum-exp trick). Same as ``torch.nn.functional.cross_entropy``.

    Parameters
    ----------
    logits : array_like, shape (n, k)
        Unnormalised scores :math:`z_{ik}` of n samples for k classes (not probabilities).
    labels : array_like of int, shape (n,)
        The class :math:`y_i \in \{0, \dots, k-1\}` of each sample.

    Returns
    -------
    float

    Examples
    --------
    >>> round(softmax_cross_entropy([[0.0, 0.0, 0.0, 0.0]], [2]), 6)    # log 4
    1.386294
    """
    logits, labels = _checked_logits_labels(logits, labels)
    n = len(labels)
    return float(-np.mean(log_softmax(logits)[np.arange(n), labels]))


def softmax_cross_entropy_grad(logits, labels) -> np.ndarray:
    r"""Gradient of :func:`softmax_cross_entropy` with respect to the logits.

    .. math:: \frac{\partial L}{\partial z_{ik}} = \frac1n\bigl(\operatorname{softmax}(z_i)_k
              - [k = y_i]\bigr),

    i.e. :math:`(P - Y)/n` with :math:`Y` the one-hot encoding of the labels.

    Parameters
    ----------
    logits : array_like, shape (n, k)
    labels : array_like of int, shape (n,)

    Returns
    -------
    ndarray, shape (n, k)
        Each row sums to 0.

    Examples
    --------
    >>> softmax_cross_entropy_grad([[0.0, 0.0]], [1])
    array([[ 0.5, -0.5]])
    """
    logits, labels = _checked_logits_labels(logits, labels)
    n = len(labels)
    grad = softmax(logits)
    grad[np.arange(n), labels] -= 1.0
    return grad / n


def binary_cross_entropy_with_logits(logits, targets) -> float:
    r"""Binary cross-entropy of :math:`\sigma(z)` against targets in [0, 1], from the logits.

    .. math::

        L = -\frac1n \sum_{i=1}^n \bigl[y_i \log\sigma(z_i) + (1-y_i)\log(1-\sigma(z_i))\bigr]
          = \frac1n \sum_{i=1}^n \bigl[\max(z_i, 0) - z_i y_i + \log(1 + e^{-|z_i|})\bigr].

    The second form follows from :math:`\log\sigma(z) = -\log(1+e^{-z})` and
    :math:`\log(1 - \sigma(z)) = -z - \log(1+e^{-z})`; it never exponentiates a positive
    number and never takes :math:`\log 0`. Same as
    ``torch.nn.functional.binary_cross_entropy_with_logits``.

    Parameters
    ----------
    logits : array_like
        The logits :math:`z` (the model's output *before* any sigmoid).
    targets : array_like, same shape as ``logits``
        The targets :math:`y \in [0, 1]` (usually 0 or 1).

    Returns
    -------
    float

    Examples
    --------
    >>> round(binary_cross_entropy_with_logits([0.0], [1.0]), 6)      # log 2
    0.693147
    >>> binary_cross_entropy_with_logits([-1000.0], [1.0])            # confidently wrong
    1000.0
    """
    z, y = _same_shape_floats(logits, targets)
    return float(np.mean(np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def binary_cross_entropy_with_logits_grad(logits, targets) -> np.ndarray:
    r"""Gradient of :func:`binary_cross_entropy_with_logits` with respect to the logits.

    .. math:: \frac{\partial L}{\partial z_i} = \frac1n\bigl(\sigma(z_i) - y_i\bigr),

    with the stable :func:`sigmoid` and :math:`n` the number of elements.

    Parameters
    ----------
    logits : array_like
    targets : array_like, same shape as ``logits``

    Returns
    -------
    ndarray, same shape as ``logits``

    Examples
    --------
    >>> binary_cross_entropy_with_logits_grad([0.0, -1000.0], [1.0, 1.0])
    array([-0.25, -0.5 ])
    """
    z, y = _same_shape_floats(logits, targets)
    return (sigmoid(z) - y) / z.size


# ----------------------------------------------------------------------------- regularisation

def l2_penalty(params, weight_decay) -> float:
    r"""The L2 penalty (weight decay term) :math:`\frac{\lambda}{2}\lVert\theta\rVert_2^2`.

    Added to a loss, :math:`J(\theta) + \frac\lambda2\lVert\theta\rVert^2` pulls the
    parameters towards 0; its gradient :math:`\lambda\theta` is what ``weight_decay``
    adds to the gradient in ``torch.optim.SGD``.

    Parameters
    ----------
    params : array_like
        :math:`\theta` (every element is penalised; leave a bias out yourself if you wish).
    weight_decay : float
        :math:`\lambda \ge 0`.

    Returns
    -------
    float
    """
    params = np.asarray(params, dtype=float)
    return float(0.5 * weight_decay * np.sum(params**2))


def l2_penalty_grad(params, weight_decay) -> np.ndarray:
    r"""Gradient of :func:`l2_penalty`: :math:`\lambda\theta`.

    Parameters
    ----------
    params : array_like
    weight_decay : float

    Returns
    -------
    ndarray, same shape as ``params``
    """
    return weight_decay * np.asarray(params, dtype=float)


# --- questions (answers written as literals; see autograder/engine/questions.py) ---------------------

#: The setting of question ``ex1_10``: two residuals and the Huber threshold.
HUBER_RATIO_SETTING = {"residuals": (10.0, 0.5), "delta": 1.0}


def huber_gradient_ratio_answer() -> float:
    r"""``ex1_10``: how many times the Huber gradient of a residual of 10 exceeds that of 0.5 (:math:`\delta = 1`).

    The gradient is :math:`\tfrac1n\operatorname{clip}(r, -\delta, \delta)`: :math:`\delta = 1`
    for :math:`r = 10` (linear piece) and :math:`0.5` for :math:`r = 0.5` (quadratic piece), so
    the ratio is :math:`1/0.5 = 2` (the squared error's would be 20). Computed with
    :func:`huber_loss_grad`.
    """
    s = HUBER_RATIO_SETTING
    r = np.array(s["residuals"])
    g = huber_loss_grad(r, np.zeros_like(r), delta=s["delta"])
    return float(g[0] / g[1])


#: The setting of question ``ex1_11``: one sample's logits, the correct class first.
CROSS_ENTROPY_SETTING = {"logits": (2.0,) + (0.0,) * 9, "label": 0}


def cross_entropy_example_answer() -> float:
    r"""``ex1_11``: the cross-entropy of one sample with logits :math:`(2, 0, \dots, 0)` (10 classes), label 0.

    :math:`\operatorname{lse}(z) - z_0 = \ln(e^2 + 9) - 2 = \ln 16.39 - 2 = 0.797`: the correct class
    gets the probability :math:`e^2/(e^2 + 9) = 0.451`. Computed with
    :func:`softmax_cross_entropy`.
    """
    s = CROSS_ENTROPY_SETTING
    return float(softmax_cross_entropy(np.array([s["logits"]]), np.array([s["label"]])))
