r"""Chapter 6: backpropagation — reverse-mode differentiation on a graph, layers, an MLP.

Backpropagation *computes* the gradient :math:`\nabla J(\theta)` of a scalar loss by the
chain rule, visiting a computation graph once forwards (values) and once backwards
(adjoints :math:`\bar v = \partial J/\partial v`). A node's adjoint is the sum over its
**direct successors** :math:`s` of :math:`\bar s\, \partial s/\partial v`:

.. math:: \bar v = \sum_{s \in \operatorname{succ}(v)} \bar s\, \frac{\partial s}{\partial v},
          \qquad \bar J = 1 .

It is not an optimiser: gradient descent, SGD or Adam (chapters 2–5) use the gradient it
returns.

Conventions: a batch is a matrix with one sample per **row**; a dense layer is
:math:`z = xW + b` with ``W`` of shape ``(d_in, d_out)``; activation derivatives are
evaluated at the *pre-activation* ``z``; the loss of a classifier is chapter 1's mean
softmax cross-entropy (:func:`solutions.losses.softmax_cross_entropy`).

======================================================================  ========  ==============================================
function                                                                exercise  what
======================================================================  ========  ==============================================
:func:`graph_adjoints`                                                  ex6_1     every adjoint of a small graph given as data
:func:`numerical_gradient`, :func:`relative_error`                      ex6_2     central differences; entry-wise relative error
:func:`linear_forward`, :func:`linear_backward`                         ex6_3     a dense layer, forwards and backwards
:func:`relu_backward`, :func:`sigmoid_backward`, :func:`tanh_backward`  ex6_4     upstream gradient times :math:`\varphi'(z)`
:func:`mlp_init`, :func:`mlp_forward`, :func:`mlp_loss_and_grads`       ex6_5     initialisation, forward and backward of an MLP
:func:`sigmoid_net_grads`                                               ex6_6     source article 001's model, differentiated
:func:`linear_backward_flops_answer`                                    ex6_7     question: the cost of a dense layer's backward pass
:func:`mlp_parameter_count_answer`                                      ex6_8     question: the parameters of a 64–64–10 MLP
======================================================================  ========  ==============================================

Not exercises (used by the lesson): :func:`graph_forward`, :func:`relu`,
:func:`sigmoid_net_loss`, :func:`mlp_adam_step`, :func:`train_mlp`, :func:`accuracy`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from solutions.adaptive import adam_init, adam_update
from solutions.losses import sigmoid, softmax_cross_entropy, softmax_cross_entropy_grad
from solutions.sgd import minibatch_indices

__all__ = [
    "GRAPH_OPS", "graph_forward", "graph_adjoints",
    "numerical_gradient", "relative_error",
    "linear_forward", "linear_backward",
    "relu", "relu_backward", "sigmoid_backward", "tanh_backward", "ACTIVATIONS",
    "mlp_init", "mlp_forward", "mlp_loss_and_grads",
    "sigmoid_net_loss", "sigmoid_net_grads",
    "TrainingHistory", "mlp_adam_step", "train_mlp", "accuracy",
    "PARAMETER_COUNT_LAYERS", "mlp_parameter_count_answer",
    "BACKWARD_FLOPS_SETTING", "linear_backward_flops_answer",
]


# --- a computation graph as plain data (ex6_1) ------------------------------------------------

GRAPH_OPS = ("input", "add", "mul", "exp", "sin", "tanh")
"""The operations a node of a graph may have: ``"input"`` (no parents), ``"add"`` and
``"mul"`` (two parents, possibly the same node twice), ``"exp"``, ``"sin"`` and ``"tanh"``
(one parent)."""


def graph_forward(nodes, inputs) -> np.ndarray:
    r"""The value of every node of a computation graph (the forward pass).

    Parameters
    ----------
    nodes : list of (str, tuple of int)
        ``(op, parents)`` for each node, in topological order (every parent comes before
        its child); ``op`` is one of :data:`GRAPH_OPS`.
    inputs : sequence of float
        The values of the ``"input"`` nodes, in their order in ``nodes``.

    Returns
    -------
    ndarray, shape (len(nodes),)
        ``values[i]`` is the value of node ``i``.

    Examples
    --------
    >>> graph_forward([("input", ()), ("mul", (0, 0)), ("add", (1, 0))], [3.0])
    array([ 3.,  9., 12.])
    """
    values = np.zeros(len(nodes))
    inputs = iter(inputs)
    for i, (op, parents) in enumerate(nodes):
        p = [values[j] for j in parents]
        if op == "input":
            values[i] = next(inputs)
        elif op == "add":
            values[i] = p[0] + p[1]
        elif op == "mul":
            values[i] = p[0] * p[1]
        elif op in ("exp", "sin", "tanh"):
            values[i] = getattr(np, op)(p[0])
        else:
            raise ValueError(f"unknown op {op!r}; expected one of {GRAPH_OPS}")
    return values


def _local_derivatives(op, parent_values, value) -> list[float]:
    """:math:`\\partial v/\\partial p` for each parent ``p`` of a node ``v = op(parents)``."""
    if op == "add":
        return [1.0, 1.0]
    if op == "mul":
        return [parent_values[1], parent_values[0]]
    if op == "exp":
        return [value]
    if op == "sin":
        return [np.cos(parent_values[0])]
    if op == "tanh":
        return [1.0 - value * value]
    return []


def graph_adjoints(nodes, values):
    r"""Reverse mode on a computation graph: :math:`\partial y/\partial v` for every node.

    The output :math:`y` is the **last** node. Its adjoint is 1; then, visiting the nodes
    in *reverse* topological order, each node passes its adjoint times the local
    derivative to each parent, and a parent **adds up** what it receives:

    .. math:: \bar y = 1, \qquad
              \bar v = \sum_{s:\ v \in \operatorname{parents}(s)} \bar s\,\frac{\partial s}{\partial v} .

    A node used twice (two children, or ``("mul", (a, a))``) receives one term per use,
    which is the sum over its paths to the output. Local derivatives:
    ``add`` :math:`(1, 1)`; ``mul`` :math:`(b, a)` for :math:`a b`; ``exp``
    :math:`e^a` (the node's own value); ``sin`` :math:`\cos a`; ``tanh``
    :math:`1 - \tanh^2 a`.

    Parameters
    ----------
    nodes : list of (str, tuple of int)
        ``(op, parents)`` in topological order, ``op`` in :data:`GRAPH_OPS`.
    values : ndarray, shape (len(nodes),)
        Every node's value from the forward pass (:func:`graph_forward`).

    Returns
    -------
    ndarray, shape (len(nodes),)
        ``adjoints[i]`` :math:`= \partial y/\partial v_i` (0 for a node the output does
        not depend on).

    Examples
    --------
    >>> nodes = [("input", ()), ("mul", (0, 0)), ("add", (1, 0))]     # y = x² + x
    >>> graph_adjoints(nodes, graph_forward(nodes, [3.0]))           # dy/dx = 2x + 1
    array([7., 1., 1.])
    """
    values = np.asarray(values, dtype=float)
    adjoints = np.zeros(len(nodes))
    adjoints[-1] = 1.0
    for i in range(len(nodes) - 1, -1, -1):
        op, parents = nodes[i]
        local = _local_derivatives(op, [values[j] for j in parents], values[i])
        for j, d in zip(parents, local):
            adjoints[j] += adjoints[i] * d
    return adjoints


# --- gradient checking (ex6_2) ----------------------------------------------------------------

def numerical_gradient(f, x, h=1e-5):
    r"""The gradient of ``f`` at ``x`` by central differences, one entry at a time.

    .. math:: \frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h} .

    The truncation error is :math:`O(h^2)` (one-sided differences: :math:`O(h)`), the
    round-off error about :math:`\epsilon_{\text{mach}} |f| / h`; :math:`h = 10^{-5}` balances
    the two in float64.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for an array ``x`` of the shape of ``x``.
    x : ndarray, any shape
        The point; it is **not** modified (the function works on a copy).
    h : float
        The step.

    Returns
    -------
    ndarray, same shape as ``x``

    Examples
    --------
    >>> numerical_gradient(lambda v: float(np.sum(v ** 3)), np.array([1.0, 2.0])).round(6)
    array([ 3., 12.])
    """
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = float(f(x))
        x[i] = old - h
        f_minus = float(f(x))
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(a, b) -> float:
    r"""The largest entry-wise relative error between two gradients.

    .. math:: \max_i \frac{|a_i - b_i|}{\max(10^{-8},\ |a_i| + |b_i|)}

    This is the ``rel_error`` helper of the CS231n assignments. The CS231n notes on
    gradient checks divide by :math:`\max(|a_i|, |b_i|)` instead; for close values that is
    twice this ratio, a factor the coarse thresholds below do not resolve. In float64,
    with central differences and :math:`h \approx 10^{-5}`, as the notes grade it:
    :math:`10^{-7}` or less means the gradient is right; up to :math:`10^{-4}` is
    acceptable only when a kink (ReLU, max) lies within :math:`h` of the point; between
    :math:`10^{-4}` and :math:`10^{-2}` is suspicious; above :math:`10^{-2}` the gradient
    is almost certainly wrong.

    Parameters
    ----------
    a, b : array_like, same shape

    Returns
    -------
    float

    Examples
    --------
    >>> round(relative_error([1.0, 0.0], [1.0001, 0.0]), 8)      # 0 where both are 0
    5e-05
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


