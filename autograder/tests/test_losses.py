"""Graded tests of chapter 1 (loss functions): ex1_1 .. ex1_9.

Every scenario calls the student's functions through ``ns`` and returns plain data that
the grader compares with the reference's (solutions/losses.py). The mistakes below are
deliberately wrong implementations; when a submission's output equals one of them, the
feedback names the mistake and links the section of lessons/01_losses.ipynb about it.
"""
import numpy as np

from autograder.framework import Exercise, Question
from solutions import losses as ref
from solutions.common import seed_data_000

ex1_1 = Exercise("ex1_1", ref.mse_loss, anchor="losses-mse")
ex1_2 = Exercise("ex1_2", ref.mse_loss_grad, anchor="losses-mse-grad")
ex1_3 = Exercise("ex1_3", ref.huber_loss, anchor="losses-huber")
ex1_4 = Exercise("ex1_4", ref.huber_loss_grad, anchor="losses-huber-grad")
ex1_5 = Exercise("ex1_5", ref.softmax, anchor="losses-softmax")
ex1_6 = Exercise("ex1_6", ref.softmax_cross_entropy, anchor="losses-cross-entropy")
ex1_7 = Exercise("ex1_7", ref.softmax_cross_entropy_grad, anchor="losses-cross-entropy-grad")
ex1_8 = Exercise("ex1_8", ref.binary_cross_entropy_with_logits, anchor="losses-bce")
ex1_9 = Exercise("ex1_9", ref.binary_cross_entropy_with_logits_grad, anchor="losses-bce-grad")


# --- shared inputs ---------------------------------------------------------------------------------

def seed_000_predictions():
    """Predictions w x + b of seed 000's line y = x + 1 at a few (w, b), with its targets."""
    x, y = seed_data_000()
    return {f"w={w}, b={b}": (w * x + b, y) for w, b in [(1.0, 1.0), (0.0, 0.0), (0.5, 2.0), (2.0, -1.0)]}


def regression_pairs(rng):
    """Random (y_pred, y) of several shapes, 1-D and 2-D."""
    return {f"shape {s}": (rng.normal(size=s) * 2.0, rng.normal(size=s)) for s in [(1,), (6,), (25,), (8, 3)]}


def residual_pairs(rng, delta):
    """(y_pred, y) whose residuals lie on both sides of +-delta, plus exactly +-delta."""
    y = rng.normal(size=12)
    r = rng.uniform(-4 * delta, 4 * delta, size=12)
    r[:2] = [delta, -delta]
    r[2:4] = [0.3 * delta, -0.6 * delta]
    r[4:6] = [2.5 * delta, -3.0 * delta]
    return y + r, y


def classification_case(rng, n, k, scale):
    """Random logits (n, k) of the given scale and integer labels (n,)."""
    return rng.normal(size=(n, k)) * scale, rng.integers(0, k, size=n)


def on_random_classification(call, rng):
    """``call(logits, labels)`` on random cases of shapes (1, 3), (8, 3) and (20, 10)."""
    return {f"n={n}, k={k}": call(*classification_case(rng, n, k, scale))
            for n, k, scale in [(1, 3, 1.0), (8, 3, 1.0), (20, 10, 3.0)]}


def on_large_classification(call, rng):
    """``call(logits, labels)`` on the fixed large-logit cases and on random logits of size ~1e3."""
    out = {label: call(z, y) for label, (z, y) in large_logits_cases().items()}
    out["random * 1e3"] = call(*classification_case(rng, 6, 4, 1e3))
    return out


def large_logits_cases():
    """Fixed logits of size ~1e3 (exp overflows), labels on both the largest and a small logit."""
    logits = np.array([[1000.0, 0.0, -1000.0],
                       [0.0, 800.0, 790.0],
                       [-1000.0, -1000.0, -999.0],
                       [1200.0, 1190.0, -5.0]])
    return {"labels on the largest logit": (logits, np.array([0, 1, 2, 0])),
            "labels on a small logit": (logits, np.array([2, 0, 0, 2]))}


def binary_cases(rng):
    """Random logits and 0/1 targets of several shapes, and soft targets."""
    cases = {f"shape {s}": (rng.normal(size=s) * 3.0, rng.integers(0, 2, size=s).astype(float))
             for s in [(1,), (10,), (6, 4)]}
    cases["soft targets"] = (rng.normal(size=9) * 2.0, rng.uniform(size=9))
    return cases


