"""Graded tests of chapter 2 (gradient descent): ex2_1 .. ex2_4.

Every scenario calls the student's functions through ``ns`` and returns plain data that
the grader compares with the reference's (solutions/gradient_descent.py). Gradients fed
to ``gd_update`` along a trajectory are computed here, by the reference problem, at the
student's own iterates.

The mistakes below are deliberately wrong implementations, most of them straight from
the source articles (seed-errata 000-5, 000-6, 000-7, 001-5); when a submission's output
equals one of them, the feedback names it and links the section of
lessons/02_gradient_descent.ipynb that explains it.
"""
import functools

import numpy as np

from autograder.framework import Exercise, Failure, Question
from autograder.worker.plain import describe
from autograder.tests.problems import random_regression
from solutions import gradient_descent as ref
from solutions.common import Quadratic, design_matrix, rosenbrock, rosenbrock_grad, seed_data_000, seed_data_001

ex2_1 = Exercise("ex2_1", ref.gd_init, ref.gd_update, anchor="gd-update")
ex2_2 = Exercise("ex2_2", ref.linreg_loss, anchor="gd-linreg")
ex2_3 = Exercise("ex2_3", ref.linreg_grad, anchor="gd-linreg-grad")

RUNNING = Quadratic.diagonal([0.2, 4.0])          # f(x) = 0.1 x1^2 + 2 x2^2, L = 4


def random_quadratic(rng, d, L=4.0):
    """A random positive-definite quadratic with largest curvature L."""
    M = rng.normal(size=(d, d))
    A = M @ M.T / d + 0.05 * np.eye(d)
    return Quadratic(A * L / np.linalg.eigvalsh(A).max(), rng.normal(size=d))


POINTS = [(0.0, 0.0), (1.0, 1.0), (0.0, 2.0), (-0.5, 3.0)]      # (b, w): the optima of both data sets among them


def seed_problems():
    """The source articles' two datasets as (label, X with its ones column, y)."""
    (x0, y0), (x1, y1) = seed_data_000(), seed_data_001()
    return [("seed 000 (y = x + 1)", design_matrix(x0), y0), ("seed 001 (y = 2x)", design_matrix(x1), y1)]


# ==================================================================== ex2_1 gd_init, gd_update

def _expect_no_state(state, where):
    if state.plain is not None:
        raise Failure(f"{where} is {describe(state.plain)}; gradient descent has no state: use None")


@ex2_1.test(points=1)
def test_init_and_one_step(ns, rng):
    """gd_init returns None; one step on f(x) = 0.1 x1² + 2 x2² from (1, 1) with lr = 0.1"""
    params = np.array([1.0, 1.0])
    state = ns.gd_init(params)
    _expect_no_state(state, "the state returned by gd_init")
    new_params, new_state = ns.gd_update(params, RUNNING.grad(params), state, lr=0.1)
    _expect_no_state(new_state, "the state returned by gd_update")
    return new_params


@ex2_1.test(points=1)
def test_random_steps(ns, rng):
    """one step on random 1-D and 2-D parameters, several learning rates and magnitudes"""
    out = {}
    for shape in [(1,), (5,), (3, 4)]:
        for lr, scale in [(0.01, 1.0), (0.5, 1e4), (1e-3, 1e-5), (2.0, 1.0)]:
            params, grads = scale * rng.normal(size=shape), scale * rng.normal(size=shape)
            out[f"shape {shape}, lr={lr}, scale {scale:g}"] = ns.gd_update(params, grads, ns.gd_init(params), lr=lr)[0]
    return out


def _trajectory(ns, problem, params, steps, lr):
    state = ns.gd_init(params)
    out = {}
    for k in range(1, steps + 1):
        params, state = ns.gd_update(params, problem.grad(params), state, lr=lr)
        params = params.array()
        out[f"lr={lr}, step {k}"] = params
    return out


@ex2_1.test(points=2, rtol=1e-9, atol=1e-12)
def test_trajectories_on_the_running_example(ns, rng):
    """40 steps on f(x) = 0.1 x1² + 2 x2² at lr 0.1, 0.45 (zig-zag) and 0.55 > 2/L (diverges)"""
    out = {}
    for lr in (0.1, 0.45, 0.55):
        out.update(_trajectory(ns, RUNNING, np.array([-3.0, 1.0]), 40, lr))
    return out


