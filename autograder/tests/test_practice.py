"""Graded tests of chapter 8 (training in practice): ex8_1 .. ex8_6.

Every scenario calls the student's functions through ``ns`` and returns plain data that
the grader compares with the reference's (solutions/practice.py). Random generators cross
to the student's process as copies: dropout and the random search draw from a copy of the
scenario's ``rng``, seeded identically for the reference and the submission, so the same
mask and the same samples are expected.

The mistakes are the classics of a first implementation (the unbiased variance in batch
normalisation, a backward pass without the paths through the mean and the variance,
dropout without its 1/(1-p) or with it at evaluation, early stopping that keeps the last
epoch, a search on a linear scale); when a submission's output equals one, the feedback
names it and links the section of lessons/08_practice.ipynb that explains it.
"""
import numpy as np

from autograder.framework import Exercise, Question
from solutions import practice as ref

ex8_1 = Exercise("ex8_1", ref.early_stopping, anchor="practice-early-stopping")
ex8_2 = Exercise("ex8_2", ref.batchnorm_forward, ref.batchnorm_backward, anchor="practice-batchnorm")
ex8_3 = Exercise("ex8_3", ref.dropout_forward, ref.dropout_backward, anchor="practice-dropout")
ex8_4 = Exercise("ex8_4", ref.log_uniform_search, anchor="practice-tuning")


# ==================================================================== ex8_1 early_stopping

HAND_CASES = {
    "a U-shaped curve, patience 2": ([1.0, 0.7, 0.5, 0.45, 0.5, 0.6, 0.4], 2),
    "a U-shaped curve, patience 3 (a later, lower loss)": ([1.0, 0.7, 0.5, 0.45, 0.5, 0.6, 0.4, 0.5], 3),
    "a tie with the best: not an improvement": ([0.9, 0.6, 0.6, 0.6, 0.7], 3),
    "a tie, then a run that continues": ([0.9, 0.6, 0.6, 0.55, 0.6, 0.6], 2),
    "patience 1": ([2.0, 1.5, 1.6, 1.2, 1.1], 1),
    "always improving: stops at the last epoch": ([3.0, 2.0, 1.0, 0.5], 2),
    "a single epoch": ([0.8], 4),
    "the patience runs out at the last epoch": ([1.0, 0.5, 0.6, 0.7], 2),
    "up and down around the best": ([1.0, 0.5, 0.8, 0.55, 0.9, 0.52, 0.6], 3),
}


@ex8_1.test(points=2)
def test_early_stopping_by_hand(ns, rng):
    """hand-worked curves: a U shape, ties with the best, patience 1, a run that never stops, one epoch"""
    return {name: ns.early_stopping(losses, patience=patience) for name, (losses, patience) in HAND_CASES.items()}


def noisy_u_curve(rng, epochs):
    """A validation curve that falls, then rises, with noise (and some exact ties, rounded to 2 digits)."""
    t = np.arange(epochs)
    turn = rng.integers(5, epochs - 5)
    curve = 1.0 / (1.0 + 0.3 * t) + 0.01 * np.maximum(t - turn, 0) + 0.03 * rng.normal(size=epochs)
    return np.round(curve, 2).tolist()


@ex8_1.test(points=2)
def test_early_stopping_noisy(ns, rng):
    """eight noisy validation curves of 30 epochs (rounded to 2 digits: ties), patience 1 to 8"""
    return {f"curve {k}, patience {p}": ns.early_stopping(noisy_u_curve(rng, 30), patience=p)
            for k, p in enumerate((1, 2, 3, 4, 5, 6, 8, 8))}


@ex8_1.mistake("early_stopping", "the last epoch returned as the one to keep: keep the epoch with the lowest "
               "validation loss (its parameters saved when it happened)", anchor="practice-early-stopping")
def early_stopping_keeps_last(val_losses, *, patience):
    _, stop = ref.early_stopping(val_losses, patience=patience)
    return stop, stop


