"""The reference of chapter 8 (solutions/practice.py) against independent references.

Batch normalisation against ``torch.nn.functional.batch_norm`` in training mode (forward,
and backward by ``torch.autograd`` in float64), its running averages against the buffers
that torch updates; inverted dropout against ``torch.nn.functional.dropout``'s semantics
with the same mask (the output is ``x * mask / (1 - p)``, the gradient the mask over
``1 - p``, the identity at evaluation) and against autograd; early stopping and the
log-scale search against hand-worked cases; the questions against closed forms.
"""
import numpy as np
import pytest

from solutions import practice as pr

torch = pytest.importorskip("torch")
F = torch.nn.functional


def T(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=float), dtype=torch.float64, requires_grad=grad)


# --- ex8_1: early stopping, by hand ------------------------------------------------------------

@pytest.mark.parametrize("losses, patience, expected", [
    ([1.0, 0.8, 0.9, 0.8, 0.85, 0.7], 3, (1, 4)),      # 0.8 again at epoch 3 is a tie, not an improvement
    ([1.0, 0.8, 0.9], 3, (1, 2)),                      # never runs out of patience: the last epoch
    ([0.5], 1, (0, 0)),
    ([0.5, 0.6], 1, (0, 1)),                           # patience 1: the first epoch without improvement
    ([3.0, 2.0, 1.0], 1, (2, 2)),
    ([1.0, 0.9, 0.95, 0.85, 0.9, 0.9, 0.9, 0.1], 3, (3, 6)),    # the 0.1 at epoch 7 is never seen
    ([2.0, 2.0, 2.0, 2.0], 2, (0, 2)),                 # a flat curve: the first epoch is kept
])
def test_early_stopping_by_hand(losses, patience, expected):
    assert pr.early_stopping(losses, patience=patience) == expected


