"""The reference of chapter 3 (solutions/sgd.py) against independent references.

* clipping: ``torch.nn.utils.clip_grad_norm_`` (float64). Torch divides by
  ``norm + 1e-6`` where we divide by ``norm``, so the clipped gradients agree only to
  a relative ``1e-6 / norm``: we compare with ``rtol = 2e-6 / norm`` (and, exactly,
  with torch's own returned total norm plugged into the exact formula);
* schedules: ``torch.optim.lr_scheduler`` — ``StepLR``, ``LambdaLR`` (inverse time),
  ``LinearLR`` for the warm-up (its factor ``1/w + (1 - 1/w) t/(w - 1)`` is
  ``(t + 1)/w``) and ``CosineAnnealingLR`` (torch's recursive form) after it;
* batches: ``torch.utils.data.BatchSampler`` for the batch sizes, the permutation of
  a generator with the same seed, and the generator's state after the call;
* SGD: ``torch.optim.SGD`` on ``torch.nn.functional.mse_loss`` of each batch (autograd),
  epoch after epoch, on the same batches;
* statistics: the mini-batch gradient averaged over the batches of an epoch is the
  full gradient exactly; its variance over every subset of a small dataset, and
  Monte-Carlo over many seeds, is sigma^2 / b * (n - b) / (n - 1).
"""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from autograder.tests.problems import random_regression
from solutions import sgd
from solutions.common import design_matrix, seed_data_000, seed_data_003
from solutions.gradient_descent import least_squares, linreg_grad, linreg_loss

torch = pytest.importorskip("torch")


# --- minibatch_indices ---------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 60), b=st.integers(1, 70), seed=st.integers(0, 2**32 - 1))
def test_minibatch_indices_cover_each_sample_once_with_torch_batch_sizes(n, b, seed):
    batches = sgd.minibatch_indices(n, b, np.random.default_rng(seed))
    assert isinstance(batches, list)
    assert all(isinstance(idx, np.ndarray) and idx.dtype.kind == "i" for idx in batches)
    flat = np.concatenate(batches) if batches else np.array([], dtype=int)
    np.testing.assert_array_equal(np.sort(flat), np.arange(n))          # each index exactly once
    sampler = torch.utils.data.BatchSampler(range(n), batch_size=b, drop_last=False)
    assert [len(idx) for idx in batches] == [len(x) for x in sampler]


@pytest.mark.parametrize("n,b", [(10, 3), (100, 10), (7, 7), (5, 9), (1, 1)])
def test_minibatch_indices_is_one_permutation_call_cut_in_order(n, b):
    rng = np.random.default_rng(42)
    batches = sgd.minibatch_indices(n, b, rng)
    twin = np.random.default_rng(42)
    np.testing.assert_array_equal(np.concatenate(batches), twin.permutation(n))
    assert rng.bit_generator.state == twin.bit_generator.state          # nothing else was drawn


def test_minibatch_indices_depend_on_the_generator_and_only_on_it():
    a = sgd.minibatch_indices(50, 8, np.random.default_rng(1))
    b = sgd.minibatch_indices(50, 8, np.random.default_rng(1))
    c = sgd.minibatch_indices(50, 8, np.random.default_rng(2))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))
    rng = np.random.default_rng(3)                                      # two epochs differ
    first, second = sgd.minibatch_indices(50, 8, rng), sgd.minibatch_indices(50, 8, rng)
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))


def test_every_position_is_equally_likely():
    """Over many epochs each sample lands in the first batch with probability b / n."""
    n, b, epochs = 12, 4, 3000
    rng = np.random.default_rng(0)
    counts = np.zeros(n)
    for _ in range(epochs):
        counts[sgd.minibatch_indices(n, b, rng)[0]] += 1
    p = b / n
    assert np.all(np.abs(counts / epochs - p) < 5 * math.sqrt(p * (1 - p) / epochs))


def test_minibatch_indices_rejects_bad_sizes():
    with pytest.raises(ValueError):
        sgd.minibatch_indices(10, 0, np.random.default_rng(0))
    with pytest.raises(ValueError):
        sgd.minibatch_indices(-1, 2, np.random.default_rng(0))


# --- sgd_epoch -----------------------------------------------------------------------------