@ex8_1.mistake("early_stopping", "a tie with the best counted as an improvement (v <= best instead of v < best): "
               "the counter restarts and the later epoch is kept", anchor="practice-early-stopping")
def early_stopping_ties_improve(val_losses, *, patience):
    # the right rule on losses nudged down by a hair each epoch (the graded losses differ by 0.01 or more)
    return ref.early_stopping([v - 1e-9 * t for t, v in enumerate(val_losses)], patience=patience)


@ex8_1.mistake("early_stopping", "one epoch too many: stopped after patience + 1 epochs without improvement "
               "(stop at the epoch that *ends* patience epochs in a row)", anchor="practice-early-stopping")
def early_stopping_off_by_one(val_losses, *, patience):
    return ref.early_stopping(val_losses, patience=patience + 1)


@ex8_1.mistake("early_stopping", "the best epoch looked up over every epoch, also after the stop: a real run "
               "never computes those", anchor="practice-early-stopping")
def early_stopping_peeks(val_losses, *, patience):
    _, stop = ref.early_stopping(val_losses, patience=patience)
    return int(np.argmin(val_losses)), stop


@ex8_1.mistake("early_stopping", "each epoch compared with the previous epoch instead of the best so far "
               "(a rise counts, a fall that stays above the best resets the counter)",
               anchor="practice-early-stopping")
def early_stopping_against_previous(val_losses, *, patience):
    best_epoch, waited = 0, 0
    for t in range(1, len(val_losses)):
        if val_losses[t] < val_losses[t - 1]:
            waited = 0
            if val_losses[t] < val_losses[best_epoch]:
                best_epoch = t
        else:
            waited += 1
            if waited == patience:
                return best_epoch, t
    return best_epoch, len(val_losses) - 1


# ==================================================================== ex8_2 batchnorm_forward, batchnorm_backward

def batch(rng, n, d):
    """Features of different means and scales, and a scale and shift."""
    x = rng.normal(size=(n, d)) * rng.uniform(0.2, 3.0, size=d) + rng.uniform(-2.0, 2.0, size=d)
    return x, rng.uniform(0.5, 2.0, size=d), rng.normal(size=d)


BATCH_SHAPES = [(8, 3), (5, 4), (2, 3), (16, 2)]


@ex8_2.test(points=2)
def test_batchnorm_forward(ns, rng):
    """y = γ (x - μ)/sqrt(σ² + ε) + β for batches of 8, 5, 2 and 16 rows (biased variance, default ε)"""
    out = {}
    for n, d in BATCH_SHAPES:
        x, gamma, beta = batch(rng, n, d)
        out[f"(n, d) = ({n}, {d})"] = ns.batchnorm_forward(x, gamma, beta)
    return out


@ex8_2.test(points=1)
def test_batchnorm_forward_eps(ns, rng):
    """a large ε (0.5) and features of small variance, where ε matters"""
    x, gamma, beta = batch(rng, 6, 3)
    return {"eps = 0.5": ns.batchnorm_forward(0.3 * x, gamma, beta, eps=0.5),
            "eps = 1e-2": ns.batchnorm_forward(0.1 * x, gamma, beta, eps=1e-2)}


@ex8_2.test(points=3)
def test_batchnorm_backward(ns, rng):
    """(dx, dγ, dβ) for random upstream gradients; batches of 8, 5, 2 and 16 rows"""
    out = {}
    for n, d in BATCH_SHAPES:
        x, gamma, _ = batch(rng, n, d)
        out[f"(n, d) = ({n}, {d})"] = ns.batchnorm_backward(rng.normal(size=(n, d)), x, gamma)
    return out


@ex8_2.test(points=1)
def test_batchnorm_backward_eps(ns, rng):
    """the backward pass with ε = 0.5 and ε = 1e-2"""
    x, gamma, _ = batch(rng, 6, 3)
    dout = rng.normal(size=x.shape)
    return {"eps = 0.5": ns.batchnorm_backward(dout, 0.3 * x, gamma, eps=0.5),
            "eps = 1e-2": ns.batchnorm_backward(dout, 0.1 * x, gamma, eps=1e-2)}


