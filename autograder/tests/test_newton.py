"""Graded tests of chapter 7 (Newton's method): ex7_1 .. ex7_9 (ex7_7 and ex7_8 are questions).

Every scenario calls the student's functions through ``ns`` and returns plain data that
the grader compares with the reference's (solutions/newton.py). The objectives given to
``damped_newton`` cross to the student's process as ``functools.partial`` objects of
module-level functions (of solutions/ or of this file), which the worker imports by name.

Newton's method converges quadratically, so its last iterates are at rounding level:
the scenarios compare them with an absolute tolerance far above rounding (``atol``) and
use well-conditioned problems, so that correct code written differently never loses
points. The mistakes below are the classic wrong implementations; when a submission's
output equals one of them, the feedback names it and links the section of
lessons/07_newton.ipynb that explains it.
"""
import functools

import numpy as np

from autograder.framework import Exercise, Question
from solutions import newton as ref
from autograder.tests.problems import random_spd
from autograder.tests.test_gradient_descent import quadratic_grad, quadratic_loss
from solutions.common import Quadratic, design_matrix, rosenbrock, rosenbrock_grad

ex7_1 = Exercise("ex7_1", ref.newton_step, anchor="newton-step")
ex7_2 = Exercise("ex7_2", ref.newton_decrement, anchor="newton-decrement")
ex7_3 = Exercise("ex7_3", ref.logistic_loss, ref.logistic_grad, ref.logistic_hess, anchor="newton-logistic")
ex7_4 = Exercise("ex7_4", ref.damped_newton, anchor="newton-damped")
ex7_5 = Exercise("ex7_5", ref.modified_hessian, anchor="newton-nonconvex")
ex7_6 = Exercise("ex7_6", ref.bfgs_update, anchor="newton-bfgs")


def random_symmetric(rng, d):
    """A random symmetric matrix (indefinite in general)."""
    M = rng.normal(size=(d, d))
    return (M + M.T) / 2


def random_classification(rng, n, d, scale=1.0):
    """A design matrix (n, d + 1) with its column of ones and 0/1 labels of a noisy linear rule."""
    X = design_matrix(scale * rng.normal(size=(n, d)))
    logits = X @ rng.normal(size=d + 1) / scale
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logits))).astype(float)
    return X, y


# ==================================================================== ex7_1 newton_step

@ex7_1.test(points=1)
def test_quadratic_in_one_step(ns, rng):
    """one step on f(x) = 0.1 x1² + 2 x2² and on random quadratics (d = 1, 3, 6) lands on the minimiser"""
    out = {"running example from (-4.5, 1.5)": ns.newton_step(np.array([-4.5, 1.5]), np.array([-0.9, 6.0]),
                                                                np.diag([0.2, 4.0]))}
    for d in (1, 3, 6):
        q = Quadratic(random_spd(rng, d, 10.0), rng.normal(size=d))
        p = 3 * rng.normal(size=d)
        out[f"d={d}"] = ns.newton_step(p, q.grad(p), q.A)
    return out


@ex7_1.test(points=2)
def test_random_systems(ns, rng):
    """random positive-definite Hessians (d = 1 .. 8), gradients and points of several magnitudes"""
    out = {}
    for d, scale in [(1, 1.0), (2, 1.0), (5, 1e3), (8, 1e-3), (4, 1.0)]:
        H = scale * random_spd(rng, d, 50.0)
        out[f"d={d}, scale {scale:g}"] = ns.newton_step(rng.normal(size=d), scale * rng.normal(size=d), H)
    return out


@ex7_1.test(points=2, rtol=1e-10, atol=1e-10)
def test_newton_system_is_solved_accurately(ns, rng):
    """ill-conditioned Hessians (condition number 1e12): H (params - new_params) must reproduce the gradient"""
    out = {}
    for d in (6, 8, 10):
        H = random_spd(rng, d, 1e12)
        g = H @ rng.normal(size=d)
        g /= np.linalg.norm(g)
        p = rng.normal(size=d)
        new = ns.newton_step(p, g, H).array()
        out[f"d={d}: H (params - new_params)"] = H @ (p - new) if new.shape == p.shape else new
    return out


@ex7_1.mistake("newton_step", "H instead of its inverse: params - H @ grads", anchor="newton-step")
def newton_step_times_h(params, grads, hess):
    return params - hess @ grads


@ex7_1.mistake("newton_step", "the sign is flipped: params + H⁻¹ g moves to the maximum of the quadratic model's "
               "opposite, uphill", anchor="newton-step")
def newton_step_sign(params, grads, hess):
    return params + np.linalg.solve(hess, grads)


@ex7_1.mistake("newton_step", "only the diagonal of H is used (params - g / diag(H)): that is a diagonal "
               "rescaling, not Newton's method", anchor="newton-step")