@ex2_1.test(points=2, rtol=1e-9, atol=1e-12)
def test_trajectory_on_a_random_quadratic(ns, rng):
    """30 steps on a random 5-D quadratic from a random point, every iterate compared"""
    q = random_quadratic(rng, 5)
    return _trajectory(ns, q, rng.normal(size=5), 30, float(rng.uniform(0.05, 0.45)))


@ex2_1.mistake("gd_update", "gradient ascent: params + lr * grads, the sign error of source article 000 "
               "(its loss climbs to inf)", anchor="gd-sources-code")
def gd_update_ascent(params, grads, state, *, lr):
    return params + lr * grads, state


@ex2_1.mistake("gd_update", "params updated in place (params -= lr * grads) instead of returning a new array")
def gd_update_in_place(params, grads, state, *, lr):
    params -= lr * grads
    return params, state


@ex2_1.mistake("gd_update", "the learning rate is ignored (params - grads)")
def gd_update_no_lr(params, grads, state, *, lr):
    return params - grads, state


@ex2_1.mistake("gd_update", "returns only the new params instead of the pair (new_params, new_state)")
def gd_update_no_state(params, grads, state, *, lr):
    return params - lr * grads


@ex2_1.mistake("gd_init", "gd_init returns an array (zeros) instead of None: gradient descent has no state")
def gd_init_zeros(params):
    return np.zeros_like(params)


# ==================================================================== ex2_2 linreg_loss

@ex2_2.test(points=1)
def test_loss_on_the_sources_data(ns, rng):
    """the sources' data (y = x + 1 and y = 2x, bias column included) at a few fixed points"""
    out = {}
    for label, X, y in seed_problems():
        for b, w in POINTS:
            out[f"{label} at (b, w) = ({b}, {w})"] = ns.linreg_loss(np.array([b, w]), X, y)
    return out


@ex2_2.test(points=2)
def test_loss_random_problems(ns, rng):
    """random design matrices of several shapes (one sample, one feature, many features)"""
    out = {}
    for n, d in [(1, 2), (7, 1), (20, 2), (50, 5), (4, 9)]:
        (X, y), theta = random_regression(rng, n, d), rng.normal(size=d)
        out[f"n={n}, d={d}"] = ns.linreg_loss(theta, X, y)
    return out


@ex2_2.test(points=1)
def test_loss_magnitudes(ns, rng):
    """large and tiny feature scales (1e4, 1e-4)"""
    out = {}
    for scale in (1e4, 1e-4):
        (X, y), theta = random_regression(rng, 30, 3, scale), rng.normal(size=3)
        out[f"features of scale {scale:g}"] = ns.linreg_loss(theta, X, scale * y)
    return out


@ex2_2.mistake("linreg_loss", "the vector of squared errors (y_pred - y)**2 instead of its mean, as in "
               "source article 000's code", anchor="gd-sources-code")
def loss_vector(params, X, y):
    return (X @ params - y) ** 2


@ex2_2.mistake("linreg_loss", "the sum of squared errors instead of their mean (the 1/n is missing)")
def loss_sum(params, X, y):
    return float(np.sum((X @ params - y) ** 2))


@ex2_2.mistake("linreg_loss", "the half-MSE (1/(2n)) sum of squared errors of source article 001; this course "
               "grades the MSE (1/n)", anchor="gd-half-mse")
def loss_half(params, X, y):
    return float(np.sum((X @ params - y) ** 2) / (2 * len(y)))


@ex2_2.mistake("linreg_loss", "the bias is ignored (X[:, 1:] @ params[1:]): the column of ones is part of X",
               anchor="gd-half-mse")
def loss_no_bias(params, X, y):
    return float(np.mean((X[:, 1:] @ params[1:] - y) ** 2))


@ex2_2.mistake("linreg_loss", "the root mean squared error (RMSE) instead of the MSE")
def loss_rmse(params, X, y):
    return float(np.sqrt(np.mean((X @ params - y) ** 2)))


# ==================================================================== ex2_3 linreg_grad

@ex2_3.test(points=1)
def test_grad_on_the_sources_data(ns, rng):
    """the sources' data (bias column included) at a few fixed points, the optimum included"""
    out = {}
    for label, X, y in seed_problems():
        for b, w in POINTS:
            out[f"{label} at (b, w) = ({b}, {w})"] = ns.linreg_grad(np.array([b, w]), X, y)
    return out


