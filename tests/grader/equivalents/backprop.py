"""Correct implementations of chapter 6's exercises, written differently from the reference.

Each must earn full marks at every seed (tests/grader/test_equivalence.py): other association of
the floating-point operations, loops instead of vectorised code, einsum, a linear solve
instead of a sweep, scipy's expit, another layout of the cache.
"""
import numpy as np
from scipy.special import expit

from solutions.losses import log_softmax, softmax


# --- ex6_1 graph_adjoints --------------------------------------------------------------------

def _local(op, parents, values, i):
    p = [values[j] for j in parents]
    return {"add": lambda: [1.0, 1.0], "mul": lambda: [p[1], p[0]], "exp": lambda: [np.exp(p[0])],
            "sin": lambda: [np.cos(p[0])], "tanh": lambda: [1.0 / np.cosh(p[0]) ** 2],
            "input": lambda: []}[op]()


def graph_adjoints_pull(nodes, values):
    """Each node pulls from its children (sum over successors), children computed first."""
    n = len(nodes)
    children = [[] for _ in range(n)]
    for s, (op, parents) in enumerate(nodes):
        for j, d in zip(parents, _local(op, parents, values, s)):
            children[j].append((s, d))
    adj = [0.0] * n
    adj[n - 1] = 1.0
    for v in range(n - 2, -1, -1):
        adj[v] = sum(adj[s] * d for s, d in reversed(children[v]))
    return np.array(adj)


def graph_adjoints_solve(nodes, values):
    """The adjoint equations as one triangular linear system: (I - Lᵀ) ā = e_last."""
    n = len(nodes)
    L = np.zeros((n, n))                 # L[s, v] = ∂s/∂v (summed when v is used twice)
    for s, (op, parents) in enumerate(nodes):
        for j, d in zip(parents, _local(op, parents, values, s)):
            L[s, j] += d
    e = np.zeros(n)
    e[-1] = 1.0
    return np.linalg.solve(np.eye(n) - L.T, e)


# --- ex6_2 numerical_gradient, relative_error ---------------------------------------------------