def _stats(x, ddof=0):
    x = np.asarray(x, dtype=float)
    return x.mean(axis=0), x.var(axis=0, ddof=ddof)


@ex8_2.mistake("batchnorm_forward", "the unbiased variance (divided by n - 1) in the training statistics: batch "
               "normalisation, like torch, normalises with the biased one (divided by n)",
               anchor="practice-batchnorm")
def batchnorm_forward_unbiased(x, gamma, beta, *, eps=1e-5):
    mu, var = _stats(x, ddof=1)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


@ex8_2.mistake("batchnorm_forward", "ε added to the standard deviation, (x - μ)/(σ + ε), instead of inside the "
               "square root, (x - μ)/sqrt(σ² + ε)", anchor="practice-batchnorm")
def batchnorm_forward_eps_outside(x, gamma, beta, *, eps=1e-5):
    mu, var = _stats(x)
    return gamma * (x - mu) / (np.sqrt(var) + eps) + beta


@ex8_2.mistake("batchnorm_forward", "γ and β not applied (the standardised x̂ returned)", anchor="practice-batchnorm")
def batchnorm_forward_no_affine(x, gamma, beta, *, eps=1e-5):
    mu, var = _stats(x)
    return (x - mu) / np.sqrt(var + eps)


@ex8_2.mistake("batchnorm_forward", "the statistics taken over each sample's features (axis 1) instead of over the "
               "batch (axis 0)", anchor="practice-batchnorm")
def batchnorm_forward_wrong_axis(x, gamma, beta, *, eps=1e-5):
    mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def _x_hat(x, eps, ddof=0):
    mu, var = _stats(x, ddof)
    inv_std = 1.0 / np.sqrt(var + eps)
    return (x - mu) * inv_std, inv_std


@ex8_2.mistake("batchnorm_backward", "no terms through the mean and the variance: dx = γ dout / sqrt(σ² + ε), the "
               "gradient of a fixed standardisation; every sample moves μ and σ²", anchor="practice-batchnorm")
def batchnorm_backward_no_statistics(dout, x, gamma, *, eps=1e-5):
    x_hat, inv_std = _x_hat(x, eps)
    return gamma * inv_std * dout, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


@ex8_2.mistake("batchnorm_backward", "the path through the variance forgotten: dx = γ (dout - mean(dout)) / "
               "sqrt(σ² + ε), only the mean's term", anchor="practice-batchnorm")
def batchnorm_backward_mean_only(dout, x, gamma, *, eps=1e-5):
    x_hat, inv_std = _x_hat(x, eps)
    return gamma * inv_std * (dout - dout.mean(axis=0)), (dout * x_hat).sum(axis=0), dout.sum(axis=0)


@ex8_2.mistake("batchnorm_backward", "the unbiased variance (n - 1) in the backward pass: the forward pass "
               "normalises with the biased one", anchor="practice-batchnorm")
def batchnorm_backward_unbiased(dout, x, gamma, *, eps=1e-5):
    n = len(x)
    x_hat, inv_std = _x_hat(x, eps, ddof=1)
    dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
    return gamma * inv_std / n * (n * dout - dbeta - x_hat * dgamma), dgamma, dbeta


@ex8_2.mistake("batchnorm_backward", "dγ summed from x instead of x̂: dγ = Σ dout ⊙ x̂, the standardised input")
def batchnorm_backward_dgamma_from_x(dout, x, gamma, *, eps=1e-5):
    dx, _, dbeta = ref.batchnorm_backward(dout, x, gamma, eps=eps)
    return dx, (dout * x).sum(axis=0), dbeta


@ex8_2.mistake("batchnorm_backward", "γ forgotten in dx (dx is γ times the gradient with respect to x̂)")
def batchnorm_backward_no_gamma(dout, x, gamma, *, eps=1e-5):
    dx, dgamma, dbeta = ref.batchnorm_backward(dout, x, np.ones_like(gamma), eps=eps)
    return dx, dgamma, dbeta