@ex2_3.test(points=2)
def test_grad_random_problems(ns, rng):
    """random design matrices of several shapes and feature scales"""
    out = {}
    for n, d, scale in [(1, 2, 1.0), (7, 1, 1.0), (20, 2, 1.0), (50, 5, 1.0), (4, 9, 1.0), (30, 3, 1e3), (30, 3, 1e-3)]:
        (X, y), theta = random_regression(rng, n, d, scale), rng.normal(size=d)
        out[f"n={n}, d={d}, scale {scale:g}"] = ns.linreg_grad(theta, X, y)
    return out


@ex2_3.test(points=2, rtol=1e-8, atol=1e-10)
def test_gradient_descent_with_your_gradient(ns, rng):
    """300 steps of GD (lr = 0.05 < 2/L) on seed 000 with your gradient: the iterates every 20 steps"""
    x, y = seed_data_000()
    X = design_matrix(x)
    theta = rng.normal(size=2)
    out = {}
    for k in range(1, 301):
        theta = theta - 0.05 * ns.linreg_grad(theta, X, y).array()
        if k % 20 == 0:
            out[f"step {k}"] = theta
    return out


@ex2_3.mistake("linreg_grad", "the sign is flipped (-2/n Xᵀ(Xθ - y)), source article 000's `dw = -2 * X * "
               "(y_pred - y)`: gradient descent then climbs", anchor="gd-sources-code")
def grad_sign(params, X, y):
    return -2.0 / len(y) * X.T @ (X @ params - y)


@ex2_3.mistake("linreg_grad", "the per-sample gradients 2 x_i r_i are never averaged (an (n, d) array), as in "
               "source article 000's code", anchor="gd-sources-code")
def grad_per_sample(params, X, y):
    return 2.0 * X * (X @ params - y)[:, None]


@ex2_3.mistake("linreg_grad", "the sum over samples instead of the mean (the 1/n is missing)")
def grad_sum(params, X, y):
    return 2.0 * X.T @ (X @ params - y)


@ex2_3.mistake("linreg_grad", "the gradient of the half-MSE, Xᵀ(Xθ - y)/n (source article 001), graded "
               "against the MSE, whose gradient is 2/n Xᵀ(Xθ - y)", anchor="gd-half-mse")
def grad_half(params, X, y):
    return X.T @ (X @ params - y) / len(y)


@ex2_3.mistake("linreg_grad", "the bias is left out of the prediction (X[:, 1:] @ params[1:])", anchor="gd-half-mse")
def grad_no_bias(params, X, y):
    return 2.0 / len(y) * X.T @ (X[:, 1:] @ params[1:] - y)


@ex2_3.mistake("linreg_grad", "the bias gets no gradient (its component is 0), so b never moves", anchor="gd-half-mse")
def grad_bias_zero(params, X, y):
    g = 2.0 / len(y) * X.T @ (X @ params - y)
    g[0] = 0.0
    return g


@ex2_3.mistake("linreg_grad", "divided by X.size (n·d) instead of the number of samples n")
def grad_x_size(params, X, y):
    return 2.0 / X.size * X.T @ (X @ params - y)


@ex2_3.mistake("linreg_grad", "the gradient with respect to the predictions, 2/n (Xθ - y), not the parameters "
               "(the chain rule's Xᵀ is missing)")
def grad_wrt_predictions(params, X, y):
    return 2.0 / len(y) * (X @ params - y)


# ==================================================================== ex2_4 backtracking_line_search
#
# The objective and its gradient cross to the student's process as functools.partial objects
# of the module-level functions below (or of solutions.common's): the worker imports them by name.

ex2_4 = Exercise("ex2_4", ref.backtracking_line_search, anchor="gd-line-search")


def quadratic_loss(params, A, b):
    """:meth:`Quadratic.loss` written out at module level with numpy only (it is sent by name,
    and the worker runs its own copy: ``autograder.sandbox.served.OPEN``)."""
    theta = np.asarray(params, dtype=float)
    return float(0.5 * theta @ A @ theta - b @ theta)


def quadratic_grad(params, A, b):
    """:meth:`Quadratic.grad` written out (see :func:`quadratic_loss`)."""
    return A @ np.asarray(params, dtype=float) - b


def objective(q):
    """``(f, grad_f)`` of a quadratic, as objects that can be sent to the student's process."""
    return functools.partial(quadratic_loss, A=q.A, b=q.b), functools.partial(quadratic_grad, A=q.A, b=q.b)


