"""Correct implementations of chapter 5's exercises, written differently from solutions/adaptive.py.

The graded convention is torch.optim's (eps outside the square root, t = steps taken). The
variants are the arrangements of other code: torch's kernels, the textbook formulas with
(1 - rho) g², optax's, Keras-free loops. ``tests/grader/test_equivalence.py`` grades every one over
many seeds and requires full marks.
"""
import math
from typing import NamedTuple

import numpy as np

from solutions.adaptive import AdagradState, AdamState, RMSpropState


class OwnAdamState(NamedTuple):
    """A student's own state class with the reference's fields."""
    t: int
    m: np.ndarray
    v: np.ndarray


def _f(x):
    return np.asarray(x, dtype=float)


# --- ex5_1 AdaGrad ----------------------------------------------------------------------------

def adagrad_torch_arrangement(params, grads, state, *, lr=1e-2, eps=1e-10):
    """torch: state_sum.addcmul_(grad, grad); std = state_sum.sqrt().add_(eps); param.addcdiv_(grad, std, value=-lr)."""
    g = _f(grads)
    total = state.sum_sq + g * g
    std = np.sqrt(total) + eps
    return _f(params) + (-lr) * (g / std), AdagradState(state.t + 1, total)


def adagrad_rate_first(params, grads, state, *, lr=1e-2, eps=1e-10):
    """the per-coordinate rate lr / (sqrt(G) + eps), then times g."""
    g = _f(grads)
    G = state.sum_sq + np.square(g)
    return _f(params) - lr / (np.sqrt(G) + eps) * g, AdagradState(state.t + 1, G)


def adagrad_loop(params, grads, state, *, lr=1e-2, eps=1e-10):
    p, g = _f(params), _f(grads)
    G, new = np.empty_like(p), np.empty_like(p)
    for i in np.ndindex(p.shape):
        G[i] = state.sum_sq[i] + g[i] ** 2
        new[i] = p[i] - lr * g[i] / (math.sqrt(G[i]) + eps)
    return new, AdagradState(state.t + 1, G)


# --- ex5_2 RMSprop ----------------------------------------------------------------------------

def rmsprop_torch_arrangement(params, grads, state, *, lr=1e-2, rho=0.99, eps=1e-8):
    """torch: square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha); avg = sqrt + eps;
    param.addcdiv_(grad, avg, value=-lr), that is p + (-lr) (g / avg)."""
    g = _f(grads)
    s = state.sq_avg * rho + g * g * (1 - rho)
    avg = np.sqrt(s) + eps
    return _f(params) + (-lr) * (g / avg), RMSpropState(state.t + 1, s)


def rmsprop_textbook(params, grads, state, *, lr=1e-2, rho=0.99, eps=1e-8):
    """s = rho s + (1 - rho) g², params - lr g / (sqrt(s) + eps), with g**2."""
    g = _f(grads)
    s = rho * state.sq_avg + (1 - rho) * g**2
    return params - lr * g / (np.sqrt(s) + eps), RMSpropState(state.t + 1, s)


def rmsprop_lr_times_ratio(params, grads, state, *, lr=1e-2, rho=0.99, eps=1e-8):
    """lr (g / (sqrt(s) + eps)), and the average written as s + (1 - rho)(g² - s)."""
    g = _f(grads)
    s = state.sq_avg + (1 - rho) * (np.square(g) - state.sq_avg)
    return _f(params) - lr * (g / (np.sqrt(s) + eps)), RMSpropState(state.t + 1, s)


def rmsprop_loop(params, grads, state, *, lr=1e-2, rho=0.99, eps=1e-8):
    p, g = _f(params), _f(grads)
    s, new = np.empty_like(p), np.empty_like(p)
    for i in np.ndindex(p.shape):
        s[i] = rho * state.sq_avg[i] + (1 - rho) * g[i] * g[i]
        new[i] = p[i] - lr * g[i] / (math.sqrt(s[i]) + eps)
    return new, RMSpropState(state.t + 1, s)


# --- ex5_3 Adam -------------------------------------------------------------------------------

def adam_init_own_state(params):
    return OwnAdamState(0, np.zeros(np.shape(params)), np.zeros(np.shape(params)))


