"""The reference of chapter 4 (solutions/momentum.py) against independent references.

* torch.optim.SGD(momentum, dampening, nesterov) step for step over whole trajectories
  (float64; iterates *and* momentum buffers), 1-D and 2-D parameters, several settings;
* the EMA form of the source articles: with rate lr/(1-beta) it makes exactly the steps of
  heavy ball with rate lr (no transient at all); against torch's ``dampening=beta`` it
  differs by a transient whose exact form is tested (velocity gap beta**t * g_1);
* the linear rates on quadratics: the closed forms (sqrt(kappa)-1)/(sqrt(kappa)+1) and
  1 - 1/sqrt(kappa) against rates measured on trajectories, and the characteristic
  polynomial against the eigenvalues of the explicit iteration matrix;
* inputs are never modified.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from autograder.tests.problems import random_spd
from solutions import momentum as mo
from solutions.common import Quadratic, run

torch = pytest.importorskip("torch")

STEPS = 60


# --- problems --------------------------------------------------------------------------------

def random_quadratic(seed: int, d: int, L: float = 1.0, kappa: float = 30.0) -> Quadratic:
    """A random quadratic with eigenvalues in [L/kappa, L] (both ends included) and a random b."""
    rng = np.random.default_rng(seed)
    return Quadratic(random_spd(rng, d, kappa, largest=L), rng.normal(size=d))


def matrix_problem(seed: int, shape=(3, 4)):
    """f(W) = 0.5 ||A W - B||_F^2 for a matrix parameter W; gradient A^T (A W - B)."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(6, shape[0])) / np.sqrt(6)
    A /= np.linalg.norm(A, 2)                       # largest curvature 1
    B = rng.normal(size=(6, shape[1]))
    return (lambda W: A.T @ (A @ W - B)), rng.normal(size=shape)


def problems():
    """(label, grad_fn, x0): a 1-D vector parameter and a 2-D matrix parameter."""
    q = random_quadratic(0, 6)
    grad_W, W0 = matrix_problem(1)
    return [("vector (6,)", q.grad, np.random.default_rng(2).normal(size=6)),
            ("matrix (3, 4)", grad_W, W0)]


def torch_trajectory(x0, grad_fn, steps, **sgd):
    """Iterates and momentum buffers of torch.optim.SGD(**sgd), fed the numpy gradient."""
    p = torch.tensor(np.array(x0, dtype=float), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], **sgd)
    params, buffers = [p.detach().numpy().copy()], []
    for _ in range(steps):
        p.grad = torch.from_numpy(grad_fn(p.detach().numpy().copy()))
        opt.step()
        params.append(p.detach().numpy().copy())
        buffers.append(opt.state[p]["momentum_buffer"].numpy().copy())
    return np.stack(params), np.stack(buffers)


def assert_trajectories_equal(traj, torch_params, torch_buffers):
    for k in range(1, len(torch_params)):
        np.testing.assert_allclose(traj.params[k], torch_params[k], rtol=1e-10, atol=1e-12,
                                   err_msg=f"iterate {k}")
        assert traj.states[k].t == k
        np.testing.assert_allclose(traj.states[k].v, torch_buffers[k - 1], rtol=1e-10, atol=1e-12,
                                   err_msg=f"velocity {k}")


# --- step for step against torch.optim.SGD ---------------------------------------------------

@pytest.mark.parametrize("lr,beta,dampening", [
    (0.1, 0.9, 0.0), (0.5, 0.5, 0.0), (0.05, 0.99, 0.0),
    (0.1, 0.9, 0.9), (0.3, 0.5, 0.3), (0.02, 0.95, 0.5),
])
@pytest.mark.parametrize("problem", problems(), ids=lambda p: p[0])
def test_momentum_matches_torch_sgd(problem, lr, beta, dampening):
    """60 iterates and velocities equal torch.optim.SGD(momentum=beta, dampening=dampening)."""
    _, grad_fn, x0 = problem
    traj = run(mo.momentum_init, mo.momentum_update, x0, grad_fn, steps=STEPS,
               lr=lr, beta=beta, dampening=dampening)
    assert traj.params.shape == (STEPS + 1, *np.shape(x0))
    assert_trajectories_equal(traj, *torch_trajectory(x0, grad_fn, STEPS, lr=lr, momentum=beta,
                                                      dampening=dampening))