@ex2_4.test(points=1)
def test_running_example_defaults(ns, rng):
    """f(x) = 0.1 x1² + 2 x2² from a few points, default lr0 = 1, shrink = 0.5, c = 1e-4"""
    f, grad_f = objective(RUNNING)
    return {f"from {p}": ns.backtracking_line_search(f, grad_f, np.array(p))
            for p in [(1.0, 1.0), (-3.0, 0.1), (2.0, 0.0), (0.01, -0.5)]}


@ex2_4.test(points=2)
def test_other_constants(ns, rng):
    """random quadratics, non-default lr0, shrink and c (c = 0.5 and 0.9 test the sufficient-decrease term)"""
    out = {}
    for d in (2, 6):
        f, grad_f = objective(random_quadratic(rng, d, L=float(rng.uniform(1, 20))))
        p = rng.normal(size=d)
        for lr0, shrink, c in [(1.0, 0.5, 0.5), (10.0, 0.3, 1e-4), (5.0, 0.9, 0.9), (0.01, 0.5, 0.3), (3.0, 0.7, 0.25)]:
            out[f"d={d}, lr0={lr0}, shrink={shrink}, c={c}"] = ns.backtracking_line_search(
                f, grad_f, p, lr0=lr0, shrink=shrink, c=c)
    return out


@ex2_4.test(points=1)
def test_given_direction(ns, rng):
    """a given direction: Newton's (the unit step is exact), a coordinate direction, a tiny multiple of -grad"""
    q = Quadratic.diagonal([0.2, 4.0])
    f, grad_f = objective(q)
    p = np.array([3.0, 1.0])
    return {
        "Newton direction": ns.backtracking_line_search(f, grad_f, p, -np.linalg.solve(q.A, q.grad(p))),
        "(-1, 0), lr0 = 100, c = 0.5": ns.backtracking_line_search(f, grad_f, p, np.array([-1.0, 0.0]), lr0=100.0, c=0.5),
        "-0.01 grad, lr0 = 1000": ns.backtracking_line_search(f, grad_f, p, -0.01 * q.grad(p), lr0=1000.0),
    }


@ex2_4.test(points=1)
def test_rosenbrock(ns, rng):
    """Rosenbrock's function at random points in [-2, 2]², with c = 1e-4 and c = 0.5"""
    out = {}
    for k in range(6):
        p = rng.uniform(-2, 2, size=2)
        for c in (1e-4, 0.5):
            out[f"point {k}, c={c}"] = ns.backtracking_line_search(rosenbrock, rosenbrock_grad, p, c=c)
    return out


@ex2_4.test(points=2, rtol=1e-9, atol=1e-12)
def test_gradient_descent_with_line_search(ns, rng):
    """25 steps of gradient descent on Rosenbrock's function with your step sizes: every step and iterate"""
    p = np.array([-1.2, 1.0])
    out = {}
    for k in range(1, 26):
        alpha = float(ns.backtracking_line_search(rosenbrock, rosenbrock_grad, p))
        with np.errstate(all="ignore"):           # a wrong step size can make the iterates overflow
            p = p - alpha * rosenbrock_grad(p)
        out[f"step {k}"] = (alpha, p)
    return out


def _search(name, accept, *, first=lambda lr0, shrink: lr0, default_direction=lambda g: -g, max_shrinks=2000):
    """A backtracking search with a (possibly wrong) acceptance test, for the mistakes below."""
    def search(f, grad_f, params, direction=None, *, lr0=1.0, shrink=0.5, c=1e-4):
        g = grad_f(params)
        d = default_direction(g) if direction is None else direction
        f0, slope, alpha = f(params), float(g @ d), first(lr0, shrink)
        for _ in range(max_shrinks):
            if accept(f(params + alpha * d), f0, c * alpha * slope):
                break
            alpha *= shrink
        return alpha
    search.__name__ = search.__qualname__ = name
    return search


@ex2_4.mistake("backtracking_line_search", "the step is never shrunk: lr0 is returned as it is")
def search_never_shrinks(f, grad_f, params, direction=None, *, lr0=1.0, shrink=0.5, c=1e-4):
    return lr0


ex2_4.mistake("backtracking_line_search", "the inequality is reversed: the step is shrunk while Armijo's "
              "condition holds, and the first step that violates it is returned")(
    _search("search_reversed", lambda new, f0, term: not new <= f0 + term, max_shrinks=200))
ex2_4.mistake("backtracking_line_search", "the c·α·∇fᵀd term is missing: any decrease f(θ + αd) < f(θ) is "
              "accepted, not a sufficient one")(_search("search_simple_decrease", lambda new, f0, term: new < f0))