def test_early_stopping_simulates_a_run():
    """The result equals a run that only ever sees the losses up to the current epoch."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        losses = np.round(rng.uniform(0, 1, size=int(rng.integers(1, 25))), 1).tolist()
        patience = int(rng.integers(1, 6))
        best, stop = pr.early_stopping(losses, patience=patience)
        seen = losses[:stop + 1]
        assert best == seen.index(min(seen))
        assert pr.early_stopping(seen, patience=patience) == (best, stop)       # no look-ahead
        since = stop - best
        assert since == patience or (stop == len(losses) - 1 and since < patience)


@pytest.mark.parametrize("patience", [0, -1])
def test_early_stopping_rejects_a_patience_below_one(patience):
    with pytest.raises(ValueError):
        pr.early_stopping([1.0, 2.0], patience=patience)


# --- ex8_2: batch normalisation against torch ----------------------------------------------------

@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("eps", [1e-5, 0.3])
def test_batchnorm_against_torch(seed, eps):
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(2, 20)), int(rng.integers(1, 6))
    x = rng.normal(size=(n, d)) * rng.uniform(0.1, 5, size=d) + rng.normal(size=d)
    gamma, beta, dout = rng.uniform(0.5, 2, size=d), rng.normal(size=d), rng.normal(size=(n, d))
    tx, tg, tb = T(x, True), T(gamma, True), T(beta, True)
    ty = F.batch_norm(tx, None, None, weight=tg, bias=tb, training=True, eps=eps)
    np.testing.assert_allclose(pr.batchnorm_forward(x, gamma, beta, eps=eps), ty.detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    ty.backward(T(dout))
    dx, dgamma, dbeta = pr.batchnorm_backward(dout, x, gamma, eps=eps)
    for ours, theirs in [(dx, tx), (dgamma, tg), (dbeta, tb)]:
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_batchnorm_by_hand():
    x = np.array([[1.0], [3.0]])                        # mean 2, biased variance 1
    np.testing.assert_allclose(pr.batchnorm_forward(x, np.array([2.0]), np.array([0.5]), eps=0.0),
                               [[-1.5], [2.5]])
    dx, dgamma, dbeta = pr.batchnorm_backward(np.array([[1.0], [0.0]]), x, np.array([2.0]), eps=0.0)
    # x_hat = (-1, 1): dbeta = 1, dgamma = -1, dx = 2/2 (2 * (1, 0) - 1 - (-1, 1) * (-1)) = (0, 0)
    np.testing.assert_allclose(dbeta, [1.0])
    np.testing.assert_allclose(dgamma, [-1.0])
    np.testing.assert_allclose(dx, [[0.0], [0.0]], atol=1e-15)


def test_batchnorm_running_averages_against_torch():
    rng = np.random.default_rng(3)
    mean, var = np.zeros(4), np.ones(4)
    t_mean, t_var = torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)
    for _ in range(5):
        x = rng.normal(size=(8, 4)) * 2 + 1
        mean, var = pr.batchnorm_running_update(mean, var, x, momentum=0.1)
        F.batch_norm(T(x), t_mean, t_var, training=True, momentum=0.1)     # updates the buffers in place
    np.testing.assert_allclose(mean, t_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(var, t_var.numpy(), rtol=1e-12)


# --- ex8_3: dropout against torch's semantics ----------------------------------------------------

@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9])
def test_dropout_matches_torch_with_the_same_mask(p):
    rng = np.random.default_rng(7)
    x, dout = rng.normal(size=(50, 40)), rng.normal(size=(50, 40))
    out, mask = pr.dropout_forward(x, p=p, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(mask, np.random.default_rng(1).random(x.shape) >= p)     # the stated draw
    assert mask.dtype == bool
    # torch draws its own mask; its semantics are out = x * keep / (1 - p): read its mask off its output
    torch.manual_seed(0)
    tx = T(x, True)
    ty = F.dropout(tx, p=p, training=True)
    keep = (ty.detach().numpy() != 0)
    np.testing.assert_allclose(ty.detach().numpy(), x * keep / (1 - p), rtol=1e-15)
    ty.backward(T(dout))
    np.testing.assert_allclose(pr.dropout_backward(dout, keep, p=p), tx.grad.numpy(), rtol=1e-15)
    # and ours, with our mask, is torch's formula with that mask
    tx2 = T(x, True)
    ty2 = tx2 * torch.tensor(mask) / (1 - p)
    ty2.backward(T(dout))
    np.testing.assert_allclose(out, ty2.detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(pr.dropout_backward(dout, mask, p=p), tx2.grad.numpy(), rtol=1e-15)


def test_dropout_at_evaluation_is_the_identity_like_torch():
    x = np.random.default_rng(0).normal(size=(6, 3))
    rng = np.random.default_rng(5)
    out, mask = pr.dropout_forward(x, p=0.5, rng=rng, training=False)
    np.testing.assert_array_equal(out, F.dropout(T(x), p=0.5, training=False).numpy())
    assert mask.all() and out is not x
    assert rng.random() == np.random.default_rng(5).random()                   # the generator was not used


def test_dropout_keeps_the_expected_value():
    out, mask = pr.dropout_forward(np.ones((400, 500)), p=0.3, rng=np.random.default_rng(0))
    assert abs(mask.mean() - 0.7) < 0.005
    assert abs(out.mean() - 1.0) < 0.01


# --- ex8_4: the log-scale search, by hand ---------------------------------------------------------

def test_log_uniform_search_by_hand():
    rng = np.random.default_rng(0)
    u = np.random.default_rng(0).random((5, 2))         # uniform's draws are low + (high - low) * random()
    expected = 10.0 ** (np.array([-5.0, -3.0]) + np.array([4.0, 2.0]) * u)
    np.testing.assert_allclose(pr.log_uniform_search([1e-5, 1e-3], [1e-1, 1e-1], 5, rng), expected, rtol=1e-13)


def test_log_uniform_search_is_uniform_in_the_exponent():
    samples = pr.log_uniform_search([1e-5], [1e-1], 40000, np.random.default_rng(1))[:, 0]
    assert samples.min() >= 1e-5 and samples.max() <= 1e-1
    per_decade = np.histogram(np.log10(samples), bins=[-5, -4, -3, -2, -1])[0] / len(samples)
    np.testing.assert_allclose(per_decade, 0.25, atol=0.01)


# --- questions -----------------------------------------------------------------------------------

def test_initial_loss_is_log_k():
    assert pr.initial_loss_answer() == pytest.approx(np.log(10), rel=1e-12)
    logits = T(np.zeros((10, 10)))
    assert pr.initial_loss_answer() == pytest.approx(float(F.cross_entropy(logits, torch.arange(10))), rel=1e-12)


def test_scaled_learning_rate():
    assert pr.scaled_learning_rate_answer() == pytest.approx(0.008)


# --- the lesson's helper ---------------------------------------------------------------------------

def test_train_with_validation_records_what_it_returns():
    from solutions.backprop import mlp_init, mlp_loss_and_grads
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 5)), rng.integers(0, 3, size=30)
    params, h = pr.train_with_validation(mlp_init((5, 4, 3), rng), X, y, X[:10], y[:10], epochs=3, batch_size=8,
                                         lr=1e-2, rng=rng)
    assert len(h.params) == 3 and h.params[-1] is params
    loss, _ = mlp_loss_and_grads(params, X, y)
    assert h.train_loss[-1] == pytest.approx(loss, rel=1e-12)
    assert h.val_loss.shape == h.val_accuracy.shape == (3,)