# ==================================================================== ex8_3 dropout_forward, dropout_backward

@ex8_3.test(points=2)
def test_dropout_forward(ns, rng):
    """training mode, p = 0.2, 0.5 and 0.75: the mask rng.random(x.shape) >= p and the scaling 1/(1 - p)"""
    out = {}
    for p, shape in [(0.2, (6, 5)), (0.5, (4, 4)), (0.75, (2, 3, 4))]:
        out[f"p = {p}, shape {shape}"] = ns.dropout_forward(rng.normal(size=shape), p=p, rng=rng)
    return out


@ex8_3.test(points=1)
def test_dropout_evaluation(ns, rng):
    """evaluation mode (training=False): the identity, every unit kept, for p = 0.5 and 0.2"""
    return {f"p = {p}": ns.dropout_forward(rng.normal(size=(3, 4)), p=p, rng=rng, training=False)
            for p in (0.5, 0.2)}


@ex8_3.test(points=2)
def test_dropout_backward(ns, rng):
    """dout ⊙ mask / (1 - p) for masks drawn at p = 0.3 and 0.6"""
    out = {}
    for p, shape in [(0.3, (5, 4)), (0.6, (3, 2, 2))]:
        mask = rng.random(shape) >= p
        out[f"p = {p}, shape {shape}"] = ns.dropout_backward(rng.normal(size=shape), mask, p=p)
    return out


@ex8_3.mistake("dropout_forward", "no 1/(1 - p) at training time: the next layer then sees inputs (1 - p) times "
               "smaller than at evaluation", anchor="practice-dropout")
def dropout_forward_no_scaling(x, *, p, rng, training=True):
    out, mask = ref.dropout_forward(x, p=p, rng=rng, training=training)
    return out * (1 - p) if training else out, mask


@ex8_3.mistake("dropout_forward", "the kept units multiplied by (1 - p) instead of divided by it",
               anchor="practice-dropout")
def dropout_forward_times_keep(x, *, p, rng, training=True):
    out, mask = ref.dropout_forward(x, p=p, rng=rng, training=training)
    return out * (1 - p) ** 2 if training else out, mask


@ex8_3.mistake("dropout_forward", "p taken as the probability of keeping a unit (mask = rng.random(x.shape) < p); "
               "p is the probability of dropping it", anchor="practice-dropout")
def dropout_forward_p_keeps(x, *, p, rng, training=True):
    if not training:
        return ref.dropout_forward(x, p=p, rng=rng, training=False)
    mask = rng.random(np.shape(x)) < p
    return x * mask / p, mask


@ex8_3.mistake("dropout_forward", "1/(1 - p) applied at evaluation too: with inverted dropout the layer is the "
               "identity at evaluation", anchor="practice-dropout")
def dropout_forward_scaled_at_evaluation(x, *, p, rng, training=True):
    out, mask = ref.dropout_forward(x, p=p, rng=rng, training=training)
    return (out, mask) if training else (out / (1 - p), mask)


@ex8_3.mistake("dropout_forward", "units dropped at evaluation too (the training=False flag ignored)",
               anchor="practice-dropout")
def dropout_forward_always_training(x, *, p, rng, training=True):
    return ref.dropout_forward(x, p=p, rng=rng, training=True)


@ex8_3.mistake("dropout_backward", "the backward pass without 1/(1 - p) (dx = dout ⊙ mask)", anchor="practice-dropout")
def dropout_backward_no_scaling(dout, mask, *, p):
    return dout * mask


@ex8_3.mistake("dropout_backward", "the mask forgotten in the backward pass (dx = dout / (1 - p)): a dropped unit "
               "passes no gradient", anchor="practice-dropout")
def dropout_backward_no_mask(dout, mask, *, p):
    return dout / (1 - p)


# ==================================================================== ex8_4 log_uniform_search

@ex8_4.test(points=2)
def test_log_uniform_one(ns, rng):
    """one hyperparameter, a learning rate in [1e-5, 1e-1], 20 samples"""
    return ns.log_uniform_search([1e-5], [1e-1], 20, rng)