def newton_step_diagonal(params, grads, hess):
    return params - grads / np.diag(hess)


@ex7_1.mistake("newton_step", "H⁻¹ is formed (np.linalg.inv(H) @ g) instead of solving H d = g: on an "
               "ill-conditioned H the result does not satisfy H d = g to rounding error", anchor="newton-step")
def newton_step_inverse(params, grads, hess):
    return params - np.linalg.inv(hess) @ grads


@ex7_1.mistake("newton_step", "returns the Newton direction -H⁻¹ g instead of the new params")
def newton_step_direction(params, grads, hess):
    return -np.linalg.solve(hess, grads)


# ==================================================================== ex7_2 newton_decrement

@ex7_2.test(points=1)
def test_decrement_running_example(ns, rng):
    """f(x) = 0.1 x1² + 2 x2² at a few points (there λ² = 2 f)"""
    H = np.diag([0.2, 4.0])
    return {f"at {p}": ns.newton_decrement(H @ np.array(p), H) for p in [(1.0, 1.0), (-4.5, 1.5), (0.0, 1e-3)]}


@ex7_2.test(points=2)
def test_decrement_random(ns, rng):
    """random positive-definite Hessians and gradients, d = 1 .. 7, several scales"""
    out = {}
    for d, scale in [(1, 1.0), (3, 1.0), (7, 1e4), (5, 1e-4), (2, 10.0)]:
        H = random_spd(rng, d, 30.0) * scale
        out[f"d={d}, scale {scale:g}"] = ns.newton_decrement(rng.normal(size=d), H)
    return out


@ex7_2.mistake("newton_decrement", "the square root is missing: gᵀH⁻¹g is λ², not the decrement λ",
               anchor="newton-decrement")
def decrement_squared(grads, hess):
    return float(grads @ np.linalg.solve(hess, grads))


@ex7_2.mistake("newton_decrement", "half the square: λ²/2 (that is the stopping quantity, not λ)",
               anchor="newton-decrement")
def decrement_half_square(grads, hess):
    return float(grads @ np.linalg.solve(hess, grads)) / 2


@ex7_2.mistake("newton_decrement", "the gradient norm ‖g‖ instead of (gᵀH⁻¹g)^½", anchor="newton-decrement")
def decrement_gradient_norm(grads, hess):
    return float(np.linalg.norm(grads))


@ex7_2.mistake("newton_decrement", "(gᵀHg)^½: H instead of its inverse", anchor="newton-decrement")
def decrement_times_h(grads, hess):
    return float(np.sqrt(grads @ hess @ grads))


@ex7_2.mistake("newton_decrement", "the length of the Newton step ‖H⁻¹g‖ instead of (gᵀH⁻¹g)^½",
               anchor="newton-decrement")
def decrement_step_length(grads, hess):
    return float(np.linalg.norm(np.linalg.solve(hess, grads)))


# ==================================================================== ex7_3 logistic_loss, _grad, _hess

@ex7_3.test(points=1)
def test_loss_small_problems(ns, rng):
    """random data sets (n = 1 .. 40, d = 1 .. 5) at random params, with l2 = 0 and l2 = 0.3"""
    out = {}
    for n, d in [(1, 1), (12, 2), (40, 5), (7, 3)]:
        X, y = random_classification(rng, n, d)
        theta = rng.normal(size=d + 1)
        for l2 in (0.0, 0.3):
            out[f"n={n}, d={d}, l2={l2}"] = ns.logistic_loss(theta, X, y, l2=l2)
    return out


#: Logits of ±800 and ±1000 whatever the seed (exp overflows beyond 709), both labels on each side.
LARGE_LOGITS = (design_matrix(np.array([[1.0], [-1.0], [1.25], [-1.25]])), np.array([1.0, 0.0, 0.0, 1.0]),
                np.array([0.0, 800.0]))


@ex7_3.test(points=1)
def test_loss_large_logits(ns, rng):
    """logits of size up to 1e3 (the stable form of chapter 1 is needed), and the default l2"""
    out = {}
    for scale in (30.0, 1e3):
        X, y = random_classification(rng, 20, 3)
        theta = scale * rng.normal(size=4)
        out[f"params of scale {scale:g}, l2=0.01"] = ns.logistic_loss(theta, X, y, l2=0.01)
        out[f"params of scale {scale:g}, default l2"] = ns.logistic_loss(theta, X, y)
    X, y, theta = LARGE_LOGITS
    out["logits ±800 and ±1000"] = ns.logistic_loss(theta, X, y)
    return out


@ex7_3.test(points=2)
def test_grad_random(ns, rng):
    """the gradient on random data sets, with and without the penalty, and with large logits"""
    out = {}
    for n, d, l2, scale in [(1, 1, 0.0, 1.0), (15, 2, 0.5, 1.0), (40, 5, 0.1, 1.0), (30, 3, 0.0, 1.0), (25, 4, 0.05, 300.0)]:
        X, y = random_classification(rng, n, d)
        out[f"n={n}, d={d}, l2={l2}, scale {scale:g}"] = ns.logistic_grad(scale * rng.normal(size=d + 1), X, y, l2=l2)
    return out