@pytest.mark.parametrize("lr,beta", [(0.1, 0.9), (0.5, 0.5), (0.05, 0.99), (0.3, 0.3)])
@pytest.mark.parametrize("problem", problems(), ids=lambda p: p[0])
def test_nesterov_matches_torch_sgd(problem, lr, beta):
    """60 iterates and velocities equal torch.optim.SGD(momentum=beta, nesterov=True)."""
    _, grad_fn, x0 = problem
    traj = run(mo.nesterov_init, mo.nesterov_update, x0, grad_fn, steps=STEPS, lr=lr, beta=beta)
    assert_trajectories_equal(traj, *torch_trajectory(x0, grad_fn, STEPS, lr=lr, momentum=beta,
                                                      nesterov=True))


@settings(max_examples=25, deadline=None)
@given(lr=st.floats(1e-3, 1.0), beta=st.floats(0.01, 0.999), dampening=st.floats(0.0, 1.0),
       seed=st.integers(0, 2**16))
def test_momentum_matches_torch_for_random_hyperparameters(lr, beta, dampening, seed):
    """Three steps on a random quadratic, for any lr, beta and dampening."""
    q = random_quadratic(seed, 4)
    x0 = np.random.default_rng(seed).normal(size=4)
    traj = run(mo.momentum_init, mo.momentum_update, x0, q.grad, steps=3,
               lr=lr, beta=beta, dampening=dampening)
    assert_trajectories_equal(traj, *torch_trajectory(x0, q.grad, 3, lr=lr, momentum=beta,
                                                      dampening=dampening))


def test_first_step_is_the_gradient_whatever_the_dampening():
    """torch's convention: v_1 = g_1 (not (1 - dampening) g_1), and Nesterov steps (1 + beta) g_1."""
    g = np.array([1.0, -2.0, 0.5])
    for dampening in (0.0, 0.5, 0.9):
        p, s = mo.momentum_update(np.zeros(3), g, mo.momentum_init(np.zeros(3)),
                                  lr=0.1, beta=0.9, dampening=dampening)
        np.testing.assert_array_equal(s.v, g)
        np.testing.assert_allclose(p, -0.1 * g, rtol=1e-15)
    p, s = mo.nesterov_update(np.zeros(3), g, mo.nesterov_init(np.zeros(3)), lr=0.1, beta=0.9)
    np.testing.assert_allclose(p, -0.1 * 1.9 * g, rtol=1e-15)


def test_beta_zero_is_gradient_descent():
    """With beta = 0 both rules are plain gradient descent, theta - lr g, at every step."""
    q = random_quadratic(3, 5)
    x0 = np.ones(5)
    for init, update in [(mo.momentum_init, mo.momentum_update), (mo.nesterov_init, mo.nesterov_update)]:
        traj = run(init, update, x0, q.grad, steps=30, lr=0.7, beta=0.0)
        for k in range(30):
            np.testing.assert_allclose(traj.params[k + 1], traj.params[k] - 0.7 * q.grad(traj.params[k]),
                                       rtol=1e-13, atol=1e-15)


# --- the EMA form of the sources --------------------------------------------------------------

@pytest.mark.parametrize("beta", [0.5, 0.9, 0.99])
def test_ema_form_with_rescaled_lr_is_heavy_ball_from_the_first_step(beta):
    """EMA form at rate lr/(1-beta) == torch SGD(momentum=beta) at rate lr: every iterate, u_t = (1-beta) v_t.

    Exact relation tested: theta_t(EMA, lr/(1-beta)) = theta_t(heavy ball, lr) for every t >= 0
    (there is no transient: both velocities start from 0, and u_t = (1-beta) v_t by induction).
    """
    q = random_quadratic(4, 5)
    x0 = np.random.default_rng(5).normal(size=5)
    lr = 0.05
    ema = run(mo.momentum_init, mo.ema_momentum_update, x0, q.grad, steps=200, lr=lr / (1 - beta), beta=beta)
    t_params, t_buffers = torch_trajectory(x0, q.grad, 200, lr=lr, momentum=beta)
    scale = np.abs(t_params).max()
    for k in range(1, 201):
        np.testing.assert_allclose(ema.params[k], t_params[k], rtol=1e-9, atol=1e-12 * scale, err_msg=f"step {k}")
        np.testing.assert_allclose(ema.states[k].v, (1 - beta) * t_buffers[k - 1], rtol=1e-9, atol=1e-13,
                                   err_msg=f"velocity {k}")


