"""The reference of chapter 7 (solutions/newton.py) against independent references.

torch.autograd (the loss, its gradient and torch.autograd.functional.hessian for every
Hessian), central finite differences, scipy.linalg for the linear algebra,
scipy.optimize.minimize (Newton-CG, BFGS) and scikit-learn's
LogisticRegression(solver="newton-cholesky") for the optimum, scipy.optimize.BFGS for the
quasi-Newton update, and the defining properties (Armijo, secant equation, minimal shift).
"""
import functools

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
from hypothesis import given, settings, strategies as st

from solutions import newton as nt
from solutions.common import Quadratic, design_matrix, rosenbrock, rosenbrock_grad

torch = pytest.importorskip("torch")


def random_spd(rng, d, cond):
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    H = Q @ np.diag(np.geomspace(1.0, 1.0 / cond, d)) @ Q.T
    return (H + H.T) / 2


def classification(rng, n, d):
    X = design_matrix(rng.normal(size=(n, d)))
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ rng.normal(size=d + 1)))).astype(float)
    return X, y


def central_difference(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])


def torch_logistic_loss(theta, X, y, l2):
    z = torch.as_tensor(X) @ theta
    bce = torch.nn.functional.binary_cross_entropy_with_logits(z, torch.as_tensor(y))
    return bce + 0.5 * l2 * (theta[1:] ** 2).sum()


# --- newton_step, newton_decrement ------------------------------------------------------------

@pytest.mark.parametrize("d", [1, 2, 5, 12])
def test_newton_step_solves_the_system_as_scipy(d):
    rng = np.random.default_rng(d)
    H, g, p = random_spd(rng, d, 100.0), rng.normal(size=d), rng.normal(size=d)
    expected = p - scipy.linalg.cho_solve(scipy.linalg.cho_factor(H), g)
    np.testing.assert_allclose(nt.newton_step(p, g, H), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("d", [2, 6, 10])
def test_one_newton_step_minimises_a_quadratic(d):
    rng = np.random.default_rng(10 + d)
    q = Quadratic(random_spd(rng, d, 1e3), rng.normal(size=d))
    p = 10 * rng.normal(size=d)
    np.testing.assert_allclose(nt.newton_step(p, q.grad(p), q.A), q.minimizer(), rtol=1e-8, atol=1e-8)


def test_newton_step_does_not_modify_its_inputs():
    p, g, H = np.ones(3), np.arange(3.0), 2 * np.eye(3)
    nt.newton_step(p, g, H)
    assert np.array_equal(p, np.ones(3)) and np.array_equal(g, np.arange(3.0)) and np.array_equal(H, 2 * np.eye(3))


def test_newton_step_residual_is_at_rounding_level_where_the_inverse_is_not():
    """Backward stability: H d = g to rounding error on a Hessian of condition number 1e12."""
    rng = np.random.default_rng(3)
    H = random_spd(rng, 10, 1e12)
    g = H @ rng.normal(size=10)
    d = -nt.newton_step(np.zeros(10), g, H)
    assert np.linalg.norm(H @ d - g) <= 1e-13 * np.linalg.norm(g)
    assert np.linalg.norm(H @ (np.linalg.inv(H) @ g) - g) > 1e-11 * np.linalg.norm(g)


@pytest.mark.parametrize("d", [1, 3, 8])
def test_decrement_on_a_quadratic_is_the_gap(d):
    """lambda^2 / 2 = f(x) - f* exactly on a quadratic, and lambda^2 = -g . d (the slope along d)."""
    rng = np.random.default_rng(20 + d)
    q = Quadratic(random_spd(rng, d, 50.0), rng.normal(size=d))
    p = rng.normal(size=d)
    lam = nt.newton_decrement(q.grad(p), q.A)
    assert lam >= 0
    assert lam**2 / 2 == pytest.approx(q.loss(p) - q.loss(q.minimizer()), rel=1e-9)
    direction = nt.newton_step(p, q.grad(p), q.A) - p
    assert lam**2 == pytest.approx(-q.grad(p) @ direction, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 6))