# --- a dense layer (ex6_3) --------------------------------------------------------------------

def linear_forward(x, W, b):
    r"""A dense (affine) layer on a batch: :math:`z = xW + b`.

    Parameters
    ----------
    x : ndarray, shape (n, d_in)
        One sample per row.
    W : ndarray, shape (d_in, d_out)
    b : ndarray, shape (d_out,)

    Returns
    -------
    ndarray, shape (n, d_out)
    """
    return np.asarray(x, dtype=float) @ np.asarray(W, dtype=float) + np.asarray(b, dtype=float)


def linear_backward(dout, x, W):
    r"""The backward pass of :func:`linear_forward`, given :math:`\bar z = \partial J/\partial z`.

    .. math:: \bar x = \bar z\, W^\top, \qquad \bar W = x^\top \bar z, \qquad
              \bar b = \textstyle\sum_{i} \bar z_{i\cdot} \ \text{(a sum over the batch's rows)}

    Every gradient has the shape of what it differentiates. The batch sum is right
    because the loss's own :math:`1/n` is already in ``dout``.

    Parameters
    ----------
    dout : ndarray, shape (n, d_out)
        The upstream gradient :math:`\bar z`.
    x : ndarray, shape (n, d_in)
        The layer's input in the forward pass.
    W : ndarray, shape (d_in, d_out)

    Returns
    -------
    dx : ndarray, shape (n, d_in)
    dW : ndarray, shape (d_in, d_out)
    db : ndarray, shape (d_out,)
    """
    dout, x, W = (np.asarray(a, dtype=float) for a in (dout, x, W))
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


