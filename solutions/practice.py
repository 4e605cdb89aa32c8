r"""Chapter 8: training in practice — generalisation, sanity checks, normalisation, dropout, tuning.

The optimisers of chapters 2–7 drive the *training* loss down. This chapter is about what
a reader then does with a real model: measure how it does on data it was not trained on
(a validation set, early stopping), check a run before it is long, precondition the
problem by normalising, regularise, and tune the hyperparameters.

Conventions: a batch is a matrix with one sample per **row** and one feature per column
(chapter 6); epochs are counted from 0; batch normalisation is in *training mode* (the
statistics of the batch itself) and normalises with the **biased** variance
:math:`\frac1n\sum_i (x_i - \mu)^2`, as PyTorch does; dropout's ``p`` is the probability of
**dropping** a unit, and the scaling is *inverted* (by :math:`1/(1-p)` at training time,
nothing at evaluation).

======================================================  ========  ==============================================
function                                                exercise  what
======================================================  ========  ==============================================
:func:`early_stopping`                                  ex8_1     the epoch to keep and the epoch to stop at
:func:`batchnorm_forward`, :func:`batchnorm_backward`   ex8_2     batch normalisation, training mode
:func:`dropout_forward`, :func:`dropout_backward`       ex8_3     inverted dropout
:func:`log_uniform_search`                              ex8_4     random search on a log scale
:func:`initial_loss_answer`                             ex8_5     question: the loss at initialisation
:func:`scaled_learning_rate_answer`                     ex8_6     question: the linear scaling rule
======================================================  ========  ==============================================

Not exercises (used by the lesson): :func:`batchnorm_running_update` (the running
averages for evaluation, PyTorch's convention), :func:`ValidationHistory` and
:func:`train_with_validation` (chapter 6's MLP trained with Adam, the training and
validation losses recorded after every epoch).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from solutions.adaptive import adam_init
from solutions.backprop import mlp_adam_step, mlp_forward, mlp_loss_and_grads
from solutions.losses import softmax_cross_entropy
from solutions.sgd import minibatch_indices

__all__ = [
    "early_stopping",
    "batchnorm_forward", "batchnorm_backward", "batchnorm_running_update",
    "dropout_forward", "dropout_backward",
    "log_uniform_search",
    "ValidationHistory", "train_with_validation",
    "INITIAL_LOSS_CLASSES", "initial_loss_answer",
    "LINEAR_SCALING_SETTING", "scaled_learning_rate_answer",
]


# --- early stopping (ex8_1) -------------------------------------------------------------------

def early_stopping(val_losses, *, patience):
    r"""Early stopping with patience: the epoch to keep and the epoch at which training stops.

    Epochs are counted from 0. After each epoch :math:`t` the validation loss
    :math:`v_t` is compared with the best so far, :math:`b_{t-1} = \min_{s<t} v_s`
    (:math:`b_{-1} = +\infty`). An epoch *improves* if :math:`v_t < b_{t-1}`, **strictly**.
    Training stops at the first epoch :math:`t` that ends ``patience`` epochs in a row
    without an improvement, or at the last epoch if that never happens:

    .. math:: t_{\text{stop}} = \min\{t : v_{t-k+1}, \dots, v_t \text{ all fail to improve},\ k = \text{patience}\}.

    The epoch to keep is the best one seen until then, the first one on ties:

    .. math:: t^\star = \min \operatorname*{arg\,min}_{0 \le t \le t_{\text{stop}}} v_t .

    Epochs after :math:`t_{\text{stop}}` are never looked at: in a real run they are never
    computed.

    Parameters
    ----------
    val_losses : sequence of float
        The validation loss after each epoch (at least one).
    patience : int
        How many epochs in a row without improvement end the run (at least 1).

    Returns
    -------
    best_epoch : int
    stop_epoch : int

    Examples
    --------
    >>> early_stopping([1.0, 0.8, 0.9, 0.8, 0.85, 0.7], patience=3)
    (1, 4)
    >>> early_stopping([1.0, 0.8, 0.9], patience=3)
    (1, 2)
    """
    if patience < 1:
        raise ValueError(f"patience must be at least 1, not {patience}")
    losses = [float(v) for v in val_losses]
    if not losses:
        raise ValueError("val_losses is empty")
    best, best_epoch, waited = np.inf, 0, 0
    for t, v in enumerate(losses):
        if v < best:
            best, best_epoch, waited = v, t, 0
        else:
            waited += 1
            if waited == patience:
                return best_epoch, t
    return best_epoch, len(losses) - 1


# --- batch normalisation (ex8_2) --------------------------------------------------------------

def batchnorm_forward(x, gamma, beta, *, eps=1e-5):
    r"""Batch normalisation in training mode: each feature standardised over the batch, then scaled and shifted.

    For a batch :math:`x` of shape ``(n, d)``, per feature :math:`j`,

    .. math:: \mu_j = \frac1n\sum_{i} x_{ij}, \qquad
              \sigma^2_j = \frac1n\sum_i (x_{ij} - \mu_j)^2 \ \text{(biased)}, \qquad
              \hat x_{ij} = \frac{x_{ij} - \mu_j}{\sqrt{\sigma^2_j + \epsilon}}, \qquad
              y_{ij} = \gamma_j \hat x_{ij} + \beta_j .

    The variance is the *biased* one (divided by :math:`n`), as in
    ``torch.nn.functional.batch_norm(..., training=True)``; :math:`\epsilon` is inside the
    square root.

    Parameters
    ----------
    x : ndarray, shape (n, d)
    gamma, beta : ndarray, shape (d,)
        The learned scale and shift.
    eps : float

    Returns
    -------
    ndarray, shape (n, d)
    """
    x = np.asarray(x, dtype=float)
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    x_hat = (x - mu) / np.sqrt(var + eps)
    return np.asarray(gamma, dtype=float) * x_hat + np.asarray(beta, dtype=float)


def batchnorm_backward(dout, x, gamma, *, eps=1e-5):
    r"""The backward pass of :func:`batchnorm_forward` (training mode), from the layer's input.

    With :math:`\hat x`, :math:`\sigma^2` as in :func:`batchnorm_forward` and
    :math:`\bar y` = ``dout``, per feature:

    .. math:: \bar\beta = \sum_i \bar y_i, \qquad \bar\gamma = \sum_i \bar y_i\,\hat x_i, \qquad
              \bar x_i = \frac{\gamma}{n\sqrt{\sigma^2 + \epsilon}}
                         \Bigl(n\,\bar y_i - \sum_k \bar y_k - \hat x_i \sum_k \bar y_k\,\hat x_k\Bigr).

    Every sample of the batch moves the mean and the variance, so :math:`\bar x_i` depends
    on the whole batch's :math:`\bar y`: the two sums are the paths through
    :math:`\mu` and :math:`\sigma^2`. Without them one gets
    :math:`\gamma\bar y_i/\sqrt{\sigma^2+\epsilon}`, the gradient of a *fixed*
    standardisation. As a check, :math:`\sum_i \bar x_i = 0`.

    Parameters
    ----------
    dout : ndarray, shape (n, d)
        The upstream gradient :math:`\bar y`.
    x : ndarray, shape (n, d)
        The layer's input in the forward pass.
    gamma : ndarray, shape (d,)
    eps : float

    Returns
    -------
    dx : ndarray, shape (n, d)
    dgamma : ndarray, shape (d,)
    dbeta : ndarray, shape (d,)
    """
    dout, x, gamma = (np.asarray(a, dtype=float) for a in (dout, x, gamma))
    n = x.shape[0]
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = gamma * inv_std / n * (n * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def batchnorm_running_update(running_mean, running_var, x, *, momentum=0.1):
    r"""The running averages that batch normalisation uses at evaluation (PyTorch's convention).

    After each training batch,

    .. math:: m \leftarrow (1 - \alpha)\, m + \alpha\, \mu_{\mathcal B}, \qquad
              v \leftarrow (1 - \alpha)\, v + \alpha\, \tfrac{n}{n-1}\sigma^2_{\mathcal B},

    with :math:`\alpha` = ``momentum`` (0.1 in PyTorch). Two conventions to know: PyTorch's
    ``momentum`` is the weight of the *new* batch (Keras's ``momentum=0.99`` is the weight
    of the old average, :math:`1-\alpha`), and the running variance is updated with the
    **unbiased** variance of the batch (divided by :math:`n - 1`), although the batch is
    normalised with the biased one. At evaluation the layer is the fixed affine map
    :math:`\gamma (x - m)/\sqrt{v + \epsilon} + \beta`.

    Parameters
    ----------
    running_mean, running_var : ndarray, shape (d,)
        Start from zeros and ones.
    x : ndarray, shape (n, d)
        The training batch, :math:`n \ge 2`.
    momentum : float

    Returns
    -------
    running_mean, running_var : ndarray, shape (d,)
    """
    x = np.asarray(x, dtype=float)
    a = momentum
    return ((1 - a) * np.asarray(running_mean, dtype=float) + a * x.mean(axis=0),
            (1 - a) * np.asarray(running_var, dtype=float) + a * x.var(axis=0, ddof=1))


# --- dropout (ex8_3) --------------------------------------------------------------------------

def dropout_forward(x, *, p, rng, training=True):
    r"""Inverted dropout: each unit dropped with probability ``p``, the kept ones scaled by :math:`1/(1-p)`.

    At training time the keep mask is drawn as ``rng.random(x.shape) >= p`` (one draw per
    entry, in that one call) and

    .. math:: y = \frac{m \odot x}{1 - p}, \qquad m_i \in \{0, 1\},\ P(m_i = 1) = 1 - p,

    so that :math:`\mathbb E[y] = x`: the next layer sees inputs of the same expected size
    at training and at evaluation. At evaluation (``training=False``) the layer is the
    identity, ``rng`` is not used, and the mask is all ``True``.

    Parameters
    ----------
    x : ndarray, any shape
    p : float
        The probability of dropping a unit, :math:`0 \le p < 1`.
    rng : numpy.random.Generator
    training : bool

    Returns
    -------
    out : ndarray, shape of ``x``
    mask : ndarray of bool, shape of ``x``
        ``True`` where the unit is kept.
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p must be in [0, 1), not {p}")
    x = np.asarray(x, dtype=float)
    if not training:
        return x.copy(), np.ones(x.shape, dtype=bool)
    mask = rng.random(x.shape) >= p
    return x * mask / (1.0 - p), mask


def dropout_backward(dout, mask, *, p):
    r"""The backward pass of :func:`dropout_forward` at training time: :math:`\bar x = m \odot \bar y / (1 - p)`.

    Parameters
    ----------
    dout : ndarray
        The upstream gradient :math:`\bar y`.
    mask : ndarray of bool, same shape
        The keep mask of the forward pass.
    p : float
        The drop probability of the forward pass.

    Returns
    -------
    ndarray, same shape
    """
    return np.asarray(dout, dtype=float) * np.asarray(mask, dtype=bool) / (1.0 - p)


# --- random search on a log scale (ex8_4) -----------------------------------------------------

def log_uniform_search(low, high, n, rng):
    r"""``n`` random configurations of hyperparameters, each drawn uniformly on a **log** scale.

    A learning rate or a weight decay matters by its order of magnitude, so a search draws
    its exponent uniformly:

    .. math:: \theta_{ij} = 10^{u_{ij}}, \qquad u_{ij} \sim \mathcal U(\log_{10} \ell_j,\ \log_{10} h_j),

    with all the draws made by one call ``rng.uniform(log10(low), log10(high), size=(n, k))``
    (row :math:`i` is a configuration, column :math:`j` a hyperparameter). A uniform draw
    on :math:`[\ell, h]` itself would put 90% of the samples in the top decade of a range
    of :math:`[10^{-5}, 10^{-1}]`.

    Parameters
    ----------
    low, high : array_like, shape (k,)
        The bounds of each hyperparameter, :math:`0 < \ell_j < h_j`.
    n : int
        The number of configurations.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (n, k)
    """
    low, high = np.atleast_1d(np.asarray(low, dtype=float)), np.atleast_1d(np.asarray(high, dtype=float))
    return 10.0 ** rng.uniform(np.log10(low), np.log10(high), size=(n, low.size))


# --- training with a validation set (not an exercise) -----------------------------------------

class ValidationHistory(NamedTuple):
    """What :func:`train_with_validation` records after every epoch.

    Attributes
    ----------
    train_loss, val_loss : ndarray, shape (epochs,)
        The mean cross-entropy (without the penalty) on the whole training and validation sets.
    train_accuracy, val_accuracy : ndarray, shape (epochs,)
    params : list
        The parameters after each epoch (to keep the best one).
    """

    train_loss: np.ndarray
    val_loss: np.ndarray
    train_accuracy: np.ndarray
    val_accuracy: np.ndarray
    params: list


def _evaluate(params, X, labels):
    logits, _ = mlp_forward(params, X)
    return softmax_cross_entropy(logits, labels), float(np.mean(np.argmax(logits, axis=1) == labels))


def train_with_validation(params, X, labels, X_val, labels_val, *, epochs, batch_size, lr, rng,
                          weight_decay=0.0, loss_and_grads=None):
    r"""Chapter 6's ReLU MLP trained with mini-batches and Adam, evaluated after every epoch.

    The loop of :func:`solutions.backprop.train_mlp` (:func:`solutions.backprop.mlp_adam_step`,
    :func:`solutions.sgd.minibatch_indices` drawn from ``rng``), which also records the
    mean cross-entropy and the accuracy on the whole training and validation sets after
    each epoch (the network evaluated as it is, :func:`solutions.backprop.mlp_forward`),
    and keeps each epoch's parameters.

    Parameters
    ----------
    params : list of (W, b)
    X, labels, X_val, labels_val : ndarray
        The training and validation sets.
    epochs, batch_size : int
    lr : float
        Adam's learning rate.
    rng : numpy.random.Generator
        Draws the batches, and is passed to ``loss_and_grads``.
    weight_decay : float
        The L2 penalty :math:`\lambda` of :func:`solutions.backprop.mlp_loss_and_grads`
        (used by the default ``loss_and_grads`` only).
    loss_and_grads : callable, optional
        ``loss_and_grads(params, X_batch, labels_batch, rng) -> (loss, grads)``, for a
        network trained differently (with dropout, say); by default
        :func:`solutions.backprop.mlp_loss_and_grads`.

    Returns
    -------
    params : list of (W, b)
        The parameters after the last epoch.
    history : ValidationHistory
    """
    if loss_and_grads is None:
        def loss_and_grads(p, Xb, yb, _rng):
            return mlp_loss_and_grads(p, Xb, yb, weight_decay=weight_decay)
    states = [(adam_init(W), adam_init(b)) for W, b in params]
    rows, kept = [], []
    for _ in range(epochs):
        for idx in minibatch_indices(len(labels), batch_size, rng):
            _, grads = loss_and_grads(params, X[idx], labels[idx], rng)
            params, states = mlp_adam_step(params, grads, states, lr=lr)
        rows.append((*_evaluate(params, X, labels), *_evaluate(params, X_val, labels_val)))
        kept.append(params)
    train_loss, train_acc, val_loss, val_acc = (np.array(c) for c in zip(*rows))
    return params, ValidationHistory(train_loss, val_loss, train_acc, val_acc, kept)


# --- questions (answers written as literals; see autograder/engine/questions.py) ---------------------

#: The number of balanced classes of question ``ex8_5`` (the digits).
INITIAL_LOSS_CLASSES = 10


def initial_loss_answer() -> float:
    r"""``ex8_5``: the mean softmax cross-entropy of a classifier at initialisation, 10 balanced classes.

    Small random weights give logits near 0, so the softmax is close to uniform,
    :math:`p_c \approx 1/k` for every class, and each sample's loss is
    :math:`-\ln(1/k) = \ln k`: :math:`\ln 10 \approx 2.303` (the *natural* logarithm, that
    of the cross-entropy). Computed here from chapter 1's loss at zero logits.
    """
    k = INITIAL_LOSS_CLASSES
    return float(softmax_cross_entropy(np.zeros((k, k)), np.arange(k)))


#: The setting of question ``ex8_6``: a run tuned at one batch size, moved to a larger one.
LINEAR_SCALING_SETTING = {"batch_size": 32, "lr": 0.001, "new_batch_size": 256}


def scaled_learning_rate_answer() -> float:
    r"""``ex8_6``: the learning rate that Goyal et al.'s linear scaling rule gives for the larger batch.

    "When the minibatch size is multiplied by :math:`k`, multiply the learning rate by
    :math:`k`": one step on a batch :math:`k` times larger then moves about as far as
    :math:`k` small steps, as long as the gradient changes little over those steps.
    :math:`k = 256/32 = 8`, so :math:`\eta = 8 \times 0.001 = 0.008`. The rule is for SGD
    (with momentum), needs a warm-up, and breaks down for very large batches.
    """
    s = LINEAR_SCALING_SETTING
    return s["lr"] * s["new_batch_size"] / s["batch_size"]