def torch_sgd_epochs(theta0, X, y, *, lr, batch_size, seed, epochs):
    """Mini-batch SGD with torch.optim.SGD and autograd on the batches of minibatch_indices."""
    rng = np.random.default_rng(seed)
    p = torch.tensor(theta0, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    out = []
    for _ in range(epochs):
        for idx in sgd.minibatch_indices(len(y), batch_size, rng):
            i = torch.as_tensor(idx)
            opt.zero_grad()
            torch.nn.functional.mse_loss(Xt[i] @ p, yt[i]).backward()
            opt.step()
        out.append(p.detach().numpy().copy())
    return out


@pytest.mark.parametrize("n,d,b,lr", [(6, 2, 3, 0.01), (20, 3, 1, 0.05), (23, 4, 5, 0.1), (10, 2, 10, 0.2),
                                      (9, 2, 20, 0.1)])
def test_sgd_epoch_matches_torch_sgd_epoch_after_epoch(n, d, b, lr):
    rng = np.random.default_rng(n + 100 * b)
    X, y = random_regression(rng, n, d)
    theta0 = rng.normal(size=d)
    expected = torch_sgd_epochs(theta0, X, y, lr=lr, batch_size=b, seed=7, epochs=20)
    gen, theta = np.random.default_rng(7), theta0
    for k, want in enumerate(expected, 1):
        theta = sgd.sgd_epoch(theta, X, y, lr=lr, batch_size=b, rng=gen)
        np.testing.assert_allclose(theta, want, rtol=1e-10, atol=1e-12, err_msg=f"epoch {k}")


def test_sgd_epoch_with_the_full_batch_is_one_gd_step_and_single_samples_are_sgd():
    x, y = seed_data_000()
    X = design_matrix(x)
    theta = np.array([0.3, -0.2])
    full = sgd.sgd_epoch(theta, X, y, lr=0.01, batch_size=6, rng=np.random.default_rng(0))
    np.testing.assert_allclose(full, theta - 0.01 * linreg_grad(theta, X, y), rtol=1e-14)
    perm = np.random.default_rng(5).permutation(6)
    t = theta.copy()
    for i in perm:                                  # g_i = 2 x_i (x_i . t - y_i), by hand
        t = t - 0.01 * 2 * X[i] * (X[i] @ t - y[i])
    np.testing.assert_allclose(sgd.sgd_epoch(theta, X, y, lr=0.01, batch_size=1, rng=np.random.default_rng(5)),
                               t, rtol=1e-13)


def test_sgd_epoch_does_not_mutate_and_converges_on_seed_003():
    x, y = seed_data_003()
    X = design_matrix(x)
    theta, copies = np.zeros(2), [a.copy() for a in (np.zeros(2), X, y)]
    rng = np.random.default_rng(0)
    out = theta
    for e in range(300):
        out = sgd.sgd_epoch(out, X, y, lr=0.2 / (1 + 0.05 * e), batch_size=10, rng=rng)
    for a, c in zip((theta, X, y), copies):
        np.testing.assert_array_equal(a, c)
    star = least_squares(X, y)
    np.testing.assert_allclose(star, [2.111, 2.968], atol=1e-3)
    assert linreg_loss(out, X, y) - linreg_loss(star, X, y) < 1e-4


# --- the mini-batch gradient: unbiased, variance ~ 1 / b -------------------------------------

@pytest.mark.parametrize("n,b", [(12, 3), (100, 10), (100, 1), (30, 30)])
def test_batch_gradients_of_an_epoch_average_to_the_full_gradient_exactly(n, b):
    rng = np.random.default_rng(n * b)
    X, y = random_regression(rng, n, 3)
    theta = rng.normal(size=3)
    grads = [linreg_grad(theta, X[idx], y[idx]) for idx in sgd.minibatch_indices(n, b, rng)]
    p = torch.tensor(theta, requires_grad=True)
    torch.nn.functional.mse_loss(torch.as_tensor(X) @ p, torch.as_tensor(y)).backward()
    np.testing.assert_allclose(np.mean(grads, axis=0), p.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sgd.per_sample_grads(theta, X, y).mean(axis=0), p.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("b", [1, 2, 3, 4, 6])
def test_variance_formula_is_exact_over_every_subset(b):
    """E over all C(n, b) subsets of ||g_B - g||^2 equals sigma^2 / b * (n - b) / (n - 1)."""
    rng = np.random.default_rng(b)
    X, y = random_regression(rng, 6, 2)
    theta = rng.normal(size=2)
    g = linreg_grad(theta, X, y)
    subsets = [list(s) for s in itertools.combinations(range(6), b)]
    exact = np.mean([np.sum((linreg_grad(theta, X[s], y[s]) - g) ** 2) for s in subsets])
    assert sgd.minibatch_grad_variance(theta, X, y, b) == pytest.approx(exact, rel=1e-12, abs=1e-14)
    mean = np.mean([linreg_grad(theta, X[s], y[s]) for s in subsets], axis=0)
    np.testing.assert_allclose(mean, g, rtol=1e-12, atol=1e-14)        # unbiased


def test_monte_carlo_variance_falls_as_one_over_b():
    """1000 epochs' first batches on seed 003's data: the measured variance is within
    5 standard errors of the formula, and b * variance is flat while (n - b) / (n - 1) ~ 1."""
    x, y = seed_data_003()
    X = design_matrix(x)
    theta = np.zeros(2)
    g = linreg_grad(theta, X, y)
    rng = np.random.default_rng(0)
    scaled = {}
    for b in (1, 4, 10):
        draws = np.array([np.sum((linreg_grad(theta, X[idx], y[idx]) - g) ** 2)
                          for idx in (sgd.minibatch_indices(100, b, rng)[0] for _ in range(1000))])
        theory = sgd.minibatch_grad_variance(theta, X, y, b)
        assert abs(draws.mean() - theory) < 5 * draws.std() / math.sqrt(len(draws))
        scaled[b] = b * draws.mean() / ((100 - b) / 99)
    values = np.array(list(scaled.values()))
    assert values.max() / values.min() < 1.25


# --- clip_by_global_norm ---------------------------------------------------------------------

def torch_clip(grads, max_norm):
    tensors = [torch.zeros(np.shape(g), dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(tensors, grads):
        t.grad = torch.tensor(g, dtype=torch.float64)
    total = float(torch.nn.utils.clip_grad_norm_(tensors, max_norm))
    return [t.grad.numpy() for t in tensors], total


@pytest.mark.parametrize("scale,max_norm", [(1.0, 1.0), (10.0, 1.0), (0.1, 5.0), (100.0, 0.5), (3.0, 1e3)])
@pytest.mark.parametrize("shapes", [[(5,)], [(3, 4), (4,)], [(2, 2), (1,), (6,)]])
def test_clip_by_global_norm_matches_torch(scale, max_norm, shapes):
    rng = np.random.default_rng(len(shapes))
    grads = [scale * rng.normal(size=s) for s in shapes]
    copies = [g.copy() for g in grads]
    ours = sgd.clip_by_global_norm(grads, max_norm)
    theirs, total = torch_clip(grads, max_norm)
    assert isinstance(ours, list) and len(ours) == len(grads)
    for o, t, g, c in zip(ours, theirs, grads, copies):
        assert o.shape == g.shape
        np.testing.assert_array_equal(g, c)                               # not mutated
        # torch's factor is max_norm / (total + 1e-6): relative difference 1e-6 / total
        np.testing.assert_allclose(o, t, rtol=2e-6 / total + 1e-12, atol=0)
        np.testing.assert_allclose(o, g * min(1.0, max_norm / total), rtol=1e-12)
    new_norm = math.sqrt(sum(np.sum(o**2) for o in ours))
    assert new_norm == pytest.approx(min(total, max_norm), rel=1e-12)


def test_clip_keeps_structure_and_zero_gradients():
    g = np.array([3.0, 4.0])
    np.testing.assert_allclose(sgd.clip_by_global_norm(g, 1.0), [0.6, 0.8])
    assert isinstance(sgd.clip_by_global_norm((g, g), 1.0), tuple)
    np.testing.assert_array_equal(sgd.clip_by_global_norm(g, 5.0), g)    # exactly at the norm
    assert sgd.clip_by_global_norm(g, 5.0) is not g
    zeros = sgd.clip_by_global_norm([np.zeros(3), np.zeros((2, 2))], 1.0)
    assert all(np.array_equal(z, np.zeros_like(z)) for z in zeros)
    with pytest.raises(ValueError):
        sgd.clip_by_global_norm(g, 0.0)


@pytest.mark.parametrize("size", [1e160, 1e200, 1e300])
def test_clip_exploding_gradients_whose_squares_overflow(size):
    grads = [np.array([size, -2 * size]), np.array([[2 * size]])]
    ours = sgd.clip_by_global_norm(grads, 3.0)
    np.testing.assert_allclose(np.concatenate([o.ravel() for o in ours]), [1.0, -2.0, 2.0], rtol=1e-14)


def test_clip_tiny_gradients_exactly_where_torch_differs():
    g = np.array([3e-7, 4e-7])                                 # norm 5e-7, clipped to 1e-7
    np.testing.assert_allclose(sgd.clip_by_global_norm(g, 1e-7), [6e-8, 8e-8], rtol=1e-14)
    theirs, total = torch_clip([g], 1e-7)
    assert total == pytest.approx(5e-7, rel=1e-14)
    np.testing.assert_allclose(theirs[0], g * 1e-7 / (5e-7 + 1e-6), rtol=1e-12)   # torch's 1e-6


# --- schedules -------------------------------------------------------------------------------

def torch_lrs(make_scheduler, lr0, steps):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(lrs)


@pytest.mark.parametrize("lr0,drop,every", [(0.1, 0.5, 10), (1.0, 0.1, 3), (0.3, 0.9, 1), (2.0, 0.5, 7)])
def test_step_decay_matches_torch_steplr(lr0, drop, every):
    want = torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=every, gamma=drop), lr0, 60)
    got = [sgd.step_decay(t, lr0=lr0, drop=drop, every=every) for t in range(60)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert sgd.step_decay(25, lr0=0.1) == pytest.approx(0.1 * 0.25)    # defaults drop=0.5, every=10


@pytest.mark.parametrize("lr0,k", [(0.1, 0.01), (1.0, 1.0), (0.5, 0.0)])
def test_inverse_time_decay_matches_torch_lambdalr_and_is_affine_in_one_over_lr(lr0, k):
    want = torch_lrs(lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda t: 1 / (1 + k * t)), lr0, 80)
    got = np.array([sgd.inverse_time_decay(t, lr0=lr0, k=k) for t in range(80)])
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(np.diff(1 / got), k / lr0, rtol=1e-9, atol=1e-12)    # 1/lr_t = (1 + k t)/lr0


def test_inverse_time_decay_meets_robbins_monro_and_a_constant_does_not():
    t = np.arange(1_000_000)
    lr = 1.0 / (1.0 + 0.5 * t)                      # vectorised closed form, compared below
    np.testing.assert_allclose([sgd.inverse_time_decay(s, lr0=1.0, k=0.5) for s in t[::99_991]], lr[::99_991])
    partial = np.cumsum(lr)
    assert partial[-1] > 25 and partial[-1] - partial[len(t) // 10 - 1] > 4    # grows like 2 log t
    squares = np.cumsum(lr**2)
    assert squares[-1] - squares[len(t) // 10 - 1] < 1e-4                       # converges


@pytest.mark.parametrize("lr0,w,T,lr_min", [(1.0, 5, 30, 0.0), (0.1, 10, 100, 0.001), (3e-4, 1, 20, 1e-5),
                                            (0.5, 4, 4, 0.05)])
def test_cosine_with_warmup_matches_torch_linearlr_then_cosineannealinglr(lr0, w, T, lr_min):
    f = lambda t: sgd.cosine_with_warmup(t, lr0=lr0, warmup_steps=w, total_steps=T, lr_min=lr_min)  # noqa: E731
    if w > 1:
        warm = torch_lrs(lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=1 / w, end_factor=1.0,
                                                                     total_iters=w - 1), lr0, w)
        np.testing.assert_allclose([f(t) for t in range(w)], warm, rtol=1e-12)
    elif w == 1:
        assert f(0) == lr0
    if T > w:
        cos = torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=T - w, eta_min=lr_min),
                        lr0, T - w + 1)
        np.testing.assert_allclose([f(t) for t in range(w, T + 1)], cos, rtol=1e-9, atol=1e-15)
    assert f(T) == pytest.approx(lr_min, abs=1e-15)
    assert all(f(t) == lr_min for t in range(T, T + 50))             # stays at lr_min (torch's would rise)
    assert f(w - 1) == pytest.approx(lr0, rel=1e-15)                  # the warm-up ends at lr0


def test_cosine_without_warmup_is_torch_cosine_and_rejects_bad_lengths():
    cos = torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=25), 0.2, 26)
    np.testing.assert_allclose([sgd.cosine_with_warmup(t, lr0=0.2, warmup_steps=0, total_steps=25)
                                for t in range(26)], cos, rtol=1e-9, atol=1e-15)
    with pytest.raises(ValueError):
        sgd.cosine_with_warmup(0, lr0=1.0, warmup_steps=10, total_steps=5)


def test_schedules_return_python_floats():
    assert type(sgd.step_decay(3, lr0=1)) is float
    assert type(sgd.inverse_time_decay(3, lr0=1, k=1)) is float
    assert type(sgd.cosine_with_warmup(3, lr0=1, warmup_steps=2, total_steps=9)) is float
