"""Correct implementations of chapter 2's exercises, written differently from solutions/gradient_descent.py.

``tests/grader/test_equivalence.py`` grades every one over many seeds and requires full marks.
"""
import numpy as np


# --- ex2_1 gd_init, gd_update -----------------------------------------------------------------

def gd_init_pass(params):
    pass


def gd_update_negated(params, grads, state, *, lr):
    return np.asarray(params, dtype=float) + (-lr) * np.asarray(grads, dtype=float), None


def gd_update_loop(params, grads, state, *, lr):
    params, grads = np.asarray(params, dtype=float), np.asarray(grads, dtype=float)
    new = params.copy()
    for i in np.ndindex(params.shape):
        new[i] = params[i] - lr * grads[i]
    return new, state


def gd_update_copy_then_subtract(params, grads, state, *, lr):
    new = np.array(params, dtype=float, copy=True)
    new -= lr * np.asarray(grads, dtype=float)
    return new, state


# --- ex2_2 linreg_loss ------------------------------------------------------------------------

def linreg_loss_dot(params, X, y):
    r = np.dot(X, params) - y
    return float(np.dot(r, r) / len(y))


def linreg_loss_loop(params, X, y):
    X, y, params = np.asarray(X, dtype=float), np.asarray(y, dtype=float), np.asarray(params, dtype=float)
    total = 0.0
    for xi, yi in zip(X, y):
        pred = 0.0
        for xij, pj in zip(xi, params):
            pred += xij * pj
        total += (yi - pred) ** 2
    return total / len(y)


def linreg_loss_sklearn(params, X, y):       # scikit-learn's mean_squared_error of the predictions
    from sklearn.metrics import mean_squared_error
    return float(mean_squared_error(y, np.asarray(X, dtype=float) @ np.asarray(params, dtype=float)))


# --- ex2_3 linreg_grad ------------------------------------------------------------------------

def linreg_grad_transpose_first(params, X, y):
    X, y, params = np.asarray(X, dtype=float), np.asarray(y, dtype=float), np.asarray(params, dtype=float)
    n = len(y)
    return 2.0 * X.T @ (X @ params - y) / n


def linreg_grad_loop(params, X, y):
    X, y, params = np.asarray(X, dtype=float), np.asarray(y, dtype=float), np.asarray(params, dtype=float)
    grad = np.zeros_like(params)
    for xi, yi in zip(X, y):
        grad += 2.0 * (xi @ params - yi) * xi
    return grad / len(y)


def linreg_grad_mean_rows(params, X, y):
    X = np.asarray(X, dtype=float)
    r = X.dot(params) - y
    return np.mean(2 * r[:, None] * X, axis=0)


# --- ex2_4 backtracking_line_search -----------------------------------------------------------

def line_search_greater_than(f, grad_f, params, direction=None, *, lr0=1.0, shrink=0.5, c=1e-4):
    params = np.asarray(params, dtype=float)
    g = np.asarray(grad_f(params), dtype=float)
    d = -g if direction is None else np.asarray(direction, dtype=float)
    f0, slope, alpha = f(params), g.ravel() @ d.ravel(), lr0
    while f(params + alpha * d) > f0 + c * alpha * slope:
        alpha = alpha * shrink
    return alpha


def line_search_for_loop(f, grad_f, params, direction=None, *, lr0=1.0, shrink=0.5, c=1e-4):
    params = np.asarray(params, dtype=float)
    g = np.asarray(grad_f(params), dtype=float)
    d = -g if direction is None else np.asarray(direction, dtype=float)
    f0 = float(f(params))
    slope = float(np.dot(g, d))
    alpha = lr0
    for _ in range(5000):
        if f(params + alpha * d) <= f0 + alpha * c * slope:
            break
        alpha *= shrink
    return float(alpha)


def line_search_powers(f, grad_f, params, direction=None, *, lr0=1.0, shrink=0.5, c=1e-4):
    """alpha = lr0 * shrink**k, the first k that gives sufficient decrease."""
    params = np.asarray(params, dtype=float)
    g = np.asarray(grad_f(params), dtype=float)
    d = -g if direction is None else np.asarray(direction, dtype=float)
    f0, slope = f(params), float(np.sum(g * d))
    k = 0
    while True:
        alpha = lr0 * shrink**k
        if f(params + alpha * d) <= f0 + c * alpha * slope or alpha == 0.0:
            return alpha
        k += 1


VARIANTS = {
    "ex2_1": [{"gd_init": gd_init_pass, "gd_update": gd_update_negated}, {"gd_update": gd_update_loop},
              {"gd_update": gd_update_copy_then_subtract}],
    "ex2_2": [{"linreg_loss": linreg_loss_dot}, {"linreg_loss": linreg_loss_loop},
              {"linreg_loss": linreg_loss_sklearn}],
    "ex2_3": [{"linreg_grad": linreg_grad_transpose_first}, {"linreg_grad": linreg_grad_loop},
              {"linreg_grad": linreg_grad_mean_rows}],
    "ex2_4": [{"backtracking_line_search": line_search_greater_than},
              {"backtracking_line_search": line_search_for_loop},
              {"backtracking_line_search": line_search_powers}],
}