def binary_large_logits():
    """Logits of size 1e3 .. 1e5, confidently right and confidently wrong."""
    z = np.array([1000.0, -1000.0, 1000.0, -1000.0, 1e5, -1e5, 50.0, -50.0])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0])
    return z, y


# ====================================================================================== ex1_1 MSE

@ex1_1.test(points=1)
def test_mse_seed_000(ns, rng):
    """seed 000's six points y = x + 1, predictions w x + b at four (w, b)"""
    return {label: ns.mse_loss(p, y) for label, (p, y) in seed_000_predictions().items()}


@ex1_1.test(points=1)
def test_mse_random(ns, rng):
    """random predictions and targets, 1-D and 2-D (mean over all elements)"""
    return {label: ns.mse_loss(p, y) for label, (p, y) in regression_pairs(rng).items()}


@ex1_1.test(points=1, atol=0.0)
def test_mse_magnitudes(ns, rng):
    """tiny (1e-150) and large (1e100) errors"""
    y = rng.normal(size=5)
    return {"tiny errors": ns.mse_loss(y + 1e-150 * rng.normal(size=5), y),
            "large errors": ns.mse_loss(1e100 * rng.normal(size=(2, 3)), np.zeros((2, 3)))}


@ex1_1.mistake("mse_loss", "the vector of squared errors (y_pred - y)**2 instead of their mean "
               "(source article 000)", anchor="losses-mse")
def mse_vector(y_pred, y):
    return (np.asarray(y_pred, dtype=float) - y) ** 2


@ex1_1.mistake("mse_loss", "the sum of the squared errors instead of their mean")
def mse_sum(y_pred, y):
    return float(np.sum((np.asarray(y_pred, dtype=float) - y) ** 2))


@ex1_1.mistake("mse_loss", "the half-MSE convention sum(r**2) / (2n) (source article 001); "
               "the graded convention is the plain mean", anchor="losses-half-mse")
def mse_half(y_pred, y):
    return float(np.mean((np.asarray(y_pred, dtype=float) - y) ** 2) / 2)


@ex1_1.mistake("mse_loss", "the root of the mean squared error (RMSE) instead of the MSE")
def mse_root(y_pred, y):
    return float(np.sqrt(np.mean((np.asarray(y_pred, dtype=float) - y) ** 2)))


@ex1_1.mistake("mse_loss", "the square of the mean error, mean(r)**2, instead of the mean of the squares")
def mse_square_of_mean(y_pred, y):
    return float(np.mean(np.asarray(y_pred, dtype=float) - y) ** 2)


@ex1_1.mistake("mse_loss", "the mean absolute error (MAE) instead of the mean squared error")
def mse_abs(y_pred, y):
    return float(np.mean(np.abs(np.asarray(y_pred, dtype=float) - y)))


@ex1_1.mistake("mse_loss", "divided by len(y) (the number of rows) instead of the number of elements")
def mse_len(y_pred, y):
    return float(np.sum((np.asarray(y_pred, dtype=float) - y) ** 2) / len(y))


# ====================================================================================== ex1_2 MSE gradient

@ex1_2.test(points=1)
def test_mse_grad_seed_000(ns, rng):
    """seed 000's six points, gradient w.r.t. the predictions at four (w, b)"""
    return {label: ns.mse_loss_grad(p, y) for label, (p, y) in seed_000_predictions().items()}


@ex1_2.test(points=2)
def test_mse_grad_random(ns, rng):
    """random predictions and targets, 1-D and 2-D (n = number of elements)"""
    return {label: ns.mse_loss_grad(p, y) for label, (p, y) in regression_pairs(rng).items()}


@ex1_2.mistake("mse_loss_grad", "sign error: -2 (y_pred - y) / n points uphill (source article 000's "
               "dw = -2 * X * (y_pred - y))", anchor="losses-mse-grad")
def mse_grad_sign(y_pred, y):
    y_pred = np.asarray(y_pred, dtype=float)
    return -2.0 * (y_pred - y) / y_pred.size


@ex1_2.mistake("mse_loss_grad", "missing the 1/n: 2 (y_pred - y) is the gradient of the sum, not of the mean")
def mse_grad_no_mean(y_pred, y):
    return 2.0 * (np.asarray(y_pred, dtype=float) - y)


