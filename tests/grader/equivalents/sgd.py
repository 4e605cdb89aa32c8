"""Correct implementations of chapter 3's exercises, written differently from solutions/sgd.py.

Shuffling follows the exercise text: one ``rng.permutation(n)`` per epoch (``rng.shuffle`` of
``arange(n)`` draws the same permutation). ``tests/grader/test_equivalence.py`` grades every one over
many seeds and requires full marks.
"""
import math

import numpy as np


# --- ex3_1 minibatch_indices ------------------------------------------------------------------

def minibatch_indices_shuffle(n, batch_size, rng):
    order = np.arange(n)
    rng.shuffle(order)
    return [order[i * batch_size:(i + 1) * batch_size] for i in range(math.ceil(n / batch_size))]


def minibatch_indices_while(n, batch_size, rng):
    perm = rng.permutation(n)
    batches, start = [], 0
    while start < n:
        batches.append(perm[start:min(start + batch_size, n)])
        start += batch_size
    return batches


# --- ex3_2 sgd_epoch --------------------------------------------------------------------------

def sgd_epoch_per_sample(params, X, y, *, lr, batch_size, rng):
    """The batch gradient accumulated sample by sample (a student's loops)."""
    theta = np.array(params, dtype=float)
    perm = rng.permutation(len(y))
    for start in range(0, len(y), batch_size):
        idx = perm[start:start + batch_size]
        grad = np.zeros_like(theta)
        for i in idx:
            grad += (X[i] @ theta - y[i]) * X[i]
        theta = theta - lr * 2 * grad / len(idx)
    return theta


def sgd_epoch_transposed(params, X, y, *, lr, batch_size, rng):
    theta = np.asarray(params, dtype=float).copy()
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    order = np.arange(len(y))
    rng.shuffle(order)
    for Xb, yb in ((X[order[s:s + batch_size]], y[order[s:s + batch_size]]) for s in range(0, len(y), batch_size)):
        theta -= (2.0 * lr / len(yb)) * (Xb.T @ (Xb @ theta - yb))
    return theta


def sgd_epoch_mean_of_rows(params, X, y, *, lr, batch_size, rng):
    theta = np.array(params, dtype=float)
    perm = rng.permutation(len(y))
    for idx in np.split(perm, range(batch_size, len(y), batch_size)):
        residual = X[idx] @ theta - y[idx]
        theta = theta + (-lr) * np.mean(2.0 * residual[:, None] * X[idx], axis=0)
    return theta


# --- ex3_3 clip_by_global_norm ----------------------------------------------------------------

def clip_hypot(grads, max_norm):
    """math.hypot of every entry (exact scaling inside, no overflow), then the factor."""
    arrays = [np.asarray(g, dtype=float) for g in grads] if isinstance(grads, (list, tuple)) \
        else [np.asarray(grads, dtype=float)]
    norm = math.hypot(*np.concatenate([a.ravel() for a in arrays]).tolist())
    clipped = [a / norm * max_norm if norm > max_norm else a.copy() for a in arrays]
    if isinstance(grads, list):
        return clipped
    return tuple(clipped) if isinstance(grads, tuple) else clipped[0]


def clip_norm_of_norms(grads, max_norm):
    """torch's clip_grad_norm_ (the norm of the per-array norms), without its epsilon, overflow-safe."""
    many = isinstance(grads, (list, tuple))
    arrays = [np.asarray(g, dtype=float) for g in (grads if many else [grads])]
    norms = []
    for a in arrays:
        s = np.abs(a).max() if a.size else 0.0
        norms.append(s * np.linalg.norm(a / s) if s > 0 else 0.0)
    big = max(norms, default=0.0)
    total = big * np.linalg.norm(np.array(norms) / big) if big > 0 else 0.0
    coef = min(max_norm / total, 1.0) if total > 0 else 1.0
    out = [a * coef for a in arrays]
    return (tuple(out) if isinstance(grads, tuple) else out) if many else out[0]


# --- ex3_4 step_decay -------------------------------------------------------------------------

def step_decay_floor(step, *, lr0, drop=0.5, every=10):
    return lr0 * math.pow(drop, math.floor(step / every))


def step_decay_loop(step, *, lr0, drop=0.5, every=10):
    lr = lr0
    for _ in range(step // every):
        lr *= drop
    return lr


# --- ex3_5 inverse_time_decay -----------------------------------------------------------------

def inverse_time_decay_reciprocal(step, *, lr0, k):
    return lr0 * (1.0 / (1.0 + k * step))


def inverse_time_decay_keras(step, *, lr0, k):     # Keras' InverseTimeDecay with decay_steps = 1
    return lr0 / (1 + k * step / 1.0)


# --- ex3_6 cosine_with_warmup -----------------------------------------------------------------

def cosine_squared(step, *, lr0, warmup_steps, total_steps, lr_min=0.0):
    """(1 + cos x) / 2 = cos²(x / 2)."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps * lr0
    if step >= total_steps:
        return lr_min
    x = math.pi * (step - warmup_steps) / (total_steps - warmup_steps)
    return lr_min + (lr0 - lr_min) * math.cos(x / 2) ** 2


def cosine_hugging_face(step, *, lr0, warmup_steps, total_steps, lr_min=0.0):
    """Hugging Face's get_cosine_schedule_with_warmup shape (a multiplier of lr0 - lr_min).

    With the text's rule that t >= T gives lr_min: Hugging Face's own lambda gives lr0 at
    t = T when warmup_steps == total_steps (its progress is then 0 / max(1, 0) = 0).
    """
    if step < warmup_steps:
        return lr0 * float(step + 1) / float(max(1, warmup_steps))
    if step >= total_steps:
        return lr_min
    progress = float(step - warmup_steps) / float(max(1, total_steps - warmup_steps))
    return lr_min + (lr0 - lr_min) * max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))


VARIANTS = {
    "ex3_1": [{"minibatch_indices": minibatch_indices_shuffle}, {"minibatch_indices": minibatch_indices_while}],
    "ex3_2": [{"sgd_epoch": sgd_epoch_per_sample}, {"sgd_epoch": sgd_epoch_transposed},
              {"sgd_epoch": sgd_epoch_mean_of_rows}],
    "ex3_3": [{"clip_by_global_norm": clip_hypot}, {"clip_by_global_norm": clip_norm_of_norms}],
    "ex3_4": [{"step_decay": step_decay_floor}, {"step_decay": step_decay_loop}],
    "ex3_5": [{"inverse_time_decay": inverse_time_decay_reciprocal}, {"inverse_time_decay": inverse_time_decay_keras}],
    "ex3_6": [{"cosine_with_warmup": cosine_squared}, {"cosine_with_warmup": cosine_hugging_face}],
}
