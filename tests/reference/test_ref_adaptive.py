"""The reference of chapter 5 (solutions/adaptive.py) against independent references.

torch.optim.Adagrad, RMSprop (alpha=rho), Adam and AdamW step for step over whole
trajectories (float64, 1-D and 2-D parameters, several hyperparameter settings), every
iterate and every piece of state; closed forms for the first step; inputs not mutated.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from solutions import adaptive as ad

torch = pytest.importorskip("torch")

STEPS = 60


def badly_scaled_regression(shape, seed):
    """Least squares ``0.5/n ||X W - Y||²`` with feature scales from 0.1 to 10, W of ``shape``."""
    rng = np.random.default_rng(seed)
    d = shape[0]
    X = rng.normal(size=(20, d)) * np.geomspace(0.1, 10.0, d)
    Y = rng.normal(size=(20,) + tuple(shape[1:]))
    W0 = rng.normal(size=shape)
    return X, Y, W0


def numpy_grad(W, X, Y):
    return X.T @ (X @ W - Y) / len(X)


def torch_trajectory(make_opt, X, Y, W0, steps=STEPS):
    """Iterates and per-step optimiser state of a torch optimiser (autograd gradients)."""
    W = torch.tensor(W0, dtype=torch.float64, requires_grad=True)
    opt = make_opt([W])
    Xt, Yt = torch.as_tensor(X), torch.as_tensor(Y)
    iterates, states = [], []
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * ((Xt @ W - Yt) ** 2).sum() / len(X)).backward()
        opt.step()
        iterates.append(W.detach().numpy().copy())
        states.append({k: (v.detach().numpy().copy() if torch.is_tensor(v) else v)
                       for k, v in opt.state[W].items()})
    return iterates, states


def our_trajectory(init, update, X, Y, W0, steps=STEPS, **hyper):
    W, state = W0.copy(), init(W0)
    assert state.t == 0
    iterates, states = [], []
    for _ in range(steps):
        W, state = update(W, numpy_grad(W, X, Y), state, **hyper)
        iterates.append(W)
        states.append(state)
    return iterates, states


def assert_trajectories_equal(ours, theirs, fields):
    """``fields`` maps our state field -> torch's state key.

    The tolerances allow for rounding (torch computes m by ``lerp`` and divides in another
    order), amplified over 60 steps where Adam oscillates around the optimum; any formula
    error is many orders of magnitude larger.
    """
    (our_it, our_st), (torch_it, torch_st) = ours, theirs
    for k, (a, b, s, ts) in enumerate(zip(our_it, torch_it, our_st, torch_st), start=1):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10, err_msg=f"iterate {k}")
        assert s.t == k and int(ts["step"]) == k
        for ours_name, torch_name in fields.items():
            np.testing.assert_allclose(getattr(s, ours_name), ts[torch_name], rtol=1e-9, atol=1e-9,
                                       err_msg=f"state {ours_name} at step {k}")


SHAPES = [(4,), (3, 2)]


@pytest.mark.parametrize("shape", SHAPES, ids=["1-D", "2-D"])
@pytest.mark.parametrize("hyper", [dict(), dict(lr=0.5, eps=1e-6), dict(lr=0.1, eps=1e-2)],
                         ids=["defaults", "large-lr", "large-eps"])
def test_adagrad_matches_torch(shape, hyper):
    X, Y, W0 = badly_scaled_regression(shape, 1)
    ours = our_trajectory(ad.adagrad_init, ad.adagrad_update, X, Y, W0, **hyper)
    theirs = torch_trajectory(lambda p: torch.optim.Adagrad(p, **hyper), X, Y, W0)
    assert_trajectories_equal(ours, theirs, {"sum_sq": "sum"})


@pytest.mark.parametrize("shape", SHAPES, ids=["1-D", "2-D"])
@pytest.mark.parametrize("hyper", [dict(), dict(lr=0.05, rho=0.9, eps=1e-6), dict(lr=1e-3, rho=0.5, eps=1e-2)],
                         ids=["defaults", "rho0.9", "rho0.5-large-eps"])
def test_rmsprop_matches_torch(shape, hyper):
    X, Y, W0 = badly_scaled_regression(shape, 2)
    ours = our_trajectory(ad.rmsprop_init, ad.rmsprop_update, X, Y, W0, **hyper)
    torch_hyper = {("alpha" if k == "rho" else k): v for k, v in hyper.items()}
    theirs = torch_trajectory(lambda p: torch.optim.RMSprop(p, **torch_hyper), X, Y, W0)
    assert_trajectories_equal(ours, theirs, {"sq_avg": "square_avg"})


ADAM_SETTINGS = [dict(), dict(lr=0.1, beta1=0.8, beta2=0.99, eps=1e-6),
                 dict(lr=0.05, beta1=0.0, beta2=0.5, eps=1e-3)]


def torch_betas(hyper):
    out = {k: v for k, v in hyper.items() if k not in ("beta1", "beta2")}
    if "beta1" in hyper:
        out["betas"] = (hyper["beta1"], hyper["beta2"])
    return out


@pytest.mark.parametrize("shape", SHAPES, ids=["1-D", "2-D"])
@pytest.mark.parametrize("hyper", ADAM_SETTINGS, ids=["defaults", "lr0.1", "beta1=0"])
def test_adam_matches_torch(shape, hyper):
    X, Y, W0 = badly_scaled_regression(shape, 3)
    ours = our_trajectory(ad.adam_init, ad.adam_update, X, Y, W0, **hyper)
    theirs = torch_trajectory(lambda p: torch.optim.Adam(p, **torch_betas(hyper)), X, Y, W0)
    assert_trajectories_equal(ours, theirs, {"m": "exp_avg", "v": "exp_avg_sq"})


@pytest.mark.parametrize("shape", SHAPES, ids=["1-D", "2-D"])
@pytest.mark.parametrize("hyper", ADAM_SETTINGS[:1] + [dict(lr=0.05, weight_decay=0.1),
                                                       dict(lr=0.1, beta1=0.5, beta2=0.9, eps=1e-4, weight_decay=1.0)],
                         ids=["defaults", "wd0.1", "wd1"])
def test_adamw_matches_torch(shape, hyper):
    X, Y, W0 = badly_scaled_regression(shape, 4)
    ours = our_trajectory(ad.adamw_init, ad.adamw_update, X, Y, W0, **hyper)
    theirs = torch_trajectory(lambda p: torch.optim.AdamW(p, **torch_betas(hyper)), X, Y, W0)
    assert_trajectories_equal(ours, theirs, {"m": "exp_avg", "v": "exp_avg_sq"})


def test_adamw_is_not_adam_with_an_l2_penalty():
    """torch.optim.Adam(weight_decay=λ) (coupled L2) differs from AdamW; ours follows AdamW."""
    X, Y, W0 = badly_scaled_regression((4,), 5)
    ours, _ = our_trajectory(ad.adamw_init, ad.adamw_update, X, Y, W0, lr=0.05, weight_decay=0.5)
    coupled, _ = torch_trajectory(lambda p: torch.optim.Adam(p, lr=0.05, weight_decay=0.5), X, Y, W0)
    assert np.abs(ours[-1] - coupled[-1]).max() > 1e-3


# --- closed forms ------------------------------------------------------------------------

def test_first_adam_step_has_size_lr_in_every_coordinate():
    """Bias correction: step 1 is lr * g/(|g| + eps) whatever the scale of g (not 3.16 lr)."""
    g = np.array([1e-4, -0.3, 2.0, -5e3])
    p, s = ad.adam_update(np.zeros(4), g, ad.adam_init(np.zeros(4)), lr=0.01)
    np.testing.assert_allclose(p, -0.01 * np.sign(g), rtol=1e-3)
    assert s.t == 1
    np.testing.assert_allclose(s.m, 0.1 * g)
    np.testing.assert_allclose(s.v, 0.001 * g**2)


def test_adam_with_a_constant_gradient_moves_lr_per_step():
    """Constant g: m̂_t = g and v̂_t = g² exactly, so every step is lr * sign(g)."""
    g = np.array([3.0, -0.01])
    p, s = np.zeros(2), ad.adam_init(np.zeros(2))
    for k in range(1, 31):
        p_new, s = ad.adam_update(p, g, s, lr=0.1, eps=0.0)
        np.testing.assert_allclose(p_new - p, -0.1 * np.sign(g), rtol=1e-12)
        p = p_new
    assert s.t == 30


def test_rmsprop_with_rho_zero_is_sign_descent_and_adagrad_first_step_is_too():
    g = np.array([0.5, -20.0, 1e-3])
    p0 = np.array([1.0, 2.0, 3.0])
    p, _ = ad.rmsprop_update(p0, g, ad.rmsprop_init(p0), lr=0.1, rho=0.0, eps=0.0)
    np.testing.assert_allclose(p, p0 - 0.1 * np.sign(g))
    p, _ = ad.adagrad_update(p0, g, ad.adagrad_init(p0), lr=0.1, eps=0.0)
    np.testing.assert_allclose(p, p0 - 0.1 * np.sign(g))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=3), st.integers(1, 20))
def test_adagrad_never_moves_a_coordinate_more_than_lr(g0, steps):
    """|g_t| <= sqrt(G_t), so every AdaGrad step is at most lr per coordinate."""
    rng = np.random.default_rng(steps)
    p, s = np.zeros(3), ad.adagrad_init(np.zeros(3))
    for _ in range(steps):
        g = np.asarray(g0) * rng.uniform(0, 2, size=3)
        p_new, s = ad.adagrad_update(p, g, s, lr=0.3)
        assert np.all(np.abs(p_new - p) <= 0.3 * (1 + 1e-12))
        p = p_new


# --- purity ------------------------------------------------------------------------------

RULES = [(ad.adagrad_init, ad.adagrad_update, {}), (ad.rmsprop_init, ad.rmsprop_update, {}),
         (ad.adam_init, ad.adam_update, {}), (ad.adamw_init, ad.adamw_update, {}),
         (ad.shrinking_lr_init, ad.shrinking_lr_update, dict(lr=0.1, alpha=1.0))]


@pytest.mark.parametrize("init, update, hyper", RULES, ids=lambda x: getattr(x, "__name__", ""))
def test_inputs_are_not_mutated(init, update, hyper):
    rng = np.random.default_rng(0)
    p, g = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    s = init(p)
    s = update(p, g, s, **hyper)[1]                      # a state with non-zero arrays
    copies = [np.copy(x) for x in (p, g, *s)]
    new_p, new_s = update(p, g, s, **hyper)
    for before, after in zip(copies, (p, g, *s)):
        np.testing.assert_array_equal(before, after)
    assert new_p is not p and new_p.shape == p.shape
    assert new_s.t == s.t + 1


# --- the sources' rule (helpers) -----------------------------------------------------------

def test_shrinking_lr_is_the_compounded_product():
    g_seq = [np.array([1.0, 2.0]), np.array([-3.0, 0.5]), np.array([0.1, 0.1])]
    p, s = np.zeros(2), ad.shrinking_lr_init(np.zeros(2))
    eta, expected = 0.5, np.zeros(2)
    for g in g_seq:
        eta = eta / (1 + 0.1 * (g @ g))
        expected = expected - eta * g
        p, s = ad.shrinking_lr_update(p, g, s, lr=0.5, alpha=0.1)
    np.testing.assert_allclose(p, expected)
    np.testing.assert_allclose(0.5 * s.lr_scale, eta)
    assert s.t == 3


def test_gradnorm_lr_rate_tends_to_one():
    p, s = ad.gradnorm_lr_update(np.array([1.0]), np.array([1e-6]), None, alpha=1e-3)
    np.testing.assert_allclose(p, [1.0 - 1e-6])
    p, _ = ad.gradnorm_lr_update(np.array([0.0]), np.array([10.0]), None, alpha=1.0)
    np.testing.assert_allclose(p, [-10.0 / 101.0])
    assert s is None