# --- activations (ex6_4) ----------------------------------------------------------------------

def relu(z):
    r""":math:`\max(z, 0)`, element-wise."""
    return np.maximum(np.asarray(z, dtype=float), 0.0)


def relu_backward(dout, z):
    r"""Backward pass of ReLU: :math:`\bar z = \bar a \odot [z > 0]`.

    At the kink :math:`z = 0` the derivative is taken to be 0 (as in PyTorch).

    Parameters
    ----------
    dout : ndarray
        The upstream gradient :math:`\bar a`, with :math:`a = \max(z, 0)`.
    z : ndarray, same shape
        The pre-activation.

    Returns
    -------
    ndarray, same shape
    """
    return np.asarray(dout, dtype=float) * (np.asarray(z, dtype=float) > 0)


def sigmoid_backward(dout, z):
    r"""Backward pass of the logistic function: :math:`\bar z = \bar a \odot \sigma(z)(1 - \sigma(z))`.

    Parameters
    ----------
    dout : ndarray
        The upstream gradient :math:`\bar a`, with :math:`a = \sigma(z)`.
    z : ndarray, same shape
        The **pre-activation** (not :math:`\sigma(z)`).

    Returns
    -------
    ndarray, same shape
    """
    s = sigmoid(z)
    return np.asarray(dout, dtype=float) * s * (1.0 - s)


def tanh_backward(dout, z):
    r"""Backward pass of tanh: :math:`\bar z = \bar a \odot (1 - \tanh^2 z)`.

    Parameters
    ----------
    dout : ndarray
        The upstream gradient :math:`\bar a`, with :math:`a = \tanh z`.
    z : ndarray, same shape
        The **pre-activation**.

    Returns
    -------
    ndarray, same shape
    """
    t = np.tanh(np.asarray(z, dtype=float))
    return np.asarray(dout, dtype=float) * (1.0 - t * t)


ACTIVATIONS = ("relu", "tanh", "sigmoid")
"""The activations an MLP of this chapter may use (``activation=...``)."""


def _check_activation(name) -> None:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")


# --- a multi-layer perceptron (ex6_5) ---------------------------------------------------------

