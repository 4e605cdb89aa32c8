"""Graded tests of chapter 3 (stochastic and mini-batch gradient descent): ex3_1 .. ex3_6.

Every scenario calls the student's functions through ``ns`` and returns plain data that
the grader compares with the reference's (solutions/sgd.py). A generator passed through
``ns`` arrives as a copy in the student's process (the scenario's own ``rng`` does not
move), so every call gets its own generator, made from ``rng``.

The mistakes below are deliberately wrong implementations; when a submission's output
equals one of them, the feedback names it and links the section of lessons/03_sgd.ipynb
that explains it.
"""
import math

import numpy as np

from autograder.framework import Exercise, Failure, Question
from autograder.tests.problems import random_regression
from solutions import sgd as ref
from solutions.common import design_matrix, seed_data_000, seed_data_003
from solutions.gradient_descent import linreg_grad

ex3_1 = Exercise("ex3_1", ref.minibatch_indices, anchor="sgd-minibatch")
ex3_2 = Exercise("ex3_2", ref.sgd_epoch, anchor="sgd-epoch")
ex3_3 = Exercise("ex3_3", ref.clip_by_global_norm, anchor="sgd-clipping")
ex3_4 = Exercise("ex3_4", ref.step_decay, anchor="sgd-step-decay")
ex3_5 = Exercise("ex3_5", ref.inverse_time_decay, anchor="sgd-inverse-time")
ex3_6 = Exercise("ex3_6", ref.cosine_with_warmup, anchor="sgd-cosine-warmup")


def generator(rng):
    """A fresh generator drawn from the scenario's ``rng`` (the same for reference and student)."""
    return np.random.default_rng(int(rng.integers(2**63)))


# ==================================================================== ex3_1 minibatch_indices

@ex3_1.test(points=1)
def test_fixed_sizes(ns, rng):
    """n = 10 with batches of 3, seed 000's n = 6 with 3, one full batch, a batch larger than n"""
    cases = {"n=10, b=3": (10, 3), "n=6, b=3": (6, 3), "n=7, b=7": (7, 7), "n=5, b=8": (5, 8), "n=4, b=1": (4, 1)}
    return {label: ns.minibatch_indices(n, b, np.random.default_rng(0)) for label, (n, b) in cases.items()}


@ex3_1.test(points=2)
def test_random_sizes(ns, rng):
    """random n and batch sizes (1, a few, n, more than n), a fresh generator each"""
    out = {}
    for n in rng.integers(3, 150, size=3):
        n = int(n)
        for b in (1, int(rng.integers(2, n)), n, n + 3):
            out[f"n={n}, b={b}"] = ns.minibatch_indices(n, b, generator(rng))
    return out