def numerical_gradient_basis(f, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    flat = np.zeros(x.size)
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = h
        step = e.reshape(x.shape)
        flat[k] = (f(x + step) - f(x - step)) * (0.5 / h)
    return flat.reshape(x.shape)


def numerical_gradient_restore(f, x, h=1e-5):
    x = np.copy(x).astype(float)
    out = np.empty_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        keep = float(x[i])
        x[i] = keep - h
        lo = f(x)
        x[i] = keep + h
        hi = f(x)
        x[i] = keep
        out[i] = (hi - lo) / h / 2
    return out


def relative_error_loop(a, b):
    worst = 0.0
    for u, v in zip(np.ravel(a), np.ravel(b)):
        worst = max(worst, abs(u - v) / max(1e-8, abs(u) + abs(v)))
    return float(worst)


def relative_error_clip(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float((np.abs(b - a) / np.clip(np.abs(b) + np.abs(a), 1e-8, None)).max())


# --- ex6_3 linear_forward, linear_backward ---------------------------------------------------------

def linear_forward_einsum(x, W, b):
    return np.einsum("ni,io->no", x, W) + b[None, :]


def linear_backward_einsum(dout, x, W):
    return np.einsum("no,io->ni", dout, W), np.einsum("ni,no->io", x, dout), np.einsum("no->o", dout)


def linear_forward_loops(x, W, b):
    return np.array([[sum(x[i, j] * W[j, k] for j in range(W.shape[0])) + b[k] for k in range(W.shape[1])]
                     for i in range(len(x))])


def linear_backward_outer(dout, x, W):
    dW = sum(np.outer(x[i], dout[i]) for i in range(len(x)))
    db = np.zeros(dout.shape[1])
    for row in dout:
        db = db + row
    return (W @ dout.T).T, dW, db


# --- ex6_4 activations ----------------------------------------------------------------------

def relu_backward_where(dout, z):
    return np.where(z > 0, dout, 0.0)


def sigmoid_backward_exp(dout, z):
    e = np.exp(-np.abs(z))
    return dout * e / (1.0 + e) ** 2            # σ'(z) = e^{-|z|}/(1 + e^{-|z|})², symmetric


def tanh_backward_cosh(dout, z):
    return dout / np.cosh(z) ** 2


def relu_backward_heaviside(dout, z):
    return dout * np.heaviside(z, 0.0)


def sigmoid_backward_expit(dout, z):
    return dout * expit(z) * expit(-z)


def tanh_backward_exp(dout, z):
    e = np.exp(-2.0 * np.abs(z))
    return dout * 4.0 * e / (1.0 + e) ** 2


# --- ex6_5 MLP --------------------------------------------------------------------------------

_PHI = {"relu": lambda z: z * (z > 0), "tanh": np.tanh, "sigmoid": expit}
_DPHI = {"relu": relu_backward_where, "tanh": tanh_backward_cosh, "sigmoid": sigmoid_backward_expit}


def mlp_init_standard(layer_sizes, rng, *, activation="relu"):
    out = []
    for d_in, d_out in zip(layer_sizes, layer_sizes[1:]):
        fan = d_in / 2 if activation == "relu" else (d_in + d_out) / 2
        out.append((rng.standard_normal((d_in, d_out)) / np.sqrt(fan), np.zeros(d_out)))
    return out


def mlp_forward_dicts(params, X, *, activation="relu"):
    cache, a = [], np.asarray(X, float)
    for l, (W, b) in enumerate(params):
        z = np.einsum("ni,io->no", a, W) + b
        cache.append({"input": a, "pre": z})
        a = z if l == len(params) - 1 else _PHI[activation](z)
    return a, cache


def mlp_loss_and_grads_einsum(params, X, labels, *, activation="relu", weight_decay=0.0):
    logits, cache = mlp_forward_dicts(params, X, activation=activation)
    n = len(labels)
    loss = -log_softmax(logits)[np.arange(n), labels].sum() / n
    for W, _ in params:
        loss = loss + weight_decay * 0.5 * np.einsum("ij,ij->", W, W)
    onehot = np.eye(logits.shape[1])[labels]
    dz = (softmax(logits) - onehot) / n
    grads = []
    for l in reversed(range(len(params))):
        W = params[l][0]
        grads.insert(0, (np.einsum("ni,no->io", cache[l]["input"], dz) + weight_decay * W, dz.sum(0)))
        if l:
            dz = _DPHI[activation](np.einsum("no,io->ni", dz, W), cache[l - 1]["pre"])
    return float(loss), grads


def mlp_init_loop(layer_sizes, rng, *, activation="relu"):
    params = []
    for l in range(len(layer_sizes) - 1):
        d_in, d_out = layer_sizes[l], layer_sizes[l + 1]
        std = (2.0 / d_in) ** 0.5 if activation == "relu" else (2.0 / (d_in + d_out)) ** 0.5
        params.append((rng.normal(size=(d_in, d_out), scale=std), np.zeros(d_out)))
    return params


def mlp_forward_list(params, X, *, activation="relu"):
    zs, inputs = [], [np.asarray(X, float)]
    for W, b in params:
        zs.append(inputs[-1] @ W + b)
        inputs.append(_PHI[activation](zs[-1]))
    return zs[-1], (inputs[:-1], zs)


def mlp_loss_and_grads_recursive(params, X, labels, *, activation="relu", weight_decay=0.0):
    """Backward by recursion from the first layer; loss from logsumexp written out."""
    _, (inputs, zs) = mlp_forward_list(params, X, activation=activation)
    n = len(labels)
    logits = zs[-1]
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    loss = float(np.mean(lse - logits[np.arange(n), labels]))
    loss += weight_decay / 2 * sum(float((W ** 2).sum()) for W, _ in params)
    p = np.exp(logits - lse[:, None])
    p[np.arange(n), labels] -= 1

    def backward(l):
        # the adjoint of z^l, from the top
        if l == len(params) - 1:
            return p / n
        return _DPHI[activation](backward(l + 1) @ params[l + 1][0].T, zs[l])

    grads = []
    for l, (W, _) in enumerate(params):
        dz = backward(l)
        grads.append((inputs[l].T @ dz + weight_decay * W, dz.sum(axis=0)))
    return loss, grads


# --- ex6_6 sigmoid_net_grads -------------------------------------------------------------------

def sigmoid_net_grads_scalar(X, y, theta1, theta2):
    y = np.ravel(y).astype(float)
    z = (X @ theta1)[:, 0]
    w = theta2[0, 0]
    y_hat = expit(z * w)
    delta = (y_hat - y) * y_hat * (1.0 - y_hat) / y.size
    return (w * (X.T @ delta)).reshape(-1, 1), np.array([[np.dot(z, delta)]])


def sigmoid_net_grads_einsum(X, y, theta1, theta2):
    y = np.reshape(y, (-1, 1)).astype(float)
    z = np.einsum("nd,dk->nk", X, theta1)
    s = 1.0 / (1.0 + np.exp(-(z @ theta2)))
    delta = (s - y) * s * (1.0 - s) / len(y)
    return np.einsum("nd,nk,jk->dj", X, delta, theta2), np.einsum("nk,nj->kj", z, delta)


VARIANTS = {
    "ex6_1": [{"graph_adjoints": graph_adjoints_pull}, {"graph_adjoints": graph_adjoints_solve}],
    "ex6_2": [{"numerical_gradient": numerical_gradient_basis, "relative_error": relative_error_loop},
              {"numerical_gradient": numerical_gradient_restore, "relative_error": relative_error_clip}],
    "ex6_3": [{"linear_forward": linear_forward_einsum, "linear_backward": linear_backward_einsum},
              {"linear_forward": linear_forward_loops, "linear_backward": linear_backward_outer}],
    "ex6_4": [{"relu_backward": relu_backward_where, "sigmoid_backward": sigmoid_backward_exp,
               "tanh_backward": tanh_backward_cosh},
              {"relu_backward": relu_backward_heaviside, "sigmoid_backward": sigmoid_backward_expit,
               "tanh_backward": tanh_backward_exp}],
    "ex6_5": [{"mlp_init": mlp_init_standard, "mlp_forward": mlp_forward_dicts,
               "mlp_loss_and_grads": mlp_loss_and_grads_einsum},
              {"mlp_init": mlp_init_loop, "mlp_forward": mlp_forward_list,
               "mlp_loss_and_grads": mlp_loss_and_grads_recursive}],
    "ex6_6": [{"sigmoid_net_grads": sigmoid_net_grads_scalar}, {"sigmoid_net_grads": sigmoid_net_grads_einsum}],
}