@ex7_3.test(points=2)
def test_hess_random(ns, rng):
    """the Hessian on random data sets (n = 1 .. 40, d = 1 .. 5), with and without the penalty"""
    out = {}
    for n, d, l2 in [(1, 1, 0.0), (15, 2, 0.5), (40, 5, 0.1), (30, 3, 0.0), (8, 4, 2.0)]:
        X, y = random_classification(rng, n, d)
        out[f"n={n}, d={d}, l2={l2}"] = ns.logistic_hess(rng.normal(size=d + 1), X, y, l2=l2)
    return out


@ex7_3.test(points=1, rtol=1e-6, atol=1e-8)
def test_newton_with_your_functions(ns, rng):
    """8 full Newton steps on a random problem (n = 50, d = 3, l2 = 0.1) with your gradient and Hessian"""
    X, y = random_classification(rng, 50, 3)
    theta = np.zeros(4)
    out = {}
    for k in range(1, 9):
        g, H = ns.logistic_grad(theta, X, y, l2=0.1).array(), ns.logistic_hess(theta, X, y, l2=0.1).array()
        if g.shape != theta.shape or H.shape != (4, 4):
            return {"shapes": (g.shape, H.shape)}
        theta = theta - np.linalg.solve(H, g)
        out[f"step {k}"] = theta
    out["loss at the end"] = ns.logistic_loss(theta, X, y, l2=0.1)
    return out


@ex7_3.mistake("logistic_loss", "the bias is penalised too: (l2/2)‖θ‖² instead of (l2/2)‖w‖²",
               anchor="newton-logistic")
def loss_bias_penalised(params, X, y, *, l2=0.0):
    z = X @ params
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))) + 0.5 * l2 * params @ params)


@ex7_3.mistake("logistic_loss", "the penalty without its 1/2: l2 ‖w‖²", anchor="newton-logistic")
def loss_penalty_no_half(params, X, y, *, l2=0.0):
    z = X @ params
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))) + l2 * params[1:] @ params[1:])


@ex7_3.mistake("logistic_loss", "the sum of the cross-entropies instead of their mean")
def loss_sum(params, X, y, *, l2=0.0):
    z = X @ params
    return float(np.sum(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))) + 0.5 * l2 * params[1:] @ params[1:])


@ex7_3.mistake("logistic_loss", "the naive -y log σ(z) - (1-y) log(1-σ(z)): it overflows (log 0) for large "
               "logits; use chapter 1's stable form")
def loss_naive(params, X, y, *, l2=0.0):
    with np.errstate(all="ignore"):
        p = 1.0 / (1.0 + np.exp(-(X @ params)))
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)) + 0.5 * l2 * params[1:] @ params[1:])


@ex7_3.mistake("logistic_loss", "log(1 + e^z) computed as it is written: e^z overflows for logits above 709 "
               "(inf); use chapter 1's stable form max(z, 0) + log1p(e^{-|z|})", anchor="newton-logistic")
def loss_softplus_overflow(params, X, y, *, l2=0.0):
    z = X @ params
    with np.errstate(over="ignore"):
        return float(np.mean(np.log(1.0 + np.exp(z)) - y * z) + 0.5 * l2 * params[1:] @ params[1:])


@ex7_3.mistake("logistic_grad", "the bias is penalised too: + l2 θ instead of + l2 (0, w)", anchor="newton-logistic")
def grad_bias_penalised(params, X, y, *, l2=0.0):
    return X.T @ (ref.sigmoid(X @ params) - y) / len(y) + l2 * params


@ex7_3.mistake("logistic_grad", "the sign is flipped: Xᵀ(y - σ(Xθ))/n is the gradient of the log-likelihood, "
               "not of the loss")
def grad_sign(params, X, y, *, l2=0.0):
    w = np.r_[0.0, params[1:]]
    return X.T @ (y - ref.sigmoid(X @ params)) / len(y) - l2 * w


@ex7_3.mistake("logistic_grad", "the sum over samples instead of the mean (the 1/n is missing)")
def grad_sum(params, X, y, *, l2=0.0):
    w = np.r_[0.0, params[1:]]
    return X.T @ (ref.sigmoid(X @ params) - y) + l2 * w


@ex7_3.mistake("logistic_grad", "the penalty's gradient l2·w is missing")
def grad_no_penalty(params, X, y, *, l2=0.0):
    return X.T @ (ref.sigmoid(X @ params) - y) / len(y)


@ex7_3.mistake("logistic_hess", "the 1/n is missing: XᵀDX + l2 instead of XᵀDX/n + l2 (the Hessian of the sum, "
               "not of the mean)", anchor="newton-logistic")