@ex8_4.test(points=2)
def test_log_uniform_three(ns, rng):
    """three hyperparameters with bounds [1e-4, 1], [1e-6, 1e-2] and [0.5, 50], 12 configurations"""
    return ns.log_uniform_search([1e-4, 1e-6, 0.5], [1.0, 1e-2, 50.0], 12, rng)


@ex8_4.mistake("log_uniform_search", "a search on a linear scale (rng.uniform(low, high)): most samples then fall "
               "in the top decade of the range", anchor="practice-tuning")
def search_linear(low, high, n, rng):
    low, high = np.atleast_1d(low), np.atleast_1d(high)
    return rng.uniform(low, high, size=(n, low.size))


@ex8_4.mistake("log_uniform_search", "e^u instead of 10^u for an exponent u drawn between the base-10 logarithms "
               "of the bounds", anchor="practice-tuning")
def search_exp_of_log10(low, high, n, rng):
    low, high = np.atleast_1d(low), np.atleast_1d(high)
    return np.exp(rng.uniform(np.log10(low), np.log10(high), size=(n, low.size)))


@ex8_4.mistake("log_uniform_search", "a grid on a log scale (evenly spaced exponents) instead of random draws",
               anchor="practice-tuning")
def search_log_grid(low, high, n, rng):
    low, high = np.atleast_1d(low), np.atleast_1d(high)
    return 10.0 ** np.linspace(np.log10(low), np.log10(high), n)


@ex8_4.mistake("log_uniform_search", "the draws made one hyperparameter after the other (size (k, n), "
               "transposed): configuration i is row i of one draw of size (n, k)")
def search_column_order(low, high, n, rng):
    low, high = np.atleast_1d(low), np.atleast_1d(high)
    return 10.0 ** rng.uniform(np.log10(low)[:, None], np.log10(high)[:, None], size=(low.size, n)).T


# ==================================================================== ex8_5 initial_loss (question)

ex8_5 = Question("ex8_5", ref.initial_loss_answer, anchor="practice-sanity")
test_initial_loss = ex8_5.graded(points=1, digits=3)


@ex8_5.mistake("initial_loss_answer", "log₁₀ 10 = 1: the cross-entropy uses the natural logarithm")
def initial_loss_log10():
    return float(np.log10(ref.INITIAL_LOSS_CLASSES))


@ex8_5.mistake("initial_loss_answer", "log₂ 10 (bits): the cross-entropy uses the natural logarithm")
def initial_loss_log2():
    return float(np.log2(ref.INITIAL_LOSS_CLASSES))


@ex8_5.mistake("initial_loss_answer", "1/k, the probability of the right class: the loss is its negative logarithm")
def initial_loss_probability():
    return 1.0 / ref.INITIAL_LOSS_CLASSES


# ==================================================================== ex8_6 scaled_learning_rate (question)

ex8_6 = Question("ex8_6", ref.scaled_learning_rate_answer, anchor="practice-lr-batch")
test_scaled_learning_rate = ex8_6.graded(points=1, digits=3)


def _batch_ratio():
    s = ref.LINEAR_SCALING_SETTING
    return s["new_batch_size"] / s["batch_size"]


@ex8_6.mistake("scaled_learning_rate_answer", "the square-root rule (η √k), proposed for adaptive methods; the "
               "linear scaling rule multiplies η by k")
def scaled_lr_sqrt():
    return ref.LINEAR_SCALING_SETTING["lr"] * np.sqrt(_batch_ratio())


@ex8_6.mistake("scaled_learning_rate_answer", "the learning rate left unchanged: a batch k times larger gives an "
               "average gradient of the same size, so one step moves no farther than before")
def scaled_lr_unchanged():
    return ref.LINEAR_SCALING_SETTING["lr"]


@ex8_6.mistake("scaled_learning_rate_answer", "the learning rate divided by k: the rule multiplies it by k")
def scaled_lr_divided():
    return ref.LINEAR_SCALING_SETTING["lr"] / _batch_ratio()
