"""Correct implementations of chapter 7's exercises, written differently from solutions/newton.py.

``tests/grader/test_equivalence.py`` grades every one over many seeds and requires full marks.
"""
import numpy as np
import scipy.linalg


# --- ex7_1 newton_step ------------------------------------------------------------------------

def newton_step_cholesky(params, grads, hess):
    c = scipy.linalg.cho_factor(np.asarray(hess, dtype=float))
    return np.asarray(params, dtype=float) - scipy.linalg.cho_solve(c, np.asarray(grads, dtype=float))


def newton_step_gauss(params, grads, hess):
    """Gaussian elimination with partial pivoting, written out."""
    A = np.array(hess, dtype=float)
    b = np.array(grads, dtype=float)
    n = len(b)
    for k in range(n):
        p = k + int(np.argmax(np.abs(A[k:, k])))
        A[[k, p]], b[[k, p]] = A[[p, k]], b[[p, k]]
        for i in range(k + 1, n):
            m = A[i, k] / A[k, k]
            A[i, k:] -= m * A[k, k:]
            b[i] -= m * b[k]
    d = np.zeros(n)
    for i in reversed(range(n)):
        d[i] = (b[i] - A[i, i + 1:] @ d[i + 1:]) / A[i, i]
    return np.asarray(params, dtype=float) - d


def newton_step_lstsq(params, grads, hess):
    d = np.linalg.lstsq(np.asarray(hess, dtype=float), -np.asarray(grads, dtype=float), rcond=None)[0]
    return np.asarray(params, dtype=float) + d


# --- ex7_2 newton_decrement -------------------------------------------------------------------

def newton_decrement_cholesky(grads, hess):
    """‖L⁻¹g‖ with H = LLᵀ."""
    L = np.linalg.cholesky(np.asarray(hess, dtype=float))
    return float(np.linalg.norm(scipy.linalg.solve_triangular(L, np.asarray(grads, dtype=float), lower=True)))


def newton_decrement_direction(grads, hess):
    g = np.asarray(grads, dtype=float)
    d = -scipy.linalg.solve(hess, g, assume_a="pos")
    return float(-(g @ d)) ** 0.5


# --- ex7_3 logistic_loss, logistic_grad, logistic_hess ----------------------------------------

def logistic_loss_logaddexp(params, X, y, *, l2=0.0):
    z = np.asarray(X, dtype=float) @ np.asarray(params, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.asarray(params, dtype=float)[1:]
    return float(np.mean(y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)) + l2 / 2 * np.dot(w, w))


def logistic_loss_loop(params, X, y, *, l2=0.0):
    total = 0.0
    for xi, yi in zip(np.asarray(X, dtype=float), np.asarray(y, dtype=float)):
        z = float(xi @ params)
        total += max(z, 0.0) - z * yi + np.log1p(np.exp(-abs(z)))
    return total / len(y) + 0.5 * l2 * sum(w * w for w in params[1:])


def logistic_grad_expit(params, X, y, *, l2=0.0):
    from scipy.special import expit
    X = np.asarray(X, dtype=float)
    r = (expit(X @ params) - y) / len(y)
    return r @ X + l2 * np.concatenate([[0.0], params[1:]])


def logistic_grad_loop(params, X, y, *, l2=0.0):
    from scipy.special import expit
    g = np.zeros(len(params))
    for xi, yi in zip(np.asarray(X, dtype=float), np.asarray(y, dtype=float)):
        g += (expit(xi @ params) - yi) * xi
    g /= len(y)
    g[1:] += l2 * np.asarray(params, dtype=float)[1:]
    return g


def logistic_hess_diag(params, X, y, *, l2=0.0):
    from scipy.special import expit
    X = np.asarray(X, dtype=float)
    p = expit(X @ params)
    reg = l2 * np.eye(X.shape[1])
    reg[0, 0] = 0.0
    return X.T @ np.diag(p * (1 - p)) @ X / X.shape[0] + reg


def logistic_hess_loop(params, X, y, *, l2=0.0):
    from scipy.special import expit
    X = np.asarray(X, dtype=float)
    H = np.zeros((X.shape[1], X.shape[1]))
    for xi in X:
        s = expit(xi @ params)
        H += s * (1 - s) * np.outer(xi, xi)
    H /= len(X)
    for j in range(1, X.shape[1]):
        H[j, j] += l2
    return H


# --- ex7_4 damped_newton ----------------------------------------------------------------------