def hess_no_mean(params, X, y, *, l2=0.0):
    p = ref.sigmoid(X @ params)
    return X.T @ (X * (p * (1 - p))[:, None]) + l2 * np.diag(np.r_[0.0, np.ones(X.shape[1] - 1)])


@ex7_3.mistake("logistic_hess", "the bias is penalised too: + l2 I instead of + l2 diag(0, 1, …, 1)",
               anchor="newton-logistic")
def hess_bias_penalised(params, X, y, *, l2=0.0):
    p = ref.sigmoid(X @ params)
    return X.T @ (X * (p * (1 - p))[:, None]) / len(y) + l2 * np.eye(X.shape[1])


@ex7_3.mistake("logistic_hess", "D = σ(z) instead of σ(z)(1 - σ(z))")
def hess_sigma_only(params, X, y, *, l2=0.0):
    p = ref.sigmoid(X @ params)
    return X.T @ (X * p[:, None]) / len(y) + l2 * np.diag(np.r_[0.0, np.ones(X.shape[1] - 1)])


@ex7_3.mistake("logistic_hess", "the weights σ(1 - σ) are missing: XᵀX/n is the Hessian of least squares' half-MSE")
def hess_no_weights(params, X, y, *, l2=0.0):
    return X.T @ X / len(y) + l2 * np.diag(np.r_[0.0, np.ones(X.shape[1] - 1)])


# ==================================================================== ex7_4 damped_newton

def quadratic_hess(params, A, b):
    """The (constant) Hessian ``A`` of a quadratic."""
    return np.array(A, dtype=float)


def modified_hess(params, hess):
    """``hess(params)`` made positive definite by the reference :func:`modified_hessian`."""
    return ref.modified_hessian(hess(params))


def logistic_problem(X, y, l2):
    """``(f, grad, hess)`` of logistic regression, as objects that can be sent to the student's process."""
    return tuple(functools.partial(fn, X=X, y=y, l2=l2) for fn in (ref.logistic_loss, ref.logistic_grad, ref.logistic_hess))


@ex7_4.test(points=1, rtol=1e-6, atol=1e-8)
def test_quadratic_one_full_step(ns, rng):
    """random positive-definite quadratics (d = 2, 5): one full step (t = 1), then the decrement is 0"""
    out = {}
    for d in (2, 5):
        q = Quadratic(random_spd(rng, d, 10.0), rng.normal(size=d))
        fns = [functools.partial(fn, A=q.A, b=q.b) for fn in (quadratic_loss, quadratic_grad, quadratic_hess)]
        out[f"d={d}"] = ns.damped_newton(*fns, 3 * rng.normal(size=d))
    return out


@ex7_4.test(points=2, rtol=1e-6, atol=1e-8)
def test_logistic_regression(ns, rng):
    """logistic regression (n = 80, d = 4, l2 = 0.05) from 0 and from a far point where the full step fails"""
    X, y = random_classification(rng, 80, 4)
    f, grad, hess = logistic_problem(X, y, 0.05)
    return {"from 0": ns.damped_newton(f, grad, hess, np.zeros(5)),
            "from a far point": ns.damped_newton(f, grad, hess, 6.0 * rng.normal(size=5))}


#: Starting points of the quadratic ½ xᵀ diag(100, 1) x and tolerances on either side of the
#: stopping rule λ²/2 ≤ tol: (x0, tol, λ², ‖g‖). The reference stops at once in each; stopping on
#: λ² ≤ tol steps in all three, on λ ≤ tol in the first only, on ‖g‖ ≤ tol in the first two.
STOPPING_CASES = [((0.1, 0.0), 0.75, 1.0, 10.0), ((1.0, 0.0), 60.0, 100.0, 100.0), ((0.0, 3.0), 5.0, 9.0, 3.0)]


@ex7_4.test(points=1, rtol=1e-6, atol=1e-8)
def test_constants_and_iteration_limit(ns, rng):
    """alpha = 0.1, beta = 0.8, tol = 1e-6; max_iter = 2 (the run stops after two steps); and the stopping
    rule λ²/2 ≤ tol, with λ², λ and ‖g‖ on different sides of tol"""
    X, y = random_classification(rng, 60, 3)
    f, grad, hess = logistic_problem(X, y, 0.02)
    x0 = 4.0 * rng.normal(size=4)
    out = {"alpha=0.1, beta=0.8, tol=1e-6": ns.damped_newton(f, grad, hess, x0, alpha=0.1, beta=0.8, tol=1e-6),
           "max_iter=2": ns.damped_newton(f, grad, hess, x0, max_iter=2)}
    A, b = np.diag([100.0, 1.0]), np.zeros(2)
    fns = [functools.partial(fn, A=A, b=b) for fn in (quadratic_loss, quadratic_grad, quadratic_hess)]
    for x0, tol, _, _ in STOPPING_CASES:
        out[f"x0={x0}, tol={tol:g}"] = ns.damped_newton(*fns, np.array(x0), tol=tol)
    return out