@pytest.mark.parametrize("beta", [0.5, 0.9])
def test_torch_dampening_beta_is_the_ema_form_started_from_the_first_gradient(beta):
    """torch SGD(momentum=beta, dampening=beta) == EMA form from u_0 = g_1 (not from u_0 = 0), same lr."""
    q = random_quadratic(6, 4)
    x0 = np.random.default_rng(7).normal(size=4)
    params, state = x0.copy(), mo.MomentumState(0, q.grad(x0))
    t_params, _ = torch_trajectory(x0, q.grad, STEPS, lr=0.1, momentum=beta, dampening=beta)
    for k in range(1, STEPS + 1):
        params, state = mo.ema_momentum_update(params, q.grad(params), state, lr=0.1, beta=beta)
        np.testing.assert_allclose(params, t_params[k], rtol=1e-10, atol=1e-12, err_msg=f"step {k}")


@pytest.mark.parametrize("beta", [0.5, 0.9])
def test_ema_form_and_torch_dampening_differ_by_a_decaying_transient(beta):
    """On a common gradient sequence: v_t(torch, dampening=beta) - u_t(EMA from 0) = beta**t g_1 exactly."""
    rng = np.random.default_rng(8)
    grads = rng.normal(size=(40, 3))
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1, momentum=beta, dampening=beta)
    state = mo.momentum_init(np.zeros(3))
    for t, g in enumerate(grads, start=1):
        p.grad = torch.from_numpy(g.copy())
        opt.step()
        _, state = mo.ema_momentum_update(np.zeros(3), g, state, lr=0.1, beta=beta)
        gap = opt.state[p]["momentum_buffer"].numpy() - state.v
        np.testing.assert_allclose(gap, beta**t * grads[0], rtol=1e-9, atol=1e-14, err_msg=f"t = {t}")


# --- rates on quadratics -------------------------------------------------------------------------

def measured_rate(init, update, kappa, *, d=8, **hyper):
    """Per-step contraction of ||theta_t - theta*|| measured over the second half of a long run."""
    eig = np.geomspace(1.0, kappa, d)
    q = Quadratic.diagonal(eig)                                  # minimiser 0
    rho = mo.momentum_rate(hyper["lr"], hyper["beta"], eig, nesterov=update is mo.nesterov_update)
    steps = int(np.ceil(120 * np.log(10) / -np.log(rho)))       # down to ~1e-120: no floor at theta* = 0
    traj = run(init, update, np.ones(d), q.grad, steps=steps, **hyper)
    err = np.linalg.norm(traj.params, axis=1)
    half = steps // 2
    return (err[steps] / err[half]) ** (1.0 / (steps - half))


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_heavy_ball_at_its_optimal_hyperparameters_converges_at_the_theoretical_rate(kappa):
    """Measured rate == (sqrt(kappa) - 1)/(sqrt(kappa) + 1) within 1% (a sqrt(kappa), not kappa, dependence)."""
    lr, beta = mo.heavy_ball_optimal(1.0, kappa)
    assert lr == pytest.approx(4 / (1 + np.sqrt(kappa)) ** 2, rel=1e-14)
    s = np.sqrt(kappa)
    theory = (s - 1) / (s + 1)
    assert beta == pytest.approx(theory**2, rel=1e-14)
    rate = measured_rate(mo.momentum_init, mo.momentum_update, kappa, lr=lr, beta=beta)
    assert rate == pytest.approx(theory, rel=1e-2)
    gd_rate = (kappa - 1) / (kappa + 1)                           # gradient descent at 2/(L + mu)
    assert rate < gd_rate


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_nesterov_at_its_standard_hyperparameters_converges_at_one_minus_one_over_sqrt_kappa(kappa):
    """lr = 1/L, beta = (sqrt(kappa)-1)/(sqrt(kappa)+1): measured rate == 1 - 1/sqrt(kappa) within 1%."""
    lr, beta = mo.nesterov_parameters(1.0, kappa)
    rate = measured_rate(mo.nesterov_init, mo.nesterov_update, kappa, lr=lr, beta=beta)
    assert rate == pytest.approx(1 - 1 / np.sqrt(kappa), rel=1e-2)


