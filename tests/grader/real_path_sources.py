"""Students' code as students write it, for the meta-tests that grade through the real path
(tests/grader/test_real_path.py): each entry is the source of a ``.py`` submission, graded through the
loader and the sandboxed worker exactly as ``grade`` does.

``CORRECT`` (label -> source; the label starts with the chapter): correct implementations written
differently from the reference (loops, another association, torch and its autograd with a gradient
tensor, SciPy's and NumPy's exception classes caught on inputs that raise them, the submission's own
classes and module-level tables, a library's dtype as a default argument, the lesson's setup
imports). Each must score full marks at every seed.

``WRONG`` (exercise id, registered mistake's description, source): a registered mistake written
as a student would. Each must lose points at every seed, and the feedback must name it.
"""

SETUP = """\
import numpy as np
import matplotlib.pyplot as plt
from autograder import check
"""

CORRECT = {
    "1": SETUP + '''
import torch
import torch.nn.functional as F
from scipy.special import log_expit


def mse_loss(y_pred, y):
    total = 0.0
    flat_p, flat_y = np.ravel(y_pred), np.ravel(y)
    for a, b in zip(flat_p, flat_y):
        total += (a - b) ** 2
    return float(total / len(flat_p))


def softmax_cross_entropy(logits, labels, dtype=torch.float64):
    z = torch.tensor(np.asarray(logits), dtype=dtype)
    return float(F.cross_entropy(z, torch.as_tensor(np.asarray(labels), dtype=torch.long)))


def binary_cross_entropy_with_logits(logits, targets):
    z, y = np.asarray(logits, dtype=float), np.asarray(targets, dtype=float)
    return float(np.mean(-(y * log_expit(z) + (1 - y) * log_expit(-z))))
''',
    "2": SETUP + '''
from solutions.common import design_matrix


def linreg_loss(params, X, y):
    r = X @ params - y
    return float(r @ r / len(y))


def linreg_grad(params, X, y):
    n = len(y)
    return (2.0 / n) * (X.T @ (X @ params)) - (2.0 / n) * (X.T @ y)
''',
    "3": SETUP + '''
import math


class StepSchedule:
    def __init__(self, lr0, drop, every):
        self.lr0, self.drop, self.every = lr0, drop, every

    def __call__(self, step):
        return self.lr0 * self.drop ** (step // self.every)


SCHEDULES = {"step": StepSchedule}


def step_decay(step, *, lr0, drop=0.5, every=10):
    return float(SCHEDULES["step"](lr0, drop, every)(step))


def clip_by_global_norm(grads, max_norm):
    arrays = [np.asarray(g, dtype=float) for g in grads] if isinstance(grads, (list, tuple)) else [np.asarray(grads, dtype=float)]
    norm = math.hypot(*(float(x) for a in arrays for x in a.ravel()))      # no overflow: hypot scales
    scale = 1.0 if norm <= max_norm else max_norm / norm
    out = [a * scale for a in arrays]
    if isinstance(grads, tuple):
        return tuple(out)
    return out if isinstance(grads, list) else out[0]
''',
    "4": SETUP + '''
from solutions.gradient_descent import gd_init, gd_update
from solutions.momentum import MomentumState


def momentum_init(params):
    return MomentumState(t=0, v=np.zeros(np.shape(params)))


def momentum_update(params, grads, state, *, lr, beta=0.9, dampening=0.0):
    g = np.asarray(grads, dtype=float)
    v = g.copy() if state.t == 0 else beta * state.v + (1.0 - dampening) * g
    return np.asarray(params, dtype=float) - lr * v, MomentumState(state.t + 1, v)
''',
    "5": SETUP + '''
from solutions.momentum import momentum_init, momentum_update, nesterov_init, nesterov_update
from solutions.adaptive import AdamState

DEFAULTS = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)


def adam_init(params):
    zeros = np.zeros(np.shape(params))
    return AdamState(t=0, m=zeros, v=zeros.copy())


def _moments(state, g, beta1, beta2):
    return beta1 * state.m + (1 - beta1) * g, beta2 * state.v + (1 - beta2) * g * g


def adam_update(params, grads, state, *, lr=DEFAULTS["lr"], beta1=0.9, beta2=0.999, eps=1e-8):
    g = np.asarray(grads, dtype=float)
    t = state.t + 1
    m, v = _moments(state, g, beta1, beta2)
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return np.asarray(params, dtype=float) - lr * m_hat / (np.sqrt(v_hat) + eps), AdamState(t, m, v)
''',
    "6": SETUP + '''
from scipy.special import expit


class ReLU:
    @staticmethod
    def backward(dout, z):
        return np.where(np.asarray(z) > 0, dout, 0.0)


class Sigmoid:
    @staticmethod
    def backward(dout, z):
        s = expit(z)
        return dout * s * (1.0 - s)


class Tanh:
    @staticmethod
    def backward(dout, z):
        t = np.tanh(z)
        return dout * (1.0 - t * t)


ACT = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}


def relu_backward(dout, z):
    return ACT["relu"].backward(dout, z)


def sigmoid_backward(dout, z):
    return ACT["sigmoid"].backward(dout, z)


def tanh_backward(dout, z):
    return ACT["tanh"].backward(dout, z)


def numerical_gradient(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    grad = np.empty_like(x)
    flat, out = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + h
        up = f(x)
        flat[i] = keep - h
        down = f(x)
        flat[i] = keep
        out[i] = (up - down) / (2 * h)
    return grad


def relative_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
''',
    "7": SETUP + '''
import torch
from scipy.linalg import cho_factor, cho_solve, LinAlgError


def newton_step(params, grads, hess):
    try:
        d = cho_solve(cho_factor(hess), grads)
    except LinAlgError:
        d = np.linalg.solve(hess, grads)
    return np.asarray(params, dtype=float) - d


def newton_decrement(grads, hess):
    g = torch.tensor(np.asarray(grads), dtype=torch.float64)
    H = torch.tensor(np.asarray(hess), dtype=torch.float64)
    return float(torch.sqrt(g @ torch.linalg.solve(H, g)))
''',
    "6-torch-autograd": SETUP + '''
import torch


def _tensor(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=float), dtype=torch.float64, requires_grad=grad)


def _vjp(fn, dout, *inputs):
    """d2l's way: the vector-Jacobian product of fn at inputs with dout (a gradient tensor)."""
    leaves = [_tensor(a, grad=True) for a in inputs]
    grads = torch.autograd.grad(fn(*leaves), leaves, grad_outputs=_tensor(dout))
    return [g.numpy() for g in grads]


def linear_forward(x, W, b):
    return np.asarray(x, dtype=float) @ np.asarray(W, dtype=float) + np.asarray(b, dtype=float)


def linear_backward(dout, x, W):
    n_out = np.shape(W)[1]
    dx, dW, db = _vjp(lambda x, W, b: x @ W + b, dout, x, W, np.zeros(n_out))
    return dx, dW, db


def relu_backward(dout, z):
    return _vjp(torch.relu, dout, z)[0]


def sigmoid_backward(dout, z):
    return _vjp(torch.sigmoid, dout, z)[0]


def tanh_backward(dout, z):
    return _vjp(torch.tanh, dout, z)[0]
''',
    # Nocedal & Wright's Algorithm 3.3 with SciPy's Cholesky: every indefinite matrix of the tests
    # makes the first factorisation fail, so the ``except LinAlgError:`` branch runs (grade_submission
    # gives full marks only if it does: the shift is found there).
    "7-scipy-LinAlgError": SETUP + '''
from scipy.linalg import cholesky, LinAlgError


def modified_hessian(hess, *, beta=1e-3):
    H = np.array(hess, dtype=float)
    smallest = H.diagonal().min()
    tau = 0.0 if smallest > 0 else beta - smallest
    while True:
        shifted = H + tau * np.identity(H.shape[0])
        try:
            cholesky(shifted, lower=True)
        except LinAlgError:
            tau = max(2 * tau, beta)
            continue
        return shifted
''',
    # the same with NumPy's exception class, a shift table and a for loop
    "7-numpy-LinAlgError": SETUP + '''
import numpy.linalg as la

SHIFTS = {"first": lambda a, beta: 0.0 if a > 0 else -a + beta, "next": lambda tau, beta: max(2.0 * tau, beta)}


def _factorises(M):
    try:
        la.cholesky(M)
    except la.LinAlgError:
        return False
    return True


def modified_hessian(hess, *, beta=1e-3):
    H = np.array(hess, dtype=float)
    tau = SHIFTS["first"](float(np.min(np.diag(H))), beta)
    for _ in range(10_000):
        if _factorises(H + tau * np.eye(len(H))):
            break
        tau = SHIFTS["next"](tau, beta)
    return H + tau * np.eye(len(H))
''',
}