@ex1_2.mistake("mse_loss_grad", "missing the factor 2: (y_pred - y) / n is the gradient of the half-MSE",
               anchor="losses-half-mse")
def mse_grad_half(y_pred, y):
    y_pred = np.asarray(y_pred, dtype=float)
    return (y_pred - y) / y_pred.size


@ex1_2.mistake("mse_loss_grad", "divided by len(y) (the number of rows) instead of y_pred.size")
def mse_grad_len(y_pred, y):
    return 2.0 * (np.asarray(y_pred, dtype=float) - y) / len(y)


@ex1_2.mistake("mse_loss_grad", "reduced to one number 2 mean(y_pred - y): the gradient has one entry per prediction")
def mse_grad_scalar(y_pred, y):
    return float(2.0 * np.mean(np.asarray(y_pred, dtype=float) - y))


# ====================================================================================== ex1_3 Huber

@ex1_3.test(points=1)
def test_huber_default_delta(ns, rng):
    """residuals on both sides of the default delta = 1, and exactly at +-1"""
    p, y = residual_pairs(rng, 1.0)
    return {"1-D": ns.huber_loss(p, y), "2-D": ns.huber_loss(p.reshape(3, 4), y.reshape(3, 4))}


@ex1_3.test(points=1)
def test_huber_fixed(ns, rng):
    """small and large residuals, one at a time"""
    return {f"residual {r}": ns.huber_loss(np.array([r]), np.zeros(1)) for r in [0.0, 0.5, -0.9, 1.0, 3.0, -7.5]}


@ex1_3.test(points=2)
def test_huber_other_deltas(ns, rng):
    """delta = 0.25, 2.5 and 10 on random residuals"""
    out = {}
    for delta in [0.25, 2.5, 10.0]:
        p, y = residual_pairs(rng, delta)
        out[f"delta={delta}"] = ns.huber_loss(p, y, delta=delta)
    return out


@ex1_3.mistake("huber_loss", "the quadratic piece without its 1/2: r**2 instead of 0.5 r**2 for |r| <= delta",
               anchor="losses-huber")
def huber_no_half(y_pred, y, delta=1.0):
    r = np.abs(np.asarray(y_pred, dtype=float) - y)
    return float(np.mean(np.where(r <= delta, r**2, delta * (r - 0.5 * delta))))


@ex1_3.mistake("huber_loss", "the linear piece without its offset: delta |r| instead of delta (|r| - delta/2)")
def huber_no_offset(y_pred, y, delta=1.0):
    r = np.abs(np.asarray(y_pred, dtype=float) - y)
    return float(np.mean(np.where(r <= delta, 0.5 * r**2, delta * r)))


@ex1_3.mistake("huber_loss", "the two pieces swapped: quadratic for large residuals and linear for small ones")
def huber_swapped(y_pred, y, delta=1.0):
    r = np.abs(np.asarray(y_pred, dtype=float) - y)
    return float(np.mean(np.where(r > delta, 0.5 * r**2, delta * (r - 0.5 * delta))))


@ex1_3.mistake("huber_loss", "torch's smooth_l1_loss convention (the Huber loss divided by delta); "
               "the graded one is huber_loss")
def huber_smooth_l1(y_pred, y, delta=1.0):
    return ref.huber_loss(y_pred, y, delta) / delta


@ex1_3.mistake("huber_loss", "delta ignored: the threshold is always 1")
def huber_delta_one(y_pred, y, delta=1.0):
    return ref.huber_loss(y_pred, y, 1.0)


@ex1_3.mistake("huber_loss", "the sum over the elements instead of the mean")
def huber_sum(y_pred, y, delta=1.0):
    return ref.huber_loss(y_pred, y, delta) * np.size(y_pred)


# ====================================================================================== ex1_4 Huber gradient

@ex1_4.test(points=1)
def test_huber_grad_default_delta(ns, rng):
    """residuals on both sides of the default delta = 1, 1-D and 2-D"""
    p, y = residual_pairs(rng, 1.0)
    return {"1-D": ns.huber_loss_grad(p, y), "2-D": ns.huber_loss_grad(p.reshape(3, 4), y.reshape(3, 4))}


@ex1_4.test(points=2)
def test_huber_grad_other_deltas(ns, rng):
    """delta = 0.25, 2.5 and 10 on random residuals"""
    out = {}
    for delta in [0.25, 2.5, 10.0]:
        p, y = residual_pairs(rng, delta)
        out[f"delta={delta}"] = ns.huber_loss_grad(p, y, delta=delta)
    return out