def test_decrement_is_affine_invariant(seed, d):
    """Under theta = S u the gradient becomes S^T g and the Hessian S^T H S; lambda does not change."""
    rng = np.random.default_rng(seed)
    H, g = random_spd(rng, d, 20.0), rng.normal(size=d)
    S = rng.normal(size=(d, d)) + 3 * np.eye(d)
    assert nt.newton_decrement(S.T @ g, S.T @ H @ S) == pytest.approx(nt.newton_decrement(g, H), rel=1e-7)


# --- logistic regression ----------------------------------------------------------------------

@pytest.mark.parametrize("n,d,l2", [(1, 1, 0.0), (30, 3, 0.0), (50, 5, 0.2), (200, 8, 1e-3)])
def test_logistic_loss_gradient_and_hessian_match_torch(n, d, l2):
    rng = np.random.default_rng(n + d)
    X, y = classification(rng, n, d)
    theta = rng.normal(size=d + 1)
    t = torch.tensor(theta, requires_grad=True)
    loss = torch_logistic_loss(t, X, y, l2)
    loss.backward()
    assert nt.logistic_loss(theta, X, y, l2=l2) == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(nt.logistic_grad(theta, X, y, l2=l2), t.grad.numpy(), rtol=1e-10, atol=1e-14)
    H_torch = torch.autograd.functional.hessian(lambda th: torch_logistic_loss(th, X, y, l2), torch.tensor(theta))
    np.testing.assert_allclose(nt.logistic_hess(theta, X, y, l2=l2), H_torch.numpy(), rtol=1e-10, atol=1e-14)