def mlp_init(layer_sizes, rng, *, activation="relu"):
    r"""Random weights and zero biases for an MLP with the given layer sizes.

    Layer :math:`l` maps :math:`d_{l-1}` to :math:`d_l` features; its weights are drawn as
    ``rng.normal(0.0, std, size=(d_in, d_out))``, one layer after the other, with

    .. math:: \text{He (ReLU):}\ \ \mathrm{std} = \sqrt{2/d_{\text{in}}}, \qquad
              \text{Xavier/Glorot (tanh, sigmoid):}\ \ \mathrm{std} = \sqrt{2/(d_{\text{in}} + d_{\text{out}})},

    which keep the size of the activations (He) or a compromise between the activations
    and the gradients (Xavier) about constant from layer to layer.

    Parameters
    ----------
    layer_sizes : sequence of int
        :math:`(d_0, d_1, \dots, d_L)`: the input size, the hidden sizes, the output size.
    rng : numpy.random.Generator
        Exactly one ``rng.normal`` call per layer, in order.
    activation : {"relu", "tanh", "sigmoid"}

    Returns
    -------
    list of (W, b)
        ``W`` of shape ``(d_{l-1}, d_l)`` and ``b = zeros(d_l)`` for each layer.
    """
    _check_activation(activation)
    params = []
    for d_in, d_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        var = 2.0 / d_in if activation == "relu" else 2.0 / (d_in + d_out)
        params.append((rng.normal(0.0, np.sqrt(var), size=(d_in, d_out)), np.zeros(d_out)))
    return params


def mlp_forward(params, X, *, activation="relu"):
    r"""The forward pass of an MLP: dense layers with ``activation`` between them.

    .. math:: a^0 = X, \qquad z^l = a^{l-1} W^l + b^l, \qquad a^l = \varphi(z^l)\ (l < L),
              \qquad \text{logits} = z^L

    (no activation after the last layer).

    Parameters
    ----------
    params : list of (W, b)
    X : ndarray, shape (n, d_0)
    activation : {"relu", "tanh", "sigmoid"}

    Returns
    -------
    logits : ndarray, shape (n, d_L)
    cache : list of (ndarray, ndarray)
        ``(a^{l-1}, z^l)`` for each layer: what the backward pass needs.
    """
    _check_activation(activation)
    phi = {"relu": relu, "tanh": np.tanh, "sigmoid": sigmoid}[activation]
    a, cache = np.asarray(X, dtype=float), []
    for l, (W, b) in enumerate(params):
        z = linear_forward(a, W, b)
        cache.append((a, z))
        a = phi(z) if l < len(params) - 1 else z
    return a, cache


def mlp_loss_and_grads(params, X, labels, *, activation="relu", weight_decay=0.0):
    r"""The loss of an MLP classifier and its gradient with respect to every parameter.

    .. math:: J = \frac1n\sum_{i=1}^n \ell_{\text{CE}}(z^L_i, y_i)
                  + \frac\lambda2 \sum_l \lVert W^l\rVert_F^2 \quad\text{(biases not penalised)}

    Backwards from :math:`\bar z^L = (\operatorname{softmax}(z^L) - Y)/n`, for
    :math:`l = L, \dots, 1`:

    .. math:: \bar W^l = (a^{l-1})^\top \bar z^l + \lambda W^l, \qquad
              \bar b^l = \textstyle\sum_i \bar z^l_{i\cdot}, \qquad
              \bar z^{l-1} = (\bar z^l (W^l)^\top) \odot \varphi'(z^{l-1}) .

    Parameters
    ----------
    params : list of (W, b)
    X : ndarray, shape (n, d_0)
    labels : ndarray of int, shape (n,)
    activation : {"relu", "tanh", "sigmoid"}
    weight_decay : float
        :math:`\lambda`.

    Returns
    -------
    loss : float
    grads : list of (dW, db)
        The same structure and shapes as ``params``.
    """
    _check_activation(activation)
    phi_backward = {"relu": relu_backward, "tanh": tanh_backward, "sigmoid": sigmoid_backward}[activation]
    logits, cache = mlp_forward(params, X, activation=activation)
    loss = softmax_cross_entropy(logits, labels)
    loss += 0.5 * weight_decay * sum(float(np.sum(W * W)) for W, _ in params)
    dz = softmax_cross_entropy_grad(logits, labels)
    grads = [None] * len(params)
    for l in range(len(params) - 1, -1, -1):
        a_prev, _ = cache[l]
        W = params[l][0]
        da_prev, dW, db = linear_backward(dz, a_prev, W)
        grads[l] = (dW + weight_decay * W, db)
        if l > 0:
            dz = phi_backward(da_prev, cache[l - 1][1])
    return loss, grads