@ex1_4.mistake("huber_loss_grad", "sign error: the gradient of the loss points towards larger losses",
               anchor="losses-huber-grad")
def huber_grad_sign(y_pred, y, delta=1.0):
    return -ref.huber_loss_grad(y_pred, y, delta)


@ex1_4.mistake("huber_loss_grad", "missing the 1/n of the mean")
def huber_grad_no_mean(y_pred, y, delta=1.0):
    return ref.huber_loss_grad(y_pred, y, delta) * np.size(y_pred)


@ex1_4.mistake("huber_loss_grad", "not clipped: r / n is the gradient of the half-MSE, not of the Huber loss")
def huber_grad_unclipped(y_pred, y, delta=1.0):
    y_pred = np.asarray(y_pred, dtype=float)
    return (y_pred - y) / y_pred.size


@ex1_4.mistake("huber_loss_grad", "clipped at +-1 whatever delta is")
def huber_grad_clip_one(y_pred, y, delta=1.0):
    return ref.huber_loss_grad(y_pred, y, 1.0)


@ex1_4.mistake("huber_loss_grad", "delta sign(r) / n everywhere (the gradient of delta times the MAE), "
               "without the quadratic piece")
def huber_grad_sign_only(y_pred, y, delta=1.0):
    y_pred = np.asarray(y_pred, dtype=float)
    return delta * np.sign(y_pred - y) / y_pred.size


# ====================================================================================== ex1_5 softmax

@ex1_5.test(points=1)
def test_softmax_vectors(ns, rng):
    """1-D logits: zeros, a fixed vector, a random vector"""
    return {"zeros": ns.softmax(np.zeros(4)), "fixed": ns.softmax(np.array([1.0, 2.0, 3.0])),
            "random": ns.softmax(rng.normal(size=7) * 3)}


@ex1_5.test(points=1)
def test_softmax_rows(ns, rng):
    """2-D logits (n, k): each row is one sample (default axis=-1)"""
    return {"(5, 3)": ns.softmax(rng.normal(size=(5, 3))), "(2, 6)": ns.softmax(rng.normal(size=(2, 6)) * 4)}


@ex1_5.test(points=1)
def test_softmax_axis(ns, rng):
    """the axis argument: axis=0 on (4, 3) and axis=1 on (2, 3, 4)"""
    return {"axis=0": ns.softmax(rng.normal(size=(4, 3)), axis=0),
            "axis=1": ns.softmax(rng.normal(size=(2, 3, 4)), axis=1)}


@ex1_5.test(points=2)
def test_softmax_large_logits(ns, rng):
    """large logits (1000 and more): exp(z) overflows unless the maximum is subtracted"""
    return {"[1000, 1000, 0]": ns.softmax(np.array([1000.0, 1000.0, 0.0])),
            "[1000, 999, -1000]": ns.softmax(np.array([1000.0, 999.0, -1000.0])),
            "rows of very different scales": ns.softmax(np.array([[1000.0, 1001.0, 999.0], [0.0, 1.0, -1.0]])),
            "random * 1e4": ns.softmax(np.vstack([rng.normal(size=(3, 4)) * 1e4, [0.0, 1.0, 2.0, 3.0]]))}


@ex1_5.mistake("softmax", "the naive exp(z) / sum(exp(z)) without subtracting the maximum: "
               "exp(1000) overflows to inf and inf / inf is NaN", anchor="losses-log-sum-exp")
def softmax_naive(z, axis=-1):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum(axis=axis, keepdims=True)


@ex1_5.mistake("softmax", "normalised over the wrong axis (axis 0, the samples, instead of axis=-1, the classes)")
def softmax_axis0(z, axis=-1):
    return ref.softmax(z, axis=0)


@ex1_5.mistake("softmax", "the axis argument ignored (always the last axis)")
def softmax_ignores_axis(z, axis=-1):
    return ref.softmax(z)