@ex7_4.test(points=2, rtol=1e-6, atol=1e-8)
def test_rosenbrock(ns, rng):
    """Rosenbrock's function from (-1.2, 1) and from a random point in [-1.5, 1.5]² (modified Hessian)"""
    hess = functools.partial(modified_hess, hess=ref.rosenbrock_hess)
    return {"from (-1.2, 1)": ns.damped_newton(rosenbrock, rosenbrock_grad, hess, np.array([-1.2, 1.0])),
            "from a random point": ns.damped_newton(rosenbrock, rosenbrock_grad, hess, rng.uniform(-1.5, 1.5, size=2))}


@ex7_4.test(points=1, rtol=1e-6, atol=1e-8)
def test_non_convex_with_the_modified_hessian(ns, rng):
    """four_wells (a maximum at 0, saddles, four minima) from a random point near the maximum, modified Hessian"""
    hess = functools.partial(modified_hess, hess=ref.four_wells_hess)
    return ns.damped_newton(ref.four_wells, ref.four_wells_grad, hess, rng.uniform(-0.5, 0.5, size=2))


def _newton(name, *, first=lambda beta: 1.0, search=True, stop=lambda lam, g, tol: lam**2 / 2 <= tol,
            last_decrement=True):
    """A damped Newton with one thing changed, for the mistakes below."""
    def damped(f, grad, hess, x0, *, tol=1e-10, max_iter=50, alpha=0.25, beta=0.5):
        x = np.array(x0, dtype=float)
        xs, fs, lams, ts = [x], [f(x)], [], []
        for k in range(max_iter + 1):
            g, H = grad(x), hess(x)
            d = -np.linalg.solve(H, g)
            lam = float(np.sqrt(-(g @ d)))
            if stop(lam, g, tol) or k == max_iter:
                if last_decrement:
                    lams.append(lam)
                break
            lams.append(lam)
            t = first(beta)
            while search and f(x + t * d) > f(x) - alpha * t * lam**2 and t > 1e-300:
                t *= beta
            x = x + t * d
            xs.append(x)
            fs.append(f(x))
            ts.append(t)
        return ref.NewtonTrajectory(np.stack(xs), np.array(fs), np.array(lams), np.array(ts, dtype=float))
    damped.__name__ = damped.__qualname__ = name
    return damped


ex7_4.mistake("damped_newton", "the backtracking never tries the full step t = 1 (it starts at beta), so the "
              "quadratic convergence is lost", anchor="newton-damped")(_newton("newton_never_full_step", first=lambda b: b))
ex7_4.mistake("damped_newton", "no line search (pure Newton, t = 1 always): far from the optimum the full step "
              "can increase the loss or diverge", anchor="newton-damped")(_newton("newton_pure", search=False))
ex7_4.mistake("damped_newton", "stops when λ ≤ tol instead of λ²/2 ≤ tol", anchor="newton-decrement")(
    _newton("newton_stop_on_lambda", stop=lambda lam, g, tol: lam <= tol))
ex7_4.mistake("damped_newton", "stops when λ² ≤ tol instead of λ²/2 ≤ tol (the 1/2 is missing)",
              anchor="newton-decrement")(_newton("newton_stop_on_lambda_squared", stop=lambda lam, g, tol: lam**2 <= tol))
ex7_4.mistake("damped_newton", "stops when the gradient norm ‖g‖ ≤ tol instead of when λ²/2 ≤ tol (Newton's "
              "stopping quantity is the decrement, which does not depend on the scaling of the problem)",
              anchor="newton-decrement")(_newton("newton_stop_on_gradient_norm",
                                                 stop=lambda lam, g, tol: float(np.linalg.norm(g)) <= tol))
ex7_4.mistake("damped_newton", "the decrement of the last iterate (the one that stops the run) is not recorded")(
    _newton("newton_no_last_decrement", last_decrement=False))


# ==================================================================== ex7_5 modified_hessian

@ex7_5.test(points=1)
def test_positive_definite_is_unchanged(ns, rng):
    """positive-definite matrices (d = 1 .. 6) come back unchanged (tau = 0)"""
    return {f"d={d}": ns.modified_hessian(random_spd(rng, d, 100.0)) for d in (1, 2, 6)}


@ex7_5.test(points=2)
def test_indefinite_matrices(ns, rng):
    """random symmetric indefinite matrices (d = 2 .. 6), default beta, beta = 0.1 and beta = 1e-5"""
    out = {}
    for d in (2, 4, 6):
        H = random_symmetric(rng, d)
        out[f"d={d}"] = ns.modified_hessian(H)
        out[f"d={d}, beta=0.1"] = ns.modified_hessian(H, beta=0.1)
        out[f"d={d}, beta=1e-5"] = ns.modified_hessian(H, beta=1e-5)
    return out