# --- source article 001's model (ex6_6) -------------------------------------------------------

def sigmoid_net_loss(X, y, theta1, theta2) -> float:
    r"""Source article 001's loss with its shapes repaired: :math:`J = \frac1{2n}\sum_i(\hat y_i - y_i)^2`.

    With :math:`z = X\theta_1` (shape ``(n, 1)``) and :math:`\hat y = \sigma(z\,\theta_2)`.
    ``y`` may have shape ``(n,)`` or ``(n, 1)``.
    """
    y = np.asarray(y, dtype=float).reshape(-1, 1)
    y_hat = sigmoid(np.asarray(X, dtype=float) @ theta1 @ theta2)
    return float(np.sum((y_hat - y) ** 2) / (2 * len(y)))


def sigmoid_net_grads(X, y, theta1, theta2):
    r"""The gradient of source article 001's model, :math:`\hat y = \sigma((X\theta_1)\theta_2)`.

    With :math:`z = X\theta_1` (``(n, 1)``), :math:`\hat y = \sigma(z\theta_2)` and
    :math:`J = \frac1{2n}\sum_i(\hat y_i - y_i)^2`, let

    .. math:: \delta = \frac1n (\hat y - y) \odot \hat y \odot (1 - \hat y)
              \quad (= \partial J/\partial(z\theta_2)); \qquad
              \frac{\partial J}{\partial\theta_2} = z^\top\delta, \qquad
              \frac{\partial J}{\partial\theta_1} = X^\top(\delta\,\theta_2^\top) .

    The article's ``backward`` drops :math:`\hat y(1-\hat y)`, :math:`z`, :math:`\theta_2`
    and the :math:`1/n` (errata 001-7).

    Parameters
    ----------
    X : ndarray, shape (n, d)
    y : ndarray, shape (n,) or (n, 1)
    theta1 : ndarray, shape (d, 1)
    theta2 : ndarray, shape (1, 1)

    Returns
    -------
    d_theta1 : ndarray, shape (d, 1)
    d_theta2 : ndarray, shape (1, 1)
    """
    X, theta1, theta2 = (np.asarray(a, dtype=float) for a in (X, theta1, theta2))
    y = np.asarray(y, dtype=float).reshape(-1, 1)
    z = X @ theta1
    y_hat = sigmoid(z @ theta2)
    delta = (y_hat - y) * y_hat * (1.0 - y_hat) / len(y)
    return X.T @ (delta @ theta2.T), z.T @ delta


# --- training on data (not exercises) ---------------------------------------------------------

class TrainingHistory(NamedTuple):
    """What :func:`train_mlp` records after every epoch.

    Attributes
    ----------
    train_loss : ndarray, shape (epochs,)
        The mean training loss over the epoch's mini-batches.
    train_accuracy, test_accuracy : ndarray, shape (epochs,)
        Accuracies at the end of each epoch.
    """

    train_loss: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray


def accuracy(params, X, labels, *, activation="relu") -> float:
    """The fraction of samples whose largest logit is their label."""
    logits, _ = mlp_forward(params, X, activation=activation)
    return float(np.mean(np.argmax(logits, axis=1) == np.asarray(labels)))


def mlp_adam_step(params, grads, states, *, lr):
    r"""One step of Adam (:func:`solutions.adaptive.adam_update`) on every array of an MLP.

    Parameters
    ----------
    params, grads : list of (W, b)
        The parameters and their gradients, layer by layer.
    states : list of (AdamState, AdamState)
        One Adam state per array: ``[(adam_init(W), adam_init(b)) for W, b in params]`` at the start.
    lr : float

    Returns
    -------
    params : list of (W, b)
    states : list of (AdamState, AdamState)
    """
    new_params, new_states = [], []
    for (W, b), (dW, db), (sW, sb) in zip(params, grads, states):
        W, sW = adam_update(W, dW, sW, lr=lr)
        b, sb = adam_update(b, db, sb, lr=lr)
        new_params.append((W, b))
        new_states.append((sW, sb))
    return new_params, new_states