@ex1_5.mistake("softmax", "normalised over the whole array instead of along the axis")
def softmax_whole_array(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


@ex1_5.mistake("softmax", "one maximum for the whole array instead of one per row (keepdims=True): "
               "rows far below it underflow to 0 / 0 = NaN", anchor="losses-log-sum-exp")
def softmax_global_max(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum(axis=axis, keepdims=True)


@ex1_5.mistake("softmax", "the log-softmax z - logsumexp(z) returned instead of the probabilities "
               "exp(z - logsumexp(z))", anchor="losses-log-sum-exp")
def softmax_returns_log_softmax(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = np.max(z, axis=axis, keepdims=True)
    return z - m - np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))


# ====================================================================================== ex1_6 softmax CE

@ex1_6.test(points=1)
def test_ce_uniform(ns, rng):
    """all-zero logits give log k whatever the labels"""
    return {"k=2": ns.softmax_cross_entropy(np.zeros((3, 2)), np.array([0, 1, 1])),
            "k=5": ns.softmax_cross_entropy(np.zeros((4, 5)), np.array([4, 0, 2, 2]))}


@ex1_6.test(points=1)
def test_ce_random(ns, rng):
    """random logits and labels: (1, 3), (8, 3), (20, 10)"""
    return on_random_classification(ns.softmax_cross_entropy, rng)


@ex1_6.test(points=2)
def test_ce_large_logits(ns, rng):
    """logits of size 1000: confidently right (loss ~ 0) and confidently wrong (loss ~ 1000)"""
    return on_large_classification(ns.softmax_cross_entropy, rng)


@ex1_6.mistake("softmax_cross_entropy", "log(softmax(z)) instead of the log-sum-exp form: a probability "
               "that underflows to 0 gives log 0 = -inf", anchor="losses-log-sum-exp")
def ce_log_of_softmax(logits, labels):
    n = len(labels)
    return float(-np.mean(np.log(ref.softmax(logits))[np.arange(n), labels]))


@ex1_6.mistake("softmax_cross_entropy", "the naive softmax without subtracting the maximum: "
               "exp(1000) overflows and the loss is NaN", anchor="losses-log-sum-exp")
def ce_naive(logits, labels):
    z = np.asarray(logits, dtype=float)
    n = len(labels)
    return float(-np.mean(np.log(np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))[np.arange(n), labels]))


@ex1_6.mistake("softmax_cross_entropy", "the sum over the samples instead of the mean")
def ce_sum(logits, labels):
    return ref.softmax_cross_entropy(logits, labels) * len(labels)


@ex1_6.mistake("softmax_cross_entropy", "the minus sign missing: mean log-probability (negative) instead of "
               "its negative")
def ce_no_minus(logits, labels):
    return -ref.softmax_cross_entropy(logits, labels)


@ex1_6.mistake("softmax_cross_entropy", "logits[:, labels] (an n x n matrix) instead of "
               "logits[np.arange(n), labels] (one logit per sample)")
def ce_wrong_indexing(logits, labels):
    z = np.asarray(logits, dtype=float)
    return float(-np.mean(ref.log_softmax(z)[:, labels]))


@ex1_6.mistake("softmax_cross_entropy", "divided by n k (a mean over the classes too) instead of by n")
def ce_mean_over_classes(logits, labels):
    return ref.softmax_cross_entropy(logits, labels) / np.shape(logits)[1]


# ====================================================================================== ex1_7 softmax CE gradient

@ex1_7.test(points=1)
def test_ce_grad_fixed(ns, rng):
    """small fixed cases"""
    return {"zeros": ns.softmax_cross_entropy_grad(np.zeros((2, 3)), np.array([0, 2])),
            "fixed": ns.softmax_cross_entropy_grad(np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]]), np.array([2, 1]))}


@ex1_7.test(points=1)
def test_ce_grad_random(ns, rng):
    """random logits and labels: (1, 3), (8, 3), (20, 10)"""
    return on_random_classification(ns.softmax_cross_entropy_grad, rng)


@ex1_7.test(points=1)
def test_ce_grad_large_logits(ns, rng):
    """logits of size 1000: the gradient stays finite"""
    return on_large_classification(ns.softmax_cross_entropy_grad, rng)


@ex1_7.mistake("softmax_cross_entropy_grad", "not divided by n: softmax(z) - Y is the gradient of the sum "
               "over samples", anchor="losses-cross-entropy-grad")
def ce_grad_no_mean(logits, labels):
    return ref.softmax_cross_entropy_grad(logits, labels) * len(labels)


@ex1_7.mistake("softmax_cross_entropy_grad", "sign error: (Y - softmax(z)) / n")
def ce_grad_sign(logits, labels):
    return -ref.softmax_cross_entropy_grad(logits, labels)


