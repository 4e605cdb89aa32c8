"""The reference losses (solutions/losses.py) against independent references.

torch.nn.functional (values), torch.autograd (gradients), scipy.special (softmax,
log-softmax, logsumexp, expit) and central finite differences; plus numerical stability
for logits up to 1e308, shape checks and input immutability.
"""
import warnings

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from solutions import losses as L

torch = pytest.importorskip("torch")
F = torch.nn.functional

SHAPES = [(1,), (7,), (4, 3), (2, 3, 5)]


def t(x, grad=False):
    """A float64 torch tensor (a leaf requiring grad if asked)."""
    return torch.tensor(np.asarray(x, dtype=float), dtype=torch.float64, requires_grad=grad)


def torch_value_and_grad(fn, x, *args):
    """fn(torch tensor x, *args) -> (float value, gradient w.r.t. x as ndarray)."""
    xt = t(x, grad=True)
    out = fn(xt, *args)
    out.backward()
    return out.item(), xt.grad.numpy()


def central_diff(f, x, h=1e-6):
    """Central finite-difference gradient of the scalar function f at x (any shape)."""
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        g[idx] = (f(x + e) - f(x - e)) / (2 * h)
    return g


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


# ----------------------------------------------------------------------------- regression losses

@pytest.mark.parametrize("shape", SHAPES)
def test_mse_against_torch(rng, shape):
    y_pred, y = rng.normal(size=shape) * 3, rng.normal(size=shape)
    value, grad = torch_value_and_grad(lambda a, b: F.mse_loss(a, b), y_pred, t(y))
    assert L.mse_loss(y_pred, y) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(L.mse_loss_grad(y_pred, y), grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape", SHAPES)
def test_mae_against_torch(rng, shape):
    y_pred, y = rng.normal(size=shape), rng.normal(size=shape)
    assert L.mae_loss(y_pred, y) == pytest.approx(F.l1_loss(t(y_pred), t(y)).item(), rel=1e-12)


@pytest.mark.parametrize("delta", [1.0, 0.3, 2.5])
@pytest.mark.parametrize("shape", SHAPES)
def test_huber_against_torch(rng, shape, delta):
    y_pred, y = rng.normal(size=shape) * 2, rng.normal(size=shape)   # residuals on both sides of delta
    value, grad = torch_value_and_grad(lambda a, b: F.huber_loss(a, b, delta=delta), y_pred, t(y))
    assert L.huber_loss(y_pred, y, delta=delta) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(L.huber_loss_grad(y_pred, y, delta=delta), grad, rtol=1e-12, atol=1e-15)


def test_huber_default_delta_is_one(rng):
    y_pred, y = rng.normal(size=20) * 3, np.zeros(20)
    assert L.huber_loss(y_pred, y) == L.huber_loss(y_pred, y, delta=1.0)
    np.testing.assert_array_equal(L.huber_loss_grad(y_pred, y), L.huber_loss_grad(y_pred, y, delta=1.0))


def test_huber_pieces_and_limits():
    delta = 0.7
    # exactly at the threshold both pieces agree: 0.5 delta^2
    assert L.huber_loss([delta], [0.0], delta=delta) == pytest.approx(0.5 * delta**2)
    assert L.huber_loss([-delta], [0.0], delta=delta) == pytest.approx(0.5 * delta**2)
    # small residuals: half the MSE; large residuals: delta * (MAE - delta / 2)
    r = np.array([0.1, -0.2, 0.05])
    assert L.huber_loss(r, 0 * r, delta=delta) == pytest.approx(0.5 * L.mse_loss(r, 0 * r))
    r = np.array([3.0, -5.0, 10.0])
    assert L.huber_loss(r, 0 * r, delta=delta) == pytest.approx(delta * (L.mae_loss(r, 0 * r) - delta / 2))


@pytest.mark.parametrize("name", ["mse_loss", "huber_loss"])
def test_regression_grads_by_finite_differences(rng, name):
    loss, grad = getattr(L, name), getattr(L, name + "_grad")
    y_pred, y = rng.normal(size=(3, 4)) * 2, rng.normal(size=(3, 4))
    np.testing.assert_allclose(grad(y_pred, y), central_diff(lambda p: loss(p, y), y_pred), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("fn", [L.mse_loss, L.mse_loss_grad, L.mae_loss, L.huber_loss, L.huber_loss_grad,
                                L.binary_cross_entropy_with_logits, L.binary_cross_entropy_with_logits_grad])
def test_shape_mismatch_is_an_error_not_a_broadcast(fn):
    # (n, 1) against (n,) would broadcast to (n, n) (the sources' bug 001-6 and 004-6)
    with pytest.raises(ValueError, match="shape"):
        fn(np.zeros((5, 1)), np.zeros(5))


def test_mse_is_a_number_and_half_mse_differs_by_two():
    x, y = np.arange(1.0, 7.0), np.arange(1.0, 7.0) + 1.0      # seed 000's data with w = 1, b = 0
    value = L.mse_loss(x, y)
    assert isinstance(value, float) and value == 1.0
    half = np.sum((x - y) ** 2) / (2 * len(y))                 # seed 001's J
    assert value == 2 * half


def test_regression_huge_residuals_no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert L.huber_loss([1e300], [-1e300]) == pytest.approx(2e300 - 0.5)
        np.testing.assert_array_equal(L.huber_loss_grad([1e300, -1e300], [0.0, 0.0]), [0.5, -0.5])


# ----------------------------------------------------------------------------- sigmoid / softmax

def test_sigmoid_against_scipy(rng):
    z = np.concatenate([rng.normal(size=50) * 10, [-1e308, -1e3, -40.0, 0.0, 40.0, 1e3, 1e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(L.sigmoid(z), scipy.special.expit(z), rtol=1e-15, atol=0)


@pytest.mark.parametrize("shape,axis", [((5,), -1), ((4, 6), -1), ((4, 6), 0), ((2, 3, 4), 1)])
def test_softmax_and_log_softmax_against_scipy(rng, shape, axis):
    z = rng.normal(size=shape) * 5
    np.testing.assert_allclose(L.softmax(z, axis=axis), scipy.special.softmax(z, axis=axis), rtol=1e-13)
    np.testing.assert_allclose(L.log_softmax(z, axis=axis), scipy.special.log_softmax(z, axis=axis), rtol=1e-13)
    np.testing.assert_allclose(L.softmax(z, axis=axis).sum(axis=axis), 1.0, rtol=1e-14)


def test_softmax_default_axis_is_last(rng):
    z = rng.normal(size=(3, 4))
    np.testing.assert_array_equal(L.softmax(z), L.softmax(z, axis=-1))
    np.testing.assert_allclose(L.softmax(z).sum(axis=1), 1.0)


def test_softmax_shift_invariance(rng):
    z = rng.normal(size=(3, 5))
    np.testing.assert_allclose(L.softmax(z + 1234.5), L.softmax(z), rtol=1e-10)


@pytest.mark.parametrize("scale", [1e3, 1e10, 1e100, 1e300, 1e308])
def test_softmax_huge_logits_finite(rng, scale):
    z = rng.uniform(-1, 1, size=(4, 5)) * scale
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = L.softmax(z)
        lp = L.log_softmax(z)
    assert np.all(np.isfinite(p)) and not np.any(np.isnan(lp))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_array_equal(p.argmax(axis=1), z.argmax(axis=1))
    if scale <= 1e300:             # scipy's differences overflow only beyond 1.8e308
        np.testing.assert_allclose(p, scipy.special.softmax(z, axis=-1), rtol=1e-12, atol=0)
        np.testing.assert_allclose(lp, scipy.special.log_softmax(z, axis=-1), rtol=1e-12)


def test_naive_softmax_would_overflow():
    """The reason for the max-subtraction: the textbook formula gives NaN at logits of 1000."""
    z = np.array([1000.0, 1000.0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(z) / np.exp(z).sum()
    assert np.all(np.isnan(naive))
    np.testing.assert_array_equal(L.softmax(z), [0.5, 0.5])


# ----------------------------------------------------------------------------- softmax cross-entropy

@pytest.mark.parametrize("n,k,scale", [(1, 2, 1.0), (8, 3, 1.0), (16, 10, 4.0), (5, 4, 100.0)])
def test_softmax_cross_entropy_against_torch(rng, n, k, scale):
    logits, labels = rng.normal(size=(n, k)) * scale, rng.integers(0, k, size=n)
    value, grad = torch_value_and_grad(lambda z, lab: F.cross_entropy(z, lab), logits,
                                       torch.tensor(labels, dtype=torch.long))
    assert L.softmax_cross_entropy(logits, labels) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(L.softmax_cross_entropy_grad(logits, labels), grad, rtol=1e-10, atol=1e-15)


def test_softmax_cross_entropy_against_scipy_logsumexp(rng):
    logits, labels = rng.normal(size=(6, 4)) * 3, rng.integers(0, 4, size=6)
    expected = np.mean(scipy.special.logsumexp(logits, axis=1) - logits[np.arange(6), labels])
    assert L.softmax_cross_entropy(logits, labels) == pytest.approx(expected, rel=1e-13)


def test_softmax_cross_entropy_grad_by_finite_differences(rng):
    logits, labels = rng.normal(size=(3, 4)), rng.integers(0, 4, size=3)
    np.testing.assert_allclose(L.softmax_cross_entropy_grad(logits, labels),
                               central_diff(lambda z: L.softmax_cross_entropy(z, labels), logits),
                               rtol=1e-6, atol=1e-10)


def test_softmax_cross_entropy_grad_rows_sum_to_zero(rng):
    logits, labels = rng.normal(size=(7, 5)), rng.integers(0, 5, size=7)
    np.testing.assert_allclose(L.softmax_cross_entropy_grad(logits, labels).sum(axis=1), 0.0, atol=1e-15)


def test_softmax_cross_entropy_known_values():
    assert L.softmax_cross_entropy(np.zeros((3, 4)), [0, 1, 3]) == pytest.approx(np.log(4))
    # confidently right: 0; confidently wrong by 1000: 1000 (the naive log(softmax) gives inf)
    assert L.softmax_cross_entropy([[1000.0, 0.0]], [0]) == 0.0
    assert L.softmax_cross_entropy([[1000.0, 0.0]], [1]) == pytest.approx(1000.0)


@pytest.mark.parametrize("scale", [1e3, 1e10, 1e100, 1e300, 1e307])
def test_softmax_cross_entropy_huge_logits_finite(rng, scale):
    logits, labels = rng.uniform(-1, 1, size=(6, 4)) * scale, rng.integers(0, 4, size=6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = L.softmax_cross_entropy(logits, labels)
        grad = L.softmax_cross_entropy_grad(logits, labels)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    expected = np.mean(logits.max(axis=1) - logits[np.arange(6), labels])     # lse(z) = max z at this scale
    assert value == pytest.approx(expected, rel=1e-12)
    if scale <= 1e100:
        value_t = F.cross_entropy(t(logits), torch.tensor(labels)).item()
        assert value == pytest.approx(value_t, rel=1e-12)


def test_softmax_cross_entropy_at_1e308():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert L.softmax_cross_entropy([[1e308, 0.0, -1e308]], [0]) == 0.0
        assert L.softmax_cross_entropy([[1e308, 0.0, -1e308]], [1]) == 1e308
        np.testing.assert_array_equal(L.softmax_cross_entropy_grad([[1e308, 0.0, -1e308]], [1]),
                                      [[1.0, -1.0, 0.0]])


def test_softmax_cross_entropy_rejects_bad_labels():
    with pytest.raises(ValueError):
        L.softmax_cross_entropy(np.zeros((2, 3)), [0, 3])
    with pytest.raises(ValueError):
        L.softmax_cross_entropy(np.zeros((2, 3)), [0.0, 1.0])
    with pytest.raises(ValueError):
        L.softmax_cross_entropy(np.zeros(3), [0])


# ----------------------------------------------------------------------------- binary cross-entropy

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_bce_with_logits_against_torch(rng, shape, scale):
    z, y = rng.normal(size=shape) * scale, rng.integers(0, 2, size=shape).astype(float)
    value, grad = torch_value_and_grad(lambda a, b: F.binary_cross_entropy_with_logits(a, b), z, t(y))
    assert L.binary_cross_entropy_with_logits(z, y) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(L.binary_cross_entropy_with_logits_grad(z, y), grad, rtol=1e-12, atol=1e-16)


def test_bce_soft_targets_against_torch_and_probability_form(rng):
    z, y = rng.normal(size=12) * 2, rng.uniform(size=12)
    assert L.binary_cross_entropy_with_logits(z, y) == pytest.approx(
        F.binary_cross_entropy_with_logits(t(z), t(y)).item(), rel=1e-12)
    p = scipy.special.expit(z)
    assert L.binary_cross_entropy_with_logits(z, y) == pytest.approx(
        F.binary_cross_entropy(t(p), t(y)).item(), rel=1e-10)


def test_bce_grad_by_finite_differences(rng):
    z, y = rng.normal(size=(3, 3)) * 2, rng.uniform(size=(3, 3))
    np.testing.assert_allclose(L.binary_cross_entropy_with_logits_grad(z, y),
                               central_diff(lambda a: L.binary_cross_entropy_with_logits(a, y), z),
                               rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("scale", [1e3, 1e10, 1e100, 1e300, 1e308])
def test_bce_huge_logits(scale):
    z = np.array([scale, -scale, scale, -scale])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        right = L.binary_cross_entropy_with_logits(z[:2], y[:2])
        wrong = L.binary_cross_entropy_with_logits(z[2:3], y[2:3]), L.binary_cross_entropy_with_logits(z[3:], y[3:])
        grad = L.binary_cross_entropy_with_logits_grad(z, y)
    assert right == 0.0
    assert wrong == (scale, scale)                                    # exact: max(z,0) - z y
    np.testing.assert_array_equal(grad, [0.0, 0.0, 0.25, -0.25])
    if scale <= 1e100:
        assert L.binary_cross_entropy_with_logits(z, y) == pytest.approx(
            F.binary_cross_entropy_with_logits(t(z), t(y)).item(), rel=1e-12)


def test_bce_sigmoid_twice_floor():
    """Seed 002's bug: sigmoid outputs fed as logits can never reach a loss below log 2 for y = 0."""
    z = np.linspace(-50, 50, 101)
    twice = np.array([L.binary_cross_entropy_with_logits([L.sigmoid(zi)], [0.0]) for zi in z])
    assert twice.min() > np.log(2) - 1e-12
    assert L.binary_cross_entropy_with_logits([-50.0], [0.0]) < 1e-20


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(1, 8), elements=st.floats(-1e308, 1e308)),
       st.integers(0, 2**32 - 1))
def test_bce_never_nan_and_matches_scipy_log_expit(z, seed):
    y = np.random.default_rng(seed).integers(0, 2, size=z.shape).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # the mean of several ~1e308 terms may overflow to inf
        value = L.binary_cross_entropy_with_logits(z, y)
    grad = L.binary_cross_entropy_with_logits_grad(z, y)
    assert not np.isnan(value) and value >= 0
    assert np.all(np.isfinite(grad)) and np.all(np.abs(grad) <= 1.0 / z.size)
    # element by element, -[y log s(z) + (1 - y) log s(-z)] with scipy's own stable log-sigmoid
    expected = -(y * scipy.special.log_expit(z) + (1 - y) * scipy.special.log_expit(-z))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = [L.binary_cross_entropy_with_logits(z[i:i + 1], y[i:i + 1]) for i in range(z.size)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 6)),
              elements=st.floats(-1e300, 1e300)),
       st.integers(0, 2**32 - 1))
def test_softmax_properties(z, seed):
    labels = np.random.default_rng(seed).integers(0, z.shape[1], size=z.shape[0])
    p = L.softmax(z)
    assert np.all(p >= 0) and np.allclose(p.sum(axis=1), 1.0)
    g = L.softmax_cross_entropy_grad(z, labels)
    assert np.all(np.isfinite(g)) and np.allclose(g.sum(axis=1), 0.0, atol=1e-15)
    assert L.softmax_cross_entropy(z, labels) >= 0


# ----------------------------------------------------------------------------- L2 penalty

def test_l2_penalty_against_autograd(rng):
    theta = rng.normal(size=(3, 4))
    value, grad = torch_value_and_grad(lambda p: 0.5 * 0.3 * (p**2).sum(), theta)
    assert L.l2_penalty(theta, 0.3) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(L.l2_penalty_grad(theta, 0.3), grad, rtol=1e-14)


def test_l2_penalty_grad_is_torch_sgd_weight_decay(rng):
    """torch.optim.SGD(weight_decay=λ) adds λθ to the gradient: one step from a zero loss gradient."""
    theta = rng.normal(size=5)
    p = t(theta, grad=True)
    opt = torch.optim.SGD([p], lr=0.1, weight_decay=0.3)
    p.grad = torch.zeros_like(p)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), theta - 0.1 * L.l2_penalty_grad(theta, 0.3), rtol=1e-14)


# ----------------------------------------------------------------------------- purity

CALLS = [
    ("mse_loss", 2), ("mse_loss_grad", 2), ("mae_loss", 2), ("huber_loss", 2), ("huber_loss_grad", 2),
    ("binary_cross_entropy_with_logits", 2), ("binary_cross_entropy_with_logits_grad", 2),
    ("softmax", 1), ("log_softmax", 1), ("sigmoid", 1),
]


@pytest.mark.parametrize("name,nargs", CALLS)
def test_inputs_not_mutated(rng, name, nargs):
    args = [rng.normal(size=(4, 3)) for _ in range(nargs)]
    copies = [a.copy() for a in args]
    getattr(L, name)(*args)
    for a, c in zip(args, copies):
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "softmax_cross_entropy_grad"])
def test_classification_inputs_not_mutated(rng, name):
    logits, labels = rng.normal(size=(4, 3)), rng.integers(0, 3, size=4)
    lc, yc = logits.copy(), labels.copy()
    out = getattr(L, name)(logits, labels)
    np.testing.assert_array_equal(logits, lc)
    np.testing.assert_array_equal(labels, yc)
    assert out is not logits


def test_l2_inputs_not_mutated(rng):
    theta = rng.normal(size=4)
    c = theta.copy()
    L.l2_penalty(theta, 0.1)
    g = L.l2_penalty_grad(theta, 0.1)
    np.testing.assert_array_equal(theta, c)
    assert g is not theta


def test_lists_accepted():
    assert L.mse_loss([1, 2], [1, 4]) == 2.0
    assert L.softmax_cross_entropy([[0, 0]], [0]) == pytest.approx(np.log(2))
    assert L.binary_cross_entropy_with_logits([0], [1]) == pytest.approx(np.log(2))
