"""Correct implementations of chapter 8's exercises, written differently from the reference.

Each must earn full marks at every seed (tests/grader/test_equivalence.py): a patience counter
written as "epochs since the best", loops over features, the variance as E[x²] - μ²,
the backward pass through the computation graph's intermediate adjoints (the textbook's
staged form) or through torch's autograd, dropout by ``np.where`` and with a float mask,
the search as ``low * (high / low) ** u``.
"""
import numpy as np


# --- ex8_1 early_stopping ---------------------------------------------------------------------

def early_stopping_since_best(val_losses, *, patience):
    """Track the epoch of the best loss and stop when the current epoch is `patience` after it."""
    best_epoch = 0
    for t in range(1, len(val_losses)):
        if val_losses[t] < val_losses[best_epoch]:
            best_epoch = t
        elif t - best_epoch == patience:
            return best_epoch, t
    return best_epoch, len(val_losses) - 1


def early_stopping_running_min(val_losses, *, patience):
    """The running minimum by numpy, then the first epoch whose best is `patience` epochs old."""
    v = np.asarray(val_losses, dtype=float)
    running = np.minimum.accumulate(v)
    best_epochs = np.array([int(np.flatnonzero(v[:t + 1] == running[t])[0]) for t in range(len(v))])
    late = np.flatnonzero(np.arange(len(v)) - best_epochs >= patience)
    stop = int(late[0]) if late.size else len(v) - 1
    return int(best_epochs[stop]), stop


# --- ex8_2 batchnorm_forward, batchnorm_backward ----------------------------------------------------

def batchnorm_forward_moments(x, gamma, beta, *, eps=1e-5):
    """The variance as E[x²] - μ², and the scale folded into one multiplier."""
    x = np.asarray(x, dtype=float)
    mu = np.mean(x, axis=0)
    var = np.mean(x * x, axis=0) - mu * mu
    scale = gamma / np.sqrt(var + eps)
    return x * scale + (beta - mu * scale)


def batchnorm_forward_loops(x, gamma, beta, *, eps=1e-5):
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    n, d = x.shape
    for j in range(d):
        col = [float(v) for v in x[:, j]]
        mu = sum(col) / n
        var = sum((v - mu) ** 2 for v in col) / n
        for i in range(n):
            out[i, j] = gamma[j] * (col[i] - mu) / (var + eps) ** 0.5 + beta[j]
    return out


def batchnorm_backward_staged(dout, x, gamma, *, eps=1e-5):
    """The staged backward pass of the computation graph: x̂, then σ², then μ, then x."""
    x, dout = np.asarray(x, dtype=float), np.asarray(dout, dtype=float)
    n = x.shape[0]
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc ** 2).mean(axis=0)
    std = np.sqrt(var + eps)
    x_hat = xc / std
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * xc, axis=0) * -0.5 * std ** -3
    dmu = -np.sum(dx_hat, axis=0) / std + dvar * -2.0 * xc.mean(axis=0)
    dx = dx_hat / std + dvar * 2.0 * xc / n + dmu / n
    return dx, np.sum(dout * x_hat, axis=0), np.sum(dout, axis=0)


def batchnorm_backward_torch(dout, x, gamma, *, eps=1e-5):
    import torch                                  # here, so that the other variants need no torch
    tx = torch.tensor(np.asarray(x, dtype=float), requires_grad=True)
    tg = torch.tensor(np.asarray(gamma, dtype=float), requires_grad=True)
    tb = torch.zeros(tg.shape, dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.batch_norm(tx, None, None, weight=tg, bias=tb, training=True, eps=eps)
    y.backward(torch.tensor(np.asarray(dout, dtype=float)))
    return tx.grad.numpy(), tg.grad.numpy(), tb.grad.numpy()


# --- ex8_3 dropout_forward, dropout_backward ----------------------------------------------------------

def dropout_forward_where(x, *, p, rng, training=True):
    x = np.array(x, dtype=float)
    if not training:
        return x, np.full(x.shape, True)
    keep = rng.random(size=x.shape) >= p
    return np.where(keep, x / (1.0 - p), 0.0), keep


def dropout_forward_float_mask(x, *, p, rng, training=True):
    x = np.asarray(x, dtype=float)
    if not training:
        return np.copy(x), np.ones_like(x, dtype=bool)
    scale = 1.0 / (1.0 - p)
    m = (rng.random(x.shape) >= p).astype(float)
    return x * (m * scale), m.astype(bool)


def dropout_backward_where(dout, mask, *, p):
    return np.where(np.asarray(mask, dtype=bool), np.asarray(dout, dtype=float) / (1.0 - p), 0.0)


def dropout_backward_torch(dout, mask, *, p):
    import torch
    t = torch.tensor(np.asarray(dout, dtype=float)) * torch.tensor(np.asarray(mask, dtype=bool))
    return (t / (1 - p)).numpy()


# --- ex8_4 log_uniform_search ---------------------------------------------------------------------

def log_uniform_search_ratio(low, high, n, rng):
    """low * (high / low) ** u with u uniform on [0, 1): the same draws, another formula."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    return low * (high / low) ** rng.random((n, low.size))


def log_uniform_search_natural(low, high, n, rng):
    """Exponents in natural logarithms, configurations built row by row from one draw."""
    lo, hi = np.log(np.asarray(low, dtype=float)), np.log(np.asarray(high, dtype=float))
    u = rng.uniform(np.log10(low), np.log10(high), size=(n, len(low)))
    t = (u - np.log10(low)) / (np.log10(high) - np.log10(low))       # back to [0, 1)
    return np.array([[float(np.exp(lo[j] + t[i, j] * (hi[j] - lo[j]))) for j in range(len(low))] for i in range(n)])


VARIANTS = {
    "ex8_1": [{"early_stopping": early_stopping_since_best}, {"early_stopping": early_stopping_running_min}],
    "ex8_2": [{"batchnorm_forward": batchnorm_forward_moments, "batchnorm_backward": batchnorm_backward_staged},
              {"batchnorm_forward": batchnorm_forward_loops, "batchnorm_backward": batchnorm_backward_torch}],
    "ex8_3": [{"dropout_forward": dropout_forward_where, "dropout_backward": dropout_backward_where},
              {"dropout_forward": dropout_forward_float_mask, "dropout_backward": dropout_backward_torch}],
    "ex8_4": [{"log_uniform_search": log_uniform_search_ratio}, {"log_uniform_search": log_uniform_search_natural}],
}