def damped_newton_own_search(f, grad, hess, x0, *, tol=1e-10, max_iter=50, alpha=0.25, beta=0.5):
    """Decrement from the direction, a line search written out, lists turned into arrays at the end."""
    from solutions.newton import NewtonTrajectory
    x = np.array(x0, dtype=float)
    xs, fs, lams, ts = [x.copy()], [f(x)], [], []
    k = 0
    while True:
        g = grad(x)
        d = -scipy.linalg.solve(hess(x), g, assume_a="pos")
        lam2 = -np.dot(g, d)
        lams.append(np.sqrt(lam2))
        if 0.5 * lam2 <= tol or k >= max_iter:
            break
        t, fx = 1.0, f(x)
        while f(x + t * d) > fx - alpha * t * lam2:
            t = t * beta
        x = x + t * d
        xs.append(x.copy())
        fs.append(f(x))
        ts.append(t)
        k += 1
    return NewtonTrajectory(np.array(xs), np.array(fs), np.array(lams), np.array(ts, dtype=float))


def damped_newton_with_course_functions(f, grad, hess, x0, *, tol=1e-10, max_iter=50, alpha=0.25, beta=0.5):
    """Reusing chapter 2's line search and the reference's newton_decrement; a plain tuple as result."""
    from solutions.gradient_descent import backtracking_line_search
    from solutions.newton import newton_decrement
    x = np.asarray(x0, dtype=float)
    xs, fs, lams, ts = [x], [float(f(x))], [], []
    for _ in range(max_iter):
        g, H = grad(x), hess(x)
        lams.append(newton_decrement(g, H))
        if lams[-1] ** 2 <= 2 * tol:
            break
        d = np.linalg.solve(H, -g)
        t = backtracking_line_search(f, grad, x, d, lr0=1.0, shrink=beta, c=alpha)
        x = x + t * d
        xs.append(x)
        fs.append(float(f(x)))
        ts.append(t)
    else:
        lams.append(newton_decrement(grad(x), hess(x)))
    return np.array(xs), np.array(fs), np.array(lams), np.array(ts, dtype=float)


# --- ex7_5 modified_hessian -------------------------------------------------------------------

def modified_hessian_eigvals(hess, *, beta=1e-3):
    """Positive definiteness tested by the eigenvalues instead of a Cholesky factorisation."""
    H = np.asarray(hess, dtype=float)
    tau = 0.0 if H.diagonal().min() > 0 else beta - H.diagonal().min()
    while np.linalg.eigvalsh(H + tau * np.eye(len(H))).min() <= 0:
        tau = max(2 * tau, beta)
    return H + tau * np.eye(len(H))


def modified_hessian_scipy(hess, *, beta=1e-3):
    H = np.array(hess, dtype=float)
    a = min(H[i, i] for i in range(len(H)))
    tau = 0.0 if a > 0 else -a + beta
    while True:
        M = H.copy()
        M[np.diag_indices_from(M)] += tau
        try:
            scipy.linalg.cholesky(M, lower=True)
            return M
        except np.linalg.LinAlgError:
            tau = max(tau + tau, beta)


# --- ex7_6 bfgs_update ------------------------------------------------------------------------

def bfgs_update_expanded(h_inv, s, y):
    """Nocedal & Wright (6.17) multiplied out: H - ρ(s yᵀH + H y sᵀ) + (ρ² yᵀHy + ρ) s sᵀ."""
    H = np.asarray(h_inv, dtype=float)
    rho = 1.0 / np.dot(y, s)
    Hy = H @ y
    return H - rho * (np.outer(s, Hy) + np.outer(Hy, s)) + (rho**2 * (y @ Hy) + rho) * np.outer(s, s)


def bfgs_update_loops(h_inv, s, y):
    d = len(s)
    rho = 1.0 / sum(y[i] * s[i] for i in range(d))
    V = [[(1.0 if i == j else 0.0) - rho * s[i] * y[j] for j in range(d)] for i in range(d)]
    V = np.array(V)
    return np.linalg.multi_dot([V, h_inv, V.T]) + rho * s[:, None] * s[None, :]


# --- ex7_9 lbfgs_direction --------------------------------------------------------------------

def lbfgs_direction_dense(grads, s_list, y_list):
    """H formed: H_0 = γI and m dense BFGS updates (the expanded formula), then d = -H g."""
    g = np.asarray(grads, dtype=float)
    if len(s_list) == 0:
        return -g
    H = np.dot(s_list[-1], y_list[-1]) / np.dot(y_list[-1], y_list[-1]) * np.eye(len(g))
    for s, y in zip(s_list, y_list):
        H = bfgs_update_expanded(H, np.asarray(s, dtype=float), np.asarray(y, dtype=float))
    return -(H @ g)