ex2_4.mistake("backtracking_line_search", "the c·α·∇fᵀd term has the wrong sign (f(θ) + c·α·|∇fᵀd|): steps that "
              "increase f are accepted")(_search("search_wrong_sign", lambda new, f0, term: new <= f0 - term))
ex2_4.mistake("backtracking_line_search", "the step is shrunk before the first test, so lr0 itself is never tried")(
    _search("search_lr0_never_tried", lambda new, f0, term: new <= f0 + term, first=lambda lr0, shrink: lr0 * shrink))
ex2_4.mistake("backtracking_line_search", "the default direction is +grad (uphill) instead of -grad")(
    _search("search_uphill", lambda new, f0, term: new <= f0 + term, default_direction=lambda g: g))


# ==================================================================== ex2_5 largest_stable_lr (question)

ex2_5 = Question("ex2_5", ref.largest_stable_lr_answer, anchor="gd-divergence")
test_largest_stable_lr = ex2_5.graded(points=1, digits=3)


def _stability_eigenvalues():
    return np.linalg.eigvalsh(ref.STABILITY_HESSIAN)


@ex2_5.mistake("largest_stable_lr_answer", "1/L: the step with the largest guaranteed decrease, not the "
               "edge of stability; a component is multiplied by 1 - ηλ, which stays above -1 up to η = 2/L")
def stable_lr_one_over_L():
    return 1.0 / _stability_eigenvalues().max()


@ex2_5.mistake("largest_stable_lr_answer", "2/(L + μ): the best constant step (the fastest rate), not the "
               "largest stable one, 2/L")
def stable_lr_optimal_step():
    return ref.optimal_lr(_stability_eigenvalues().min(), _stability_eigenvalues().max())


@ex2_5.mistake("largest_stable_lr_answer", "2 over the largest diagonal entry of H: H is not diagonal, its "
               "curvatures are its eigenvalues (λ² - trace·λ + det = 0), and the largest is above 5")
def stable_lr_diagonal():
    return 2.0 / np.diag(ref.STABILITY_HESSIAN).max()


@ex2_5.mistake("largest_stable_lr_answer", "2/μ with the smallest eigenvalue: every direction must be "
               "stable, so the steepest one (the largest eigenvalue L) sets the limit")
def stable_lr_smallest_eigenvalue():
    return 2.0 / _stability_eigenvalues().min()


# ==================================================================== ex2_6 largest_stable_lr_half_mse (question)

ex2_6 = Question("ex2_6", ref.largest_stable_lr_half_mse_answer, anchor="gd-half-mse")
test_largest_stable_lr_half_mse = ex2_6.graded(points=1, digits=3)


def _half_mse_curvatures(with_ones=True):
    """(mu, L) of the MSE on source article 000's six points, the data of the question."""
    x, _ = seed_data_000()
    return ref.linreg_smoothness(design_matrix(x) if with_ones else x[:, None])


@ex2_6.mistake("largest_stable_lr_half_mse_answer", "2/L with the MSE's curvature L: the half-MSE J/2 has half "
               "the curvature, L/2, so its threshold 2/(L/2) is twice as large")
def half_mse_mse_threshold():
    return 2.0 / _half_mse_curvatures()[1]


@ex2_6.mistake("largest_stable_lr_half_mse_answer", "1/L, as if the half-MSE had twice the curvature: "
               "halving the loss halves its curvature, which doubles the largest stable step to 4/L")
def half_mse_halved():
    return 1.0 / _half_mse_curvatures()[1]


@ex2_6.mistake("largest_stable_lr_half_mse_answer", "without the column of ones: the model ŷ = b + wx has "
               "two parameters, and X = [1, x] is 6 × 2")
def half_mse_no_ones_column():
    return 4.0 / _half_mse_curvatures(with_ones=False)[1]


@ex2_6.mistake("largest_stable_lr_half_mse_answer", "the half-MSE's smallest curvature μ/2: a curvature is not "
               "a step size, and the steepest direction sets the limit, α < 2/(L/2) = 4/L")
def half_mse_smallest_curvature():
    return _half_mse_curvatures()[0] / 2


@ex2_6.mistake("largest_stable_lr_half_mse_answer", "the MSE's smallest curvature μ: a curvature is not a step "
               "size, and the steepest direction of the half-MSE sets the limit, α < 2/(L/2) = 4/L")
def half_mse_mse_smallest_curvature():
    return _half_mse_curvatures()[0]