@ex3_1.test(points=1)
def test_epoch_properties(ns, rng):
    """each sample exactly once per epoch, batches of batch_size (the last one partial), shuffled"""
    for n, b in [(23, 5), (40, 8), (9, 2), (1, 1)]:
        batches = ns.minibatch_indices(n, b, generator(rng)).plain
        where = f"minibatch_indices({n}, {b}, rng)"
        if not isinstance(batches, (list, tuple)) or not all(isinstance(i, np.ndarray) for i in batches):
            raise Failure(f"{where} should return a list of index arrays")
        if not all(i.dtype.kind in "iu" and i.ndim == 1 for i in batches):
            raise Failure(f"{where}: the index arrays should be 1-D integer arrays")
        sizes = [len(i) for i in batches]
        want = [b] * (n // b) + ([n % b] if n % b else [])
        if sizes != want:
            raise Failure(f"{where} returned batches of sizes {sizes}; expected {want}")
        flat = np.sort(np.concatenate(batches))
        if not np.array_equal(flat, np.arange(n)):
            missing = sorted(set(range(n)) - set(flat.tolist()))
            raise Failure(f"{where}: each sample must appear exactly once per epoch"
                          + (f"; sample {missing[0]} never appears" if missing else "; some appear twice"))
    firsts = {tuple(ns.minibatch_indices(30, 30, generator(rng)).plain[0].tolist()) for _ in range(3)}
    if len(firsts) == 1:
        raise Failure("three different generators gave the same order: shuffle with rng.permutation(n)")
    return None


@ex3_1.mistake("minibatch_indices", "always the first batch_size samples, the sources' X[:batch_size] "
               "(source article 000): the other samples are never used", anchor="sgd-first-batch-bug")
def first_batch_only(n, batch_size, rng):
    return [np.arange(min(batch_size, n)) for _ in range(0, n, batch_size)]


@ex3_1.mistake("minibatch_indices", "no shuffling: the batches of np.arange(n), in the same order every epoch")
def no_shuffle(n, batch_size, rng):
    return [np.arange(n)[s:s + batch_size] for s in range(0, n, batch_size)]


@ex3_1.mistake("minibatch_indices", "the last, partial batch is dropped (range(0, n - batch_size + 1, batch_size))")
def drop_last(n, batch_size, rng):
    perm = rng.permutation(n)
    return [perm[s:s + batch_size] for s in range(0, n - batch_size + 1, batch_size)]


@ex3_1.mistake("minibatch_indices", "sampling with replacement (rng.integers): some samples are used twice "
               "in an epoch and others not at all", anchor="sgd-epochs-iterations")
def with_replacement(n, batch_size, rng):
    return [rng.integers(0, n, size=len(range(s, min(s + batch_size, n)))) for s in range(0, n, batch_size)]


@ex3_1.mistake("minibatch_indices", "a fresh permutation for every batch instead of one per epoch "
               "(batches overlap and some samples are never used)")
def fresh_permutation_per_batch(n, batch_size, rng):
    return [rng.permutation(n)[:len(range(s, min(s + batch_size, n)))] for s in range(0, n, batch_size)]


@ex3_1.mistake("minibatch_indices", "np.array_split(perm, n // batch_size): n // batch_size chunks of "
               "unequal sizes instead of batches of batch_size")
def array_split(n, batch_size, rng):
    return list(np.array_split(rng.permutation(n), n // batch_size))


@ex3_1.mistake("minibatch_indices", "the same (first) batch of the permutation repeated for the whole epoch")
def same_shuffled_batch(n, batch_size, rng):
    perm = rng.permutation(n)
    return [perm[:batch_size] for _ in range(0, n, batch_size)]


# ============================================================================ ex3_2 sgd_epoch

@ex3_2.test(points=1)
def test_seed_000_one_epoch(ns, rng):
    """seed 000's six points y = x + 1 from (b, w) = (0, 0), lr 0.01, batch sizes 3 (the source's), 1 and 6"""
    x, y = seed_data_000()
    X = design_matrix(x)
    return {f"batch_size={b}": ns.sgd_epoch(np.zeros(2), X, y, lr=0.01, batch_size=b, rng=np.random.default_rng(0))
            for b in (3, 1, 6)}


@ex3_2.test(points=2)
def test_random_problems(ns, rng):
    """random regressions (n, d) with batch sizes 1, a few (n not a multiple), n and more than n"""
    out = {}
    for n, d in [(11, 2), (30, 3), (17, 5)]:
        X, y = random_regression(rng, n, d)
        theta = rng.normal(size=d)
        for b in (1, 4, n, n + 2):
            out[f"n={n}, d={d}, batch_size={b}"] = ns.sgd_epoch(theta, X, y, lr=0.03, batch_size=b, rng=generator(rng))
    return out


@ex3_2.test(points=2, rtol=1e-6, atol=1e-9)
def test_trajectory_seed_003(ns, rng):
    """25 epochs on seed 003's y = 3x + 2 + noise (with the intercept), batches of 10, lr 0.1: every epoch"""
    x, y = seed_data_003()
    X = design_matrix(x)
    theta, out = np.zeros(2), {}
    for epoch in range(1, 26):
        theta = ns.sgd_epoch(theta, X, y, lr=0.1, batch_size=10, rng=generator(rng)).array()
        out[f"epoch {epoch}"] = theta
    return out


def _epoch_with(batches, grad):
    """A wrong sgd_epoch built from a batch rule and a gradient rule (for the mistakes)."""
    def epoch(params, X, y, *, lr, batch_size, rng):
        params = np.array(params, dtype=float)
        for idx in batches(len(y), batch_size, rng):
            params = params - lr * grad(params, X, y, idx, batch_size)
        return params
    return epoch


def _batch_grad(params, X, y, idx, batch_size):
    return linreg_grad(params, X[idx], y[idx])


ex3_2.mistake("sgd_epoch", "every update uses the first batch_size samples, the sources' X[:batch_size] "
              "(source article 000)", anchor="sgd-first-batch-bug")(_epoch_with(first_batch_only, _batch_grad))
ex3_2.mistake("sgd_epoch", "no shuffling: the batches are taken in the order of the data")(
    _epoch_with(no_shuffle, _batch_grad))
ex3_2.mistake("sgd_epoch", "the batch gradient is divided by n instead of the batch size "
              "(source article 003's 2 / len(y))", anchor="sgd-seed-003")(
    _epoch_with(ref.minibatch_indices, lambda p, X, y, idx, b: linreg_grad(p, X[idx], y[idx]) * len(idx) / len(y)))
ex3_2.mistake("sgd_epoch", "the batch gradient is summed over the batch instead of averaged (missing 1/|B|)")(
    _epoch_with(ref.minibatch_indices, lambda p, X, y, idx, b: linreg_grad(p, X[idx], y[idx]) * len(idx)))
ex3_2.mistake("sgd_epoch", "the partial last batch is divided by batch_size instead of its own size")(
    _epoch_with(ref.minibatch_indices, lambda p, X, y, idx, b: linreg_grad(p, X[idx], y[idx]) * len(idx) / b))
ex3_2.mistake("sgd_epoch", "sign error: params + lr * grad is gradient ascent (source article 000)")(
    _epoch_with(ref.minibatch_indices, lambda p, X, y, idx, b: -linreg_grad(p, X[idx], y[idx])))
ex3_2.mistake("sgd_epoch", "every update uses the full-batch gradient, ignoring the batch")(
    _epoch_with(ref.minibatch_indices, lambda p, X, y, idx, b: linreg_grad(p, X, y)))
ex3_2.mistake("sgd_epoch", "the last, partial batch is dropped")(_epoch_with(drop_last, _batch_grad))
ex3_2.mistake("sgd_epoch", "batches sampled with replacement (rng.integers) instead of a shuffled epoch",
              anchor="sgd-epochs-iterations")(_epoch_with(with_replacement, _batch_grad))


@ex3_2.mistake("sgd_epoch", "all batch gradients taken at the epoch's starting point and applied at once "
               "(one update per epoch)")
def one_update_per_epoch(params, X, y, *, lr, batch_size, rng):
    params = np.array(params, dtype=float)
    total = sum(linreg_grad(params, X[idx], y[idx]) for idx in ref.minibatch_indices(len(y), batch_size, rng))
    return params - lr * total


# ==================================================================== ex3_3 clip_by_global_norm

@ex3_3.test(points=1)
def test_fixed_vectors(ns, rng):
    """g = (3, 4) (norm 5) clipped to 1, exactly at 5, below 10; a 2-D array"""
    g = np.array([3.0, 4.0])
    M = np.array([[1.0, -2.0], [2.0, 4.0]])                     # norm 5
    return {"max_norm=1": ns.clip_by_global_norm(g, 1.0), "max_norm=5": ns.clip_by_global_norm(g, 5.0),
            "max_norm=10": ns.clip_by_global_norm(g, 10.0), "2-D, max_norm=2.5": ns.clip_by_global_norm(M, 2.5)}


@ex3_3.test(points=2)
def test_list_of_arrays(ns, rng):
    """lists and tuples of 1-D and 2-D arrays, above and below max_norm: one factor for all, same structure"""
    out = {}
    for label, shapes in {"weights and bias": [(3, 4), (4,)], "three arrays": [(2,), (5, 2), (1,)]}.items():
        for scale, max_norm in [(10.0, 1.0), (0.1, 2.0), (3.0, 0.5)]:
            grads = [scale * rng.normal(size=s) for s in shapes]
            got = ns.clip_by_global_norm(grads, max_norm)
            if not isinstance(got.plain, list):
                raise Failure(f"clip_by_global_norm(a list of {len(shapes)} arrays, ...) returned "
                              f"{type(got.plain).__name__}; return a list for a list")
            out[f"{label}, scale {scale}, max_norm {max_norm}"] = got
    got = ns.clip_by_global_norm((np.array([6.0, 0.0]), np.array([[8.0]])), 2.0)
    if not isinstance(got.plain, tuple):
        raise Failure(f"clip_by_global_norm(a tuple of arrays, ...) returned {type(got.plain).__name__}; "
                      "return a tuple for a tuple")
    out["a tuple"] = got
    return out


@ex3_3.test(points=1)
def test_zero_gradients(ns, rng):
    """zero gradients stay zero (no 0/0)"""
    return {"one zero array": ns.clip_by_global_norm(np.zeros(4), 1.0),
            "a list of zeros": ns.clip_by_global_norm([np.zeros((2, 3)), np.zeros(1)], 0.5)}


@ex3_3.test(points=1, rtol=1e-9, atol=0.0)
def test_exploding_gradients(ns, rng):
    """exploding gradients of size 1e160 (their squares overflow to inf) are still clipped to max_norm"""
    grads = [1e160 * np.array([1.0, -2.0]), 1e160 * np.array([[2.0]])]
    return ns.clip_by_global_norm(grads, 3.0)


@ex3_3.test(points=1, rtol=1e-9, atol=0.0)
def test_tiny_gradients(ns, rng):
    """a gradient of norm 5e-7 clipped to 1e-7: the exact factor max_norm / norm, no epsilon"""
    return {"norm 5e-7 to 1e-7": ns.clip_by_global_norm(np.array([3e-7, 4e-7]), 1e-7),
            "random, norm ~1e-5 to 1e-6": ns.clip_by_global_norm([1e-5 * rng.normal(size=3)], 1e-6)}


def _global_clip(norm_of, factor_of):
    """A wrong clip_by_global_norm built from a norm rule and a factor rule (for the mistakes)."""
    def clip(grads, max_norm):
        arrays = [np.asarray(g, dtype=float) for g in grads] if isinstance(grads, (list, tuple)) \
            else [np.asarray(grads, dtype=float)]
        norm = norm_of(arrays)
        out = [factor_of(a, norm, max_norm) for a in arrays]
        return tuple(out) if isinstance(grads, tuple) else out if isinstance(grads, list) else out[0]
    return clip


def _naive_norm(arrays):
    return float(np.sqrt(sum(np.sum(a**2) for a in arrays)))


ex3_3.mistake("clip_by_global_norm", "sqrt(sum(g**2)) overflows to inf for gradients above ~1e154, which "
              "clips everything to zero; divide by the largest entry before squaring")(
    _global_clip(_naive_norm, lambda a, n, c: a * min(1.0, c / n) if n > 0 else a))


@ex3_3.mistake("clip_by_global_norm", "each array clipped by its own norm instead of one global norm for all")
def clip_each(grads, max_norm):
    one = lambda a: a * min(1.0, max_norm / n) if (n := _naive_norm([a])) > 0 else a  # noqa: E731
    if isinstance(grads, (list, tuple)):
        out = [one(np.asarray(g, dtype=float)) for g in grads]
        return tuple(out) if isinstance(grads, tuple) else out
    return one(np.asarray(grads, dtype=float))


ex3_3.mistake("clip_by_global_norm", "the gradient is always rescaled to max_norm, so small gradients are "
              "scaled up (the factor needs min(1, ...))")(
    _global_clip(_naive_norm, lambda a, n, c: a * (c / n) if n > 0 else a))


@ex3_3.mistake("clip_by_global_norm", "clipping by value (np.clip(g, -max_norm, max_norm)) instead of by norm: "
               "it changes the direction")
def clip_by_value(grads, max_norm):
    if isinstance(grads, (list, tuple)):
        out = [np.clip(np.asarray(g, dtype=float), -max_norm, max_norm) for g in grads]
        return tuple(out) if isinstance(grads, tuple) else out
    return np.clip(np.asarray(grads, dtype=float), -max_norm, max_norm)


ex3_3.mistake("clip_by_global_norm", "the squared norm sum(g**2) used as the norm (missing square root)")(
    _global_clip(lambda arrays: _naive_norm(arrays) ** 2, lambda a, n, c: a * min(1.0, c / n) if n > 0 else a))
ex3_3.mistake("clip_by_global_norm", "torch's max_norm / (norm + 1e-6); the graded formula is the exact "
              "max_norm / norm")(
    _global_clip(_naive_norm, lambda a, n, c: a * min(1.0, c / (n + 1e-6))))
ex3_3.mistake("clip_by_global_norm", "g / norm * min(norm, max_norm): 0 / 0 = NaN for zero gradients")(
    _global_clip(_naive_norm, lambda a, n, c: a / n * min(n, c)))
# ============================================================================ ex3_4 step_decay

@ex3_4.test(points=1)
def test_default_steps(ns, rng):
    """lr0 = 0.1 with the defaults drop = 0.5, every = 10, steps 0 .. 45"""
    return [ns.step_decay(t, lr0=0.1) for t in range(46)]


@ex3_4.test(points=2)
def test_random_hyperparameters(ns, rng):
    """random lr0, drop and every; steps at, just before and just after each drop"""
    out = {}
    for _ in range(3):
        lr0, drop, every = float(rng.uniform(0.01, 2.0)), float(rng.uniform(0.1, 0.9)), int(rng.integers(2, 20))
        steps = sorted({0, 1, every - 1, every, every + 1, 3 * every - 1, 3 * every, int(rng.integers(0, 200))})
        out[f"lr0={lr0:.3g}, drop={drop:.3g}, every={every}"] = [
            ns.step_decay(t, lr0=lr0, drop=drop, every=every) for t in steps]
    out["every=1"] = [ns.step_decay(t, lr0=1.0, drop=0.9, every=1) for t in range(5)]
    return out


@ex3_4.mistake("step_decay", "off by one: drop ** ((step + 1) // every) drops one step early")
def step_decay_early(step, *, lr0, drop=0.5, every=10):
    return lr0 * drop ** ((step + 1) // every)


@ex3_4.mistake("step_decay", "drop ** (step // every + 1): the rate is already decayed at step 0")
def step_decay_exponent_plus_one(step, *, lr0, drop=0.5, every=10):
    return lr0 * drop ** (step // every + 1)


@ex3_4.mistake("step_decay", "drop ** (step / every) without the floor: smooth exponential decay, not a staircase")
def step_decay_smooth(step, *, lr0, drop=0.5, every=10):
    return lr0 * drop ** (step / every)


@ex3_4.mistake("step_decay", "drop ** step: decays at every step, ignoring every")
def step_decay_every_step(step, *, lr0, drop=0.5, every=10):
    return lr0 * drop**step


# ==================================================================== ex3_5 inverse_time_decay

@ex3_5.test(points=1)
def test_fixed_decay(ns, rng):
    """lr0 = 0.5, k = 0.1, steps 0 .. 30"""
    return [ns.inverse_time_decay(t, lr0=0.5, k=0.1) for t in range(31)]


@ex3_5.test(points=2)
def test_random_and_long(ns, rng):
    """random lr0 and k, steps up to a million"""
    out = {}
    for _ in range(3):
        lr0, k = float(rng.uniform(0.01, 1.0)), float(rng.uniform(1e-3, 1.0))
        steps = [0, 1, 2, 10, int(rng.integers(3, 1000)), 10**6]
        out[f"lr0={lr0:.3g}, k={k:.3g}"] = [ns.inverse_time_decay(t, lr0=lr0, k=k) for t in steps]
    return out


@ex3_5.mistake("inverse_time_decay", "lr0 / (1 + k (step + 1)): off by one, the first step is already decayed")
def inverse_time_t_plus_one(step, *, lr0, k):
    return lr0 / (1 + k * (step + 1))


@ex3_5.mistake("inverse_time_decay", "lr0 / (1 + k) ** step: dividing the previous rate again at every step "
               "compounds into an exponential decay (the sources' eta <- eta / (1 + ...), article 000)",
               anchor="sgd-robbins-monro")
def inverse_time_compounding(step, *, lr0, k):
    return lr0 / (1 + k) ** step


@ex3_5.mistake("inverse_time_decay", "1 / (1 + k step) without lr0 (the display formula of source article 000)",
               anchor="sgd-robbins-monro")
def inverse_time_no_lr0(step, *, lr0, k):
    return 1 / (1 + k * step)


@ex3_5.mistake("inverse_time_decay", "lr0 / sqrt(1 + k step): a 1/sqrt(t) decay instead of 1/t")
def inverse_sqrt(step, *, lr0, k):
    return lr0 / math.sqrt(1 + k * step)


@ex3_5.mistake("inverse_time_decay", "lr0 exp(-k step): exponential decay instead of 1/t "
               "(its sum is finite, so SGD stops short)", anchor="sgd-robbins-monro")
def exponential_decay(step, *, lr0, k):
    return lr0 * math.exp(-k * step)


# ==================================================================== ex3_6 cosine_with_warmup

@ex3_6.test(points=1)
def test_fixed_schedule(ns, rng):
    """lr0 = 1, 5 warm-up steps, 20 in total, steps 0 .. 25"""
    return [ns.cosine_with_warmup(t, lr0=1.0, warmup_steps=5, total_steps=20) for t in range(26)]


@ex3_6.test(points=2)
def test_random_with_lr_min(ns, rng):
    """random lr0, warm-up, length and lr_min > 0, every step up to 10 past the end"""
    out = {}
    for _ in range(3):
        lr0 = float(rng.uniform(1e-3, 1.0))
        w = int(rng.integers(1, 15))
        T = w + int(rng.integers(5, 60))
        lr_min = float(lr0 * rng.uniform(0.01, 0.2))
        out[f"lr0={lr0:.3g}, warmup={w}, total={T}, lr_min={lr_min:.3g}"] = [
            ns.cosine_with_warmup(t, lr0=lr0, warmup_steps=w, total_steps=T, lr_min=lr_min) for t in range(T + 11)]
    return out


@ex3_6.test(points=1)
def test_edge_cases(ns, rng):
    """no warm-up (plain cosine), a one-step warm-up, warm-up as long as the schedule"""
    return {"warmup=0": [ns.cosine_with_warmup(t, lr0=0.2, warmup_steps=0, total_steps=10) for t in range(13)],
            "warmup=1": [ns.cosine_with_warmup(t, lr0=0.2, warmup_steps=1, total_steps=10, lr_min=0.01)
                         for t in range(13)],
            "warmup=total": [ns.cosine_with_warmup(t, lr0=0.2, warmup_steps=6, total_steps=6, lr_min=0.02)
                             for t in range(9)]}


def _cosine(t, lr0, w, T, lr_min):
    """The cosine part of the schedule at step t (for the mistakes)."""
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * (t - w) / (T - w)))


@ex3_6.mistake("cosine_with_warmup", "no warm-up: the cosine runs from step 0 over all total_steps")
def cosine_no_warmup(step, *, lr0, warmup_steps, total_steps, lr_min=0.0):
    return lr_min if step >= total_steps else _cosine(step, lr0, 0, total_steps, lr_min)


@ex3_6.mistake("cosine_with_warmup", "warm-up lr0 * step / warmup_steps: off by one, it starts at 0 "
               "(a wasted step) and reaches lr0 only at step warmup_steps")
def warmup_from_zero(step, *, lr0, warmup_steps, total_steps, lr_min=0.0):
    if step < warmup_steps:
        return lr0 * step / warmup_steps
    return lr_min if step >= total_steps else _cosine(step, lr0, warmup_steps, total_steps, lr_min)


@ex3_6.mistake("cosine_with_warmup", "the cosine's phase counted from step 0 instead of from the end of the warm-up")
def cosine_phase_from_zero(step, *, lr0, warmup_steps, total_steps, lr_min=0.0):
    if step < warmup_steps:
        return lr0 * (step + 1) / warmup_steps
    return lr_min if step >= total_steps else _cosine(step, lr0, 0, total_steps, lr_min)


@ex3_6.mistake("cosine_with_warmup", "lr_min ignored: the cosine decays to 0")
def cosine_to_zero(step, *, lr0, warmup_steps, total_steps, lr_min=0.0):
    if step < warmup_steps:
        return lr0 * (step + 1) / warmup_steps
    return 0.0 if step >= total_steps else _cosine(step, lr0, warmup_steps, total_steps, 0.0)


@ex3_6.mistake("cosine_with_warmup", "lr_min added on top: lr_min + lr0 (1 + cos) / 2 starts above lr0")
def cosine_lr_min_on_top(step, *, lr0, warmup_steps, total_steps, lr_min=0.0):
    if step < warmup_steps:
        return lr0 * (step + 1) / warmup_steps
    return lr_min if step >= total_steps else lr_min + _cosine(step, lr0, warmup_steps, total_steps, 0.0)


@ex3_6.mistake("cosine_with_warmup", "the cosine goes on after total_steps (the rate rises again) "
               "instead of staying at lr_min")
def cosine_rises_again(step, *, lr0, warmup_steps, total_steps, lr_min=0.0):
    if step < warmup_steps:
        return lr0 * (step + 1) / warmup_steps
    if total_steps == warmup_steps:
        return lr_min
    return _cosine(step, lr0, warmup_steps, total_steps, lr_min)


# ==================================================================== ex3_7 minibatch_noise_ratio (question)

ex3_7 = Question("ex3_7", ref.minibatch_noise_ratio_answer, anchor="sgd-unbiased")
test_minibatch_noise_ratio = ex3_7.graded(points=1, digits=3)


@ex3_7.mistake("minibatch_noise_ratio_answer", "1/√B, the ratio for independent samples: a batch of "
               "distinct samples also has the finite-population factor (n - B)/(n - 1) in its variance")
def noise_ratio_independent():
    return 1 / math.sqrt(ref.NOISE_RATIO_SETTING["batch_size"])


@ex3_7.mistake("minibatch_noise_ratio_answer", "the ratio of the variances, not of the typical errors "
               "(their square roots)")
def noise_ratio_variance():
    s = ref.NOISE_RATIO_SETTING
    n, B = s["n"], s["batch_size"]
    return (n - B) / (n - 1) / B


@ex3_7.mistake("minibatch_noise_ratio_answer", "1/B: the variance falls like 1/B, so the typical error "
               "(its square root) falls only like 1/√B, and a little faster for distinct samples")
def noise_ratio_one_over_B():
    return 1 / ref.NOISE_RATIO_SETTING["batch_size"]


@ex3_7.mistake("minibatch_noise_ratio_answer", "the reciprocal: the single sample's typical error over the "
               "batch's (how many times larger it is), where the question asks for the batch's over the single "
               "sample's, a number below 1")
def noise_ratio_reciprocal():
    return 1 / ref.minibatch_noise_ratio_answer()


@ex3_7.mistake("minibatch_noise_ratio_answer", "√B, the reciprocal of the ratio for independent samples: the "
               "question asks for the batch's typical error over the single sample's (below 1), and a batch of "
               "distinct samples also has the factor (n - B)/(n - 1) in its variance")
def noise_ratio_sqrt_B():
    return math.sqrt(ref.NOISE_RATIO_SETTING["batch_size"])


# ==================================================================== ex3_8 robbins_monro_schedule (question)

ex3_8 = Question("ex3_8", ref.robbins_monro_schedule_answer, anchor="sgd-robbins-monro",
                 choices=tuple(ref.ROBBINS_MONRO_CHOICES))
test_robbins_monro_schedule = ex3_8.graded(points=1)


@ex3_8.mistake("robbins_monro_schedule_answer", "step decay is a geometric decay taken in stairs: its "
               "steps add up to a finite total (here 100 · 0.1/(1 - 0.5) = 20), so SGD stops short")
def schedule_step_decay():
    return "a"


@ex3_8.mistake("robbins_monro_schedule_answer", "an exponential decay: its steps add up to a finite "
               "total (here 0.1/(1 - 0.999) = 100), so SGD stops short")
def schedule_exponential():
    return "c"


@ex3_8.mistake("robbins_monro_schedule_answer", "a decay like 1/t² makes the sum of the squares finite "
               "but also the sum of the steps (Σ 1/t² converges): the steps must sum to infinity")
def schedule_inverse_square():
    return "d"