@ex7_5.test(points=1)
def test_positive_diagonal_but_indefinite(ns, rng):
    """a positive diagonal does not make a matrix positive definite: tau starts at 0, then beta, doubling"""
    out = {"[[1, 2], [2, 1]]": ns.modified_hessian(np.array([[1.0, 2.0], [2.0, 1.0]]))}
    for d in (3, 5):
        M = random_symmetric(rng, d)
        out[f"d={d}"] = ns.modified_hessian(M - np.diag(np.diag(M)) + np.diag(rng.uniform(0.1, 0.5, size=d)))
    return out


@ex7_5.test(points=1, rtol=1e-6, atol=1e-8)
def test_newton_direction_descends_on_four_wells(ns, rng):
    """modified Hessians of four_wells at random points: the Newton direction computed with yours"""
    out = {}
    for k in range(5):
        p = rng.uniform(-1.2, 1.2, size=2)
        H = ns.modified_hessian(ref.four_wells_hess(p)).array()
        out[f"point {k}"] = -np.linalg.solve(H, ref.four_wells_grad(p)) if H.shape == (2, 2) else H
    return out


def _shift(H, tau0, grow):
    eye = np.eye(len(H))
    tau = tau0
    for _ in range(200):
        if np.all(np.linalg.eigvalsh(H + tau * eye) > 0):
            break
        tau = grow(tau)
    return H + tau * eye


@ex7_5.mistake("modified_hessian", "tau starts at -min(diag H) without + beta: H + tau I then has a zero on "
               "its diagonal and the first try always fails", anchor="newton-nonconvex")
def modified_no_beta(hess, *, beta=1e-3):
    a = np.min(np.diag(hess))
    return _shift(hess, 0.0 if a > 0 else -a, lambda tau: max(2 * tau, beta))


@ex7_5.mistake("modified_hessian", "the shift is -λ_min(H) + beta from the eigenvalues, not the first tau of "
               "Nocedal & Wright's sequence", anchor="newton-nonconvex")
def modified_eigenvalue(hess, *, beta=1e-3):
    lam = np.linalg.eigvalsh(hess)[0]
    return hess + (max(0.0, -lam + beta) if lam <= 0 else 0.0) * np.eye(len(hess))


@ex7_5.mistake("modified_hessian", "beta is added even when H is already positive definite", anchor="newton-nonconvex")
def modified_always_shift(hess, *, beta=1e-3):
    a = np.min(np.diag(hess))
    return _shift(hess, beta if a > 0 else -a + beta, lambda tau: max(2 * tau, beta))


@ex7_5.mistake("modified_hessian", "tau grows by 10 instead of doubling", anchor="newton-nonconvex")
def modified_times_ten(hess, *, beta=1e-3):
    a = np.min(np.diag(hess))
    return _shift(hess, 0.0 if a > 0 else -a + beta, lambda tau: max(10 * tau, beta))


@ex7_5.mistake("modified_hessian", "a positive diagonal is taken as proof of positive definiteness (tau = 0, "
               "no Cholesky test)", anchor="newton-nonconvex")
def modified_trusts_diagonal(hess, *, beta=1e-3):
    a = np.min(np.diag(hess))
    return np.array(hess, dtype=float) if a > 0 else _shift(hess, -a + beta, lambda tau: max(2 * tau, beta))


# ==================================================================== ex7_6 bfgs_update

def _pair(rng, d):
    """A step s and a gradient change y = A s of a random positive-definite quadratic (so yᵀs > 0)."""
    s = rng.normal(size=d)
    return s, random_spd(rng, d, 20.0) @ s


@ex7_6.test(points=1)
def test_one_update_from_identity(ns, rng):
    """from H = I, d = 1 .. 4"""
    out = {}
    for d in (1, 2, 4):
        s, y = _pair(rng, d)
        out[f"d={d}"] = ns.bfgs_update(np.eye(d), s, y)
    return out


@ex7_6.test(points=2)
def test_random_updates(ns, rng):
    """random positive-definite H and pairs (s, y) with yᵀs > 0, d = 2 .. 6, several scales"""
    out = {}
    for d, scale in [(2, 1.0), (3, 1e3), (6, 1e-2), (5, 1.0)]:
        s, y = _pair(rng, d)
        out[f"d={d}, scale {scale:g}"] = ns.bfgs_update(random_spd(rng, d, 10.0), scale * s, y)
    return out


