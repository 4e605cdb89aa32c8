"""Correct implementations of chapter 4's exercises, written differently from solutions/momentum.py.

The graded convention is torch.optim.SGD's (v_1 = g_1; v_t = beta v_(t-1) + (1 - dampening) g_t;
params - lr v_t, and for Nesterov params - lr (g_t + beta v_t)). A student's own state class
(a namedtuple with the same fields) is as good as the reference's.
``tests/grader/test_equivalence.py`` grades every one over many seeds and requires full marks.
"""
from collections import namedtuple

import numpy as np

from solutions.momentum import MomentumState

State = namedtuple("State", ["t", "v"])


def init_own_state(params):
    return State(0, np.zeros_like(np.asarray(params, dtype=float)))


# --- ex4_1 heavy ball -------------------------------------------------------------------------

def momentum_expanded_dampening(params, grads, state, *, lr, beta=0.9, dampening=0.0):
    """beta v + g - dampening g, and the step as params + (-lr) v."""
    g = np.asarray(grads, dtype=float)
    v = g.copy() if state.t == 0 else beta * state.v + g - dampening * g
    return np.asarray(params, dtype=float) + (-lr) * v, State(state.t + 1, v)


def momentum_loop(params, grads, state, *, lr, beta=0.9, dampening=0.0):
    params, grads = np.asarray(params, dtype=float), np.asarray(grads, dtype=float)
    v, new = np.empty_like(params), np.empty_like(params)
    for i in np.ndindex(params.shape):
        v[i] = grads[i] if state.t == 0 else state.v[i] * beta + grads[i] * (1 - dampening)
        new[i] = params[i] - v[i] * lr
    return new, MomentumState(state.t + 1, v)


def momentum_torch_arrangement(params, grads, state, *, lr, beta=0.9, dampening=0.0):
    """torch's kernel: buf.mul_(momentum).add_(grad, alpha=1 - dampening); param.add_(buf, alpha=-lr)."""
    g = np.asarray(grads, dtype=float)
    if state.t == 0:
        buf = np.array(g, copy=True)
    else:
        buf = np.array(state.v, dtype=float, copy=True)
        buf *= beta
        buf += (1 - dampening) * g
    p = np.array(params, dtype=float, copy=True)
    p += -lr * buf
    return p, MomentumState(t=state.t + 1, v=buf)


# --- ex4_2 Nesterov ---------------------------------------------------------------------------

def nesterov_expanded(params, grads, state, *, lr, beta=0.9):
    """g + beta (beta v_old + g) = (1 + beta) g + beta² v_old (v_old = 0 before the first step)."""
    g = np.asarray(grads, dtype=float)
    v_old = np.zeros_like(g) if state.t == 0 else np.asarray(state.v, dtype=float)
    v = g if state.t == 0 else beta * v_old + g
    step = (1 + beta) * g + beta * beta * v_old
    return np.asarray(params, dtype=float) - lr * step, State(state.t + 1, v)


def nesterov_torch_arrangement(params, grads, state, *, lr, beta=0.9):
    """torch's kernel: buf = momentum * buf + grad; grad = grad + momentum * buf; param -= lr * grad."""
    g = np.asarray(grads, dtype=float)
    buf = g.copy() if state.t == 0 else state.v * beta + g
    d_p = g + buf * beta
    return np.asarray(params, dtype=float) + d_p * (-lr), MomentumState(state.t + 1, buf)


def nesterov_loop(params, grads, state, *, lr, beta=0.9):
    params, grads = np.asarray(params, dtype=float), np.asarray(grads, dtype=float)
    v, new = np.zeros_like(params), np.zeros_like(params)
    for i in np.ndindex(params.shape):
        v[i] = grads[i] + (0.0 if state.t == 0 else beta * state.v[i])
        new[i] = params[i] - lr * grads[i] - lr * beta * v[i]
    return new, MomentumState(state.t + 1, v)


VARIANTS = {
    "ex4_1": [{"momentum_init": init_own_state, "momentum_update": momentum_expanded_dampening},
              {"momentum_update": momentum_loop}, {"momentum_update": momentum_torch_arrangement}],
    "ex4_2": [{"nesterov_init": init_own_state, "nesterov_update": nesterov_expanded},
              {"nesterov_update": nesterov_torch_arrangement}, {"nesterov_update": nesterov_loop}],
}
