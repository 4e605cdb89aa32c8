"""Correct implementations of chapter 1's exercises, written differently from solutions/losses.py.

Each is what a student, a textbook or another library might write: another order of the
floating-point operations, loops instead of vectorised code, another stable formula.
``tests/grader/test_equivalence.py`` grades every one over many seeds and requires full marks.
"""
import math

import numpy as np


# --- ex1_1 mse_loss ---------------------------------------------------------------------------

def mse_sum_over_n(y_pred, y):
    r = np.asarray(y_pred, dtype=float) - np.asarray(y, dtype=float)
    return float(np.sum(r * r) / r.size)


def mse_loop(y_pred, y):
    total, n = 0.0, 0
    for a, b in zip(np.ravel(y_pred), np.ravel(y)):
        total += (float(a) - float(b)) ** 2
        n += 1
    return total / n


def mse_dot(y_pred, y):                      # numpy-ml / scikit-learn style: mean_squared_error
    r = (np.asarray(y, dtype=float) - np.asarray(y_pred, dtype=float)).ravel()
    return float(np.average(r**2))


# --- ex1_2 mse_loss_grad ----------------------------------------------------------------------

def mse_grad_mean_form(y_pred, y):
    y_pred = np.asarray(y_pred, dtype=float)
    return 2 * (y_pred - np.asarray(y, dtype=float)) / y_pred.size


def mse_grad_loop(y_pred, y):
    y_pred, y = np.asarray(y_pred, dtype=float), np.asarray(y, dtype=float)
    out = np.empty_like(y_pred)
    n = y_pred.size
    for i in np.ndindex(y_pred.shape):
        out[i] = (y_pred[i] - y[i]) * (2.0 / n)
    return out


def mse_grad_negated(y_pred, y):
    y_pred = np.asarray(y_pred, dtype=float)
    return -2.0 / y_pred.size * (np.asarray(y, dtype=float) - y_pred)


# --- ex1_3 huber_loss -------------------------------------------------------------------------

def huber_where(y_pred, y, delta=1.0):        # the two pieces of the textbook definition
    r = np.asarray(y_pred, dtype=float) - np.asarray(y, dtype=float)
    a = np.abs(r)
    with np.errstate(over="ignore"):
        quad = 0.5 * r**2
    return float(np.mean(np.where(a <= delta, quad, delta * (a - 0.5 * delta))))


def huber_loop(y_pred, y, delta=1.0):
    total = 0.0
    flat_p, flat_y = np.ravel(y_pred), np.ravel(y)
    for a, b in zip(flat_p, flat_y):
        r = abs(float(a) - float(b))
        total += 0.5 * r * r if r <= delta else delta * r - 0.5 * delta * delta
    return total / len(flat_p)


def huber_torch_form(y_pred, y, delta=1.0):   # torch's HuberLoss kernel: z < delta ? 0.5 z^2 : delta (z - 0.5 delta)
    z = np.abs(np.asarray(y_pred, dtype=float) - np.asarray(y, dtype=float))
    small = z < delta
    loss = np.empty_like(z)
    loss[small] = 0.5 * z[small] * z[small]
    loss[~small] = delta * (z[~small] - 0.5 * delta)
    return float(loss.sum() / loss.size)


# --- ex1_4 huber_loss_grad --------------------------------------------------------------------

def huber_grad_where(y_pred, y, delta=1.0):
    r = np.asarray(y_pred, dtype=float) - np.asarray(y, dtype=float)
    return np.where(np.abs(r) <= delta, r, delta * np.sign(r)) / r.size


def huber_grad_loop(y_pred, y, delta=1.0):
    y_pred, y = np.asarray(y_pred, dtype=float), np.asarray(y, dtype=float)
    out = np.empty_like(y_pred)
    for i in np.ndindex(y_pred.shape):
        r = y_pred[i] - y[i]
        out[i] = (r if abs(r) <= delta else math.copysign(delta, r)) * (1.0 / y_pred.size)
    return out


def huber_grad_min_max(y_pred, y, delta=1.0):
    r = np.asarray(y_pred, dtype=float) - np.asarray(y, dtype=float)
    return np.maximum(-delta, np.minimum(delta, r)) * (1 / r.size)


# --- ex1_5 softmax ----------------------------------------------------------------------------

def softmax_via_log(z, axis=-1):              # exp(z - logsumexp(z)), as scipy.special.softmax
    z = np.asarray(z, dtype=float)
    m = np.max(z, axis=axis, keepdims=True)
    with np.errstate(over="ignore"):
        lse = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
        return np.exp(z - lse)


def softmax_loop(z, axis=-1):
    z = np.moveaxis(np.asarray(z, dtype=float), axis, -1)
    out = np.empty_like(z)
    for i in np.ndindex(z.shape[:-1]):
        row = z[i]
        m = max(row)
        e = [math.exp(v - m) for v in row]
        s = math.fsum(e)
        out[i] = [v / s for v in e]
    return np.moveaxis(out, -1, axis)


def softmax_multiply_by_inverse(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e * (1.0 / e.sum(axis=axis, keepdims=True))


# --- ex1_6 softmax_cross_entropy --------------------------------------------------------------

def ce_logsumexp(logits, labels):             # logsumexp(z) - z_y, row by row
    z = np.asarray(logits, dtype=float)
    labels = np.asarray(labels)
    m = z.max(axis=1)
    lse = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(z)), labels]))