def train_mlp(params, X, labels, *, epochs, batch_size, lr, rng, activation="relu", weight_decay=0.0,
              X_test=None, labels_test=None, loss_and_grads=None):
    r"""Train an MLP with mini-batches (chapter 3) and Adam (chapter 5), one Adam state per array.

    Every epoch draws :func:`solutions.sgd.minibatch_indices` from ``rng`` and takes one
    :func:`solutions.adaptive.adam_update` per batch on every ``W`` and ``b`` with the
    gradients of ``loss_and_grads``.

    Parameters
    ----------
    params : list of (W, b)
        The starting parameters (not modified).
    X, labels : ndarray
        The training samples, one per row, and their integer class labels.
    epochs, batch_size : int
        The number of passes over the data and the size of a mini-batch.
    lr : float
        Adam's learning rate :math:`\eta` (its other hyperparameters at their defaults).
    rng : numpy.random.Generator
        Draws the mini-batches.
    activation : str
        The hidden activation, as in :func:`mlp_forward`.
    weight_decay : float
        :math:`\lambda` of the penalty :math:`\tfrac\lambda2\sum_l\lVert W^l\rVert^2` in the loss.
    X_test, labels_test : ndarray, optional
        A test set whose accuracy is recorded after every epoch.
    loss_and_grads : callable, optional
        ``loss_and_grads(params, X, labels, activation=..., weight_decay=...) -> (loss, grads)``,
        with the signature of :func:`mlp_loss_and_grads`, which is the default. The lesson
        passes the student's own function here.

    Returns
    -------
    params : list of (W, b)
        The trained parameters (new arrays).
    history : TrainingHistory
    """
    loss_and_grads = loss_and_grads or mlp_loss_and_grads
    states = [(adam_init(W), adam_init(b)) for W, b in params]
    losses, train_acc, test_acc = [], [], []
    for _ in range(epochs):
        batch_losses = []
        for idx in minibatch_indices(len(labels), batch_size, rng):
            loss, grads = loss_and_grads(params, X[idx], labels[idx], activation=activation,
                                         weight_decay=weight_decay)
            batch_losses.append(loss)
            params, states = mlp_adam_step(params, grads, states, lr=lr)
        losses.append(np.mean(batch_losses))
        train_acc.append(accuracy(params, X, labels, activation=activation))
        if X_test is not None:
            test_acc.append(accuracy(params, X_test, labels_test, activation=activation))
    return params, TrainingHistory(np.array(losses), np.array(train_acc), np.array(test_acc))


# --- questions (answers written as literals; see autograder/engine/questions.py) ---------------------

#: The layer sizes of question ``ex6_8``: the digits network, 64 pixels, 64 hidden units, 10 classes.
PARAMETER_COUNT_LAYERS = (64, 64, 10)


def mlp_parameter_count_answer() -> int:
    r"""``ex6_8``: the number of trainable parameters of the MLP with layer sizes 64–64–10.

    Layer :math:`l` has a :math:`d_{l-1}\times d_l` weight matrix and :math:`d_l` biases:
    :math:`(64\cdot64 + 64) + (64\cdot10 + 10) = 4160 + 650 = 4810`. Counted here from
    :func:`mlp_init`.
    """
    params = mlp_init(PARAMETER_COUNT_LAYERS, np.random.default_rng(0))
    return int(sum(W.size + b.size for W, b in params))


#: The setting of question ``ex6_7``: a batch of ``n`` rows through a dense layer ``d_in`` → ``d_out``.
BACKWARD_FLOPS_SETTING = {"n": 32, "d_in": 64, "d_out": 10}


def linear_backward_flops_answer() -> int:
    r"""``ex6_7``: the floating-point operations of :func:`linear_backward` for ``x̄`` and ``W̄``.

    Each of the two products :math:`\bar x = \bar z W^\top` (:math:`n\times d_{\text{out}}` by
    :math:`d_{\text{out}}\times d_{\text{in}}`) and :math:`\bar W = x^\top\bar z`
    (:math:`d_{\text{in}}\times n` by :math:`n\times d_{\text{out}}`) takes
    :math:`n\,d_{\text{in}}\,d_{\text{out}}` multiplications and as many additions (up to
    :math:`n d_{\text{in}} + d_{\text{in}} d_{\text{out}}` fewer), counted as
    :math:`2 n d_{\text{in}} d_{\text{out}}`: in all :math:`4 \cdot 32 \cdot 64 \cdot 10 = 81920`,
    twice the forward product.
    """
    s = BACKWARD_FLOPS_SETTING
    products = 2                              # x̄ = z̄ Wᵀ and W̄ = xᵀ z̄, each the size of the forward product
    return products * 2 * s["n"] * s["d_in"] * s["d_out"]
