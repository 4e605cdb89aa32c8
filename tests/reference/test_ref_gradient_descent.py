"""The reference of chapter 2 (solutions/gradient_descent.py) against independent references.

torch.optim.SGD step for step, torch.autograd and torch's MSE, central finite differences,
numpy.linalg.lstsq / closed forms for the optimum, and the Armijo condition checked directly.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from autograder.tests.problems import random_regression
from solutions import gradient_descent as gd
from solutions.common import Quadratic, design_matrix, run, seed_data_000, seed_data_001

torch = pytest.importorskip("torch")


def torch_mse(params, X, y):
    return torch.nn.functional.mse_loss(torch.as_tensor(X) @ params, torch.as_tensor(y))


def central_difference(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        out.flat[i] = (f(x + e) - f(x - e)) / (2 * h)
    return out


# --- gd_init / gd_update -----------------------------------------------------------------

def test_gd_init_is_stateless():
    assert gd.gd_init(np.ones(3)) is None


@pytest.mark.parametrize("lr", [0.01, 0.1, 0.45])
@pytest.mark.parametrize("d", [1, 2, 7])
def test_gd_matches_torch_sgd_on_a_quadratic(lr, d):
    """Every iterate of 40 steps equals torch.optim.SGD (no momentum) on the same quadratic."""
    rng = np.random.default_rng(d)
    M = rng.normal(size=(d, d))
    A = M @ M.T / d + 0.1 * np.eye(d)
    A *= 4.0 / np.linalg.eigvalsh(A).max()          # L = 4, so lr < 0.5 is stable
    b = rng.normal(size=d)
    q = Quadratic(A, b)
    x0 = rng.normal(size=d)
    traj = run(gd.gd_init, gd.gd_update, x0, q.grad, steps=40, lr=lr)

    p = torch.tensor(x0, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=0.0)
    At, bt = torch.as_tensor(A), torch.as_tensor(b)
    for k in range(1, 41):
        opt.zero_grad()
        (0.5 * p @ At @ p - bt @ p).backward()
        opt.step()
        np.testing.assert_allclose(traj.params[k], p.detach().numpy(), rtol=1e-12, atol=1e-12,
                                   err_msg=f"step {k}")


@pytest.mark.parametrize("lr", [0.001, 0.01, 0.05])
def test_gd_on_linreg_matches_torch_sgd(lr):
    """GD with linreg_grad on seed 000's data follows torch SGD on torch's MSE, 100 steps."""
    x, y = seed_data_000()
    X = design_matrix(x)
    theta0 = np.array([-0.5, 0.3])
    traj = run(gd.gd_init, gd.gd_update, theta0, lambda t: gd.linreg_grad(t, X, y), steps=100, lr=lr)
    p = torch.tensor(theta0, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    for k in range(1, 101):
        opt.zero_grad()
        torch_mse(p, X, y).backward()
        opt.step()
        np.testing.assert_allclose(traj.params[k], p.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_gd_update_does_not_mutate_and_returns_a_new_array():
    params, grads = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    p0, g0 = params.copy(), grads.copy()
    new, state = gd.gd_update(params, grads, None, lr=0.1)
    np.testing.assert_array_equal(params, p0)
    np.testing.assert_array_equal(grads, g0)
    assert new is not params and not np.shares_memory(new, params)
    np.testing.assert_allclose(new, [0.95, -2.025])
    assert state is None


# --- linreg_loss / linreg_grad -------------------------------------------------------------

@pytest.mark.parametrize("n,d", [(1, 1), (6, 2), (50, 4), (7, 10)])
def test_linreg_loss_and_grad_match_torch(n, d):
    rng = np.random.default_rng(10 * n + d)
    X, y = random_regression(rng, n, d)
    theta = rng.normal(size=d)
    p = torch.tensor(theta, requires_grad=True)
    loss = torch_mse(p, X, y)
    loss.backward()
    val = gd.linreg_loss(theta, X, y)
    assert isinstance(val, float)
    assert val == pytest.approx(loss.item(), rel=1e-12)
    g = gd.linreg_grad(theta, X, y)
    assert g.shape == (d,)
    np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_linreg_grad_matches_torch_at_large_magnitudes():
    rng = np.random.default_rng(3)
    X, y = random_regression(rng, 20, 3)
    X, y, theta = 1e4 * X, 1e6 * y, 1e3 * rng.normal(size=3)
    p = torch.tensor(theta, requires_grad=True)
    torch_mse(p, X, y).backward()
    np.testing.assert_allclose(gd.linreg_grad(theta, X, y), p.grad.numpy(), rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 12), d=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_linreg_grad_matches_central_differences(n, d, seed):
    rng = np.random.default_rng(seed)
    X, y = random_regression(rng, n, d)
    theta = rng.normal(size=d)
    fd = central_difference(lambda t: gd.linreg_loss(t, X, y), theta)
    np.testing.assert_allclose(gd.linreg_grad(theta, X, y), fd, rtol=1e-5, atol=1e-6)


def test_linreg_loss_and_grad_do_not_mutate():
    rng = np.random.default_rng(4)
    X, y = random_regression(rng, 8, 3)
    theta = rng.normal(size=3)
    copies = [a.copy() for a in (theta, X, y)]
    gd.linreg_loss(theta, X, y)
    gd.linreg_grad(theta, X, y)
    for a, c in zip((theta, X, y), copies):
        np.testing.assert_array_equal(a, c)


def test_linreg_on_a_hand_example():
    """Seed 000 at (b, w) = (0, 0): residuals -(x + 1), MSE = mean((x + 1)^2) = 139/6."""
    x, y = seed_data_000()
    X = design_matrix(x)
    assert gd.linreg_loss(np.zeros(2), X, y) == pytest.approx(139 / 6)
    np.testing.assert_allclose(gd.linreg_grad(np.zeros(2), X, y),
                               [-2 * np.mean(x + 1), -2 * np.mean(x * (x + 1))])
    np.testing.assert_allclose(gd.linreg_grad(np.ones(2), X, y), [0.0, 0.0], atol=1e-12)


# --- the optimum, smoothness, rates ------------------------------------------------------------

def test_least_squares_closed_forms():
    for data, theta_star in ((seed_data_000, [1.0, 1.0]), (seed_data_001, [0.0, 2.0])):
        x, y = data()
        np.testing.assert_allclose(gd.least_squares(design_matrix(x), y), theta_star, atol=1e-12)
    rng = np.random.default_rng(5)
    X, y = random_regression(rng, 30, 4)
    np.testing.assert_allclose(gd.least_squares(X, y), np.linalg.solve(X.T @ X, X.T @ y), rtol=1e-10)


def test_gd_converges_to_the_lstsq_optimum_below_2_over_L_and_diverges_above():
    rng = np.random.default_rng(6)
    X, y = random_regression(rng, 40, 3)
    theta_star = np.linalg.lstsq(X, y, rcond=None)[0]
    mu, L = gd.linreg_smoothness(X)
    def grad(t):
        return gd.linreg_grad(t, X, y)
    good = run(gd.gd_init, gd.gd_update, np.zeros(3), grad, steps=3000, lr=1.0 / L)
    np.testing.assert_allclose(good.params[-1], theta_star, atol=1e-9)
    bad = run(gd.gd_init, gd.gd_update, np.zeros(3), grad, steps=200, lr=2.05 / L)
    assert np.linalg.norm(bad.params[-1] - theta_star) > 1e3 * np.linalg.norm(theta_star)


def test_linreg_smoothness_matches_the_autograd_hessian():
    rng = np.random.default_rng(7)
    X, y = random_regression(rng, 25, 4)
    H = torch.autograd.functional.hessian(lambda p: torch_mse(p, X, y), torch.zeros(4, dtype=torch.float64))
    eig = np.linalg.eigvalsh(H.numpy())
    np.testing.assert_allclose(gd.linreg_smoothness(X), (eig[0], eig[-1]), rtol=1e-10)


def test_seed_000_smoothness_and_seed_001_fixed_iterations():
    """The errata's numbers: seed 000 has L = 31.97 (stable for lr < 0.0626); seed 001's
    half-MSE GD with lr 0.01 reaches only (0.095, 1.974) after 1000 iterations."""
    x, y = seed_data_000()
    _, L = gd.linreg_smoothness(design_matrix(x))
    assert L == pytest.approx(31.968, abs=1e-3)
    assert 2 / L == pytest.approx(0.0626, abs=1e-4)
    x, y = seed_data_001()
    A = design_matrix(x)
    def half_mse_grad(t):                                      # seed 001's own gradient, bias column added
        return A.T @ (A @ t - y) / len(y)
    traj = run(gd.gd_init, gd.gd_update, np.zeros(2), half_mse_grad, steps=1000, lr=0.01)
    np.testing.assert_allclose(traj.params[-1], [0.095, 1.974], atol=5e-4)
    np.testing.assert_allclose(half_mse_grad(traj.params[-1]), 0.5 * gd.linreg_grad(traj.params[-1], A, y))


@pytest.mark.parametrize("lr", [0.05, 0.3, 0.476, 0.49, 0.51])
def test_gd_contraction_is_the_measured_rate_on_a_quadratic(lr):
    q = Quadratic.diagonal([0.2, 4.0])
    traj = run(gd.gd_init, gd.gd_update, np.array([1.0, 1.0]), q.grad, steps=60, lr=lr)
    eig = np.diag(q.A)
    # each coordinate is an eigen-direction: x_k = (1 - lr lambda)^k x_0 exactly
    np.testing.assert_allclose(traj.params[-1], (1 - lr * eig) ** 60, rtol=1e-9)
    assert gd.gd_contraction(lr, eig) == pytest.approx(np.max(np.abs(1 - lr * eig)))
    assert (gd.gd_contraction(lr, eig) < 1) == (lr < 2 / 4.0)


@pytest.mark.parametrize("kappa", [1.0, 5.0, 50.0, 1000.0])
def test_optimal_lr_gives_the_condition_number_rate(kappa):
    mu, L = 1.0, kappa
    lr = gd.optimal_lr(mu, L)
    assert gd.gd_contraction(lr, [mu, L]) == pytest.approx((kappa - 1) / (kappa + 1), abs=1e-15)
    grid = np.linspace(1e-3, 2 / L, 2001)                   # no constant step does better
    assert min(gd.gd_contraction(a, [mu, L]) for a in grid) >= (kappa - 1) / (kappa + 1) - 1e-12


# --- backtracking line search --------------------------------------------------------------

def armijo(f, g, x, d, alpha, c):
    return f(x + alpha * d) <= f(x) + c * alpha * float(g @ d)


def check_armijo_and_tight(f, grad_f, x, d, alpha, lr0, shrink, c):
    g = grad_f(x)
    d = -g if d is None else d
    assert armijo(f, g, x, d, alpha, c), "the returned step violates Armijo's condition"
    k = np.log(alpha / lr0) / np.log(shrink)
    assert k == pytest.approx(round(k), abs=1e-9), "the step is not lr0 * shrink**k"
    if alpha < lr0:
        assert not armijo(f, g, x, d, alpha / shrink, c), "a larger step lr0 * shrink**(k-1) was acceptable"


@pytest.mark.parametrize("lr0,shrink,c", [(1.0, 0.5, 1e-4), (1.0, 0.8, 0.3), (10.0, 0.1, 0.5), (0.05, 0.5, 1e-4)])
def test_backtracking_on_rosenbrock_is_armijo_and_tight(lr0, shrink, c):
    from solutions.common import rosenbrock, rosenbrock_grad
    rng = np.random.default_rng(8)
    for _ in range(20):
        x = rng.uniform(-2, 2, size=2)
        alpha = gd.backtracking_line_search(rosenbrock, rosenbrock_grad, x, lr0=lr0, shrink=shrink, c=c)
        check_armijo_and_tight(rosenbrock, rosenbrock_grad, x, None, alpha, lr0, shrink, c)


@pytest.mark.parametrize("c", [1e-4, 0.25, 0.5, 0.9])
def test_backtracking_closed_form_on_a_quadratic(c):
    """For f = x'Ax/2 and d = -g the condition is alpha <= 2 (1 - c) |g|^2 / (g'Ag)."""
    rng = np.random.default_rng(9)
    M = rng.normal(size=(5, 5))
    q = Quadratic(M @ M.T + np.eye(5), np.zeros(5))
    for _ in range(10):
        x = rng.normal(size=5)
        g = q.grad(x)
        bound = 2 * (1 - c) * (g @ g) / (g @ q.A @ g)
        expected = 1.0
        while expected > bound:
            expected *= 0.5
        assert gd.backtracking_line_search(q.loss, q.grad, x, c=c) == expected


def test_backtracking_with_a_given_direction_and_no_mutation():
    q = Quadratic.diagonal([0.2, 4.0])
    x = np.array([3.0, 1.0])
    d = -np.linalg.solve(q.A, q.grad(x))                     # Newton's direction: the unit step is exact
    x0, d0 = x.copy(), d.copy()
    assert gd.backtracking_line_search(q.loss, q.grad, x, d) == 1.0
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(d, d0)
    d2 = np.array([-1.0, 0.0])                              # a descent direction that is not -g
    alpha = gd.backtracking_line_search(q.loss, q.grad, x, d2, lr0=100.0, c=0.5)
    check_armijo_and_tight(q.loss, q.grad, x, d2, alpha, 100.0, 0.5, 0.5)


def test_backtracking_edge_cases():
    q = Quadratic.diagonal([1.0, 2.0])
    assert gd.backtracking_line_search(q.loss, q.grad, np.zeros(2), lr0=3.0) == 3.0   # stationary point
    with pytest.raises(ValueError, match="descent"):
        gd.backtracking_line_search(q.loss, q.grad, np.ones(2), np.ones(2))
    with pytest.raises(ValueError):
        gd.backtracking_line_search(q.loss, q.grad, np.ones(2), shrink=1.0)
    with pytest.raises(ValueError, match="finite"):                # would loop forever otherwise
        gd.backtracking_line_search(q.loss, lambda x: np.array([np.inf, 0.0]), np.ones(2))
    # a huge first step overflows to inf: rejected, and the search still ends
    def f(x):
        return float(np.exp(x @ x))
    with np.errstate(over="ignore"):
        alpha = gd.backtracking_line_search(f, lambda x: 2 * x * f(x), np.array([1.0]), lr0=1e6)
    check_armijo_and_tight(f, lambda x: 2 * x * f(x), np.array([1.0]), None, alpha, 1e6, 0.5, 1e-4)


def test_gd_with_backtracking_descends_monotonically_on_rosenbrock():
    from solutions.common import rosenbrock, rosenbrock_grad
    x = np.array([-1.2, 1.0])
    losses = [rosenbrock(x)]
    for _ in range(200):
        alpha = gd.backtracking_line_search(rosenbrock, rosenbrock_grad, x)
        x, _ = gd.gd_update(x, rosenbrock_grad(x), None, lr=alpha)
        losses.append(rosenbrock(x))
    assert np.all(np.diff(losses) <= 0)
    assert losses[-1] < 0.1 * losses[0]


@pytest.mark.slow
def test_ex2_6_answer_is_the_edge_of_stability_of_the_half_mse_and_not_its_smallest_curvature():
    """ex2_6: half-MSE gradient descent on article 000's data (written here with torch) converges just below
    the answer and diverges just above it; and the answer is not the half-MSE's smallest curvature (on
    article 001's five points the two coincide, det(X^T X / n) = 2, so the slip "answer mu" scored)."""
    x, y = seed_data_000()
    A = torch.as_tensor(design_matrix(x))
    t = torch.as_tensor(y)
    answer = gd.largest_stable_lr_half_mse_answer()

    def final_distance(lr, steps=2000):
        theta = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([theta], lr=lr)
        for _ in range(steps):
            opt.zero_grad()
            (0.5 * torch.nn.functional.mse_loss(A @ theta, t)).backward()
            opt.step()
        return float(torch.linalg.norm(theta.detach() - torch.tensor([1.0, 1.0], dtype=torch.float64)))

    assert final_distance(0.99 * answer) < 1e-6
    assert not final_distance(1.01 * answer) < 1.0
    mu_half = np.linalg.eigvalsh(design_matrix(x).T @ design_matrix(x) / len(x)).min()   # the half-MSE's Hessian
    assert abs(mu_half / answer - 1) > 0.05, (mu_half, answer)