@ex1_7.mistake("softmax_cross_entropy_grad", "the one-hot labels not subtracted: softmax(z) / n")
def ce_grad_no_onehot(logits, labels):
    return ref.softmax(logits) / len(labels)


@ex1_7.mistake("softmax_cross_entropy_grad", "the naive softmax without subtracting the maximum "
               "(NaN for logits of size 1000)", anchor="losses-log-sum-exp")
def ce_grad_naive(logits, labels):
    z = np.asarray(logits, dtype=float)
    n = len(labels)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    p[np.arange(n), labels] -= 1.0
    return p / n


@ex1_7.mistake("softmax_cross_entropy_grad", "the softmax taken over the samples (axis 0) instead of the classes")
def ce_grad_axis0(logits, labels):
    n = len(labels)
    p = ref.softmax(logits, axis=0)
    p[np.arange(n), labels] -= 1.0
    return p / n


# ====================================================================================== ex1_8 BCE with logits

@ex1_8.test(points=1)
def test_bce_fixed(ns, rng):
    """small fixed cases: z = 0 gives log 2"""
    return {"z=0": ns.binary_cross_entropy_with_logits(np.zeros(3), np.array([0.0, 1.0, 1.0])),
            "fixed": ns.binary_cross_entropy_with_logits(np.array([2.0, -1.0, 0.5, -3.0]),
                                                         np.array([1.0, 0.0, 0.0, 1.0]))}


@ex1_8.test(points=1)
def test_bce_random(ns, rng):
    """random logits with 0/1 targets (1-D and 2-D) and soft targets in [0, 1]"""
    return {label: ns.binary_cross_entropy_with_logits(z, y) for label, (z, y) in binary_cases(rng).items()}


@ex1_8.test(points=2)
def test_bce_large_logits(ns, rng):
    """logits of size 50 .. 1e5, confidently right and confidently wrong: finite, exact losses"""
    z, y = binary_large_logits()
    out = {f"z={zi:g}, y={yi:g}": ns.binary_cross_entropy_with_logits(np.array([zi]), np.array([yi]))
           for zi, yi in zip(z, y)}
    out["all together"] = ns.binary_cross_entropy_with_logits(z, y)
    return out


@ex1_8.mistake("binary_cross_entropy_with_logits", "the probability form -[y log sigmoid(z) + (1-y) log(1 - "
               "sigmoid(z))] computed as written: sigmoid(z) rounds to 0 or 1 and log 0 gives inf or NaN",
               anchor="losses-bce")
def bce_naive(logits, targets):
    z, y = np.asarray(logits, dtype=float), np.asarray(targets, dtype=float)
    p = 1.0 / (1.0 + np.exp(-z))
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


@ex1_8.mistake("binary_cross_entropy_with_logits", "a sigmoid applied to the logits first, i.e. probabilities "
               "passed as logits (source article 002's Keras model: sigmoid output with from_logits=True)",
               anchor="losses-keras-mistake")
def bce_sigmoid_twice(logits, targets):
    return ref.binary_cross_entropy_with_logits(ref.sigmoid(logits), targets)


@ex1_8.mistake("binary_cross_entropy_with_logits", "(1 - y) z + log(1 + exp(-z)) without the max(z, 0) trick: "
               "exp(-z) overflows for z < -709", anchor="losses-bce")
def bce_softplus_overflow(logits, targets):
    z, y = np.asarray(logits, dtype=float), np.asarray(targets, dtype=float)
    return float(np.mean((1 - y) * z + np.log(1 + np.exp(-z))))


@ex1_8.mistake("binary_cross_entropy_with_logits", "probabilities clipped to [1e-7, 1 - 1e-7] (as Keras does "
               "when given probabilities): a confidently wrong logit costs at most 16.1 instead of |z|",
               anchor="losses-bce")