@ex7_6.test(points=1, rtol=1e-6, atol=1e-9)
def test_updates_on_a_quadratic(ns, rng):
    """4 successive updates with steps of a 4-D quadratic: H_k and the secant products H_k y_k"""
    A = random_spd(rng, 4, 20.0)
    h_inv, out = np.eye(4), {}
    for k in range(1, 5):
        s = rng.normal(size=4)
        h_inv = ns.bfgs_update(h_inv, s, A @ s).array()
        out[f"update {k}"] = h_inv
        out[f"update {k}: H y"] = h_inv @ (A @ s) if h_inv.shape == (4, 4) else h_inv
    return out


@ex7_6.mistake("bfgs_update", "s and y are swapped: that updates an approximation of the Hessian B (the DFP "
               "formula for B), not of its inverse, and H y = s fails", anchor="newton-bfgs")
def bfgs_swapped(h_inv, s, y):
    return ref.bfgs_update(h_inv, y, s)


@ex7_6.mistake("bfgs_update", "ρ = 1/(sᵀs) instead of 1/(yᵀs)", anchor="newton-bfgs")
def bfgs_rho_ss(h_inv, s, y):
    rho = 1.0 / (s @ s)
    V = np.eye(len(s)) - rho * np.outer(s, y)
    return V @ h_inv @ V.T + rho * np.outer(s, s)


@ex7_6.mistake("bfgs_update", "the term + ρ s sᵀ is missing", anchor="newton-bfgs")
def bfgs_no_rank_one(h_inv, s, y):
    rho = 1.0 / (y @ s)
    V = np.eye(len(s)) - rho * np.outer(s, y)
    return V @ h_inv @ V.T


@ex7_6.mistake("bfgs_update", "the factors are transposed: (I - ρ y sᵀ) H (I - ρ s yᵀ)", anchor="newton-bfgs")
def bfgs_transposed(h_inv, s, y):
    rho = 1.0 / (y @ s)
    V = np.eye(len(s)) - rho * np.outer(y, s)
    return V @ h_inv @ V.T + rho * np.outer(s, s)


@ex7_6.mistake("bfgs_update", "the update of the Hessian B (B - B s sᵀ B / sᵀBs + y yᵀ / yᵀs) applied to the "
               "inverse approximation", anchor="newton-bfgs")
def bfgs_direct_formula(h_inv, s, y):
    Hs = h_inv @ s
    return h_inv - np.outer(Hs, Hs) / (s @ Hs) + np.outer(y, y) / (y @ s)


# ==================================================================== ex7_7 newton_quartic_ratio (question)

ex7_7 = Question("ex7_7", ref.newton_quartic_ratio_answer, anchor="newton-step")
test_newton_quartic_ratio = ex7_7.graded(points=1, digits=3)


@ex7_7.mistake("newton_quartic_ratio_answer", "0, one step to the minimiser: that holds when J is a "
               "quadratic, whose model m is J itself; θ⁴ is not, and its Hessian 12θ² vanishes at the minimiser")
def quartic_one_step():
    return 0.0


@ex7_7.mistake("newton_quartic_ratio_answer", "1/3, with J'' = 6θ²: the second derivative of θ⁴ is 12θ²")
def quartic_wrong_hessian():
    return 1 / 3


# ==================================================================== ex7_8 newton_decrement_example (question)

ex7_8 = Question("ex7_8", ref.newton_decrement_example_answer, anchor="newton-decrement")
test_newton_decrement_example = ex7_8.graded(points=1, digits=3)


def _decrement_problem():
    H = np.diag(ref.DECREMENT_SETTING["curvatures"])
    return H @ np.array(ref.DECREMENT_SETTING["theta"]), H


@ex7_8.mistake("newton_decrement_example_answer", "λ², without the square root: λ = (gᵀH⁻¹g)^(1/2)")
def decrement_example_squared():
    g, H = _decrement_problem()
    return float(g @ np.linalg.solve(H, g))


@ex7_8.mistake("newton_decrement_example_answer", "the gradient's norm ‖g‖: the decrement weighs g by H⁻¹, "
               "which is what makes it independent of the coordinates")
def decrement_example_gradient_norm():
    return float(np.linalg.norm(_decrement_problem()[0]))


@ex7_8.mistake("newton_decrement_example_answer", "λ²/2, the decrease the quadratic model predicts "
               "(here J(θ) - J*), not the decrement λ itself")
def decrement_example_half_square():
    g, H = _decrement_problem()
    return float(g @ np.linalg.solve(H, g)) / 2


# ==================================================================== ex7_9 lbfgs_direction

ex7_9 = Exercise("ex7_9", ref.lbfgs_direction, anchor="newton-lbfgs")


def _memory(rng, d, m, scale=1.0):
    """m pairs (s_i, y_i = A_i s_i), oldest first, each A_i a random positive-definite matrix (so yᵢᵀsᵢ > 0):
    the gradient changes of a function whose Hessian changes from step to step."""
    s_list = [scale * rng.normal(size=d) for _ in range(m)]
    return s_list, [random_spd(rng, d, 20.0) @ s for s in s_list]