def ce_loop(logits, labels):
    z = np.asarray(logits, dtype=float)
    total = 0.0
    for row, label in zip(z, np.asarray(labels)):
        m = float(np.max(row))
        total += m + math.log(sum(math.exp(v - m) for v in row)) - row[label]
    return total / len(z)


def ce_one_hot(logits, labels):               # the one-hot form, -sum(y * log_softmax(z)) / n
    z = np.asarray(logits, dtype=float)
    labels = np.asarray(labels)
    one_hot = np.eye(z.shape[1])[labels]
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-(one_hot * log_p).sum() / len(z))


# --- ex1_7 softmax_cross_entropy_grad ---------------------------------------------------------

def ce_grad_one_hot(logits, labels):
    z = np.asarray(logits, dtype=float)
    labels = np.asarray(labels)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return (p - np.eye(z.shape[1])[labels]) / len(z)


def ce_grad_loop(logits, labels):             # CS231n's softmax_loss_naive, per sample
    z = np.asarray(logits, dtype=float)
    n = len(z)
    grad = np.zeros_like(z)
    for i, label in enumerate(np.asarray(labels)):
        row = z[i] - np.max(z[i])
        p = np.exp(row) / np.sum(np.exp(row))
        for j in range(z.shape[1]):
            grad[i, j] = (p[j] - (j == label)) / n
    return grad


# --- ex1_8 binary_cross_entropy_with_logits ---------------------------------------------------

def softplus(x):
    return np.logaddexp(0.0, x)


def bce_softplus(logits, targets):            # y softplus(-z) + (1 - y) softplus(z)
    z, y = np.asarray(logits, dtype=float), np.asarray(targets, dtype=float)
    return float(np.mean(y * softplus(-z) + (1.0 - y) * softplus(z)))


def bce_torch_form(logits, targets):          # torch: (1 - y) z + max(-z, 0) + log(exp(-max) + exp(-z - max))
    z, y = np.asarray(logits, dtype=float), np.asarray(targets, dtype=float)
    max_val = np.maximum(-z, 0.0)
    loss = (1.0 - y) * z + max_val + np.log(np.exp(-max_val) + np.exp(-z - max_val))
    return float(loss.sum() / loss.size)


def bce_loop(logits, targets):
    zs, ys = np.ravel(logits), np.ravel(targets)
    total = 0.0
    for z, y in zip(zs, ys):
        z, y = float(z), float(y)
        total += max(z, 0.0) - z * y + math.log1p(math.exp(-abs(z)))
    return total / len(zs)


# --- ex1_9 binary_cross_entropy_with_logits_grad ----------------------------------------------

def bce_grad_tanh(logits, targets):           # sigmoid(z) = (1 + tanh(z / 2)) / 2
    z, y = np.asarray(logits, dtype=float), np.asarray(targets, dtype=float)
    return (0.5 * (1.0 + np.tanh(0.5 * z)) - y) / z.size


def bce_grad_loop(logits, targets):
    z, y = np.asarray(logits, dtype=float), np.asarray(targets, dtype=float)
    out = np.empty_like(z)
    for i in np.ndindex(z.shape):
        zi = z[i]
        s = 1.0 / (1.0 + math.exp(-zi)) if zi >= 0 else math.exp(zi) / (1.0 + math.exp(zi))
        out[i] = (s - y[i]) / z.size
    return out


def bce_grad_scipy_expit(logits, targets):
    from scipy.special import expit
    z = np.asarray(logits, dtype=float)
    return (expit(z) - np.asarray(targets, dtype=float)) * (1.0 / z.size)


VARIANTS = {
    "ex1_1": [{"mse_loss": mse_sum_over_n}, {"mse_loss": mse_loop}, {"mse_loss": mse_dot}],
    "ex1_2": [{"mse_loss_grad": mse_grad_mean_form}, {"mse_loss_grad": mse_grad_loop},
              {"mse_loss_grad": mse_grad_negated}],
    "ex1_3": [{"huber_loss": huber_where}, {"huber_loss": huber_loop}, {"huber_loss": huber_torch_form}],
    "ex1_4": [{"huber_loss_grad": huber_grad_where}, {"huber_loss_grad": huber_grad_loop},
              {"huber_loss_grad": huber_grad_min_max}],
    "ex1_5": [{"softmax": softmax_via_log}, {"softmax": softmax_loop}, {"softmax": softmax_multiply_by_inverse}],
    "ex1_6": [{"softmax_cross_entropy": ce_logsumexp}, {"softmax_cross_entropy": ce_loop},
              {"softmax_cross_entropy": ce_one_hot}],
    "ex1_7": [{"softmax_cross_entropy_grad": ce_grad_one_hot}, {"softmax_cross_entropy_grad": ce_grad_loop}],
    "ex1_8": [{"binary_cross_entropy_with_logits": bce_softplus},
              {"binary_cross_entropy_with_logits": bce_torch_form},
              {"binary_cross_entropy_with_logits": bce_loop}],
    "ex1_9": [{"binary_cross_entropy_with_logits_grad": bce_grad_tanh},
              {"binary_cross_entropy_with_logits_grad": bce_grad_loop},
              {"binary_cross_entropy_with_logits_grad": bce_grad_scipy_expit}],
}