def bce_clipped(logits, targets):
    z, y = np.asarray(logits, dtype=float), np.asarray(targets, dtype=float)
    p = np.clip(ref.sigmoid(z), 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


@ex1_8.mistake("binary_cross_entropy_with_logits", "the sum over the elements instead of the mean")
def bce_sum(logits, targets):
    return ref.binary_cross_entropy_with_logits(logits, targets) * np.size(logits)


# ====================================================================================== ex1_9 BCE gradient

@ex1_9.test(points=1)
def test_bce_grad_random(ns, rng):
    """random logits with 0/1 targets (1-D and 2-D) and soft targets"""
    return {label: ns.binary_cross_entropy_with_logits_grad(z, y) for label, (z, y) in binary_cases(rng).items()}


@ex1_9.test(points=2)
def test_bce_grad_large_logits(ns, rng):
    """logits of size 50 .. 1e5: the gradient is (sigmoid(z) - y) / n, always finite"""
    z, y = binary_large_logits()
    return {"all together": ns.binary_cross_entropy_with_logits_grad(z, y),
            "2-D": ns.binary_cross_entropy_with_logits_grad(z.reshape(2, 4), y.reshape(2, 4))}


@ex1_9.mistake("binary_cross_entropy_with_logits_grad", "missing the 1/n of the mean", anchor="losses-bce-grad")
def bce_grad_no_mean(logits, targets):
    return ref.binary_cross_entropy_with_logits_grad(logits, targets) * np.size(logits)


@ex1_9.mistake("binary_cross_entropy_with_logits_grad", "sign error: (y - sigmoid(z)) / n")
def bce_grad_sign(logits, targets):
    return -ref.binary_cross_entropy_with_logits_grad(logits, targets)


@ex1_9.mistake("binary_cross_entropy_with_logits_grad", "sigmoid applied twice, (sigmoid(sigmoid(z)) - y) / n "
               "(source article 002's from_logits=True after a sigmoid)", anchor="losses-keras-mistake")
def bce_grad_sigmoid_twice(logits, targets):
    z = np.asarray(logits, dtype=float)
    return (ref.sigmoid(ref.sigmoid(z)) - targets) / z.size


@ex1_9.mistake("binary_cross_entropy_with_logits_grad", "an extra factor sigmoid'(z) = s (1 - s): that is the "
               "gradient of the MSE of sigmoid(z), which vanishes when the model is confidently wrong",
               anchor="losses-why-cross-entropy")
def bce_grad_extra_derivative(logits, targets):
    s = ref.sigmoid(logits)
    return (s - targets) * s * (1 - s) / np.size(logits)


@ex1_9.mistake("binary_cross_entropy_with_logits_grad", "sigmoid computed as exp(z) / (1 + exp(z)): "
               "inf / inf = NaN for large z", anchor="losses-bce")
def bce_grad_naive_sigmoid(logits, targets):
    z = np.asarray(logits, dtype=float)
    return (np.exp(z) / (1 + np.exp(z)) - targets) / z.size


# ==================================================================== ex1_10 huber_gradient_ratio (question)

ex1_10 = Question("ex1_10", ref.huber_gradient_ratio_answer, anchor="losses-huber-grad")
test_huber_gradient_ratio = ex1_10.graded(points=1, digits=3)


@ex1_10.mistake("huber_gradient_ratio_answer", "the squared error's ratio, 2r: beyond δ the Huber "
                "gradient is capped at δ, so the residual of 10 pulls with 1, not 10 or 20")
def huber_ratio_squared_error():
    big, small = ref.HUBER_RATIO_SETTING["residuals"]
    return big / small


@ex1_10.mistake("huber_gradient_ratio_answer", "the MAE's ratio, 1: below δ the Huber gradient is the "
                "residual itself (0.5), not δ")
def huber_ratio_mae():
    return 1.0


# ==================================================================== ex1_11 cross_entropy_example (question)

ex1_11 = Question("ex1_11", ref.cross_entropy_example_answer, anchor="losses-cross-entropy")
test_cross_entropy_example = ex1_11.graded(points=1, digits=3)


def _example_logits():
    s = ref.CROSS_ENTROPY_SETTING
    return np.array(s["logits"]), s["label"]


@ex1_11.mistake("cross_entropy_example_answer", "the log-sum-exp alone: the loss is lse(z) minus the "
                "logit of the correct class")
def cross_entropy_lse_only():
    z, _ = _example_logits()
    return float(np.log(np.sum(np.exp(z))))


@ex1_11.mistake("cross_entropy_example_answer", "ln 10, the loss of equal logits: here the correct class's "
                "logit is 2 above the others")
def cross_entropy_uniform():
    return float(np.log(len(_example_logits()[0])))


@ex1_11.mistake("cross_entropy_example_answer", "the logits used as probabilities (2 / 2 = 1, a loss of 0): "
                "the softmax exponentiates them first")
def cross_entropy_logits_as_probabilities():
    z, label = _example_logits()
    return float(-np.log(z[label] / z.sum()))