def test_logistic_gradient_and_hessian_match_finite_differences():
    rng = np.random.default_rng(5)
    X, y = classification(rng, 40, 4)
    theta = rng.normal(size=5)
    f = functools.partial(nt.logistic_loss, X=X, y=y, l2=0.3)
    g = functools.partial(nt.logistic_grad, X=X, y=y, l2=0.3)
    np.testing.assert_allclose(central_difference(f, theta), g(theta), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(central_difference(g, theta), nt.logistic_hess(theta, X, y, l2=0.3), rtol=1e-6, atol=1e-8)


def test_logistic_loss_is_stable_for_huge_logits():
    X = design_matrix(np.array([[1.0], [-1.0]]))
    y = np.array([0.0, 1.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):        # underflow of exp(-|z|) is harmless
        loss = nt.logistic_loss(np.array([0.0, 1e4]), X, y)       # both samples confidently wrong
    assert loss == pytest.approx(1e4)
    assert np.all(np.isfinite(nt.logistic_grad(np.array([0.0, 1e4]), X, y)))


def test_the_bias_is_not_penalised():
    rng = np.random.default_rng(6)
    X, y = classification(rng, 20, 2)
    theta = rng.normal(size=3)
    H0, H1 = nt.logistic_hess(theta, X, y), nt.logistic_hess(theta, X, y, l2=0.5)
    np.testing.assert_allclose(H1 - H0, np.diag([0.0, 0.5, 0.5]), atol=1e-15)
    assert nt.logistic_grad(theta, X, y, l2=0.5)[0] == pytest.approx(nt.logistic_grad(theta, X, y)[0], abs=1e-15)


def test_other_hessians_match_torch():
    for theta in (np.array([-1.2, 1.0]), np.array([0.3, 0.9]), np.array([1.0, 1.0])):
        t = torch.tensor(theta)
        H = torch.autograd.functional.hessian(lambda v: (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2, t)
        np.testing.assert_allclose(nt.rosenbrock_hess(theta), H.numpy(), rtol=1e-12)
        H = torch.autograd.functional.hessian(lambda v: (v**4 / 4 - v**2 / 2).sum(), t)
        np.testing.assert_allclose(nt.four_wells_hess(theta), H.numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(nt.four_wells_grad(theta), central_difference(nt.four_wells, theta), atol=1e-8)


# --- damped_newton ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cancer():
    X, y = nt.breast_cancer()
    l2 = 1.0 / len(X)
    fns = tuple(functools.partial(fn, X=X, y=y, l2=l2) for fn in (nt.logistic_loss, nt.logistic_grad, nt.logistic_hess))
    return X, y, l2, fns


def test_damped_newton_matches_scikit_learn_and_scipy(cancer):
    """The optimum on the breast-cancer data: objective to 1e-10; weights after full convergence."""
    from sklearn.linear_model import LogisticRegression
    X, y, l2, (f, grad, hess) = cancer
    newton = nt.damped_newton(f, grad, hess, np.zeros(X.shape[1]))
    assert len(newton.step_sizes) <= 10 and np.all(newton.step_sizes == 1.0)
    assert newton.decrements[-1] ** 2 / 2 <= 1e-10 < newton.decrements[-2] ** 2 / 2
    model = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-12, max_iter=100).fit(X[:, 1:], y)
    theta_sk = np.concatenate([model.intercept_, model.coef_.ravel()])
    assert f(theta_sk) == pytest.approx(newton.losses[-1], abs=1e-10)
    full = nt.damped_newton(f, grad, hess, newton.params[-1], tol=1e-24, max_iter=3)
    np.testing.assert_allclose(full.params[-1], theta_sk, atol=1e-6)
    for method, extra in [("Newton-CG", {"hess": hess}), ("BFGS", {})]:
        res = scipy.optimize.minimize(f, np.zeros(X.shape[1]), jac=grad, method=method, **extra,
                                      options={"xtol": 1e-12} if method == "Newton-CG" else {"gtol": 1e-10})
        assert res.fun == pytest.approx(full.losses[-1], abs=1e-10), method
        np.testing.assert_allclose(res.x, full.params[-1], atol=1e-4, err_msg=method)


def test_damped_newton_trajectory_is_consistent(cancer):
    """Armijo at every step, decrements equal newton_decrement at every iterate, shapes, quadratic convergence."""
    X, y, l2, (f, grad, hess) = cancer
    run = nt.damped_newton(f, grad, hess, 3.0 * np.ones(X.shape[1]), alpha=0.25, beta=0.5)
    k = len(run.step_sizes)
    assert run.params.shape == (k + 1, X.shape[1]) and run.losses.shape == run.decrements.shape == (k + 1,)
    for i in range(k):
        lam, t = run.decrements[i], run.step_sizes[i]
        assert run.losses[i + 1] <= run.losses[i] - 0.25 * t * lam**2 + 1e-15
        assert np.log2(t) == round(np.log2(t))                    # a power of beta = 0.5
        if t < 1:                                                  # the step twice as long was rejected
            d = run.params[i + 1] - run.params[i]
            assert f(run.params[i] + 2 * d) > run.losses[i] - 0.25 * 2 * t * lam**2
    for p, lam in zip(run.params, run.decrements):
        assert lam == pytest.approx(nt.newton_decrement(grad(p), hess(p)), rel=1e-9)
    assert np.any(run.step_sizes < 1), "this start should need damping"
    lam = run.decrements
    tail = [i for i in range(k) if run.step_sizes[i] == 1 and lam[i] < 0.1 and lam[i + 1] > 1e-12]
    assert tail and all(lam[i + 1] <= 10 * lam[i] ** 2 for i in tail)      # quadratic convergence


def test_damped_newton_max_iter_and_tol():
    q = Quadratic(np.diag([1.0, 10.0]), np.array([1.0, 1.0]))
    fns = (q.loss, q.grad, lambda x: q.A)
    run = nt.damped_newton(*fns, np.array([5.0, 5.0]))
    assert len(run.step_sizes) == 1 and run.step_sizes[0] == 1.0
    np.testing.assert_allclose(run.params[-1], q.minimizer(), atol=1e-12)
    stopped = nt.damped_newton(rosenbrock, rosenbrock_grad, nt.rosenbrock_hess, np.array([-1.2, 1.0]), max_iter=3)
    assert len(stopped.step_sizes) == 3 and len(stopped.decrements) == 4
    at_once = nt.damped_newton(*fns, np.array([5.0, 5.0]), tol=1e6)
    assert len(at_once.step_sizes) == 0 and at_once.params.shape == (1, 2)


def test_damped_newton_on_rosenbrock_reaches_the_minimum_like_scipy():
    hess = lambda x: nt.modified_hessian(nt.rosenbrock_hess(x))              # noqa: E731
    run = nt.damped_newton(rosenbrock, rosenbrock_grad, hess, np.array([-1.2, 1.0]))
    res = scipy.optimize.minimize(rosenbrock, np.array([-1.2, 1.0]), jac=rosenbrock_grad, hess=nt.rosenbrock_hess,
                                  method="Newton-CG", options={"xtol": 1e-10})
    np.testing.assert_allclose(run.params[-1], [1.0, 1.0], atol=1e-5)
    np.testing.assert_allclose(res.x, run.params[-1], atol=1e-5)
    assert np.all(np.diff(run.losses) <= 0)


# --- modified_hessian -------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 7), st.sampled_from([1e-3, 1e-1, 1e-5]))
def test_modified_hessian_is_the_first_positive_definite_shift(seed, d, beta):
    """H + tau I is positive definite, tau is in Nocedal & Wright's sequence, and the previous tau was not enough."""
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(d, d))
    H = (M + M.T) / 2
    out = nt.modified_hessian(H, beta=beta)
    tau = out[0, 0] - H[0, 0]
    np.testing.assert_allclose(out - H, tau * np.eye(d), atol=1e-12)
    assert np.linalg.eigvalsh(out)[0] > 0
    a = np.diag(H).min()
    sequence = [0.0 if a > 0 else -a + beta]
    while sequence[-1] < tau * (1 - 1e-12):
        sequence.append(max(2 * sequence[-1], beta))
    assert tau == pytest.approx(sequence[-1], rel=1e-12, abs=1e-15)
    if len(sequence) > 1:
        assert np.linalg.eigvalsh(H + sequence[-2] * np.eye(d))[0] <= 1e-12


def test_modified_hessian_leaves_positive_definite_matrices_alone():
    H = random_spd(np.random.default_rng(0), 4, 100.0)
    out = nt.modified_hessian(H)
    np.testing.assert_array_equal(out, H)
    assert out is not H


def test_modified_newton_escapes_the_maximum_of_four_wells():
    hess = lambda x: nt.modified_hessian(nt.four_wells_hess(x))              # noqa: E731
    run = nt.damped_newton(nt.four_wells, nt.four_wells_grad, hess, np.array([0.3, 0.4]))
    np.testing.assert_allclose(np.abs(run.params[-1]), [1.0, 1.0], atol=1e-6)
    assert np.all(np.diff(run.losses) < 0)


# --- bfgs_update, bfgs ------------------------------------------------------------------------

def test_bfgs_update_equals_scipy_inverse_hessian_updates():
    """A sequence of updates from H = I against scipy.optimize.BFGS(approx_type='inv_hess')."""
    rng = np.random.default_rng(8)
    d = 5
    A = random_spd(rng, d, 30.0)
    scipy_bfgs = scipy.optimize.BFGS(init_scale=1.0)
    scipy_bfgs.initialize(d, "inv_hess")
    h_inv = np.eye(d)
    for _ in range(8):
        s = rng.normal(size=d)
        y = A @ s
        h_inv = nt.bfgs_update(h_inv, s, y)
        scipy_bfgs.update(s, y)
        np.testing.assert_allclose(h_inv, scipy_bfgs.get_matrix(), rtol=1e-9, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 6))
def test_bfgs_update_secant_symmetry_and_positive_definiteness(seed, d):
    rng = np.random.default_rng(seed)
    H = random_spd(rng, d, 10.0)
    s = rng.normal(size=d)
    y = random_spd(rng, d, 10.0) @ s                               # y . s > 0
    new = nt.bfgs_update(H, s, y)
    np.testing.assert_allclose(new @ y, s, rtol=1e-8, atol=1e-10 * np.abs(s).max())
    np.testing.assert_allclose(new, new.T, atol=1e-10 * np.abs(new).max())
    assert np.linalg.eigvalsh((new + new.T) / 2)[0] > 0


def test_bfgs_driver_reaches_the_minimum_of_rosenbrock_as_scipy():
    ours = nt.bfgs(rosenbrock, rosenbrock_grad, np.array([-1.2, 1.0]))
    theirs = scipy.optimize.minimize(rosenbrock, np.array([-1.2, 1.0]), jac=rosenbrock_grad, method="BFGS")
    np.testing.assert_allclose(ours.params[-1], theirs.x, atol=1e-5)
    assert np.max(np.abs(rosenbrock_grad(ours.params[-1]))) <= 1e-5
    assert len(ours.step_sizes) <= 2 * theirs.nit


# --- lbfgs_direction, lbfgs -------------------------------------------------------------------

def dense_lbfgs_inverse(s_list, y_list):
    """H built independently: gamma I with gamma = s'y / y'y of the newest pair, then the m dense
    BFGS updates of chapter 7's bfgs_update (checked above against SciPy), oldest first."""
    d = len(s_list[-1])
    h_inv = (s_list[-1] @ y_list[-1]) / (y_list[-1] @ y_list[-1]) * np.eye(d)
    for s, y in zip(s_list, y_list):
        h_inv = nt.bfgs_update(h_inv, s, y)
    return h_inv


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 8), st.integers(1, 12))
def test_lbfgs_direction_equals_m_dense_bfgs_updates(seed, d, m):
    """The two-loop recursion gives -H g with H from m dense updates (also m > d, and curvatures that change)."""
    rng = np.random.default_rng(seed)
    s_list = [rng.normal(size=d) * 10.0 ** rng.uniform(-2, 2) for _ in range(m)]
    y_list = [random_spd(rng, d, 30.0) @ s for s in s_list]
    g = rng.normal(size=d)
    inputs = [g.copy()] + [s.copy() for s in s_list] + [y.copy() for y in y_list]
    out = nt.lbfgs_direction(g, s_list, y_list)
    expected = -dense_lbfgs_inverse(s_list, y_list) @ g
    np.testing.assert_allclose(out, expected, rtol=1e-8, atol=1e-10 * np.abs(expected).max())
    for before, after in zip(inputs, [g] + s_list + y_list):
        np.testing.assert_array_equal(before, after)