@ex7_9.test(points=1)
def test_no_pair_and_one_pair(ns, rng):
    """no stored pair (d = -g), the docstring's example, and one random pair (d = 1, 3)"""
    out = {"no pair": ns.lbfgs_direction(np.array([2.0, 8.0]), [], []),
           "one pair, the example": ns.lbfgs_direction(np.array([2.0, 8.0]), [np.array([1.0, 0.0])],
                                                       [np.array([2.0, 0.0])])}
    for d in (1, 3):
        s_list, y_list = _memory(rng, d, 1)
        out[f"one pair, d={d}"] = ns.lbfgs_direction(rng.normal(size=d), s_list, y_list)
    return out


@ex7_9.test(points=2)
def test_random_memories(ns, rng):
    """m = 2 .. 6 random pairs with yᵀs > 0, d = 2 .. 8, steps of several magnitudes"""
    out = {}
    for d, m, scale in [(2, 2, 1.0), (4, 3, 1e-3), (8, 6, 1.0), (5, 4, 1e2), (3, 5, 1.0)]:
        s_list, y_list = _memory(rng, d, m, scale)
        out[f"d={d}, m={m}, steps of scale {scale:g}"] = ns.lbfgs_direction(rng.normal(size=d), s_list, y_list)
    return out


@ex7_9.test(points=1)
def test_pairs_of_a_logistic_regression(ns, rng):
    """5 pairs from the gradients of a logistic regression (n = 60, d = 4, l2 = 0.1) along a random walk"""
    X, y = random_classification(rng, 60, 4)
    points = np.cumsum(0.5 * rng.normal(size=(6, 5)), axis=0)
    grads = [ref.logistic_grad(p, X, y, l2=0.1) for p in points]
    s_list = [b - a for a, b in zip(points, points[1:])]
    y_list = [b - a for a, b in zip(grads, grads[1:])]
    return {f"the last {m} pairs": ns.lbfgs_direction(grads[-1], s_list[-m:], y_list[-m:]) for m in (2, 5)}


def _two_loop(name, *, newest_first=True, gamma=lambda s_list, y_list: s_list[-1] @ y_list[-1] / (y_list[-1] @ y_list[-1]),
              rho=lambda s, y: 1.0 / (y @ s), sign=-1.0):
    """The two-loop recursion with one thing changed, for the mistakes below."""
    def direction(grads, s_list, y_list):
        q = np.array(grads, dtype=float)
        if not len(s_list):
            return sign * q
        first = list(range(len(s_list)))[::-1] if newest_first else list(range(len(s_list)))
        alphas = {}
        for i in first:
            alphas[i] = rho(s_list[i], y_list[i]) * (s_list[i] @ q)
            q = q - alphas[i] * y_list[i]
        r = gamma(s_list, y_list) * q
        for i in reversed(first):
            r = r + (alphas[i] - rho(s_list[i], y_list[i]) * (y_list[i] @ r)) * s_list[i]
        return sign * r
    direction.__name__ = direction.__qualname__ = name
    return direction


ex7_9.mistake("lbfgs_direction", "the two loops run in the wrong order: the first must go from the newest pair to "
              "the oldest, the second from the oldest to the newest", anchor="newton-lbfgs")(
    _two_loop("lbfgs_loops_reversed", newest_first=False))
ex7_9.mistake("lbfgs_direction", "γ = yᵀy/sᵀy, inverted: H₀ = γI approximates the inverse Hessian, γ = sᵀy/yᵀy",
              anchor="newton-lbfgs")(
    _two_loop("lbfgs_gamma_inverted", gamma=lambda s_list, y_list: y_list[-1] @ y_list[-1] / (s_list[-1] @ y_list[-1])))
ex7_9.mistake("lbfgs_direction", "γ is taken from the oldest pair: it is sᵀy/yᵀy of the newest one",
              anchor="newton-lbfgs")(
    _two_loop("lbfgs_gamma_oldest", gamma=lambda s_list, y_list: s_list[0] @ y_list[0] / (y_list[0] @ y_list[0])))
ex7_9.mistake("lbfgs_direction", "H₀ = I: the scaling γ = sᵀy/yᵀy of the newest pair is missing", anchor="newton-lbfgs")(
    _two_loop("lbfgs_no_gamma", gamma=lambda s_list, y_list: 1.0))
ex7_9.mistake("lbfgs_direction", "ρ = 1/(sᵀs) instead of 1/(yᵀs)", anchor="newton-lbfgs")(
    _two_loop("lbfgs_rho_ss", rho=lambda s, y: 1.0 / (s @ s)))
ex7_9.mistake("lbfgs_direction", "returns H g: the direction is -H g", anchor="newton-lbfgs")(
    _two_loop("lbfgs_sign", sign=1.0))