def lbfgs_direction_compact(grads, s_list, y_list):
    """Byrd, Nocedal and Schnabel's compact form (Nocedal & Wright (7.24)):
    H = γI + [S γY] [[R⁻ᵀ(D + γYᵀY)R⁻¹, -R⁻ᵀ], [-R⁻¹, 0]] [S γY]ᵀ, R the upper triangle of SᵀY."""
    g = np.asarray(grads, dtype=float)
    if len(s_list) == 0:
        return -g
    S, Y = np.column_stack(s_list), np.column_stack(y_list)
    gamma = S[:, -1] @ Y[:, -1] / (Y[:, -1] @ Y[:, -1])
    SY = S.T @ Y
    R, D = np.triu(SY), np.diag(np.diag(SY))
    Rinv = scipy.linalg.solve_triangular(R, np.eye(len(R)))
    m = len(R)
    M = np.block([[Rinv.T @ (D + gamma * Y.T @ Y) @ Rinv, -Rinv.T], [-Rinv, np.zeros((m, m))]])
    W = np.hstack([S, gamma * Y])
    return -(gamma * g + W @ (M @ (W.T @ g)))


def lbfgs_direction_loops(grads, s_list, y_list):
    """Every dot product a Python loop over the coordinates."""
    dot = lambda a, b: sum(float(a[i]) * float(b[i]) for i in range(len(a)))      # noqa: E731
    q = [float(v) for v in grads]
    m = len(s_list)
    if m == 0:
        return -np.array(q)
    alpha = [0.0] * m
    for i in range(m - 1, -1, -1):
        alpha[i] = dot(s_list[i], q) / dot(y_list[i], s_list[i])
        q = [q[j] - alpha[i] * y_list[i][j] for j in range(len(q))]
    gamma = dot(s_list[-1], y_list[-1]) / dot(y_list[-1], y_list[-1])
    r = [gamma * v for v in q]
    for i in range(m):
        beta = dot(y_list[i], r) / dot(y_list[i], s_list[i])
        r = [r[j] + (alpha[i] - beta) * s_list[i][j] for j in range(len(r))]
    return -np.array(r)


def lbfgs_direction_torch(grads, s_list, y_list):
    """torch.optim.LBFGS's arrangement, in torch (float64): the recursion runs on -g."""
    import torch
    q = torch.as_tensor(np.asarray(grads, dtype=float)).neg()
    old_stps = [torch.as_tensor(np.asarray(s, dtype=float)) for s in s_list]
    old_dirs = [torch.as_tensor(np.asarray(y, dtype=float)) for y in y_list]
    if not old_stps:
        return q.numpy()
    ro = [1.0 / y.dot(s) for s, y in zip(old_stps, old_dirs)]
    al = [None] * len(old_stps)
    for i in range(len(old_stps) - 1, -1, -1):
        al[i] = old_stps[i].dot(q) * ro[i]
        q.add_(old_dirs[i], alpha=-al[i])
    r = q * (old_stps[-1].dot(old_dirs[-1]) / old_dirs[-1].dot(old_dirs[-1]))
    for i in range(len(old_stps)):
        be_i = old_dirs[i].dot(r) * ro[i]
        r.add_(old_stps[i], alpha=al[i] - be_i)
    return r.numpy()


VARIANTS = {
    "ex7_1": [{"newton_step": newton_step_cholesky}, {"newton_step": newton_step_gauss},
              {"newton_step": newton_step_lstsq}],
    "ex7_2": [{"newton_decrement": newton_decrement_cholesky}, {"newton_decrement": newton_decrement_direction}],
    "ex7_3": [{"logistic_loss": logistic_loss_logaddexp, "logistic_grad": logistic_grad_expit,
               "logistic_hess": logistic_hess_diag},
              {"logistic_loss": logistic_loss_loop, "logistic_grad": logistic_grad_loop,
               "logistic_hess": logistic_hess_loop}],
    "ex7_4": [{"damped_newton": damped_newton_own_search}, {"damped_newton": damped_newton_with_course_functions}],
    "ex7_5": [{"modified_hessian": modified_hessian_eigvals}, {"modified_hessian": modified_hessian_scipy}],
    "ex7_6": [{"bfgs_update": bfgs_update_expanded}, {"bfgs_update": bfgs_update_loops}],
    "ex7_9": [{"lbfgs_direction": lbfgs_direction_dense}, {"lbfgs_direction": lbfgs_direction_compact},
              {"lbfgs_direction": lbfgs_direction_loops}, {"lbfgs_direction": lbfgs_direction_torch}],
}