def test_lbfgs_direction_without_pairs_is_steepest_descent():
    g = np.array([0.5, -2.0, 3.0])
    np.testing.assert_array_equal(nt.lbfgs_direction(g, [], []), -g)


def test_lbfgs_direction_of_the_newest_pair_satisfies_the_secant_equation():
    """H y_newest = s_newest: the direction of -y_newest is s_newest."""
    rng = np.random.default_rng(3)
    s_list = [rng.normal(size=5) for _ in range(4)]
    y_list = [random_spd(rng, 5, 10.0) @ s for s in s_list]
    np.testing.assert_allclose(nt.lbfgs_direction(-y_list[-1], s_list, y_list), s_list[-1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("problem", ["breast cancer", "Rosenbrock"])
def test_lbfgs_driver_needs_about_as_many_iterations_as_scipy_lbfgsb(problem, cancer):
    """Our L-BFGS (m = 10, strong Wolfe) against SciPy's L-BFGS-B with the same memory and stopping test."""
    if problem == "breast cancer":
        X, _, _, (fun, jac, _) = cancer
        x0 = np.zeros(X.shape[1])
    else:
        fun, jac, x0 = rosenbrock, rosenbrock_grad, np.array([-1.2, 1.0])
    ours = nt.lbfgs(fun, jac, x0, m=10, gtol=1e-5)
    theirs = scipy.optimize.minimize(fun, x0, jac=jac, method="L-BFGS-B",
                                     options={"maxcor": 10, "gtol": 1e-5, "ftol": 1e-15})
    assert theirs.success
    k = len(ours.step_sizes)
    assert np.max(np.abs(jac(ours.params[-1]))) <= 1e-5
    assert abs(k - theirs.nit) <= max(5, 0.25 * theirs.nit), (k, theirs.nit)
    assert ours.losses[-1] <= theirs.fun + 1e-6
    assert np.all(np.diff(ours.losses) <= 0)                          # Armijo at every step
    np.testing.assert_allclose(ours.params[-1], theirs.x, atol=1e-2)