def adam_torch_arrangement(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """torch's single-tensor kernel: step_size = lr / bc1; denom = sqrt(v) / sqrt(bc2) + eps;
    param.addcdiv_(exp_avg, denom, value=-step_size)."""
    g = _f(grads)
    t = state.t + 1
    m = state.m * beta1 + g * (1 - beta1)            # exp_avg.lerp_(grad, 1 - beta1)
    v = state.v * beta2 + g * g * (1 - beta2)
    bc1, bc2 = 1 - beta1**t, 1 - beta2**t
    denom = np.sqrt(v) / math.sqrt(bc2) + eps
    return _f(params) + (-(lr / bc1)) * (m / denom), AdamState(t, m, v)


def adam_textbook(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Kingma & Ba's Algorithm 1 line by line, in a student's own state class."""
    g = _f(grads)
    t = state.t + 1
    m = beta1 * state.m + (1 - beta1) * g
    v = beta2 * state.v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), OwnAdamState(t, m, v)


def adam_optax(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """optax.scale_by_adam then scale(-lr): mu_hat / (sqrt(nu_hat + eps_root) + eps), eps_root = 0."""
    g = _f(grads)
    mu = (1 - beta1) * g + beta1 * state.m
    nu = (1 - beta2) * (g**2) + beta2 * state.v
    count = state.t + 1
    mu_hat = mu / (1 - beta1**count)
    nu_hat = nu / (1 - beta2**count)
    updates = -lr * (mu_hat / (np.sqrt(nu_hat + 0.0) + eps))
    return _f(params) + updates, AdamState(count, mu, nu)


def adam_loop(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    p, g = _f(params), _f(grads)
    t = state.t + 1
    m, v, new = np.empty_like(p), np.empty_like(p), np.empty_like(p)
    for i in np.ndindex(p.shape):
        m[i] = beta1 * state.m[i] + (1 - beta1) * g[i]
        v[i] = beta2 * state.v[i] + (1 - beta2) * g[i] * g[i]
        new[i] = p[i] - lr * (m[i] / (1 - beta1**t)) / (math.sqrt(v[i] / (1 - beta2**t)) + eps)
    return new, AdamState(t, m, v)


# --- ex5_4 AdamW ------------------------------------------------------------------------------

def adamw_torch_arrangement(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                            weight_decay=1e-2):
    """torch: param.mul_(1 - lr * weight_decay), then the Adam kernel."""
    decayed = _f(params) * (1 - lr * weight_decay)
    return adam_torch_arrangement(decayed, grads, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)


def adamw_optax(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    """optax.adamw: updates = -lr (mu_hat / (sqrt(nu_hat) + eps) + weight_decay params)."""
    g, p = _f(grads), _f(params)
    t = state.t + 1
    mu = beta1 * state.m + (1 - beta1) * g
    nu = beta2 * state.v + (1 - beta2) * g * g
    direction = (mu / (1 - beta1**t)) / (np.sqrt(nu / (1 - beta2**t)) + eps)
    return p - lr * (direction + weight_decay * p), AdamState(t, mu, nu)


def adamw_decay_subtracted(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                           weight_decay=1e-2):
    """params - lr * weight_decay * params, then the textbook Adam step."""
    p = _f(params)
    return adam_textbook(p - lr * weight_decay * p, grads, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)


VARIANTS = {
    "ex5_1": [{"adagrad_update": adagrad_torch_arrangement}, {"adagrad_update": adagrad_rate_first},
              {"adagrad_update": adagrad_loop}],
    "ex5_2": [{"rmsprop_update": rmsprop_torch_arrangement}, {"rmsprop_update": rmsprop_textbook},
              {"rmsprop_update": rmsprop_lr_times_ratio}, {"rmsprop_update": rmsprop_loop}],
    "ex5_3": [{"adam_update": adam_torch_arrangement},
              {"adam_init": adam_init_own_state, "adam_update": adam_textbook},
              {"adam_update": adam_optax}, {"adam_update": adam_loop}],
    "ex5_4": [{"adamw_update": adamw_torch_arrangement}, {"adamw_update": adamw_optax},
              {"adamw_init": adam_init_own_state, "adamw_update": adamw_decay_subtracted}],
}