#: The exercises each source of CORRECT is graded on.
CORRECT_EXERCISES = {"1": ["ex1_1", "ex1_6", "ex1_8"], "2": ["ex2_2", "ex2_3"], "3": ["ex3_3", "ex3_4"],
                     "4": ["ex4_1"], "5": ["ex5_3"], "6": ["ex6_2", "ex6_4"], "7": ["ex7_1", "ex7_2"],
                     "6-torch-autograd": ["ex6_3", "ex6_4"], "7-scipy-LinAlgError": ["ex7_5"],
                     "7-numpy-LinAlgError": ["ex7_5"]}

WRONG = [
    ("ex1_1", "instead of their mean", SETUP + '''
def mse_loss(y_pred, y):
    return float(np.sum((np.asarray(y_pred) - np.asarray(y)) ** 2))
'''),
    ("ex2_3", None, SETUP + '''
def linreg_grad(params, X, y):
    return X.T @ (X @ params - y) / len(y)
'''),
    ("ex4_1", None, SETUP + '''
from solutions.momentum import MomentumState


def momentum_init(params):
    return MomentumState(t=0, v=np.zeros(np.shape(params)))


def momentum_update(params, grads, state, *, lr, beta=0.9, dampening=0.0):
    v = beta * state.v + (1.0 - dampening) * np.asarray(grads, dtype=float)
    return np.asarray(params, dtype=float) - lr * v, MomentumState(state.t + 1, v)
'''),
    ("ex5_3", "bias correction", SETUP + '''
from solutions.adaptive import AdamState


def adam_init(params):
    z = np.zeros(np.shape(params))
    return AdamState(0, z, z.copy())


def adam_update(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    g = np.asarray(grads, dtype=float)
    m = beta1 * state.m + (1 - beta1) * g
    v = beta2 * state.v + (1 - beta2) * g * g
    return np.asarray(params, dtype=float) - lr * m / (np.sqrt(v) + eps), AdamState(state.t + 1, m, v)
'''),
    ("ex6_2", "scaled by |xᵢ|", SETUP + '''
def numerical_gradient(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = h * max(1.0, abs(x[i]))
        up, down = x.copy(), x.copy()
        up[i] += step
        down[i] -= step
        grad[i] = (f(up) - f(down)) / (2 * step)
    return grad


def relative_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
'''),
    ("ex6_4", "overflows", SETUP + '''
def relu_backward(dout, z):
    return dout * (np.asarray(z) > 0)


def sigmoid_backward(dout, z):
    e = np.exp(-np.asarray(z, dtype=float))
    return dout * e / (1 + e) ** 2


def tanh_backward(dout, z):
    return dout * (1 - np.tanh(z) ** 2)
'''),
    ("ex7_3", "computed as it is written", SETUP + '''
def logistic_loss(params, X, y, *, l2=0.0):
    z = X @ params
    return float(np.mean(np.log(1 + np.exp(z)) - y * z) + 0.5 * l2 * params[1:] @ params[1:])


def logistic_grad(params, X, y, *, l2=0.0):
    p = 0.5 * (1 + np.tanh(0.5 * (X @ params)))
    g = X.T @ (p - y) / len(y)
    g[1:] += l2 * params[1:]
    return g


def logistic_hess(params, X, y, *, l2=0.0):
    p = 0.5 * (1 + np.tanh(0.5 * (X @ params)))
    H = (X * (p * (1 - p))[:, None]).T @ X / len(y)
    H[1:, 1:] += l2 * np.eye(len(params) - 1)
    return H
'''),
    ("ex7_4", "λ² ≤ tol", SETUP + '''
from solutions.newton import NewtonTrajectory


def damped_newton(f, grad, hess, x0, *, tol=1e-10, max_iter=50, alpha=0.25, beta=0.5):
    x = np.array(x0, dtype=float)
    xs, fs, lams, ts = [x], [float(f(x))], [], []
    for k in range(max_iter + 1):
        g, H = np.asarray(grad(x), dtype=float), np.asarray(hess(x), dtype=float)
        d = -np.linalg.solve(H, g)
        lam2 = float(-(g @ d))
        lams.append(np.sqrt(lam2))
        if lam2 <= tol or k == max_iter:
            break
        t = 1.0
        while f(x + t * d) > f(x) - alpha * t * lam2:
            t *= beta
        x = x + t * d
        xs.append(x)
        fs.append(float(f(x)))
        ts.append(t)
    return NewtonTrajectory(np.stack(xs), np.array(fs), np.array(lams), np.array(ts, dtype=float))
'''),
]