def iteration_matrix(lr, beta, lam, nesterov):
    """The linear map (theta_{t-1}, v_{t-1}) -> (theta_t, v_t) along an eigenvector (gradient lam * theta)."""
    if nesterov:   # v' = beta v + lam theta; theta' = theta - lr (lam theta + beta v')
        return np.array([[1 - lr * lam * (1 + beta), -lr * beta**2], [lam, beta]])
    return np.array([[1 - lr * lam, -lr * beta], [lam, beta]])   # theta' = theta - lr v'


@settings(max_examples=60, deadline=None)
@given(lr=st.floats(1e-3, 3.0), beta=st.floats(0.0, 0.999), nesterov=st.booleans(),
       eig=st.lists(st.floats(1e-3, 2.0), min_size=1, max_size=4))
def test_momentum_rate_is_the_spectral_radius_of_the_iteration_matrix(lr, beta, nesterov, eig):
    expected = max(np.abs(np.linalg.eigvals(iteration_matrix(lr, beta, lam, nesterov))).max() for lam in eig)
    assert mo.momentum_rate(lr, beta, eig, nesterov=nesterov) == pytest.approx(expected, rel=1e-6, abs=1e-7)


def test_iteration_matrix_matches_the_update_rules():
    """The matrices above are the rules themselves (so the rate test checks the right dynamics)."""
    for nesterov, init, update in [(False, mo.momentum_init, mo.momentum_update),
                                   (True, mo.nesterov_init, mo.nesterov_update)]:
        lam, lr, beta = 0.7, 0.3, 0.8
        params, state = np.array([1.0]), mo.MomentumState(1, np.array([0.4]))   # past the first step
        new, new_state = update(params, lam * params, state, lr=lr, beta=beta)
        want = iteration_matrix(lr, beta, lam, nesterov) @ np.array([1.0, 0.4])
        np.testing.assert_allclose([new[0], new_state.v[0]], want, rtol=1e-14)


def test_momentum_rate_with_beta_zero_is_the_gradient_descent_factor():
    eig = np.array([0.2, 1.0, 4.0])
    for lr in (0.1, 0.4, 0.6):
        assert mo.momentum_rate(lr, 0.0, eig) == pytest.approx(np.abs(1 - lr * eig).max(), rel=1e-12)


def test_heavy_ball_optimal_is_the_best_pair_on_a_grid():
    mu, L = 0.2, 4.0
    lr, beta = mo.heavy_ball_optimal(mu, L)
    best = mo.momentum_rate(lr, beta, [mu, L])
    grid = [mo.momentum_rate(a, b, [mu, L]) for a in np.linspace(0.05, 1.5, 59) for b in np.linspace(0, 0.95, 39)]
    assert best <= min(grid) + 1e-6
    assert best == pytest.approx((np.sqrt(20) - 1) / (np.sqrt(20) + 1), rel=1e-6)


# --- purity ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("update,hyper", [
    (mo.momentum_update, dict(lr=0.1, beta=0.9, dampening=0.3)),
    (mo.nesterov_update, dict(lr=0.1, beta=0.9)),
    (mo.ema_momentum_update, dict(lr=0.1, beta=0.9)),
])
def test_updates_do_not_modify_their_inputs(update, hyper):
    rng = np.random.default_rng(9)
    params, grads = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    state = mo.momentum_init(params)
    for _ in range(3):                                  # the first step and the later ones
        before = (params.copy(), grads.copy(), state.v.copy(), state.t)
        new_params, new_state = update(params, grads, state, **hyper)
        np.testing.assert_array_equal(params, before[0])
        np.testing.assert_array_equal(grads, before[1])
        np.testing.assert_array_equal(state.v, before[2])
        assert state.t == before[3] and new_state.t == state.t + 1
        assert new_params is not params and new_state.v is not grads and new_state.v is not state.v
        params, state = new_params, new_state
        grads[...] = 0.0                                # the caller reuses its gradient buffer ...
        assert np.any(state.v != 0)                     # ... and the velocity is unaffected


def test_init_returns_zero_velocity_of_the_params_shape():
    for init in (mo.momentum_init, mo.nesterov_init):
        for shape in [(3,), (2, 5), ()]:
            s = init(np.ones(shape, dtype=int))
            assert isinstance(s, mo.MomentumState) and s.t == 0
            assert s.v.shape == shape and s.v.dtype == float and not s.v.any()
